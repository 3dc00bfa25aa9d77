//! Differential test of the SQL backend against a real PostgreSQL server: the twin of
//! tests/sql_duckdb.rs, over the same rule sets and facts (tests/sql_support/), with the
//! script compiled by `--dialect postgres` and run by the `psql` client.
//!
//! The server is named by `$PROBITY_PG_URL` (a libpq URL such as
//! `postgresql://probity@127.0.0.1:5433/probity`); the role needs to create schemas in
//! that database. Each job runs in one transaction in a schema of its own
//! (`probity_diff_<pid>_<time>_<job>`), rolled back at the end, so runs never collide
//! and leave nothing behind. Unset, the test prints why it is skipped and passes, unless
//! `$PROBITY_REQUIRE_SQL_ENGINES=1` (as in CI), when it fails; set, a server that cannot
//! be reached is a failure.

#![allow(clippy::panic)] // a test reports failure by panicking

mod sql_support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use probity::sql::Dialect;
use sql_support::{Job, Outcome, QueryRows, all_jobs, check, engine_missing};

const URL_ENV: &str = "PROBITY_PG_URL";

/// The session's time zone: one that skipped a calendar day (1994-12-31), so SQL whose
/// dates pass through `timestamp with time zone` gives other days than the native engine.
/// The compiled SQL must not depend on the server's or the session's zone.
const TIME_ZONE: &str = "Pacific/Kiritimati";

/// psql sessions at once (the server does the work; CI has 2 cores).
const WORKERS: usize = 3;

/// Runs `psql` on the server with `script` on stdin: no psqlrc, quiet, unaligned rows
/// without headers, stopping at the first error, in UTF-8.
fn psql(url: &str, script: &str) -> std::io::Result<Output> {
    let mut child = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-f",
            "-",
        ])
        .env("PGCLIENTENCODING", "UTF8")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin");
    let text = script.to_string();
    // Written from another thread, so that psql's output cannot block its input.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output()?;
    // A psql that stopped early closes its input: its own error says why.
    let _ = writer.join();
    Ok(out)
}

/// A rule query wrapped to return its rows as one line of JSON: an array of objects
/// (column name to value), numbers as their decimal text so no digit is lost, dates as
/// `YYYY-MM-DD`. The aliases hold a space, so no column of the query can shadow them.
fn as_json(query: &str) -> String {
    let q = query.trim_end().trim_end_matches(';');
    format!(
        "SELECT COALESCE(jsonb_agg(\"probity json\"), '[]'::jsonb) FROM (\n\
         SELECT (SELECT jsonb_object_agg(\"probity cell\".key, \
         CASE jsonb_typeof(\"probity cell\".value) \
         WHEN 'number' THEN to_jsonb(\"probity cell\".value #>> '{{}}') \
         ELSE \"probity cell\".value END) \
         FROM jsonb_each(to_jsonb(\"probity row\")) AS \"probity cell\") AS \"probity json\"\n\
         FROM (\n{q}\n) AS \"probity row\"\n) AS \"probity rows\";\n"
    )
}

/// The whole psql script of a job: a fresh schema in a transaction that is rolled back,
/// in the time zone [`TIME_ZONE`].
fn script(job: &Job, schema: &str) -> String {
    let mut s = format!(
        "SET client_min_messages = warning;\nBEGIN;\nCREATE SCHEMA \"{schema}\";\n\
         SET LOCAL search_path TO \"{schema}\";\nSET LOCAL TIME ZONE '{TIME_ZONE}';\n"
    );
    s.push_str(&job.setup);
    for (_, q) in &job.queries {
        s.push_str(&as_json(q));
    }
    s.push_str("ROLLBACK;\n");
    s
}

/// psql's error, with the lines of the script it names (`psql:<stdin>:LINE: ERROR`).
fn explain_error(out: &Output, script: &str) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut text = format!("psql exited with {}:\n{err}", out.status);
    let line = err
        .split("psql:<stdin>:")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse::<usize>().ok());
    if let Some(n) = line {
        let lines: Vec<&str> = script.lines().collect();
        // psql names the line that ends the statement: show what leads up to it.
        let from = n.saturating_sub(15);
        text.push_str(&format!(
            "script lines {}..{}:\n",
            from + 1,
            n.min(lines.len())
        ));
        for (i, l) in lines.iter().enumerate().take(n).skip(from) {
            text.push_str(&format!("{:>6} | {l}\n", i + 1));
        }
    }
    text
}

/// Runs one job; its rows per rule query, or why not.
fn run(url: &str, job: &Job, schema: &str) -> Outcome {
    let script = script(job, schema);
    let out = psql(url, &script).map_err(|e| format!("cannot run `psql`: {e}"))?;
    if !out.status.success() {
        return Err(explain_error(&out, &script));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
    if lines.len() != job.queries.len() {
        return Err(format!(
            "expected {} result lines (one per rule query), got {}:\n{stdout}",
            job.queries.len(),
            lines.len()
        ));
    }
    job.queries
        .iter()
        .zip(lines)
        .map(|((rule, _), line)| {
            let rows = serde_json::from_str(line)
                .map_err(|e| format!("rows of `{rule}` are not a JSON array of objects: {e}"))?;
            Ok(QueryRows {
                rule: rule.clone(),
                rows,
            })
        })
        .collect()
}

#[test]
fn postgres_agrees_with_the_native_engine() {
    const TEST: &str = "postgres_agrees_with_the_native_engine";
    let Ok(url) = std::env::var(URL_ENV) else {
        return engine_missing(TEST, &format!("${URL_ENV} is unset (no PostgreSQL server)"));
    };
    // The server named must be there: a wrong URL is a failure, not a skip.
    let hello = psql(&url, "SELECT version();\nSHOW server_encoding;\n").unwrap_or_else(|e| {
        panic!("${URL_ENV} is set but `psql` cannot be run: {e} (install postgresql-client)")
    });
    assert!(
        hello.status.success(),
        "${URL_ENV} is set but psql cannot reach the server: {}",
        String::from_utf8_lossy(&hello.stderr)
    );
    println!("server: {}", String::from_utf8_lossy(&hello.stdout).trim());

    let (jobs, skipped) = all_jobs(Dialect::Postgres);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    let prefix = format!("probity_diff_{}_{stamp}", std::process::id());
    let next = AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Option<Outcome>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(k) else { break };
                    let res = run(&url, job, &format!("{prefix}_{k}"));
                    *outcomes[k].lock().expect("lock") = Some(res);
                }
            });
        }
    });
    let outcomes: Vec<_> = outcomes
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("lock")
                .unwrap_or_else(|| Err("not run".into()))
        })
        .collect();
    check("PostgreSQL", &jobs, &outcomes, &skipped);
}
