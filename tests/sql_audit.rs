//! Differential test of `probity audit --engine duckdb|postgres`: for every rule set and
//! case of the SQL differential tests (each shipped rule file over every case folder, a
//! case's own `rules/`, the fixture of edge values, the `--param` runs) and the generated
//! audit workload at N = 300 (tests/sql_audit/workload, from shared/bench/gen.py), the
//! JSON report of an audit on the engine must equal the native one byte for byte — the
//! findings, their evidence, derivations, certainty and period, the exempted ones, the
//! manifest — but for the manifest's `--engine=` option. A rule set the SQL backend
//! rejects must fail with `probity::sql::unsupported` on the engine; the fixture and the
//! workload must not.
//!
//! DuckDB is run through its command-line client: `$PROBITY_DUCKDB`, else `duckdb` on the
//! PATH. PostgreSQL through `psql`, on the server of `$PROBITY_PG_URL`. Without one, its
//! test says why it is skipped and passes, unless `$PROBITY_REQUIRE_SQL_ENGINES=1` (CI).

#![allow(clippy::panic)] // a test reports failure by panicking

mod sql_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sql_support::{FIXTURE_CASE, FIXTURE_RULES, PARAM_RUNS, case_dirs, engine_missing};

const WORKLOAD_RULES: &str = "benches/workload";
const WORKLOAD_CASE: &str = "tests/sql_audit/workload";

/// One audit to run both ways.
struct Job {
    rules: PathBuf,
    params: Vec<String>,
    case: PathBuf,
    /// Whether the SQL backend must accept the rules.
    required: bool,
}

fn jobs() -> Vec<Job> {
    let mut out = Vec::new();
    let job = |rules: &Path, params: &[&str], case: &Path, required: bool| Job {
        rules: rules.to_path_buf(),
        params: params.iter().map(|p| p.to_string()).collect(),
        case: case.to_path_buf(),
        required,
    };
    let cases = case_dirs();
    for rules in sql_support::shipped_rule_files() {
        for case in &cases {
            out.push(job(&rules, &[], case, false));
        }
    }
    for case in &cases {
        if case.join("rules").is_dir() {
            out.push(job(&case.join("rules"), &[], case, false));
        }
    }
    out.push(job(
        Path::new(FIXTURE_RULES),
        &[],
        Path::new(FIXTURE_CASE),
        true,
    ));
    for (rules, params, case) in PARAM_RUNS {
        out.push(job(Path::new(rules), params, Path::new(case), true));
    }
    out.push(job(
        Path::new(WORKLOAD_RULES),
        &[],
        Path::new(WORKLOAD_CASE),
        false,
    ));
    for q in ["q1", "q2", "q4"] {
        out.push(job(
            &Path::new(WORKLOAD_RULES).join(format!("{q}.coi")),
            &[],
            Path::new(WORKLOAD_CASE),
            true,
        ));
    }
    out
}

/// `probity audit CASE --rules R --format json --no-timestamp` with `extra` arguments:
/// exit code, stdout, stderr.
fn audit(job: &Job, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probity"));
    cmd.arg("audit")
        .arg(&job.case)
        .arg("--rules")
        .arg(&job.rules)
        .args(["--format", "json", "--no-timestamp"]);
    for p in &job.params {
        cmd.args(["--param", p]);
    }
    let out = cmd
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run probity");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report without the manifest's `--engine=` option.
fn without_engine(json: &str) -> String {
    let mut v: serde_json::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(_) => return json.to_string(),
    };
    if let Some(opts) = v
        .pointer_mut("/manifest/options")
        .and_then(|o| o.as_array_mut())
    {
        opts.retain(|o| !o.as_str().is_some_and(|s| s.starts_with("--engine=")));
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// The first lines where two texts differ, for a failure message.
fn first_difference(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(8);
    format!(
        "from line {}:\n--- native\n{}\n--- engine\n{}",
        from + 1,
        a[from..(at + 8).min(a.len())].join("\n"),
        b[from..(at + 8).min(b.len())].join("\n")
    )
}

/// Runs every job natively and on the engine (`extra` chooses it), two at a time.
fn check(engine: &str, extra: &[String]) {
    let jobs = jobs();
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let results: Vec<Result<String, String>> = std::thread::scope(|s| {
        let (left, right) = jobs.split_at(jobs.len() / 2);
        let run = |part: &[Job]| -> Vec<Result<String, String>> {
            part.iter().map(|j| compare(engine, j, &extra)).collect()
        };
        let h = s.spawn(move || run(right));
        let mut out = run(left);
        out.extend(h.join().expect("worker"));
        out
    });
    let mut compared = 0;
    let mut findings = 0;
    let mut failures = Vec::new();
    let mut rejected = Vec::new();
    for (job, r) in jobs.iter().zip(results) {
        let label = format!(
            "{} {}× {}",
            job.rules.display(),
            job.params
                .iter()
                .map(|p| format!("--param {p} "))
                .collect::<String>(),
            job.case.display()
        );
        match r {
            Ok(n) if n == "rejected" => rejected.push(label),
            Ok(n) => {
                compared += 1;
                findings += n.parse::<usize>().unwrap_or(0);
            }
            Err(e) => failures.push(format!("{label}: {e}")),
        }
    }
    println!(
        "{engine}: {compared} audits equal to the native ones ({findings} findings and exempted findings); rejected by the SQL backend:"
    );
    for r in &rejected {
        println!("  {r}");
    }
    assert!(compared > 0, "nothing compared");
    assert!(
        failures.is_empty(),
        "{} audit(s) differ between {engine} and the native engine:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// One job both ways: the number of findings if equal, `rejected` if the backend refused
/// the rules as it may, else what differs.
fn compare(engine: &str, job: &Job, extra: &[&str]) -> Result<String, String> {
    let (nc, native, nerr) = audit(job, &[]);
    let (ec, on_engine, eerr) = audit(job, extra);
    if ec == 2 && eerr.contains("probity::sql::unsupported") {
        if job.required {
            return Err(format!("rejected by the SQL backend:\n{eerr}"));
        }
        return Ok("rejected".into());
    }
    if nc != ec {
        return Err(format!(
            "exit {nc} natively, {ec} on {engine}\nnative stderr:\n{nerr}\n{engine} stderr:\n{eerr}"
        ));
    }
    if nc == 2 {
        // A case the rules cannot read (its own schema): both must say so alike.
        return if nerr == eerr {
            Ok("0".into())
        } else {
            Err(format!("errors differ:\n{nerr}\n---\n{eerr}"))
        };
    }
    let (a, b) = (without_engine(&native), without_engine(&on_engine));
    if a != b {
        return Err(first_difference(&a, &b));
    }
    let v: serde_json::Value = serde_json::from_str(&native).map_err(|e| e.to_string())?;
    let n = ["findings", "exempted"]
        .iter()
        .filter_map(|k| v.get(k).and_then(|x| x.as_array()).map(Vec::len))
        .sum::<usize>();
    Ok(n.to_string())
}

/// The DuckDB client: `$PROBITY_DUCKDB`, else `duckdb`, if it runs.
fn duckdb_client() -> Result<String, String> {
    let client = std::env::var("PROBITY_DUCKDB").unwrap_or_else(|_| "duckdb".into());
    let ok = Command::new(&client)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(client)
    } else {
        Err(format!(
            "no DuckDB command-line client (`{client}` does not run; set $PROBITY_DUCKDB)"
        ))
    }
}

#[test]
fn audits_on_duckdb_equal_native_audits() {
    let client = match duckdb_client() {
        Ok(c) => c,
        Err(why) => return engine_missing("audits_on_duckdb_equal_native_audits", &why),
    };
    check(
        "DuckDB",
        &[
            "--engine".into(),
            "duckdb".into(),
            "--client".into(),
            client,
        ],
    );
}

#[test]
fn audits_on_postgres_equal_native_audits() {
    let Ok(url) = std::env::var("PROBITY_PG_URL") else {
        return engine_missing(
            "audits_on_postgres_equal_native_audits",
            "$PROBITY_PG_URL is not set",
        );
    };
    check(
        "PostgreSQL",
        &[
            "--engine".into(),
            "postgres".into(),
            "--connect".into(),
            url,
        ],
    );
}

/// What a user can get wrong is a clear error with exit code 2, before any case is read.
#[test]
fn engine_errors_are_usage_errors() {
    let job = Job {
        rules: PathBuf::from("rules/interests/retained_stake.coi"),
        params: Vec::new(),
        case: PathBuf::from("cases/uk-us-tech-partnership"),
        required: true,
    };
    let (code, _, err) = audit(&job, &["--engine", "postgres"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs a database to connect to"), "{err}");
    assert!(err.contains("help:"), "{err}");
    let (code, _, err) = audit(
        &job,
        &["--engine", "duckdb", "--client", "/nonexistent/duckdb"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot start the DuckDB client"), "{err}");
    assert!(err.contains("--client PATH"), "{err}");
    let (code, _, err) = audit(&job, &["--engine", "duckdb", "--near-misses"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`--near-misses` needs the native engine"),
        "{err}"
    );
    let rec = Job {
        rules: PathBuf::from("rules/ownership/indirect_control.coi"),
        ..job
    };
    let (code, _, err) = audit(&rec, &["--engine", "duckdb"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("probity::sql::unsupported"), "{err}");
    assert!(err.contains("indirect_control.coi:"), "{err}");
}
