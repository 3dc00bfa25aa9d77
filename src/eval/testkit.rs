//! A small hand-built-IR kit for evaluator tests (the parser and resolver live elsewhere).
//!
//! Values are written as strings: `12`, `-3.5` numbers; `@2025-01` dates (`@-inf`,
//! `@+inf` open ends); `#90d` durations; `"text"`; `none`; anything else an entity id.
//! In rule bodies a bare identifier is a variable, `_` a wildcard and `'acme` an entity.

use crate::diag::{Diagnostic, Span};
use crate::facts::{FactSet, FieldValue, Origin};
use crate::ir::*;
use crate::syntax::ast::{AggFunc, BinOp, CmpOp, WithinDir};
use crate::value::{Date, Decimal, Duration, Status, Value};

use super::{Database, EvalOptions, evaluate};

pub(crate) fn val(s: &str) -> Value {
    if s == "none" {
        return Value::None;
    }
    if let Some(d) = s.strip_prefix('@') {
        return Value::Date(match d {
            "-inf" => Date::NEG_INF,
            "+inf" => Date::POS_INF,
            _ => Date::parse(d).unwrap_or(Date::NEG_INF),
        });
    }
    if let Some(d) = s.strip_prefix('#') {
        return Value::Duration(Duration::parse(d).unwrap_or_default());
    }
    if let Some(t) = s.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return Value::text(t);
    }
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        if let Some(d) = Decimal::parse(s) {
            return Value::Number(d);
        }
    }
    Value::entity(s.trim_start_matches('\''))
}

/// Renders a value back in the kit's notation (entities bare).
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Text(t) => format!("{:?}", &**t),
        other => other.to_string(),
    }
}

#[derive(Default)]
pub(crate) struct Kit {
    pub(crate) p: Program,
    pub(crate) facts: Vec<(RelId, Vec<Value>)>,
    pub(crate) opts: EvalOptions,
    pub(crate) params: Vec<Value>,
}

pub(crate) fn sp(n: u32) -> Span {
    Span::new(crate::diag::FileId(0), n as usize, n as usize + 1)
}

impl Kit {
    fn rel(&mut self, name: &str, fields: &[&str], kind: RelKind, symmetric: bool) -> RelId {
        let id = RelId(self.p.relations.len() as u32);
        self.p.relations.push(Relation {
            name: name.into(),
            kind,
            fields: fields
                .iter()
                .map(|f| Field {
                    name: (*f).into(),
                    ty: Type::Any,
                    optional: true,
                    list: false,
                })
                .collect(),
            symmetric,
            validity: None,
            span: sp(id.0),
        });
        id
    }
    pub(crate) fn base(&mut self, name: &str, fields: &[&str]) -> RelId {
        self.rel(name, fields, RelKind::Base, false)
    }
    pub(crate) fn symmetric(&mut self, name: &str, fields: &[&str]) -> RelId {
        self.rel(name, fields, RelKind::Base, true)
    }
    pub(crate) fn derived(&mut self, name: &str, fields: &[&str]) -> RelId {
        self.rel(name, fields, RelKind::Derived, false)
    }
    pub(crate) fn param(&mut self, name: &str, default: &str) -> ParamId {
        self.p.params.push(Param {
            name: name.into(),
            ty: Type::Any,
            default: val(default),
            doc: None,
            span: sp(0),
        });
        ParamId(self.p.params.len() as u32 - 1)
    }
    /// A clause: `f` builds head expressions and body literals.
    pub(crate) fn clause(
        &mut self,
        head: RelId,
        f: impl FnOnce(&mut Cl) -> (Vec<Expr>, Vec<Literal>),
    ) -> ClauseId {
        let mut cl = Cl::default();
        let (head_terms, body) = f(&mut cl);
        let id = ClauseId(self.p.clauses.len() as u32);
        self.p.clauses.push(Clause {
            head,
            head_terms,
            body,
            vars: cl.vars,
            origin: ClauseOrigin::Derive,
            span: sp(100 + id.0),
        });
        id
    }
    pub(crate) fn fact(&mut self, rel: RelId, vals: &[&str]) {
        self.facts
            .push((rel, vals.iter().map(|s| val(s)).collect()));
    }
    pub(crate) fn fact_set(&self) -> FactSet {
        let mut fs = FactSet::new(&self.p);
        for (i, (rel, vals)) in self.facts.iter().enumerate() {
            let o = fs.add_origin(Origin {
                file: "case/facts.toml".into(),
                line: i as u32 + 1,
                sources: Vec::new(),
                status: Status::Reported,
                note: None,
            });
            let fields = vals.iter().cloned().map(FieldValue::One).collect();
            fs.add(&self.p, *rel, fields, o);
        }
        fs
    }
    pub(crate) fn run(&self) -> Result<Database, Vec<Diagnostic>> {
        evaluate(&self.p, &self.fact_set(), &self.params, &self.opts)
    }
    /// A relation's tuples, sorted, as `a,b,1` lines.
    pub(crate) fn rows(db: &Database, rel: RelId) -> Vec<String> {
        db.tuples(rel)
            .into_iter()
            .map(|(_, vs)| vs.iter().map(show).collect::<Vec<_>>().join(","))
            .collect()
    }
}

/// Builds one clause's literals, numbering variables by name.
#[derive(Default)]
pub(crate) struct Cl {
    pub(crate) vars: Vec<Var>,
}

impl Cl {
    pub(crate) fn var(&mut self, name: &str) -> VarId {
        if name != "_" {
            if let Some(i) = self.vars.iter().position(|v| v.name == name) {
                return VarId(i as u32);
            }
        }
        self.vars.push(Var {
            name: name.into(),
            ty: Type::Any,
            span: sp(0),
        });
        VarId(self.vars.len() as u32 - 1)
    }
    fn is_var(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_alphabetic()) && s != "none"
    }
    pub(crate) fn term(&mut self, s: &str) -> Term {
        match s {
            "_" => Term::Wildcard,
            _ if Self::is_var(s) => Term::Var(self.var(s)),
            _ => Term::Const(val(s)),
        }
    }
    /// A variable or a constant, as an expression.
    pub(crate) fn e(&mut self, s: &str) -> Expr {
        let kind = if Self::is_var(s) {
            ExprKind::Var(self.var(s))
        } else {
            ExprKind::Const(val(s))
        };
        Expr {
            kind,
            ty: Type::Any,
            span: sp(7),
        }
    }
    pub(crate) fn p(&mut self, id: ParamId) -> Expr {
        Expr {
            kind: ExprKind::Param(id),
            ty: Type::Any,
            span: sp(8),
        }
    }
    pub(crate) fn bin(&mut self, op: BinOp, a: Expr, b: Expr, at: u32) -> Expr {
        Expr {
            kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
            ty: Type::Any,
            span: sp(at),
        }
    }
    pub(crate) fn es(&mut self, names: &[&str]) -> Vec<Expr> {
        names.iter().map(|n| self.e(n)).collect()
    }
    fn atom_(&mut self, rel: RelId, terms: &[&str]) -> Atom {
        Atom {
            rel,
            terms: terms.iter().map(|t| self.term(t)).collect(),
            span: sp(9),
        }
    }
    pub(crate) fn atom(&mut self, rel: RelId, terms: &[&str]) -> Literal {
        Literal::Atom(self.atom_(rel, terms))
    }
    pub(crate) fn not(&mut self, rel: RelId, terms: &[&str]) -> Literal {
        Literal::Not(self.atom_(rel, terms))
    }
    pub(crate) fn cmp(&mut self, l: &str, op: CmpOp, r: &str) -> Literal {
        let (lhs, rhs) = (self.e(l), self.e(r));
        Literal::Compare {
            op,
            lhs,
            rhs,
            span: sp(10),
        }
    }
    pub(crate) fn assign(&mut self, var: &str, expr: Expr) -> Literal {
        Literal::Assign {
            var: self.var(var),
            expr,
            span: sp(11),
        }
    }
    pub(crate) fn within(&mut self, a: &str, w: &str, dir: WithinDir, b: &str) -> Literal {
        let (lhs, window, rhs) = (self.e(a), self.e(w), self.e(b));
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            span: sp(12),
        }
    }
    pub(crate) fn in_range(&mut self, v: &str, f: &str, u: &str) -> Literal {
        let (value, from, until) = (self.e(v), self.e(f), self.e(u));
        Literal::InRange {
            value,
            from,
            until,
            span: sp(13),
        }
    }
    pub(crate) fn overlaps(&mut self, f1: &str, u1: &str, f2: &str, u2: &str) -> Literal {
        let (a_from, a_until, b_from, b_until) = (self.e(f1), self.e(u1), self.e(f2), self.e(u2));
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            span: sp(14),
        }
    }
    pub(crate) fn agg(
        &mut self,
        result: &str,
        func: AggFunc,
        over: Option<&str>,
        group: &[&str],
        body: Vec<Literal>,
    ) -> Literal {
        Literal::Aggregate {
            result: self.var(result),
            func,
            over: over.map(|o| self.e(o)),
            group: group.iter().map(|g| self.var(g)).collect(),
            body,
            span: sp(15),
        }
    }
}
