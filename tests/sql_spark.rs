//! Syntax test of the SQL backend's Spark dialect with Spark's own parser: every job the
//! DuckDB and PostgreSQL differential tests run (every shipped rule file that compiles
//! for Spark over every case folder and every `test` block's facts, each case's own
//! `rules/`, the fixture tests/sql_duckdb/ and the `--param` runs) is compiled with
//! `--dialect spark`, facts and all, cut into statements, and each statement is parsed
//! by the SQL parser of a local Spark session (PySpark, `sessionState().sqlParser()`):
//! what it accepts is what `spark-sql -f` reads. No cluster is reachable here, so the
//! statements are parsed, not run.
//!
//! Spark is found through `$PROBITY_SPARK_PYTHON` (a Python that can `import pyspark`,
//! with Java on the PATH); without it the test prints why it is skipped and passes,
//! unless `$PROBITY_REQUIRE_SQL_ENGINES=1` (as in CI), when it fails.

#![allow(clippy::panic)] // a test reports failure by panicking

mod sql_support;

use std::io::Write;
use std::process::{Command, Stdio};

use probity::sql::Dialect;
use sql_support::{all_jobs_of, engine_missing};

/// Reads `[[label, statement]…]` as JSON on stdin, parses each statement with Spark's
/// parser, and prints `[[label, error]…]` for those it rejects.
const PARSER: &str = r#"
import json, sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[1]")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.warehouse.dir", sys.argv[1])
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
parser = spark._jsparkSession.sessionState().sqlParser()
bad = []
for label, stmt in json.load(sys.stdin):
    try:
        parser.parsePlan(stmt)
    except Exception as e:
        bad.append([label, str(e).split("\n== SQL")[0][:600]])
json.dump(bad, sys.stdout)
spark.stop()
"#;

/// The statements of a Spark script: cut at `;` outside string literals (`'…'`, `"…"`,
/// with backslash escapes, as Spark reads them), `` `identifiers` `` and `--` comments;
/// comment-only pieces dropped.
fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = script.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == '\\' && q != '`' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    // A comment to the end of the line.
                    for n in chars.by_ref() {
                        if n == '\n' {
                            cur.push('\n');
                            break;
                        }
                    }
                }
                ';' => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            },
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A Python that can `import pyspark` (with Java to run it), or why there is none.
fn find_python() -> Result<String, String> {
    let Ok(py) = std::env::var("PROBITY_SPARK_PYTHON") else {
        return Err("$PROBITY_SPARK_PYTHON is unset".into());
    };
    let ok = Command::new(&py)
        .args(["-c", "import pyspark"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("`{py}` cannot `import pyspark`"));
    }
    let java = Command::new("java")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !java {
        return Err("no `java` on the PATH (PySpark needs a JVM)".into());
    }
    Ok(py)
}

/// The rejected statements of `items` (label, statement), by Spark's parser.
fn parse_all(py: &str, items: &[(String, String)]) -> Vec<(String, String)> {
    let warehouse = std::env::temp_dir().join(format!("probity-spark-{}", std::process::id()));
    let mut child = Command::new(py)
        .args(["-c", PARSER, &warehouse.to_string_lossy()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    let input = serde_json::to_string(items).expect("JSON");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("the parser's output");
    writer.join().expect("writer").expect("write to the parser");
    let _ = std::fs::remove_dir_all(&warehouse);
    assert!(
        out.status.success(),
        "the Spark parser run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "bad output from the Spark parser ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn statements_are_cut_outside_quotes_and_comments() {
    let script = "-- a; comment\nCREATE TABLE `a;b` (x STRING);\nINSERT INTO t VALUES ('x;\\'y', \"z;\");\n-- end\n";
    assert_eq!(
        statements(script),
        vec![
            "CREATE TABLE `a;b` (x STRING)",
            "INSERT INTO t VALUES ('x;\\'y', \"z;\")"
        ]
    );
}

#[test]
fn spark_output_parses_with_sparks_own_parser() {
    let py = match find_python() {
        Ok(py) => py,
        Err(why) => return engine_missing("sql_spark", &why),
    };
    let (jobs, skipped) = all_jobs_of(Dialect::Spark, false);
    let mut items: Vec<(String, String)> = Vec::new();
    for job in &jobs {
        for (k, stmt) in statements(&job.setup).into_iter().enumerate() {
            items.push((format!("{} (setup statement {})", job.label, k + 1), stmt));
        }
        for (rule, sql) in &job.queries {
            for stmt in statements(sql) {
                items.push((format!("{} (query of {rule})", job.label), stmt));
            }
        }
    }
    // Controls: statements Spark must reject, so a parser that accepts anything (or a
    // run that parses nothing) cannot pass.
    let controls = [
        "CREATE TABLE t (a STRING,",
        "SELECT a FROM t WHERE (a = 1",
        "CREATE OR REPLACE TEMPORARY VIEW v AS SELECT DISTINCT a FROM t JOIN",
    ];
    for c in controls {
        items.push((format!("control: {c}"), c.to_string()));
    }
    let rejected = parse_all(&py, &items);
    let (controls_rejected, bad): (Vec<_>, Vec<_>) = rejected
        .into_iter()
        .partition(|(l, _)| l.starts_with("control: "));
    assert_eq!(
        controls_rejected.len(),
        controls.len(),
        "the Spark parser accepted a control: {controls_rejected:?}"
    );
    let report: String = bad
        .iter()
        .map(|(label, err)| format!("\n{label}:\n  {err}\n"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} Spark statements do not parse:{report}",
        bad.len(),
        items.len() - controls.len()
    );
    eprintln!(
        "sql_spark: {} statements of {} jobs parsed by Spark; not compiled for Spark: {}",
        items.len() - controls.len(),
        jobs.len(),
        skipped.len()
    );
}
