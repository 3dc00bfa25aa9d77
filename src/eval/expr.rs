//! Expressions and tests over values: checked arithmetic, certain date comparisons,
//! `within`, `in` and `overlaps`. `none` fails every ordering test and arithmetic.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::intern::Interner;
use crate::diag::Span;
use crate::ir::{Expr, ExprKind};
use crate::syntax::ast::{BinOp, CmpOp, WithinDir};
use crate::value::{Date, Duration, Value};

/// An arithmetic error, at the expression that raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExprError {
    Overflow(Span),
    DivZero(Span),
}

/// `Ok(None)`: the expression has no value (`none` operand, unbound variable, a type the
/// operator does not take); the literal using it is false.
pub(crate) type Ev<'a> = Result<Option<Cow<'a, Value>>, ExprError>;

/// Where expressions read variables and params.
pub(crate) struct Scope<'a> {
    pub(crate) env: &'a [u32],
    pub(crate) values: &'a Interner,
    pub(crate) params: &'a [Value],
}

pub(crate) fn eval<'a>(e: &'a Expr, s: &Scope<'a>) -> Ev<'a> {
    match &e.kind {
        ExprKind::Var(v) => Ok(s
            .env
            .get(v.0 as usize)
            .and_then(|&id| s.values.get(id))
            .map(Cow::Borrowed)),
        ExprKind::Const(v) => Ok(Some(Cow::Borrowed(v))),
        ExprKind::Param(p) => Ok(s.params.get(p.0 as usize).map(Cow::Borrowed)),
        ExprKind::Neg(a) => {
            let Some(a) = eval(a, s)? else {
                return Ok(None);
            };
            neg(&a, e.span).map(|v| v.map(Cow::Owned))
        }
        ExprKind::Binary(op, a, b) => {
            let Some(a) = eval(a, s)? else {
                return Ok(None);
            };
            let Some(b) = eval(b, s)? else {
                return Ok(None);
            };
            arith(*op, &a, &b, e.span).map(|v| v.map(Cow::Owned))
        }
    }
}

fn neg(a: &Value, span: Span) -> Result<Option<Value>, ExprError> {
    match a {
        Value::Number(n) => n
            .checked_neg()
            .map(|n| Some(Value::Number(n)))
            .ok_or(ExprError::Overflow(span)),
        Value::Duration(d) => match (d.months.checked_neg(), d.days.checked_neg()) {
            (Some(months), Some(days)) => Ok(Some(Value::Duration(Duration { months, days }))),
            _ => Err(ExprError::Overflow(span)),
        },
        _ => Ok(None),
    }
}

/// `a op b` with checked arithmetic: numbers, date ± duration, duration ± duration.
pub(crate) fn arith(
    op: BinOp,
    a: &Value,
    b: &Value,
    span: Span,
) -> Result<Option<Value>, ExprError> {
    let over = ExprError::Overflow(span);
    let r = match (op, a, b) {
        (_, Value::Number(x), Value::Number(y)) => {
            let r = match op {
                BinOp::Add => x.checked_add(*y),
                BinOp::Sub => x.checked_sub(*y),
                BinOp::Mul => x.checked_mul(*y),
                BinOp::Div if y.0 == 0 => return Err(ExprError::DivZero(span)),
                BinOp::Div => x.checked_div(*y),
            };
            Value::Number(r.ok_or(over)?)
        }
        (BinOp::Add, Value::Date(d), Value::Duration(w))
        | (BinOp::Add, Value::Duration(w), Value::Date(d)) => Value::Date(d.add(*w).ok_or(over)?),
        (BinOp::Sub, Value::Date(d), Value::Duration(w)) => Value::Date(d.sub(*w).ok_or(over)?),
        (BinOp::Add | BinOp::Sub, Value::Duration(x), Value::Duration(y)) => {
            let (m, d) = if op == BinOp::Add {
                (x.months.checked_add(y.months), x.days.checked_add(y.days))
            } else {
                (x.months.checked_sub(y.months), x.days.checked_sub(y.days))
            };
            match (m, d) {
                (Some(months), Some(days)) => Value::Duration(Duration { months, days }),
                _ => return Err(over),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(r))
}

/// Certain `a < b` (`strict`) or `a <= b`; false across types and for `none`.
pub(crate) fn less(a: &Value, b: &Value, strict: bool) -> bool {
    let ord = match (a, b) {
        (Value::Date(x), Value::Date(y)) => return date_less(x, y, strict),
        (Value::Number(x), Value::Number(y)) => x.cmp(y),
        (Value::Duration(x), Value::Duration(y)) => x.approx_days().cmp(&y.approx_days()),
        (Value::Text(x), Value::Text(y)) | (Value::Entity(x), Value::Entity(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => return false,
    };
    if strict {
        ord == Ordering::Less
    } else {
        ord != Ordering::Greater
    }
}

fn date_less(x: &Date, y: &Date, strict: bool) -> bool {
    if strict { x.lt(y) } else { x.le(y) }
}

pub(crate) fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => less(a, b, true),
        CmpOp::Le => less(a, b, false),
        CmpOp::Gt => less(b, a, true),
        CmpOp::Ge => less(b, a, false),
    }
}

/// `a within w of b`: b-w <= a <= b+w; `after`: b <= a <= b+w; `before`: b-w <= a <= b.
pub(crate) fn within(
    a: &Value,
    w: &Value,
    dir: WithinDir,
    b: &Value,
    span: Span,
) -> Result<bool, ExprError> {
    let lo = match dir {
        WithinDir::After => Some(b.clone()),
        _ => arith(BinOp::Sub, b, w, span)?,
    };
    let hi = match dir {
        WithinDir::Before => Some(b.clone()),
        _ => arith(BinOp::Add, b, w, span)?,
    };
    Ok(match (lo, hi) {
        (Some(lo), Some(hi)) => less(&lo, a, false) && less(a, &hi, false),
        _ => false,
    })
}

/// `v in f..u`: f <= v <= u.
pub(crate) fn in_range(v: &Value, f: &Value, u: &Value) -> bool {
    less(f, v, false) && less(v, u, false)
}

/// `f1..u1 overlaps f2..u2`: f1 <= u2 and f2 <= u1.
pub(crate) fn overlaps(f1: &Value, u1: &Value, f2: &Value, u2: &Value) -> bool {
    less(f1, u2, false) && less(f2, u1, false)
}

/// A total order for `min`/`max`: by magnitude within a type, then by type.
pub(crate) fn total_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Duration(x), Value::Duration(y)) => {
            x.approx_days().cmp(&y.approx_days()).then(x.cmp(y))
        }
        _ => a.cmp(b),
    }
}
