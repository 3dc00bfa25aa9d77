//! Differential test of the SQL backend against DuckDB: for every case folder (`cases/`,
//! `tests/cases/`) and every shipped rule file that compiles for DuckDB (plus a case's
//! own `rules/` folder, the fixture tests/sql_duckdb/ and the `--param` runs), and for
//! the `given` facts of every `test` block of those rule files, the facts are written as
//! INSERTs in the representation of docs/scale.md, the compiled script is run by DuckDB
//! (through Python's `duckdb` module), and each rule's subject tuples must equal the
//! native engine's findings (exempted ones included: SQL rule queries do not mark
//! exemptions). What is shared with the PostgreSQL twin (tests/sql_postgres.rs) is in
//! tests/sql_support/.
//!
//! DuckDB is found through `$PROBITY_DUCKDB_PYTHON`, then `python3`; with neither able
//! to `import duckdb` the test prints why it is skipped and passes, unless
//! `$PROBITY_REQUIRE_SQL_ENGINES=1` (as in CI), when it fails.

#![allow(clippy::panic)] // a test reports failure by panicking

mod sql_support;

use std::io::Write;
use std::process::{Command, Stdio};

use probity::sql::Dialect;
use sql_support::{QueryRows, all_jobs, check, engine_missing};

/// Runs jobs read as JSON on stdin (`[{"setup": sql, "queries": [[rule, sql]…]}…]`),
/// each on a fresh in-memory database; prints per job either `{"error": …}` or the
/// rows of each query (`{"rule", "rows": [{column: value}…]}`), dates as `YYYY-MM-DD`,
/// decimals as text.
const RUNNER: &str = r#"
import datetime, decimal, json, sys
import duckdb

def enc(v):
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    return v

out = []
for job in json.load(sys.stdin):
    con = duckdb.connect()
    try:
        con.execute(job["setup"])
        res = []
        for rule, sql in job["queries"]:
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            res.append({"rule": rule,
                        "rows": [{c: enc(v) for c, v in zip(cols, row)}
                                 for row in cur.fetchall()]})
        out.append({"results": res})
    except Exception as e:
        out.append({"error": str(e)})
    con.close()
json.dump(out, sys.stdout)
"#;

/// The first Python that can `import duckdb`, or why there is none.
fn find_python() -> Result<String, String> {
    let mut tried = Vec::new();
    let from_env = std::env::var("PROBITY_DUCKDB_PYTHON").ok();
    if from_env.is_none() {
        tried.push("$PROBITY_DUCKDB_PYTHON (unset)".to_string());
    }
    for py in from_env.into_iter().chain(["python3".to_string()]) {
        let ok = Command::new(&py)
            .args(["-c", "import duckdb"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(py);
        }
        tried.push(format!("`{py}`"));
    }
    Err(format!(
        "no Python that can `import duckdb`; tried {}",
        tried.join(", ")
    ))
}

/// One job's outcome from the runner's JSON.
fn outcome(res: &serde_json::Value) -> Result<Vec<QueryRows>, String> {
    if let Some(e) = res.get("error") {
        return Err(e.as_str().unwrap_or_default().to_string());
    }
    let mut out = Vec::new();
    for q in res["results"].as_array().into_iter().flatten() {
        out.push(QueryRows {
            rule: q["rule"].as_str().unwrap_or_default().to_string(),
            rows: serde_json::from_value(q["rows"].clone())
                .map_err(|e| format!("runner rows: {e}"))?,
        });
    }
    Ok(out)
}

#[test]
fn duckdb_agrees_with_the_native_engine() {
    let python = match find_python() {
        Ok(p) => p,
        Err(why) => return engine_missing("duckdb_agrees_with_the_native_engine", &why),
    };
    let (jobs, skipped) = all_jobs(Dialect::Duckdb);
    let input = serde_json::Value::Array(
        jobs.iter()
            .map(|j| serde_json::json!({"setup": j.setup, "queries": j.queries}))
            .collect(),
    );
    let mut child = Command::new(&python)
        .args(["-c", RUNNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = input.to_string();
    // Written from another thread, so that a runner that answers early cannot block.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("python");
    let written = writer.join().expect("writer");
    assert!(
        out.status.success(),
        "the DuckDB runner failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    written.expect("write jobs to the DuckDB runner");
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("runner output is JSON");
    assert_eq!(results.len(), jobs.len(), "one result per job");
    let outcomes: Vec<_> = results.iter().map(outcome).collect();
    check("DuckDB", &jobs, &outcomes, &skipped);
}
