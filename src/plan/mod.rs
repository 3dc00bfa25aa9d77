//! Planning: strata by SCC condensation, then per clause a join order, the index keys
//! each lookup needs, and for recursive strata the semi-naive delta variants.
//!
//! The plan is a printable artifact ([`explain`]); the evaluator follows it step by step.

mod explain;
mod order;
pub mod strata;
#[cfg(test)]
mod tests;

pub use explain::explain;

use crate::diag::Diagnostic;
use crate::ir::{ClauseId, Literal, Program, RelId};

/// The whole program's evaluation plan: strata in evaluation order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub strata: Vec<StratumPlan>,
}

/// The clauses computing one stratum's relations.
#[derive(Debug, Clone, PartialEq)]
pub struct StratumPlan {
    pub rels: Vec<RelId>,
    pub recursive: bool,
    pub clauses: Vec<ClausePlan>,
}

/// One clause: a single variant, or in a recursive stratum one variant per body atom
/// that reads the stratum's own relations.
#[derive(Debug, Clone, PartialEq)]
pub struct ClausePlan {
    pub clause: ClauseId,
    pub variants: Vec<Variant>,
}

/// A join order. `delta` is the body literal that reads the previous iteration's new
/// tuples (`None`: the clause is evaluated once, over full relations).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub delta: Option<usize>,
    pub steps: Vec<Step>,
}

/// Which tuples of a relation an atom reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A relation of a lower stratum (or a base relation): all of it.
    Full,
    /// Tuples first derived in the previous iteration.
    Delta,
    /// Tuples known before the previous iteration.
    Stable,
    /// Everything known so far (stable and the previous iteration's tuples).
    StableRecent,
}

/// One step of a join order; `lit` indexes the body (or the aggregate's body) it is in.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Match a positive atom; `key` lists the columns already known (bound variables and
    /// constants), looked up through a hash index on exactly those columns.
    Atom {
        lit: usize,
        source: Source,
        key: Vec<usize>,
    },
    /// Antijoin: no tuple of the atom's relation matches on the `key` columns.
    Not { lit: usize, key: Vec<usize> },
    /// A comparison, `within`, `in` or `overlaps` over bound variables.
    Filter { lit: usize },
    /// `var = expr`; `test` when `var` is already bound (then it is an equality test).
    Assign { lit: usize, test: bool },
    /// Computed per binding of its group variables, following `body`'s own join order.
    Aggregate { lit: usize, body: Vec<Step> },
}

/// Relation sizes used to break ties in the join order (smaller relations first).
/// Unknown sizes (derived relations) count as larger than any known one.
pub type Sizes<'a> = Option<&'a [usize]>;

/// Plans the program with no size information.
pub fn plan(program: &Program) -> Result<Plan, Vec<Diagnostic>> {
    plan_with_sizes(program, None)
}

/// Plans the program; `sizes` (per relation id, e.g. base fact counts) guides join order.
pub fn plan_with_sizes(program: &Program, sizes: Sizes<'_>) -> Result<Plan, Vec<Diagnostic>> {
    let strata = strata::stratify(program).map_err(|errs| {
        errs.into_iter()
            .map(|e| strata::to_diagnostic(program, &e))
            .collect::<Vec<_>>()
    })?;
    let strata = strata
        .into_iter()
        .map(|s| plan_stratum(program, s, sizes))
        .collect();
    Ok(Plan { strata })
}

fn plan_stratum(program: &Program, s: strata::Stratum, sizes: Sizes<'_>) -> StratumPlan {
    let mut clauses = Vec::new();
    for (ci, clause) in program.clauses.iter().enumerate() {
        if !s.rels.contains(&clause.head) {
            continue;
        }
        let own: Vec<usize> = if s.recursive {
            clause
                .body
                .iter()
                .enumerate()
                .filter(|(_, l)| matches!(l, Literal::Atom(a) if s.rels.contains(&a.rel)))
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        let nvars = clause.vars.len();
        let variants = if own.is_empty() {
            let src = |_: usize| Source::Full;
            vec![Variant {
                delta: None,
                steps: order::order(&clause.body, nvars, None, &src, sizes),
            }]
        } else {
            own.iter()
                .map(|&d| {
                    // Semi-naive: atom `d` reads the delta, own atoms before it everything
                    // known so far, own atoms after it only the stable part.
                    let src = |i: usize| match i {
                        _ if !own.contains(&i) => Source::Full,
                        _ if i < d => Source::StableRecent,
                        _ if i == d => Source::Delta,
                        _ => Source::Stable,
                    };
                    Variant {
                        delta: Some(d),
                        steps: order::order(&clause.body, nvars, Some(d), &src, sizes),
                    }
                })
                .collect()
        };
        clauses.push(ClausePlan {
            clause: ClauseId(ci as u32),
            variants,
        });
    }
    StratumPlan {
        rels: s.rels,
        recursive: s.recursive,
        clauses,
    }
}
