//! What the differential tests of the SQL backend share (tests/sql_duckdb.rs,
//! tests/sql_postgres.rs): which rule sets run over which facts, the facts as INSERTs in
//! the representation of docs/scale.md, the native engine's findings, and the comparison
//! of an engine's rows with them. Each engine's test only runs the scripts and hands
//! back the rows of every rule query.
#![allow(dead_code)] // each test uses its own part
#![allow(clippy::panic)] // a test reports failure by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use probity::Engine;
use probity::facts::FactSet;
use probity::ir::{Program, RelKind, Relation, Type};
use probity::sql::Dialect;
use probity::testing::given_facts;
use probity::value::{Date, Decimal, Value};

/// Rules and a case of edge values (partial dates, month ends, none, decimals, text).
pub const FIXTURE_RULES: &str = "tests/sql_duckdb/rules";
pub const FIXTURE_CASE: &str = "tests/sql_duckdb/case";
/// The part of [`FIXTURE_RULES`] the Spark dialect compiles: all but the aggregates,
/// the recursion and the arithmetic on numbers.
pub const FIXTURE_SPARK_RULES: &str = "tests/sql_duckdb/rules/constructs.coi";

/// The fixture's rules compared on dialect `d`: all of them, or on Spark the part it
/// compiles.
pub fn fixture_rules(d: Dialect) -> &'static str {
    match d {
        Dialect::Spark => FIXTURE_SPARK_RULES,
        _ => FIXTURE_RULES,
    }
}

/// Rule sets run again with `--param` overrides: (rules, overrides, case).
pub const PARAM_RUNS: [(&str, &[&str], &str); 3] = [
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

/// Set to `1` (as CI does), a missing SQL engine fails its test instead of skipping it.
pub const REQUIRE_ENV: &str = "PROBITY_REQUIRE_SQL_ENGINES";

/// A test whose engine is missing: skipped with the reason on stderr, or failed when
/// `$PROBITY_REQUIRE_SQL_ENGINES=1`.
pub fn engine_missing(test: &str, why: &str) {
    if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
        panic!("{test}: ${REQUIRE_ENV}=1 but the engine is missing: {why}");
    }
    // Straight to stderr, past the test harness's capture, so CI logs show it.
    let msg = format!("SKIPPED {test}: {why} (set {REQUIRE_ENV}=1 to make this a failure)\n");
    let _ = std::io::stderr().write_all(msg.as_bytes());
}

pub fn case_dirs() -> Vec<PathBuf> {
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

pub fn shipped_rule_files() -> Vec<PathBuf> {
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
fn literals(d: Dialect, ty: &Type, v: &Value) -> Vec<String> {
    match v {
        Value::None if *ty == Type::Date => vec!["NULL".into(), "NULL".into()],
        Value::None => vec!["NULL".into()],
        Value::Bool(b) => vec![if *b { "TRUE" } else { "FALSE" }.into()],
        Value::Number(n) => vec![format!("CAST('{n}' AS DECIMAL(38,9))")],
        Value::Date(x) => vec![d.date(x.first), d.date(x.last)],
        Value::Text(s) | Value::Entity(s) => vec![d.text(s)],
        Value::Duration(x) => vec![format!("'{x}'")],
    }
}

/// Column names of field `i` as the backend stores them (two for a date).
pub fn columns(rel: &Relation, i: usize) -> Vec<String> {
    let f = &rel.fields[i];
    if f.ty == Type::Date {
        vec![format!("{}_first", f.name), format!("{}_last", f.name)]
    } else {
        vec![f.name.clone()]
    }
}

/// INSERTs of every fact of the input relations the script creates a table for: one
/// row per written fact (`_fact` is its origin id) and list member, a symmetric
/// relation stored one way round (its `__both` view adds the other).
fn inserts(d: Dialect, p: &Program, facts: &FactSet, sql: &str) -> String {
    let mut out = String::new();
    for (r, rel) in p.relations.iter().enumerate() {
        if !matches!(rel.kind, RelKind::Base | RelKind::Entity(_)) {
            continue;
        }
        let table = d.ident(&rel.name);
        if !sql.contains(&format!("CREATE TABLE IF NOT EXISTS {table} (")) {
            continue;
        }
        let stored: Vec<usize> = (0..rel.fields.len()).collect();
        let mut cols = vec![d.ident("_fact")];
        for &i in &stored {
            cols.extend(columns(rel, i).iter().map(|c| d.ident(c)));
        }
        let mut seen = BTreeSet::new();
        let mut rows = Vec::new();
        for (values, origin) in facts.rows(r) {
            let mut row = vec![origin.0.to_string()];
            for &i in &stored {
                row.extend(literals(d, &rel.fields[i].ty, &values[i]));
            }
            // Both ways round share an origin: keep the first (per list member).
            let key = if rel.symmetric {
                format!("{} {:?}", origin.0, values.get(2..))
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

/// The script split into what sets up (tables, views) and each rule's queries (each
/// ending in `;`).
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

/// A value an engine returned for a column of type `ty`, as the native engine's
/// `Value`: dates as `YYYY-MM-DD` (the sentinels as open ends), numbers as decimal text
/// (or JSON numbers), none as null.
fn decode(ty: &Type, v: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    let bad = || format!("cannot read {v} as a value of type {ty:?}");
    Ok(match (ty, v) {
        (_, J::Null) => Value::None,
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Text | Type::Entity(_), J::String(s)) => Value::text(s),
        (Type::Number, J::String(s)) => Value::Number(Decimal::parse(s).ok_or_else(bad)?),
        (Type::Number, J::Number(n)) => {
            Value::Number(Decimal::parse(&n.to_string()).ok_or_else(bad)?)
        }
        (Type::Date, J::String(s)) => Value::Date(match s.as_str() {
            "0001-01-01" => Date::NEG_INF,
            "9999-12-31" => Date::POS_INF,
            day if day.len() == 10 => Date::parse(day).map_err(|_| bad())?,
            _ => return Err(bad()),
        }),
        _ => return Err(bad()),
    })
}

/// One row of a rule query: column name to value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// The rows of one rule query, as an engine returned them.
#[derive(Debug, Clone)]
pub struct QueryRows {
    pub rule: String,
    pub rows: Vec<Row>,
}

/// What an engine made of one job: the rows of each rule query, or why it failed.
pub type Outcome = Result<Vec<QueryRows>, String>;

/// The subject tuples of a rule's query rows, as the text findings show them.
fn sql_tuples(rel: &Relation, rows: &[Row]) -> Result<BTreeSet<Vec<String>>, String> {
    let mut out = BTreeSet::new();
    for row in rows {
        let mut tuple = Vec::new();
        for i in 0..rel.fields.len() {
            let mut vals = Vec::new();
            for c in columns(rel, i) {
                let cell = row.get(&c).ok_or_else(|| {
                    let names: Vec<&String> = row.keys().collect();
                    format!("no column `{c}` in {names:?}")
                })?;
                vals.push(decode(&rel.fields[i].ty, cell)?);
            }
            let v = match vals.as_slice() {
                [Value::Date(a), Value::Date(b)] => Value::Date(Date {
                    first: a.first,
                    last: b.last,
                }),
                [Value::None, Value::None] => Value::None,
                [v] => v.clone(),
                _ => return Err(format!("a date half none, half not: {vals:?}")),
            };
            tuple.push(v.to_string());
        }
        out.insert(tuple);
    }
    Ok(out)
}

/// One rule set over one set of facts: the script, the native tuples per rule.
pub struct Job {
    pub label: String,
    /// The facts are a `test` block's `given` facts (else a case folder's).
    pub from_test: bool,
    pub program: Program,
    /// Tables, views and the facts' INSERTs.
    pub setup: String,
    /// Each rule query (ending in `;`), with its rule.
    pub queries: Vec<(String, String)>,
    pub native: BTreeMap<String, BTreeSet<Vec<String>>>,
}

/// The jobs of one rule set: each case folder in `cases`, and each `test` block's
/// `given` facts (every test, whatever it expects: only the two engines are compared).
fn jobs_of(
    d: Dialect,
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
    let sql = match probity::sql::compile(program, d, engine.params()) {
        Ok(s) => s,
        Err(_) => {
            skipped.push(format!(
                "{}: rejected by the SQL backend for {}",
                rules.display(),
                d.name()
            ));
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
    let mut push = |label: String, facts: &FactSet, native, from_test| {
        out.push(Job {
            label,
            from_test,
            program: program.clone(),
            setup: setup.clone() + &inserts(d, program, facts, &sql),
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
        push(label, facts, native, false);
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
        push(label, &facts, native, true);
    }
    out
}

/// Every job for dialect `d`: each shipped rule file over every case folder and its own
/// tests, the fixture over its case, each case's own `rules/` over that case, and the
/// `--param` runs; plus what is not compared and why. The fixture and the `--param`
/// runs must compile, or the test fails.
pub fn all_jobs(d: Dialect) -> (Vec<Job>, Vec<String>) {
    all_jobs_of(d, true)
}

/// [`all_jobs`]; with `required` false, the `--param` runs may be rejected too (Spark
/// SQL has no recursion or aggregates in the backend yet). The fixture (on Spark, the
/// part of it Spark compiles) must compile for every dialect.
pub fn all_jobs_of(d: Dialect, required: bool) -> (Vec<Job>, Vec<String>) {
    let mut skipped = Vec::new();
    let mut jobs = Vec::new();
    let cases = case_dirs();
    for rules in shipped_rule_files() {
        jobs.extend(jobs_of(d, &rules, &[], &cases, &mut skipped));
    }
    // The fixture of edge values: it must compile, or nothing of it is compared.
    let fixture_rules = fixture_rules(d);
    let fixture = jobs_of(
        d,
        Path::new(fixture_rules),
        &[],
        &[PathBuf::from(FIXTURE_CASE)],
        &mut skipped,
    );
    assert!(
        !fixture.is_empty(),
        "{fixture_rules} is not compared: {skipped:#?}"
    );
    jobs.extend(fixture);
    for case in &cases {
        if case.join("rules").is_dir() {
            jobs.extend(jobs_of(
                d,
                &case.join("rules"),
                &[],
                std::slice::from_ref(case),
                &mut skipped,
            ));
        }
    }
    // Parameters other than the defaults, substituted into the SQL as into the engine.
    for (rules, params, case) in PARAM_RUNS {
        let rules = if rules == FIXTURE_RULES {
            fixture_rules
        } else {
            rules
        };
        let n = jobs.len();
        jobs.extend(jobs_of(
            d,
            Path::new(rules),
            params,
            &[PathBuf::from(case)],
            &mut skipped,
        ));
        assert!(
            !required || jobs.len() > n,
            "{rules} {params:?}: not compared: {skipped:#?}"
        );
    }
    assert!(!jobs.is_empty(), "nothing to compare: {skipped:#?}");
    (jobs, skipped)
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

/// Compares what `engine` returned for each job (its query rows, or why it failed)
/// with the native findings; prints what was compared and what was not, and fails on
/// any difference.
pub fn check(engine: &str, jobs: &[Job], outcomes: &[Outcome], skipped: &[String]) {
    assert_eq!(outcomes.len(), jobs.len(), "one outcome per job");
    let mut failures = Vec::new();
    let mut compared = Vec::new();
    for (job, res) in jobs.iter().zip(outcomes) {
        let results = match res {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {engine} rejected the script: {e}", job.label));
                continue;
            }
        };
        if results.len() != job.queries.len() {
            failures.push(format!(
                "{}: {} rule queries, {} results from {engine}",
                job.label,
                job.queries.len(),
                results.len()
            ));
            continue;
        }
        let mut got: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        for q in results {
            let Some(r) = job.program.rules.iter().find(|r| r.name == q.rule) else {
                failures.push(format!("{}: query of unknown rule `{}`", job.label, q.rule));
                continue;
            };
            match sql_tuples(job.program.rel(r.rel), &q.rows) {
                Ok(t) => got.entry(q.rule.clone()).or_default().extend(t),
                Err(e) => failures.push(format!("{} `{}`: {e}", job.label, q.rule)),
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
                    "{} — rule `{rule}`\n    expected (native):\n{}    got ({engine}):\n{}",
                    job.label,
                    show(expected),
                    show(&got)
                ));
            }
        }
    }
    println!(
        "{engine}: compared {} rule × facts combinations in {} jobs:",
        compared.len(),
        jobs.len()
    );
    for c in &compared {
        println!("  {c}");
    }
    println!("not compared:");
    for s in skipped {
        println!("  {}", s.lines().next().unwrap_or_default());
    }
    assert!(
        failures.is_empty(),
        "{} mismatch(es) between {engine} and the native engine:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
