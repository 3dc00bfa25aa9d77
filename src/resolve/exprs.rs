//! Expressions: typing variables, params, literals and arithmetic against an expected type.

use crate::diag::Diagnostic;
use crate::ir::{self, Type};
use crate::syntax::ast::{self, BinOp, ExprKind};
use crate::value::Value;

use super::codes;
use super::lower::Cx;
use super::params::{op_str, unknown_param};
use super::types::{literal, meet, show};

/// The result type of `a op b`, if the operand types combine (`Any` if not yet known).
pub(crate) fn binary_type(op: BinOp, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    match (op, a, b) {
        (_, Number, Number) => Some(Number),
        (BinOp::Mul | BinOp::Div, Any, Number | Any) | (BinOp::Mul | BinOp::Div, Number, Any) => {
            Some(Number)
        }
        (BinOp::Add | BinOp::Sub, Date, Duration | Any) => Some(Date),
        (BinOp::Add | BinOp::Sub, Duration, Duration) => Some(Duration),
        (BinOp::Add | BinOp::Sub, Any, Number) | (BinOp::Add | BinOp::Sub, Number, Any) => {
            Some(Number)
        }
        (BinOp::Add | BinOp::Sub, Any, Duration) | (BinOp::Add | BinOp::Sub, Any, Any) => Some(Any),
        (BinOp::Add | BinOp::Sub, Duration, Any) => Some(Duration),
        _ => None,
    }
}

/// What the operands must be, given the operator, the expected result and one side.
fn operand_hints(op: BinOp, expected: &Type) -> (Type, Type) {
    match (op, expected) {
        (BinOp::Mul | BinOp::Div, _) => (Type::Number, Type::Number),
        (_, Type::Number) => (Type::Number, Type::Number),
        (_, Type::Duration) => (Type::Duration, Type::Duration),
        (_, Type::Date) => (Type::Date, Type::Duration),
        _ => (Type::Any, Type::Any),
    }
}

impl Cx<'_> {
    /// Lowers an expression, narrowing variables toward `expected`, and reports a
    /// mismatch if its type cannot be `expected`.
    pub(crate) fn expr(&mut self, e: &ast::Expr, expected: &Type) -> ir::Expr {
        let (kind, ty) = match &e.kind {
            ExprKind::Var(n) => {
                let v = self.var(n, e.span);
                self.constrain(v, expected, e.span);
                return ir::Expr {
                    kind: ir::ExprKind::Var(v),
                    ty: self.scope.vars[v.0 as usize].ty.clone(),
                    span: e.span,
                };
            }
            ExprKind::Wildcard => {
                self.diags.push(
                    Diagnostic::error(codes::UNBOUND_VARIABLE, "`_` has no value here")
                        .at(e.span)
                        .help("`_` matches anything only as an atom argument; name a variable instead"),
                );
                (ir::ExprKind::Const(Value::None), expected.clone())
            }
            ExprKind::Param(n) => match self.decls.params.get(n) {
                Some(&p) => (ir::ExprKind::Param(p), self.program.param(p).ty.clone()),
                None => {
                    self.diags.push(
                        unknown_param(n, self.decls.params.keys().map(String::as_str)).at(e.span),
                    );
                    (ir::ExprKind::Const(Value::None), expected.clone())
                }
            },
            ExprKind::Lit(l) => {
                let (v, t) = literal(l, expected);
                (ir::ExprKind::Const(v), t)
            }
            ExprKind::Neg(inner) => return self.neg(inner, e, expected),
            ExprKind::Binary(op, a, b) => return self.binary(*op, a, b, e, expected, true),
            ExprKind::List(_) => {
                self.diags.push(
                    Diagnostic::error(codes::LIST_FIELD_MISUSE, "a list `[…]` cannot be used here")
                        .at(e.span)
                        .help("an atom on a list field matches each member; write one value or a variable"),
                );
                (ir::ExprKind::Const(Value::None), expected.clone())
            }
        };
        if meet(expected, &ty).is_none() {
            self.mismatch(expected, &ty, e);
        }
        ir::Expr {
            kind,
            ty,
            span: e.span,
        }
    }

    /// `-x`, for numbers and durations.
    fn neg(&mut self, inner: &ast::Expr, e: &ast::Expr, expected: &Type) -> ir::Expr {
        let x = self.expr(inner, expected);
        if !matches!(x.ty, Type::Number | Type::Duration | Type::Any) {
            let t = show(&x.ty, &self.program.kinds);
            self.diags.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("type mismatch: cannot negate `{t}`"),
                )
                .at(e.span)
                .help("`-` applies to numbers and durations"),
            );
        }
        let t = x.ty.clone();
        ir::Expr {
            kind: ir::ExprKind::Neg(Box::new(x)),
            ty: t,
            span: e.span,
        }
    }

    /// Like [`Cx::expr`], but `hint` only guides literals and untyped variables: a
    /// mismatch is left to the caller, which can name both sides.
    pub(crate) fn expr_hinted(&mut self, e: &ast::Expr, hint: &Type) -> ir::Expr {
        match &e.kind {
            ExprKind::Var(n) => {
                let v = self.var(n, e.span);
                if meet(&self.scope.vars[v.0 as usize].ty, hint).is_some() {
                    self.constrain(v, hint, e.span);
                }
                let ty = self.scope.vars[v.0 as usize].ty.clone();
                ir::Expr {
                    kind: ir::ExprKind::Var(v),
                    ty,
                    span: e.span,
                }
            }
            ExprKind::Lit(l) => {
                let (v, ty) = literal(l, hint);
                ir::Expr {
                    kind: ir::ExprKind::Const(v),
                    ty,
                    span: e.span,
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e, hint, false),
            _ => self.expr(e, &Type::Any),
        }
    }

    /// A literal read again as `ty`, the type the other operand showed: `2025 < d` reads
    /// a year, `"p" = x` an entity id. `None` if `e` is no literal or does not convert.
    pub(crate) fn reread(&self, e: &ast::Expr, ty: &Type) -> Option<ir::Expr> {
        let ExprKind::Lit(l) = &e.kind else {
            return None;
        };
        let (v, found) = literal(l, ty);
        meet(&found, ty).map(|_| ir::Expr {
            kind: ir::ExprKind::Const(v),
            ty: found,
            span: e.span,
        })
    }

    fn mismatch(&mut self, expected: &Type, found: &Type, e: &ast::Expr) {
        let (x, f) = (
            show(expected, &self.program.kinds),
            show(found, &self.program.kinds),
        );
        self.diags.push(
            Diagnostic::error(
                codes::TYPE_MISMATCH,
                format!("type mismatch: expected `{x}`, found `{f}`"),
            )
            .at(e.span)
            .help(format!("write a `{x}` here")),
        );
    }

    fn binary(
        &mut self,
        op: BinOp,
        a: &ast::Expr,
        b: &ast::Expr,
        e: &ast::Expr,
        expected: &Type,
        report: bool,
    ) -> ir::Expr {
        let (ha, hb) = operand_hints(op, expected);
        let mut x = self.expr_hinted(a, &ha);
        let hb = match (op, &x.ty, &hb) {
            (BinOp::Add | BinOp::Sub, Type::Date, Type::Any) => Type::Duration,
            (BinOp::Add | BinOp::Sub, Type::Number | Type::Duration, Type::Any) => x.ty.clone(),
            _ => hb,
        };
        let y = self.expr_hinted(b, &hb);
        if y.ty == Type::Duration && x.ty == Type::Number {
            if let Some(year) = self.reread(a, &Type::Date) {
                x = year;
            }
        }
        if matches!(op, BinOp::Add | BinOp::Sub) && y.ty == Type::Number {
            self.refine(&mut x, &Type::Number);
        }
        let ty = match binary_type(op, &x.ty, &y.ty) {
            Some(t) => t,
            None => {
                let (l, r) = (
                    show(&x.ty, &self.program.kinds),
                    show(&y.ty, &self.program.kinds),
                );
                self.diags.push(
                    Diagnostic::error(codes::TYPE_MISMATCH, format!("type mismatch: `{l}` {} `{r}`", op_str(op)))
                        .at(e.span)
                        .help("numbers combine with numbers, a date with a duration (`d + 90d`), durations with durations"),
                );
                expected.clone()
            }
        };
        if report && meet(expected, &ty).is_none() {
            self.mismatch(expected, &ty, e);
        }
        ir::Expr {
            kind: ir::ExprKind::Binary(op, Box::new(x), Box::new(y)),
            ty,
            span: e.span,
        }
    }

    /// Narrows a not-yet-typed variable expression to `ty`.
    pub(crate) fn refine(&mut self, e: &mut ir::Expr, ty: &Type) {
        if e.ty != Type::Any || *ty == Type::Any {
            return;
        }
        if let ir::ExprKind::Var(v) = e.kind {
            self.constrain(v, ty, e.span);
            e.ty = self.scope.vars[v.0 as usize].ty.clone();
        }
    }

    /// Sets every variable expression to its variable's final type, and recomputes the
    /// types of the expressions above it.
    pub(crate) fn finalize(&self, head: &mut [ir::Expr], body: &mut [ir::Literal]) {
        for e in head.iter_mut() {
            self.fix(e);
        }
        self.fix_block(body);
    }

    fn fix_block(&self, body: &mut [ir::Literal]) {
        for lit in body {
            match lit {
                ir::Literal::Atom(_) | ir::Literal::Not(_) => {}
                ir::Literal::Compare { lhs, rhs, .. } => {
                    [lhs, rhs].into_iter().for_each(|e| self.fix(e))
                }
                ir::Literal::Assign { expr, .. } => self.fix(expr),
                ir::Literal::Within {
                    lhs, window, rhs, ..
                } => [lhs, window, rhs].into_iter().for_each(|e| self.fix(e)),
                ir::Literal::InRange {
                    value, from, until, ..
                } => [value, from, until].into_iter().for_each(|e| self.fix(e)),
                ir::Literal::Overlaps {
                    a_from,
                    a_until,
                    b_from,
                    b_until,
                    ..
                } => [a_from, a_until, b_from, b_until]
                    .into_iter()
                    .for_each(|e| self.fix(e)),
                ir::Literal::Aggregate { over, body, .. } => {
                    if let Some(e) = over {
                        self.fix(e);
                    }
                    self.fix_block(body);
                }
            }
        }
    }

    fn fix(&self, e: &mut ir::Expr) {
        match &mut e.kind {
            ir::ExprKind::Var(v) => e.ty = self.scope.vars[v.0 as usize].ty.clone(),
            ir::ExprKind::Const(_) | ir::ExprKind::Param(_) => {}
            ir::ExprKind::Neg(x) => {
                self.fix(x);
                e.ty = x.ty.clone();
            }
            ir::ExprKind::Binary(op, a, b) => {
                self.fix(a);
                self.fix(b);
                if let Some(t) = binary_type(*op, &a.ty, &b.ty) {
                    if t != Type::Any {
                        e.ty = t;
                    }
                }
            }
        }
    }
}
