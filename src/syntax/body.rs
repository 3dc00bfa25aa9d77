//! Body literals: atoms, `not`, comparisons, `within`, `in`, `overlaps` and aggregates, and `{ … }` blocks.

use super::ast::{AggFunc, Args, Atom, CmpOp, Expr, ExprKind, Literal, Spanned, WithinDir};
use super::error::{Expected, PError, SyntaxError};
use super::expr::expr;
use super::input::{Input, PResult};
use super::lexeme::{
    RESERVED, at_keyword, at_punct, commit, expecting, keyword, name, peek_word, punct, word, ws,
};

/// Items separated by `,` up to `close` (a trailing comma is allowed); `close` is consumed.
pub fn comma_list<'a, T>(
    mut i: Input<'a>,
    close: &'static str,
    mut item: impl FnMut(Input<'a>) -> PResult<'a, T>,
) -> PResult<'a, Vec<T>> {
    let mut items = Vec::new();
    loop {
        if at_punct(i, close) {
            let (rest, _) = punct(close)(i)?;
            return Ok((rest, items));
        }
        let (rest, x) = commit(item(i))?;
        items.push(x);
        i = rest;
        if at_punct(i, ",") {
            i = punct(",")(i)?.0;
        } else if !at_punct(i, close) {
            let pos = ws(i).offset;
            let mut e = PError::expected(pos, Expected::Punct(","));
            e.expected.push(Expected::Punct(close));
            return Err(nom::Err::Failure(e));
        }
    }
}

/// True if the input starts with `name(`: an atom.
fn at_atom(i: Input<'_>) -> bool {
    let i = ws(i);
    match peek_word(i) {
        Some(w) if !RESERVED.contains(&w) => at_punct(i.advance(w.len()), "("),
        _ => false,
    }
}

/// `role(person: p, org: firm)` or `controls(a, b, pct)`.
pub fn atom(i: Input<'_>) -> PResult<'_, Atom> {
    let i = ws(i);
    let start = i.offset;
    let (i, rel) = name(i)?;
    let (i, _) = commit(punct("(")(i))?;
    let (i, args) = args(i)?;
    Ok((
        i,
        Atom {
            rel,
            args,
            span: i.span_from(start),
        },
    ))
}

/// The arguments after `(`, through `)`: all named (`field: expr`) or all positional.
fn args(i: Input<'_>) -> PResult<'_, Args> {
    let j = ws(i);
    let first = peek_word(j);
    let named = first.is_some_and(|w| at_punct(j.advance(w.len()), ":"));
    // `holder p`: a field name and a value without the `:` between them.
    if let Some(w) = first.filter(|w| !named && !RESERVED.contains(w)) {
        let after = ws(j.advance(w.len()));
        if after
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == '$')
        {
            let mut e = PError::expected(after.offset, Expected::Punct(":"));
            e.expected
                .extend([Expected::Punct(","), Expected::Punct(")")]);
            return Err(nom::Err::Failure(e));
        }
    }
    if named || at_punct(i, ")") {
        let (i, list) = comma_list(i, ")", |i| {
            let (i, field) = word(i)?;
            let (i, _) = commit(punct(":")(i))?;
            let (i, value) = commit(expr(i))?;
            Ok((i, (field, value)))
        })?;
        return Ok((i, Args::Named(list)));
    }
    let (i, list) = comma_list(i, ")", expr)?;
    Ok((i, Args::Positional(list)))
}

/// `{ literal … }` with literals optionally separated by `,`; an empty block is reported.
pub fn body(i: Input<'_>) -> PResult<'_, Spanned<Vec<Literal>>> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = punct("{")(i)?;
    i.nested(|mut i| {
        let mut lits = Vec::new();
        loop {
            if at_punct(i, "}") {
                let (i, _) = punct("}")(i)?;
                let span = i.span_from(start);
                if lits.is_empty() {
                    i.report(SyntaxError::EmptyBody, span);
                }
                return Ok((i, Spanned::new(lits, span)));
            }
            let (rest, lit) = commit(literal(i).map_err(|e| {
                e.map(|mut e| {
                    if e.pos == ws(i).offset && !e.too_deep {
                        e.expected.push(Expected::Punct("}"));
                    }
                    e
                })
            }))?;
            lits.push(lit);
            i = rest;
            if at_punct(i, ",") {
                i = punct(",")(i)?.0;
            }
        }
    })
}

/// One condition of a body.
pub fn literal(i: Input<'_>) -> PResult<'_, Literal> {
    let i = ws(i);
    if at_keyword(i, "not") {
        let (i, _) = keyword("not")(i)?;
        let (i, a) = commit(atom(i))?;
        return Ok((i, Literal::Not(a)));
    }
    if at_atom(i) {
        let (i, a) = atom(i)?;
        return Ok((i, Literal::Atom(a)));
    }
    let (i, lhs) = expecting(Expected::Literal, expr)(i)?;
    commit(literal_tail(i, lhs))
}

/// What follows the first expression of a body line.
fn literal_tail(i: Input<'_>, lhs: Expr) -> PResult<'_, Literal> {
    if at_punct(i, "..") {
        return overlaps(i, lhs);
    }
    if at_keyword(i, "within") {
        return within(i, lhs);
    }
    if at_keyword(i, "in") {
        let start = lhs.span.start as usize;
        let (i, _) = keyword("in")(i)?;
        let (i, from) = expr(i)?;
        let (i, _) = punct("..")(i)?;
        let (i, until) = expr(i)?;
        let span = i.span_from(start);
        return Ok((
            i,
            Literal::InRange {
                value: lhs,
                from,
                until,
                span,
            },
        ));
    }
    let (i, op) = expecting(Expected::LiteralOp, cmp_op)(i)?;
    if let (CmpOp::Eq, ExprKind::Var(v)) = (op.node, &lhs.kind) {
        let result = Spanned::new(v.clone(), lhs.span);
        match aggregate(i, result) {
            Err(nom::Err::Error(_)) => {}
            other => return other,
        }
    }
    let (i, rhs) = expr(i)?;
    Ok((i, Literal::Compare { op, lhs, rhs }))
}

/// After `a_from`: `..a_until overlaps b_from..b_until`.
fn overlaps(i: Input<'_>, a_from: Expr) -> PResult<'_, Literal> {
    let start = a_from.span.start as usize;
    let (i, _) = punct("..")(i)?;
    let (i, a_until) = expr(i)?;
    let (i, _) = keyword("overlaps")(i)?;
    let (i, b_from) = expr(i)?;
    let (i, _) = punct("..")(i)?;
    let (i, b_until) = expr(i)?;
    let span = i.span_from(start);
    Ok((
        i,
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            span,
        },
    ))
}

/// After `lhs`: `within window of|after|before rhs`.
fn within(i: Input<'_>, lhs: Expr) -> PResult<'_, Literal> {
    let start = lhs.span.start as usize;
    let (i, _) = keyword("within")(i)?;
    let (i, window) = expr(i)?;
    let (i, dir) = within_dir(i)?;
    let (i, rhs) = expr(i)?;
    let span = i.span_from(start);
    Ok((
        i,
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            span,
        },
    ))
}

fn within_dir(i: Input<'_>) -> PResult<'_, WithinDir> {
    let dir = match peek_word(i) {
        Some("of") => WithinDir::Of,
        Some("after") => WithinDir::After,
        Some("before") => WithinDir::Before,
        _ => {
            let mut e = PError::expected(ws(i).offset, Expected::Keyword("of"));
            e.expected
                .extend([Expected::Keyword("after"), Expected::Keyword("before")]);
            return Err(nom::Err::Error(e));
        }
    };
    Ok((word(i)?.0, dir))
}

/// `=`, `!=`, `<`, `<=`, `>`, `>=`.
fn cmp_op(i: Input<'_>) -> PResult<'_, Spanned<CmpOp>> {
    let i = ws(i);
    let ops = [
        ("!=", CmpOp::Ne),
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
        ("=", CmpOp::Eq),
    ];
    for (text, op) in ops {
        if i.rest.starts_with(text) {
            let rest = i.advance(text.len());
            return Ok((rest, Spanned::new(op, rest.span_from(i.offset))));
        }
    }
    super::error::fail(i.offset, Expected::LiteralOp)
}

/// After `result =`: `count { … }` or `sum|min|max expr { … }`; a plain error if the
/// input is an ordinary comparison instead (`x = min + 1`).
fn aggregate(i: Input<'_>, result: super::ast::Ident) -> PResult<'_, Literal> {
    let func = match peek_word(i) {
        Some("count") => AggFunc::Count,
        Some("sum") => AggFunc::Sum,
        Some("min") => AggFunc::Min,
        Some("max") => AggFunc::Max,
        _ => return super::error::fail(ws(i).offset, Expected::Expr),
    };
    let (i, kw) = word(i)?;
    let (i, over) = if func == AggFunc::Count {
        (i, None)
    } else {
        let (i, e) = expr(i)?;
        (i, Some(e))
    };
    if !at_punct(i, "{") {
        return super::error::fail(ws(i).offset, Expected::Punct("{"));
    }
    let (i, body) = commit(body(i))?;
    let span = i.span_from(result.span.start as usize);
    let func = Spanned::new(func, kw.span);
    Ok((
        i,
        Literal::Aggregate {
            result,
            func,
            over,
            body: body.node,
            span,
        },
    ))
}
