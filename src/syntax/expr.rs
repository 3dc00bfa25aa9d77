//! Expressions: literals, variables, `$params`, lists, parentheses, unary minus and `+ - * /`.

use super::ast::{BinOp, Expr, ExprKind, Lit};
use super::error::{Expected, PError, fail};
use super::input::{Input, PResult};
use super::item::ITEM_KEYWORDS;
use super::lexeme::RESERVED;
use super::lexeme::{at_punct, commit, name, number_like, punct, string, word, ws};

/// `a + b * (c - 1)`: sums of products of unary terms.
pub fn expr(i: Input<'_>) -> PResult<'_, Expr> {
    i.chain(sum)
}

fn sum(i: Input<'_>) -> PResult<'_, Expr> {
    let (mut i, mut lhs) = product(i)?;
    loop {
        let op = match ws(i).peek() {
            Some('+') => BinOp::Add,
            Some('-') => BinOp::Sub,
            _ => return Ok((i, lhs)),
        };
        i.deeper()?;
        let (rest, _) = punct(if op == BinOp::Add { "+" } else { "-" })(i)?;
        let (rest, rhs) = commit(product(rest))?;
        lhs = binary(op, lhs, rhs);
        i = rest;
    }
}

/// `a * b / c`
fn product(i: Input<'_>) -> PResult<'_, Expr> {
    i.chain(product_chain)
}

fn product_chain(i: Input<'_>) -> PResult<'_, Expr> {
    let (mut i, mut lhs) = unary(i)?;
    loop {
        let op = match ws(i).peek() {
            Some('*') => BinOp::Mul,
            Some('/') => BinOp::Div,
            _ => return Ok((i, lhs)),
        };
        i.deeper()?;
        let (rest, _) = punct(if op == BinOp::Mul { "*" } else { "/" })(i)?;
        let (rest, rhs) = commit(unary(rest))?;
        lhs = binary(op, lhs, rhs);
        i = rest;
    }
}

fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
        span,
    }
}

/// `-x`, `- -x` (each minus one nesting level).
fn unary(i: Input<'_>) -> PResult<'_, Expr> {
    let i = ws(i);
    if !i.rest.starts_with('-') {
        return primary(i);
    }
    let start = i.offset;
    i.advance(1).nested(|i| {
        let (rest, inner) = commit(unary(i))?;
        let span = rest.span_from(start);
        let kind = ExprKind::Neg(Box::new(inner));
        Ok((rest, Expr { kind, span }))
    })
}

/// A literal, variable, `_`, `$param`, `[list]` or `( expr )`.
pub fn primary(i: Input<'_>) -> PResult<'_, Expr> {
    let i = ws(i);
    let start = i.offset;
    let (rest, kind) = match i.peek() {
        Some('(') => return paren(i),
        Some('[') => list(i)?,
        Some('"') => {
            let (rest, s) = string(i)?;
            (rest, ExprKind::Lit(Lit::Text(s.node)))
        }
        Some('$') => {
            let after = i.advance(1);
            if !after
                .peek()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            {
                return Err(nom::Err::Failure(PError::expected(
                    after.offset,
                    Expected::Name,
                )));
            }
            let (rest, n) = commit(name(after))?;
            (rest, ExprKind::Param(n.node))
        }
        Some(c) if c.is_ascii_digit() => {
            let (rest, lit) = number_like(i)?;
            (rest, ExprKind::Lit(lit))
        }
        _ => word_expr(i)?,
    };
    Ok((
        rest,
        Expr {
            kind,
            span: rest.span_from(start),
        },
    ))
}

/// A word in expression position: `true`, `false`, `none`, `_` or a variable.
fn word_expr(i: Input<'_>) -> PResult<'_, ExprKind> {
    let (rest, w) = word(i).map_err(|e| e.map(|e| PError::expected(e.pos, Expected::Expr)))?;
    let kind = match w.node.as_str() {
        "true" => ExprKind::Lit(Lit::Bool(true)),
        "false" => ExprKind::Lit(Lit::Bool(false)),
        "none" => ExprKind::Lit(Lit::None),
        "_" => ExprKind::Wildcard,
        w if RESERVED.contains(&w) || ITEM_KEYWORDS.contains(&w) => {
            return fail(i.offset, Expected::Expr);
        }
        _ => ExprKind::Var(w.node),
    };
    Ok((rest, kind))
}

/// `( expr )`: the expression, its span widened to the parentheses.
fn paren(i: Input<'_>) -> PResult<'_, Expr> {
    let start = i.offset;
    i.advance(1).nested(|i| {
        let (i, mut e) = commit(expr(i))?;
        let (i, _) = commit(punct(")")(i))?;
        e.span = i.span_from(start);
        Ok((i, e))
    })
}

/// `[a, b, c]` (a trailing comma is allowed).
fn list(i: Input<'_>) -> PResult<'_, ExprKind> {
    i.advance(1).nested(|mut i| {
        let mut items = Vec::new();
        loop {
            if at_punct(i, "]") {
                let (rest, _) = punct("]")(i)?;
                return Ok((rest, ExprKind::List(items)));
            }
            let (rest, e) = commit(expr(i))?;
            items.push(e);
            i = rest;
            if at_punct(i, ",") {
                i = punct(",")(i)?.0;
            } else if !at_punct(i, "]") {
                let at = ws(i).offset;
                return Err(nom::Err::Failure(PError {
                    pos: at,
                    expected: vec![Expected::Punct(","), Expected::Punct("]")],
                    too_deep: false,
                }));
            }
        }
    })
}
