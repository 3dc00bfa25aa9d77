//! The plan as readable, deterministic text (golden tests read it).

use std::fmt::Write;

use super::{Plan, Source, Step};
use crate::diag::SourceMap;
use crate::ir::{Atom, Clause, Expr, ExprKind, Literal, Program, Term};
use crate::value::Value;

/// Renders the plan: per stratum its relations, per clause its head, origin and, per
/// variant, the join steps in order. With a source map, clauses show `file:line:col`.
pub fn explain(plan: &Plan, program: &Program, sources: Option<&SourceMap>) -> String {
    let mut out = String::new();
    for (si, s) in plan.strata.iter().enumerate() {
        let names: Vec<&str> = s
            .rels
            .iter()
            .map(|r| program.rel(*r).name.as_str())
            .collect();
        let rec = if s.recursive { " (recursive)" } else { "" };
        let _ = writeln!(out, "stratum {si}{rec}: {}", names.join(", "));
        for cp in &s.clauses {
            let c = program.clause(cp.clause);
            let head: Vec<String> = c.head_terms.iter().map(|e| expr(c, program, e)).collect();
            let at = match sources {
                Some(m) => m.locate(c.span),
                None => format!("clause {}", cp.clause.0),
            };
            let _ = writeln!(
                out,
                "  {}({}) <- {at}",
                program.rel(c.head).name,
                head.join(", ")
            );
            for v in &cp.variants {
                if let Some(d) = v.delta {
                    let _ = writeln!(out, "    variant delta #{d}:");
                }
                let indent = if v.delta.is_some() { 6 } else { 4 };
                steps(&mut out, program, c, &c.body, &v.steps, indent);
            }
        }
    }
    out
}

fn steps(out: &mut String, p: &Program, c: &Clause, body: &[Literal], steps_: &[Step], ind: usize) {
    let pad = " ".repeat(ind);
    for st in steps_ {
        let _ = match st {
            Step::Atom { lit, source, key } => {
                let Literal::Atom(a) = &body[*lit] else {
                    continue;
                };
                let src = match source {
                    Source::Full => "",
                    Source::Delta => "delta ",
                    Source::Stable => "stable ",
                    Source::StableRecent => "stable+recent ",
                };
                let verb = if key.is_empty() { "scan" } else { "lookup" };
                writeln!(out, "{pad}{verb} {src}{}", atom(p, c, a, key))
            }
            Step::Not { lit, key } => {
                let Literal::Not(a) = &body[*lit] else {
                    continue;
                };
                writeln!(out, "{pad}not {}", atom(p, c, a, key))
            }
            Step::Filter { lit } => writeln!(out, "{pad}filter {}", literal(p, c, &body[*lit])),
            Step::Assign { lit, test } => {
                let verb = if *test { "check" } else { "assign" };
                writeln!(out, "{pad}{verb} {}", literal(p, c, &body[*lit]))
            }
            Step::Aggregate { lit, body: inner } => {
                aggregate(out, p, c, &body[*lit], inner, ind);
                Ok(())
            }
        };
    }
}

/// `aggregate n = count per [p] {` then the body's steps, indented, then `}`.
fn aggregate(out: &mut String, p: &Program, c: &Clause, lit: &Literal, inner: &[Step], ind: usize) {
    let Literal::Aggregate {
        result,
        func,
        over,
        group,
        body,
        ..
    } = lit
    else {
        return;
    };
    let pad = " ".repeat(ind);
    let f = func.as_str();
    let over = over
        .as_ref()
        .map(|e| format!(" {}", expr(c, p, e)))
        .unwrap_or_default();
    let g: Vec<&str> = group.iter().map(|v| var(c, v.0)).collect();
    let r = var(c, result.0);
    let _ = writeln!(
        out,
        "{pad}aggregate {r} = {f}{over} per [{}] {{",
        g.join(", ")
    );
    steps(out, p, c, body, inner, ind + 2);
    let _ = writeln!(out, "{pad}}}");
}

fn var(c: &Clause, v: u32) -> &str {
    c.vars
        .get(v as usize)
        .map(|v| v.name.as_str())
        .unwrap_or("?")
}

fn value(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("{:?}", &**s),
        Value::Entity(s) => format!("{:?}", &**s),
        other => other.to_string(),
    }
}

fn term(c: &Clause, t: &Term) -> String {
    match t {
        Term::Var(v) => var(c, v.0).to_string(),
        Term::Const(v) => value(v),
        Term::Wildcard => "_".to_string(),
    }
}

/// `holding[holder=mid](asset: company, pct: b)`: key columns in brackets, the rest after.
fn atom(p: &Program, c: &Clause, a: &Atom, key: &[usize]) -> String {
    let r = p.rel(a.rel);
    let fname = |i: usize| r.fields.get(i).map(|f| f.name.as_str()).unwrap_or("?");
    let keys: Vec<String> = key
        .iter()
        .map(|&i| {
            format!(
                "{}={}",
                fname(i),
                a.terms.get(i).map(|t| term(c, t)).unwrap_or_default()
            )
        })
        .collect();
    let rest: Vec<String> = a
        .terms
        .iter()
        .enumerate()
        .filter(|(i, t)| !key.contains(i) && !matches!(t, Term::Wildcard))
        .map(|(i, t)| format!("{}: {}", fname(i), term(c, t)))
        .collect();
    let mut s = r.name.clone();
    if !keys.is_empty() {
        s.push_str(&format!("[{}]", keys.join(", ")));
    }
    if !rest.is_empty() || keys.is_empty() {
        s.push_str(&format!("({})", rest.join(", ")));
    }
    s
}

fn literal(p: &Program, c: &Clause, l: &Literal) -> String {
    let e = |x: &Expr| expr(c, p, x);
    match l {
        Literal::Compare { op, lhs, rhs, .. } => {
            let o = op.as_str();
            format!("{} {o} {}", e(lhs), e(rhs))
        }
        Literal::Assign {
            var: v, expr: x, ..
        } => format!("{} = {}", var(c, v.0), e(x)),
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            ..
        } => {
            let d = dir.as_str();
            format!("{} within {} {d} {}", e(lhs), e(window), e(rhs))
        }
        Literal::InRange {
            value, from, until, ..
        } => format!("{} in {}..{}", e(value), e(from), e(until)),
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            ..
        } => format!(
            "{}..{} overlaps {}..{}",
            e(a_from),
            e(a_until),
            e(b_from),
            e(b_until)
        ),
        Literal::Atom(a) => atom(p, c, a, &[]),
        Literal::Not(a) => format!("not {}", atom(p, c, a, &[])),
        Literal::Aggregate { result, .. } => format!("{} = aggregate", var(c, result.0)),
    }
}

/// An expression with the parentheses its precedence needs.
pub(crate) fn expr(c: &Clause, p: &Program, e: &Expr) -> String {
    fn prec(e: &Expr) -> u8 {
        match &e.kind {
            ExprKind::Binary(op, ..) => op.precedence(),
            _ => 3,
        }
    }
    match &e.kind {
        ExprKind::Var(v) => var(c, v.0).to_string(),
        ExprKind::Const(v) => value(v),
        ExprKind::Param(id) => p
            .params
            .get(id.0 as usize)
            .map(|x| format!("${}", x.name))
            .unwrap_or_else(|| "$?".into()),
        ExprKind::Neg(a) if prec(a) < 3 => format!("-({})", expr(c, p, a)),
        ExprKind::Neg(a) => format!("-{}", expr(c, p, a)),
        ExprKind::Binary(op, a, b) => {
            let (o, pr) = (op.as_str(), op.precedence());
            let l = expr(c, p, a);
            let r = expr(c, p, b);
            let l = if prec(a) < pr { format!("({l})") } else { l };
            let r = if prec(b) <= pr && prec(b) < 3 {
                format!("({r})")
            } else {
                r
            };
            format!("{l} {o} {r}")
        }
    }
}
