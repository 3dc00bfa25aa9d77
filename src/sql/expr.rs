//! Expressions and tests as SQL: values (a date is a pair of columns), constant folding,
//! certain date comparisons, month shifts with the native month-end rule.

use super::dialect::{Dialect, NEG_INF_SQL, POS_INF_SQL};
use super::{Cx, Unsupported};
use crate::diag::Span;
use crate::ir::{Expr, ExprKind, Type};
use crate::syntax::ast::{BinOp, CmpOp};
use crate::value::{Date, Duration, Value, days_from_civil};

/// A value in SQL: one expression, or a date's first and last day.
#[derive(Debug, Clone)]
pub(crate) struct SqlVal {
    pub(crate) cols: Vec<String>,
    /// May be NULL (`none`).
    pub(crate) nullable: bool,
    /// A plain column reference (needs no cast in a projection).
    pub(crate) column: bool,
}

impl SqlVal {
    pub(crate) fn computed(cols: Vec<String>, nullable: bool) -> SqlVal {
        SqlVal {
            cols,
            nullable,
            column: false,
        }
    }
}

/// The SQL literal of a constant; `None` (the value) is NULL.
pub(crate) fn literal(d: Dialect, v: &Value, ty: &Type, span: Span) -> Result<SqlVal, Unsupported> {
    let one = |s: String| Ok(SqlVal::computed(vec![s], false));
    match v {
        Value::None if *ty == Type::Date => {
            Ok(SqlVal::computed(vec!["NULL".into(), "NULL".into()], true))
        }
        Value::None => Ok(SqlVal::computed(vec!["NULL".into()], true)),
        Value::Bool(b) => one(if *b { "TRUE" } else { "FALSE" }.into()),
        Value::Number(n) => one(format!("CAST({n} AS DECIMAL(38,9))")),
        Value::Text(s) | Value::Entity(s) if !d.can_hold_text(s) => Err(Unsupported::new(
            format!(
                "a text with a NUL character ({} text cannot hold one)",
                d.title()
            ),
            span,
        )
        .help("remove the NUL character from the text")),
        Value::Text(s) | Value::Entity(s) => one(d.text(s)),
        Value::Date(x) if !x.is_open() && !between_sentinels(x) => Err(Unsupported::new(
            format!("the date `{v}`, on or beyond the dates that stand for open ends"),
            span,
        )
        .help(format!(
            "SQL stores open ends as DATE '{NEG_INF_SQL}' and DATE '{POS_INF_SQL}', so a date on or \
             beyond them would match open ends; use a date between them"
        ))),
        Value::Date(x) => Ok(SqlVal::computed(
            vec![d.date(x.first), d.date(x.last)],
            false,
        )),
        Value::Duration(_) => Err(
            Unsupported::new("a duration value outside a date shift", span)
                .help("the SQL backend stores no durations; use them only in `d + 2y` or `within`"),
        ),
    }
}

/// Whether every day of a (closed) date lies strictly between the open-end sentinels.
pub(crate) fn between_sentinels(x: &Date) -> bool {
    x.first > days_from_civil(1, 1, 1) && x.last < days_from_civil(9999, 12, 31)
}

/// Evaluates an expression without variables, exactly as the native engine does.
pub(crate) fn fold(cx: &Cx, e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Var(_) => None,
        ExprKind::Const(v) => Some(v.clone()),
        ExprKind::Param(p) => cx.params.get(p.0 as usize).cloned(),
        ExprKind::Neg(a) => match fold(cx, a)? {
            Value::Number(n) => n.checked_neg().map(Value::Number),
            Value::Duration(x) => Some(Value::Duration(Duration {
                months: x.months.checked_neg()?,
                days: x.days.checked_neg()?,
            })),
            _ => None,
        },
        ExprKind::Binary(op, a, b) => fold_binary(*op, fold(cx, a)?, fold(cx, b)?),
    }
}

fn fold_binary(op: BinOp, a: Value, b: Value) -> Option<Value> {
    match (op, a, b) {
        (_, Value::Number(x), Value::Number(y)) => match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div => x.checked_div(y),
        }
        .map(Value::Number),
        (BinOp::Add, Value::Date(d), Value::Duration(w))
        | (BinOp::Add, Value::Duration(w), Value::Date(d)) => d.add(w).map(Value::Date),
        (BinOp::Sub, Value::Date(d), Value::Duration(w)) => d.sub(w).map(Value::Date),
        (BinOp::Add, Value::Duration(x), Value::Duration(y)) => Some(Value::Duration(Duration {
            months: x.months.checked_add(y.months)?,
            days: x.days.checked_add(y.days)?,
        })),
        (BinOp::Sub, Value::Duration(x), Value::Duration(y)) => Some(Value::Duration(Duration {
            months: x.months.checked_sub(y.months)?,
            days: x.days.checked_sub(y.days)?,
        })),
        _ => None,
    }
}

/// Whether the expression computes (its `none` operands make it fail natively).
pub(crate) fn is_arith(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Neg(_) | ExprKind::Binary(..))
}

/// An expression as SQL.
pub(crate) fn expr(cx: &Cx, e: &Expr) -> Result<SqlVal, Unsupported> {
    if let Some(v) = fold(cx, e) {
        return literal(cx.d, &v, &e.ty, e.span);
    }
    match &e.kind {
        ExprKind::Var(v) => cx.var(*v, e.span),
        ExprKind::Const(_) | ExprKind::Param(_) => Err(Unsupported::new(
            "a constant with no value (overflow, division by zero or `none`)",
            e.span,
        )
        .help("fix the constant or the --param value")),
        ExprKind::Neg(a) if a.ty == Type::Number && cx.d != Dialect::Spark => {
            let a = expr(cx, a)?;
            Ok(SqlVal::computed(vec![format!("(-{})", a.cols[0])], true))
        }
        ExprKind::Binary(op, a, b) => binary(cx, *op, a, b, e),
        _ => Err(arith_unsupported(e)),
    }
}

fn arith_unsupported(e: &Expr) -> Unsupported {
    Unsupported::new("this arithmetic", e.span).help(
        "the SQL backend computes only `+` and `-` on numbers (not on Spark), and dates plus or minus a constant duration; \
         SQL engines round decimal products and quotients differently from Probity's truncation at 9 places",
    )
}

fn binary(cx: &Cx, op: BinOp, a: &Expr, b: &Expr, e: &Expr) -> Result<SqlVal, Unsupported> {
    let num = a.ty == Type::Number && b.ty == Type::Number;
    if num && matches!(op, BinOp::Add | BinOp::Sub) && cx.d != Dialect::Spark {
        let (x, y) = (expr(cx, a)?, expr(cx, b)?);
        let sym = if op == BinOp::Add { "+" } else { "-" };
        return Ok(SqlVal::computed(
            vec![format!("({} {sym} {})", x.cols[0], y.cols[0])],
            true,
        ));
    }
    let (date, dur, sign) = match (op, &a.ty, &b.ty) {
        (BinOp::Add, Type::Date, Type::Duration) => (a, b, 1),
        (BinOp::Add, Type::Duration, Type::Date) => (b, a, 1),
        (BinOp::Sub, Type::Date, Type::Duration) => (a, b, -1),
        _ => return Err(arith_unsupported(e)),
    };
    let Some(Value::Duration(w)) = fold(cx, dur) else {
        return Err(Unsupported::new(
            "a date shifted by a duration that is not a constant",
            dur.span,
        )
        .help("write the duration as a literal or a `param`"));
    };
    let w = Duration {
        months: w.months * sign,
        days: w.days * sign,
    };
    if w.months.abs() > 1200 || w.days.abs() > 36_600 {
        return Err(Unsupported::new("a date shift longer than 100 years", dur.span)
            .help("the SQL backend keeps dates between its open-end sentinels; use a shorter duration"));
    }
    let d = expr(cx, date)?;
    Ok(shift(cx.d, &d, w))
}

/// `d + w` for a constant `w`, as `Date::add`: months first (clamped to the month's end),
/// then days; a partial date ending at a month's end keeps month ends when no days are
/// added; open ends stay open.
pub(crate) fn shift(dl: Dialect, d: &SqlVal, w: Duration) -> SqlVal {
    let (f, l) = (&d.cols[0], &d.cols[1]);
    let step = |x: &str| {
        let m = if w.months != 0 {
            dl.add_months(x, w.months)
        } else {
            x.to_string()
        };
        if w.days != 0 {
            dl.add_days(&m, w.days)
        } else {
            m
        }
    };
    let first = step(f);
    let last = if w.days == 0 && w.months != 0 {
        format!(
            "CASE WHEN {f} <> {l} AND {l} = {} THEN {} ELSE {} END",
            dl.month_end(l),
            dl.month_end(&dl.add_months(l, w.months)),
            dl.add_months(l, w.months)
        )
    } else {
        step(l)
    };
    let open = format!("{f} IN (DATE '{NEG_INF_SQL}', DATE '{POS_INF_SQL}')");
    SqlVal::computed(
        vec![
            format!("CASE WHEN {open} THEN {f} ELSE {first} END"),
            format!("CASE WHEN {open} THEN {l} ELSE {last} END"),
        ],
        d.nullable,
    )
}

/// `a = b` as the native engine means it: structural, `none` equal to `none`.
pub(crate) fn same(d: Dialect, a: &SqlVal, b: &SqlVal) -> String {
    let parts: Vec<String> = a
        .cols
        .iter()
        .zip(&b.cols)
        .map(|(x, y)| {
            if a.nullable || b.nullable {
                d.same(x, y)
            } else {
                format!("{x} = {y}")
            }
        })
        .collect();
    parts.join(" AND ")
}

/// A comparison of two values of type `ty`; `none` makes every ordering false.
pub(crate) fn compare(
    cx: &Cx,
    op: CmpOp,
    a: &SqlVal,
    b: &SqlVal,
    ty: &Type,
) -> Result<String, &'static str> {
    match op {
        CmpOp::Eq => return Ok(same(cx.d, a, b)),
        CmpOp::Ne => return Ok(format!("NOT ({})", same(cx.d, a, b))),
        _ => {}
    }
    let (x, y, sym) = match op {
        CmpOp::Lt => (a, b, "<"),
        CmpOp::Le => (a, b, "<="),
        CmpOp::Gt => (b, a, "<"),
        _ => (b, a, "<="),
    };
    match ty {
        Type::Date => Ok(format!("{} {sym} {}", x.cols[1], y.cols[0])),
        Type::Number | Type::Bool => Ok(format!("{} {sym} {}", x.cols[0], y.cols[0])),
        Type::Text | Type::Entity(_) => {
            Ok(format!("{} {sym} {}", cx.d.bytewise(&x.cols[0]), y.cols[0]))
        }
        Type::Duration | Type::Any => Err("an ordering comparison of durations or untyped values"),
    }
}

/// Certain `a <= b` for dates or numbers (windows, ranges, overlaps).
pub(crate) fn le(a: &SqlVal, b: &SqlVal, ty: &Type) -> String {
    if *ty == Type::Date {
        format!("{} <= {}", a.cols[1], b.cols[0])
    } else {
        format!("{} <= {}", a.cols[0], b.cols[0])
    }
}
