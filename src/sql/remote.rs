//! `probity audit --engine duckdb|postgres`: the rules evaluated by an SQL engine, the
//! findings built by Probity as for the native engine.
//!
//! 1. The case's facts (read and checked by the ordinary loader) are written as CSV
//!    files, one per input relation the rules read, and loaded with `COPY` into tables
//!    in a fresh schema; the derived relations become views (`probity compile`).
//! 2. For each rule's `when` blocks the engine returns every way the block holds: the
//!    subjects, each positive atom's values (with a base fact's id) and the block's
//!    variables (see `why.rs`).
//! 3. Derived premises those rows name, and the exemption tuples the findings could
//!    match, are asked for in waves, each a query filtered by the tuples wanted, until
//!    nothing new is named. Only what the findings rest on crosses back.
//! 4. Each tuple's derivation is chosen as the native engine's would be: one of least
//!    height (so no proof is circular), then by block and premises. The tuples and their
//!    derivations make a database from which findings are built exactly as natively.
//!
//! The engine is driven through its own command-line client (`duckdb`, `psql`): no
//! client library is compiled into Probity. The schema (and, for DuckDB without
//! `--connect`, the database file) is dropped at the end.

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
    /// DuckDB: a database file (default: a new one in a temporary folder). PostgreSQL: a
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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
            for (k, w) in plan
                .ranges
                .get(&row.clause)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let key = (row.clause, k, row.key(&w.key));
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

/// Most premises recorded per aggregate, as natively (`EvalOptions::max_aggregate_premises`).
const MAX_AGG_PREMISES: usize = 100;

/// All premises of a derivation, in the native engine's order: the positive atoms, then
/// per aggregate what it ranged over — one binding per distinct value of its body's
/// named variables (the least, by fact ids and values), whole bindings while fewer than
/// the cap were taken, then cut at the cap.
fn all_premises(plan: &Plan, found: &Found, row: &Row) -> Vec<(RelId, Option<u32>, Vec<Value>)> {
    let mut out: Vec<_> = row.premises().collect();
    for (k, w) in plan
        .ranges
        .get(&row.clause)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(rows) = found.ranges.get(&(row.clause, k, row.key(&w.key))) else {
            continue;
        };
        let locals: Vec<Part> = w
            .slots
            .iter()
            .filter(|s| matches!(s.part, Part::Var(_)) && !w.key.contains(&s.part))
            .map(|s| s.part)
            .collect();
        let mut sorted: Vec<&Row> = rows.iter().collect();
        sorted.sort_by(|a, b| (&a.facts, &a.atoms).cmp(&(&b.facts, &b.atoms)));
        let mut seen = HashSet::new();
        let mut taken = Vec::new();
        for r in sorted {
            if !seen.insert(r.key(&locals)) {
                continue;
            }
            if taken.len() < MAX_AGG_PREMISES {
                taken.extend(r.premises());
            }
        }
        taken.truncate(MAX_AGG_PREMISES);
        out.extend(taken);
    }
    out
}

/// The round of its stratum in which the native engine's semi-naive evaluation first
/// meets this derivation: 0 if no premise is of the head's stratum, else one more than
/// the latest such premise's round. `None` while a derived premise has no round yet.
fn row_height(plan: &Plan, found: &Found, row: &Row, height: &HashMap<Key, u32>) -> Option<u32> {
    let own = plan
        .heads
        .get(&row.clause)
        .and_then(|h| plan.stratum.get(h));
    let mut h = None;
    let mut see = |r: RelId, vals: Vec<Value>| -> Option<()> {
        let ph = *height.get(&(r, vals))?;
        if own.is_some() && plan.stratum.get(&r) == own {
            h = Some(h.map_or(ph + 1, |x: u32| x.max(ph + 1)));
        }
        Some(())
    };
    for ((r, fact), vals) in row.rels.iter().zip(&row.facts).zip(&row.atoms) {
        if fact.is_none() {
            see(
                *r,
                vals.iter()
                    .map(|v| v.clone().unwrap_or(Value::None))
                    .collect(),
            )?;
        }
    }
    if plan.ranges.contains_key(&row.clause) {
        for (r, fact, vals) in all_premises(plan, found, row)
            .into_iter()
            .skip(row.rels.len())
        {
            if fact.is_none() {
                see(r, vals)?;
            }
        }
    }
    Some(h.unwrap_or(0))
}

/// The round of each tuple: the least over its derivations (see [`row_height`]).
fn heights(plan: &Plan, found: &Found) -> HashMap<Key, u32> {
    let mut height: HashMap<Key, u32> = HashMap::new();
    loop {
        let mut changed = false;
        for (key, rows) in &found.derivs {
            for row in rows {
                let Some(h) = row_height(plan, found, row, &height) else {
                    continue;
                };
                if height.get(key).is_none_or(|&old| h < old) {
                    height.insert(key.clone(), h);
                    changed = true;
                }
            }
        }
        if !changed {
            return height;
        }
    }
}

/// The database of the chosen derivations: per tuple, one of the round that first meets
/// it (so no proof is circular), then of the first block, then of the least fact ids and
/// values — the native engine's choice. Tuples are added stratum by stratum, round by
/// round, so premises come first.
fn build(
    p: &Program,
    facts: &FactSet,
    plan: &Plan,
    found: &Found,
) -> Result<Database, Box<Diagnostic>> {
    let height = heights(plan, found);
    let mut chosen: Vec<(u32, &Key, &Row)> = Vec::new();
    for (key, rows) in &found.derivs {
        let Some(&h) = height.get(key) else {
            continue;
        };
        let best = rows
            .iter()
            .filter(|r| row_height(plan, found, r, &height) == Some(h))
            .min_by(|a, b| (a.clause, &a.facts, &a.atoms).cmp(&(b.clause, &b.facts, &b.atoms)));
        if let Some(row) = best {
            chosen.push((h, key, row));
        }
    }
    let stratum = |k: &Key| plan.stratum.get(&k.0).copied().unwrap_or(usize::MAX);
    chosen.sort_by(|a, b| (stratum(a.1), a.0, a.1).cmp(&(stratum(b.1), b.0, b.1)));
    let mut needed: HashMap<RelId, HashSet<u32>> = HashMap::new();
    for (_, _, row) in &chosen {
        for (r, fact, _) in all_premises(plan, found, row) {
            if let Some(o) = fact {
                needed.entry(r).or_default().insert(o);
            }
        }
    }
    let bases = BaseFacts::new(facts, &needed);
    let mut db = Builder::new(p, facts);
    let mut refs: HashMap<&Key, TupleRef> = HashMap::new();
    for (_, key, row) in chosen {
        let mut premises = Vec::new();
        for (r, fact, vals) in all_premises(plan, found, row) {
            let t = match fact {
                Some(origin) => {
                    let values = bases.values(r, origin, &vals).ok_or_else(|| {
                        engine_error(
                            format!(
                                "the engine cited fact {origin} of `{}`, which the case does not hold",
                                p.rel(r).name
                            ),
                            "the tables were changed while the audit ran; run it again",
                        )
                    })?;
                    db.base(r, &values, OriginId(origin))
                }
                None => refs.get(&(r, vals)).copied().ok_or_else(|| {
                    engine_error(
                        format!(
                            "the engine derived a tuple of `{}` from one it did not return",
                            p.rel(key.0).name
                        ),
                        "report this with the rules and case: the SQL engine and Probity disagree",
                    )
                })?,
            };
            premises.push(t);
        }
        let t = db.derived(key.0, &key.1, row.clause, &row.vars, &premises);
        refs.insert(key, t);
    }
    Ok(db.finish())
}

/// The base facts the engine cites, found back in the fact set by origin.
struct BaseFacts<'f> {
    facts: &'f FactSet,
    by_origin: HashMap<RelId, HashMap<u32, Vec<usize>>>,
}

impl<'f> BaseFacts<'f> {
    /// Finds where the `needed` origins of each relation are, in one pass over it.
    fn new(facts: &'f FactSet, needed: &HashMap<RelId, HashSet<u32>>) -> BaseFacts<'f> {
        let mut by_origin: HashMap<RelId, HashMap<u32, Vec<usize>>> = HashMap::new();
        for (r, origins) in needed {
            let Some(tuples) = facts.tuples.get(r.0 as usize) else {
                continue;
            };
            let m = by_origin.entry(*r).or_default();
            for (i, o) in tuples.origins().iter().enumerate() {
                if origins.contains(&o.0) {
                    m.entry(o.0).or_default().push(i);
                }
            }
        }
        BaseFacts { facts, by_origin }
    }

    /// The values of the fact of `r` written at `origin` that are `vals` (a symmetric
    /// fact is held both ways round, a list one once per member).
    fn values(&self, r: RelId, origin: u32, vals: &[Value]) -> Option<Vec<Value>> {
        let tuples = self.facts.tuples.get(r.0 as usize)?;
        let w = tuples.width();
        for &i in self.by_origin.get(&r)?.get(&origin)? {
            let ids = &tuples.ids()[i * w..(i + 1) * w];
            let values: Vec<Value> = ids.iter().map(|&id| self.facts.value(id).clone()).collect();
            if values == vals {
                return Some(values);
            }
        }
        None
    }
}

// --- Facts out, rows in ------------------------------------------------------------

/// Writes every relation's CSV ([`write_facts`]) on all cores; the rows of each.
fn write_all(
    d: Dialect,
    p: &Program,
    facts: &FactSet,
    files: &[(RelId, PathBuf)],
) -> Result<Vec<usize>, Box<Diagnostic>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some((r, path)) = files.get(i) else {
                return done;
            };
            done.push((i, write_facts(d, p, facts, *r, path)));
        }
    };
    let threads = crate::case::threads().clamp(1, files.len().max(1));
    let mut results: Vec<(usize, Result<usize, Box<Diagnostic>>)> = std::thread::scope(|sc| {
        let others: Vec<_> = (1..threads).map(|_| sc.spawn(work)).collect();
        let mut all = work();
        for h in others {
            match h.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Writes one day as the engine stores it: open ends as their sentinels.
fn write_day(out: &mut impl std::io::Write, n: i32) -> std::io::Result<()> {
    if n == Date::NEG_INF.first || n == Date::NEG_INF.last {
        return out.write_all(NEG_INF_SQL.as_bytes());
    }
    if n == Date::POS_INF.first || n == Date::POS_INF.last {
        return out.write_all(POS_INF_SQL.as_bytes());
    }
    let (y, m, d) = civil_from_days(n);
    let (y, m, d) = (y as u32, m, d);
    let digit = |x: u32| b'0' + (x % 10) as u8;
    out.write_all(&[
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(d / 10),
        digit(d),
    ])
}

/// Writes a number in decimal without the formatting machinery (it is called per fact).
fn write_u32(out: &mut impl std::io::Write, mut n: u32) -> std::io::Result<()> {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.write_all(&buf[i..])
}

/// CSV of a relation's facts: `_fact`, then each stored column; none as an unquoted
/// `\N`, text always quoted. A symmetric relation is written one way round. The number
/// of rows.
fn write_facts(
    d: Dialect,
    p: &Program,
    facts: &FactSet,
    r: RelId,
    path: &Path,
) -> Result<usize, Box<Diagnostic>> {
    use std::io::Write;
    let rel = p.rel(r);
    let cannot_write = |e: std::io::Error| {
        Box::new(engine_error(
            format!("cannot write {}: {e}", path.display()),
            "check that the temporary folder ($TMPDIR) is writable and has room",
        ))
    };
    let file = std::fs::File::create(path).map_err(cannot_write)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let Some(tuples) = facts.tuples.get(r.0 as usize) else {
        return Ok(0);
    };
    let w = tuples.width();
    let mut seen: rustc_hash::FxHashSet<(u32, Option<Vec<u32>>)> = Default::default();
    let mut rows = 0;
    for (i, origin) in tuples.origins().iter().enumerate() {
        let ids = &tuples.ids()[i * w..(i + 1) * w];
        // Both ways round share an origin: keep the first (per list member).
        if rel.symmetric && !seen.insert((origin.0, ids.get(2..).map(<[u32]>::to_vec))) {
            continue;
        }
        write_u32(&mut out, origin.0).map_err(cannot_write)?;
        for (f, &id) in rel.fields.iter().zip(ids) {
            let v = facts.value(id);
            if let Some(why) = unstorable(d, v) {
                return Err(unstorable_error(facts, *origin, rel, &f.name, &why));
            }
            let written = match v {
                Value::None if f.ty == Type::Date => out.write_all(b",\\N,\\N"),
                Value::None => out.write_all(b",\\N"),
                Value::Date(x) => out
                    .write_all(b",")
                    .and_then(|()| write_day(&mut out, x.first))
                    .and_then(|()| out.write_all(b","))
                    .and_then(|()| write_day(&mut out, x.last)),
                Value::Bool(b) => out.write_all(if *b { b",true" } else { b",false" }),
                Value::Number(n) => write!(out, ",{n}"),
                Value::Text(s) | Value::Entity(s) if s.contains('"') => {
                    write!(out, ",\"{}\"", s.replace('"', "\"\""))
                }
                Value::Text(s) | Value::Entity(s) => out
                    .write_all(b",\"")
                    .and_then(|()| out.write_all(s.as_bytes()))
                    .and_then(|()| out.write_all(b"\"")),
                Value::Duration(x) => write!(out, ",\"{x}\""),
            };
            written.map_err(cannot_write)?;
        }
        out.write_all(b"\n").map_err(cannot_write)?;
        rows += 1;
    }
    out.flush().map_err(cannot_write)?;
    Ok(rows)
}

/// The error for a fact the engine cannot hold, at the fact's place.
fn unstorable_error(
    facts: &FactSet,
    origin: OriginId,
    rel: &crate::ir::Relation,
    field: &str,
    why: &str,
) -> Box<Diagnostic> {
    let (file, line) = facts.origin_place(origin);
    let line_text = std::fs::read_to_string(&**file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(line.saturating_sub(1) as usize)
                .map(str::to_string)
        })
        .unwrap_or_default();
    Box::new(
        engine_error(
            format!("the fact's `{}.{field}` {why}", rel.name),
            "run this case with the native engine (leave out `--engine`), or correct the value",
        )
        .at_place(crate::diag::Place::Point {
            path: file.to_string(),
            line,
            col: 1,
            len: line_text.chars().count().max(1) as u32,
            line_text,
        }),
    )
}

/// Why the engine cannot hold a value as the native engine means it, if it cannot: a
/// date on or beyond the days that stand for open ends (it would read as one), text with
/// NUL on PostgreSQL.
fn unstorable(d: Dialect, v: &Value) -> Option<String> {
    match v {
        Value::Date(x) if !x.is_open() && !super::expr::between_sentinels(x) => Some(format!(
            "is {v}, on or beyond the days SQL uses for open ends ({NEG_INF_SQL}, {POS_INF_SQL}): it would read as an open end"
        )),
        Value::Text(s) | Value::Entity(s) if !d.can_hold_text(s) => Some(format!(
            "holds a NUL character, which {} text cannot",
            d.title()
        )),
        _ => None,
    }
}

/// A CSV file as records of cells: an unquoted empty cell is `None` (SQL NULL), a quoted
/// one text.
fn parse_csv(text: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(x) => cell.push(x),
                        None => return Err("a quoted cell runs to the end of the file".into()),
                    }
                }
            }
            ',' => {
                record.push((quoted || !cell.is_empty()).then(|| std::mem::take(&mut cell)));
                quoted = false;
                at_start = true;
            }
            '\r' => {}
            '\n' => {
                record.push((quoted || !cell.is_empty()).then(|| std::mem::take(&mut cell)));
                records.push(std::mem::take(&mut record));
                quoted = false;
                at_start = true;
            }
            x => {
                at_start = false;
                cell.push(x);
            }
        }
    }
    if !at_start || quoted || !record.is_empty() {
        record.push((quoted || !cell.is_empty()).then_some(cell));
        records.push(record);
    }
    Ok(records)
}

/// One cell as a value of type `ty` (a date's half as its day).
fn cell_value(ty: &Type, cell: &str) -> Option<Value> {
    Some(match ty {
        Type::Text => Value::text(cell),
        Type::Entity(_) => Value::entity(cell),
        Type::Number => Value::Number(Decimal::parse(cell)?),
        Type::Bool => Value::Bool(match cell {
            "true" | "t" | "TRUE" => true,
            "false" | "f" | "FALSE" => false,
            _ => return None,
        }),
        _ => return None,
    })
}

/// A day the engine returned; the sentinels stand for the open ends.
fn parse_day(cell: &str, last: bool) -> Option<i32> {
    match cell {
        NEG_INF_SQL => Some(if last {
            Date::NEG_INF.last
        } else {
            Date::NEG_INF.first
        }),
        POS_INF_SQL => Some(if last {
            Date::POS_INF.last
        } else {
            Date::POS_INF.first
        }),
        _ => {
            let parts: Vec<&str> = cell.split('-').collect();
            let [y, m, d] = parts.as_slice() else {
                return None;
            };
            Some(days_from_civil(
                y.parse().ok()?,
                m.parse().ok()?,
                d.parse().ok()?,
            ))
        }
    }
}

/// The rows of one derivations query, read from its CSV output.
fn read_rows(p: &Program, w: &Why, path: &Path) -> Result<Vec<Row>, Box<Diagnostic>> {
    let bad = |what: String| {
        engine_error(
            format!("cannot read the engine's output {}: {what}", path.display()),
            "report this with the rules and case: the engine returned what Probity did not ask for",
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let records = parse_csv(&text).map_err(bad)?;
    let width: usize = w.slots.iter().map(|s| s.width).sum();
    let c = p.clause(w.clause);
    let mut rows = Vec::new();
    for rec in records.iter().skip(1) {
        if rec.len() != width {
            return Err(Box::new(bad(format!(
                "a row of {} cells, not {width}",
                rec.len()
            ))));
        }
        let mut row = Row {
            clause: w.clause,
            head: vec![Value::None; p.rel(c.head).arity()],
            facts: vec![None; w.atoms.len()],
            atoms: w
                .atoms
                .iter()
                .map(|r| vec![None; p.rel(*r).arity()])
                .collect(),
            vars: vec![None; c.vars.len()],
            rels: w.atoms.clone(),
        };
        let mut cells = rec.iter();
        for s in &w.slots {
            let value = if s.width == 2 {
                let (a, b) = (
                    cells.next().cloned().flatten(),
                    cells.next().cloned().flatten(),
                );
                match (a, b) {
                    (None, None) => Value::None,
                    (Some(a), Some(b)) => Value::Date(Date {
                        first: parse_day(&a, false)
                            .ok_or_else(|| bad(format!("`{a}` is not a date")))?,
                        last: parse_day(&b, true)
                            .ok_or_else(|| bad(format!("`{b}` is not a date")))?,
                    }),
                    _ => return Err(Box::new(bad("a date with one half missing".into()))),
                }
            } else {
                match cells.next().cloned().flatten() {
                    None => Value::None,
                    Some(x) if matches!(s.part, Part::Fact(_)) => {
                        let id: u32 = x
                            .parse()
                            .map_err(|_| bad(format!("`{x}` is not a fact id")))?;
                        if let Part::Fact(a) = s.part {
                            row.facts[a] = Some(id);
                        }
                        continue;
                    }
                    Some(x) => cell_value(&s.ty, &x)
                        .ok_or_else(|| bad(format!("`{x}` is not a value of type {:?}", s.ty)))?,
                }
            };
            match s.part {
                Part::Head(i) => row.head[i] = value,
                Part::Atom(a, i) => row.atoms[a][i] = Some(value),
                Part::Var(v) => row.vars[v] = Some(value),
                Part::Fact(_) => {}
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

// --- The client ---------------------------------------------------------------------

/// A run's folder, schema, and the engine's client, running for the whole audit: scripts
/// are written to its input and each ends by writing a marker file, so the facts are
/// loaded once (DuckDB keeps them in memory unless `--connect` names a file).
struct Session {
    dialect: Dialect,
    dir: PathBuf,
    schema: String,
    runs: usize,
    next_file: usize,
    child: std::process::Child,
    input: Option<std::process::ChildStdin>,
    /// Set when the engine failed: the folder is kept for the script the error names.
    keep: bool,
}

impl Session {
    fn open(eng: &SqlEngine) -> Result<Session, Box<Diagnostic>> {
        let (var, default) = match eng.dialect {
            Dialect::Postgres => ("PROBITY_PSQL", "psql"),
            _ => ("PROBITY_DUCKDB", "duckdb"),
        };
        let program = eng
            .client
            .clone()
            .or_else(|| std::env::var_os(var).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default));
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos());
        let tag = format!("{}_{:x}", std::process::id(), stamp & 0xffff_ffff_ffff);
        let dir = std::env::temp_dir().join(format!("probity-sql-{tag}"));
        let io = |what: &Path, e: std::io::Error| {
            Box::new(engine_error(
                format!("cannot write {}: {e}", what.display()),
                "check that the temporary folder ($TMPDIR) is writable and has room",
            ))
        };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let mut cmd = Command::new(&program);
        match eng.dialect {
            Dialect::Postgres => {
                cmd.args(["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "-d"])
                    .arg(eng.connect.as_deref().unwrap_or_default())
                    .args(["-f", "-"]);
            }
            _ => {
                let init = dir.join("init.sql");
                std::fs::write(&init, "").map_err(|e| io(&init, e))?;
                cmd.arg("-bail")
                    .arg("-init")
                    .arg(&init)
                    .arg(eng.connect.as_deref().unwrap_or(":memory:"));
            }
        }
        let log = |name: &str| {
            let path = dir.join(name);
            std::fs::File::create(&path).map_err(|e| io(&path, e))
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(log("stdout.log")?)
            .stderr(log("stderr.log")?)
            .spawn()
            .map_err(|e| {
                let _ = std::fs::remove_dir_all(&dir);
                let (var, pkg) = match eng.dialect {
                    Dialect::Postgres => ("PROBITY_PSQL", "Debian's `postgresql-client`"),
                    _ => ("PROBITY_DUCKDB", "`pip install duckdb-cli`"),
                };
                Box::new(engine_error(
                    format!(
                        "cannot start the {} client `{}`: {e}",
                        eng.dialect.title(),
                        program.display()
                    ),
                    format!("install it ({pkg}), or name it with `--client PATH` or ${var}"),
                ))
            })?;
        let input = child.stdin.take();
        Ok(Session {
            dialect: eng.dialect,
            dir,
            schema: format!("probity_{tag}"),
            runs: 0,
            next_file: 0,
            child,
            input,
            keep: false,
        })
    }

    fn file(&mut self, name: &str) -> PathBuf {
        self.next_file += 1;
        self.dir.join(name)
    }

    /// A path as an SQL string literal.
    fn quoted(path: &Path) -> String {
        format!("'{}'", path.to_string_lossy().replace('\'', "''"))
    }

    /// The statement loading a relation's CSV into its table.
    fn load(&self, p: &Program, r: RelId, path: &Path) -> String {
        let d = self.dialect;
        let rel = p.rel(r);
        let mut cols = vec![d.ident("_fact")];
        for i in 0..rel.fields.len() {
            cols.extend(super::schema::columns(rel, i).iter().map(|c| d.ident(c)));
        }
        let table = format!("{} ({})", d.ident(&rel.name), cols.join(", "));
        match d {
            Dialect::Postgres => format!(
                "\\copy {table} FROM {} WITH (FORMAT csv, NULL '\\N')\n",
                Self::quoted(path)
            ),
            _ => format!(
                "COPY {table} FROM {} (FORMAT csv, HEADER false, AUTO_DETECT false, DELIM ',', QUOTE '\"', ESCAPE '\"', NULL '\\N', ALLOW_QUOTED_NULLS false);\n",
                Self::quoted(path)
            ),
        }
    }

    /// The statements writing a query's rows to a CSV file (every non-null cell quoted).
    fn output(&self, sql: &str, path: &Path, n: usize) -> String {
        match self.dialect {
            Dialect::Postgres => {
                let view = format!("probity_out_{}_{n}", self.runs);
                format!(
                    "CREATE TEMP VIEW {view} AS\n{sql};\n\\copy (SELECT * FROM {view}) TO {} WITH (FORMAT csv, HEADER, FORCE_QUOTE *)\n",
                    Self::quoted(path)
                )
            }
            _ => format!(
                "COPY (\n{sql}\n) TO {} (FORMAT csv, HEADER, FORCE_QUOTE *);\n",
                Self::quoted(path)
            ),
        }
    }

    /// Runs a script in the run's schema (created by the first) and waits for it.
    fn run(&mut self, body: &str) -> Result<(), Box<Diagnostic>> {
        let d = self.dialect;
        let schema = d.ident(&self.schema);
        let mut script = String::new();
        if self.runs == 0 {
            if d == Dialect::Postgres {
                script.push_str("SET client_min_messages = warning;\nSET TIME ZONE 'UTC';\n");
            }
            let _ = writeln!(script, "CREATE SCHEMA {schema};");
            match d {
                Dialect::Postgres => {
                    let _ = writeln!(script, "SET search_path TO {schema};");
                }
                _ => {
                    let _ = writeln!(script, "SET search_path = {};", d.text(&self.schema));
                }
            }
        }
        script.push_str(body);
        self.runs += 1;
        let done = self.dir.join(format!("done_{}.csv", self.runs));
        let marker = match d {
            Dialect::Postgres => format!(
                "\\copy (SELECT 42) TO {} WITH (FORMAT csv)\n",
                Self::quoted(&done)
            ),
            _ => format!(
                "COPY (SELECT 42) TO {} (FORMAT csv, HEADER false);\n",
                Self::quoted(&done)
            ),
        };
        let path = self.dir.join(format!("script_{}.sql", self.runs));
        // A copy of what was sent, for the error that names it.
        let _ = std::fs::write(&path, &script);
        let sent = self.send(&script).and_then(|()| self.send(&marker));
        let result = self.wait(&done, &path, &script, sent.is_err());
        self.keep |= result.is_err();
        result
    }

    fn send(&mut self, text: &str) -> std::io::Result<()> {
        use std::io::Write;
        match &mut self.input {
            Some(i) => i.write_all(text.as_bytes()).and_then(|()| i.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        }
    }

    /// Waits until the marker `done` is written, or the client stops (an error).
    fn wait(
        &mut self,
        done: &Path,
        path: &Path,
        script: &str,
        broken: bool,
    ) -> Result<(), Box<Diagnostic>> {
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            if !broken && std::fs::read(done).is_ok_and(|b| b.starts_with(b"42")) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(&status.to_string(), path, script));
            }
            if broken {
                // The client stopped reading: it is stopping; wait for it.
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(self.failure(&status, path, script));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
    }

    fn failure(&self, status: &str, path: &Path, script: &str) -> Box<Diagnostic> {
        let err = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let first = err
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        Box::new(engine_error(
            format!(
                "{} failed ({status}): {}",
                self.dialect.title(),
                first.trim()
            ),
            format!(
                "the script it ran is {} ({} lines); check --connect and the server, or run `probity audit` without `--engine`",
                path.display(),
                script.lines().count()
            ),
        ))
    }

    /// Drops the run's schema, ends the client and removes the folder (if the engine
    /// failed, its scripts stay, for the one the error names).
    fn close(mut self) {
        if self.runs > 0 && !self.keep {
            let drop = format!(
                "DROP SCHEMA IF EXISTS {} CASCADE;\n",
                self.dialect.ident(&self.schema)
            );
            let _ = self.send(&drop);
        }
        // End of input ends the client.
        self.input = None;
        let _ = self.child.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        // The scripts stay; the facts and rows (as large as the case) do not.
        for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if e.path().extension().is_some_and(|x| x == "csv") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
