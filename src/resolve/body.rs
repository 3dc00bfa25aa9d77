//! Body literals: atoms, negations, comparisons, date built-ins and aggregates, typed.

use crate::diag::{Diagnostic, Span};
use crate::ir::{self, Term, Type};
use crate::syntax::ast::{self, AggFunc, CmpOp, ExprKind, Literal};

use super::codes;
use super::lower::{Cx, check_args};
use super::types::{is_ordered, literal, meet, show};

impl Cx<'_> {
    /// Lowers one literal, appending it (and any helper literals) to `out`.
    pub(crate) fn literal(&mut self, lit: &Literal, out: &mut Vec<ir::Literal>) {
        match lit {
            Literal::Atom(a) => {
                if let Some((atom, post)) = self.atom(a, false, out) {
                    out.push(ir::Literal::Atom(atom));
                    out.extend(post);
                }
            }
            Literal::Not(a) => {
                if let Some((atom, _)) = self.atom(a, true, out) {
                    out.push(ir::Literal::Not(atom));
                }
            }
            Literal::Compare { op, lhs, rhs } => self.compare(op, lhs, rhs, out),
            Literal::Within { .. } | Literal::InRange { .. } | Literal::Overlaps { .. } => {
                if let Some(l) = self.date_builtin(lit) {
                    out.push(l);
                }
            }
            Literal::Aggregate {
                result,
                func,
                over,
                body,
                span,
            } => self.aggregate(result, func, over.as_ref(), body, *span, out),
        }
    }

    /// `within`, `in` and `overlaps`: every operand a date, the window a duration.
    fn date_builtin(&mut self, lit: &Literal) -> Option<ir::Literal> {
        let lowered = match lit {
            Literal::Within {
                lhs,
                window,
                dir,
                rhs,
                span,
            } => {
                let lhs = self.expr(lhs, &Type::Date);
                let window = self.expr(window, &Type::Duration);
                let rhs = self.expr(rhs, &Type::Date);
                ir::Literal::Within {
                    lhs,
                    window,
                    dir: *dir,
                    rhs,
                    span: *span,
                }
            }
            Literal::InRange {
                value,
                from,
                until,
                span,
            } => {
                let value = self.expr(value, &Type::Date);
                let from = self.expr(from, &Type::Date);
                let until = self.expr(until, &Type::Date);
                ir::Literal::InRange {
                    value,
                    from,
                    until,
                    span: *span,
                }
            }
            Literal::Overlaps {
                a_from,
                a_until,
                b_from,
                b_until,
                span,
            } => {
                let a_from = self.expr(a_from, &Type::Date);
                let a_until = self.expr(a_until, &Type::Date);
                let b_from = self.expr(b_from, &Type::Date);
                let b_until = self.expr(b_until, &Type::Date);
                ir::Literal::Overlaps {
                    a_from,
                    a_until,
                    b_from,
                    b_until,
                    span: *span,
                }
            }
            _ => return None,
        };
        Some(lowered)
    }

    /// An atom's terms. Expression arguments become hidden variables: checked by a
    /// comparison after a positive atom (returned), assigned before a negated one (pushed).
    fn atom(
        &mut self,
        a: &ast::Atom,
        negated: bool,
        out: &mut Vec<ir::Literal>,
    ) -> Option<(ir::Atom, Vec<ir::Literal>)> {
        let rel = match self.decls.rel(&a.rel) {
            Ok(r) => r,
            Err(d) => {
                self.diags.push(d);
                self.count_vars(&a.args);
                return None;
            }
        };
        let r = self.program.rel(rel);
        let args = check_args(r, a, true, self.diags);
        let mut terms = vec![Term::Wildcard; r.arity()];
        let mut post = Vec::new();
        for (field, e) in &args {
            let Some(i) = *field else {
                self.excuse(e);
                continue;
            };
            let what = format!("field `{}` of `{}`", r.fields[i].name, r.name);
            let side = if negated { &mut *out } else { &mut post };
            terms[i] = self.term(e, &r.fields[i].ty, &what, negated, side);
        }
        Some((
            ir::Atom {
                rel,
                terms,
                span: a.span,
            },
            post,
        ))
    }

    /// One atom argument as a term. An expression becomes a hidden variable `v`, with
    /// `v = expr` pushed to `side` (before a negated atom) or `v = expr` as a check (after
    /// a positive one).
    fn term(
        &mut self,
        e: &ast::Expr,
        ty: &Type,
        what: &str,
        negated: bool,
        side: &mut Vec<ir::Literal>,
    ) -> Term {
        match &e.kind {
            ExprKind::Wildcard => Term::Wildcard,
            ExprKind::Var(n) => {
                let v = self.var(n, e.span);
                self.constrain(v, ty, e.span);
                Term::Var(v)
            }
            ExprKind::Lit(l) => {
                let (value, found) = literal(l, ty);
                self.expect_type(ty, &found, e.span, what);
                Term::Const(value)
            }
            ExprKind::List(_) => {
                self.expr(e, ty);
                Term::Wildcard
            }
            _ => {
                let expr = self.expr(e, ty);
                let v = self.fresh(e.span);
                self.constrain(v, &expr.ty, e.span);
                let span = e.span;
                side.push(if negated {
                    ir::Literal::Assign { var: v, expr, span }
                } else {
                    let lhs = ir::Expr {
                        kind: ir::ExprKind::Var(v),
                        ty: expr.ty.clone(),
                        span,
                    };
                    ir::Literal::Compare {
                        op: CmpOp::Eq,
                        lhs,
                        rhs: expr,
                        span,
                    }
                });
                Term::Var(v)
            }
        }
    }

    /// Records the variables of an atom that could not be lowered, so they are not
    /// reported again as unbound or used once.
    fn count_vars(&mut self, args: &ast::Args) {
        for e in super::lower::args_exprs(args) {
            self.excuse(e);
        }
    }

    /// Records the variables of an argument that fills no field (its relation or field is
    /// unknown, already reported) and excuses them from the safety checks.
    fn excuse(&mut self, e: &ast::Expr) {
        if matches!(e.kind, ExprKind::Wildcard) {
            return;
        }
        self.expr(e, &Type::Any);
        for n in super::lower::expr_var_names(e) {
            if let Some(&v) = self.scope.names.get(n) {
                self.scope.excused.insert(v);
            }
        }
    }

    /// Reports `found` where `expected` is required, unless they meet.
    pub(crate) fn expect_type(&mut self, expected: &Type, found: &Type, span: Span, what: &str) {
        if meet(expected, found).is_none() {
            let (e, f) = (
                show(expected, &self.program.kinds),
                show(found, &self.program.kinds),
            );
            self.diags.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("type mismatch: {what} is `{e}`, found `{f}`"),
                )
                .at(span)
                .help(format!("write a `{e}` here")),
            );
        }
    }

    fn compare(
        &mut self,
        op: &ast::Spanned<CmpOp>,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        out: &mut Vec<ir::Literal>,
    ) {
        let span = lhs.span.to(rhs.span);
        if let (CmpOp::Eq, ExprKind::Var(n)) = (op.node, &lhs.kind) {
            let fresh = !self.scope.atom_bound.contains(n)
                && self
                    .scope
                    .names
                    .get(n)
                    .is_none_or(|v| !self.scope.assigned.contains(v));
            if fresh {
                let v = self.var(n, lhs.span);
                self.scope.assigned.insert(v);
                let ty = self.scope.vars[v.0 as usize].ty.clone();
                let expr = self.expr(rhs, &ty);
                self.constrain(v, &expr.ty, rhs.span);
                out.push(ir::Literal::Assign { var: v, expr, span });
                return;
            }
        }
        let mut l = self.expr(lhs, &Type::Any);
        let r = self.expr_hinted(rhs, &l.ty);
        if meet(&l.ty, &r.ty).is_none() {
            if let Some(reread) = self.reread(lhs, &r.ty) {
                l = reread;
            }
        }
        self.refine(&mut l, &r.ty);
        self.comparable(op, &l, &r, span);
        out.push(ir::Literal::Compare {
            op: op.node,
            lhs: l,
            rhs: r,
            span,
        });
    }

    /// For a variable operand, its name and where it got its type, if that is elsewhere.
    fn typed_at(&self, e: &ir::Expr) -> Option<(&str, Span)> {
        let ir::ExprKind::Var(v) = e.kind else {
            return None;
        };
        let at = *self.scope.ty_at.get(v.0 as usize)?;
        let name = self.scope.vars.get(v.0 as usize)?.name.as_str();
        (at != e.span && name != "_").then_some((name, at))
    }

    /// Reports operands of different types, or an ordering on unordered values.
    fn comparable(&mut self, op: &ast::Spanned<CmpOp>, l: &ir::Expr, r: &ir::Expr, span: Span) {
        if meet(&l.ty, &r.ty).is_none() {
            let (a, b) = (
                show(&l.ty, &self.program.kinds),
                show(&r.ty, &self.program.kinds),
            );
            let mut d = Diagnostic::error(
                codes::TYPE_MISMATCH,
                format!("type mismatch: cannot compare `{a}` with `{b}`"),
            )
            .at(span);
            d = match self.typed_at(l) {
                Some((name, at)) => d.note(at, format!("`{name}` is `{a}` here")),
                None => d.note(l.span, format!("this is `{a}`")),
            };
            if let Some((name, at)) = self.typed_at(r) {
                d = d.note(at, format!("`{name}` is `{b}` here"));
            }
            self.diags
                .push(d.help("compare values of one type: dates with dates, numbers with numbers"));
        } else if !matches!(op.node, CmpOp::Eq | CmpOp::Ne) {
            let ty = meet(&l.ty, &r.ty).unwrap_or(Type::Any);
            if !is_ordered(&ty) {
                self.diags.push(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("type mismatch: `{}` values have no order", show(&ty, &self.program.kinds)),
                    )
                    .at(op.span)
                    .help("order comparisons apply to numbers, dates, durations, text and entities (by id); use `=` or `!=`"),
                );
            }
        }
    }

    fn aggregate(
        &mut self,
        result: &ast::Ident,
        func: &ast::Spanned<AggFunc>,
        over: Option<&ast::Expr>,
        body: &[Literal],
        span: Span,
        out: &mut Vec<ir::Literal>,
    ) {
        let body = self.block(body);
        let over = over.map(|e| self.expr(e, &Type::Any));
        let ty = self.aggregate_type(func, over.as_ref());
        let v = self.var(&result.node, result.span);
        self.constrain(v, &ty, result.span);
        out.push(ir::Literal::Aggregate {
            result: v,
            func: func.node,
            over,
            group: Vec::new(),
            body,
            span,
        });
    }

    /// The type of an aggregate's result: a number for `count`, else the type of what it
    /// aggregates (numbers or durations for `sum`, ordered values for `min` and `max`).
    fn aggregate_type(&mut self, func: &ast::Spanned<AggFunc>, over: Option<&ir::Expr>) -> Type {
        match (func.node, over) {
            (AggFunc::Count, _) => Type::Number,
            (_, None) => {
                self.diags.push(
                    Diagnostic::error(codes::TYPE_MISMATCH, "this aggregate needs a value to aggregate")
                        .at(func.span)
                        .help("write `sum x { … }`, `min x { … }` or `max x { … }` naming a variable of the block"),
                );
                Type::Any
            }
            (AggFunc::Sum, Some(e)) => {
                if !matches!(e.ty, Type::Number | Type::Duration | Type::Any) {
                    let t = show(&e.ty, &self.program.kinds);
                    self.diags.push(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("type mismatch: cannot sum `{t}`"),
                        )
                        .at(e.span)
                        .help("`sum` adds numbers or durations"),
                    );
                }
                e.ty.clone()
            }
            (_, Some(e)) => {
                if !is_ordered(&e.ty) {
                    let t = show(&e.ty, &self.program.kinds);
                    self.diags.push(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("type mismatch: `{t}` values have no order"),
                        )
                        .at(e.span)
                        .help("`min` and `max` apply to numbers, dates, durations, text and entities (by id)"),
                    );
                }
                e.ty.clone()
            }
        }
    }
}
