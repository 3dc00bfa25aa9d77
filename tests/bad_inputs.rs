//! The bad-input corpus: every entry of `tests/bad_inputs/` is fed to the `probity`
//! binary and its exit code, stdout and stderr compared with `<entry>.out` beside it.
//! `UPDATE_GOLDEN=1` rewrites the `.out` files (review every one).
//!
//! How an entry is run (from the repository root, with relative paths):
//! - `NAME.coi`: `probity check tests/bad_inputs/NAME.coi`
//! - a folder `NAME.rules/`: `probity check tests/bad_inputs/NAME.rules`
//! - any other folder, or a `NAME.case` file (a "case folder" that is a file):
//!   `probity audit tests/bad_inputs/NAME --rules tests/bad_inputs/_rules --format csv`
//!
//! Entries named `ok_…` are odd but valid (a BOM, CRLF, tabs) and must exit 0; every
//! other entry must exit 2 with each error located (` --> file[:line:col]`) and followed
//! by a `= help:` line. Nothing may panic (exit 101), hang, or be killed by a signal.
//!
//! Inputs that cannot be committed (10 MB lines, symlink loops, FIFOs, unreadable files,
//! files over a limit) are made at run time in a scratch folder, the binary runs there,
//! and their goldens live in `tests/bad_inputs/_generated/`.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Run, golden, probity_with, root};

const CORPUS: &str = "tests/bad_inputs";
const RULES: &str = "tests/bad_inputs/_rules";
/// No input may take longer than this (debug build, shared machine).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the binary with a timeout; a hang is reported as a failure, not waited out.
fn run_bounded(args: &[&str], cwd: &Path) -> Run {
    let cwd = cwd.to_path_buf();
    let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let run = probity_with(&args, |c| {
            c.current_dir(&cwd);
        });
        let _ = tx.send(run);
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(run) => run,
        Err(_) => Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: None,
            stdout: String::new(),
            stderr: format!("TIMEOUT: no answer within {TIMEOUT:?}"),
        },
    }
}

/// The golden text of a run: exit code, then stdout (if any), then stderr.
fn transcript(run: &Run) -> String {
    let mut out = format!("exit: {:?}\n", run.code);
    if !run.stdout.is_empty() {
        out.push_str("--- stdout\n");
        out.push_str(&run.stdout);
    }
    out.push_str("--- stderr\n");
    out.push_str(&run.stderr);
    out
}

/// The rules every entry must keep, whatever its golden says.
fn invariants(name: &str, run: &Run) -> Option<String> {
    let ok = name.starts_with("ok_");
    let want = if ok { 0 } else { 2 };
    if run.code != Some(want) {
        return Some(format!(
            "{name}: expected exit code {want}\n{}",
            run.describe()
        ));
    }
    if ok {
        return None;
    }
    if !run.stdout.is_empty() {
        return Some(format!(
            "{name}: an error run printed to stdout\n{}",
            run.describe()
        ));
    }
    // Every error is located and has a help line.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("error") || l.starts_with("warning"))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return Some(format!("{name}: no error printed\n{}", run.describe()));
    }
    for (k, &at) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let block = &lines[at..end];
        if lines[at].starts_with("error: ") {
            // A usage error from the command line (no code, no place): still a help line.
            if !block.iter().any(|l| l.trim_start().starts_with("= help:")) {
                return Some(format!("{name}: error without help\n{}", run.describe()));
            }
            continue;
        }
        if !block.iter().any(|l| l.trim_start().starts_with("--> ")) {
            return Some(format!("{name}: error without a place\n{}", run.describe()));
        }
        if !block.iter().any(|l| l.trim_start().starts_with("= help: ")) {
            return Some(format!("{name}: error without help\n{}", run.describe()));
        }
    }
    None
}

/// How to run a committed entry, or `None` for files that are not entries.
fn args_for(path: &Path) -> Option<Vec<String>> {
    let name = path.file_name()?.to_str()?;
    if name.starts_with('_') || name.starts_with('.') || name.ends_with(".out") {
        return None;
    }
    if name == "README.md" {
        return None;
    }
    let shown = format!("{CORPUS}/{name}");
    let meta = std::fs::symlink_metadata(path).ok()?;
    if meta.is_dir() && name.ends_with(".rules") || name.ends_with(".coi") {
        return Some(vec!["check".into(), shown]);
    }
    if meta.is_dir() || name.ends_with(".case") {
        return Some(vec![
            "audit".into(),
            shown,
            "--rules".into(),
            RULES.into(),
            "--format".into(),
            "csv".into(),
        ]);
    }
    None
}

fn entries() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(root().join(CORPUS))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    all.sort();
    all
}

fn golden_path(entry: &Path) -> PathBuf {
    let mut name = entry.file_name().unwrap_or_default().to_os_string();
    name.push(".out");
    entry.with_file_name(name)
}

#[test]
fn committed_corpus() {
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in entries() {
        let Some(args) = args_for(&entry) else {
            continue;
        };
        count += 1;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_bounded(&args, &root());
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        failures.extend(invariants(name, &run));
        failures.extend(golden(&golden_path(&entry), &transcript(&run)));
    }
    assert!(count >= 150, "only {count} corpus entries");
    // Every golden belongs to an entry (no stale goldens after a rename).
    for entry in entries() {
        let name = entry.to_string_lossy().to_string();
        if let Some(input) = name.strip_suffix(".out") {
            if !Path::new(input).exists() {
                failures.push(format!("{name}: golden without an input"));
            }
        }
    }
    common::assert_none(&failures);
}

// ---------------------------------------------------------------- generated at run time

/// A fresh scratch folder.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bad-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("{} -> {target}: {e}", link.display()));
}

/// A case folder `case/` with `case.toml`, one person, and the corpus rules in
/// `case/rules/` (found by `audit` without `--rules`, so no absolute path is printed).
fn base_case(dir: &Path) -> PathBuf {
    let case = dir.join("case");
    write(&case.join("case.toml"), "[case]\ntitle = \"Generated\"\n");
    let rules = std::fs::read(root().join(RULES).join("listing.coi"))
        .unwrap_or_else(|e| panic!("{RULES}/listing.coi: {e}"));
    write(&case.join("rules/listing.coi"), rules);
    write(&case.join("person.csv"), "id,name\nann,Ann\n");
    case
}

/// Runs `args` in `dir` and checks the invariants and the golden `_generated/NAME.out`.
fn check_generated(name: &str, dir: &Path, args: &[&str], failures: &mut Vec<String>) {
    let run = run_bounded(args, dir);
    failures.extend(invariants(name, &run));
    let path = root()
        .join(CORPUS)
        .join("_generated")
        .join(format!("{name}.out"));
    failures.extend(golden(&path, &transcript(&run)));
}

const TEN_MB: usize = 10 << 20;

#[test]
fn ten_megabyte_lines() {
    let mut failures = Vec::new();
    let dir = scratch("ten-mb");
    // A valid rule file whose second line is a 10 MB comment.
    let mut text = String::from("use std\n#");
    text.push_str(&"x".repeat(TEN_MB));
    text.push('\n');
    write(&dir.join("ok_comment.coi"), &text);
    check_generated(
        "ok_ten_mb_comment",
        &dir,
        &["check", "ok_comment.coi"],
        &mut failures,
    );
    // 10 MB of one identifier where an item should be.
    write(&dir.join("word.coi"), "y".repeat(TEN_MB));
    check_generated("ten_mb_word", &dir, &["check", "word.coi"], &mut failures);
    // A 10 MB string that never ends.
    let mut text = String::from("use std\nparam p = \"");
    text.push_str(&"z".repeat(TEN_MB));
    write(&dir.join("string.coi"), &text);
    check_generated(
        "ten_mb_unterminated_string",
        &dir,
        &["check", "string.coi"],
        &mut failures,
    );
    // A CSV whose header is one 10 MB column name.
    let case = base_case(&dir.join("csv"));
    write(
        &case.join("org.csv"),
        format!("id,{}\n", "c".repeat(TEN_MB)),
    );
    check_generated(
        "ten_mb_csv_header",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // A TOML file with a 10 MB note on a fact: loads, and the fact is kept.
    let case = base_case(&dir.join("toml"));
    write(
        &case.join("org.toml"),
        format!(
            "[[org]]\nid = \"acme\"\nname = \"Acme\"\nnote = \"{}\"\n",
            "n".repeat(TEN_MB)
        ),
    );
    check_generated(
        "ok_ten_mb_toml_note",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // A TOML key of 10 MB: an unknown field, reported without printing all of it.
    let case = base_case(&dir.join("toml-key"));
    write(
        &case.join("org.toml"),
        format!(
            "[[org]]\nid = \"acme\"\nname = \"Acme\"\n{} = 1\n",
            "k".repeat(TEN_MB)
        ),
    );
    check_generated(
        "ten_mb_toml_key",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    common::assert_none(&failures);
}

#[cfg(unix)]
#[test]
fn links_fifos_and_devices() {
    let mut failures = Vec::new();
    let dir = scratch("links");
    // A data file that is a symlink to itself.
    let case = base_case(&dir.join("self-link"));
    symlink("loop.toml", &case.join("loop.toml"));
    check_generated(
        "symlink_self_loop",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // Two data files that point at each other.
    let case = base_case(&dir.join("two-links"));
    symlink("b.toml", &case.join("a.toml"));
    symlink("a.toml", &case.join("b.toml"));
    check_generated(
        "symlink_two_file_loop",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // A subfolder that links back to the case folder: not loaded, said so, no loop.
    let case = base_case(&dir.join("dir-loop"));
    symlink(".", &case.join("again"));
    check_generated(
        "ok_symlink_folder_loop",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // The case folder itself is a symlink loop.
    let d = dir.join("case-loop");
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    symlink("loop", &d.join("loop"));
    check_generated(
        "symlink_case_folder_loop",
        &d,
        &["audit", "loop", "--rules", "nowhere"],
        &mut failures,
    );
    // A rules folder with two links back up: each folder is walked once.
    let d = dir.join("rules-loop");
    write(
        &d.join("rules/a.coi"),
        "use std\n\nrule named(p) {\n    title    \"Named\"\n    severity info\n    when {\n        person(id: p)\n    }\n}\n",
    );
    symlink("..", &d.join("rules/up"));
    symlink(".", &d.join("rules/here"));
    check_generated(
        "ok_symlink_rules_loop",
        &d,
        &["check", "rules"],
        &mut failures,
    );
    check_generated(
        "ok_symlink_rules_loop_fmt",
        &d,
        &["fmt", "--check", "rules"],
        &mut failures,
    );
    // A data file linked to a device that never ends.
    let case = base_case(&dir.join("dev-zero"));
    symlink("/dev/zero", &case.join("zero.toml"));
    check_generated(
        "device_as_data_file",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    // `case.toml` is a FIFO: opening it would block forever.
    let case = base_case(&dir.join("fifo"));
    let _ = std::fs::remove_file(case.join("person.csv"));
    let made = Command::new("mkfifo")
        .arg(case.join("person.csv"))
        .status()
        .is_ok_and(|s| s.success());
    if made {
        check_generated(
            "fifo_as_data_file",
            &case,
            &["audit", ".", "--format", "csv"],
            &mut failures,
        );
    } else {
        eprintln!("skipped fifo_as_data_file: `mkfifo` is not available");
    }
    // A rule file that is a directory named `x.coi`, and a rule path to /dev/zero.
    let d = dir.join("rule-dev");
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    symlink("/dev/zero", &d.join("zero.coi"));
    check_generated(
        "device_as_rule_file",
        &d,
        &["check", "zero.coi"],
        &mut failures,
    );
    common::assert_none(&failures);
}

#[cfg(unix)]
#[test]
fn unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("unreadable");
    let case = base_case(&dir.join("case"));
    let data = case.join("org.toml");
    write(&data, "[[org]]\nid = \"acme\"\nname = \"Acme\"\n");
    let rule = dir.join("locked.coi");
    write(&rule, "use std\n");
    for p in [&data, &rule] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o000))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    // As root (CI containers) permissions do not stop reading; nothing to test then.
    if std::fs::read(&data).is_ok() {
        eprintln!(
            "skipped unreadable_files: this process can read a file with mode 000 \
             (running as root?), so the error cannot be produced"
        );
        return;
    }
    let mut failures = Vec::new();
    check_generated(
        "unreadable_data_file",
        &case,
        &["audit", ".", "--format", "csv"],
        &mut failures,
    );
    check_generated(
        "unreadable_rule_file",
        &dir,
        &["check", "locked.coi"],
        &mut failures,
    );
    common::assert_none(&failures);
}

#[test]
fn limits_name_the_flag_that_raises_them() {
    let mut failures = Vec::new();
    let dir = scratch("limits");
    let case = base_case(&dir.join("size"));
    write(
        &case.join("org.csv"),
        format!("id,name\n{}", "acme,Acme\n".repeat(200)),
    );
    check_generated(
        "limit_file_size",
        &case,
        &["--max-file-size", "1100", "audit", ".", "--format", "csv"],
        &mut failures,
    );
    write(
        &dir.join("big.coi"),
        format!("use std\n{}", "# padding\n".repeat(200)),
    );
    check_generated(
        "limit_file_size_rules",
        &dir,
        &["--max-file-size", "1000", "check", "big.coi"],
        &mut failures,
    );
    let case = base_case(&dir.join("facts"));
    let orgs: String = (0..20).map(|i| format!("o{i},Org {i}\n")).collect();
    write(&case.join("org.csv"), format!("id,name\n{orgs}"));
    check_generated(
        "limit_facts",
        &case,
        &["--max-facts", "10", "audit", ".", "--format", "csv"],
        &mut failures,
    );
    common::assert_none(&failures);
}
