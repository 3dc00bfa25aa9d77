//! Resource limits, determinism and atomic outputs, end to end through the binary.
//!
//! - A program whose result explodes (a cross product, an aggregate over one, a
//!   recursion that never settles) is stopped by its limit with an error naming the
//!   flag, long before memory runs out.
//! - The same inputs give byte-identical outputs across runs, across thread counts
//!   (`PROBITY_THREADS`) and across the order files were created in on disk.
//! - `-o FILE` is written atomically: a run killed mid-write leaves the previous file
//!   intact, and its temporary file is removed by the next run.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Run, probity_with, root};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("robust-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs the binary in `dir` with extra environment variables.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    probity_with(args, |c| {
        c.current_dir(dir);
        for (k, v) in env {
            c.env(k, v);
        }
    })
}

#[track_caller]
fn assert_code(run: &Run, want: i32) {
    assert_eq!(run.code, Some(want), "{}", run.describe());
}

/// A case with `n` people (one CSV) and the rules given, in `dir/case`.
fn people_case(dir: &Path, n: usize, rules: &str) -> PathBuf {
    let case = dir.join("case");
    write(&case.join("case.toml"), "[case]\ntitle = \"Many people\"\n");
    let mut csv = String::from("id,name\n");
    for i in 0..n {
        csv.push_str(&format!("p{i},Person {i}\n"));
    }
    write(&case.join("person.csv"), csv);
    write(&case.join("rules/rules.coi"), format!("use std\n\n{rules}"));
    case
}

// ---------------------------------------------------------------- limits

#[test]
fn a_cross_product_is_stopped_by_the_derived_limit() {
    let dir = scratch("cross");
    // 1,000^3 = a billion triples: far beyond memory if nothing stopped it.
    let case = people_case(
        &dir,
        1000,
        "rule triple(a, b, c) {\n    title    \"T\"\n    severity low\n    when {\n        person(id: a)\n        person(id: b)\n        person(id: c)\n    }\n}\n",
    );
    let start = Instant::now();
    let run = run_in(&case, &["--max-derived", "200000", "audit", "."], &[]);
    assert_code(&run, 2);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(
        run.stderr.contains("error[probity::eval::limit]: evaluation stopped at 200000 derived tuples while deriving `triple`")
            && run.stderr.contains("raise the limit with `--max-derived N`"),
        "{}",
        run.describe()
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn an_aggregate_over_a_cross_product_is_stopped_too() {
    let dir = scratch("agg");
    let case = people_case(
        &dir,
        1000,
        "rule crowded(p) {\n    title    \"T\"\n    severity low\n    when {\n        person(id: p)\n        n = count { person(id: a), person(id: b), person(id: c) }\n        n > 5\n    }\n}\n",
    );
    let run = run_in(&case, &["--max-derived", "100000", "audit", "."], &[]);
    assert_code(&run, 2);
    assert!(
        run.stderr.contains(
            "an aggregate ranges over more than 100000 bindings while deriving `crowded`"
        ) && run.stderr.contains("--max-derived N"),
        "{}",
        run.describe()
    );
}

#[test]
fn a_recursion_that_never_settles_is_stopped_by_the_iteration_limit() {
    let dir = scratch("recursion");
    // Counting upwards for ever: each round derives one new number.
    let case = people_case(
        &dir,
        1,
        "derive chain(p, 0) {\n    person(id: p)\n}\n\nderive chain(p, n + 1) {\n    chain(p, n)\n}\n\nrule counted(p) {\n    title    \"T\"\n    severity low\n    when {\n        chain(p, n)\n        n = 3\n    }\n}\n",
    );
    let run = run_in(&case, &["--max-iterations", "50", "audit", "."], &[]);
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("recursion through `chain` did not settle after 50 iterations")
            && run.stderr.contains("--max-iterations N"),
        "{}",
        run.describe()
    );
    // Raising the derived limit alone does not help; the error still names a limit.
    let run = run_in(&case, &["--max-derived", "30", "audit", "."], &[]);
    assert_code(&run, 2);
    assert!(run.stderr.contains("--max-derived N"), "{}", run.describe());
}

#[test]
fn limits_are_listed_in_the_help_and_the_docs() {
    let run = probity_with(&["--help"], |_| {});
    assert_code(&run, 0);
    let docs = read(&root().join("docs/language.md"));
    for flag in [
        "--max-file-size",
        "--max-facts",
        "--max-derived",
        "--max-iterations",
    ] {
        assert!(
            run.stdout.contains(flag),
            "--help lacks {flag}\n{}",
            run.describe()
        );
        assert!(
            docs.contains(flag),
            "docs/language.md does not mention {flag}"
        );
    }
}

// ---------------------------------------------------------------- determinism

/// Copies the files of `from` (not folders) into `to`, creating them in `order`.
fn copy_case(from: &Path, to: &Path, reverse: bool, rename: &dyn Fn(&str) -> String) {
    let mut names: Vec<String> = std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{}: {e}", from.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    if reverse {
        names.reverse();
    }
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for n in names {
        let target = if n == "case.toml" {
            n.clone()
        } else {
            rename(&n)
        };
        let bytes = std::fs::read(from.join(&n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        write(&to.join(target), bytes);
        // Spread creation times, so any order by time differs from the order by name.
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn copy_rules(to: &Path) {
    let mut stack = vec![root().join("rules")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root().join("rules")) {
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{e}"));
                write(&to.join("rules").join(rel), bytes);
            }
        }
    }
}

const CASES: [&str; 2] = ["cases/uk-us-tech-partnership", "cases/uk-ministers"];

#[test]
fn outputs_are_identical_across_runs_and_thread_counts() {
    for case in CASES {
        for format in ["json", "table", "csv", "markdown"] {
            let first = run_in(
                &root(),
                &["audit", case, "--format", format, "--no-timestamp"],
                &[],
            );
            assert_code(&first, 0);
            for threads in ["1", "2", "3", "16"] {
                let again = run_in(
                    &root(),
                    &["audit", case, "--format", format, "--no-timestamp"],
                    &[("PROBITY_THREADS", threads)],
                );
                assert_eq!(
                    again.stdout, first.stdout,
                    "{case} --format {format} differs with PROBITY_THREADS={threads}"
                );
                assert_eq!(again.stderr, first.stderr);
            }
        }
    }
}

#[test]
fn outputs_do_not_depend_on_the_order_of_files_on_disk() {
    for case in CASES {
        let dir = scratch(&format!("order-{}", case.replace('/', "-")));
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        copy_case(&root().join(case), &a.join("case"), false, &|n| {
            n.to_string()
        });
        copy_case(&root().join(case), &b.join("case"), true, &|n| {
            n.to_string()
        });
        // Names that sort the other way round: `9-people.toml` before `1-ties.toml`…
        // CSV names are relation names, so only TOML files are renamed.
        let rename = |n: &str| {
            if n.ends_with(".toml") {
                let first = n.as_bytes()[0];
                format!("{}-{n}", (b'z' - first.to_ascii_lowercase()) % 10)
            } else {
                n.to_string()
            }
        };
        copy_case(&root().join(case), &c.join("case"), true, &rename);
        for d in [&a, &b, &c] {
            copy_rules(&d.join("case"));
        }
        let args = ["audit", "case", "--format", "json", "--no-timestamp"];
        let ra = run_in(&a, &args, &[]);
        let rb = run_in(&b, &args, &[]);
        let rc = run_in(&c, &args, &[]);
        assert_code(&ra, 0);
        assert_eq!(
            ra.stdout, rb.stdout,
            "{case}: creation order changed the output"
        );
        assert_eq!(ra.stderr, rb.stderr);
        // With renamed files, only the file names in evidence may differ.
        let mut unrenamed = rc.stdout.clone();
        for e in std::fs::read_dir(root().join(case))
            .into_iter()
            .flatten()
            .flatten()
        {
            let n = e.file_name().to_string_lossy().to_string();
            if n != "case.toml" && n.ends_with(".toml") {
                unrenamed =
                    unrenamed.replace(&format!("case/{}", rename(&n)), &format!("case/{n}"));
            }
        }
        // The run manifest lists case files by name, so its order follows the renaming;
        // everything else must be the same.
        let without_manifest = |text: &str| {
            let mut v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.remove("manifest");
            }
            v.to_string()
        };
        assert_eq!(
            without_manifest(&ra.stdout),
            without_manifest(&unrenamed),
            "{case}: file names changed more than the evidence paths"
        );
    }
}

// ---------------------------------------------------------------- -o atomicity

/// The temporary files `write_atomically` leaves beside `out.json`.
fn temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .filter(|n| n.starts_with(".out.json.probity-"))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(unix)]
#[test]
fn a_run_killed_while_writing_leaves_the_previous_output_intact() {
    use std::process::{Command, Stdio};
    let dir = scratch("atomic");
    // 20,000 findings: tens of MB of JSON, so the write takes a while.
    let case = people_case(
        &dir,
        20_000,
        "rule listed(p) {\n    title    \"Listed\"\n    severity low\n    when {\n        person(id: p, name: n)\n    }\n    flag \"{p} is listed as {n}, a long message to make the output larger\"\n}\n",
    );
    let out = case.join("out.json");
    let previous = "the previous output\n";
    let mut killed_mid_write = 0;
    for _attempt in 0..5 {
        write(&out, previous);
        let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
            .args(["audit", ".", "--format", "json", "-o", "out.json"])
            .current_dir(&case)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        // Wait until the temporary file exists and has some bytes, then SIGKILL.
        let start = Instant::now();
        let mut caught = false;
        while start.elapsed() < Duration::from_secs(120) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            let tmp = temps(&case);
            let growing = tmp
                .iter()
                .any(|t| std::fs::metadata(case.join(t)).is_ok_and(|m| m.len() > 0));
            if growing {
                let _ = child.kill();
                caught = true;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.wait();
        // Killed or finished, the file is never half-written.
        let now = read(&out);
        if caught && now == previous {
            killed_mid_write += 1;
            assert!(
                !temps(&case).is_empty(),
                "the kill left no temporary file: too late?"
            );
        } else {
            assert!(
                now == previous || now.starts_with('{') && now.trim_end().ends_with('}'),
                "out.json is neither the previous nor a complete output"
            );
        }
    }
    assert!(
        killed_mid_write > 0,
        "never caught the run while it was writing"
    );
    // The next run replaces the file and removes the killed run's temporary file.
    let run = run_in(
        &case,
        &["audit", ".", "--format", "json", "-o", "out.json"],
        &[],
    );
    assert_code(&run, 0);
    assert!(read(&out).contains("\"listed\""));
    assert_eq!(
        temps(&case),
        Vec::<String>::new(),
        "stale temporary files remain"
    );
}
