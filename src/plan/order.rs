//! Greedy, bound-variable-driven join ordering of one clause body.

use super::{Sizes, Source, Step};
use crate::ir::{Atom, Literal, Term, VarId};

/// Variables a literal needs bound before it can run (atoms need none).
pub(crate) fn needed_vars(lit: &Literal) -> Vec<VarId> {
    let mut out = Vec::new();
    match lit {
        Literal::Atom(_) => {}
        Literal::Not(a) => a.vars(&mut out),
        Literal::Aggregate { group, .. } => out.extend(group.iter().copied()),
        _ => lit.exprs().into_iter().for_each(|e| e.vars(&mut out)),
    }
    out
}

/// Every variable a literal binds once it has run.
pub(crate) fn bound_after(lit: &Literal) -> Vec<VarId> {
    let mut out = Vec::new();
    match lit {
        Literal::Atom(a) => a.vars(&mut out),
        Literal::Assign { var, .. } => out.push(*var),
        Literal::Aggregate { result, .. } => out.push(*result),
        _ => {}
    }
    out
}

/// Columns of `a` known before it runs: constants and already bound variables.
pub(crate) fn key_columns(a: &Atom, bound: &[bool]) -> Vec<usize> {
    a.terms
        .iter()
        .enumerate()
        .filter(|(_, t)| match t {
            Term::Const(_) => true,
            Term::Var(v) => bound.get(v.0 as usize).copied().unwrap_or(false),
            Term::Wildcard => false,
        })
        .map(|(i, _)| i)
        .collect()
}

fn is_bound(bound: &[bool], v: VarId) -> bool {
    bound.get(v.0 as usize).copied().unwrap_or(false)
}

fn bind(bound: &mut Vec<bool>, vars: &[VarId]) {
    for v in vars {
        let i = v.0 as usize;
        if i >= bound.len() {
            bound.resize(i + 1, false);
        }
        bound[i] = true;
    }
}

/// Orders `body`: every filter, assignment, negation and aggregate as soon as its
/// variables are bound; otherwise the atom with the most known columns (then the smaller
/// relation, then source order). `first` (the delta atom) goes first.
pub(crate) fn order(
    body: &[Literal],
    nvars: usize,
    first: Option<usize>,
    source: &dyn Fn(usize) -> Source,
    sizes: Sizes<'_>,
) -> Vec<Step> {
    let mut bound = vec![false; nvars];
    order_bound(body, &mut bound, first, source, sizes)
}

fn order_bound(
    body: &[Literal],
    bound: &mut Vec<bool>,
    first: Option<usize>,
    source: &dyn Fn(usize) -> Source,
    sizes: Sizes<'_>,
) -> Vec<Step> {
    let mut placed = vec![false; body.len()];
    let mut steps = Vec::with_capacity(body.len());
    let mut next_atom = first;
    loop {
        place_ready(body, bound, &mut placed, &mut steps, sizes);
        let pick = next_atom
            .take()
            .or_else(|| best_atom(body, bound, &placed, sizes));
        let Some(i) = pick else { break };
        let Literal::Atom(a) = &body[i] else { break };
        steps.push(Step::Atom {
            lit: i,
            source: source(i),
            key: key_columns(a, bound),
        });
        placed[i] = true;
        bind(bound, &bound_after(&body[i]));
    }
    // Literals whose variables never get bound (an unsafe program): they run last and,
    // reading unbound variables, fail.
    for i in 0..body.len() {
        if !placed[i] {
            placed[i] = true;
            steps.push(non_atom_step(body, i, bound, sizes));
            bind(bound, &bound_after(&body[i]));
        }
    }
    steps
}

fn place_ready(
    body: &[Literal],
    bound: &mut Vec<bool>,
    placed: &mut [bool],
    steps: &mut Vec<Step>,
    sizes: Sizes<'_>,
) {
    let mut progress = true;
    while progress {
        progress = false;
        for i in 0..body.len() {
            if placed[i] || matches!(body[i], Literal::Atom(_)) {
                continue;
            }
            if needed_vars(&body[i]).iter().all(|v| is_bound(bound, *v)) {
                placed[i] = true;
                steps.push(non_atom_step(body, i, bound, sizes));
                bind(bound, &bound_after(&body[i]));
                progress = true;
            }
        }
    }
}

fn non_atom_step(body: &[Literal], i: usize, bound: &[bool], sizes: Sizes<'_>) -> Step {
    match &body[i] {
        Literal::Not(a) => Step::Not {
            lit: i,
            key: key_columns(a, bound),
        },
        Literal::Assign { var, .. } => Step::Assign {
            lit: i,
            test: is_bound(bound, *var),
        },
        Literal::Aggregate { body: inner, .. } => {
            let mut inner_bound = bound.to_vec();
            let full = |_: usize| Source::Full;
            Step::Aggregate {
                lit: i,
                body: order_bound(inner, &mut inner_bound, None, &full, sizes),
            }
        }
        Literal::Atom(a) => Step::Atom {
            lit: i,
            source: Source::Full,
            key: key_columns(a, bound),
        },
        _ => Step::Filter { lit: i },
    }
}

fn best_atom(body: &[Literal], bound: &[bool], placed: &[bool], sizes: Sizes<'_>) -> Option<usize> {
    let size = |a: &Atom| -> usize {
        sizes
            .and_then(|s| s.get(a.rel.0 as usize).copied())
            .unwrap_or(usize::MAX)
    };
    body.iter()
        .enumerate()
        .filter(|(i, _)| !placed[*i])
        .filter_map(|(i, l)| match l {
            Literal::Atom(a) => Some((i, a)),
            _ => None,
        })
        .min_by_key(|(i, a)| (usize::MAX - key_columns(a, bound).len(), size(a), *i))
        .map(|(i, _)| i)
}
