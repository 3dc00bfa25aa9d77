//! Differential test of the SQL backend against DuckDB: for every case folder (`cases/`,
//! `tests/cases/`) and every shipped rule file that compiles for DuckDB (plus a case's
//! own `rules/` folder), and for the `given` facts of every `test` block of those rule
//! files, the facts are written as INSERTs in the representation of
//! docs/scale.md, the compiled script is run by DuckDB (through Python's `duckdb`
//! module), and each rule's subject tuples must equal the native engine's findings
//! (exempted ones included: SQL rule queries do not mark exemptions).
//!
//! DuckDB is found through `$PROBITY_DUCKDB_PYTHON`, then `python3`; with neither able
//! to `import duckdb` the test prints why it is skipped and passes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use probity::Engine;
use probity::facts::FactSet;
use probity::ir::{Program, RelKind, Relation, Type};
use probity::sql::Dialect;
use probity::testing::given_facts;
use probity::value::{Date, Decimal, Value, days_from_civil};

const D: Dialect = Dialect::Duckdb;

/// Rules and a case of edge values (partial dates, month ends, none, decimals, text).
const FIXTURE_RULES: &str = "tests/sql_duckdb/rules";
const FIXTURE_CASE: &str = "tests/sql_duckdb/case";

/// Rule sets run again with `--param` overrides: (rules, overrides, case).
const PARAM_RUNS: [(&str, &[&str], &str); 3] = [
    (
        "tests/cases/dates/rules",
        &["cooling_off=3y"],
        "tests/cases/dates",
    ),
    (FIXTURE_RULES, &["shift=2mo"], FIXTURE_CASE),
    (
        "rules/interests/own_financial_interest.coi",
        &["de_minimis=100", "minor_until=30y"],
        FIXTURE_CASE,
    ),
];

/// Runs jobs read as JSON on stdin (`[{"setup": sql, "queries": [[rule, sql]…]}…]`),
/// each on a fresh in-memory database; prints per job either `{"error": …}` or the
/// rows of each query (`{"rule", "columns", "rows"}`), dates as day numbers.
const RUNNER: &str = r#"
import datetime, decimal, json, sys
import duckdb

EPOCH = datetime.date(1970, 1, 1)

def enc(v):
    if isinstance(v, datetime.date):
        return {"day": (v - EPOCH).days}
    if isinstance(v, decimal.Decimal):
        return {"num": format(v, "f")}
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
            res.append({"rule": rule, "columns": cols,
                        "rows": [[enc(v) for v in row] for row in cur.fetchall()]})
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

fn case_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for root in ["cases", "tests/cases"] {
        for d in std::fs::read_dir(root).into_iter().flatten().flatten() {
            if d.path().join("case.toml").is_file() {
                out.push(d.path());
            }
        }
    }
    out.push(PathBuf::from(FIXTURE_CASE));
    out.sort();
    out
}

fn shipped_rule_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir("rules").into_iter().flatten().flatten() {
        if d.file_name() == "std" || !d.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
            if f.path().extension().is_some_and(|e| e == "coi") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// A value of a field of type `ty` as SQL literals of its column(s): a date is two, an
/// open end a sentinel, none NULL (in both columns of a date).
fn literals(ty: &Type, v: &Value) -> Vec<String> {
    match v {
        Value::None if *ty == Type::Date => vec!["NULL".into(), "NULL".into()],
        Value::None => vec!["NULL".into()],
        Value::Bool(b) => vec![if *b { "TRUE" } else { "FALSE" }.into()],
        Value::Number(n) => vec![format!("CAST('{n}' AS DECIMAL(38,9))")],
        Value::Date(d) => vec![D.date(d.first), D.date(d.last)],
        Value::Text(s) | Value::Entity(s) => vec![D.text(s)],
        Value::Duration(d) => vec![format!("'{d}'")],
    }
}

/// Column names of field `i` as the backend stores them (two for a date).
fn columns(rel: &Relation, i: usize) -> Vec<String> {
    let f = &rel.fields[i];
    if f.ty == Type::Date {
        vec![format!("{}_first", f.name), format!("{}_last", f.name)]
    } else {
        vec![f.name.clone()]
    }
}

/// INSERTs of every fact of the input relations the script creates a table for: one
/// row per written fact (`_fact` is its origin id), list fields left out, a symmetric
/// relation stored one way round (its `__both` view adds the other).
fn inserts(p: &Program, facts: &FactSet, sql: &str) -> String {
    let mut out = String::new();
    for (r, rel) in p.relations.iter().enumerate() {
        if !matches!(rel.kind, RelKind::Base | RelKind::Entity(_)) {
            continue;
        }
        let table = D.ident(&rel.name);
        if !sql.contains(&format!("CREATE TABLE IF NOT EXISTS {table} (")) {
            continue;
        }
        let stored: Vec<usize> = (0..rel.fields.len())
            .filter(|&i| !rel.fields[i].list)
            .collect();
        let mut cols = vec![D.ident("_fact")];
        for &i in &stored {
            cols.extend(columns(rel, i).iter().map(|c| D.ident(c)));
        }
        let mut seen = BTreeSet::new();
        let mut rows = Vec::new();
        for (values, origin) in facts.rows(r) {
            let mut row = vec![origin.0.to_string()];
            for &i in &stored {
                row.extend(literals(&rel.fields[i].ty, &values[i]));
            }
            let key = if rel.symmetric {
                origin.0.to_string()
            } else {
                row.join(",")
            };
            if seen.insert(key) {
                rows.push(format!("({})", row.join(", ")));
            }
        }
        if !rows.is_empty() {
            out.push_str(&format!(
                "INSERT INTO {table} ({}) VALUES\n{};\n",
                cols.join(", "),
                rows.join(",\n")
            ));
        }
    }
    out
}

/// The script split into what sets up (tables, views) and each rule's queries.
fn split(sql: &str) -> (String, Vec<(String, String)>) {
    let mut setup = String::new();
    let mut queries = Vec::new();
    let mut rule: Option<String> = None;
    let mut stmt = String::new();
    for line in sql.lines() {
        if let Some(rest) = line.strip_prefix("-- Rule `") {
            rule = rest.split('`').next().map(str::to_string);
            continue;
        }
        match &rule {
            None => {
                setup.push_str(line);
                setup.push('\n');
            }
            Some(r) => {
                if line.starts_with("--") || (stmt.is_empty() && line.trim().is_empty()) {
                    continue;
                }
                stmt.push_str(line);
                stmt.push('\n');
                if line.trim_end().ends_with(';') {
                    queries.push((r.clone(), std::mem::take(&mut stmt)));
                }
            }
        }
    }
    (setup, queries)
}

/// A value DuckDB returned, as the native engine's `Value` (the sentinels as open ends).
fn decode(v: &serde_json::Value) -> Option<Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => Value::None,
        J::Bool(b) => Value::Bool(*b),
        J::String(s) => Value::text(s),
        J::Number(n) => Value::Number(Decimal::parse(&n.to_string())?),
        J::Object(o) => {
            if let Some(d) = o.get("day") {
                let d = i32::try_from(d.as_i64()?).ok()?;
                let day = if d == days_from_civil(1, 1, 1) {
                    i32::MIN
                } else if d == days_from_civil(9999, 12, 31) {
                    i32::MAX
                } else {
                    d
                };
                Value::Date(Date {
                    first: day,
                    last: day,
                })
            } else {
                Value::Number(Decimal::parse(o.get("num")?.as_str()?)?)
            }
        }
        J::Array(_) => return None,
    })
}

/// The subject tuples of a rule's query rows, as the text findings show them.
fn sql_tuples(
    rel: &Relation,
    columns_out: &[String],
    rows: &[Vec<serde_json::Value>],
) -> Result<BTreeSet<Vec<String>>, String> {
    let mut out = BTreeSet::new();
    for row in rows {
        let mut tuple = Vec::new();
        for i in 0..rel.fields.len() {
            let mut vals = Vec::new();
            for c in columns(rel, i) {
                let k = columns_out
                    .iter()
                    .position(|x| *x == c)
                    .ok_or_else(|| format!("no column `{c}` in {columns_out:?}"))?;
                vals.push(decode(&row[k]).ok_or_else(|| format!("cannot read {}", row[k]))?);
            }
            let v = match vals.as_slice() {
                [Value::Date(a), Value::Date(b)] => Value::Date(Date {
                    first: a.first,
                    last: b.last,
                }),
                [v] => v.clone(),
                _ => Value::None,
            };
            tuple.push(v.to_string());
        }
        out.insert(tuple);
    }
    Ok(out)
}

/// One rule set over one case: the script, the native tuples per rule.
struct Job {
    label: String,
    program: Program,
    setup: String,
    queries: Vec<(String, String)>,
    native: BTreeMap<String, BTreeSet<Vec<String>>>,
}

/// The jobs of one rule set: each case folder in `cases`, and each `test` block's
/// `given` facts (every test, whatever it expects: only the two engines are compared).
fn jobs_of(
    rules: &Path,
    params: &[&str],
    cases: &[PathBuf],
    skipped: &mut Vec<String>,
) -> Vec<Job> {
    let mut out = Vec::new();
    let engine = match Engine::from_paths(&[rules.to_path_buf()]) {
        Ok(mut e) => {
            for p in params {
                e.set_param(p).expect("a valid --param");
            }
            e
        }
        Err(f) => {
            skipped.push(format!(
                "{}: rules do not load\n{}",
                rules.display(),
                f.render()
            ));
            return out;
        }
    };
    let program = engine.program();
    let sql = match probity::sql::compile(program, D, engine.params()) {
        Ok(s) => s,
        Err(_) => {
            skipped.push(format!("{}: rejected by the SQL backend", rules.display()));
            return out;
        }
    };
    let (setup, queries) = split(&sql);
    let empty = || -> BTreeMap<String, BTreeSet<Vec<String>>> {
        program
            .rules
            .iter()
            .map(|r| (r.name.clone(), BTreeSet::new()))
            .collect()
    };
    let mut push = |label: String, facts: &FactSet, native| {
        out.push(Job {
            label,
            program: program.clone(),
            setup: setup.clone() + &inserts(program, facts, &sql),
            queries: queries.clone(),
            native,
        })
    };
    for case in cases {
        let label = format!("{}{} × {}", rules.display(), shown(params), case.display());
        let mut engine = engine.clone();
        if let Err(f) = engine.load_case(case) {
            skipped.push(format!("{label}: case does not load\n{}", f.render()));
            continue;
        }
        let audit = engine.run().expect("native run");
        let mut native = empty();
        for f in audit.findings.iter().chain(&audit.exempted) {
            let t = f.bindings.iter().map(|b| b.value.clone()).collect();
            native.entry(f.rule.clone()).or_default().insert(t);
        }
        let (_, facts) = engine.cases().next().expect("one case");
        push(label, facts, native);
    }
    for test in &program.tests {
        let label = format!(
            "{}{} × test `{}`",
            rules.display(),
            shown(params),
            test.name
        );
        let facts = given_facts(engine.sources(), program, test);
        let db = engine.evaluate(&facts).expect("native evaluation");
        let mut native = empty();
        for r in &program.rules {
            let set = native.entry(r.name.clone()).or_default();
            for i in 0..db.len(r.rel) as u32 {
                let t = db.tuple(r.rel, i).expect("tuple");
                set.insert(t.iter().map(Value::to_string).collect());
            }
        }
        push(label, &facts, native);
    }
    out
}

/// `--param` overrides as shown in a label.
fn shown(params: &[&str]) -> String {
    params.iter().map(|p| format!(" --param {p}")).collect()
}

fn show(set: &BTreeSet<Vec<String>>) -> String {
    if set.is_empty() {
        return "      (none)\n".into();
    }
    set.iter()
        .map(|t| format!("      ({})\n", t.join(", ")))
        .collect()
}

#[test]
fn duckdb_agrees_with_the_native_engine() {
    let python = match find_python() {
        Ok(p) => p,
        Err(why) => {
            // Straight to stderr, past the test harness's capture, so CI logs show it.
            let msg = format!("SKIPPED duckdb_agrees_with_the_native_engine: {why}\n");
            let _ = std::io::stderr().write_all(msg.as_bytes());
            return;
        }
    };
    let mut skipped = Vec::new();
    let mut jobs = Vec::new();
    let cases = case_dirs();
    for rules in shipped_rule_files() {
        jobs.extend(jobs_of(&rules, &[], &cases, &mut skipped));
    }
    // The fixture of edge values: it must compile, or nothing of it is compared.
    let fixture = jobs_of(
        Path::new(FIXTURE_RULES),
        &[],
        &[PathBuf::from(FIXTURE_CASE)],
        &mut skipped,
    );
    assert!(
        !fixture.is_empty(),
        "{FIXTURE_RULES} is not compared: {skipped:#?}"
    );
    jobs.extend(fixture);
    for case in &cases {
        if case.join("rules").is_dir() {
            jobs.extend(jobs_of(
                &case.join("rules"),
                &[],
                std::slice::from_ref(case),
                &mut skipped,
            ));
        }
    }
    // Parameters other than the defaults, substituted into the SQL as into the engine.
    for (rules, params, case) in PARAM_RUNS {
        let n = jobs.len();
        jobs.extend(jobs_of(
            Path::new(rules),
            params,
            &[PathBuf::from(case)],
            &mut skipped,
        ));
        assert!(
            jobs.len() > n,
            "{rules} {params:?}: not compared: {skipped:#?}"
        );
    }
    assert!(!jobs.is_empty(), "nothing to compare: {skipped:#?}");
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
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write jobs");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "the DuckDB runner failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("runner output is JSON");
    assert_eq!(results.len(), jobs.len());

    let mut failures = Vec::new();
    let mut compared = Vec::new();
    for (job, res) in jobs.iter().zip(&results) {
        if let Some(e) = res.get("error") {
            failures.push(format!("{}: DuckDB rejected the script: {e}", job.label));
            continue;
        }
        let mut got: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        for q in res["results"].as_array().into_iter().flatten() {
            let rule = q["rule"].as_str().unwrap_or_default().to_string();
            let Some(r) = job.program.rules.iter().find(|r| r.name == rule) else {
                failures.push(format!("{}: query of unknown rule `{rule}`", job.label));
                continue;
            };
            let cols: Vec<String> =
                serde_json::from_value(q["columns"].clone()).expect("column names");
            let rows: Vec<Vec<serde_json::Value>> =
                serde_json::from_value(q["rows"].clone()).expect("rows");
            match sql_tuples(job.program.rel(r.rel), &cols, &rows) {
                Ok(t) => got.entry(rule).or_default().extend(t),
                Err(e) => failures.push(format!("{} `{rule}`: {e}", job.label)),
            }
        }
        for (rule, expected) in &job.native {
            let got = got.remove(rule).unwrap_or_default();
            compared.push(format!(
                "{} `{rule}`: {} tuple(s)",
                job.label,
                expected.len()
            ));
            if &got != expected {
                failures.push(format!(
                    "{} — rule `{rule}`\n    expected (native):\n{}    got (DuckDB):\n{}",
                    job.label,
                    show(expected),
                    show(&got)
                ));
            }
        }
    }
    println!("compared {} case × rule combinations:", compared.len());
    for c in &compared {
        println!("  {c}");
    }
    println!("not compared:");
    for s in &skipped {
        println!("  {}", s.lines().next().unwrap_or_default());
    }
    assert!(
        failures.is_empty(),
        "{} mismatch(es) between DuckDB and the native engine:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
