//! Reports beyond the findings: `probity diff` over two versions of a case (goldens in
//! `tests/golden/diff/`), near misses on the rule pack's near-miss tests, coverage, and
//! `probity graph`.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::path::Path;

use common::{assert_none, golden, probity, probity_with, root};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for e in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let _ = std::fs::copy(e.path(), to.join(e.file_name()));
    }
}

/// Audits `tests/diff/<version>` as `case/` in `dir` (finding ids hash the case path,
/// so both versions must be audited under the same one) into `<version>.json`.
fn audit_version(dir: &Path, version: &str) {
    let case = dir.join("case");
    let _ = std::fs::remove_dir_all(&case);
    copy_dir(&root().join("tests/diff").join(version), &case);
    let rules = root().join("rules");
    let rules = rules.to_string_lossy();
    let run = probity_with(
        &[
            "audit",
            "case",
            "--rules",
            &rules,
            "--format",
            "json",
            "--no-timestamp",
        ],
        |c| {
            c.current_dir(dir);
        },
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    std::fs::write(dir.join(format!("{version}.json")), &run.stdout)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn diff_of_two_versions_of_a_case_matches_its_goldens() {
    let dir = std::env::temp_dir().join(format!("probity-diff-{}", std::process::id()));
    audit_version(&dir, "v1");
    audit_version(&dir, "v2");
    let mut failures = Vec::new();
    for (format, ext) in [("table", "txt"), ("json", "json")] {
        let run = probity_with(&["diff", "v1.json", "v2.json", "--format", format], |c| {
            c.current_dir(&dir);
        });
        assert_eq!(run.code, Some(0), "{}", run.describe());
        let path = root()
            .join("tests/golden/diff")
            .join(format!("v1-v2.{ext}"));
        failures.extend(golden(&path, &run.stdout));
    }
    let same = probity_with(&["diff", "v1.json", "v1.json"], |c| {
        c.current_dir(&dir);
    });
    assert!(
        same.stdout
            .starts_with("0 new, 0 resolved, 0 changed, 6 unchanged"),
        "{}",
        same.describe()
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_none(&failures);
}

#[test]
fn diff_rejects_what_is_not_a_report() {
    // Not JSON: at the file, line and column where the parser stopped, with a help line;
    // both files' problems, not only the first.
    let run = probity(&["diff", "Cargo.toml", "no/such/report.json"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    for want in [
        "error[probity::diff::not_json]: not JSON: expected value",
        " --> Cargo.toml:1:2",
        "error[probity::diff::unreadable_file]: cannot read `no/such/report.json`",
        "= help: give the path of a report written by `probity audit CASE --format json`",
        "= help: compare two reports written by `probity audit CASE --format json`",
    ] {
        assert!(
            run.stderr.contains(want),
            "no `{want}`:\n{}",
            run.describe()
        );
    }
    // JSON that is not a report.
    let dir = std::env::temp_dir().join(format!("probity-diff-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("other.json"), "{\"findings\": []}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let run = probity_with(
        &["diff", "other.json", "other.json", "--error-format", "json"],
        |c| {
            c.current_dir(&dir);
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    let diags: serde_json::Value =
        serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{e}: {}", run.describe()));
    let codes: Vec<&str> = (diags.as_array().into_iter().flatten())
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["probity::diff::not_a_report"; 2],
        "{}",
        run.describe()
    );
}

/// `--exit-code`: 1 when the reports differ, 0 when they agree; without it, 0 either way.
#[test]
fn diff_exit_code_says_whether_the_reports_differ() {
    let dir = std::env::temp_dir().join(format!("probity-diff-exit-{}", std::process::id()));
    audit_version(&dir, "v1");
    audit_version(&dir, "v2");
    for (args, want) in [
        (&["v1.json", "v2.json", "--exit-code"][..], 1),
        (&["v1.json", "v1.json", "--exit-code"][..], 0),
        (&["v1.json", "v2.json"][..], 0),
    ] {
        let mut all = vec!["diff"];
        all.extend_from_slice(args);
        let run = probity_with(&all, |c| {
            c.current_dir(&dir);
        });
        assert_eq!(run.code, Some(want), "{args:?}: {}", run.describe());
        assert!(!run.stdout.is_empty(), "{}", run.describe());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every rule-pack test named as a near miss expects `no R(…)`; each such R must have a
/// near miss with those subjects, naming the condition that failed.
#[test]
fn near_miss_tests_of_the_rule_pack_have_near_misses() {
    let engine = probity::Engine::from_paths(&[root().join("rules")])
        .unwrap_or_else(|f| panic!("{}", f.render()));
    let program = engine.program();
    let case = probity::case::Case::empty("test");
    let mut failures = Vec::new();
    let mut checked = 0;
    // Known gap: here the binding fails a join (the colleague's office is in another body,
    // a variable two atoms share), and leaving out either office atom would unbind its
    // dates, which the date conditions use; no single condition can be dropped.
    let joins = ["colleague_in_another_body_is_a_near_miss"];
    for test in program
        .tests
        .iter()
        .filter(|t| t.name.contains("near_miss") && !joins.contains(&t.name.as_str()))
    {
        let facts = probity::testing::given_facts(engine.sources(), program, test);
        let found = probity::nearmiss::near_misses(
            program,
            engine.sources(),
            &case,
            &facts,
            engine.params(),
            &Default::default(),
        )
        .unwrap_or_else(|d| panic!("{}: {d:?}", test.name));
        for e in test.expects.iter().filter(|e| e.negated) {
            let rel = program.rel(e.rel);
            checked += 1;
            let hit = found
                .iter()
                .filter(|g| g.rule == rel.name)
                .flat_map(|g| &g.items)
                .any(|m| {
                    e.fields
                        .iter()
                        .all(|(i, v)| m.bindings.get(*i).is_some_and(|b| b.value == v.to_string()))
                });
            if !hit {
                failures.push(format!(
                    "{}: no near miss of `{}`; found {:#?}",
                    test.name, rel.name, found
                ));
            }
        }
    }
    assert!(checked >= 10, "only {checked} near-miss expectations");
    assert_none(&failures);
}

#[test]
fn a_meeting_outside_the_office_is_a_near_miss_on_its_date_condition() {
    let run = probity(&[
        "audit",
        "tests/cases/dates",
        "--format",
        "json",
        "--near-misses",
        "--no-timestamp",
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    let groups = doc["near_misses"].as_array().cloned().unwrap_or_default();
    for g in &groups {
        let items = g["items"].as_array().cloned().unwrap_or_default();
        assert!(!items.is_empty() && items.len() <= 10, "{g}");
        for m in &items {
            assert!(
                m["failed"]["at"]
                    .as_str()
                    .is_some_and(|a| a.contains(".coi:")),
                "{m}"
            );
            assert!(
                !m["failed"]["text"].as_str().unwrap_or("").is_empty(),
                "{m}"
            );
        }
    }
}

#[test]
fn coverage_reports_unread_facts_unsourced_entities_and_missing_dates() {
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--format",
        "json",
        "--coverage",
        "--no-timestamp",
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    let cov = &doc["coverage"][0];
    let undated = cov["undated"].as_array().cloned().unwrap_or_default();
    // The article gives no start date for Mandelson's ambassadorship (ties.toml:32).
    assert!(
        undated.iter().any(|u| u["relation"] == "office"
            && u["line"] == 32
            && u["fields"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == "from"))
            && u["needed_by"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == "retained_stake"))),
        "{cov}"
    );
    // Rules that read no `role.from` do not make it needed.
    assert_eq!(cov["unsourced"], serde_json::json!([]));
    // A case with a relation no rule reads: the CSV register's extra file.
    let only = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--rules",
        "rules/interests/retained_stake.coi",
        "--format",
        "json",
        "--coverage",
        "--no-timestamp",
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&only.stdout).unwrap_or_else(|e| panic!("{e}\n{}", only.describe()));
    let unread = doc["coverage"][0]["unread"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rels: Vec<&str> = unread
        .iter()
        .filter_map(|u| u["relation"].as_str())
        .collect();
    assert!(
        rels.contains(&"meeting") && rels.contains(&"client"),
        "{rels:?}"
    );
    assert!(
        !rels.contains(&"holding"),
        "retained_stake reads holdings: {rels:?}"
    );
    let meetings = unread.iter().find(|u| u["relation"] == "meeting");
    assert_eq!(
        meetings.map(|m| m["facts"].clone()),
        Some(serde_json::json!(3))
    );
}

#[test]
fn near_misses_and_coverage_need_a_report_format() {
    let run = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--format",
        "csv",
        "--near-misses",
    ]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
}

#[test]
fn graph_formats_and_neighbourhoods() {
    let case = "cases/uk-us-tech-partnership";
    let mut failures = Vec::new();
    for (args, ext) in [
        (vec!["graph", case, "--format", "dot"], "dot"),
        (vec!["graph", case, "--format", "mermaid"], "mmd"),
        (
            vec![
                "graph",
                case,
                "--format",
                "svg",
                "--around",
                "mandelson",
                "--hops",
                "1",
            ],
            "svg",
        ),
    ] {
        let run = probity(&args);
        assert_eq!(run.code, Some(0), "{}", run.describe());
        let path = root()
            .join("tests/golden/graph")
            .join(format!("flagship.{ext}"));
        failures.extend(golden(&path, &run.stdout));
    }
    let near = probity(&[
        "graph",
        case,
        "--around",
        "Peter Mandelson",
        "--format",
        "dot",
    ]);
    assert!(
        near.stdout
            .contains("\"global_counsel\" [label=\"Global Counsel\"]"),
        "{}",
        near.describe()
    );
    assert!(
        !near.stdout.contains("\"vance\""),
        "vance is not one link from Mandelson"
    );
    let typo = probity(&["graph", case, "--around", "mandelsen"]);
    assert_eq!(typo.code, Some(2));
    assert!(
        typo.stderr.contains("did you mean `mandelson`"),
        "{}",
        typo.describe()
    );
    assert_none(&failures);
}
