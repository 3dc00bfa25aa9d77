//! `probity import` and `*.ftm.jsonl` case files: round trips, CSV mappings, diagnostics.
//!
//! Fixtures live in `tests/ftm/`: `partnership/` (every mapped FtM schema and the
//! awkward values), `bad/` (broken lines), `csv/` (a register and mapping files).

#![allow(clippy::panic, clippy::unwrap_used)] // a test reports failure by panicking

mod common;

use std::path::PathBuf;

use common::{Run, probity};

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probity-import-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The findings of an audit as (rule, subjects, message, certainty, period, sources).
fn findings(run: &Run) -> Vec<String> {
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let list = json["findings"].as_array().cloned().unwrap_or_default();
    let mut out: Vec<String> = list
        .iter()
        .map(|f| {
            // Sources come in evidence order, which follows file names: compare them as a set.
            let mut sources: Vec<String> = f["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x.to_string())
                .collect();
            sources.sort();
            let keep = ["rule", "bindings", "message", "certainty", "period"];
            let mut parts: Vec<String> = keep.iter().map(|k| f[k].to_string()).collect();
            parts.push(sources.join(","));
            parts.join(" | ")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn ftm_round_trip_finds_the_same() {
    let dir = scratch("round-trip");
    let run = probity(&[
        "import",
        "ftm",
        "tests/ftm/partnership/entities.ftm.jsonl",
        "--into",
        &s(&dir),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(
        run.stderr.contains("probity::case::ftm_kept"),
        "{}",
        run.describe()
    );
    assert!(
        run.stderr.contains("imported 37 facts"),
        "{}",
        run.describe()
    );
    let direct = probity(&[
        "audit",
        "tests/ftm/partnership",
        "--rules",
        "rules",
        "--format",
        "json",
    ]);
    let imported = probity(&["audit", &s(&dir), "--rules", "rules", "--format", "json"]);
    let (a, b) = (findings(&direct), findings(&imported));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a, b);
    assert!(a.iter().any(|f| f.contains("retained_stake")));
    // Deterministic: a second import writes the same bytes.
    let again = scratch("round-trip-again");
    let run2 = probity(&[
        "import",
        "ftm",
        "tests/ftm/partnership/entities.ftm.jsonl",
        "--into",
        &s(&again),
    ]);
    assert_eq!(run2.code, Some(0));
    for f in [
        "case.toml",
        "holding.csv",
        "meeting.csv",
        "ftm_fact.csv",
        "person.csv",
    ] {
        let x = std::fs::read(dir.join(f)).unwrap();
        assert_eq!(x, std::fs::read(again.join(f)).unwrap(), "{f}");
    }
    // Without --force an import does not replace files.
    let run3 = probity(&[
        "import",
        "ftm",
        "tests/ftm/partnership/entities.ftm.jsonl",
        "--into",
        &s(&dir),
    ]);
    assert_eq!(run3.code, Some(2));
    assert!(run3.stderr.contains("--force"), "{}", run3.describe());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn ftm_imported_files_hold_every_schema() {
    let dir = scratch("schemata");
    let run = probity(&[
        "import",
        "ftm",
        "tests/ftm/partnership/entities.ftm.jsonl",
        "--into",
        &s(&dir),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let has = |f: &str, line: &str| {
        assert!(
            read(f).lines().any(|l| l == line),
            "{f}: no `{line}` in\n{}",
            read(f)
        )
    };
    has(
        "person.csv",
        "ann,Ann Envoy,A. Envoy;Annie,gb,1953-10-21,ftm-1,,",
    );
    has(
        "org.csv",
        "gc,Global Counsel Ltd,company,,gb,lobbying,ftm-2,,",
    );
    has("org.csv", "fco,Foreign Office,public body,,,,,,");
    has("org.csv", "trust,Envoy Family Trust,legal entity,,,,,,");
    has(
        "holding.csv",
        "trust,gc,shares,25,,2012-03,,,,\"percentage `25-50%` is a range; its lower end, 25, is used\"",
    );
    has(
        "role.csv",
        "ann,gc,director,directorship,2010-01-05,2025-02-10,ftm-2,,",
    );
    has("role.csv", "cal,pal,chief executive,employment,2003,,,,");
    has("role.csv", "ben,gc,partner,membership,2010-01,2011,,,");
    has("client.csv", "gc,pal,2024-06,,ftm-1,,");
    has("associate.csv", "ann,ben,co-founder,,,,,");
    has("family.csv", "ann,dee,sister,,,,,");
    has("payment.csv", "pal,gc,250000,GBP,2025-03-15,retainer,,,");
    has(
        "office.csv",
        "ann,Ambassador to the United States,fco,2025-02-10,2025-09,,,",
    );
    has(
        "meeting.csv",
        "ev-1,2025-05-08,ann;cal;fco,Dinner at the embassy,Washington,ftm-1,,",
    );
    has("link.csv", "cal,ben,old friends,1990,,,,");
    has("ftm_fact.csv", "ves-1,Vessel,flag,pa,,,");
    has("ftm_fact.csv", "dir-2,Directorship,director,trust,,,");
    has("ftm_fact.csv", "ev-2,Event,name,Undated call,,,");
    has("ftm_fact.csv", "ben,Person,email,ben@example.org,ftm-1,,");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ftm_errors_point_at_the_line() {
    let run = probity(&["audit", "tests/ftm/bad", "--rules", "rules"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    for want in [
        "error[probity::case::bad_json]",
        "tests/ftm/bad/broken.ftm.jsonl:2:1",
        "error[probity::case::missing_field]: `FtM entity` fact without `id`",
        "broken.ftm.jsonl:3:1",
        "error[probity::case::unknown_entity]: unknown entity `nobody`",
        "broken.ftm.jsonl:4:1",
        "error[probity::case::bad_date]: bad date `2020-13`",
        "error[probity::case::duplicate_id]: entity id `ann` is defined twice",
        "broken.ftm.jsonl:8:1",
        "5 errors",
    ] {
        assert!(
            run.stderr.contains(want),
            "no `{want}` in\n{}",
            run.describe()
        );
    }
    let dir = scratch("bad");
    let imp = probity(&[
        "import",
        "ftm",
        "tests/ftm/bad/broken.ftm.jsonl",
        "--into",
        &s(&dir),
    ]);
    assert_eq!(imp.code, Some(2), "{}", imp.describe());
    assert!(
        imp.stderr.contains("broken.ftm.jsonl:4:1"),
        "{}",
        imp.describe()
    );
    assert!(!dir.join("person.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn csv_import(map: &str, into: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["import", "csv", "tests/ftm/csv/psc.csv", "--map", map];
    let into = s(into);
    args.extend(["--into", &into]);
    args.extend(extra);
    probity(&args)
}

#[test]
fn csv_map_loads_good_rows_and_reports_bad_ones() {
    let dir = scratch("csv");
    let run = csv_import("tests/ftm/csv/psc.map.toml", &dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    for want in [
        "row 3: `from` expects a date in the form `%d/%m/%Y`, found `31/02/2021`",
        "tests/ftm/csv/psc.csv:4:57",
        "row 4: `holding` fact without `holder`",
        "tests/ftm/csv/psc.csv:5:10",
        "imported 3 facts, 2 bad rows left out",
    ] {
        assert!(
            run.stderr.contains(want),
            "no `{want}` in\n{}",
            run.describe()
        );
    }
    let holding = std::fs::read_to_string(dir.join("holding.csv")).unwrap();
    let want = "holder,asset,kind,pct,value,from,until,source,status,note\n\
        person-ann-envoy,gb-coh-01234567,shares,25,,2010-03-05,,psc,,\n\
        person-ben-founder,gb-coh-01234567,shares,75,,2012-03-05,2020-12-31,psc,,\"founder, later sold\"\n\
        person-dee-relative,gb-coh-07654321,shares,,,2023-06-01,,psc,,\n";
    assert_eq!(holding, want);
    let case = std::fs::read_to_string(dir.join("case.toml")).unwrap();
    assert!(
        case.contains("id = \"psc\"") && case.contains("[case]"),
        "{case}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_map_max_errors_writes_nothing() {
    let dir = scratch("csv-max");
    let run = csv_import("tests/ftm/csv/psc.map.toml", &dir, &["--max-errors", "1"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert!(
        run.stderr.contains("more than 1 bad rows"),
        "{}",
        run.describe()
    );
    assert!(!dir.join("holding.csv").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_map_is_checked_before_rows() {
    let dir = scratch("csv-bad-map");
    let cases: [(&str, &[&str]); 3] = [
        (
            "tests/ftm/csv/bad.map.toml",
            &[
                "error[probity::case::unknown_relation]: unknown relation `holdings`",
                "bad.map.toml:1:12",
                "did you mean `holding`?",
            ],
        ),
        (
            "tests/ftm/csv/bad_fields.map.toml",
            &[
                "`a field spec` has no field `prefx`",
                "bad_fields.map.toml:5:38",
                "`pct` is not a date field",
                "`holding` fact without `asset`",
            ],
        ),
        (
            "tests/ftm/csv/bad_columns.map.toml",
            &[
                "error[probity::import::unknown_column]: `tests/ftm/csv/psc.csv` has no column `nme`",
                "bad_columns.map.toml:4:10",
                "did you mean `name`?",
                "bad date `yesterday`",
                "bad_columns.map.toml:6:18",
            ],
        ),
    ];
    for (map, wants) in cases {
        let run = csv_import(map, &dir, &[]);
        assert_eq!(run.code, Some(2), "{}", run.describe());
        for want in wants {
            assert!(
                run.stderr.contains(want),
                "no `{want}` in\n{}",
                run.describe()
            );
        }
        assert!(!run.stderr.contains("row "), "{}", run.describe());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
