//! Tests of the SQL backend's Spark dialect on a local Spark (the pip `pyspark` package),
//! over the jobs of the DuckDB and PostgreSQL differential tests (tests/sql_support/):
//! every shipped rule file that compiles for Spark over every case folder and every
//! `test` block's facts, each case's own `rules/`, the fixture's constructs.coi (the
//! part of tests/sql_duckdb/rules Spark compiles) and the `--param` runs, each compiled
//! with `--dialect spark`, facts and all.
//!
//! - `spark_output_parses_with_sparks_own_parser`: every statement of every job (1,342
//!   of 103 jobs today) parsed by the SQL parser of a local Spark session (PySpark,
//!   `sessionState().sqlParser()`), with malformed controls that must be rejected.
//! - `spark_sql_runs_the_compiled_rules`: the scripts submitted to Spark's command-line
//!   client, `spark-sql -f`, in one run on `local[2]` (each job in a database of its
//!   own: tables, views, the facts' INSERTs, then each rule query as compiled, wrapped to
//!   print its rows as one line of JSON), and each rule's subject tuples compared with
//!   the native engine's findings (exempted ones included). It runs every job where the
//!   native engine finds something and every `test` block's facts (near misses
//!   included), and leaves out, for time, the case folders where the native engine
//!   finds nothing for a rule set: 58 jobs, 163 rule queries, 788 compiled statements
//!   (962 with a marker, a database and a `USE` per job), 147 rule × facts comparisons
//!   (292 native tuples) today; about 95 s on 2 cores (JVM start-up and warm-up are a
//!   third of it), 115-120 s while the parse test runs beside it.
//!
//! Spark is found through `$PROBITY_SPARK_PYTHON` (a Python that can `import pyspark`,
//! with Java on the PATH); `spark-sql` through `$PROBITY_SPARK_SQL`, else in that
//! Python's pyspark package (`pyspark/bin/spark-sql`). Without them the tests print why
//! they are skipped and pass, unless `$PROBITY_REQUIRE_SQL_ENGINES=1` (as in CI), when
//! they fail.

#![allow(clippy::panic)] // a test reports failure by panicking

mod sql_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use probity::ir::{Program, Type};
use probity::sql::Dialect;
use sql_support::{Job, Outcome, QueryRows, Row, all_jobs_of, check, columns, engine_missing};

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
    java()?;
    Ok(py)
}

/// Whether there is a JVM for Spark: `$JAVA_HOME`, or `java` on the PATH.
fn java() -> Result<(), String> {
    let java = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin").join("java"))
        .unwrap_or_else(|| PathBuf::from("java"));
    let ok = Command::new(&java)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "cannot run `{}` (Spark needs a JVM)",
            java.display()
        ))
    }
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

/// The `spark-sql` launcher: `$PROBITY_SPARK_SQL`, else `bin/spark-sql` inside the
/// pyspark package that `$PROBITY_SPARK_PYTHON` imports; or why there is none. A
/// `$PROBITY_SPARK_SQL` that names no file is a failure, not a skip.
fn find_spark_sql() -> Result<PathBuf, String> {
    let launcher = match std::env::var_os("PROBITY_SPARK_SQL") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "$PROBITY_SPARK_SQL is set but names no file: {}",
                p.display()
            );
            p
        }
        None => {
            let py = find_python().map_err(|e| format!("$PROBITY_SPARK_SQL is unset and {e}"))?;
            let out = Command::new(&py)
                .args([
                    "-c",
                    "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
                ])
                .output()
                .map_err(|e| format!("cannot run `{py}`: {e}"))?;
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let p = Path::new(&dir).join("bin").join("spark-sql");
            if !p.is_file() {
                return Err(format!(
                    "no `spark-sql` in {py}'s pyspark ({})",
                    p.display()
                ));
            }
            p
        }
    };
    java()?;
    Ok(launcher)
}

/// A rule query wrapped to print its rows as one line of JSON: an array of objects of
/// the rule's subject columns (its `_fact` columns left out), numbers as their decimal
/// text (so no digit is lost), dates as `YYYY-MM-DD`, none as null. Tabs and newlines in
/// text are escaped, so the line is always one line, whatever the facts hold.
fn as_json(program: &Program, rule: &str, query: &str) -> String {
    let d = Dialect::Spark;
    let mut cells = Vec::new();
    if let Some(r) = program.rules.iter().find(|r| r.name == rule) {
        let rel = program.rel(r.rel);
        for (i, f) in rel.fields.iter().enumerate() {
            for c in columns(rel, i) {
                let col = format!("`probity rows`.{}", d.ident(&c));
                let v = if f.ty == Type::Number {
                    format!("CAST({col} AS STRING)")
                } else {
                    col
                };
                cells.push(format!("{}, {v}", d.text(&c)));
            }
        }
    }
    let q = query.trim_end().trim_end_matches(';');
    format!(
        "SELECT to_json(collect_list(named_struct({})), map('ignoreNullFields', 'false')) \
         AS `probity json`\nFROM (\n{q}\n) AS `probity rows`;\n",
        cells.join(", ")
    )
}

/// The line printed before job `n`'s statements.
fn marker(n: usize) -> String {
    format!("probity:job:{n}")
}

/// The script of `jobs` (numbered from `first`): each job in a database of its own,
/// after a marker row; then its setup and its queries, each printing one line.
fn spark_script(jobs: &[Job], first: usize) -> String {
    let mut s = String::new();
    for (k, job) in jobs.iter().enumerate() {
        let n = first + k;
        s.push_str(&format!(
            "SELECT '{}';\nCREATE DATABASE `probity_job_{n}`;\nUSE `probity_job_{n}`;\n",
            marker(n)
        ));
        s.push_str(&job.setup);
        for (rule, q) in &job.queries {
            s.push_str(&as_json(&job.program, rule, q));
        }
    }
    s
}

/// Spark's stderr without its chatter (timings, warnings, log set-up).
fn spark_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !(l.starts_with("Time taken:")
                || l.contains("WARN")
                || l.starts_with("Using Spark's default log4j")
                || l.starts_with("Setting default log level")
                || l.starts_with("To adjust logging level"))
        })
        .collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A private folder for one test run's warehouses, temporary files and logs, removed
/// when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `jobs[from..]` in one `spark-sql -f` in folder `dir` (its warehouse and
/// temporary files): the outcomes of the jobs it got through, up to and including the
/// one it stopped at if it stopped at an error.
fn run_spark_sql(launcher: &Path, dir: &Path, jobs: &[Job], from: usize) -> Vec<Outcome> {
    let script = dir.join(format!("jobs-from-{from}.sql"));
    std::fs::write(&script, spark_script(&jobs[from..], from)).expect("write the script");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("temporary folder");
    let out = Command::new(launcher)
        .current_dir(dir)
        .args(["--master", "local[2]", "--driver-java-options"])
        // Spark reads the script and prints rows in the JVM's default charset.
        .arg(format!(
            "-Dfile.encoding=UTF-8 -Dsun.stdout.encoding=UTF-8 -Dsun.stderr.encoding=UTF-8 \
             -Djava.io.tmpdir={}",
            tmp.display()
        ))
        .args([
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.catalogImplementation=in-memory",
            "--conf",
        ])
        .arg(format!(
            "spark.sql.warehouse.dir={}",
            dir.join("warehouse").display()
        ))
        .args(["--conf", "spark.sql.shuffle.partitions=2", "-S", "-f"])
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", launcher.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The lines printed after each job's marker, for the jobs whose marker came.
    let mut lines: Vec<Vec<&str>> = Vec::new();
    for line in stdout.lines() {
        if line == marker(from + lines.len()) {
            lines.push(Vec::new());
        } else if let Some(last) = lines.last_mut() {
            last.push(line);
        } else {
            panic!(
                "spark-sql printed {line:?} before the first job ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(
        !lines.is_empty(),
        "spark-sql ran no job ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped = (!out.status.success()).then(|| lines.len() - 1);
    let seen = lines.len();
    let mut outcomes: Vec<Outcome> = jobs[from..]
        .iter()
        .zip(lines)
        .enumerate()
        .map(|(k, (job, lines))| {
            if stopped == Some(k) {
                let place = match (lines.len(), job.queries.get(lines.len())) {
                    (0, None) => "in the job's setup (tables, views, facts)".to_string(),
                    (_, None) => "after the job's last query".to_string(),
                    (n, Some((rule, q))) => format!(
                        "{}at the query of `{rule}`:\n{}",
                        if n == 0 {
                            "in the job's setup (tables, views, facts) or "
                        } else {
                            ""
                        },
                        as_json(&job.program, rule, q)
                    ),
                };
                return Err(format!(
                    "spark-sql stopped ({}) {place}\n{}",
                    out.status,
                    spark_error(&String::from_utf8_lossy(&out.stderr))
                ));
            }
            if lines.len() != job.queries.len() {
                return Err(format!(
                    "expected {} lines (one per rule query), got {}: {lines:?}",
                    job.queries.len(),
                    lines.len()
                ));
            }
            job.queries
                .iter()
                .zip(lines)
                .map(|((rule, _), line)| {
                    let rows: Vec<Row> = serde_json::from_str(line).map_err(|e| {
                        format!("rows of `{rule}` are not a JSON array of objects ({e}): {line}")
                    })?;
                    Ok(QueryRows {
                        rule: rule.clone(),
                        rows,
                    })
                })
                .collect()
        })
        .collect();
    if out.status.success() {
        // A run that ended well ran every job: one whose marker never came is a failure.
        outcomes.resize_with(jobs.len() - from, || {
            Err(format!(
                "spark-sql ended well but printed no marker for this job (only for {seen} of {})",
                jobs.len() - from
            ))
        });
    }
    outcomes
}

#[test]
fn spark_sql_runs_the_compiled_rules() {
    const TEST: &str = "spark_sql_runs_the_compiled_rules";
    /// `spark-sql` runs at most: after one that stopped at an error, a fresh one runs
    /// the jobs that follow (starting the JVM again costs some 15 s).
    const MAX_RUNS: usize = 3;
    let launcher = match find_spark_sql() {
        Ok(l) => l,
        Err(why) => return engine_missing(TEST, &why),
    };
    let start = std::time::Instant::now();
    // Every job with a finding, and every `test` block's facts (their near misses are
    // the negative controls); a case folder where the native engine finds nothing for
    // the rules is left out, for time (its statements are parsed above).
    let (all, mut skipped) = all_jobs_of(Dialect::Spark, false);
    let (jobs, left): (Vec<Job>, Vec<Job>) = all
        .into_iter()
        .partition(|j| j.from_test || j.native.values().any(|t| !t.is_empty()));
    for j in &left {
        skipped.push(format!(
            "{}: no native finding in this case folder (not run on Spark, for time)",
            j.label
        ));
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let scratch = Scratch(
        std::env::temp_dir().join(format!("probity-spark-sql-{}-{stamp}", std::process::id())),
    );
    std::fs::create_dir_all(&scratch.0).expect("scratch folder");
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut runs = 0;
    while outcomes.len() < jobs.len() {
        if runs == MAX_RUNS {
            let why = format!("not run: spark-sql stopped at an error {MAX_RUNS} times before");
            outcomes.resize_with(jobs.len(), || Err(why.clone()));
            break;
        }
        runs += 1;
        let from = outcomes.len();
        outcomes.extend(run_spark_sql(&launcher, &scratch.0, &jobs, from));
    }
    let compiled: usize = jobs
        .iter()
        .map(|j| statements(&j.setup).len() + j.queries.len())
        .sum();
    let queries: usize = jobs.iter().map(|j| j.queries.len()).sum();
    println!(
        "spark-sql: {} jobs ({} left out), {queries} rule queries, {compiled} compiled \
         statements ({} with each job's marker, database and USE), in {runs} run(s) of `{} \
         -f`, {:.1} s",
        jobs.len(),
        left.len(),
        compiled + 3 * jobs.len(),
        launcher.display(),
        start.elapsed().as_secs_f64()
    );
    check("Spark SQL", &jobs, &outcomes, &skipped);
}
