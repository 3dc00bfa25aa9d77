//! Declarations: entity kinds, relations, derived heads, rule heads and params, by name.

use std::collections::HashMap;

use crate::diag::{Diagnostic, FileId, Span, did_you_mean};
use crate::ir::{
    EntityKind, Field, KindId, ParamId, Program, RelId, RelKind, Relation, Rule, RuleId, Type,
    Validity,
};
use crate::syntax::ast::{self, Item, Template, TemplatePart};

use super::types::resolve_type;
use super::{codes, params};

/// The names the declarations introduced, and the AST pieces still to lower.
pub(crate) struct Decls<'a> {
    pub rels: HashMap<String, RelId>,
    pub params: HashMap<String, ParamId>,
    pub rules: HashMap<String, RuleId>,
    /// Each `derive` whose head matched its relation: (relation, declaration).
    pub derives: Vec<(RelId, &'a ast::DeriveDecl)>,
    /// Each declared rule, by `RuleId`.
    pub rule_decls: Vec<&'a ast::RuleDecl>,
    /// `derive`-shaped clauses made from `exempt` blocks: (relation, declaration).
    pub exempt_derives: Vec<(RelId, ast::DeriveDecl)>,
}

impl Decls<'_> {
    /// A relation by name, or an `unknown_relation` error with a suggestion.
    #[expect(
        clippy::result_large_err,
        reason = "one diagnostic per call, off the hot path"
    )]
    pub fn rel(&self, name: &ast::Ident) -> Result<RelId, Diagnostic> {
        self.rels.get(&name.node).copied().ok_or_else(|| {
            let help = match did_you_mean(&name.node, self.rels.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it with `relation`, `entity` or `derive`, or import it with `use`"
                    .to_string(),
            };
            Diagnostic::error(
                codes::UNKNOWN_RELATION,
                format!("unknown relation `{}`", name.node),
            )
            .at(name.span)
            .help(help)
        })
    }
}

/// Declares every kind, relation, param and rule head of all files, in file order.
pub(crate) fn declare<'a>(
    files: &'a [(FileId, ast::File)],
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) -> Decls<'a> {
    let mut d = Decls {
        rels: HashMap::new(),
        params: HashMap::new(),
        rules: HashMap::new(),
        derives: Vec::new(),
        rule_decls: Vec::new(),
        exempt_derives: Vec::new(),
    };
    let items = || files.iter().flat_map(|(_, f)| f.items.iter());
    let mut kinds: HashMap<String, KindId> = HashMap::new();
    for item in items() {
        if let Item::Entity(e) = item {
            if !kinds.contains_key(&e.name.node) {
                kinds.insert(e.name.node.clone(), KindId(program.kinds.len() as u32));
                program.kinds.push(EntityKind {
                    name: e.name.node.clone(),
                    rel: RelId(u32::MAX),
                    span: e.name.span,
                });
            }
        }
    }
    let mut first_span: HashMap<String, Span> = HashMap::new();
    for item in items() {
        match item {
            Item::Entity(e) => declare_entity(e, &kinds, &mut d, &mut first_span, program, diags),
            Item::Relation(r) => {
                declare_relation(r, &kinds, &mut d, &mut first_span, program, diags)
            }
            Item::Derive(dv) => declare_derive(dv, &mut d, &mut first_span, program, diags),
            Item::Rule(r) => declare_rule(r, &mut d, &mut first_span, program, diags),
            Item::Param(p) => declare_param(p, &mut d, program, diags),
            Item::Use(_) | Item::Test(_) | Item::Exempt(_) => {}
        }
    }
    for item in items() {
        if let Item::Exempt(e) = item {
            super::exempt::declare(e, &mut d, program, diags);
        }
    }
    d
}

/// Claims a relation name; a duplicate is reported and `None` returned.
fn claim(
    name: &ast::Ident,
    first_span: &mut HashMap<String, Span>,
    diags: &mut Vec<Diagnostic>,
) -> Option<()> {
    if let Some(prev) = first_span.get(&name.node) {
        diags.push(
            Diagnostic::error(
                codes::DUPLICATE_RELATION,
                format!("relation `{}` is declared twice", name.node),
            )
            .at(name.span)
            .note(*prev, "first declared here")
            .help("rename one of them; entities, relations, derived relations and rules share one namespace"),
        );
        return None;
    }
    first_span.insert(name.node.clone(), name.span);
    Some(())
}

pub(crate) fn push_rel(d: &mut Decls, program: &mut Program, rel: Relation) -> RelId {
    let id = RelId(program.relations.len() as u32);
    d.rels.insert(rel.name.clone(), id);
    program.relations.push(rel);
    id
}

/// Checks field declarations and resolves their types; duplicates are reported.
fn fields(
    decls: &[ast::FieldDecl],
    mut out: Vec<Field>,
    kinds: &HashMap<String, KindId>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Field> {
    let mut spans: HashMap<&str, Span> = HashMap::new();
    for f in decls {
        if let Some(prev) = spans.get(f.name.node.as_str()) {
            diags.push(duplicate_field(&f.name, *prev));
            continue;
        }
        if out.iter().any(|o| o.name == f.name.node) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_FIELD,
                    format!("field `{}` is implicit", f.name.node),
                )
                .at(f.name.span)
                .help("an entity's first field `id` is implicit; remove this one or rename it"),
            );
            continue;
        }
        spans.insert(&f.name.node, f.name.span);
        out.push(Field {
            name: f.name.node.clone(),
            ty: resolve_type(&f.ty, kinds, diags),
            optional: f.optional,
            list: f.list,
        });
    }
    out
}

pub(crate) fn duplicate_field(name: &ast::Ident, prev: Span) -> Diagnostic {
    Diagnostic::error(
        codes::DUPLICATE_FIELD,
        format!("field `{}` appears twice", name.node),
    )
    .at(name.span)
    .note(prev, "first here")
    .help("remove one of them, or rename it")
}

fn declare_entity(
    e: &ast::EntityDecl,
    kinds: &HashMap<String, KindId>,
    d: &mut Decls,
    first_span: &mut HashMap<String, Span>,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    claim(&e.name, first_span, diags);
    let Some(&kind) = kinds.get(&e.name.node) else {
        return;
    };
    if program.kinds[kind.0 as usize].rel.0 != u32::MAX {
        return;
    }
    let id = Field {
        name: "id".into(),
        ty: Type::Entity(vec![kind]),
        optional: false,
        list: false,
    };
    let rel = Relation {
        name: e.name.node.clone(),
        kind: RelKind::Entity(kind),
        fields: fields(&e.fields, vec![id], kinds, diags),
        symmetric: false,
        validity: None,
        span: e.name.span,
    };
    let rid = push_rel(d, program, rel);
    program.kinds[kind.0 as usize].rel = rid;
}

fn declare_relation(
    r: &ast::RelationDecl,
    kinds: &HashMap<String, KindId>,
    d: &mut Decls,
    first_span: &mut HashMap<String, Span>,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    if claim(&r.name, first_span, diags).is_none() {
        return;
    }
    let fields = fields(&r.fields, Vec::new(), kinds, diags);
    let validity = r
        .validity
        .as_ref()
        .and_then(|v| validity(&v.node, &fields, diags));
    if r.symmetric {
        symmetric_shape(r, &fields, program, diags);
    }
    let rel = Relation {
        name: r.name.node.clone(),
        kind: RelKind::Base,
        fields,
        symmetric: r.symmetric,
        validity,
        span: r.name.span,
    };
    push_rel(d, program, rel);
}

fn symmetric_shape(
    r: &ast::RelationDecl,
    fields: &[Field],
    program: &Program,
    diags: &mut Vec<Diagnostic>,
) {
    let ok = match fields {
        [a, b, ..] => a.ty == b.ty && !a.list && !b.list,
        _ => false,
    };
    if ok {
        return;
    }
    let msg = match (fields, r.fields.as_slice()) {
        ([a, b, ..], [fa, fb, ..]) => format!(
            "symmetric relation `{}` swaps `{}: {}` and `{}: {}`, which differ",
            r.name.node,
            fa.name.node,
            super::types::show(&a.ty, &program.kinds),
            fb.name.node,
            super::types::show(&b.ty, &program.kinds)
        ),
        _ => format!(
            "symmetric relation `{}` needs at least two fields",
            r.name.node
        ),
    };
    diags.push(
        Diagnostic::error(codes::SYMMETRIC_SHAPE, msg)
            .at(r.name.span)
            .help("give the first two fields the same type (and no list), or drop `symmetric`"),
    );
}

/// Checks that `during a..b` / `at a` name date fields and returns their indexes.
fn validity(v: &ast::Validity, fields: &[Field], diags: &mut Vec<Diagnostic>) -> Option<Validity> {
    let mut find = |name: &ast::Ident| -> Option<usize> {
        let Some(i) = fields.iter().position(|f| f.name == name.node) else {
            let help = match did_you_mean(&name.node, fields.iter().map(|f| f.name.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "name one of the relation's date fields".to_string(),
            };
            diags.push(
                Diagnostic::error(
                    codes::UNKNOWN_FIELD,
                    format!("unknown field `{}`", name.node),
                )
                .at(name.span)
                .help(help),
            );
            return None;
        };
        if fields[i].ty != Type::Date || fields[i].list {
            diags.push(
                Diagnostic::error(
                    codes::INVALID_VALIDITY,
                    format!("validity field `{}` is not a date", name.node),
                )
                .at(name.span)
                .help("`during` and `at` name fields declared `date` or `date?`"),
            );
            return None;
        }
        Some(i)
    };
    match v {
        ast::Validity::During { from, until } => {
            let (f, u) = (find(from), find(until));
            Some(Validity::During {
                from: f?,
                until: u?,
            })
        }
        ast::Validity::At(a) => find(a).map(Validity::At),
    }
}

/// The field name of a derive head term: a plain variable's name, else `_<i>`.
fn head_field_name(e: &ast::Expr, i: usize, taken: &[Field]) -> String {
    match &e.kind {
        ast::ExprKind::Var(n) if !taken.iter().any(|f| &f.name == n) => n.clone(),
        _ => format!("_{i}"),
    }
}

fn declare_derive<'a>(
    dv: &'a ast::DeriveDecl,
    d: &mut Decls<'a>,
    first_span: &mut HashMap<String, Span>,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(&rid) = d.rels.get(&dv.name.node) {
        let rel = program.rel(rid);
        if rel.kind != RelKind::Derived {
            claim(&dv.name, first_span, diags);
        } else if rel.arity() != dv.head.len() {
            diags.push(
                Diagnostic::error(
                    codes::ARITY,
                    format!(
                        "`{}` has {} terms here but {} in its first `derive`",
                        dv.name.node,
                        dv.head.len(),
                        rel.arity()
                    ),
                )
                .at(dv.name.span)
                .note(rel.span, "first derived here")
                .help("every `derive` of one relation must have the same number of head terms"),
            );
        } else {
            d.derives.push((rid, dv));
        }
        return;
    }
    if claim(&dv.name, first_span, diags).is_none() {
        return;
    }
    let mut fields = Vec::new();
    for (i, e) in dv.head.iter().enumerate() {
        let name = head_field_name(e, i, &fields);
        fields.push(Field {
            name,
            ty: Type::Any,
            optional: false,
            list: false,
        });
    }
    let rel = Relation {
        name: dv.name.node.clone(),
        kind: RelKind::Derived,
        fields,
        symmetric: false,
        validity: None,
        span: dv.name.span,
    };
    let rid = push_rel(d, program, rel);
    d.derives.push((rid, dv));
}

fn declare_param(
    p: &ast::ParamDecl,
    d: &mut Decls,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(&prev) = d.params.get(&p.name.node) {
        diags.push(
            Diagnostic::error(
                codes::DUPLICATE_PARAM,
                format!("param `{}` is declared twice", p.name.node),
            )
            .at(p.name.span)
            .note(program.param(prev).span, "first declared here")
            .help("remove one of them, or rename it"),
        );
        return;
    }
    let default = match params::eval_const(&p.value, &d.params, program) {
        Ok(v) => v,
        Err(e) => {
            diags.push(e);
            return;
        }
    };
    let id = ParamId(program.params.len() as u32);
    d.params.insert(p.name.node.clone(), id);
    program.params.push(crate::ir::Param {
        name: p.name.node.clone(),
        ty: super::types::type_of_value(&default),
        default,
        doc: p.doc.as_ref().map(|s| s.node.clone()),
        span: p.name.span,
    });
}

fn declare_rule<'a>(
    r: &'a ast::RuleDecl,
    d: &mut Decls<'a>,
    first_span: &mut HashMap<String, Span>,
    program: &mut Program,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some(&prev) = d.rules.get(&r.name.node) {
        diags.push(
            Diagnostic::error(
                codes::DUPLICATE_RULE,
                format!("rule `{}` is declared twice", r.name.node),
            )
            .at(r.name.span)
            .note(program.rule(prev).span, "first declared here")
            .help("rename one of them; rule names identify findings"),
        );
        return;
    }
    if claim(&r.name, first_span, diags).is_none() {
        return;
    }
    let subjects = subjects(r, diags);
    let id = RuleId(program.rules.len() as u32);
    let fields = subjects
        .iter()
        .map(|s| Field {
            name: s.node.clone(),
            ty: Type::Any,
            optional: false,
            list: false,
        })
        .collect();
    let rel = push_rel(
        d,
        program,
        Relation {
            name: r.name.node.clone(),
            kind: RelKind::Rule(id),
            fields,
            symmetric: false,
            validity: None,
            span: r.name.span,
        },
    );
    let rule = rule_meta(r, rel, &subjects, diags);
    d.rules.insert(r.name.node.clone(), id);
    d.rule_decls.push(r);
    program.rules.push(rule);
}

/// The explicit subjects (duplicates reported), or every named variable of the `when`
/// blocks in order of first appearance (not `_`-prefixed, not local to an aggregate).
pub(crate) fn subjects(r: &ast::RuleDecl, diags: &mut Vec<Diagnostic>) -> Vec<ast::Ident> {
    if let Some(list) = &r.subjects {
        let mut out: Vec<ast::Ident> = Vec::new();
        for s in list {
            match out.iter().find(|o| o.node == s.node) {
                Some(prev) => diags.push(duplicate_field(s, prev.span)),
                None => out.push(s.clone()),
            }
        }
        return out;
    }
    let mut out: Vec<ast::Ident> = Vec::new();
    for w in &r.whens {
        for (name, span) in super::lower::outer_vars(&w.node) {
            if !name.starts_with('_') && !out.iter().any(|o| o.node == name) {
                out.push(ast::Ident::new(name, span));
            }
        }
    }
    out
}

fn rule_meta(
    r: &ast::RuleDecl,
    rel: RelId,
    subjects: &[ast::Ident],
    diags: &mut Vec<Diagnostic>,
) -> Rule {
    let missing = |what: &str, help: &str| {
        Diagnostic::error(
            codes::MISSING_ATTRIBUTE,
            format!("rule `{}` has no `{what}`", r.name.node),
        )
        .at(r.name.span)
        .help(help.to_string())
    };
    if r.title.is_none() {
        diags.push(missing(
            "title",
            "add `title \"…\"`: the pattern in a few words, shown with every finding",
        ));
    }
    if r.severity.is_none() {
        diags.push(missing(
            "severity",
            "add `severity medium` (one of `info`, `low`, `medium`, `high`, `critical`)",
        ));
    }
    if r.whens.is_empty() {
        diags.push(missing(
            "when",
            "add a `when { … }` block with the conditions that flag a finding",
        ));
    }
    let title = r
        .title
        .as_ref()
        .map_or_else(|| r.name.node.clone(), |t| t.node.clone());
    let flag = match &r.flag {
        Some(f) => {
            check_holes(r, &f.node, subjects, diags);
            f.node.clone()
        }
        None => default_flag(&title, subjects),
    };
    Rule {
        name: r.name.node.clone(),
        rel,
        title,
        severity: r
            .severity
            .as_ref()
            .map_or(ast::Severity::Medium, |s| s.node),
        basis: r.basis.as_ref().map(|b| b.node.clone()),
        tags: r.tags.iter().map(|t| t.node.clone()).collect(),
        flag: Some(flag),
        clauses: Vec::new(),
        exemptions: Vec::new(),
        span: r.name.span,
    }
}

/// Without a `flag`, the message is the title followed by the subjects: `Title: {p}, {firm}`.
fn default_flag(title: &str, subjects: &[ast::Ident]) -> Template {
    let mut parts = vec![TemplatePart::Text(title.to_string())];
    for (i, s) in subjects.iter().enumerate() {
        parts.push(TemplatePart::Text(
            if i == 0 { ": " } else { ", " }.to_string(),
        ));
        parts.push(TemplatePart::Hole(s.clone()));
    }
    Template { parts }
}

/// A hole may also name a variable bound in every `when` block: the message then shows
/// its value in the derivation recorded for the finding.
fn in_every_when(r: &ast::RuleDecl, name: &str) -> bool {
    !r.whens.is_empty()
        && r.whens.iter().all(|w| {
            super::lower::outer_vars(&w.node)
                .iter()
                .any(|(n, _)| n == name)
        })
}

/// The fix for a flag hole that names no usable variable: a close name, binding it in
/// the blocks that lack it, or the names that can be used.
fn flag_hole_help(r: &ast::RuleDecl, subjects: &[ast::Ident], hole: &str) -> String {
    let mut usable: Vec<String> = subjects.iter().map(|s| s.node.clone()).collect();
    let first = r.whens.first().map(|w| super::lower::outer_vars(&w.node));
    for (n, _) in first.unwrap_or_default() {
        if !n.starts_with('_') && !usable.contains(&n) && in_every_when(r, &n) {
            usable.push(n);
        }
    }
    if let Some(s) = did_you_mean(hole, usable.iter().map(String::as_str)) {
        return format!("did you mean `{{{s}}}`?");
    }
    let somewhere = r.whens.iter().any(|w| {
        super::lower::outer_vars(&w.node)
            .iter()
            .any(|(n, _)| n == hole)
    });
    if somewhere {
        return format!("bind `{hole}` in every `when` block, or leave it out of the message");
    }
    let names: Vec<String> = usable.iter().map(|n| format!("`{{{n}}}`")).collect();
    match names.as_slice() {
        [] => "write `\\{` for a literal brace".to_string(),
        _ => format!(
            "`{hole}` is not a variable of the rule; use one of {}, or write `\\{{` for a literal brace",
            names.join(", ")
        ),
    }
}

fn check_holes(
    r: &ast::RuleDecl,
    t: &Template,
    subjects: &[ast::Ident],
    diags: &mut Vec<Diagnostic>,
) {
    for part in &t.parts {
        let TemplatePart::Hole(h) = part else {
            continue;
        };
        if subjects.iter().any(|s| s.node == h.node) || in_every_when(r, &h.node) {
            continue;
        }
        let help = flag_hole_help(r, subjects, &h.node);
        diags.push(
            Diagnostic::error(
                codes::UNKNOWN_FLAG_HOLE,
                format!(
                    "`{{{}}}` is neither a subject of rule `{}` nor bound in every `when` block",
                    h.node, r.name.node
                ),
            )
            .at(h.span)
            .help(help),
        );
    }
}
