//! Items: `use`, `entity`, `relation`, `param`, `derive`, `rule` and `test`.

use super::ast::*;
use super::body::{atom, body, comma_list};
use super::error::{Expected, SyntaxError, fail};
use super::expr::expr;
use super::input::{Input, PResult};
use super::lexeme::{
    at_keyword, at_punct, commit, keyword, name, peek_word, punct, string, template, word, ws,
};
use crate::diag::{Span, did_you_mean};

/// The words that start an item.
pub const ITEM_KEYWORDS: &[&str] = &[
    "use",
    "entity",
    "relation",
    "symmetric",
    "param",
    "derive",
    "rule",
    "exempt",
    "test",
];

/// One item; after its keyword every error is committed.
pub fn item(i: Input<'_>) -> PResult<'_, Item> {
    match peek_word(i) {
        Some("use") => use_item(i),
        Some("entity") => entity(i).map(|(i, e)| (i, Item::Entity(e))),
        Some("relation" | "symmetric") => relation(i).map(|(i, r)| (i, Item::Relation(r))),
        Some("param") => param(i).map(|(i, p)| (i, Item::Param(p))),
        Some("derive") => derive(i).map(|(i, d)| (i, Item::Derive(d))),
        Some("rule") => rule(i).map(|(i, r)| (i, Item::Rule(r))),
        Some("exempt") => exempt(i).map(|(i, e)| (i, Item::Exempt(e))),
        Some("test") => test(i).map(|(i, t)| (i, Item::Test(t))),
        _ => fail(ws(i).offset, Expected::Keyword("rule")),
    }
}

/// `use std`, `use std/holdings`, `use "./helpers.coi"`.
fn use_item(i: Input<'_>) -> PResult<'_, Item> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("use")(i)?;
    let target = if at_punct(i, "\"") {
        let (i, path) = string(i)?;
        (i, UseTarget::Path(path.node))
    } else if peek_word(i) == Some("std") {
        let (i, _) = word(i)?;
        if i.rest.starts_with('/') {
            let (i, module) = commit(word(i.advance(1)))?;
            (i, UseTarget::Std(Some(module.node)))
        } else {
            (i, UseTarget::Std(None))
        }
    } else {
        return fail(ws(i).offset, Expected::UseTarget).map_err(to_failure);
    };
    let (i, target) = target;
    Ok((i, Item::Use(Spanned::new(target, i.span_from(start)))))
}

fn to_failure(e: nom::Err<super::error::PError>) -> nom::Err<super::error::PError> {
    match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    }
}

/// `entity person(name: text)` or `entity matter`.
fn entity(i: Input<'_>) -> PResult<'_, EntityDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("entity")(i)?;
    let (i, name) = commit(name(i))?;
    let (i, fields) = if at_punct(i, "(") {
        commit(fields(i))?
    } else {
        (i, Vec::new())
    };
    Ok((
        i,
        EntityDecl {
            name,
            fields,
            span: i.span_from(start),
        },
    ))
}

/// `(name: type, …)`
fn fields(i: Input<'_>) -> PResult<'_, Vec<FieldDecl>> {
    let (i, _) = punct("(")(i)?;
    comma_list(i, ")", field)
}

/// `name: type`, `name: type?`, `name: [type]`, `name: [a | b]?`.
fn field(i: Input<'_>) -> PResult<'_, FieldDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, name) = word(i)?;
    let (i, _) = commit(punct(":")(i))?;
    let list = at_punct(i, "[");
    let i = if list { punct("[")(i)?.0 } else { i };
    let (i, ty) = commit(type_expr(i))?;
    let i = if list { commit(punct("]")(i))?.0 } else { i };
    let optional = at_punct(i, "?");
    let i = if optional { punct("?")(i)?.0 } else { i };
    Ok((
        i,
        FieldDecl {
            name,
            ty,
            optional,
            list,
            span: i.span_from(start),
        },
    ))
}

/// `text` or a union `person | org`.
fn type_expr(i: Input<'_>) -> PResult<'_, TypeExpr> {
    let (mut i, first) =
        word(i).map_err(|e| e.map(|e| super::error::PError::expected(e.pos, Expected::Type)))?;
    let start = first.span.start as usize;
    let mut names = vec![first];
    while at_punct(i, "|") {
        let (rest, _) = punct("|")(i)?;
        let (rest, n) = commit(word(rest))?;
        names.push(n);
        i = rest;
    }
    Ok((
        i,
        TypeExpr {
            names,
            span: i.span_from(start),
        },
    ))
}

/// `[symmetric] relation name(fields) [during a..b | at f]`.
fn relation(i: Input<'_>) -> PResult<'_, RelationDecl> {
    let i = ws(i);
    let start = i.offset;
    let symmetric = at_keyword(i, "symmetric");
    let i = if symmetric {
        keyword("symmetric")(i)?.0
    } else {
        i
    };
    let (i, _) = commit(keyword("relation")(i))?;
    let (i, name) = commit(name(i))?;
    let (i, fields) = commit(fields(i))?;
    let (i, validity) = commit(validity(i))?;
    Ok((
        i,
        RelationDecl {
            name,
            symmetric,
            fields,
            validity,
            span: i.span_from(start),
        },
    ))
}

/// `during from..until` or `at on`, if present.
fn validity(i: Input<'_>) -> PResult<'_, Option<Spanned<Validity>>> {
    let start = ws(i).offset;
    if at_keyword(i, "during") {
        let (i, _) = keyword("during")(i)?;
        let (i, from) = word(i)?;
        let (i, _) = punct("..")(i)?;
        let (i, until) = word(i)?;
        return Ok((
            i,
            Some(Spanned::new(
                Validity::During { from, until },
                i.span_from(start),
            )),
        ));
    }
    if at_keyword(i, "at") {
        let (i, _) = keyword("at")(i)?;
        let (i, field) = word(i)?;
        return Ok((
            i,
            Some(Spanned::new(Validity::At(field), i.span_from(start))),
        ));
    }
    Ok((i, None))
}

/// `param name = expr ["doc"]`.
fn param(i: Input<'_>) -> PResult<'_, ParamDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("param")(i)?;
    let (i, name) = commit(name(i))?;
    let (i, _) = commit(punct("=")(i))?;
    let (i, value) = commit(expr(i))?;
    let (i, doc) = if at_punct(i, "\"") {
        let (i, s) = string(i)?;
        (i, Some(s))
    } else {
        (i, None)
    };
    Ok((
        i,
        ParamDecl {
            name,
            value,
            doc,
            span: i.span_from(start),
        },
    ))
}

/// `derive name(head exprs) { body }`.
fn derive(i: Input<'_>) -> PResult<'_, DeriveDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("derive")(i)?;
    let (i, name) = commit(name(i))?;
    let (i, _) = commit(punct("(")(i))?;
    let (i, head) = comma_list(i, ")", expr)?;
    let (i, body) = commit(body(i))?;
    Ok((
        i,
        DeriveDecl {
            name,
            head,
            body: body.node,
            span: i.span_from(start),
        },
    ))
}

/// `rule name[(subjects)] { attributes }`.
fn rule(i: Input<'_>) -> PResult<'_, RuleDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("rule")(i)?;
    let (i, name) = commit(name(i))?;
    let (i, subjects) = if at_punct(i, "(") {
        let (i, _) = punct("(")(i)?;
        let (i, s) = comma_list(i, ")", name_fn)?;
        (i, Some(s))
    } else {
        (i, None)
    };
    let (mut i, _) = commit(punct("{")(i))?;
    let mut r = RuleDecl {
        name,
        subjects,
        title: None,
        severity: None,
        basis: None,
        tags: Vec::new(),
        whens: Vec::new(),
        flag: None,
        span: Span::default(),
    };
    while !at_punct(i, "}") {
        i = commit(rule_attr(i, &mut r))?.0;
    }
    let (i, _) = punct("}")(i)?;
    r.span = i.span_from(start);
    Ok((i, r))
}

fn name_fn(i: Input<'_>) -> PResult<'_, Ident> {
    name(i)
}

/// Reports an attribute given a second time.
fn once<T>(i: Input<'_>, slot: &mut Option<T>, value: T, attr: &'static str, span: Span) {
    if slot.is_some() {
        i.report(SyntaxError::DuplicateAttribute(attr), span);
    } else {
        *slot = Some(value);
    }
}

/// One of `title`, `severity`, `basis`, `tags`, `when`, `flag`.
fn rule_attr<'a>(i: Input<'a>, r: &mut RuleDecl) -> PResult<'a, ()> {
    let Some(attr) = peek_word(i) else {
        return fail(ws(i).offset, Expected::RuleAttr);
    };
    let (i, kw) = word(i)?;
    let i = match attr {
        "title" | "basis" => {
            let (i, s) = commit(string(i))?;
            let slot = if attr == "title" {
                &mut r.title
            } else {
                &mut r.basis
            };
            once(
                i,
                slot,
                s,
                if attr == "title" { "title" } else { "basis" },
                kw.span,
            );
            i
        }
        "severity" => {
            let (i, s) = commit(severity(i))?;
            once(i, &mut r.severity, s, "severity", kw.span);
            i
        }
        "tags" => {
            if !r.tags.is_empty() {
                i.report(SyntaxError::DuplicateAttribute("tags"), kw.span);
            }
            let (mut i, first) = commit(string(i))?;
            r.tags.push(first);
            while at_punct(i, ",") {
                let (rest, s) = commit(string(punct(",")(i)?.0))?;
                r.tags.push(s);
                i = rest;
            }
            i
        }
        "when" => {
            let (i, b) = commit(body(i))?;
            r.whens.push(b);
            i
        }
        "flag" => {
            let (i, t) = commit(template(i))?;
            once(i, &mut r.flag, t, "flag", kw.span);
            i
        }
        _ => return fail(kw.span.start as usize, Expected::RuleAttr),
    };
    Ok((i, ()))
}

/// `exempt rule { because "…" when { … } … }`.
fn exempt(i: Input<'_>) -> PResult<'_, ExemptDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("exempt")(i)?;
    let (i, rule) = commit(name(i))?;
    let (mut i, _) = commit(punct("{")(i))?;
    let mut e = ExemptDecl {
        rule,
        because: None,
        whens: Vec::new(),
        span: Span::default(),
    };
    while !at_punct(i, "}") {
        i = match peek_word(i) {
            Some("because") => {
                let (rest, kw) = word(i)?;
                let (rest, s) = commit(string(rest))?;
                once(rest, &mut e.because, s, "because", kw.span);
                rest
            }
            Some("when") => {
                let (rest, b) = commit(body(word(i)?.0))?;
                e.whens.push(b);
                rest
            }
            _ => return fail(ws(i).offset, Expected::ExemptPart).map_err(to_failure),
        };
    }
    let (i, _) = punct("}")(i)?;
    e.span = i.span_from(start);
    Ok((i, e))
}

/// `info`, `low`, `medium`, `high` or `critical`. An unknown one is reported and read as
/// its closest match (or `medium`), a placeholder so that the rule does not also appear
/// to lack a severity.
fn severity(i: Input<'_>) -> PResult<'_, Spanned<Severity>> {
    let (i, w) = word(i)?;
    match Severity::parse(&w.node) {
        Some(s) => Ok((i, Spanned::new(s, w.span))),
        None => {
            let suggestion = did_you_mean(&w.node, Severity::ALL.map(Severity::as_str));
            let placeholder = suggestion
                .and_then(Severity::parse)
                .unwrap_or(Severity::Medium);
            i.report(
                SyntaxError::UnknownSeverity {
                    name: w.node,
                    suggestion,
                },
                w.span,
            );
            Ok((i, Spanned::new(placeholder, w.span)))
        }
    }
}

/// `test name { given { facts } expect [no] atom … }`.
fn test(i: Input<'_>) -> PResult<'_, TestDecl> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("test")(i)?;
    let (i, name) = commit(name(i))?;
    let (mut i, _) = commit(punct("{")(i))?;
    let mut t = TestDecl {
        name,
        given: Vec::new(),
        expects: Vec::new(),
        span: Span::default(),
    };
    while !at_punct(i, "}") {
        i = match peek_word(i) {
            Some("given") => {
                let (i, atoms) = commit(given(keyword("given")(i)?.0))?;
                t.given.extend(atoms);
                i
            }
            Some("expect") => {
                let (i, e) = commit(expect(i))?;
                t.expects.push(e);
                i
            }
            _ => return fail(ws(i).offset, Expected::TestPart).map_err(to_failure),
        };
    }
    let (i, _) = punct("}")(i)?;
    t.span = i.span_from(start);
    Ok((i, t))
}

/// `{ atom … }` with atoms optionally separated by `,`.
fn given(i: Input<'_>) -> PResult<'_, Vec<Atom>> {
    let (i, _) = punct("{")(i)?;
    i.nested(|mut i| {
        let mut atoms = Vec::new();
        while !at_punct(i, "}") {
            let (rest, a) = commit(atom(i).map_err(|e| {
                e.map(|mut e| {
                    if e.pos == ws(i).offset {
                        e.expected.push(Expected::Punct("}"));
                    }
                    e
                })
            }))?;
            atoms.push(a);
            i = if at_punct(rest, ",") {
                punct(",")(rest)?.0
            } else {
                rest
            };
        }
        Ok((punct("}")(i)?.0, atoms))
    })
}

/// `expect atom`, `expect no atom`, `expect exempted atom` or `expect no exempted atom`.
fn expect(i: Input<'_>) -> PResult<'_, Expect> {
    let i = ws(i);
    let start = i.offset;
    let (i, _) = keyword("expect")(i)?;
    let j = ws(i);
    let negated = peek_word(j) == Some("no") && !at_punct(j.advance(2), "(");
    let i = if negated { word(i)?.0 } else { i };
    let j = ws(i);
    let exempted = peek_word(j) == Some("exempted") && !at_punct(j.advance(8), "(");
    let i = if exempted { word(i)?.0 } else { i };
    let (i, atom) = commit(atom(i))?;
    Ok((
        i,
        Expect {
            negated,
            exempted,
            atom,
            span: i.span_from(start),
        },
    ))
}
