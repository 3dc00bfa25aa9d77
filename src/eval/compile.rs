//! Turns a clause plan into executable ops: interned constants, index slots, the
//! columns each atom binds or checks, and premise slots for provenance.

use super::intern::Interner;
use super::partial::{Cond, CondKey};
use super::relation::Rel;
use crate::ir::{Atom, Clause, ClauseId, Expr, ExprKind, Literal, RelId, Term, VarId};
use crate::plan::{ClausePlan, Source, Step};
use crate::syntax::ast::{AggFunc, CmpOp};
use crate::value::Value;

/// Where a key value comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src {
    Var(u32),
    Const(u32),
}

/// A head term or assigned value: a variable, an interned constant, or an expression.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'p> {
    Var(u32),
    Const(u32),
    Expr(&'p Expr),
}

#[derive(Debug)]
pub(crate) enum Op<'p> {
    /// Match an atom: look up `key` in index `index` (or scan when `key` is empty), bind
    /// `binds` (column, var), then require `checks` (column, var) for repeated variables.
    Scan {
        rel: usize,
        slot: usize,
        source: Source,
        index: usize,
        /// A partial index of `rel` read instead of `index`, which applies the
        /// comparisons that followed the atom (see [`absorbed`]).
        partial: Option<PartialScan>,
        key: Vec<Src>,
        binds: Vec<(usize, u32)>,
        checks: Vec<(usize, u32)>,
    },
    Anti {
        rel: usize,
        index: usize,
        key: Vec<Src>,
    },
    /// `a = b` or `a != b` on two variables: compares ids.
    SameVars {
        a: u32,
        b: u32,
        equal: bool,
    },
    Filter {
        lit: &'p Literal,
        memo: Option<MemoAt>,
    },
    Assign {
        var: u32,
        val: Val<'p>,
        test: bool,
        memo: Option<MemoAt>,
    },
    Agg(Box<AggOp<'p>>),
    /// End of a clause body: derive the head.
    Emit,
    /// End of an aggregate body: add this binding to aggregate `slot`.
    Collect(Box<CollectOp<'p>>),
}

/// A lookup through partial index `id` (see [`super::partial`]): `binds` and `checks`
/// as the scan's, by place in the index's rows rather than by column.
#[derive(Debug)]
pub(crate) struct PartialScan {
    pub(crate) id: usize,
    pub(crate) binds: Vec<(usize, u32)>,
    pub(crate) checks: Vec<(usize, u32)>,
}

/// A filter or computed assignment over one or two variables, whose results a run
/// keeps by those variables' ids (`Exec`'s memo `slot`): a date column compared with a
/// constant, a share scaled by a factor, repeat a few thousand values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoAt {
    pub(crate) slot: usize,
    pub(crate) a: u32,
    pub(crate) b: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct AggOp<'p> {
    pub(crate) slot: usize,
    pub(crate) func: AggFunc,
    pub(crate) group: Vec<u32>,
    pub(crate) result: u32,
    /// `result` was bound before: the aggregate is then a test.
    pub(crate) test: bool,
    /// Variables bound only inside the body (reset after computing a group).
    pub(crate) locals: Vec<u32>,
    pub(crate) ops: Vec<Op<'p>>,
}

#[derive(Debug)]
pub(crate) struct CollectOp<'p> {
    pub(crate) slot: usize,
    pub(crate) func: AggFunc,
    /// Distinct bindings of these variables are what count and sum range over.
    pub(crate) distinct: Vec<u32>,
    pub(crate) over: Option<&'p Expr>,
    /// Premise slots of the body's atoms.
    pub(crate) atoms: Vec<usize>,
}

/// A clause ready to run: one op list per plan variant.
#[derive(Debug)]
pub(crate) struct Compiled<'p> {
    pub(crate) clause: ClauseId,
    pub(crate) head: RelId,
    pub(crate) head_vals: Vec<Val<'p>>,
    pub(crate) variants: Vec<(Option<usize>, Vec<Op<'p>>)>,
    pub(crate) nvars: usize,
    /// Premise slots of the top-level positive atoms, in body order.
    pub(crate) top_atoms: Vec<usize>,
    pub(crate) nslots: usize,
    pub(crate) naggs: usize,
    /// Memo slots of the filters and assignments ([`MemoAt`]).
    pub(crate) nmemos: usize,
}

struct Cx<'p, 'r> {
    clause: &'p Clause,
    rels: &'r mut [Rel],
    values: &'r mut Interner,
    params: &'r [Value],
    nslots: usize,
    naggs: usize,
    nmemos: usize,
    /// Premise slot per atom literal, assigned in first-seen order.
    slots: Vec<(*const Literal, usize)>,
    /// Aggregate slot per aggregate literal (the same in every variant).
    agg_slots: Vec<(*const Literal, usize)>,
}

pub(crate) fn compile<'p>(
    cp: &ClausePlan,
    clause: &'p Clause,
    rels: &mut [Rel],
    values: &mut Interner,
    params: &[Value],
) -> Compiled<'p> {
    let mut cx = Cx {
        clause,
        rels,
        values,
        params,
        nslots: 0,
        naggs: 0,
        nmemos: 0,
        slots: Vec::new(),
        agg_slots: Vec::new(),
    };
    // Top-level atoms get the first slots, in body order.
    let top_atoms: Vec<usize> = clause
        .body
        .iter()
        .filter(|l| matches!(l, Literal::Atom(_)))
        .map(|l| cx.slot(l))
        .collect();
    let mut variants = Vec::new();
    for v in &cp.variants {
        let mut bound = vec![false; clause.vars.len()];
        let mut ops = cx.steps(&clause.body, &v.steps, &mut bound);
        ops.push(Op::Emit);
        variants.push((v.delta, ops));
    }
    let head_vals = clause.head_terms.iter().map(|e| cx.val(e)).collect();
    Compiled {
        clause: cp.clause,
        head: clause.head,
        head_vals,
        variants,
        nvars: clause.vars.len(),
        top_atoms,
        nslots: cx.nslots,
        naggs: cx.naggs,
        nmemos: cx.nmemos,
    }
}

impl<'p> Cx<'p, '_> {
    fn slot(&mut self, l: &Literal) -> usize {
        let p = l as *const Literal;
        if let Some((_, s)) = self.slots.iter().find(|(q, _)| *q == p) {
            return *s;
        }
        self.slots.push((p, self.nslots));
        self.nslots += 1;
        self.nslots - 1
    }

    /// A memo slot for `exprs` if they read one or two variables.
    fn memo(&mut self, exprs: &[&Expr]) -> Option<MemoAt> {
        let mut vars = Vec::new();
        for e in exprs {
            e.vars(&mut vars);
        }
        vars.sort_unstable_by_key(|v| v.0);
        vars.dedup();
        let (a, b) = match vars[..] {
            [a] => (a.0, None),
            [a, b] => (a.0, Some(b.0)),
            _ => return None,
        };
        self.nmemos += 1;
        Some(MemoAt {
            slot: self.nmemos - 1,
            a,
            b,
        })
    }

    fn val(&mut self, e: &'p Expr) -> Val<'p> {
        match &e.kind {
            ExprKind::Var(v) => Val::Var(v.0),
            ExprKind::Const(c) => Val::Const(self.values.intern(c)),
            _ => Val::Expr(e),
        }
    }

    fn key(&mut self, a: &Atom, cols: &[usize]) -> Vec<Src> {
        cols.iter()
            .map(|&c| match a.terms.get(c) {
                Some(Term::Var(v)) => Src::Var(v.0),
                Some(Term::Const(k)) => Src::Const(self.values.intern(k)),
                // The planner only keys on variables and constants.
                _ => Src::Const(self.values.intern(&Value::None)),
            })
            .collect()
    }

    /// The slot of the index on `cols` of `rel`, made if new. A scan with no key reads
    /// the tuples in order and no index (see `Exec::scan`): it gets slot 0, the set
    /// index, which it never reads, rather than an index every tuple would be added to.
    fn index(&mut self, rel: RelId, cols: &[usize]) -> usize {
        if cols.is_empty() {
            return 0;
        }
        match self.rels.get_mut(rel.0 as usize) {
            Some(r) => r.index_for(cols),
            None => 0,
        }
    }

    fn steps(&mut self, body: &'p [Literal], steps: &[Step], bound: &mut Vec<bool>) -> Vec<Op<'p>> {
        let mut ops = Vec::with_capacity(steps.len());
        let mut i = 0;
        while i < steps.len() {
            // An atom looked up through a partial index: the comparisons it applies are
            // not run again, and no other index is made for it.
            let (id, cols, n) = match partial_for(body, steps, i, self.params, self.rels) {
                Some((_, id, cols, n)) => (Some(id), cols.to_vec(), n),
                None => (None, Vec::new(), 0),
            };
            let mut op = self.step(body, &steps[i], bound, id.is_some());
            if let (
                Op::Scan {
                    partial,
                    binds,
                    checks,
                    ..
                },
                Some(id),
            ) = (&mut op, id)
            {
                // (Every column is among the rows': see `partial_for`.)
                let at = |&(c, v): &(usize, u32)| {
                    (cols.iter().position(|&x| x == c).unwrap_or(usize::MAX), v)
                };
                *partial = Some(PartialScan {
                    id,
                    binds: binds.iter().map(at).collect(),
                    checks: checks.iter().map(at).collect(),
                });
                i += n;
            }
            i += 1;
            ops.push(op);
        }
        ops
    }

    /// The op of `step`; `partial`: an atom read through a partial index, which needs
    /// no other.
    fn step(
        &mut self,
        body: &'p [Literal],
        step: &Step,
        bound: &mut Vec<bool>,
        partial: bool,
    ) -> Op<'p> {
        match (step, &body[step_lit(step)]) {
            (Step::Atom { source, key, .. }, lit @ Literal::Atom(a)) => {
                let slot = self.slot(lit);
                let mut binds = Vec::new();
                let mut checks = Vec::new();
                for (c, t) in a.terms.iter().enumerate() {
                    if let Term::Var(v) = t {
                        if key.contains(&c) {
                            continue;
                        }
                        if bound[v.0 as usize] {
                            checks.push((c, v.0));
                        } else {
                            bound[v.0 as usize] = true;
                            binds.push((c, v.0));
                        }
                    }
                }
                Op::Scan {
                    rel: a.rel.0 as usize,
                    slot,
                    source: *source,
                    partial: None,
                    index: match partial {
                        true => 0,
                        false => self.index(a.rel, key),
                    },
                    key: self.key(a, key),
                    binds,
                    checks,
                }
            }
            (Step::Not { key, .. }, Literal::Not(a)) => Op::Anti {
                rel: a.rel.0 as usize,
                index: self.index(a.rel, key),
                key: self.key(a, key),
            },
            (Step::Assign { test, .. }, Literal::Assign { var, expr, .. }) => {
                bound[var.0 as usize] = true;
                let val = self.val(expr);
                let memo = match val {
                    Val::Expr(e) => self.memo(&[e]),
                    Val::Var(_) | Val::Const(_) => None,
                };
                Op::Assign {
                    var: var.0,
                    val,
                    test: *test,
                    memo,
                }
            }
            (Step::Aggregate { body: inner, .. }, lit @ Literal::Aggregate { .. }) => {
                self.aggregate(lit, inner, bound)
            }
            (_, lit @ Literal::Compare { op, lhs, rhs, .. }) => match (op, &lhs.kind, &rhs.kind) {
                (CmpOp::Eq | CmpOp::Ne, ExprKind::Var(a), ExprKind::Var(b)) => Op::SameVars {
                    a: a.0,
                    b: b.0,
                    equal: *op == CmpOp::Eq,
                },
                _ => self.filter(lit),
            },
            (_, lit) => self.filter(lit),
        }
    }

    fn filter(&mut self, lit: &'p Literal) -> Op<'p> {
        let memo = self.memo(&lit.exprs());
        Op::Filter { lit, memo }
    }

    fn aggregate(&mut self, lit: &'p Literal, inner: &[Step], bound: &mut Vec<bool>) -> Op<'p> {
        let Literal::Aggregate {
            result,
            func,
            over,
            group,
            body,
            ..
        } = lit
        else {
            return self.filter(lit);
        };
        let p = lit as *const Literal;
        let slot = match self.agg_slots.iter().find(|(q, _)| *q == p) {
            Some((_, s)) => *s,
            None => {
                self.agg_slots.push((p, self.naggs));
                self.naggs += 1;
                self.naggs - 1
            }
        };
        let before = bound.clone();
        let mut ops = self.steps(body, inner, bound);
        let locals: Vec<u32> = (0..bound.len())
            .filter(|&v| bound[v] && !before[v])
            .map(|v| v as u32)
            .collect();
        let distinct = locals
            .iter()
            .copied()
            .filter(|&v| {
                self.clause
                    .vars
                    .get(v as usize)
                    .is_some_and(|x| x.name != "_")
            })
            .collect();
        let atoms = body
            .iter()
            .filter(|l| matches!(l, Literal::Atom(_)))
            .map(|l| self.slot(l))
            .collect();
        ops.push(Op::Collect(Box::new(CollectOp {
            slot,
            func: *func,
            distinct,
            over: over.as_ref(),
            atoms,
        })));
        // Variables of the body stay local to it.
        *bound = before;
        let test = bound[result.0 as usize];
        bound[result.0 as usize] = true;
        Op::Agg(Box::new(AggOp {
            slot,
            func: *func,
            group: group.iter().map(|v| v.0).collect(),
            result: result.0,
            test,
            locals,
            ops,
        }))
    }
}

/// The comparisons a partial index could apply for atom step `i` of `steps` (see
/// [`super::partial`]): the filters right after it, each comparing a variable the atom
/// binds with a constant or a param, as long as they come one after another, and the
/// atom's key column. `None` unless the atom is looked up by one column of a relation
/// read whole and at least one such filter follows. (Whether the relation is one no
/// clause derives is for the caller to know.)
pub(crate) fn absorbed<'p>(
    body: &'p [Literal],
    steps: &[Step],
    i: usize,
    params: &[Value],
) -> Option<(usize, Vec<Cond<'p>>)> {
    let Some(Step::Atom { lit, source, key }) = steps.get(i) else {
        return None;
    };
    let (Source::Full, [col], Some(Literal::Atom(a))) = (source, &key[..], body.get(*lit)) else {
        return None;
    };
    // The column a variable the atom binds is first read from.
    let column = |v: VarId| {
        (a.terms.iter())
            .enumerate()
            .find(|(c, t)| !key.contains(c) && matches!(t, Term::Var(x) if *x == v))
            .map(|(c, _)| c)
    };
    let constant = |e: &Expr| match &e.kind {
        ExprKind::Const(c) => Some(c.clone()),
        ExprKind::Param(p) => params.get(p.0 as usize).cloned(),
        _ => None,
    };
    let mut conds = Vec::new();
    for step in &steps[i + 1..] {
        let Step::Filter { lit } = step else { break };
        let Some(l @ Literal::Compare { op, lhs, rhs, .. }) = body.get(*lit) else {
            break;
        };
        let (var, op, value) = match (&lhs.kind, &rhs.kind) {
            (ExprKind::Var(v), _) => (*v, *op, constant(rhs)),
            (_, ExprKind::Var(v)) => (*v, op.flipped(), constant(lhs)),
            _ => break,
        };
        let (Some(c), Some(value)) = (column(var), value) else {
            break;
        };
        conds.push(Cond {
            var: var.0,
            lit: l,
            key: (c, op, value),
        });
    }
    (!conds.is_empty()).then_some((*col, conds))
}

/// The partial index built for atom step `i` of `steps`, if there is one (see
/// [`absorbed`]) and its rows hold every column the atom binds or checks: the atom's
/// relation, the index, its rows' columns, and how many filters after the atom it
/// applies.
pub(crate) fn partial_for<'r>(
    body: &[Literal],
    steps: &[Step],
    i: usize,
    params: &[Value],
    rels: &'r [Rel],
) -> Option<(usize, usize, &'r [usize], usize)> {
    let (col, conds) = absorbed(body, steps, i, params)?;
    let Literal::Atom(a) = body.get(step_lit(&steps[i]))? else {
        return None;
    };
    let rel = a.rel.0 as usize;
    let r = rels.get(rel)?;
    let id = r.partial_on(col, &cond_keys(&conds))?;
    let cols = &r.partials[id].cols;
    let held = (a.terms.iter().enumerate())
        .all(|(c, t)| !matches!(t, Term::Var(_)) || c == col || cols.contains(&c));
    held.then_some((rel, id, &cols[..], conds.len()))
}

/// The keys of `conds`, as a partial index keeps them.
pub(crate) fn cond_keys(conds: &[Cond<'_>]) -> Vec<CondKey> {
    conds.iter().map(|c| c.key.clone()).collect()
}

pub(crate) fn step_lit(s: &Step) -> usize {
    match s {
        Step::Atom { lit, .. }
        | Step::Not { lit, .. }
        | Step::Filter { lit }
        | Step::Assign { lit, .. }
        | Step::Aggregate { lit, .. } => *lit,
    }
}
