//! `probity fmt` end to end, over copies of the shipped rule files in a scratch folder:
//! the shipped files are already canonical, formatting is idempotent, a file whose layout
//! was wrecked formats back to the shipped text, and the formatted rules check and test
//! exactly like the originals.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::path::{Path, PathBuf};

use common::{Run, assert_none, diff, probity, root};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fmt-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn path_str(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

#[track_caller]
fn assert_code(run: &Run, want: i32) {
    assert_eq!(
        run.code,
        Some(want),
        "expected exit code {want}\n{}",
        run.describe()
    );
}

/// Every shipped rule file, `std/` included, relative to `rules/`, sorted.
fn shipped() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("rules")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "coi") {
                out.extend(
                    p.strip_prefix(root().join("rules"))
                        .ok()
                        .map(Path::to_path_buf),
                );
            }
        }
    }
    out.sort();
    out
}

/// Copies the shipped rules into `dir`, each file passed through `wreck`.
fn copy_rules(dir: &Path, wreck: impl Fn(&str) -> String) {
    for rel in shipped() {
        write(
            &dir.join(&rel),
            &wreck(&read(&root().join("rules").join(&rel))),
        );
    }
}

/// The same program laid out badly: indentation gone, runs of spaces doubled, blank
/// lines inside blocks removed, tabs before end-of-line comments.
fn wreck(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_start().replace("  ", "    ").replace(" #", "\t#");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn the_shipped_rules_are_in_canonical_form() {
    let files = shipped();
    assert!(files.len() >= 9, "found only {files:?}");
    assert!(files.iter().any(|f| f.starts_with("std")), "{files:?}");
    let run = probity(&["fmt", "--check"]);
    assert_code(&run, 0);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(
        run.stderr
            .contains(&format!("would reformat 0 of {} files", files.len())),
        "{}",
        run.describe()
    );
}

#[test]
fn formatting_is_idempotent_and_restores_a_wrecked_layout() {
    let dir = scratch("wrecked");
    copy_rules(&dir, wreck);
    let check = probity(&["fmt", "--check", path_str(&dir)]);
    assert_code(&check, 1);
    let first = probity(&["fmt", path_str(&dir)]);
    assert_code(&first, 0);
    assert!(first.stdout.is_empty(), "{}", first.describe());
    let mut failures = Vec::new();
    for rel in shipped() {
        let want = read(&root().join("rules").join(&rel));
        let got = read(&dir.join(&rel));
        failures.extend(diff(
            &format!("rules/{} after wreck + fmt", rel.display()),
            &want,
            &got,
        ));
    }
    assert_none(&failures);
    let again = probity(&["fmt", "--check", path_str(&dir)]);
    assert_code(&again, 0);
    assert!(again.stdout.is_empty(), "{}", again.describe());
}

#[test]
fn formatted_rules_check_and_test_like_the_originals() {
    let dir = scratch("same-program");
    copy_rules(&dir, wreck);
    assert_code(&probity(&["fmt", path_str(&dir)]), 0);
    let formatted = dir.join("interests");
    let shown = format!("{}/", formatted.display());
    let original_check = probity(&["check", "rules/interests"]);
    let formatted_check = probity(&["check", path_str(&formatted)]);
    assert_code(&original_check, 0);
    assert_code(&formatted_check, 0);
    assert_eq!(original_check.stderr, formatted_check.stderr);
    let original_test = probity(&["test", "rules/interests"]);
    let formatted_test = probity(&["test", path_str(&formatted)]);
    assert_code(&original_test, 0);
    assert_code(&formatted_test, 0);
    let got = formatted_test.stdout.replace(&shown, "rules/interests/");
    assert_none(
        &diff(
            "`probity test` over the formatted copy",
            &original_test.stdout,
            &got,
        )
        .into_iter()
        .collect::<Vec<_>>(),
    );
}

#[test]
fn check_lists_the_files_that_would_change_and_writes_nothing() {
    let dir = scratch("check");
    let tidy = dir.join("tidy.coi");
    let messy = dir.join("messy.coi");
    write(&tidy, "param p = 2y\n");
    write(&messy, "param   p=2y   # two years\n");
    let run = probity(&["fmt", "--check", path_str(&dir)]);
    assert_code(&run, 1);
    assert_eq!(
        run.stdout,
        format!("{}\n", messy.display()),
        "{}",
        run.describe()
    );
    assert_eq!(read(&messy), "param   p=2y   # two years\n");
    let run = probity(&["fmt", path_str(&messy)]);
    assert_code(&run, 0);
    assert_eq!(read(&messy), "param p = 2y  # two years\n");
}

#[test]
fn a_file_with_syntax_errors_is_reported_and_never_rewritten() {
    let dir = scratch("broken");
    let broken = dir.join("broken.coi");
    let fine = dir.join("fine.coi");
    let text = "param   p = 2y\n\nrule r {\n    title \"T\"\n    when { role(person: ) }\n}\n";
    write(&broken, text);
    write(&fine, "param   q=1y\n");
    let run = probity(&["fmt", path_str(&dir)]);
    assert_code(&run, 2);
    assert!(
        run.stderr.contains(&format!("{}:5:", broken.display())),
        "expected a diagnostic with file:line\n{}",
        run.describe()
    );
    assert_eq!(read(&broken), text, "a broken file was rewritten");
    // The other files are still formatted.
    assert_eq!(read(&fine), "param q = 1y\n");
    let run = probity(&["fmt", "--check", path_str(&broken)]);
    assert_code(&run, 2);
}

#[test]
fn a_missing_path_exits_2() {
    let run = probity(&["fmt", "no/such/rules"]);
    assert_code(&run, 2);
    for want in [
        "error[probity::resolve::unreadable_file]: cannot read `no/such/rules`",
        " --> no/such/rules",
        "= help: check that the path exists, is readable and holds UTF-8 text",
    ] {
        assert!(
            run.stderr.contains(want),
            "no `{want}`:\n{}",
            run.describe()
        );
    }
    // The same as JSON.
    let run = probity(&["fmt", "no/such/rules", "--error-format", "json"]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("\"code\": \"probity::resolve::unreadable_file\""),
        "{}",
        run.describe()
    );
}
