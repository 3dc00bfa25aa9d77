//! Test blocks: `given` atoms to constant facts, `expect` atoms to expectations.

use std::collections::HashMap;

use crate::diag::{Diagnostic, FileId, Span, did_you_mean};
use crate::ir::{Expectation, Field, GivenFact, Program, RelKind, Relation, Test, Validity};
use crate::syntax::ast::{self, ExprKind, Item};
use crate::value::{Date, Value};

use super::codes;
use super::lower::check_args;
use super::params::eval_const;
use super::schema::Decls;
use super::types::{literal, meet, show, type_of_value};

struct Tx<'a> {
    decls: &'a Decls<'a>,
    program: &'a Program,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks every `test` block and adds it to the program.
pub(crate) fn check_tests(
    files: &[(FileId, ast::File)],
    decls: &Decls,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut tests = Vec::new();
    for (_, file) in files {
        for item in &file.items {
            let Item::Test(t) = item else { continue };
            if let Some(prev) = seen.insert(&t.name.node, t.name.span) {
                diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_RULE,
                        format!("test `{}` is declared twice", t.name.node),
                    )
                    .at(t.name.span)
                    .note(prev, "first declared here")
                    .help("rename one of them; test names identify results"),
                );
            }
            let mut tx = Tx {
                decls,
                program,
                diags,
            };
            tests.push(tx.test(t));
        }
    }
    program.tests = tests;
}

impl Tx<'_> {
    fn test(&mut self, t: &ast::TestDecl) -> Test {
        let mut given = Vec::new();
        for a in &t.given {
            given.extend(self.given(a));
        }
        let expects = t.expects.iter().filter_map(|e| self.expect(e)).collect();
        Test {
            name: t.name.node.clone(),
            given,
            expects,
            span: t.name.span,
        }
    }

    /// One given atom: a fact per combination of list members.
    fn given(&mut self, a: &ast::Atom) -> Vec<GivenFact> {
        let rel = match self.decls.rel(&a.rel) {
            Ok(r) => r,
            Err(d) => {
                self.diags.push(d);
                return Vec::new();
            }
        };
        let r = self.program.rel(rel);
        if matches!(r.kind, RelKind::Derived | RelKind::Rule(_)) {
            self.diags.push(
                Diagnostic::error(
                    codes::GIVEN_DERIVED,
                    format!("`{}` is computed by rules, not given", r.name),
                )
                .at(a.rel.span)
                .help("give the base facts it is derived from, and `expect` this one"),
            );
            return Vec::new();
        }
        let mut values: Vec<Option<Vec<Value>>> = vec![None; r.arity()];
        // Fields written with a value already reported as wrong: not also "missing".
        let mut reported = vec![false; r.arity()];
        for (field, e) in check_args(r, a, true, self.diags) {
            let Some(i) = field else { continue };
            values[i] = self.value(&e, r, i, true);
            reported[i] = values[i].is_none();
        }
        let mut columns = Vec::new();
        for (i, v) in values.into_iter().enumerate() {
            match v {
                // An empty list is an absent field, as in case folders.
                Some(v) if !v.is_empty() => columns.push(v),
                None if reported[i] => columns.push(vec![Value::None]),
                _ => columns.push(vec![self.absent(r, i, a)]),
            }
        }
        expand(&columns)
            .into_iter()
            .map(|values| GivenFact {
                rel,
                values,
                span: a.span,
            })
            .collect()
    }

    /// The value of a field the fact leaves out: open ends for `during`, else `none`.
    fn absent(&mut self, r: &Relation, i: usize, a: &ast::Atom) -> Value {
        let f = &r.fields[i];
        if !f.optional {
            self.diags.push(
                Diagnostic::error(
                    codes::MISSING_REQUIRED_FIELD,
                    format!("`{}` fact without its field `{}`", r.name, f.name),
                )
                .at(a.span)
                .help(format!(
                    "add `{}: …`; only fields declared with `?` may be left out",
                    f.name
                )),
            );
        }
        match r.validity {
            Some(Validity::During { from, .. }) if from == i => Value::Date(Date::NEG_INF),
            Some(Validity::During { until, .. }) if until == i => Value::Date(Date::POS_INF),
            _ => Value::None,
        }
    }

    /// The constant(s) an argument gives a field; a list only for list fields.
    fn value(&mut self, e: &ast::Expr, r: &Relation, i: usize, lists: bool) -> Option<Vec<Value>> {
        let f = &r.fields[i];
        match &e.kind {
            ExprKind::List(xs) if f.list && lists => {
                let mut out = Vec::new();
                for x in xs {
                    if matches!(x.kind, ExprKind::List(_)) {
                        self.diags
                            .push(not_a_list(e.span, r, f, "a list cannot hold lists"));
                        return None;
                    }
                    out.extend(self.value(x, r, i, false)?);
                }
                Some(out)
            }
            ExprKind::List(_) => {
                let why = if f.list {
                    "give one value here"
                } else {
                    "give one value; only fields declared `[T]` hold lists"
                };
                self.diags.push(not_a_list(e.span, r, f, why));
                None
            }
            _ => self.scalar(e, r, f).map(|v| vec![v]),
        }
    }

    fn scalar(&mut self, e: &ast::Expr, r: &Relation, f: &Field) -> Option<Value> {
        let what = format!("field `{}` of `{}`", f.name, r.name);
        let value = match &e.kind {
            ExprKind::Var(n) if matches!(f.ty, crate::ir::Type::Entity(_)) => Value::entity(n),
            ExprKind::Var(n) => {
                let t = show(&f.ty, &self.program.kinds);
                self.diags.push(
                    Diagnostic::error(
                        codes::GIVEN_NOT_CONSTANT,
                        format!("`{n}` is not a constant"),
                    )
                    .at(e.span)
                    .help(format!(
                        "{what} is `{t}`: bare names are entity ids; write `\"{n}\"` for text"
                    )),
                );
                return None;
            }
            ExprKind::Wildcard => {
                let help = if f.optional {
                    format!(
                        "a given fact states values; leave `{}` out to give it none",
                        f.name
                    )
                } else {
                    format!(
                        "a given fact states values; `{}` is required, so write its value",
                        f.name
                    )
                };
                self.diags.push(
                    Diagnostic::error(codes::GIVEN_NOT_CONSTANT, "`_` is not a value")
                        .at(e.span)
                        .help(help),
                );
                return None;
            }
            ExprKind::Lit(l) => literal(l, &f.ty).0,
            _ => match eval_const(e, &self.decls.params, self.program) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    return None;
                }
            },
        };
        let ty = type_of_value(&value);
        if meet(&ty, &f.ty).is_none() {
            let (x, g) = (
                show(&f.ty, &self.program.kinds),
                show(&ty, &self.program.kinds),
            );
            self.diags.push(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("type mismatch: {what} is `{x}`, found `{g}`"),
                )
                .at(e.span)
                .help(format!("write a `{x}` here")),
            );
            return None;
        }
        Some(value)
    }

    fn expect(&mut self, ex: &ast::Expect) -> Option<Expectation> {
        let a = &ex.atom;
        let Some(&rel) = self.decls.rels.get(&a.rel.node) else {
            let mut names: Vec<&str> = self.decls.rules.keys().map(String::as_str).collect();
            names.extend(self.decls.rels.keys().map(String::as_str));
            let help = match did_you_mean(&a.rel.node, names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name a rule (or a relation) declared in the loaded files".into(),
            };
            self.diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_RULE,
                    format!("unknown rule `{}`", a.rel.node),
                )
                .at(a.rel.span)
                .help(help),
            );
            return None;
        };
        let r: &Relation = self.program.rel(rel);
        if ex.exempted && !matches!(r.kind, crate::ir::RelKind::Rule(_)) {
            self.diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_RULE,
                    format!(
                        "`expect exempted` needs a rule, and `{}` is not one",
                        a.rel.node
                    ),
                )
                .at(a.rel.span)
                .help("exemptions apply to findings: name a rule declared with `rule`"),
            );
            return None;
        }
        let mut fields = Vec::new();
        for (field, e) in check_args(r, a, false, self.diags) {
            let Some(i) = field else { continue };
            if matches!(e.kind, ExprKind::Wildcard) {
                continue;
            }
            if let Some(v) = self.value(&e, r, i, false) {
                fields.extend(v.into_iter().map(|v| (i, v)));
            }
        }
        Some(Expectation {
            negated: ex.negated,
            exempted: ex.exempted,
            rel,
            fields,
            span: ex.span,
        })
    }
}

fn not_a_list(span: Span, r: &Relation, f: &Field, why: &str) -> Diagnostic {
    Diagnostic::error(
        codes::LIST_FIELD_MISUSE,
        format!(
            "field `{}` of `{}` takes one value, not a list",
            f.name, r.name
        ),
    )
    .at(span)
    .help(why.to_string())
}

/// Every combination of one value per column.
fn expand(columns: &[Vec<Value>]) -> Vec<Vec<Value>> {
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for col in columns {
        let mut next = Vec::with_capacity(rows.len() * col.len().max(1));
        for row in &rows {
            for v in col {
                let mut r = row.clone();
                r.push(v.clone());
                next.push(r);
            }
        }
        rows = next;
    }
    rows
}
