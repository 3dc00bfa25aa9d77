//! Stratification: the relation dependency graph condensed into strongly connected
//! components, in evaluation order, with negation and aggregation allowed only downward.

use crate::diag::{Diagnostic, Span};
use crate::ir::{Literal, Program, RelId, RelKind};

/// A set of relations computed together; `recursive` if some clause reads its own stratum.
#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    pub rels: Vec<RelId>,
    pub recursive: bool,
}

/// A negation or aggregate inside a recursive cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct StratifyError {
    /// The relations of the cycle, starting at the clause's head.
    pub cycle: Vec<RelId>,
    /// The `not` atom or aggregate that closes the cycle.
    pub span: Span,
    /// `"negation"` or `"aggregation"`.
    pub what: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Edge {
    Positive,
    Negative,
    Aggregate,
}

/// Dependencies of a head relation: (body relation, kind of edge, span).
fn edges(program: &Program) -> Vec<Vec<(RelId, Edge, Span)>> {
    fn walk(lits: &[Literal], under_agg: bool, out: &mut Vec<(RelId, Edge, Span)>) {
        for lit in lits {
            match lit {
                Literal::Atom(a) => {
                    let e = if under_agg {
                        Edge::Aggregate
                    } else {
                        Edge::Positive
                    };
                    out.push((a.rel, e, a.span));
                }
                Literal::Not(a) => {
                    let e = if under_agg {
                        Edge::Aggregate
                    } else {
                        Edge::Negative
                    };
                    out.push((a.rel, e, a.span));
                }
                Literal::Aggregate { body, span, .. } => {
                    let mut inner = Vec::new();
                    walk(body, true, &mut inner);
                    out.extend(
                        inner
                            .into_iter()
                            .map(|(r, _, _)| (r, Edge::Aggregate, *span)),
                    );
                }
                _ => {}
            }
        }
    }
    let mut deps = vec![Vec::new(); program.relations.len()];
    for c in &program.clauses {
        walk(&c.body, false, &mut deps[c.head.0 as usize]);
    }
    deps
}

/// Tarjan's algorithm, iterative (no recursion, so deep programs cannot overflow the stack).
/// Returns components in reverse topological order of the "depends on" graph, that is,
/// dependencies first.
fn sccs(n: usize, succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if let Some(&w) = succ[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    comp.sort_unstable();
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// A path from `from` to `to` inside one component, for naming the cycle.
fn path_in(comp: &[usize], succ: &[Vec<usize>], from: usize, to: usize) -> Vec<usize> {
    let mut prev = vec![usize::MAX; succ.len()];
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = vec![false; succ.len()];
    seen[from] = true;
    while let Some(v) = queue.pop_front() {
        if v == to {
            break;
        }
        for &w in &succ[v] {
            if !seen[w] && comp.contains(&w) {
                seen[w] = true;
                prev[w] = v;
                queue.push_back(w);
            }
        }
    }
    let mut path = vec![to];
    let mut cur = to;
    while cur != from && prev[cur] != usize::MAX {
        cur = prev[cur];
        path.push(cur);
    }
    path.reverse();
    path
}

/// Whether some edge stays inside `comp`; reports each negative or aggregate one.
fn check_cycles(
    comp: &[usize],
    comp_of: &[usize],
    deps: &[Vec<(RelId, Edge, Span)>],
    succ: &[Vec<usize>],
    errors: &mut Vec<StratifyError>,
) -> bool {
    let mut inner = false;
    for &v in comp {
        for &(dep, edge, span) in &deps[v] {
            let d = dep.0 as usize;
            if comp_of[d] != comp_of[v] {
                continue;
            }
            inner = true;
            if edge != Edge::Positive {
                let mut cycle: Vec<RelId> = path_in(comp, succ, d, v)
                    .into_iter()
                    .map(|x| RelId(x as u32))
                    .collect();
                cycle.rotate_right(1);
                let what = if edge == Edge::Negative {
                    "negation"
                } else {
                    "aggregation"
                };
                errors.push(StratifyError { cycle, span, what });
            }
        }
    }
    inner
}

/// Orders the derived and rule relations into strata (base and entity relations are
/// inputs and appear in no stratum unless some clause derives into them). Errors on every negation or aggregate that sits
/// inside a recursive cycle.
pub fn stratify(program: &Program) -> Result<Vec<Stratum>, Vec<StratifyError>> {
    let n = program.relations.len();
    let deps = edges(program);
    let succ: Vec<Vec<usize>> = deps
        .iter()
        .map(|d| {
            let mut s: Vec<usize> = d.iter().map(|(r, _, _)| r.0 as usize).collect();
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    let comps = sccs(n, &succ);
    let mut comp_of = vec![0; n];
    for (ci, comp) in comps.iter().enumerate() {
        for &v in comp {
            comp_of[v] = ci;
        }
    }
    let mut errors = Vec::new();
    let mut strata = Vec::new();
    let mut is_head = vec![false; n];
    for c in &program.clauses {
        is_head[c.head.0 as usize] = true;
    }
    for comp in &comps {
        let derived: Vec<RelId> = comp
            .iter()
            .map(|&v| RelId(v as u32))
            .filter(|r| {
                is_head[r.0 as usize]
                    || matches!(program.rel(*r).kind, RelKind::Derived | RelKind::Rule(_))
            })
            .collect();
        if derived.is_empty() {
            continue;
        }
        let inner = check_cycles(comp, &comp_of, &deps, &succ, &mut errors);
        let recursive = comp.len() > 1 || inner;
        strata.push(Stratum {
            rels: derived,
            recursive,
        });
    }
    if errors.is_empty() {
        Ok(strata)
    } else {
        errors.sort_by_key(|e| e.span);
        errors.dedup_by_key(|e| e.span);
        Err(errors)
    }
}

/// The diagnostic for a negation or aggregate inside a recursive cycle.
pub fn to_diagnostic(program: &Program, e: &StratifyError) -> Diagnostic {
    let names: Vec<&str> = e
        .cycle
        .iter()
        .map(|r| program.rel(*r).name.as_str())
        .collect();
    let head = names.first().copied().unwrap_or("?");
    Diagnostic::error(
        "probity::plan::unstratifiable",
        format!("{} inside recursion: `{}` depends on itself through it", e.what, head),
    )
    .at(e.span)
    .help(format!(
        "the cycle is {}; move the {} out of the cycle, into a relation that does not depend on `{head}`",
        names.join(" -> "),
        e.what
    ))
}
