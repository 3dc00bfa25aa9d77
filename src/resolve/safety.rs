//! Safety: every variable range-restricted, aggregate groups computed, single uses warned.

use crate::diag::{Diagnostic, Span};
use crate::ir::{self, ClauseOrigin, Expr, ExprKind, Literal, Term, VarId};

use super::codes;
use super::lower::Scope;

/// Where a variable is needed, for the help line.
#[derive(Clone, Copy)]
enum Need {
    Plain,
    Negation,
    Assign,
    Aggregate,
}

struct Checker<'a> {
    clause_vars: &'a [ir::Var],
    scope: &'a Scope,
    reported: Vec<bool>,
    /// Occurrences of each variable in the whole clause.
    total: Vec<usize>,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks the clause's variables and fills in each aggregate's group.
pub(crate) fn check(clause: &mut ir::Clause, scope: &Scope, diags: &mut Vec<Diagnostic>) {
    let n = clause.vars.len();
    let mut total = vec![0; n];
    count_lits(&clause.body, &mut total);
    for e in &clause.head_terms {
        count_expr(e, &mut total);
    }
    let mut c = Checker {
        clause_vars: &clause.vars,
        scope,
        reported: vec![false; n],
        total,
        diags,
    };
    let mut bound = vec![false; n];
    for v in &scope.excused {
        bound[v.0 as usize] = true;
        c.reported[v.0 as usize] = true;
    }
    bind_block(&clause.body, &mut bound);
    c.check_block(&mut clause.body, &bound);
    for e in &clause.head_terms {
        let mut vars = Vec::new();
        e.vars(&mut vars);
        for v in vars {
            if !bound[v.0 as usize] {
                c.head_unbound(v, e.span, clause.origin);
            }
        }
    }
    for (i, var) in clause.vars.iter().enumerate() {
        let occ = &scope.occ[i];
        if occ.len() == 1 && !var.name.starts_with('_') && !c.reported[i] {
            c.diags.push(
                Diagnostic::warning(
                    codes::SINGLE_USE,
                    format!("variable `{}` is used only once", var.name),
                )
                .at(occ[0])
                .help(format!(
                    "replace it with `_` (or `_{}`) if any value will do, or check its spelling",
                    var.name
                )),
            );
        }
    }
}

/// Marks what a block binds: positive atoms, aggregate results, then assignments whose
/// right-hand sides are bound (repeated until nothing changes).
fn bind_block(lits: &[Literal], bound: &mut [bool]) {
    for lit in lits {
        match lit {
            Literal::Atom(a) => {
                for t in &a.terms {
                    if let Term::Var(v) = t {
                        bound[v.0 as usize] = true;
                    }
                }
            }
            Literal::Aggregate { result, .. } => bound[result.0 as usize] = true,
            _ => {}
        }
    }
    loop {
        let mut changed = false;
        for lit in lits {
            if let Literal::Assign { var, expr, .. } = lit {
                let mut vars = Vec::new();
                expr.vars(&mut vars);
                if !bound[var.0 as usize] && vars.iter().all(|v| bound[v.0 as usize]) {
                    bound[var.0 as usize] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

impl Checker<'_> {
    fn check_block(&mut self, lits: &mut [Literal], bound: &[bool]) {
        for lit in lits {
            match lit {
                Literal::Atom(_) => {}
                Literal::Not(a) => {
                    for t in &a.terms {
                        if let Term::Var(v) = t {
                            if !bound[v.0 as usize] {
                                let span = self.span_in(*v, a.span);
                                self.unbound(*v, span, Need::Negation);
                            }
                        }
                    }
                }
                Literal::Compare { lhs, rhs, .. } => self.need(&[&*lhs, &*rhs], bound, Need::Plain),
                Literal::Assign { var, expr, .. } => {
                    if !bound[var.0 as usize] {
                        // Its right-hand side is reported; the variable itself would only echo it.
                        self.need(&[&*expr], bound, Need::Assign);
                        self.reported[var.0 as usize] = true;
                    }
                }
                Literal::Within {
                    lhs, window, rhs, ..
                } => self.need(&[&*lhs, &*window, &*rhs], bound, Need::Plain),
                Literal::InRange {
                    value, from, until, ..
                } => self.need(&[&*value, &*from, &*until], bound, Need::Plain),
                Literal::Overlaps {
                    a_from,
                    a_until,
                    b_from,
                    b_until,
                    ..
                } => self.need(
                    &[&*a_from, &*a_until, &*b_from, &*b_until],
                    bound,
                    Need::Plain,
                ),
                Literal::Aggregate {
                    over, group, body, ..
                } => self.aggregate(over.as_ref(), group, body, bound),
            }
        }
    }

    /// Checks an aggregate's body in its own scope and computes its group: the variables
    /// of the body (and `over`) that occur elsewhere in the clause too.
    fn aggregate(
        &mut self,
        over: Option<&Expr>,
        group: &mut Vec<VarId>,
        body: &mut [Literal],
        bound: &[bool],
    ) {
        let mut inner = bound.to_vec();
        bind_block(body, &mut inner);
        self.check_block(body, &inner);
        if let Some(e) = over {
            self.need(&[e], &inner, Need::Aggregate);
        }
        let mut here = vec![0; self.total.len()];
        count_lits(body, &mut here);
        if let Some(e) = over {
            count_expr(e, &mut here);
        }
        *group = (0..here.len())
            .filter(|&i| here[i] > 0 && self.total[i] > here[i])
            .map(|i| VarId(i as u32))
            .collect();
    }

    fn need(&mut self, exprs: &[&Expr], bound: &[bool], why: Need) {
        for e in exprs {
            let mut spans = Vec::new();
            expr_var_spans(e, &mut spans);
            for (v, span) in spans {
                if !bound[v.0 as usize] {
                    self.unbound(v, span, why);
                }
            }
        }
    }

    /// The first place `v` is written inside `within`, else `within`.
    fn span_in(&self, v: VarId, within: Span) -> Span {
        self.scope.occ[v.0 as usize]
            .iter()
            .find(|s| s.file == within.file && s.start >= within.start && s.end <= within.end)
            .copied()
            .unwrap_or(within)
    }

    fn unbound(&mut self, v: VarId, span: Span, why: Need) {
        let i = v.0 as usize;
        let name = &self.clause_vars[i].name;
        if self.reported[i] || name == "_" {
            return;
        }
        self.reported[i] = true;
        let help = match why {
            Need::Plain => format!(
                "bind `{name}` in a positive atom of this block, such as `rel(field: {name})`, or assign it first with `{name} = …`"
            ),
            Need::Negation => format!(
                "every variable of a `not` must also appear in a positive atom of the block; write `_` if any value of `{name}` will do"
            ),
            Need::Assign => format!(
                "the right-hand side of `=` can only use bound variables; bind `{name}` in a positive atom"
            ),
            Need::Aggregate => format!("bind `{name}` in an atom inside the aggregate's braces"),
        };
        self.diags.push(
            Diagnostic::error(
                codes::UNBOUND_VARIABLE,
                format!("variable `{name}` is not bound"),
            )
            .at(span)
            .help(help),
        );
    }

    fn head_unbound(&mut self, v: VarId, span: Span, origin: ClauseOrigin) {
        let i = v.0 as usize;
        let name = self.clause_vars[i].name.clone();
        if self.reported[i] || name == "_" {
            return;
        }
        self.reported[i] = true;
        let (msg, help) = match origin {
            ClauseOrigin::Rule(_, n) => (
                format!("subject `{name}` is not bound in `when` block {}", n + 1),
                format!(
                    "bind `{name}` in a positive atom of every `when` block, or drop it from the rule's subjects"
                ),
            ),
            ClauseOrigin::Derive => (
                format!("head variable `{name}` is not bound"),
                format!("bind `{name}` in a positive atom of the `derive` body"),
            ),
        };
        self.diags.push(
            Diagnostic::error(codes::UNBOUND_VARIABLE, msg)
                .at(span)
                .help(help),
        );
    }
}

fn expr_var_spans(e: &Expr, out: &mut Vec<(VarId, Span)>) {
    match &e.kind {
        ExprKind::Var(v) => out.push((*v, e.span)),
        ExprKind::Const(_) | ExprKind::Param(_) => {}
        ExprKind::Neg(x) => expr_var_spans(x, out),
        ExprKind::Binary(_, a, b) => {
            expr_var_spans(a, out);
            expr_var_spans(b, out);
        }
    }
}

fn count_expr(e: &Expr, counts: &mut [usize]) {
    let mut vars = Vec::new();
    e.vars(&mut vars);
    for v in vars {
        counts[v.0 as usize] += 1;
    }
}

fn count_lits(lits: &[Literal], counts: &mut [usize]) {
    for lit in lits {
        match lit {
            Literal::Atom(a) | Literal::Not(a) => {
                let mut vars = Vec::new();
                a.vars(&mut vars);
                vars.into_iter().for_each(|v| counts[v.0 as usize] += 1);
            }
            Literal::Assign { var, expr, .. } => {
                counts[var.0 as usize] += 1;
                count_expr(expr, counts);
            }
            Literal::Aggregate {
                result, over, body, ..
            } => {
                counts[result.0 as usize] += 1;
                if let Some(e) = over {
                    count_expr(e, counts);
                }
                count_lits(body, counts);
            }
            _ => lit.exprs().into_iter().for_each(|e| count_expr(e, counts)),
        }
    }
}
