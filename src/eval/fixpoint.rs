//! The semi-naive fixpoint, stratum by stratum, in datafrog's shape: every iteration
//! joins against the previous iteration's new tuples (`recent`), collects `to_add`
//! (here: [`Pending`]), then `changed()` moves recent into stable and the new into recent.

use super::compile::{Compiled, Op, Val, absorbed, compile, cond_keys, partial_for};
use super::expr::Scope;
use super::intern::{Interner, UNBOUND};
use super::join::{AggState, Exec, Fail, Memo, Pending, derivation_order};
use super::partial::{Cond, NO_KEY, Partial};
use super::provenance::{BASE, Prov};
use super::relation::Rel;
use super::{EvalOptions, expr::ExprError};
use crate::diag::Diagnostic;
use crate::ir::{Literal, Program, RelId, Term};
use crate::plan::{Plan, Step, StratumPlan};
use crate::value::Value;

pub(crate) struct Engine<'p> {
    pub(crate) program: &'p Program,
    pub(crate) opts: &'p EvalOptions,
    pub(crate) params: &'p [Value],
    pub(crate) values: Interner,
    pub(crate) rels: Vec<Rel>,
    pub(crate) prov: Vec<Prov>,
    pub(crate) pending: Vec<Pending>,
    /// Tuples derived so far (base facts excluded).
    pub(crate) derived: u64,
}

/// A stratum's clauses, compiled, with their aggregate caches.
struct Ready<'p> {
    /// Each clause with its aggregates' state and its memos (kept from round to round:
    /// a memo's keys and results are ids, which stay).
    clauses: Vec<(Compiled<'p>, Vec<AggState>, Vec<Memo>)>,
}

/// Whether a clause may compute values (assignments, aggregates, a head term that is
/// an expression): interned in the run's order, their ids would depend on the schedule,
/// so such a clause never runs side by side.
fn computes(c: &Compiled<'_>) -> bool {
    c.naggs > 0
        || c.head_vals.iter().any(|v| matches!(v, Val::Expr(_)))
        || c.variants.iter().any(|(_, ops)| {
            ops.iter()
                .any(|o| matches!(o, Op::Assign { .. } | Op::Agg(_) | Op::Collect(_)))
        })
}

/// What every run of a clause reads: the relations, their derivations, the parameters
/// and the options.
type Shared<'a> = (&'a [Rel], &'a [Prov], &'a [Value], &'a EvalOptions);

/// A run of clause `c` into `out`, with `budget` tuples left.
fn exec<'a, 'p>(
    c: &'a Compiled<'p>,
    (rels, provs, params, opts): Shared<'a>,
    values: &'a mut Interner,
    out: &'a mut Pending,
    aggs: &'a mut Vec<AggState>,
    memos: &'a mut [Memo],
    budget: u64,
) -> Exec<'a, 'p> {
    Exec {
        rels,
        provs,
        values,
        params,
        out,
        aggs,
        head: c.head.0 as usize,
        head_vals: &c.head_vals,
        clause: c.clause.0,
        top_atoms: &c.top_atoms,
        env: vec![UNBOUND; c.nvars],
        prem: vec![(0, 0); c.nslots],
        buf: Vec::with_capacity(c.head_vals.len()),
        prem_buf: Vec::new(),
        budget,
        max_agg_bindings: opts.max_tuples,
        provenance: opts.provenance,
        max_agg_premises: opts.max_aggregate_premises,
        outer: None,
        memos,
    }
}

/// Runs variant `vi` of clause `c` apart (on another thread): into a pending relation
/// of its own, with a copy of the interner, its outer scan limited to `slice` if given
/// (see `Exec::outer`). Both are returned, or `None` if the run fails.
fn run_apart<'a, 'p>(
    c: &'a Compiled<'p>,
    vi: usize,
    shared: Shared<'a>,
    values: &Interner,
    budget: u64,
    slice: Option<(&'a Op<'p>, u32, u32)>,
) -> Option<(Pending, Interner)> {
    match slice {
        Some(slice) => {
            let mut one = Some(slice);
            run_slices(c, vi, shared, values, budget, || one.take())
        }
        None => run_slices(c, vi, shared, values, budget, || None),
    }
}

/// [`run_apart`] over the slices `next` gives, one after another, into one pending
/// relation with one copy of the interner (as one run over them all would; the whole
/// scan if `next` gives none).
fn run_slices<'a, 'p>(
    c: &'a Compiled<'p>,
    vi: usize,
    shared: Shared<'a>,
    values: &Interner,
    budget: u64,
    mut next: impl FnMut() -> Option<(&'a Op<'p>, u32, u32)>,
) -> Option<(Pending, Interner)> {
    let mut values = values.layer();
    let mut out = Pending {
        rel: Rel::new(shared.0[c.head.0 as usize].arity),
        prov: Prov::default(),
    };
    let mut aggs = Vec::new();
    // Its own memos: the values it computes are numbered again when merged.
    let mut memos: Vec<Memo> = (0..c.nmemos).map(|_| Memo::default()).collect();
    let mut exec = exec(
        c,
        shared,
        &mut values,
        &mut out,
        &mut aggs,
        &mut memos,
        budget,
    );
    let ops = &c.variants[vi].1;
    let ok = match next() {
        None => exec.run(ops, 0).is_ok(),
        Some(first) => {
            let mut slice = Some(first);
            let mut ok = true;
            while let (true, Some(s)) = (ok, slice) {
                exec.outer = Some(s);
                ok = exec.run(ops, 0).is_ok();
                slice = next();
            }
            ok
        }
    };
    ok.then_some((out, values))
}

/// The parts of a split run not taken yet, `.0..(.1)`: one thread takes them from the
/// front, into one run, the others from the back, each into a run of its own.
struct Ends(std::sync::Mutex<(usize, usize)>);

impl Ends {
    fn front(&self) -> Option<usize> {
        self.front_if(|_| true)
    }

    /// The front part, if `take` holds of it.
    fn front_if(&self, take: impl Fn(usize) -> bool) -> Option<usize> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (g.0 < g.1 && take(g.0)).then(|| {
            g.0 += 1;
            g.0 - 1
        })
    }

    fn back(&self) -> Option<usize> {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (g.0 < g.1).then(|| {
            g.1 -= 1;
            g.1
        })
    }
}

/// Value ids of a run on an interner of its own, as the round's interner numbers them:
/// ids from `from` on are the run's own values, `ids[id - from]` theirs in the round.
struct Remap {
    from: u32,
    ids: Vec<u32>,
}

impl Remap {
    /// No change: the run's interner was the round's.
    const SAME: Remap = Remap {
        from: u32::MAX,
        ids: Vec::new(),
    };

    /// Whether every id maps to itself.
    fn is_same(&self) -> bool {
        (self.from..).zip(&self.ids).all(|(a, &b)| a == b)
    }

    fn map(&self, id: u32) -> u32 {
        match id.checked_sub(self.from) {
            Some(i) => self.ids.get(i as usize).copied().unwrap_or(id),
            None => id,
        }
    }

    /// Interns into `into`, in their order, the values a run added after the first
    /// `from` ids (`Interner::take_from`); so they are numbered as if the run had
    /// interned them into `into`.
    fn intern(into: &mut Interner, added: Vec<Option<Value>>, from: usize) -> Remap {
        let ids = (added.into_iter())
            .map(|v| match v {
                Some(v) => into.intern_owned(v),
                None => UNBOUND,
            })
            .collect();
        Remap {
            from: from as u32,
            ids,
        }
    }
}

/// Parts a split clause run is cut into per thread, at most (see `Engine::run_split`).
const PARTS_PER_THREAD: usize = 4;

/// The fewest outer tuples a part has when a run is cut into more parts than threads.
const PART_MIN: u32 = 1024;

/// The outer scan of variant `vi` of `c` (the first op that reads a relation whole) cut
/// into consecutive slices for `threads` threads (as many, or up to `per_thread` times
/// as many when the scan is long), if it may be split: the clause has no aggregate and
/// the scan reads at least `split_min` tuples.
fn outer_slices<'a, 'p>(
    c: &'a Compiled<'p>,
    vi: usize,
    rels: &[Rel],
    split_min: u32,
    (threads, per_thread): (usize, usize),
) -> Option<Vec<(&'a Op<'p>, u32, u32)>> {
    let outer = c.variants[vi]
        .1
        .iter()
        .find(|o| matches!(o, Op::Scan { .. }))?;
    let Op::Scan {
        rel, source, key, ..
    } = outer
    else {
        return None;
    };
    let (lo, hi) = super::join::range(&rels[*rel], *source);
    if c.naggs > 0 || !key.is_empty() || hi - lo < split_min.max(1) {
        return None;
    }
    let k = (((hi - lo) / PART_MIN) as usize).clamp(threads, threads * per_thread.max(1));
    let (n, k) = (u64::from(hi - lo), k as u64);
    let bound = |i: u64| lo + (n * i / k) as u32;
    Some((0..k).map(|i| (outer, bound(i), bound(i + 1))).collect())
}

/// The default [`super::EvalOptions::split_min`]: outer scans of fewer tuples run whole,
/// as splitting one costs a thread per part. `PROBITY_SPLIT_MIN` sets it (1 splits every
/// run, for tests).
pub(crate) fn split_min() -> u32 {
    std::env::var("PROBITY_SPLIT_MIN")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(4_096)
}

/// Every (relation, key columns) the plan's joins and antijoins look up, once each:
/// not the lookups that read a partial index built already (see [`build_partials`]).
fn wanted_indexes(
    program: &Program,
    plan: &Plan,
    rels: &[Rel],
    params: &[Value],
) -> Vec<(usize, Vec<usize>)> {
    let mut out = Vec::new();
    for_each_step(program, plan, &mut |body, steps, i| {
        let want = match (&steps[i], body.get(super::compile::step_lit(&steps[i]))) {
            (Step::Atom { key, .. }, Some(Literal::Atom(a)))
            | (Step::Not { key, .. }, Some(Literal::Not(a))) => (a.rel.0 as usize, key.clone()),
            _ => return,
        };
        // A scan with no key reads no index (see `compile`), nor does a lookup through
        // a partial index.
        let through_partial = matches!(steps[i], Step::Atom { .. })
            && partial_for(body, steps, i, params, rels).is_some();
        if !want.1.is_empty() && !out.contains(&want) && !through_partial {
            out.push(want);
        }
    });
    out
}

/// What [`for_each_step`] calls.
type StepFn<'p, 'f> = dyn FnMut(&'p [Literal], &[Step], usize) + 'f;

/// `f(body, steps, i)` for every step of every clause variant of the plan, those of
/// aggregates' bodies too.
fn for_each_step<'p>(program: &'p Program, plan: &Plan, f: &mut StepFn<'p, '_>) {
    fn walk<'p>(body: &'p [Literal], steps: &[Step], f: &mut StepFn<'p, '_>) {
        for (i, step) in steps.iter().enumerate() {
            if let (Step::Aggregate { body: inner, .. }, Some(Literal::Aggregate { body, .. })) =
                (step, body.get(super::compile::step_lit(step)))
            {
                walk(body, inner, f);
            }
            f(body, steps, i);
        }
    }
    for cp in plan.strata.iter().flat_map(|s| &s.clauses) {
        let body = &program.clause(cp.clause).body;
        for v in &cp.variants {
            walk(body, &v.steps, f);
        }
    }
}

/// The partial indexes the plan's lookups may read (see [`super::partial`]), each once:
/// on relations no clause derives, (relation, key column, the columns its lookups bind
/// or check, comparisons).
fn wanted_partials<'p>(program: &'p Program, plan: &Plan, params: &[Value]) -> Vec<Wanted<'p>> {
    let derived: Vec<usize> = (plan.strata.iter())
        .flat_map(|s| &s.rels)
        .map(|r| r.0 as usize)
        .collect();
    let mut out: Vec<Wanted<'p>> = Vec::new();
    for_each_step(program, plan, &mut |body, steps, i| {
        let Some((col, conds)) = absorbed(body, steps, i, params) else {
            return;
        };
        let Some(Literal::Atom(a)) = body.get(super::compile::step_lit(&steps[i])) else {
            return;
        };
        let rel = a.rel.0 as usize;
        if derived.contains(&rel) {
            return;
        }
        let bound = (a.terms.iter().enumerate())
            .filter(|(c, t)| *c != col && matches!(t, Term::Var(_)))
            .map(|(c, _)| c);
        let keys = cond_keys(&conds);
        match (out.iter_mut()).find(|w| w.0 == rel && w.1 == col && cond_keys(&w.3) == keys) {
            Some(w) => {
                w.2.extend(bound);
                w.2.sort_unstable();
                w.2.dedup();
            }
            None => out.push((rel, col, bound.collect(), conds)),
        }
    });
    out
}

/// A partial index to build: relation, key column, columns of its rows, comparisons.
type Wanted<'p> = (usize, usize, Vec<usize>, Vec<Cond<'p>>);

/// Builds the partial indexes `wanted` over the tuples there are (the base facts): each
/// tuple's comparisons are those of the filters they stand for, worked out once per
/// value of the column compared. One whose key column is not dense, or whose
/// comparison cannot be worked out, is not built: its lookup reads an ordinary index
/// and runs its filters.
fn build_partials(
    rels: &mut [Rel],
    wanted: Vec<Wanted<'_>>,
    values: &Interner,
    params: &[Value],
    threads: usize,
) {
    for (rel, col, cols, conds) in wanted {
        let Some(r) = rels.get(rel) else { continue };
        let n = r.len() as usize;
        // Per tuple its key, or none if a comparison fails, in parts side by side.
        // (Zeroed, so no page of it is touched before a thread writes it.)
        let mut keys = vec![0u32; n];
        let par = if n >= 1 << 17 { threads.clamp(1, 8) } else { 1 };
        let per = n.div_ceil(par).max(1);
        let (data, arity) = (r.data(), r.arity);
        let conds = &conds;
        let fill = |first: usize, out: &mut [u32]| -> bool {
            let nvars = conds.iter().map(|c| c.var as usize + 1).max().unwrap_or(0);
            let mut env = vec![UNBOUND; nvars];
            // Per comparison, the outcomes of the values seen lately (a column compared
            // with a constant repeats a few thousand values): direct-mapped, by id.
            let mut seen: Vec<Vec<(u32, bool)>> =
                conds.iter().map(|_| vec![(UNBOUND, false); SEEN]).collect();
            'tuples: for (k, key) in out.iter_mut().enumerate() {
                *key = NO_KEY;
                let tuple = &data[(first + k) * arity..(first + k + 1) * arity];
                for (c, seen) in conds.iter().zip(&mut seen) {
                    let id = tuple[c.key.0];
                    let slot =
                        &mut seen[(id as usize).wrapping_mul(0x9e37_79b1) >> 16 & (SEEN - 1)];
                    let pass = match *slot {
                        (x, pass) if x == id && id != UNBOUND => pass,
                        _ => {
                            env[c.var as usize] = id;
                            let scope = Scope {
                                env: &env,
                                values,
                                params,
                            };
                            let Ok(pass) = super::join::test(c.lit, &scope) else {
                                return false;
                            };
                            *slot = (id, pass);
                            pass
                        }
                    };
                    if !pass {
                        continue 'tuples;
                    }
                }
                *key = tuple[col];
            }
            true
        };
        let worked = std::thread::scope(|s| {
            let mut parts = keys.chunks_mut(per).enumerate();
            let mine = parts.next();
            let fill = &fill;
            let others: Vec<_> = parts
                .map(|(i, out)| s.spawn(move || fill(i * per, out)))
                .collect();
            let mut worked = mine.is_none_or(|(_, out)| fill(0, out));
            for w in others {
                worked &= w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
            worked
        });
        if !worked {
            continue;
        }
        let keys_of = cond_keys(conds);
        if let Some(p) = Partial::build(data, arity, (col, cols), &keys, keys_of, threads) {
            rels[rel].partials.push(p);
        }
    }
}

/// Outcomes of a partial index's comparison kept while its tuples are tested (a power
/// of two; see [`build_partials`]).
const SEEN: usize = 1 << 16;

/// A relation and the key columns of the indexes to build on it.
type Job<'r> = (&'r mut Rel, Vec<&'r [usize]>, bool);

/// Builds the indexes on `cols` of `rel` (frozen ones if `freeze`, a large one on
/// `threads` threads).
fn build(rel: &mut Rel, cols: &[&[usize]], freeze: bool, threads: usize) {
    for c in cols {
        match freeze {
            true => rel.frozen_index_on(c, threads),
            false => rel.index_for(c),
        };
    }
}

/// Builds the indexes `wanted` over the tuples there are now (the base facts), the
/// relations shared out over the loading threads: what [`compile`] would build one after
/// another, and then finds ready. A relation whose indexes are most of the work is built
/// first on every thread; the others are each built by one thread. The result is the
/// same whatever the number of threads.
fn build_indexes(rels: &mut [Rel], wanted: &[(usize, Vec<usize>)], plan: &Plan, threads: usize) {
    // Relations that clauses add to keep chains; the others' indexes are frozen.
    let derived: Vec<usize> = plan
        .strata
        .iter()
        .flat_map(|s| &s.rels)
        .map(|r| r.0 as usize)
        .collect();
    let mut jobs: Vec<(u64, &mut Rel, Vec<&[usize]>, bool)> = rels
        .iter_mut()
        .enumerate()
        .filter_map(|(i, rel)| {
            let cols: Vec<&[usize]> = wanted
                .iter()
                .filter(|(r, _)| *r == i)
                .map(|(_, c)| c.as_slice())
                .collect();
            let cost = u64::from(rel.len()) * cols.len() as u64;
            (cost > 0).then_some((cost, rel, cols, !derived.contains(&i)))
        })
        .collect();
    // Largest first.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
    let total: u64 = jobs.iter().map(|j| j.0).sum();
    if threads > 1 && jobs.first().is_some_and(|j| j.0 * 2 > total) {
        let (_, rel, cols, freeze) = jobs.remove(0);
        build(rel, &cols, freeze, threads);
    }
    let threads = threads.clamp(1, jobs.len().max(1));
    if threads <= 1 {
        for (_, rel, cols, freeze) in jobs {
            build(rel, &cols, freeze, 1);
        }
        return;
    }
    // Each to the least loaded thread.
    let mut shares: Vec<(u64, Vec<Job<'_>>)> = (0..threads).map(|_| (0, Vec::new())).collect();
    for (cost, rel, cols, freeze) in jobs {
        if let Some(share) = shares.iter_mut().min_by_key(|(load, _)| *load) {
            share.0 += cost;
            share.1.push((rel, cols, freeze));
        }
    }
    std::thread::scope(|s| {
        for (_, share) in shares {
            s.spawn(move || {
                for (rel, cols, freeze) in share {
                    build(rel, &cols, freeze, 1);
                }
            });
        }
    });
}

impl<'p> Engine<'p> {
    /// Compiles every stratum first, so all indexes exist before any tuple is derived
    /// and are then maintained as tuples arrive.
    pub(crate) fn run(&mut self, plan: &Plan) -> Result<(), Vec<Diagnostic>> {
        let program = self.program;
        let partials = match self.opts.partial_indexes {
            true => wanted_partials(program, plan, self.params),
            false => Vec::new(),
        };
        build_partials(
            &mut self.rels,
            partials,
            &self.values,
            self.params,
            self.opts.threads,
        );
        let wanted = wanted_indexes(program, plan, &self.rels, self.params);
        build_indexes(&mut self.rels, &wanted, plan, self.opts.threads);
        crate::timings::mark("evaluate: indexes built");
        let mut ready: Vec<Ready<'p>> = Vec::with_capacity(plan.strata.len());
        for s in &plan.strata {
            let clauses = s
                .clauses
                .iter()
                .map(|cp| {
                    let c = compile(
                        cp,
                        program.clause(cp.clause),
                        &mut self.rels,
                        &mut self.values,
                        self.params,
                    );
                    let aggs = (0..c.naggs).map(|_| AggState::default()).collect();
                    let memos = (0..c.nmemos).map(|_| Memo::default()).collect();
                    (c, aggs, memos)
                })
                .collect();
            ready.push(Ready { clauses });
        }
        for (s, r) in plan.strata.iter().zip(&mut ready) {
            self.stratum(s, r).map_err(|d| vec![*d])?;
        }
        // Only the compiled blocks read partial indexes: what is asked of the results
        // (findings, their evidence) reads the relations' own tuples.
        for r in &mut self.rels {
            r.partials = Vec::new();
        }
        Ok(())
    }

    fn stratum(&mut self, s: &StratumPlan, ready: &mut Ready<'p>) -> Result<(), Box<Diagnostic>> {
        // Tuples given for these relations (tests may give any relation) start as new.
        for r in &s.rels {
            let rel = &mut self.rels[r.0 as usize];
            rel.stable = 0;
            rel.recent = 0;
        }
        self.iterate(ready, false)?;
        let mut changed = self.advance(&s.rels);
        let mut iterations = 0u64;
        while s.recursive && changed {
            iterations += 1;
            if iterations > self.opts.max_iterations {
                return Err(Box::new(self.iteration_limit(&s.rels)));
            }
            self.iterate(ready, true)?;
            changed = self.advance(&s.rels);
        }
        for r in &s.rels {
            self.rels[r.0 as usize].settle();
        }
        Ok(())
    }

    /// One round: every clause variant (the delta variants when `delta`, else the rest).
    ///
    /// Consecutive variants of different clauses that compute no values run together on
    /// every thread, each cut into parts when long enough (`run_parts`), each part into a
    /// pending relation of its own, merged afterwards in variant and part order as
    /// [`Exec::reconsider`] would have (new tuples in order, a tuple both derived keeping
    /// the least derivation): the same tuples, order and derivations as one after another.
    /// If a part still interns a value (checked after the run), fails, or the batch could
    /// pass the tuple budget, the batch is run again one variant after another, which
    /// decides. A variant that computes values runs alone, split by `run_split`.
    fn iterate(&mut self, ready: &mut Ready<'p>, delta: bool) -> Result<(), Box<Diagnostic>> {
        let runs: Vec<(usize, usize)> = ready
            .clauses
            .iter()
            .enumerate()
            .flat_map(|(ci, (c, _, _))| {
                c.variants
                    .iter()
                    .enumerate()
                    .filter(move |(_, (d, _))| d.is_some() == delta)
                    .map(move |(vi, _)| (ci, vi))
            })
            .collect();
        let threads = self.opts.threads;
        let computes: Vec<bool> = ready.clauses.iter().map(|(c, _, _)| computes(c)).collect();
        let alone = |ci: usize| computes[ci];
        let mut k = 0;
        while k < runs.len() {
            let mut end = k + 1;
            if threads > 1 && !alone(runs[k].0) {
                while end < runs.len()
                    && !alone(runs[end].0)
                    && !runs[k..end].iter().any(|r| r.0 == runs[end].0)
                {
                    end += 1;
                }
            }
            if threads < 2 || alone(runs[k].0) || !self.run_parts(ready, &runs[k..end], threads) {
                for &(ci, vi) in &runs[k..end] {
                    if !self.run_split(ready, ci, vi, threads) {
                        self.run_variant(ready, ci, vi)?;
                    }
                }
            }
            k = end;
        }
        Ok(())
    }

    /// Runs `batch` (variants of distinct clauses that compute no values) on `threads`
    /// threads, each variant cut into a part per thread when its outer scan (the first
    /// op that reads a relation whole) is long enough: each thread takes the next part
    /// not taken, so a long variant does not leave the other threads idle after a short
    /// one. Each part runs into a pending relation of its own; they are merged in
    /// variant order, then part order, as one run after another would have made them
    /// (see `iterate` and `run_split`). `false` (nothing changed) if the batch must run
    /// one variant after another instead: a single part, a part that fails or interns a
    /// value, or parts that could pass the tuple budget.
    fn run_parts(&mut self, ready: &Ready<'p>, batch: &[(usize, usize)], threads: usize) -> bool {
        let budget = self.budget();
        let (rels, provs, params, opts) = (&self.rels[..], &self.prov[..], self.params, self.opts);
        let values = &self.values;
        // Per part: its variant and the slice of the outer scan it walks (all if none).
        type Part<'a, 'p> = (usize, usize, Option<(&'a Op<'p>, u32, u32)>);
        let mut parts: Vec<Part<'_, 'p>> = Vec::new();
        for &(ci, vi) in batch {
            let c = &ready.clauses[ci].0;
            match outer_slices(c, vi, rels, opts.split_min, (threads, PARTS_PER_THREAD)) {
                Some(slices) => parts.extend(slices.into_iter().map(|s| (ci, vi, Some(s)))),
                None => parts.push((ci, vi, None)),
            }
        }
        if parts.len() < 2 {
            return false;
        }
        let shared = (rels, provs, params, opts);
        // As in `run_split`: this thread walks the parts from the front, the parts of
        // one variant in one run; each other thread takes the last part not taken.
        let ends = Ends(std::sync::Mutex::new((0, parts.len())));
        let (ends, parts) = (&ends, &parts);
        // A run of clause `ci`'s variant `vi` over the parts `next` gives (the whole
        // scan for a part without a slice), unless it fails or interns a value.
        let run = move |ci: usize, vi: usize, next: &mut dyn FnMut() -> Option<usize>| {
            let c = &ready.clauses[ci].0;
            run_slices(c, vi, shared, values, budget, || {
                next().and_then(|q| parts[q].2)
            })
            .and_then(|(out, after)| (after.len() == values.len()).then_some(out))
        };
        let run = &run;
        let back = move || {
            let mut done: Vec<(usize, usize, Option<Pending>)> = Vec::new();
            while let Some(p) = ends.back() {
                let (ci, vi, _) = parts[p];
                let mut one = Some(p);
                done.push((p, ci, run(ci, vi, &mut || one.take())));
            }
            done
        };
        let mut results: Vec<(usize, usize, Option<Pending>)> = std::thread::scope(|s| {
            let workers: Vec<_> = (1..threads.min(parts.len()))
                .map(|_| s.spawn(back))
                .collect();
            let mut all = Vec::new();
            while let Some(p) = ends.front() {
                let (ci, vi, slice) = parts[p];
                let mut first = Some(p);
                let out = run(ci, vi, &mut || {
                    first.take().or_else(|| {
                        // The next part, if it continues this one.
                        let same = |q: usize| parts[q].0 == ci && parts[q].1 == vi;
                        slice?;
                        ends.front_if(|q| same(q) && parts[q].2.is_some())
                    })
                });
                all.push((p, ci, out));
            }
            for w in workers {
                all.extend(w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            all
        });
        results.sort_by_key(|(p, _, _)| *p);
        let Some(outs) = results
            .into_iter()
            .map(|(_, ci, o)| o.map(|o| (ci, o)))
            .collect::<Option<Vec<(usize, Pending)>>>()
        else {
            return false;
        };
        if outs
            .iter()
            .map(|(_, o)| u64::from(o.rel.len()))
            .sum::<u64>()
            > budget
        {
            return false;
        }
        for (ci, mut from) in outs {
            let head = ready.clauses[ci].0.head.0 as usize;
            self.merge(head, &mut from, &Remap::SAME);
        }
        true
    }

    /// Runs one clause variant in parts on `threads` threads, each part walking a slice
    /// of the outer scan (the first op that reads a relation whole) with a copy of the
    /// interner, and merges the parts in order: the tuples, order and derivations of one
    /// run (see
    /// `iterate`), and the values the parts computed numbered as one run would have
    /// (each part's new values interned after the earlier parts', in its order).
    /// `false` (nothing changed) if the variant must run whole: too few outer tuples, an
    /// aggregate, a part that fails, or parts that could pass the tuple budget.
    fn run_split(&mut self, ready: &Ready<'p>, ci: usize, vi: usize, threads: usize) -> bool {
        let c = &ready.clauses[ci].0;
        if threads < 2 {
            return false;
        }
        let parts = (threads, PARTS_PER_THREAD);
        let Some(slices) = outer_slices(c, vi, &self.rels, self.opts.split_min, parts) else {
            return false;
        };
        let budget = self.budget();
        let (rels, provs, params, opts) = (&self.rels[..], &self.prov[..], self.params, self.opts);
        let values = &self.values;
        let head = c.head.0 as usize;
        let shared = (rels, provs, params, opts);
        // This thread walks the parts from the front in one run, each other thread
        // takes the last part not taken: a thread on a core slower at the time (the
        // cores of a shared machine are not always alike) does fewer parts, and the
        // front ones need no merging among themselves.
        let ends = Ends(std::sync::Mutex::new((0, slices.len())));
        let (ends, slices) = (&ends, &slices);
        let back = move || {
            let mut done = Vec::new();
            while let Some(i) = ends.back() {
                done.push((i, run_apart(c, vi, shared, values, budget, Some(slices[i]))));
            }
            done
        };
        let mut results: Vec<(usize, Option<(Pending, Interner)>)> = std::thread::scope(|s| {
            let workers: Vec<_> = (1..threads.min(slices.len()))
                .map(|_| s.spawn(back))
                .collect();
            let front = run_slices(c, vi, shared, values, budget, || {
                ends.front().map(|i| slices[i])
            });
            let mut all = vec![(0, front)];
            for w in workers {
                all.extend(w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            }
            all
        });
        // The front run first (its parts are the first ones), then the others in order.
        results.sort_by_key(|(i, _)| *i);
        let results = results.into_iter().map(|(_, r)| r);
        let Some(outs) = results.into_iter().collect::<Option<Vec<_>>>() else {
            return false;
        };
        if outs
            .iter()
            .map(|(o, _)| u64::from(o.rel.len()))
            .sum::<u64>()
            > budget
        {
            return false;
        }
        let before = self.values.len();
        // Every part's values taken out first: the round's then are its own again, and
        // grow without being copied.
        let outs: Vec<(Pending, Vec<Option<Value>>)> = (outs.into_iter())
            .map(|(out, values)| (out, values.take_from(before)))
            .collect();
        for (mut out, added) in outs {
            let remap = Remap::intern(&mut self.values, added, before);
            self.merge(head, &mut out, &remap);
        }
        true
    }

    /// Adds a variant's pending tuples, derived apart, to the round's (see `iterate`).
    fn merge(&mut self, head: usize, from: &mut Pending, remap: &Remap) {
        let provenance = self.opts.provenance;
        // Into nothing yet, as they are: the same tuples in the same order, the same
        // derivations (the run's tuples are distinct already).
        let into = &mut self.pending[head];
        if into.rel.len() == 0 && into.prov.is_empty() && remap.is_same() {
            into.rel.take_all(&mut from.rel);
            std::mem::swap(&mut into.prov, &mut from.prov);
            return;
        }
        let mut buf: Vec<u32> = Vec::with_capacity(from.rel.arity);
        into.rel.reserve(from.rel.len() as usize);
        for t in 0..from.rel.len() {
            buf.clear();
            buf.extend(from.rel.tuple(t).iter().map(|&id| remap.map(id)));
            let tuple = &buf[..];
            let into = &mut self.pending[head];
            if into.rel.insert(tuple).is_some() {
                if provenance {
                    into.prov
                        .copy_mapped(&from.prov, t as usize, |id| remap.map(id));
                }
                continue;
            }
            if !provenance {
                continue;
            }
            let (Some(at), Some(new)) = (into.rel.position(tuple), from.prov.get(t as usize))
            else {
                continue;
            };
            let Some(old) = into.prov.get(at as usize) else {
                continue;
            };
            if old.clause == BASE || old.clause < new.clause {
                continue;
            }
            let new_prems = &from.prov.prems[new.prem as usize..(new.prem + new.nprem) as usize];
            if old.clause == new.clause {
                let old_prems =
                    &into.prov.prems[old.prem as usize..(old.prem + old.nprem) as usize];
                let keep = match old_prems.get(..new_prems.len()) {
                    Some(recorded) => {
                        derivation_order(&self.rels, &self.prov, &self.values, new_prems, recorded)
                            != std::cmp::Ordering::Less
                    }
                    None => true,
                };
                if keep {
                    continue;
                }
            }
            let binds: Vec<u32> = from.prov.binds
                [new.bind as usize..(new.bind + new.nbind) as usize]
                .iter()
                .map(|&id| remap.map(id))
                .collect();
            self.pending[head]
                .prov
                .replace(at as usize, new.clause, &binds, new_prems);
        }
    }

    /// Runs one clause variant into the round's pending tuples.
    fn run_variant(
        &mut self,
        ready: &mut Ready<'p>,
        ci: usize,
        vi: usize,
    ) -> Result<(), Box<Diagnostic>> {
        let (c, aggs, memos) = &mut ready.clauses[ci];
        let ops = &c.variants[vi].1;
        let head = c.head.0 as usize;
        let budget = self.budget();
        let shared = (&self.rels[..], &self.prov[..], self.params, self.opts);
        let out = &mut self.pending[head];
        let mut exec = exec(c, shared, &mut self.values, out, aggs, memos, budget);
        match exec.run(ops, 0) {
            Ok(()) => Ok(()),
            Err(Fail::Expr(e)) => Err(Box::new(self.expr_error(c.head, e))),
            Err(Fail::Limit) => Err(Box::new(self.tuple_limit(c.head))),
            Err(Fail::AggLimit) => Err(Box::new(self.agg_limit(c.head))),
        }
    }

    /// How many more tuples may be derived.
    fn budget(&self) -> u64 {
        self.opts
            .max_tuples
            .saturating_sub(self.derived + self.pending_len())
    }

    fn pending_len(&self) -> u64 {
        self.pending.iter().map(|p| p.rel.len() as u64).sum()
    }

    /// Moves this round's tuples into their relations, then datafrog's `changed()`.
    fn advance(&mut self, rels: &[RelId]) -> bool {
        let mut changed = false;
        for r in rels {
            let i = r.0 as usize;
            let p = &mut self.pending[i];
            let rel = &mut self.rels[i];
            self.derived += p.rel.len() as u64;
            if rel.len() == 0 && self.prov[i].is_empty() {
                // The first tuples: the pending ones as they are.
                rel.take_all(&mut p.rel);
                std::mem::swap(&mut self.prov[i], &mut p.prov);
                p.prov.clear();
                changed |= rel.advance();
                continue;
            }
            rel.reserve(p.rel.len() as usize);
            for t in 0..p.rel.len() {
                rel.push(p.rel.tuple(t));
                if self.opts.provenance {
                    self.prov[i].copy_from(&p.prov, t as usize);
                }
            }
            p.rel.clear();
            p.prov.clear();
            changed |= rel.advance();
        }
        changed
    }

    fn expr_error(&self, head: RelId, e: ExprError) -> Diagnostic {
        let name = &self.program.rel(head).name;
        match e {
            ExprError::Overflow(span) => Diagnostic::error(
                "probity::eval::overflow",
                format!("arithmetic overflow while deriving `{name}`"),
            )
            .at(span)
            .help("the values are too large for exact arithmetic; check the data for an outlier, or scale the numbers down"),
            ExprError::DivZero(span) => Diagnostic::error(
                "probity::eval::division_by_zero",
                format!("division by zero while deriving `{name}`"),
            )
            .at(span)
            .help("guard the divisor with a comparison first, e.g. `b != 0`"),
        }
    }

    fn tuple_limit(&self, head: RelId) -> Diagnostic {
        let name = &self.program.rel(head).name;
        Diagnostic::error(
            "probity::eval::limit",
            format!(
                "evaluation stopped at {} derived tuples while deriving `{name}`",
                self.opts.max_tuples
            ),
        )
        .at(self.program.rel(head).span)
        .help("the rule may join unrelated relations (a cross product), or a recursive rule may keep inventing values; if the data really is this large, raise the limit with `--max-derived N`")
    }

    fn agg_limit(&self, head: RelId) -> Diagnostic {
        let name = &self.program.rel(head).name;
        Diagnostic::error(
            "probity::eval::limit",
            format!(
                "an aggregate ranges over more than {} bindings while deriving `{name}`",
                self.opts.max_tuples
            ),
        )
        .at(self.program.rel(head).span)
        .help("the aggregate's body may join unrelated relations (a cross product); if the data really is this large, raise the limit with `--max-derived N`")
    }

    fn iteration_limit(&self, rels: &[RelId]) -> Diagnostic {
        let grow = rels
            .iter()
            .max_by_key(|r| {
                let x = &self.rels[r.0 as usize];
                x.recent - x.stable
            })
            .copied()
            .unwrap_or(RelId(0));
        let name = &self.program.rel(grow).name;
        Diagnostic::error(
            "probity::eval::limit",
            format!(
                "recursion through `{name}` did not settle after {} iterations",
                self.opts.max_iterations
            ),
        )
        .at(self.program.rel(grow).span)
        .help("a recursive rule may keep inventing values (e.g. arithmetic in a recursive head); if the chains really are this long, raise the limit with `--max-iterations N`")
    }
}
