//! One clause body as a SELECT: positive atoms in FROM, joins and tests in WHERE,
//! negation as NOT EXISTS, aggregates as correlated scalar subqueries.

use super::expr::{SqlVal, compare, expr, is_arith, le, same};
use super::schema::{columns, nullable, source};
use super::{Cx, Unsupported};
use crate::ir::{Atom, Expr, Literal, RelKind, Term, Type, VarId};
use crate::syntax::ast::{AggFunc, WithinDir};

/// Indents every line after the first by four spaces (for nested subqueries).
pub(crate) fn indent(s: &str) -> String {
    s.replace('\n', "\n    ")
}

/// `FROM … WHERE …` of the context, or `FROM …` alone.
pub(crate) fn from_where(cx: &Cx) -> String {
    let mut out = Vec::new();
    if !cx.from.is_empty() {
        out.push(format!("FROM {}", cx.from.join(",\n    ")));
    }
    if !cx.conds.is_empty() {
        out.push(format!("WHERE {}", cx.conds.join("\n    AND ")));
    }
    out.join("\n")
}

/// The columns of field `i` of an atom's alias.
fn col(cx: &Cx, alias: &str, atom: &Atom, i: usize) -> SqlVal {
    let rel = cx.p.rel(atom.rel);
    SqlVal {
        cols: columns(rel, i)
            .iter()
            .map(|c| format!("{alias}.{}", cx.d.ident(c)))
            .collect(),
        nullable: nullable(rel, i),
        column: true,
    }
}

/// Adds an atom to FROM, binding its new variables and testing the others.
fn atom(cx: &mut Cx, a: &Atom, positive: bool) -> Result<(), Unsupported> {
    let rel = cx.p.rel(a.rel);
    let alias = cx.alias(if positive { "t" } else { "n" });
    let src = match &cx.rec {
        Some((r, name)) if *r == a.rel => cx.d.ident(name),
        _ => source(cx.d, rel),
    };
    cx.from.push(format!("{src} AS {alias}"));
    if positive && matches!(rel.kind, RelKind::Base | RelKind::Entity(_)) {
        cx.facts.push((alias.clone(), a.rel));
    }
    if positive {
        cx.atoms.push((alias.clone(), a.rel));
    }
    for (i, t) in a.terms.iter().enumerate() {
        let c = col(cx, &alias, a, i);
        match t {
            Term::Wildcard => {}
            Term::Var(v) => match cx.vars[v.0 as usize].clone() {
                Some(b) => cx.conds.push(same(cx.d, &c, &b)),
                None => cx.vars[v.0 as usize] = Some(c),
            },
            Term::Const(k) => {
                let lit = super::expr::literal(cx.d, k, &rel.fields[i].ty, a.span)?;
                cx.conds.push(same(cx.d, &c, &lit));
            }
        }
    }
    Ok(())
}

fn vars_of(e: &Expr, out: &mut Vec<VarId>) {
    use crate::ir::ExprKind;
    match &e.kind {
        ExprKind::Var(v) => out.push(*v),
        ExprKind::Neg(a) => vars_of(a, out),
        ExprKind::Binary(_, a, b) => {
            vars_of(a, out);
            vars_of(b, out);
        }
        _ => {}
    }
}

/// Whether the inputs of an assignment or aggregate are bound. A group variable that
/// nothing outside the aggregate can bind (it only occurs in other aggregates' bodies)
/// is local to each body, as in the native engine.
fn ready(cx: &Cx, l: &Literal, bindable: &[bool]) -> bool {
    match l {
        Literal::Assign { expr, .. } => {
            let mut vs = Vec::new();
            vars_of(expr, &mut vs);
            vs.iter().all(|v| cx.vars[v.0 as usize].is_some())
        }
        Literal::Aggregate { group, .. } => group
            .iter()
            .all(|v| cx.vars[v.0 as usize].is_some() || !bindable[v.0 as usize]),
        _ => true,
    }
}

/// Translates a body: atoms first, then assignments and aggregates as their inputs are
/// bound, then every test.
pub(crate) fn body(cx: &mut Cx, lits: &[Literal]) -> Result<(), Unsupported> {
    for l in lits {
        if let Literal::Atom(a) = l {
            atom(cx, a, true)?;
        }
    }
    let mut pending: Vec<&Literal> = lits
        .iter()
        .filter(|l| matches!(l, Literal::Assign { .. } | Literal::Aggregate { .. }))
        .collect();
    // Variables the pending assignments and aggregates will bind.
    let mut bindable = vec![false; cx.vars.len()];
    for l in &pending {
        if let Literal::Assign { var: v, .. } | Literal::Aggregate { result: v, .. } = l {
            bindable[v.0 as usize] = true;
        }
    }
    while !pending.is_empty() {
        let Some(i) = pending.iter().position(|l| ready(cx, l, &bindable)) else {
            let span = pending[0].span();
            return Err(Unsupported::new(
                "an assignment whose inputs are never bound",
                span,
            ));
        };
        let l = pending.remove(i);
        binder(cx, l)?;
    }
    for l in lits {
        test(cx, l)?;
    }
    Ok(())
}

/// Binds (or tests, when already bound) the result of an assignment or aggregate.
fn binder(cx: &mut Cx, l: &Literal) -> Result<(), Unsupported> {
    let (var, val) = match l {
        Literal::Assign { var, expr: e, .. } => {
            let v = expr(cx, e)?;
            if is_arith(e) {
                cx.conds.push(format!("{} IS NOT NULL", v.cols[0]));
            }
            (*var, v)
        }
        Literal::Aggregate {
            result,
            func,
            over,
            body: b,
            span,
            ..
        } => {
            let v = super::agg::aggregate(cx, *func, over.as_ref(), b, *span)?;
            if matches!(func, AggFunc::Min | AggFunc::Max) {
                cx.conds.push(format!("{} IS NOT NULL", v.cols[0]));
            }
            (*result, v)
        }
        _ => return Ok(()),
    };
    match cx.vars[var.0 as usize].clone() {
        Some(b) => cx.conds.push(same(cx.d, &b, &val)),
        None => cx.vars[var.0 as usize] = Some(val),
    }
    Ok(())
}

fn ordered(ty: &Type, span: crate::diag::Span) -> Result<(), Unsupported> {
    if matches!(ty, Type::Date | Type::Number) {
        Ok(())
    } else {
        Err(Unsupported::new(
            "a window, range or overlap over values that are not dates or numbers",
            span,
        )
        .help("use dates or numbers"))
    }
}

/// Adds the WHERE condition of a test literal.
fn test(cx: &mut Cx, l: &Literal) -> Result<(), Unsupported> {
    let cond = match l {
        Literal::Not(a) => not_exists(cx, a)?,
        Literal::Compare { op, lhs, rhs, span } => {
            if lhs.ty != rhs.ty && !matches!((&lhs.ty, &rhs.ty), (Type::Entity(_), Type::Entity(_)))
            {
                return Err(Unsupported::new("a comparison between two types", *span));
            }
            if let Some(cond) = sentinel_compare(cx, *op, lhs, rhs)? {
                cond
            } else {
                let (a, b) = (expr(cx, lhs)?, expr(cx, rhs)?);
                compare(cx, *op, &a, &b, &lhs.ty).map_err(|w| Unsupported::new(w, *span))?
            }
        }
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            span,
        } => within(cx, lhs, window, *dir, rhs, *span)?,
        Literal::InRange {
            value,
            from,
            until,
            span,
        } => {
            ordered(&value.ty, *span)?;
            let (v, f, u) = (expr(cx, value)?, expr(cx, from)?, expr(cx, until)?);
            format!("{} AND {}", le(&f, &v, &value.ty), le(&v, &u, &value.ty))
        }
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            span,
        } => {
            ordered(&a_from.ty, *span)?;
            let (f1, u1) = (expr(cx, a_from)?, expr(cx, a_until)?);
            let (f2, u2) = (expr(cx, b_from)?, expr(cx, b_until)?);
            format!(
                "{} AND {}",
                le(&f1, &u2, &a_from.ty),
                le(&f2, &u1, &a_from.ty)
            )
        }
        _ => return Ok(()),
    };
    cx.conds.push(cond);
    Ok(())
}

/// A date compared with the day a sentinel stands on, where SQL's answer is the native
/// one: `x < 9999-12-31` (closed and before the last day), `x >= 9999-12-31` (the last
/// day, or an open end), and their mirrors at 0001-01-01. Other comparisons with those
/// days stay rejected (`literal`).
fn sentinel_compare(
    cx: &Cx,
    op: crate::syntax::ast::CmpOp,
    lhs: &Expr,
    rhs: &Expr,
) -> Result<Option<String>, Unsupported> {
    use crate::syntax::ast::CmpOp;
    use crate::value::{Value, days_from_civil};
    if lhs.ty != Type::Date {
        return Ok(None);
    }
    let day = |e: &Expr| match super::expr::fold(cx, e) {
        Some(Value::Date(d)) if d.first == d.last => Some(d.first),
        _ => None,
    };
    // As `x op c`, the constant on the right.
    let (x, c, op) = match (day(lhs), day(rhs)) {
        (None, Some(c)) => (lhs, c, op),
        (Some(c), None) => {
            let flipped = match op {
                CmpOp::Lt => CmpOp::Gt,
                CmpOp::Le => CmpOp::Ge,
                CmpOp::Gt => CmpOp::Lt,
                CmpOp::Ge => CmpOp::Le,
                other => other,
            };
            (rhs, c, flipped)
        }
        _ => return Ok(None),
    };
    let (last, first) = (days_from_civil(9999, 12, 31), days_from_civil(1, 1, 1));
    let v = expr(cx, x)?;
    let d = cx.d;
    Ok(match (c, op) {
        (c, CmpOp::Lt) if c == last => Some(format!("{} < {}", v.cols[1], d.date(c))),
        (c, CmpOp::Ge) if c == last => Some(format!("{} >= {}", v.cols[0], d.date(c))),
        (c, CmpOp::Gt) if c == first => Some(format!("{} > {}", v.cols[0], d.date(c))),
        (c, CmpOp::Le) if c == first => Some(format!("{} <= {}", v.cols[1], d.date(c))),
        _ => None,
    })
}

/// `a within w of|after|before b`, through `b - w` and `b + w` as the native engine does.
fn within(
    cx: &Cx,
    lhs: &Expr,
    window: &Expr,
    dir: WithinDir,
    rhs: &Expr,
    span: crate::diag::Span,
) -> Result<String, Unsupported> {
    use crate::ir::ExprKind;
    use crate::syntax::ast::BinOp;
    ordered(&lhs.ty, span)?;
    let bound = |op: BinOp| Expr {
        kind: ExprKind::Binary(op, Box::new(rhs.clone()), Box::new(window.clone())),
        ty: rhs.ty.clone(),
        span,
    };
    let a = expr(cx, lhs)?;
    let lo = match dir {
        WithinDir::After => expr(cx, rhs)?,
        _ => expr(cx, &bound(BinOp::Sub))?,
    };
    let hi = match dir {
        WithinDir::Before => expr(cx, rhs)?,
        _ => expr(cx, &bound(BinOp::Add))?,
    };
    Ok(format!(
        "{} AND {}",
        le(&lo, &a, &lhs.ty),
        le(&a, &hi, &lhs.ty)
    ))
}

/// `NOT EXISTS (SELECT 1 FROM rel WHERE …)`.
fn not_exists(cx: &mut Cx, a: &Atom) -> Result<String, Unsupported> {
    let mut sub = cx.child();
    atom(&mut sub, a, false)?;
    cx.next_alias = sub.next_alias;
    Ok(format!(
        "NOT EXISTS (\n    SELECT 1\n    {}\n)",
        indent(&from_where(&sub))
    ))
}
