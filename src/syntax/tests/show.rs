//! A compact, span-free rendering of expressions and literals, so tests read like the syntax.

use crate::syntax::ast::*;

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Var(v) => v.clone(),
        ExprKind::Wildcard => "_".into(),
        ExprKind::Param(p) => format!("${p}"),
        ExprKind::Lit(l) => lit(l),
        ExprKind::Neg(x) => format!("(- {})", expr(x)),
        ExprKind::Binary(op, a, b) => {
            let op = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
            };
            format!("({op} {} {})", expr(a), expr(b))
        }
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(expr).collect::<Vec<_>>().join(" ")),
    }
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Text(s) => format!("{s:?}"),
        Lit::Number { text, .. } => format!("#{text}"),
        Lit::Date(d) => format!("@{d}"),
        Lit::Duration { value, .. } => format!("~{value}"),
        Lit::Bool(b) => b.to_string(),
        Lit::None => "none".into(),
    }
}

pub fn atom(a: &Atom) -> String {
    let args: Vec<String> = match &a.args {
        Args::Named(xs) => xs
            .iter()
            .map(|(f, e)| format!("{}: {}", f.node, expr(e)))
            .collect(),
        Args::Positional(xs) => xs.iter().map(expr).collect(),
    };
    format!("{}({})", a.rel.node, args.join(", "))
}

pub fn literal(l: &Literal) -> String {
    match l {
        Literal::Atom(a) => atom(a),
        Literal::Not(a) => format!("not {}", atom(a)),
        Literal::Compare { op, lhs, rhs } => {
            let op = op.node.as_str();
            format!("{} {op} {}", expr(lhs), expr(rhs))
        }
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            ..
        } => {
            format!(
                "{} within {} {dir:?} {}",
                expr(lhs),
                expr(window),
                expr(rhs)
            )
        }
        Literal::InRange {
            value, from, until, ..
        } => {
            format!("{} in {}..{}", expr(value), expr(from), expr(until))
        }
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            ..
        } => format!(
            "{}..{} overlaps {}..{}",
            expr(a_from),
            expr(a_until),
            expr(b_from),
            expr(b_until)
        ),
        Literal::Aggregate {
            result,
            func,
            over,
            body,
            ..
        } => format!(
            "{} = {:?}{} {{ {} }}",
            result.node,
            func.node,
            over.as_ref()
                .map(|e| format!(" {}", expr(e)))
                .unwrap_or_default(),
            body.iter().map(literal).collect::<Vec<_>>().join("; ")
        ),
    }
}
