//! Lowering: each `derive` and `when` block to a typed IR clause with numbered variables.
//!
//! Derived and rule relations take their field types from their clauses' heads, which in
//! turn read those relations; lowering is repeated until the head types settle.

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, Span};
use crate::ir::{self, ClauseId, ClauseOrigin, Program, RelId, RelKind, RuleId, Type, Var, VarId};
use crate::syntax::ast::{self, Args, ExprKind, Literal, TemplatePart};

use super::schema::{Decls, duplicate_field};
use super::types::{join, meet, show};
use super::{codes, safety};

/// At most this many rounds of head-type inference (types only widen, so few are needed).
const MAX_PASSES: usize = 8;

/// The variables of one clause.
#[derive(Default)]
pub(crate) struct Scope {
    pub vars: Vec<Var>,
    pub names: HashMap<String, VarId>,
    /// Every place each variable is written (body, explicit heads, flag holes).
    pub occ: Vec<Vec<Span>>,
    /// Where each variable's type was last narrowed.
    pub ty_at: Vec<Span>,
    /// Variables that appear in some positive atom (so `x = e` compares rather than assigns).
    pub atom_bound: HashSet<String>,
    pub assigned: HashSet<VarId>,
    /// Variables of an argument already reported as wrong (an unknown relation or field):
    /// taken as bound and used, so that one mistake is not echoed as "not bound".
    pub excused: HashSet<VarId>,
}

/// Lowering state for one clause.
pub(crate) struct Cx<'a> {
    pub program: &'a Program,
    pub decls: &'a Decls<'a>,
    pub scope: Scope,
    pub diags: &'a mut Vec<Diagnostic>,
}

/// Lowers every clause, infers derived and rule field types, checks safety.
pub(crate) fn lower_all(decls: &Decls, program: &mut Program, diags: &mut Vec<Diagnostic>) {
    for pass in 0..MAX_PASSES {
        let mut pass_diags = Vec::new();
        let mut clauses = Vec::new();
        let mut rule_clauses: Vec<Vec<ClauseId>> = vec![Vec::new(); program.rules.len()];
        let derives = decls.derives.iter().map(|(r, d)| (*r, *d));
        for (rel, dv) in derives.chain(decls.exempt_derives.iter().map(|(r, d)| (*r, d))) {
            let mut cx = Cx::new(program, decls, &mut pass_diags);
            clauses.push(cx.derive(rel, dv));
        }
        for (i, r) in decls.rule_decls.iter().enumerate() {
            let rule = RuleId(i as u32);
            for (n, w) in r.whens.iter().enumerate() {
                let mut cx = Cx::new(program, decls, &mut pass_diags);
                rule_clauses[i].push(ClauseId(clauses.len() as u32));
                clauses.push(cx.when(rule, n, r, w));
            }
        }
        let (types, join_errors) = head_types(program, &clauses);
        let settled = types.iter().all(|(rel, tys)| {
            program
                .rel(*rel)
                .fields
                .iter()
                .map(|f| &f.ty)
                .eq(tys.iter())
        });
        if settled || pass + 1 == MAX_PASSES {
            program.clauses = clauses;
            for (rule, ids) in program.rules.iter_mut().zip(rule_clauses) {
                rule.clauses = ids;
            }
            diags.extend(pass_diags);
            diags.extend(join_errors);
            return;
        }
        for (rel, tys) in types {
            for (f, t) in program.relations[rel.0 as usize].fields.iter_mut().zip(tys) {
                f.ty = t;
            }
        }
    }
}

/// Per derived or rule relation, the join of its clauses' head types.
fn head_types(
    program: &Program,
    clauses: &[ir::Clause],
) -> (Vec<(RelId, Vec<Type>)>, Vec<Diagnostic>) {
    let mut out: Vec<(RelId, Vec<Type>)> = Vec::new();
    let mut at: HashMap<RelId, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, r) in program.relations.iter().enumerate() {
        if matches!(r.kind, RelKind::Derived | RelKind::Rule(_)) {
            at.insert(RelId(i as u32), out.len());
            out.push((RelId(i as u32), vec![Type::Any; r.arity()]));
        }
    }
    let mut first: HashMap<(RelId, usize), Span> = HashMap::new();
    for c in clauses {
        let Some(&slot) = at.get(&c.head) else {
            continue;
        };
        for (i, term) in c.head_terms.iter().enumerate() {
            let Some(cur) = out[slot].1.get_mut(i) else {
                continue;
            };
            match join(cur, &term.ty) {
                Some(t) => {
                    if term.ty != Type::Any {
                        first.entry((c.head, i)).or_insert(term.span);
                    }
                    *cur = t;
                }
                None => {
                    let rel = program.rel(c.head);
                    let mut d = Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "type mismatch: field `{}` of `{}` is `{}` here but `{}` in another clause",
                            rel.fields[i].name,
                            rel.name,
                            show(&term.ty, &program.kinds),
                            show(cur, &program.kinds)
                        ),
                    )
                    .at(term.span)
                    .help("every clause of a relation must give each field the same type");
                    if let Some(s) = first.get(&(c.head, i)) {
                        d = d.note(*s, format!("`{}` here", show(cur, &program.kinds)));
                    }
                    errors.push(d);
                }
            }
        }
    }
    (out, errors)
}

/// The variables of a block outside aggregates, in order of first appearance, with spans.
pub(crate) fn outer_vars(lits: &[Literal]) -> Vec<(String, Span)> {
    let mut out: Vec<(String, Span)> = Vec::new();
    let push = |e: &ast::Expr, out: &mut Vec<(String, Span)>| {
        let mut stack = vec![e];
        while let Some(e) = stack.pop() {
            match &e.kind {
                ExprKind::Var(n) if !out.iter().any(|(m, _)| m == n) => {
                    out.push((n.clone(), e.span));
                }
                ExprKind::Neg(a) => stack.push(a),
                ExprKind::Binary(_, a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                ExprKind::List(xs) => stack.extend(xs.iter().rev()),
                _ => {}
            }
        }
    };
    for lit in lits {
        match lit {
            Literal::Atom(a) | Literal::Not(a) => {
                for e in args_exprs(&a.args) {
                    push(e, &mut out);
                }
            }
            Literal::Compare { lhs, rhs, .. } => {
                [lhs, rhs].into_iter().for_each(|e| push(e, &mut out))
            }
            Literal::Within {
                lhs, window, rhs, ..
            } => [lhs, window, rhs]
                .into_iter()
                .for_each(|e| push(e, &mut out)),
            Literal::InRange {
                value, from, until, ..
            } => [value, from, until]
                .into_iter()
                .for_each(|e| push(e, &mut out)),
            Literal::Overlaps {
                a_from,
                a_until,
                b_from,
                b_until,
                ..
            } => [a_from, a_until, b_from, b_until]
                .into_iter()
                .for_each(|e| push(e, &mut out)),
            Literal::Aggregate { result, .. } => {
                let e = ast::Expr {
                    kind: ExprKind::Var(result.node.clone()),
                    span: result.span,
                };
                push(&e, &mut out);
            }
        }
    }
    out
}

/// The names of the variables in an expression.
pub(crate) fn expr_var_names(e: &ast::Expr) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Var(n) => out.push(n.as_str()),
            ExprKind::Neg(a) => stack.push(a),
            ExprKind::Binary(_, a, b) => stack.extend([&**a, &**b]),
            ExprKind::List(xs) => stack.extend(xs.iter()),
            _ => {}
        }
    }
    out
}

pub(crate) fn args_exprs(args: &Args) -> Vec<&ast::Expr> {
    match args {
        Args::Named(list) => list.iter().map(|(_, e)| e).collect(),
        Args::Positional(list) => list.iter().collect(),
    }
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        program: &'a Program,
        decls: &'a Decls<'a>,
        diags: &'a mut Vec<Diagnostic>,
    ) -> Self {
        Cx {
            program,
            decls,
            scope: Scope::default(),
            diags,
        }
    }

    /// The variable of this name (created on first use); records the occurrence.
    pub(crate) fn var(&mut self, name: &str, span: Span) -> VarId {
        let s = &mut self.scope;
        let id = match s.names.get(name) {
            Some(&v) => v,
            None => {
                let v = VarId(s.vars.len() as u32);
                s.vars.push(Var {
                    name: name.to_string(),
                    ty: Type::Any,
                    span,
                });
                s.occ.push(Vec::new());
                s.ty_at.push(span);
                s.names.insert(name.to_string(), v);
                v
            }
        };
        s.occ[id.0 as usize].push(span);
        id
    }

    /// A hidden variable standing for an expression argument.
    pub(crate) fn fresh(&mut self, span: Span) -> VarId {
        let s = &mut self.scope;
        let v = VarId(s.vars.len() as u32);
        s.vars.push(Var {
            name: "_".into(),
            ty: Type::Any,
            span,
        });
        s.occ.push(Vec::new());
        s.ty_at.push(span);
        v
    }

    /// Narrows a variable's type; reports a mismatch naming both types and both places.
    pub(crate) fn constrain(&mut self, v: VarId, ty: &Type, span: Span) {
        let i = v.0 as usize;
        let cur = self.scope.vars[i].ty.clone();
        match meet(&cur, ty) {
            Some(t) => {
                if t != cur {
                    self.scope.vars[i].ty = t;
                    self.scope.ty_at[i] = span;
                }
            }
            None => {
                let name = self.scope.vars[i].name.clone();
                let (a, b) = (
                    show(&cur, &self.program.kinds),
                    show(ty, &self.program.kinds),
                );
                self.diags.push(
                    Diagnostic::error(codes::TYPE_MISMATCH, format!("type mismatch: `{name}` is `{a}` and `{b}`"))
                        .at(span)
                        .note(self.scope.ty_at[i], format!("`{name}` is `{a}` here"))
                        .help("a variable has one type in a block; use another variable here, or check the field names"),
                );
            }
        }
    }

    /// Gives variables their types from the atoms they appear in, before anything else.
    fn pretype(&mut self, lits: &[Literal], negated: bool) {
        for lit in lits {
            let (a, neg) = match lit {
                Literal::Atom(a) => (a, negated),
                Literal::Not(a) => (a, true),
                Literal::Aggregate { body, .. } => {
                    self.pretype(body, negated);
                    continue;
                }
                _ => continue,
            };
            let Some(&rel) = self.decls.rels.get(&a.rel.node) else {
                continue;
            };
            let r = self.program.rel(rel);
            for (field, e) in arg_fields(r, &a.args) {
                let (Some(f), ExprKind::Var(n)) = (field, &e.kind) else {
                    continue;
                };
                if !neg {
                    self.scope.atom_bound.insert(n.clone());
                }
                let ty = r.fields[f].ty.clone();
                let v = match self.scope.names.get(n) {
                    Some(&v) => v,
                    None => {
                        let v = self.var(n, e.span);
                        self.scope.occ[v.0 as usize].clear();
                        v
                    }
                };
                let i = v.0 as usize;
                if let Some(t) = meet(&self.scope.vars[i].ty, &ty) {
                    if t != self.scope.vars[i].ty {
                        self.scope.vars[i].ty = t;
                        self.scope.ty_at[i] = e.span;
                    }
                }
            }
        }
    }

    fn derive(&mut self, rel: RelId, dv: &ast::DeriveDecl) -> ir::Clause {
        self.pretype(&dv.body, false);
        let body = self.block(&dv.body);
        let mut head_terms = Vec::new();
        for e in &dv.head {
            if matches!(e.kind, ExprKind::Wildcard) {
                self.diags.push(
                    Diagnostic::error(codes::UNBOUND_VARIABLE, "`_` cannot be a head term")
                        .at(e.span)
                        .help("a derived fact needs a value in every field; name a variable bound in the body"),
                );
            }
            head_terms.push(self.expr(e, &Type::Any));
        }
        self.finish(rel, head_terms, body, ClauseOrigin::Derive, dv.span, &[])
    }

    fn when(
        &mut self,
        rule: RuleId,
        n: usize,
        r: &ast::RuleDecl,
        w: &ast::Spanned<Vec<Literal>>,
    ) -> ir::Clause {
        self.pretype(&w.node, false);
        let body = self.block(&w.node);
        let rel = self.program.rule(rule).rel;
        let mut head_terms = Vec::new();
        // An empty block is a syntax error already; its subjects are not unbound too.
        let excuse_subjects = w.node.is_empty();
        for f in &self.program.rel(rel).fields {
            let explicit = r
                .subjects
                .as_ref()
                .and_then(|s| s.iter().find(|i| i.node == f.name));
            let known = self.scope.names.get(&f.name).copied();
            let (v, span) = match (explicit, known) {
                (Some(i), _) => (self.var(&i.node, i.span), i.span),
                (None, Some(v)) => (v, self.scope.vars[v.0 as usize].span),
                (None, None) => {
                    let v = self.var(&f.name, w.span);
                    self.scope.occ[v.0 as usize].clear();
                    (v, w.span)
                }
            };
            if excuse_subjects {
                self.scope.excused.insert(v);
            }
            head_terms.push(ir::Expr {
                kind: ir::ExprKind::Var(v),
                ty: Type::Any,
                span,
            });
        }
        let holes: Vec<&ast::Ident> = r
            .flag
            .iter()
            .flat_map(|f| f.node.parts.iter())
            .filter_map(|p| {
                if let TemplatePart::Hole(h) = p {
                    Some(h)
                } else {
                    None
                }
            })
            .collect();
        self.finish(
            rel,
            head_terms,
            body,
            ClauseOrigin::Rule(rule, n),
            w.span,
            &holes,
        )
    }

    fn finish(
        &mut self,
        head: RelId,
        mut head_terms: Vec<ir::Expr>,
        mut body: Vec<ir::Literal>,
        origin: ClauseOrigin,
        span: Span,
        holes: &[&ast::Ident],
    ) -> ir::Clause {
        for h in holes {
            if let Some(&v) = self.scope.names.get(&h.node) {
                self.scope.occ[v.0 as usize].push(h.span);
            }
        }
        self.finalize(&mut head_terms, &mut body);
        let mut clause = ir::Clause {
            head,
            head_terms,
            body,
            vars: std::mem::take(&mut self.scope.vars),
            origin,
            span,
        };
        safety::check(&mut clause, &self.scope, self.diags);
        clause
    }

    /// Lowers a block's literals in source order.
    pub(crate) fn block(&mut self, lits: &[Literal]) -> Vec<ir::Literal> {
        let mut out = Vec::new();
        for lit in lits {
            self.literal(lit, &mut out);
        }
        out
    }
}

/// Each argument with the index of the field it fills (`None` if there is no such field).
pub(crate) fn arg_fields<'e>(
    r: &ir::Relation,
    args: &'e Args,
) -> Vec<(Option<usize>, &'e ast::Expr)> {
    match args {
        Args::Named(list) => list.iter().map(|(f, e)| (r.field(&f.node), e)).collect(),
        Args::Positional(list) => list
            .iter()
            .enumerate()
            .map(|(i, e)| ((i < r.arity()).then_some(i), e))
            .collect(),
    }
}

/// Checks an atom's argument list against the relation: unknown and repeated fields,
/// positional arity. Returns, per argument, its field index where valid.
pub(crate) fn check_args(
    r: &ir::Relation,
    a: &ast::Atom,
    base_hint: bool,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(Option<usize>, ast::Expr)> {
    let mut out = Vec::new();
    match &a.args {
        Args::Named(list) => {
            let mut seen: HashMap<usize, Span> = HashMap::new();
            for (f, e) in list {
                let Some(i) = r.field(&f.node) else {
                    diags.push(unknown_field(r, f));
                    out.push((None, e.clone()));
                    continue;
                };
                if let Some(prev) = seen.insert(i, f.span) {
                    diags.push(duplicate_field(f, prev));
                    out.push((None, e.clone()));
                    continue;
                }
                out.push((Some(i), e.clone()));
            }
        }
        Args::Positional(list) => {
            if list.len() != r.arity() {
                diags.push(arity(r, a, list.len(), base_hint));
            }
            for (i, e) in list.iter().enumerate() {
                out.push(((i < r.arity()).then_some(i), e.clone()));
            }
        }
    }
    out
}

pub(crate) fn unknown_field(r: &ir::Relation, f: &ast::Ident) -> Diagnostic {
    let help = match crate::diag::did_you_mean(&f.node, r.fields.iter().map(|f| f.name.as_str())) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "`{}` has the fields {}",
            r.name,
            r.fields
                .iter()
                .map(|f| format!("`{}`", f.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Diagnostic::error(
        codes::UNKNOWN_FIELD,
        format!("`{}` has no field `{}`", r.name, f.node),
    )
    .at(f.span)
    .help(help)
}

fn arity(r: &ir::Relation, a: &ast::Atom, got: usize, base_hint: bool) -> Diagnostic {
    let names = r.fields.iter().map(|f| f.name.as_str());
    let fields = names
        .clone()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let head = format!("{}({})", r.name, names.collect::<Vec<_>>().join(", "));
    let declared = matches!(r.kind, RelKind::Base | RelKind::Entity(_));
    if declared && base_hint {
        let example = r
            .fields
            .first()
            .map_or(String::new(), |f| format!("{}: …", f.name));
        return Diagnostic::error(
            codes::POSITIONAL_BASE,
            format!(
                "positional arguments to `{}` must give all {} fields, got {got}",
                r.name,
                r.arity()
            ),
        )
        .at(a.span)
        .help(format!(
            "name the fields you need, like `{}({example})`; its fields are {fields}",
            r.name
        ));
    }
    Diagnostic::error(
        codes::ARITY,
        format!("`{}` takes {} arguments, got {got}", r.name, r.arity()),
    )
    .at(a.span)
    .help(format!(
        "give one argument per field, in order: `{head}`; or name only the fields you need"
    ))
}
