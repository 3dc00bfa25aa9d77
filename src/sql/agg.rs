//! Aggregates as correlated scalar subqueries: `count` and `sum` over the distinct
//! bindings of the body's named local variables (0 over nothing), `min`/`max` NULL over
//! nothing (the caller makes that fail).

use super::clause::{body, from_where, indent};
use super::expr::{SqlVal, expr};
use super::{Cx, Unsupported};
use crate::diag::Span;
use crate::ir::{Expr, Literal, Type};
use crate::syntax::ast::AggFunc;

pub(crate) fn aggregate(
    cx: &mut Cx,
    func: AggFunc,
    over: Option<&Expr>,
    lits: &[Literal],
    span: Span,
) -> Result<SqlVal, Unsupported> {
    if cx.d == super::Dialect::Spark {
        return Err(Unsupported::new("an aggregate", span).help(
            "Spark SQL restricts correlated subqueries; compile this rule for DuckDB or PostgreSQL",
        ));
    }
    let mut sub = cx.child();
    body(&mut sub, lits)?;
    cx.next_alias = sub.next_alias;
    let alias = cx.alias("a");
    let mut locals: Vec<String> = Vec::new();
    for (i, v) in sub.vars.iter().enumerate() {
        let named = cx.clause.vars.get(i).is_some_and(|x| x.name != "_");
        if let (Some(v), None, true) = (v, &cx.vars[i], named) {
            locals.extend(v.cols.iter().cloned());
        }
    }
    let value = match over {
        Some(e) => Some((expr(&sub, e)?, &e.ty)),
        None => None,
    };
    let mut select: Vec<String> = locals
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} AS c{}", i + 1))
        .collect();
    let text = match (func, value) {
        (AggFunc::Count, _) => {
            if select.is_empty() {
                select.push("1 AS c1".into());
            }
            let inner = format!(
                "SELECT DISTINCT {}\n{}",
                select.join(", "),
                from_where(&sub)
            );
            format!(
                "CAST((\n    SELECT COUNT(*) FROM (\n        {}\n    ) AS {alias}\n) AS DECIMAL(38,9))",
                indent(&indent(&inner))
            )
        }
        (AggFunc::Sum, Some((v, Type::Number))) => {
            select.push(format!("{} AS v", v.cols[0]));
            let inner = format!(
                "SELECT DISTINCT {}\n{}",
                select.join(", "),
                from_where(&sub)
            );
            format!(
                "COALESCE((\n    SELECT SUM(v) FROM (\n        {}\n    ) AS {alias}\n), 0)",
                indent(&indent(&inner))
            )
        }
        (
            AggFunc::Min | AggFunc::Max,
            Some((v, ty @ (Type::Number | Type::Text | Type::Entity(_)))),
        ) => {
            let f = if func == AggFunc::Min { "MIN" } else { "MAX" };
            let agg = if *ty == Type::Number {
                format!("{f}(v)")
            } else {
                cx.d.bytewise_agg(f, "v")
            };
            let inner = format!("SELECT {} AS v\n{}", v.cols[0], from_where(&sub));
            format!(
                "(\n    SELECT {agg} FROM (\n        {}\n    ) AS {alias}\n)",
                indent(&indent(&inner))
            )
        }
        _ => {
            return Err(
                Unsupported::new("an aggregate over dates, durations or booleans", span)
                    .help("the SQL backend aggregates numbers (and min/max of text)"),
            );
        }
    };
    Ok(SqlVal::computed(vec![text], true))
}
