//! `probity audit --engine duckdb|postgres`: the rules evaluated by an SQL engine, the
//! findings built by Probity as for the native engine.
//!
//! 1. The case's facts (read and checked by the ordinary loader) are written as CSV
//!    files, one per input relation the rules read, and loaded with `COPY` into tables
//!    in a fresh schema; the derived relations are computed once each, as tables.
//! 2. For each rule's `when` blocks the engine returns the ways the block holds: the
//!    subjects, each positive atom's values (with a base fact's id) and the block's
//!    variables (see `why.rs`) — per finding only the least, outside recursion.
//! 3. Derived premises those rows name, and the exemption tuples the findings could
//!    match, are asked for in waves, each a query filtered by the tuples wanted, until
//!    nothing new is named. Only what the findings rest on crosses back.
//! 4. Each tuple's derivation is chosen as the native engine's would be: one of the
//!    earliest round (so no proof is circular), then by block, fact ids and values. The tuples and their
//!    derivations make a database from which findings are built exactly as natively.
//!
//! The engine is driven through its own command-line client (`duckdb`, `psql`), one for
//! the whole audit (`client.rs`): no client library is compiled into Probity. The
//! schema is dropped at the end. The facts go out and the rows come back as CSV files
//! (`csv.rs`); the derivations are chosen in `proof.rs`.

mod client;
mod csv;
mod proof;

use client::Session;
use csv::{read_rows, write_all};
use proof::build;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Dialect;
use super::dialect::{NEG_INF_SQL, POS_INF_SQL};
use super::why::{Part, Why, why};
use crate::diag::Diagnostic;
use crate::eval::{Builder, Database, TupleRef};
use crate::facts::{FactSet, OriginId};
use crate::ir::{ClauseId, Program, RelId, RelKind, Type};
use crate::value::{Date, Decimal, Value, civil_from_days, days_from_civil};

/// Errors of the engine or its client.
pub const ENGINE_ERROR: &str = "probity::sql::engine";

/// How many tuples one filtered query asks for.
const BATCH: usize = 10_000;

/// An SQL engine to evaluate the rules on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlEngine {
    /// DuckDB or PostgreSQL (Spark has no client here).
    pub dialect: Dialect,
    /// DuckDB: a database file (default: an in-memory database). PostgreSQL: a
    /// connection string or URL, as `psql -d` takes it.
    pub connect: Option<String>,
    /// The client program (default: `$PROBITY_DUCKDB` or `duckdb`, `$PROBITY_PSQL` or
    /// `psql`).
    pub client: Option<PathBuf>,
}

fn engine_error(message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::error(ENGINE_ERROR, message).help(help)
}

/// Checks that the engine can run the rules at all (before any case is read): the
/// client's configuration, and that every block a finding's proof can use compiles.
pub fn check(p: &Program, params: &[Value], eng: &SqlEngine) -> Result<(), Vec<Diagnostic>> {
    plan(p, params, eng).map(|_| ())
}

/// What is sent: the setup script, the input relations, the derivation query of every
/// block a proof can use (by head relation), and the range queries of those blocks'
/// aggregates.
struct Plan {
    /// The tables the facts are loaded into.
    tables: String,
    /// The derived relations, as tables computed once the facts are loaded.
    views: String,
    inputs: Vec<RelId>,
    whys: BTreeMap<RelId, Vec<Why>>,
    ranges: HashMap<ClauseId, Vec<Why>>,
    /// Per relation, the stratum it is evaluated in.
    stratum: HashMap<RelId, usize>,
    /// Per block, its head relation.
    heads: HashMap<ClauseId, RelId>,
    /// The relations of recursive strata: all their derivations are needed, to find
    /// each tuple's round; of the others, the least one per tuple is enough.
    recursive: HashSet<RelId>,
}

impl Plan {
    /// The aggregates' ranges of `row`'s block, each with the key its rows are found
    /// under (the block, the aggregate's place, the row's values of its group).
    fn ranges_of<'a>(&'a self, row: &'a Row) -> impl Iterator<Item = (RangeKey, &'a Why)> {
        let whys = self.ranges.get(&row.clause).into_iter().flatten();
        whys.enumerate()
            .map(move |(k, w)| ((row.clause, k, row.key(&w.key)), w))
    }

    /// The derivations query of `w` (or `sql`, filtered from it) as sent: reduced to the
    /// least derivation per tuple outside recursion.
    fn derivations(&self, d: Dialect, w: &Why, sql: &str) -> String {
        if self.recursive.contains(&w.head) {
            sql.to_string()
        } else {
            w.least_per_head(d, sql)
        }
    }
}

fn plan(p: &Program, params: &[Value], eng: &SqlEngine) -> Result<Plan, Vec<Diagnostic>> {
    let d = eng.dialect;
    if d == Dialect::Spark {
        return Err(vec![engine_error(
            "`--engine` runs DuckDB or PostgreSQL; Spark SQL has no client here",
            "compile the rules with `probity compile --to sql --dialect spark` and submit the script with `spark-sql -f`",
        )]);
    }
    if d == Dialect::Postgres && eng.connect.is_none() {
        return Err(vec![engine_error(
            "`--engine postgres` needs a database to connect to",
            "name it with `--connect postgresql://USER@HOST:PORT/DATABASE` (or any connection string `psql -d` takes)",
        )]);
    }
    let (setup, inputs) = super::setup(p, d, params, true);
    let mut errors = setup.as_ref().err().cloned().unwrap_or_default();
    // The blocks a proof can reach: the rules', the exemptions', and those of every
    // derived relation a reached block names in a positive atom (its aggregates' too).
    let mut todo: Vec<RelId> = p.rules.iter().map(|r| r.rel).collect();
    todo.extend(
        p.rules
            .iter()
            .flat_map(|r| r.exemptions.iter().map(|e| e.rel)),
    );
    let mut whys: BTreeMap<RelId, Vec<Why>> = BTreeMap::new();
    let mut ranges: HashMap<ClauseId, Vec<Why>> = HashMap::new();
    while let Some(r) = todo.pop() {
        if whys.contains_key(&r) {
            continue;
        }
        let mut list = Vec::new();
        for (i, c) in p.clauses.iter().enumerate() {
            if c.head != r {
                continue;
            }
            let id = ClauseId(i as u32);
            match why(p, d, params, id).and_then(|w| Ok((w, super::why::ranges(p, d, params, id)?)))
            {
                Ok((w, rs)) => {
                    for a in w.atoms.iter().chain(rs.iter().flat_map(|x| &x.atoms)) {
                        if is_derived(p, *a) {
                            todo.push(*a);
                        }
                    }
                    list.push(w);
                    if !rs.is_empty() {
                        ranges.insert(id, rs);
                    }
                }
                Err(u) => {
                    let name = p
                        .rel(r)
                        .name
                        .split('~')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    errors.push(u.diagnostic(&name));
                }
            }
        }
        whys.insert(r, list);
    }
    if !errors.is_empty() {
        crate::diag::sort(&mut errors);
        errors.dedup_by(|a, b| a.message == b.message && a.place == b.place);
        return Err(errors);
    }
    let strata = crate::plan::strata::stratify(p).unwrap_or_default();
    let recursive = strata
        .iter()
        .filter(|s| s.recursive)
        .flat_map(|s| s.rels.iter().copied())
        .collect();
    let stratum = strata
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.rels.iter().map(move |r| (*r, i)))
        .collect();
    let (tables, views) = setup.unwrap_or_default();
    Ok(Plan {
        tables,
        views,
        inputs,
        whys,
        ranges,
        stratum,
        heads: (0..p.clauses.len())
            .map(|i| (ClauseId(i as u32), p.clauses[i].head))
            .collect(),
        recursive,
    })
}

fn is_derived(p: &Program, r: RelId) -> bool {
    matches!(p.rel(r).kind, RelKind::Derived | RelKind::Rule(_))
}

/// Evaluates `p` over `facts` on the engine; the database holds every rule tuple, the
/// exemption tuples that match them, and the tuples their proofs rest on.
pub fn evaluate(
    p: &Program,
    params: &[Value],
    facts: &FactSet,
    eng: &SqlEngine,
) -> Result<Database, Vec<Diagnostic>> {
    let plan = plan(p, params, eng)?;
    let mut session = Session::open(eng).map_err(|d| vec![*d])?;
    let result = run(p, facts, &plan, &mut session);
    session.close();
    result.map_err(|d| vec![*d])
}

/// One tuple: its relation and values.
type Key = (RelId, Vec<Value>);

/// What an aggregate ranged over for one group: block, aggregate, group values.
type RangeKey = (ClauseId, usize, Vec<Value>);

/// One row of a derivations or range query, as the engine returned it.
#[derive(Debug, Clone)]
struct Row {
    clause: ClauseId,
    head: Vec<Value>,
    /// Per positive atom: the fact id of a base one.
    facts: Vec<Option<u32>>,
    /// Per positive atom: its values.
    atoms: Vec<Vec<Option<Value>>>,
    /// Per clause variable.
    vars: Vec<Option<Value>>,
    /// The atoms' relations.
    rels: Vec<RelId>,
}

impl Row {
    /// The values of key `parts` (head fields or variables).
    fn key(&self, parts: &[Part]) -> Vec<Value> {
        parts
            .iter()
            .map(|k| match k {
                Part::Head(i) => self.head.get(*i).cloned(),
                Part::Var(v) => self.vars.get(*v).cloned().flatten(),
                _ => None,
            })
            .map(|v| v.unwrap_or(Value::None))
            .collect()
    }

    /// The premises the row names, in order: (relation, fact id of a base one, values).
    fn premises(&self) -> impl Iterator<Item = (RelId, Option<u32>, Vec<Value>)> + '_ {
        self.rels
            .iter()
            .zip(&self.facts)
            .zip(&self.atoms)
            .map(|((r, f), vals)| {
                let vals = vals
                    .iter()
                    .map(|v| v.clone().unwrap_or(Value::None))
                    .collect();
                (*r, *f, vals)
            })
    }
}

/// What has been asked of the engine and what came back.
#[derive(Default)]
struct Found {
    derivs: HashMap<Key, Vec<Row>>,
    ranges: HashMap<RangeKey, Vec<Row>>,
    asked: HashSet<Key>,
    asked_ranges: HashSet<RangeKey>,
    wanted: Vec<Key>,
    wanted_ranges: Vec<RangeKey>,
}

impl Found {
    /// Asks for the derived tuples a row names.
    fn want_premises(&mut self, p: &Program, row: &Row) {
        for (r, _, vals) in row.premises() {
            if is_derived(p, r) {
                let key = (r, vals);
                if self.asked.insert(key.clone()) {
                    self.wanted.push(key);
                }
            }
        }
    }

    /// Takes rows of derivations: asks for their derived premises, their aggregates'
    /// ranges and (for a rule's) the exemption tuples that would cover them.
    fn derivations(&mut self, p: &Program, plan: &Plan, rows: Vec<Row>) {
        for row in rows {
            self.want_premises(p, &row);
            for (key, _) in plan.ranges_of(&row) {
                if self.asked_ranges.insert(key.clone()) {
                    self.wanted_ranges.push(key);
                }
            }
            let head = p.clause(row.clause).head;
            if let RelKind::Rule(rule) = p.rel(head).kind {
                for ex in &p.rules[rule.0 as usize].exemptions {
                    let vals: Vec<Value> = ex
                        .subjects
                        .iter()
                        .filter_map(|&i| row.head.get(i).cloned())
                        .collect();
                    let key = (ex.rel, vals);
                    if self.asked.insert(key.clone()) {
                        self.wanted.push(key);
                    }
                }
            }
            self.derivs
                .entry((head, row.head.clone()))
                .or_default()
                .push(row);
        }
    }

    /// Takes rows of aggregate `k`'s range query of `clause`.
    fn range_rows(&mut self, p: &Program, w: &Why, k: usize, rows: Vec<Row>) {
        for row in rows {
            self.want_premises(p, &row);
            let key = (w.clause, k, row.key(&w.key));
            self.ranges.entry(key).or_default().push(row);
        }
    }
}

fn run(
    p: &Program,
    facts: &FactSet,
    plan: &Plan,
    s: &mut Session,
) -> Result<Database, Box<Diagnostic>> {
    let d = s.dialect;
    // Load the facts, create the views, and ask for every rule block's derivations.
    let mut script = plan.tables.clone();
    let files: Vec<(RelId, PathBuf)> = plan
        .inputs
        .iter()
        .map(|&r| (r, s.file(&format!("in_{}.csv", r.0))))
        .collect();
    for (&(r, ref path), rows) in files.iter().zip(write_all(d, p, facts, &files)?) {
        if rows > 0 {
            script.push_str(&s.load(p, r, path));
        }
    }
    script.push_str(&plan.views);
    let mut outputs: Vec<(PathBuf, &Why)> = Vec::new();
    for rule in &p.rules {
        for w in plan.whys.get(&rule.rel).into_iter().flatten() {
            let path = s.file(&format!("out_{}.csv", outputs.len()));
            let sql = plan.derivations(d, w, &w.sql);
            script.push_str(&s.output(&sql, &path, outputs.len()));
            outputs.push((path, w));
        }
    }
    crate::timings::mark("engine: facts written");
    s.run(&script)?;
    crate::timings::mark("engine: loaded, rule blocks run");
    let mut found = Found::default();
    for (path, w) in &outputs {
        let rows = read_rows(p, w, path)?;
        found.derivations(p, plan, rows);
    }
    for r in &p.rules {
        let keys: Vec<Key> = found
            .derivs
            .keys()
            .filter(|k| k.0 == r.rel)
            .cloned()
            .collect();
        found.asked.extend(keys);
    }
    // Waves: ask for the derivations of every tuple named and not yet asked for, and for
    // what the aggregates of new derivations ranged over.
    while !found.wanted.is_empty() || !found.wanted_ranges.is_empty() {
        let mut by_rel: BTreeMap<RelId, Vec<Vec<Value>>> = BTreeMap::new();
        for (r, v) in found.wanted.drain(..) {
            by_rel.entry(r).or_default().push(v);
        }
        let mut by_range: BTreeMap<(ClauseId, usize), Vec<Vec<Value>>> = BTreeMap::new();
        for (c, k, v) in found.wanted_ranges.drain(..) {
            by_range.entry((c, k)).or_default().push(v);
        }
        let mut script = String::new();
        let mut outputs: Vec<Output> = Vec::new();
        for (r, keys) in &mut by_rel {
            for w in plan.whys.get(r).into_iter().flatten() {
                ask(p, d, plan, w, keys, None, s, &mut outputs, &mut script)?;
            }
        }
        for ((c, k), keys) in &mut by_range {
            if let Some(w) = plan.ranges.get(c).and_then(|rs| rs.get(*k)) {
                ask(p, d, plan, w, keys, Some(*k), s, &mut outputs, &mut script)?;
            }
        }
        if outputs.is_empty() {
            break;
        }
        s.run(&script)?;
        crate::timings::mark("engine: a wave of derivations");
        for (path, w, range) in &outputs {
            let rows = read_rows(p, w, path)?;
            match range {
                None => found.derivations(p, plan, rows),
                Some(k) => found.range_rows(p, w, *k, rows),
            }
        }
    }
    crate::timings::mark("engine: rows read");
    let db = build(p, facts, plan, &found);
    crate::timings::mark("engine: proofs chosen");
    db
}

/// One query's output to read: its file, its query, and the aggregate if a range.
type Output<'w> = (PathBuf, &'w Why, Option<usize>);

/// Adds to `script` the filtered queries of `w` for `keys`, a batch at a time.
#[expect(clippy::too_many_arguments, reason = "one call site per kind of query")]
fn ask<'w>(
    p: &Program,
    d: Dialect,
    plan: &Plan,
    w: &'w Why,
    keys: &mut Vec<Vec<Value>>,
    range: Option<usize>,
    s: &mut Session,
    outputs: &mut Vec<Output<'w>>,
    script: &mut String,
) -> Result<(), Box<Diagnostic>> {
    keys.sort();
    keys.dedup();
    for chunk in keys.chunks(BATCH) {
        let sql = w.filtered(d, p, chunk).map_err(|e| {
            engine_error(
                format!("cannot ask for the tuples of `{}`: {e}", p.rel(w.head).name),
                "run `probity audit` without `--engine`",
            )
        })?;
        let sql = if range.is_none() {
            plan.derivations(d, w, &sql)
        } else {
            sql
        };
        let path = s.file(&format!("wave_{}.csv", s.next_file));
        script.push_str(&s.output(&sql, &path, outputs.len()));
        outputs.push((path, w, range));
    }
    Ok(())
}
