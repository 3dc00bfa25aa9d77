//! Golden outputs of `probity audit` for every case folder under `cases/` and
//! `tests/cases/`, in every format, and of `probity explain --finding` for every finding.
//!
//! The binary runs in the repository root with relative paths, as a user would, and with
//! `--no-timestamp` so the run manifest is reproducible. Goldens live in
//! `tests/golden/<case-name>/`: `findings.{txt,json,jsonl,csv,md,html}`,
//! `explain/<finding-id>.txt`, and for the flagship `report.{md,html,json}` with near
//! misses and coverage. `UPDATE_GOLDEN=1 cargo test --test golden` rewrites them;
//! review the diff before committing.

#![allow(clippy::panic)] // a test reports failure by panicking

mod common;

use std::path::Path;

use common::html::check_html;
use common::{Run, assert_none, golden, probity, root};

/// (format, golden file extension)
const FORMATS: &[(&str, &str)] = &[
    ("table", "txt"),
    ("json", "json"),
    ("jsonl", "jsonl"),
    ("csv", "csv"),
    ("markdown", "md"),
    ("html", "html"),
];

/// Every case folder (a folder with a `case.toml`), as a path relative to the root.
fn cases() -> Vec<String> {
    let mut out = Vec::new();
    for parent in ["cases", "tests/cases"] {
        let Ok(entries) = std::fs::read_dir(root().join(parent)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().join("case.toml").is_file() {
                out.push(format!("{parent}/{}", e.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

fn case_name(case: &str) -> &str {
    case.rsplit('/').next().unwrap_or(case)
}

fn golden_dir(case: &str) -> std::path::PathBuf {
    root().join("tests/golden").join(case_name(case))
}

fn audit(case: &str, format: &str) -> Run {
    probity(&["audit", case, "--format", format, "--no-timestamp"])
}

/// Checks a run succeeded with nothing on stderr and no absolute path in its output.
fn clean(run: &Run) -> Option<String> {
    let root = root().to_string_lossy().into_owned();
    if run.code != Some(0) {
        Some(format!("expected exit code 0\n{}", run.describe()))
    } else if !run.stderr.is_empty() {
        Some(format!("expected nothing on stderr\n{}", run.describe()))
    } else if run.stdout.contains(&root) {
        Some(format!(
            "the output names the absolute path `{root}`\n{}",
            run.describe()
        ))
    } else {
        None
    }
}

/// The finding ids of a case, from its JSON output.
fn finding_ids(case: &str) -> Result<Vec<String>, String> {
    let run = audit(case, "json");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).map_err(|e| {
        format!(
            "{case}: the JSON output does not parse: {e}\n{}",
            run.describe()
        )
    })?;
    let findings = doc["findings"]
        .as_array()
        .ok_or_else(|| format!("{case}: no `findings` array\n{}", run.describe()))?;
    Ok(findings
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect())
}

#[test]
fn the_case_folders_are_found() {
    let got = cases();
    for want in [
        "cases/uk-ministers",
        "cases/uk-us-tech-partnership",
        "tests/cases/certainty",
        "tests/cases/csv_register",
        "tests/cases/dates",
        "tests/cases/exemptions",
        "tests/cases/same_as",
    ] {
        assert!(got.iter().any(|c| c == want), "no `{want}` in {got:?}");
    }
}

#[test]
fn audit_outputs_match_their_goldens() {
    let mut failures = Vec::new();
    for case in cases() {
        for (format, ext) in FORMATS {
            let run = audit(&case, format);
            if let Some(f) = clean(&run) {
                failures.push(f);
                continue;
            }
            let path = golden_dir(&case).join(format!("findings.{ext}"));
            failures.extend(golden(&path, &run.stdout));
        }
    }
    assert_none(&failures);
}

#[test]
fn two_runs_give_byte_identical_output() {
    let mut failures = Vec::new();
    for case in cases() {
        for (format, _) in FORMATS {
            let (a, b) = (audit(&case, format), audit(&case, format));
            if a.stdout != b.stdout {
                failures.push(format!(
                    "two runs differ\n--- first:\n{}\n--- second:\n{}",
                    a.describe(),
                    b.describe()
                ));
            }
        }
    }
    assert_none(&failures);
}

#[test]
fn every_case_has_findings() {
    // A golden of "no findings" would not show the renderers at work.
    for case in cases() {
        let ids = finding_ids(&case).unwrap_or_else(|e| panic!("{e}"));
        assert!(!ids.is_empty(), "{case}: no findings");
    }
}

#[test]
fn explain_works_for_every_finding() {
    let mut failures = Vec::new();
    for case in cases() {
        let ids = match finding_ids(&case) {
            Ok(ids) => ids,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for id in ids {
            let run = probity(&["explain", &case, "--finding", &id]);
            if let Some(f) = clean(&run) {
                failures.push(f);
                continue;
            }
            if !run.stdout.contains(&format!("id: {id}")) {
                failures.push(format!(
                    "the explanation does not name its id\n{}",
                    run.describe()
                ));
            }
            let path = golden_dir(&case).join("explain").join(format!("{id}.txt"));
            failures.extend(golden(&path, &run.stdout));
        }
    }
    assert_none(&failures);
}

#[test]
fn a_unique_id_prefix_explains_the_same_finding() {
    let case = "cases/uk-us-tech-partnership";
    let ids = finding_ids(case).unwrap_or_else(|e| panic!("{e}"));
    let Some(id) = ids.first() else {
        panic!("{case}: no findings");
    };
    let full = probity(&["explain", case, "--finding", id]);
    let prefix = probity(&["explain", case, "--finding", &id[..8]]);
    assert_none(
        &common::diff("explain by an 8-digit prefix", &full.stdout, &prefix.stdout)
            .into_iter()
            .collect::<Vec<_>>(),
    );
}

#[test]
fn no_golden_is_left_over() {
    // A golden for a case or finding that no longer exists would never be checked.
    let mut failures = Vec::new();
    let names: Vec<String> = cases().iter().map(|c| case_name(c).to_string()).collect();
    let dir = root().join("tests/golden");
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // `diff/` and `graph/` hold the goldens of tests/reports.rs, `sql/` of tests/sql.rs.
        if !names.contains(&name) && !["diff", "graph", "sql"].contains(&name.as_str()) {
            failures.push(format!("tests/golden/{name}: no case folder of that name"));
        }
    }
    for case in cases() {
        let ids = finding_ids(&case).unwrap_or_default();
        let explain = golden_dir(&case).join("explain");
        for e in std::fs::read_dir(&explain).into_iter().flatten().flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let id = file.trim_end_matches(".txt");
            if !ids.iter().any(|i| i == id) {
                failures.push(format!(
                    "{}: no finding `{id}` in {case} (delete the file)",
                    Path::new("tests/golden")
                        .join(case_name(&case))
                        .join("explain")
                        .join(&file)
                        .display()
                ));
            }
        }
    }
    assert_none(&failures);
}

/// Every object key in a JSON value, except the severities of `summary`.
fn keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                out.insert(k.clone());
                if k != "summary" {
                    keys(x, out);
                }
            }
        }
        serde_json::Value::Array(xs) => xs.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn every_json_field_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/findings-schema.md"))
        .unwrap_or_else(|e| panic!("docs/findings-schema.md: {e}"));
    let mut found = std::collections::BTreeSet::new();
    for case in cases() {
        let run = audit(&case, "json");
        let v: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{case}: {e}\n{}", run.describe()));
        keys(&v, &mut found);
    }
    let full = probity(&[
        "audit",
        "cases/uk-us-tech-partnership",
        "--format",
        "json",
        "--near-misses",
        "--coverage",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&full.stdout).unwrap_or_else(|e| panic!("{e}\n{}", full.describe()));
    keys(&v, &mut found);
    assert!(
        found.contains("derivation") && found.contains("note") && found.contains("generated"),
        "{found:?}"
    );
    let missing: Vec<&String> = found
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields in the JSON output that docs/findings-schema.md does not describe: {missing:?}"
    );
    assert!(doc.contains(probity::findings::SCHEMA_VERSION));
}

const FLAGSHIP: &str = "cases/uk-us-tech-partnership";

#[test]
fn the_flagship_report_with_near_misses_and_coverage_matches_its_goldens() {
    let mut failures = Vec::new();
    for (format, ext) in [
        ("markdown", "md"),
        ("html", "html"),
        ("json", "json"),
        ("table", "txt"),
    ] {
        let run = probity(&[
            "audit",
            FLAGSHIP,
            "--format",
            format,
            "--no-timestamp",
            "--near-misses",
            "--coverage",
        ]);
        if let Some(f) = clean(&run) {
            failures.push(f);
            continue;
        }
        let path = golden_dir(FLAGSHIP).join(format!("report.{ext}"));
        failures.extend(golden(&path, &run.stdout));
    }
    assert_none(&failures);
}

#[test]
fn every_html_report_is_well_formed_with_footnotes_and_pictures() {
    let mut failures = Vec::new();
    for case in cases() {
        let run = audit(&case, "html");
        let json = audit(&case, "json");
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap_or_default();
        let count = |k: &str| doc[k].as_array().map_or(0, Vec::len);
        let pictures = count("findings") + count("exempted");
        if let Err(e) = check_html(&run.stdout, pictures) {
            failures.push(format!("{case}: {e}"));
        }
        for forbidden in ["<link", "src=\"http", "@import", "url(http"] {
            if run.stdout.contains(forbidden) {
                failures.push(format!("{case}: the HTML report loads `{forbidden}`"));
            }
        }
    }
    assert_none(&failures);
}

#[test]
fn the_manifest_names_every_input_and_the_time_unless_told_not_to() {
    let run = probity(&["audit", FLAGSHIP, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let m = &doc["manifest"];
    assert!(
        m["generated"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{m}"
    );
    let files: Vec<&str> = m["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        files.contains(&"cases/uk-us-tech-partnership/case.toml"),
        "{files:?}"
    );
    assert!(
        files.contains(&"cases/uk-us-tech-partnership/ties.toml"),
        "{files:?}"
    );
    let rules = m["rules"].as_array().map_or(0, Vec::len);
    assert!(rules > 5, "{m}");
    let quiet = audit(FLAGSHIP, "json");
    assert!(!quiet.stdout.contains("\"generated\""));
    for format in ["markdown", "html"] {
        let run = probity(&["audit", FLAGSHIP, "--format", format]);
        assert!(
            run.stdout.contains("enerated"),
            "{format}: no time of the run"
        );
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    let ok = "<!DOCTYPE html><html><body><a href=\"#x\">a</a><p id=\"x\">b<br></p></body></html>";
    assert_eq!(check_html(ok, 0), Ok(()));
    let bad = "<!DOCTYPE html><html><body><p><b>x</p></b></body></html>";
    assert!(check_html(bad, 0).is_err());
    let dangling = "<!DOCTYPE html><html><a href=\"#nowhere\">a</a></html>";
    assert!(check_html(dangling, 0).is_err());
}
