//! Evaluation: base facts and a planned program in, every relation's tuples and their
//! derivations out, by a semi-naive fixpoint per stratum over interned, indexed tuples.
//!
//! Values are interned once per run to dense `u32` ids; relations are flat `u32` tuples
//! with hash indexes on the columns each lookup needs; each derived tuple records the
//! clause, bindings and premise tuples that first derived it.
//!
//! Semantics decided here:
//! - Relations are sets; a tuple's index is its position in derivation order.
//! - `none`, an unbound variable, or operands of types an operator does not take make
//!   an expression valueless: the literal (or the derivation) is false, never an error.
//!   Overflow, division by zero and dates out of range are errors.
//! - `count` and `sum` range over distinct bindings of the variables the aggregate body
//!   binds itself (variables named `_` excluded); over nothing they are 0. `min`/`max`
//!   over nothing bind nothing. Results are cached per group for the whole stratum.
//! - Durations order by their approximate length in days (`1mo` ~ 30d).
//! - Limits: [`EvalOptions::max_tuples`] derived tuples in total and
//!   [`EvalOptions::max_iterations`] iterations per recursive stratum.

mod compile;
mod expr;
mod fixpoint;
mod intern;
mod join;
mod partial;
mod provenance;
mod relation;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

pub use provenance::{Derivation, Proof, ProofNode, TupleRef};

use crate::diag::Diagnostic;
use crate::facts::{FactSet, OriginId};
use crate::ir::{ClauseId, Literal, Program, RelId, RelKind, Term};
use crate::plan::{Plan, plan_with_sizes};
use crate::value::Value;
use fixpoint::Engine;
use intern::{Interner, UNBOUND};
use join::Pending;
use provenance::{BASE, Prov};
use relation::Rel;

/// Limits and switches for one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    /// Most tuples derived in total (base facts not counted) before `probity::eval::limit`.
    pub max_tuples: u64,
    /// Most iterations of one recursive stratum before `probity::eval::limit`.
    pub max_iterations: u64,
    /// Record one derivation per derived tuple.
    pub provenance: bool,
    /// Most premise tuples an aggregate contributes to one derivation.
    pub max_aggregate_premises: usize,
    /// Leave out the base relations no clause reads: the rules' results are the same,
    /// but [`Database`] then holds no tuples for those relations.
    pub skip_unread: bool,
    /// Threads to evaluate on: independent clauses run side by side, and a clause whose
    /// outer scan reads at least `split_min` tuples is split over them. The results never
    /// depend on either.
    pub threads: usize,
    /// Fewest outer tuples for which one clause run is split over `threads`.
    pub split_min: u32,
    /// Look up a relation no clause derives, where comparisons of the looked-up
    /// columns with constants follow, through partial indexes of only the tuples that
    /// pass them. The results never depend on it.
    pub partial_indexes: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions {
            max_tuples: crate::limits::max_derived(),
            max_iterations: crate::limits::max_iterations(),
            provenance: true,
            max_aggregate_premises: 100,
            skip_unread: false,
            threads: crate::case::threads(),
            split_min: fixpoint::split_min(),
            partial_indexes: true,
        }
    }
}

/// Param values in [`crate::ir::ParamId`] order: the program's defaults.
pub fn default_params(program: &Program) -> Vec<Value> {
    program.params.iter().map(|p| p.default.clone()).collect()
}

/// Every relation's tuples after evaluation, with their derivations.
#[derive(Debug, Clone)]
pub struct Database {
    values: Interner,
    rels: Vec<Rel>,
    prov: Vec<Prov>,
    /// Per clause: how many positive atoms its body has (its first premises; the rest
    /// are what its aggregates ranged over).
    tops: Vec<u32>,
}

/// Per clause: the number of positive atoms of its body.
fn top_atoms(program: &Program) -> Vec<u32> {
    program
        .clauses
        .iter()
        .map(|c| {
            c.body
                .iter()
                .filter(|l| matches!(l, Literal::Atom(_)))
                .count() as u32
        })
        .collect()
}

/// Evaluates `program` over `facts`. `params` overrides defaults by position (missing
/// entries take the program's defaults). Errors: unstratifiable programs, arithmetic
/// overflow, division by zero, and the limits of `opts`.
pub fn evaluate(
    program: &Program,
    facts: &FactSet,
    params: &[Value],
    opts: &EvalOptions,
) -> Result<Database, Vec<Diagnostic>> {
    let plan = plan_with_sizes(program, Some(&relation_sizes(program, facts)))?;
    evaluate_plan(program, &plan, facts, params, opts)
}

/// What the planner orders joins by: per relation, how many facts `facts` gives it
/// (`usize::MAX` for a derived relation, whose size is not known before evaluation).
pub fn relation_sizes(program: &Program, facts: &FactSet) -> Vec<usize> {
    (0..program.relations.len())
        .map(|i| match program.relations[i].kind {
            RelKind::Base | RelKind::Entity(_) => {
                facts.tuples.get(i).map_or(0, crate::facts::Tuples::len)
            }
            _ => usize::MAX,
        })
        .collect()
}

/// Evaluates with a plan made beforehand (see [`crate::plan::plan`]).
pub fn evaluate_plan(
    program: &Program,
    plan: &Plan,
    facts: &FactSet,
    params: &[Value],
    opts: &EvalOptions,
) -> Result<Database, Vec<Diagnostic>> {
    let mut all_params = default_params(program);
    for (slot, v) in all_params.iter_mut().zip(params) {
        *slot = v.clone();
    }
    let mut engine = Engine {
        program,
        opts,
        params: &all_params,
        values: Interner::over(facts.values().clone()),
        rels: program
            .relations
            .iter()
            .map(|r| Rel::new(r.arity()))
            .collect(),
        prov: vec![Prov::default(); program.relations.len()],
        pending: Vec::new(),
        derived: 0,
    };
    engine.pending = engine
        .rels
        .iter()
        .map(|r| Pending {
            rel: Rel::new(r.arity),
            prov: Prov::default(),
        })
        .collect();
    load(&mut engine, program, facts, opts);
    crate::timings::mark("evaluate: base facts stored");
    engine.run(plan)?;
    crate::timings::mark("evaluate: done");
    Ok(Database {
        values: engine.values,
        rels: engine.rels,
        prov: engine.prov,
        tops: top_atoms(program),
    })
}

/// A relation's base facts to store: where, with their provenance, from which tuples.
/// (And whether some clause derives into the relation too.)
type StoreJob<'a> = (&'a mut Rel, &'a mut Prov, &'a crate::facts::Tuples, bool);

/// Stores the base facts (their values are interned in the fact set's table already;
/// duplicates keep their first origin); with `skip_unread`, only those of relations some
/// clause reads. Without provenance, base tuples record no origin either. Relations are
/// independent here, so they are stored on all cores (largest first, each to the least
/// loaded worker); the result does not depend on the split.
fn load(engine: &mut Engine<'_>, program: &Program, facts: &FactSet, opts: &EvalOptions) {
    let read = read_relations(program);
    // Relations some clause derives into keep the incremental path (their set index is
    // needed at once); the others are bulk loaded.
    let mut heads = vec![false; program.relations.len()];
    for c in &program.clauses {
        if let Some(h) = heads.get_mut(c.head.0 as usize) {
            *h = true;
        }
    }
    let mut jobs: Vec<StoreJob> = engine
        .rels
        .iter_mut()
        .zip(engine.prov.iter_mut())
        .zip(&facts.tuples)
        .enumerate()
        .filter(|(i, ((rel, _), tuples))| {
            (!opts.skip_unread || read.get(*i).copied().unwrap_or(false))
                && !tuples.is_empty()
                && tuples.width() == rel.arity
        })
        .map(|(i, ((rel, prov), tuples))| (rel, prov, tuples, heads[i]))
        .collect();
    jobs.sort_by_key(|(_, _, t, _)| std::cmp::Reverse(t.len()));
    let threads = opts.threads.clamp(1, jobs.len().max(1));
    let mut shares: Vec<(usize, Vec<StoreJob>)> = (0..threads).map(|_| (0, Vec::new())).collect();
    for job in jobs {
        if let Some(least) = shares.iter_mut().min_by_key(|(load, _)| *load) {
            least.0 += job.2.len();
            least.1.push(job);
        }
    }
    let provenance = opts.provenance;
    let store = move |share: Vec<StoreJob>| {
        for (rel, prov, tuples, derived_into) in share {
            if provenance {
                prov.reserve_base(tuples.len());
            }
            if derived_into || rel.len() > 0 {
                rel.reserve(tuples.len());
                for (ids, origin) in tuples {
                    if rel.insert(ids).is_some() && provenance {
                        prov.push_base(origin);
                    }
                }
            } else {
                let keep = rel.load_shared(&tuples.shared_ids(), tuples.len());
                if provenance {
                    let kept = |i: usize| keep.as_ref().is_none_or(|k| k[i]);
                    for (_, o) in tuples.origins().enumerate().filter(|(i, _)| kept(*i)) {
                        prov.push_base(o);
                    }
                }
            }
            rel.settle();
        }
    };
    let mut shares = shares.into_iter().map(|(_, s)| s);
    let first = shares.next().unwrap_or_default();
    std::thread::scope(|s| {
        let others: Vec<_> = shares.map(|share| s.spawn(move || store(share))).collect();
        store(first);
        for h in others {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
}

/// Calls `f` on every atom of `body`: negated ones and those of aggregates too.
fn each_atom(body: &[Literal], f: &mut impl FnMut(&crate::ir::Atom)) {
    for lit in body {
        match lit {
            Literal::Atom(a) | Literal::Not(a) => f(a),
            Literal::Aggregate { body, .. } => each_atom(body, f),
            _ => {}
        }
    }
}

/// Per relation: whether every atom of every clause that reads it (negated, or in an
/// aggregate, too) reads its first field alone, every other term a wildcard (`person(id:
/// p)`). Such a relation's other fields can change no result; they are only shown.
pub(crate) fn first_field_only(program: &Program) -> Vec<bool> {
    let mut only = vec![true; program.relations.len()];
    for c in &program.clauses {
        each_atom(&c.body, &mut |a| {
            if !a.terms.iter().skip(1).all(|t| matches!(t, Term::Wildcard))
                && let Some(o) = only.get_mut(a.rel.0 as usize)
            {
                *o = false;
            }
        });
    }
    only
}

/// Per relation: whether an atom of some clause (negated, or in an aggregate) reads it.
pub fn read_relations(program: &Program) -> Vec<bool> {
    let mut read = vec![false; program.relations.len()];
    for c in &program.clauses {
        each_atom(&c.body, &mut |a| {
            if let Some(r) = read.get_mut(a.rel.0 as usize) {
                *r = true;
            }
        });
    }
    read
}

impl Database {
    /// How many tuples `rel` holds.
    pub fn len(&self, rel: RelId) -> usize {
        self.rels
            .get(rel.0 as usize)
            .map_or(0, |r| r.len() as usize)
    }

    /// Whether `rel` holds no tuples.
    pub fn is_empty(&self, rel: RelId) -> bool {
        self.len(rel) == 0
    }

    /// The values of tuple `index` of `rel`.
    pub fn tuple(&self, rel: RelId, index: u32) -> Option<Vec<Value>> {
        let r = self.rels.get(rel.0 as usize)?;
        if index >= r.len() {
            return None;
        }
        r.tuple(index)
            .iter()
            .map(|&id| self.values.get(id).cloned())
            .collect()
    }

    /// All tuples of `rel` with their indexes, sorted by value (a deterministic order).
    pub fn tuples(&self, rel: RelId) -> Vec<(TupleRef, Vec<Value>)> {
        let mut out: Vec<(TupleRef, Vec<Value>)> = (0..self.len(rel) as u32)
            .filter_map(|i| Some((TupleRef { rel, index: i }, self.tuple(rel, i)?)))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        // A tuple held more than once (base facts stored with their repeats) is its
        // first copy: the sort keeps the copies in order.
        if self.rels.get(rel.0 as usize).is_some_and(Rel::has_repeats) {
            out.dedup_by(|later, first| later.1 == first.1);
        }
        out
    }

    /// The index of a tuple, if `rel` holds it.
    pub fn find(&self, rel: RelId, values: &[Value]) -> Option<u32> {
        let r = self.rels.get(rel.0 as usize)?;
        if values.len() != r.arity {
            return None;
        }
        let ids: Option<Vec<u32>> = values.iter().map(|v| self.values.lookup(v)).collect();
        r.position(&ids?)
    }

    /// How tuple `index` of `rel` first came to hold.
    pub fn derivation(&self, rel: RelId, index: u32) -> Option<Derivation> {
        if index >= self.rels.get(rel.0 as usize)?.len() {
            return None;
        }
        let p = &self.prov[rel.0 as usize];
        let Some(r) = p.get(index as usize) else {
            return Some(Derivation::Unknown);
        };
        if r.clause == BASE {
            return Some(Derivation::Base(OriginId(r.bind)));
        }
        let binds = &p.binds[r.bind as usize..(r.bind + r.nbind) as usize];
        let mut prems = p.prems[r.prem as usize..(r.prem + r.nprem) as usize].to_vec();
        // The tuples aggregates ranged over were recorded in the order the join met them,
        // which depends on its plan: they are given in relation and value order instead,
        // the same whichever engine evaluated the rules.
        let top = self.tops.get(r.clause as usize).map_or(0, |&n| n as usize);
        if prems.len() > top + 1 {
            let key = |&(rel, index): &(u32, u32)| (rel, self.tuple(RelId(rel), index));
            prems[top..].sort_by_cached_key(key);
        }
        Some(Derivation::Rule {
            clause: ClauseId(r.clause),
            bindings: binds
                .iter()
                .map(|&id| {
                    (id != UNBOUND)
                        .then(|| self.values.get(id).cloned())
                        .flatten()
                })
                .collect(),
            premises: prems
                .iter()
                .map(|&(rel, index)| TupleRef {
                    rel: RelId(rel),
                    index,
                })
                .collect(),
        })
    }
}

/// A [`Database`] put together tuple by tuple, each with the derivation it was given:
/// what a finding needs when the rules were evaluated elsewhere (an SQL engine, see
/// `crate::sql::remote`). Premises must be added before what they prove.
pub(crate) struct Builder {
    values: Interner,
    rels: Vec<Rel>,
    prov: Vec<Prov>,
    tops: Vec<u32>,
}

impl Builder {
    /// An empty database over the values of `facts`.
    pub(crate) fn new(program: &Program, facts: &FactSet) -> Builder {
        Builder {
            values: Interner::over(facts.values().clone()),
            rels: program
                .relations
                .iter()
                .map(|r| Rel::new(r.arity()))
                .collect(),
            prov: vec![Prov::default(); program.relations.len()],
            tops: top_atoms(program),
        }
    }

    /// Adds a tuple unless present; the new one takes `derivation`. Its reference.
    fn add(
        &mut self,
        rel: RelId,
        values: &[Value],
        derivation: impl FnOnce(&mut Self, &mut Prov),
    ) -> TupleRef {
        let ids: Vec<u32> = values.iter().map(|v| self.values.intern(v)).collect();
        let r = &mut self.rels[rel.0 as usize];
        let index = match r.insert(&ids) {
            Some(i) => {
                let mut prov = std::mem::take(&mut self.prov[rel.0 as usize]);
                derivation(self, &mut prov);
                self.prov[rel.0 as usize] = prov;
                i
            }
            None => r.position(&ids).unwrap_or_default(),
        };
        TupleRef { rel, index }
    }

    /// A base fact written at `origin`.
    pub(crate) fn base(&mut self, rel: RelId, values: &[Value], origin: OriginId) -> TupleRef {
        self.add(rel, values, |_, prov| prov.push_base(origin))
    }

    /// A tuple derived by `clause` with these variable bindings from these premises.
    pub(crate) fn derived(
        &mut self,
        rel: RelId,
        values: &[Value],
        clause: ClauseId,
        bindings: &[Option<Value>],
        premises: &[TupleRef],
    ) -> TupleRef {
        self.add(rel, values, |b, prov| {
            let binds: Vec<u32> = bindings
                .iter()
                .map(|v| v.as_ref().map_or(UNBOUND, |v| b.values.intern(v)))
                .collect();
            let prems: Vec<(u32, u32)> = premises.iter().map(|t| (t.rel.0, t.index)).collect();
            prov.push(clause.0, &binds, &prems);
        })
    }

    pub(crate) fn finish(mut self) -> Database {
        for r in &mut self.rels {
            r.settle();
        }
        Database {
            values: self.values,
            rels: self.rels,
            prov: self.prov,
            tops: self.tops,
        }
    }
}
