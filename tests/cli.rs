//! The command line end to end: the `probity` binary is spawned in the repository root
//! and its exit code, stdout and stderr are checked. Failures print the command and
//! everything it printed.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Run, probity, probity_with};

/// Asserts the exit code, showing the whole run when it differs.
#[track_caller]
fn assert_code(run: &Run, want: i32) {
    assert_eq!(
        run.code,
        Some(want),
        "expected exit code {want}\n{}",
        run.describe()
    );
}

/// Asserts that `haystack` (stdout or stderr of `run`) contains `needle`.
#[track_caller]
fn assert_has(run: &Run, haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected the output to contain:\n{needle}\n{}",
        run.describe()
    );
}

/// A fresh scratch folder for one test, under cargo's target tmp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn path_str(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

/// The ids of the findings in `audit --format jsonl` output.
fn rules_of(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}"));
            let who = v["bindings"][0]["value"]
                .as_str()
                .unwrap_or("?")
                .to_string();
            format!("{}:{who}", v["rule"].as_str().unwrap_or("?"))
        })
        .collect()
}

// ---------------------------------------------------------------- audit exit codes

#[test]
fn audit_of_the_flagship_exits_0() {
    let run = probity(&["audit", "cases/uk-us-tech-partnership"]);
    assert_code(&run, 0);
    assert_has(&run, &run.stdout, "retained_stake");
    assert!(run.stderr.is_empty(), "{}", run.describe());
}

#[test]
fn fail_on_at_or_below_a_present_severity_exits_1() {
    // The flagship has a high finding and nothing critical.
    for level in ["info", "low", "medium", "high"] {
        let run = probity(&["audit", "cases/uk-us-tech-partnership", "--fail-on", level]);
        assert_code(&run, 1);
        assert_has(&run, &run.stdout, "retained_stake");
    }
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--fail-on",
        "critical",
    ]);
    assert_code(&run, 0);
}

#[test]
fn fail_on_looks_at_the_findings_left_after_min_severity() {
    // tests/cases/dates has one medium and one low finding.
    let run = probity(&[
        "audit",
        "tests/cases/dates",
        "--min-severity",
        "high",
        "--fail-on",
        "low",
    ]);
    assert_code(&run, 0);
    assert_eq!(run.stdout, "no findings\n", "{}", run.describe());
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["audit"][..],
        &["audit", "cases/uk-us-tech-partnership", "--no-such-flag"],
        &[
            "audit",
            "cases/uk-us-tech-partnership",
            "--fail-on",
            "severe",
        ],
        &["frobnicate"],
        &["explain"],
    ] {
        let run = probity(args);
        assert_code(&run, 2);
        assert!(run.stdout.is_empty(), "{}", run.describe());
        assert!(!run.stderr.is_empty(), "{}", run.describe());
    }
}

#[test]
fn unknown_format_exits_2_and_lists_the_formats() {
    let run = probity(&["audit", "cases/uk-us-tech-partnership", "--format", "xml"]);
    assert_code(&run, 2);
    assert_has(&run, &run.stderr, "table, json, jsonl, csv, markdown");
}

#[test]
fn missing_case_folder_exits_2() {
    let run = probity(&["audit", "no/such/case"]);
    assert_code(&run, 2);
    assert_has(&run, &run.stderr, "`no/such/case` is not a case folder");
    assert!(run.stdout.is_empty(), "{}", run.describe());
}

#[test]
fn broken_rules_exit_2_with_file_line_col() {
    let dir = scratch("broken-rules");
    let rules = dir.join("broken.coi");
    write(
        &rules,
        "use std\n\nrule r {\n    title    \"T\"\n    severity high\n    when {\n        rolez(person: p)\n    }\n}\n",
    );
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--rules",
        path_str(&rules),
    ]);
    assert_code(&run, 2);
    assert_has(&run, &run.stderr, &format!("{}:7:9", rules.display()));
    assert_has(&run, &run.stderr, "did you mean `role`?");
    assert!(run.stdout.is_empty(), "{}", run.describe());
}

#[test]
fn broken_case_exits_2_and_lists_every_problem_with_file_and_line() {
    let run = probity(&["audit", "tests/bad_cases/broken"]);
    assert_code(&run, 2);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    let want = [
        (
            "tests/bad_cases/broken/meeting.csv:2:4",
            "bad date `2025-13-01`",
        ),
        (
            "tests/bad_cases/broken/meeting.csv:3:15",
            "unknown entity `carol`",
        ),
        (
            "tests/bad_cases/broken/ties.toml:3:10",
            "unknown entity `bob`",
        ),
        (
            "tests/bad_cases/broken/ties.toml:11:8",
            "bad date `2025-02-30`",
        ),
        (
            "tests/bad_cases/broken/ties.toml:18:10",
            "unknown source `newspaper`",
        ),
        (
            "tests/bad_cases/broken/ties.toml:24:7",
            "`pct` expects a number",
        ),
        (
            "tests/bad_cases/broken/ties.toml:31:1",
            "`client` has no field `fee`",
        ),
    ];
    for (place, message) in want {
        assert_has(&run, &run.stderr, place);
        assert_has(&run, &run.stderr, message);
    }
    assert_has(&run, &run.stderr, "7 errors");
}

// ---------------------------------------------------------------- audit options

#[test]
fn min_severity_leaves_out_lower_findings() {
    let all = probity(&["audit", "tests/cases/dates", "--format", "jsonl"]);
    assert_code(&all, 0);
    assert_eq!(
        rules_of(&all.stdout),
        ["revolving_door:ann", "concurrent_role:cy"],
        "{}",
        all.describe()
    );
    let medium = probity(&[
        "audit",
        "tests/cases/dates",
        "--format",
        "jsonl",
        "--min-severity",
        "medium",
    ]);
    assert_code(&medium, 0);
    assert_eq!(
        rules_of(&medium.stdout),
        ["revolving_door:ann"],
        "{}",
        medium.describe()
    );
}

#[test]
fn param_overrides_change_the_findings() {
    // Bob joined RailCo 2 years and 2 months after leaving office.
    let run = probity(&[
        "audit",
        "tests/cases/dates",
        "--format",
        "jsonl",
        "--param",
        "cooling_off=3y",
    ]);
    assert_code(&run, 0);
    assert_eq!(
        rules_of(&run.stdout),
        [
            "revolving_door:ann",
            "revolving_door:bob",
            "concurrent_role:cy"
        ],
        "{}",
        run.describe()
    );
    let run = probity(&[
        "audit",
        "tests/cases/dates",
        "--format",
        "jsonl",
        "--param",
        "cooling_off=6mo",
    ]);
    assert_eq!(
        rules_of(&run.stdout),
        ["concurrent_role:cy"],
        "{}",
        run.describe()
    );
}

#[test]
fn an_unknown_param_exits_2_with_a_suggestion() {
    let run = probity(&["audit", "tests/cases/dates", "--param", "cooling_of=3y"]);
    assert_code(&run, 2);
    assert_has(&run, &run.stderr, "cooling_of");
    assert_has(&run, &run.stderr, "did you mean `--param cooling_off=3y`?");
    let run = probity(&["audit", "tests/cases/dates", "--param", "cooling_off=soon"]);
    assert_code(&run, 2);
    assert_has(&run, &run.stderr, "is not a duration");
}

#[test]
fn output_file_gets_the_output_and_stdout_stays_empty() {
    let dir = scratch("output");
    let out = dir.join("findings.json");
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--format",
        "json",
        "--no-timestamp",
        "-o",
        path_str(&out),
    ]);
    assert_code(&run, 0);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    // Without a timestamp, so two runs a second apart still agree.
    let direct = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--format",
        "json",
        "--no-timestamp",
    ]);
    let written = read(&out);
    assert!(
        common::diff("the -o file against stdout", &direct.stdout, &written).is_none(),
        "{}",
        common::diff("the -o file against stdout", &direct.stdout, &written).unwrap_or_default()
    );
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["findings.json"]);
}

#[test]
fn output_to_a_missing_folder_exits_2() {
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "-o",
        "no/such/folder/out.txt",
    ]);
    assert_code(&run, 2);
    assert_has(
        &run,
        &run.stderr,
        "error[probity::cli::unwritable_output]: cannot write `no/such/folder/out.txt`",
    );
    assert_has(&run, &run.stderr, " --> no/such/folder/out.txt");
    assert_has(
        &run,
        &run.stderr,
        "= help: check that the folder exists and is writable",
    );
}

#[test]
fn finding_ids_do_not_depend_on_how_the_case_path_is_spelt() {
    let plain = probity(&["audit", "cases/uk-us-tech-partnership", "--format", "csv"]);
    let dotted = probity(&[
        "audit",
        "./cases/uk-us-tech-partnership/",
        "--format",
        "csv",
    ]);
    assert_code(&dotted, 0);
    assert!(
        common::diff(
            "`./cases/uk-us-tech-partnership/` against `cases/uk-us-tech-partnership`",
            &plain.stdout,
            &dotted.stdout
        )
        .is_none(),
        "{}",
        common::diff(
            "`./cases/uk-us-tech-partnership/` against `cases/uk-us-tech-partnership`",
            &plain.stdout,
            &dotted.stdout
        )
        .unwrap_or_default()
    );
}

// ---------------------------------------------------------------- check

#[test]
fn check_of_the_shipped_rules_exits_0() {
    let run = probity(&["check"]);
    assert_code(&run, 0);
    assert_has(&run, &run.stderr, "no errors");
    assert!(run.stdout.is_empty(), "{}", run.describe());
}

fn broken_rule_file(dir: &Path) -> PathBuf {
    let path = dir.join("two_errors.coi");
    write(
        &path,
        "use std\n\nrule r(p) {\n    title    \"T\"\n    severity severe\n    when {\n        rolez(person: p)\n    }\n}\n",
    );
    path
}

#[test]
fn check_reports_every_error_with_file_line_col_and_exits_2() {
    let dir = scratch("check-human");
    let path = broken_rule_file(&dir);
    let run = probity(&["check", path_str(&path)]);
    assert_code(&run, 2);
    let shown = path.display().to_string();
    assert_has(&run, &run.stderr, &format!("{shown}:5:14"));
    assert_has(&run, &run.stderr, &format!("{shown}:7:9"));
    assert_has(
        &run,
        &run.stderr,
        "        rolez(person: p)\n  |         ^^^^^",
    );
}

#[test]
fn check_with_error_format_json_prints_json() {
    let dir = scratch("check-json");
    let path = broken_rule_file(&dir);
    let run = probity(&["check", path_str(&path), "--error-format", "json"]);
    assert_code(&run, 2);
    let parsed: serde_json::Value = serde_json::from_str(&run.stderr)
        .unwrap_or_else(|e| panic!("stderr is not JSON: {e}\n{}", run.describe()));
    let items = parsed.as_array().cloned().unwrap_or_default();
    assert!(items.len() >= 2, "{}", run.describe());
    let lines: Vec<i64> = items.iter().filter_map(|d| d["line"].as_i64()).collect();
    assert!(
        lines.contains(&5) && lines.contains(&7),
        "{}",
        run.describe()
    );
    for d in &items {
        assert_eq!(d["file"].as_str(), Some(path_str(&path)), "{d}");
        assert!(
            d["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("probity::")),
            "{d}"
        );
    }
}

// ---------------------------------------------------------------- test

#[test]
fn test_of_the_shipped_rules_passes() {
    let run = probity(&["test"]);
    assert_code(&run, 0);
    let passed = run.stdout.matches("PASS ").count();
    assert!(passed >= 30, "{}", run.describe());
    assert!(
        run.stdout
            .ends_with(&format!("{passed} passed, 0 failed\n")),
        "{}",
        run.describe()
    );
}

/// Q3 reads `person` only through its ids: `audit` then loads the file for its ids and
/// reads a name when evidence shows it. The findings, evidence and all, are those of a
/// load of every file in full (`--coverage`).
#[test]
fn a_relation_read_through_its_ids_shows_the_same_evidence_as_a_full_load() {
    same_evidence_read_through_ids_or_loaded("tests/sql_audit/workload");
    // Its rows not one a line (a blank line, a name over two lines, a row ending in
    // CRLF), and its ids out of order: kept entity by entity, not as runs.
    let dir = scratch("lazy-rows");
    for (name, mut text) in files_of("tests/sql_audit/workload") {
        if name == "person.csv" {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.swap(3, 9);
            lines[5] = "p4,\"Person\nFour\"".to_string();
            lines[7].push('\r');
            lines.insert(20, String::new());
            text = lines.join("\n") + "\n";
        }
        write(&dir.join(name), &text);
    }
    same_evidence_read_through_ids_or_loaded(path_str(&dir));
}

/// The files of a folder of the repository: (name, text), in name order.
fn files_of(folder: &str) -> Vec<(String, String)> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&from)
        .unwrap_or_else(|e| panic!("{}: {e}", from.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            (name.to_string(), read(&path))
        })
        .collect();
    files.sort();
    files
}

fn same_evidence_read_through_ids_or_loaded(case: &str) {
    let findings = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "audit",
            case,
            "--rules",
            "benches/workload/q3.coi",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let run = probity(&args);
        assert_code(&run, 0);
        let report: serde_json::Value = match serde_json::from_str(&run.stdout) {
            Ok(v) => v,
            Err(e) => panic!("{e}: {}", run.describe()),
        };
        report["findings"].clone()
    };
    let (lazy, full) = (findings(&[]), findings(&["--coverage"]));
    let text = lazy.to_string();
    assert!(
        text.contains("\"relation\":\"person\""),
        "person facts cited"
    );
    assert!(text.contains("\"field\":\"name\""), "with their names");
    assert_eq!(lazy, full);
}

/// A relation read through its ids whose facts come from a TOML file and a CSV file (a
/// quoted name with a comma in it): loaded lazily, a finding with two derivations, one
/// through each file, shows what a full load shows.
#[test]
fn a_relation_read_through_its_ids_from_two_files_keeps_their_order() {
    let dir = scratch("ids-only-two-files");
    write(&dir.join("case.toml"), "[case]\ntitle = \"ids only\"\n");
    write(
        &dir.join("a.toml"),
        "[[person]]\nid = \"q1\"\nname = \"Quinn\"\n\n[[knows]]\na = \"q1\"\nb = \"p2\"\n",
    );
    write(&dir.join("person.csv"), "id,name\np1,Pat\np2,\"Sam, Jr\"\n");
    write(&dir.join("knows.csv"), "a,b\np1,p2\np2,q1\n");
    let rules = dir.join("r.coi");
    write(
        &rules,
        "entity person(name: text)\nrelation knows(a: person, b: person)\n\n\
         rule known(b) {\n    title \"Known\"\n    severity low\n    when {\n        \
         person(id: a)\n        knows(a: a, b: b)\n    }\n}\n",
    );
    let report = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "audit",
            path_str(&dir),
            "--rules",
            path_str(&rules),
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let run = probity(&args);
        assert_code(&run, 0);
        match serde_json::from_str::<serde_json::Value>(&run.stdout) {
            Ok(v) => v["findings"].clone(),
            Err(e) => panic!("{e}: {}", run.describe()),
        }
    };
    let (lazy, full) = (report(&[]), report(&["--coverage"]));
    assert!(lazy.to_string().contains("Sam, Jr"), "{lazy}");
    assert_eq!(lazy, full);
}

#[test]
fn the_shipped_rules_pass_with_every_clause_split_over_threads() {
    let plain = probity(&["test"]);
    let split = probity_with(&["test"], |c| {
        c.env("PROBITY_THREADS", "3");
        c.env("PROBITY_SPLIT_MIN", "1");
    });
    assert_code(&split, 0);
    assert_eq!(plain.stdout, split.stdout, "{}", split.describe());
}

#[test]
fn a_failing_test_exits_1_and_shows_expected_and_got() {
    let dir = scratch("failing-test");
    let path = dir.join("failing.coi");
    write(
        &path,
        "use std

rule left_firm(p, firm) {
    title    \"Left a firm\"
    severity low
    when {
        role(person: p, org: firm, until: left)
        left < 2025-01-01
    }
}

test passes {
    given {
        person(id: ann, name: \"Ann\")
        org(id: acme, name: \"Acme\")
        role(person: ann, org: acme, until: 2024-06-01)
    }
    expect left_firm(p: ann, firm: acme)
}

test fails {
    given {
        person(id: ann, name: \"Ann\")
        org(id: acme, name: \"Acme\")
        role(person: ann, org: acme, until: 2025-06-01)
    }
    expect left_firm(p: ann, firm: acme)
}
",
    );
    let run = probity(&["test", path_str(&path)]);
    assert_code(&run, 1);
    let shown = path.display().to_string();
    assert_has(&run, &run.stdout, &format!("PASS passes ({shown}:12:6)"));
    assert_has(
        &run,
        &run.stdout,
        &format!(
            "FAIL fails ({shown}:21:6)\n    {shown}:27:5: expected left_firm(p: ann, firm: acme)\n      got no `left_firm` at all\n"
        ),
    );
    assert!(
        run.stdout.ends_with("1 passed, 1 failed\n"),
        "{}",
        run.describe()
    );
    // --filter runs only the matching tests.
    let run = probity(&["test", path_str(&path), "--filter", "pass"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.ends_with("1 passed, 0 failed\n"),
        "{}",
        run.describe()
    );
}

// ---------------------------------------------------------------- explain

#[test]
fn explain_plan_prints_strata_and_join_orders() {
    let run = probity(&["explain", "--plan", "rules"]);
    assert_code(&run, 0);
    assert_has(&run, &run.stdout, "stratum 0: acts_for");
    assert_has(
        &run,
        &run.stdout,
        "retained_stake(p, firm) <- rules/interests/retained_stake.coi:10:10",
    );
    assert!(run.stdout.ends_with('\n'), "{}", run.describe());
}

/// With a case folder, the plan `audit` makes for it: joins ordered by its relations'
/// sizes (here the one holding before the three jobs), after a line giving them.
#[test]
fn explain_plan_of_a_case_orders_joins_by_its_sizes() {
    let dir = std::env::temp_dir().join(format!("probity-plan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let files = [
        ("case.toml", "[case]\ntitle = \"Plan sizes\"\n"),
        ("person.csv", "id,name\np1,A\np2,B\np3,C\n"),
        ("company.csv", "id,name,kind\nc1,X,firm\n"),
        (
            "employment.csv",
            "person,org,role,start,end\np1,c1,analyst,2010-01-01,2012-01-01\n\
             p2,c1,analyst,2010-01-01,2013-01-01\np3,c1,analyst,2011-01-01,\n",
        ),
        (
            "holds_shares.csv",
            "holder,company,pct,start,end\np1,c1,5,2011-01-01,\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let case = dir.to_string_lossy().to_string();
    let rules = "benches/workload/q1.coi";
    let plain = probity(&["explain", "--plan", rules]);
    assert_code(&plain, 0);
    assert_has(
        &plain,
        &plain.stdout,
        "    scan employment(person: p, org: f, end: e)\n",
    );
    let sized = probity(&["explain", &case, "--plan", rules]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_code(&sized, 0);
    let first = sized.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!("sizes of {case}: employment 3, holds_shares 1"),
        "{}",
        sized.describe()
    );
    assert_has(
        &sized,
        &sized.stdout,
        "    scan holds_shares(holder: p, company: f, start: hs, end: he)\n    lookup employment[person=p, org=f](end: e)\n",
    );
}

#[test]
fn explain_of_an_unknown_finding_exits_2() {
    let run = probity(&[
        "explain",
        "cases/uk-us-tech-partnership",
        "--finding",
        "ffffffffffffffff",
    ]);
    assert_code(&run, 2);
    assert_has(
        &run,
        &run.stderr,
        "error[probity::cli::unknown_finding]: no finding `ffffffffffffffff`",
    );
    assert_has(
        &run,
        &run.stderr,
        "= help: list the ids with `probity audit",
    );
    // Nothing asked for: a usage error of its own, as JSON too.
    let run = probity(&["explain", "--error-format", "json"]);
    assert_code(&run, 2);
    assert_has(
        &run,
        &run.stderr,
        "\"code\": \"probity::cli::nothing_to_explain\"",
    );
}

// ---------------------------------------------------------------- terminal behaviour

#[test]
fn piped_output_has_no_ansi_escapes_with_or_without_no_color() {
    let dir = scratch("no-ansi");
    let broken = broken_rule_file(&dir);
    for no_color in [None, Some("1")] {
        let runs = [
            vec!["audit", "cases/uk-us-tech-partnership"],
            vec!["audit", "tests/cases/dates", "--format", "markdown"],
            vec!["audit", "tests/bad_cases/broken"],
            vec!["check", path_str(&broken)],
            vec!["test"],
        ];
        for args in runs {
            let run = probity_with(&args, |c| {
                if let Some(v) = no_color {
                    c.env("NO_COLOR", v);
                }
            });
            assert!(
                !run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
                "ANSI escape with NO_COLOR={no_color:?}\n{}",
                run.describe()
            );
        }
    }
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    // The reader goes away before the output is written: a write to the pipe fails with
    // a broken pipe, which must end the run quietly, as success.
    for format in ["table", "json", "markdown"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_probity"))
            .args([
                "audit",
                "cases/uk-us-tech-partnership",
                "tests/cases/certainty",
                "tests/cases/csv_register",
                "--format",
                format,
            ])
            .current_dir(common::root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run the binary: {e}"));
        drop(child.stdout.take());
        let mut stderr = String::new();
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut stderr);
        }
        let status = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
        assert_eq!(
            status.code(),
            Some(0),
            "--format {format}: stderr:\n{stderr}"
        );
        assert!(stderr.is_empty(), "--format {format}: stderr:\n{stderr}");
    }
}

#[test]
fn format_count_agrees_with_the_findings_of_json() {
    for case in [
        "cases/uk-ministers",
        "cases/uk-us-tech-partnership",
        "tests/cases/certainty",
        "tests/cases/csv_register",
        "tests/cases/dates",
        "tests/cases/exemptions",
        "tests/cases/same_as",
    ] {
        let json = probity(&["audit", case, "--format", "json"]);
        let count = probity(&["audit", case, "--format", "count"]);
        assert_code(&json, 0);
        assert_code(&count, 0);
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
        let tally = |key: &str, rule: &str| {
            doc[key]
                .as_array()
                .map_or(0, |fs| fs.iter().filter(|f| f["rule"] == rule).count())
        };
        let (mut findings, mut exempted) = (0, 0);
        for line in count.stdout.lines() {
            let mut words = line.split(' ');
            let rule = words.next().unwrap_or_default();
            let n: usize = words
                .next()
                .and_then(|w| w.parse().ok())
                .unwrap_or(usize::MAX);
            let e: usize = words
                .next()
                .and_then(|w| w.trim_start_matches("(+").parse().ok())
                .unwrap_or(0);
            if rule == "total" {
                assert_eq!((n, e), (findings, exempted), "{case}: {}", count.describe());
                continue;
            }
            assert_eq!(
                n,
                tally("findings", rule),
                "{case} {rule}: {}",
                count.describe()
            );
            assert_eq!(
                e,
                tally("exempted", rule),
                "{case} {rule}: {}",
                count.describe()
            );
            findings += n;
            exempted += e;
        }
        assert!(
            count.stdout.starts_with(|c: char| c.is_ascii_lowercase()),
            "{case}"
        );
    }
}

/// `audit` reads only what the rules can use: a plain CSV no rule reads is left unread
/// (and listed in the manifest), an entity CSV no rule reads is read for its ids alone
/// and its names on demand. The findings are exactly those of a full load
/// (`--coverage` loads every file), names and evidence included.
#[test]
fn audit_reads_only_what_the_rules_use_and_finds_the_same() {
    let case = "tests/cases/register_lite";
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["audit", case, "--format", "json", "--no-timestamp"];
        args.extend_from_slice(extra);
        let run = probity(&args);
        assert_code(&run, 0);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.describe()))
    };
    let lean = json(&[]);
    let full = json(&["--coverage"]);
    assert_eq!(lean["findings"], full["findings"]);
    assert_eq!(
        lean["manifest"]["unread"],
        serde_json::json!([format!("{case}/meeting.csv")])
    );
    assert!(
        full["manifest"].get("unread").is_none(),
        "{}",
        full["manifest"]
    );
    let findings = lean["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0]["message"],
        "Lee, Ann left Acme Holdings on 2021-09-30 but kept shares in it"
    );
    let md = probity(&["audit", case, "--format", "markdown", "--no-timestamp"]);
    assert_code(&md, 0);
    assert!(
        md.stdout
            .contains("Not read (no rule reads their relation)"),
        "{}",
        md.describe()
    );
}

/// Loading and evaluating on several threads (rule blocks side by side, files and
/// indexes shared out) gives the report of one thread byte for byte: the workload's
/// multi-block rules, with every finding's evidence and derivation.
#[test]
fn reports_do_not_depend_on_the_number_of_threads() {
    for q in ["q2", "q4", "q1", "q3"] {
        let rules = format!("benches/workload/{q}.coi");
        let args = [
            "audit",
            "tests/sql_audit/workload",
            "--rules",
            &rules,
            "--format",
            "json",
        ];
        // With four threads every clause run is split too, however small, and every
        // file over 2,000 bytes is converted in pieces.
        let run = |threads: &str| {
            let run = probity_with(&args, |c| {
                c.env("PROBITY_THREADS", threads);
                c.env("PROBITY_SPLIT_MIN", "1");
                c.env("PROBITY_CONVERT_PIECE", "2000");
            });
            assert_code(&run, 0);
            run
        };
        let (one, four) = (run("1"), run("4"));
        let strip = |s: &str| -> String {
            s.lines()
                .filter(|l| !l.contains("\"generated\""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(one.stdout.contains("\"evidence\""), "{}", one.describe());
        assert_eq!(strip(&one.stdout), strip(&four.stdout), "{q}");
    }
}

/// `probity ARGS` on `threads` threads, files converted in pieces (or read in blocks) of
/// `piece` bytes if given.
fn on_threads(args: &[&str], threads: &str, piece: Option<&str>) -> Run {
    probity_with(args, |c| {
        c.env("PROBITY_THREADS", threads);
        if let Some(p) = piece {
            c.env("PROBITY_CONVERT_PIECE", p);
        }
    })
}

/// A file read a block at a time has its tuples written straight into one vector, each
/// block's at a place with room for a tuple per line: the report is one read's whatever
/// the blocks and threads, also where blocks hold fewer tuples than lines (blank lines,
/// a meeting of a person with themself: one tuple, not two) and where the file's first
/// 256 KiB promise fewer rows than the rest hold (long rows first: the last blocks find
/// no room, and keep their tuples in their pieces).
#[test]
fn files_read_in_blocks_into_place_read_as_one_read() {
    let dir = scratch("sinks");
    let from = Path::new("tests/sql_audit/workload");
    for f in std::fs::read_dir(from).expect("workload") {
        let f = f.expect("entry").path();
        std::fs::copy(&f, dir.join(f.file_name().expect("name"))).expect("copy");
    }
    let mut emp = String::from("person,org,role,start,end\n");
    for i in 0..700 {
        let role = format!("r{i}-{}", "x".repeat(400));
        emp.push_str(&format!(
            "p{},c{},{role},2001-01-01,2002-06-30\n",
            i % 300,
            i % 90
        ));
    }
    for (i, line) in read(&from.join("employment.csv"))
        .lines()
        .skip(1)
        .enumerate()
    {
        if i % 40 == 0 {
            emp.push('\n');
        }
        emp.push_str(line);
        emp.push('\n');
    }
    assert!(emp.len() > 300 << 10, "{}", emp.len());
    write(&dir.join("employment.csv"), &emp);
    let mut meet = String::new();
    for (i, line) in read(&from.join("meeting.csv")).lines().enumerate() {
        meet.push_str(line);
        meet.push('\n');
        if i % 25 == 3 {
            meet.push_str(&format!(
                "p{},p{},2024-03-0{}\n\n",
                i % 300,
                i % 300,
                1 + i % 9
            ));
        }
    }
    write(&dir.join("meeting.csv"), &meet);
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.contains("\"generated\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for q in ["q1", "q2", "q4"] {
        let rules = format!("benches/workload/{q}.coi");
        let args = [
            "audit",
            path_str(&dir),
            "--rules",
            &rules,
            "--format",
            "json",
        ];
        let one = on_threads(&args, "1", Some("100000000"));
        assert_code(&one, 0);
        assert!(one.stdout.contains("\"evidence\""), "{}", one.describe());
        for (threads, piece) in [("1", "2000"), ("2", "2000"), ("3", "700"), ("2", "64")] {
            let cut = on_threads(&args, threads, Some(piece));
            assert_code(&cut, 0);
            assert_eq!(
                strip(&one.stdout),
                strip(&cut.stdout),
                "{q}: {threads} threads, blocks of {piece}"
            );
        }
    }
}

/// A file converted in pieces on several threads reports the problems of one read in
/// one piece: the same first 200, in file order, and the count of the rest.
#[test]
fn problems_of_a_file_converted_in_pieces_are_those_of_one_piece() {
    let dir = scratch("pieces");
    write(&dir.join("case.toml"), "[case]\ntitle = \"Pieces\"\n");
    let mut csv = String::from("person,org,role,start,end\n");
    for i in 0..3000 {
        // Every tenth row has a bad start date; one row in 500 an unknown person.
        let start = if i % 10 == 3 {
            "2020-13-01"
        } else {
            "2020-01-01"
        };
        let person = if i % 500 == 7 { "nobody" } else { "p1" };
        csv.push_str(&format!("{person},c1,staff,{start},\n"));
    }
    write(&dir.join("employment.csv"), &csv);
    write(&dir.join("person.csv"), "id,name\np1,One\n");
    write(&dir.join("company.csv"), "id,name,kind\nc1,Co,corp\n");
    let case = path_str(&dir);
    let args = ["audit", case, "--rules", "benches/workload/q1.coi"];
    let run = |threads: &str, piece: Option<&str>| on_threads(&args, threads, piece);
    let whole = run("1", None);
    assert_code(&whole, 2);
    assert_has(&whole, &whole.stderr, "106 more errors in this file");
    for (threads, piece) in [("2", "3000"), ("3", "700"), ("1", "5000")] {
        let cut = run(threads, Some(piece));
        assert_code(&cut, 2);
        assert_eq!(
            whole.stderr, cut.stderr,
            "{threads} threads, pieces of {piece}"
        );
    }
}

/// A CSV file read a block at a time gives what one read gives, for every block size
/// and number of threads: the same findings, and the same problems at the same lines,
/// with a byte-order mark, a row longer than a block, CRLF and a quoted field with a
/// line break late in the file (read from there as one block), and no last line break.
/// Bad UTF-8 late in a file is the file's one problem, at its line.
#[test]
fn files_read_in_blocks_read_as_one_read() {
    let dir = scratch("blocks");
    write(&dir.join("case.toml"), "[case]\ntitle = \"Blocks\"\n");
    write(&dir.join("person.csv"), "id,name\np1,One\np2,Two\n");
    write(&dir.join("company.csv"), "id,name,kind\nc1,Co,corp\n");
    let mut emp = String::from("\u{feff}person,org,role,start,end\n");
    let mut shares = String::from("holder,company,pct,start,end\n");
    for i in 0..400 {
        let end = if i % 7 == 0 { "" } else { "2019-06-30" };
        let start = if i % 97 == 5 {
            "2020-13-01"
        } else {
            "2001-01-01"
        };
        let role = if i == 150 {
            "x".repeat(300)
        } else {
            format!("r{}", i % 5)
        };
        emp.push_str(&format!("p{},c1,{role},{start},{end}\n", 1 + i % 2));
        shares.push_str(&format!("p{},c1,{},2000-01-01,\n", 1 + i % 2, i % 50));
    }
    emp.push_str("p1,c1,\"two\r\nlines\",2001-01-01,2019-06-30\r\n");
    emp.push_str("nobody,c1,x,2001-01-01,2019-06-30");
    write(&dir.join("employment.csv"), &emp);
    write(&dir.join("holds_shares.csv"), &shares);
    let case = path_str(&dir);
    let args = ["audit", case, "--rules", "benches/workload/q1.coi"];
    let run = |threads: &str, piece: Option<&str>| on_threads(&args, threads, piece);
    let whole = run("1", None);
    assert_code(&whole, 2);
    assert_has(&whole, &whole.stderr, "unknown_entity");
    assert_has(&whole, &whole.stderr, "employment.csv:404:");
    for (threads, piece) in [("1", "64"), ("2", "64"), ("3", "1000"), ("2", "5000")] {
        let cut = run(threads, Some(piece));
        assert_eq!(
            whole.stderr, cut.stderr,
            "{threads} threads, blocks of {piece}"
        );
    }
    // Without the bad rows: the same findings.
    let good: String = emp
        .lines()
        .filter(|l| !l.contains("2020-13-01") && !l.starts_with("nobody"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(&dir.join("employment.csv"), &good);
    let json = [
        "audit",
        case,
        "--rules",
        "benches/workload/q1.coi",
        "--format",
        "json",
    ];
    let run = |threads: &str, piece: &str| on_threads(&json, threads, Some(piece));
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.contains("\"generated\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one = run("1", "100000000");
    assert_code(&one, 0);
    assert!(one.stdout.contains("\"evidence\""), "{}", one.describe());
    for (threads, piece) in [("1", "64"), ("2", "300"), ("3", "4096")] {
        let cut = run(threads, piece);
        assert_eq!(strip(&one.stdout), strip(&cut.stdout), "{threads}, {piece}");
    }
    // Bad UTF-8 on line 300.
    let mut bytes = good.into_bytes();
    let at = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(298)
        .map_or(0, |(i, _)| i + 3);
    bytes[at] = 0xff;
    std::fs::write(dir.join("employment.csv"), &bytes).expect("write");
    let whole = run("1", "100000000");
    assert_code(&whole, 2);
    assert_has(&whole, &whole.stderr, "employment.csv:300:");
    for (threads, piece) in [("1", "64"), ("2", "300")] {
        let cut = run(threads, piece);
        assert_eq!(whole.stderr, cut.stderr, "{threads}, {piece}");
    }
}

/// Base facts given more than once (a file's rows again, a fact in two files) report as
/// one: the same findings, evidence and sources whether the copies are dropped before
/// evaluation or kept (as relations of many tuples keep them), on the flagship cases
/// and on the workload's four queries.
#[test]
fn repeated_facts_kept_or_dropped_give_the_same_report() {
    let both = |args: &[&str]| {
        let run = |mode: &str| {
            probity_with(args, |c| {
                c.env("PROBITY_REPEATS", mode);
            })
        };
        let (keep, drop) = (run("keep"), run("drop"));
        assert_code(&drop, 0);
        assert!(drop.stdout.contains("\"evidence\""), "{}", drop.describe());
        assert_eq!(keep.stdout, drop.stdout, "{}", keep.describe());
    };
    let twice = |text: &str| -> String {
        let rows: Vec<&str> = text.lines().skip(1).collect();
        let mut out = format!("{text}\n");
        for row in rows.iter().rev() {
            out.push_str(&format!("{row}\n"));
        }
        out
    };
    for case in ["uk-ministers", "uk-us-tech-partnership"] {
        let dir = scratch(&format!("repeats-{case}"));
        for (name, text) in files_of(&format!("cases/{case}")) {
            match name.as_str() {
                "office.csv" => write(&dir.join(name), &twice(text.trim_end())),
                "meetings.toml" | "ties.toml" => {
                    write(&dir.join(&name), &text);
                    write(&dir.join(format!("again-{name}")), &text);
                }
                _ => write(&dir.join(name), &text),
            }
        }
        let case = path_str(&dir);
        both(&["audit", case, "--format", "json", "--no-timestamp"]);
        both(&["audit", case, "--format", "html", "--no-timestamp"]);
    }
    // The workload's relations, every row of each again (in reverse order).
    let dir = scratch("repeats-workload");
    write(&dir.join("case.toml"), "[case]\ntitle = \"Repeats\"\n");
    write(&dir.join("public_body.csv"), "id,name\nb1,Board\n");
    let mut files: Vec<(&str, String)> = vec![
        ("person.csv", "id,name".into()),
        ("company.csv", "id,name,kind".into()),
        ("employment.csv", "person,org,role,start,end".into()),
        ("holds_shares.csv", "holder,company,pct,start,end".into()),
        ("client_of.csv", "client_org,firm,start,end".into()),
        ("office.csv", "person,body,title,start,end".into()),
        ("meeting.csv", "a,b,date".into()),
        ("associate.csv", "a,b".into()),
        ("family.csv", "a,b,kind".into()),
    ];
    let mut add = |file: usize, row: String| files[file].1.push_str(&format!("\n{row}"));
    for i in 0..40 {
        add(0, format!("p{i},P{i}"));
        add(1, format!("c{i},C{i},corp"));
        let (c, f) = (i % 8, 8 + i % 4);
        let end = if i % 3 == 0 { "2015-06-30" } else { "" };
        add(2, format!("p{i},c{c},staff,2010-01-01,{end}"));
        add(2, format!("p{i},c{f},adviser,2012-01-01,2016-01-01"));
        add(3, format!("p{i},c{c},{},2011-01-01,", 20 + i % 30));
        add(
            3,
            format!("c{c},c{},{},2005-01-01,", 12 + i % 5, 30 + i % 50),
        );
        add(4, format!("c{c},c{f},2009-01-01,"));
        if i % 5 == 0 {
            add(5, format!("p{i},b1,minister,2013-01-01,"));
        }
        add(
            6,
            format!(
                "p{},p{},2014-0{}-01",
                i - i % 5,
                (i * 7 + 3) % 40,
                1 + i % 9
            ),
        );
        add(7, format!("p{i},p{}", (i + 1) % 40));
        add(8, format!("p{i},p{},sibling", (i + 2) % 40));
    }
    for (name, text) in &files {
        // Entity files give each id once.
        let again = !matches!(*name, "person.csv" | "company.csv");
        let text = if again {
            twice(text)
        } else {
            format!("{text}\n")
        };
        write(&dir.join(name), &text);
    }
    let case = path_str(&dir);
    for q in ["q1", "q2", "q3", "q4"] {
        let rules = format!("benches/workload/{q}.coi");
        both(&[
            "audit",
            case,
            "--rules",
            &rules,
            "--format",
            "json",
            "--no-timestamp",
        ]);
    }
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_with_help() {
    // `/dev/full` refuses every write with "no space left": the run must say so, with a
    // help line, and end with the usage code, not report success or panic.
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let run = Command::new(env!("CARGO_BIN_EXE_probity"))
        .args(["audit", "cases/uk-ministers", "--format", "markdown"])
        .current_dir(common::root())
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the binary: {e}"));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.starts_with("error: cannot write to standard output")
            && stderr.contains("\n  = help: "),
        "stderr:\n{stderr}"
    );
}
