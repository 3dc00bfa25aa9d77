//! The resolved program: what `resolve` produces and `plan`/`eval` consume.
//!
//! Names are gone: relations, fields, variables, params and rules are dense ids into
//! the tables of [`Program`]. Spans stay, so later stages can still point at source.

use crate::diag::Span;
use crate::syntax::ast::{AggFunc, BinOp, CmpOp, Severity, Template, WithinDir};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KindId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClauseId(pub u32);
/// A variable, local to one clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// A whole checked program: the standard vocabulary, imports and the user's files.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub kinds: Vec<EntityKind>,
    pub relations: Vec<Relation>,
    pub params: Vec<Param>,
    /// Every `derive` and every `when` block of every rule, in source order.
    pub clauses: Vec<Clause>,
    pub rules: Vec<Rule>,
    pub tests: Vec<Test>,
}

impl Program {
    pub fn rel(&self, id: RelId) -> &Relation {
        &self.relations[id.0 as usize]
    }
    pub fn rel_by_name(&self, name: &str) -> Option<RelId> {
        self.relations
            .iter()
            .position(|r| r.name == name)
            .map(|i| RelId(i as u32))
    }
    pub fn kind(&self, id: KindId) -> &EntityKind {
        &self.kinds[id.0 as usize]
    }
    pub fn clause(&self, id: ClauseId) -> &Clause {
        &self.clauses[id.0 as usize]
    }
    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.0 as usize]
    }
    pub fn param(&self, id: ParamId) -> &Param {
        &self.params[id.0 as usize]
    }
}

/// `entity person(…)`.
#[derive(Debug, Clone)]
pub struct EntityKind {
    pub name: String,
    /// The relation holding this kind's facts; its field 0 is `id`.
    pub rel: RelId,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// Declared with `relation`: facts come from case folders and `given`.
    Base,
    /// Declared with `entity`: facts are entities; field 0 is the id.
    Entity(KindId),
    /// Defined by `derive` clauses.
    Derived,
    /// The findings of a rule; fields are the rule's subjects.
    Rule(RuleId),
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub name: String,
    pub kind: RelKind,
    pub fields: Vec<Field>,
    /// Base relations only: each fact also holds with its first two fields swapped.
    pub symmetric: bool,
    /// Which fields say when a fact held.
    pub validity: Option<Validity>,
    pub span: Span,
}

impl Relation {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
    pub fn arity(&self) -> usize {
        self.fields.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Field indexes of the interval's ends; absent means -inf / +inf.
    During { from: usize, until: usize },
    /// Field index of a single date.
    At(usize),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    /// May be absent in a fact; absent is `Value::None`, or an open end for the
    /// ends of a `during` interval (-inf for `from`, +inf for `until`).
    pub optional: bool,
    /// A list in the data; each member is its own tuple (an atom matches each member).
    pub list: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Text,
    Number,
    Date,
    Duration,
    Bool,
    /// One of these entity kinds (sorted, deduplicated); empty means any entity.
    Entity(Vec<KindId>),
    /// Not yet known (a variable used only where any type fits); never in a schema.
    Any,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub ty: Type,
    /// The default from the rule file, already evaluated.
    pub default: Value,
    pub doc: Option<String>,
    pub span: Span,
}

/// Where a clause came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseOrigin {
    Derive,
    /// The n-th `when` block of a rule.
    Rule(RuleId, usize),
}

/// `head(terms…) :- body`. Variables are numbered per clause.
#[derive(Debug, Clone)]
pub struct Clause {
    pub head: RelId,
    /// One expression per field of the head relation, in field order.
    pub head_terms: Vec<Expr>,
    pub body: Vec<Literal>,
    /// Per variable: its source name (`_` vars are numbered too, named `_`), its type and
    /// first span.
    pub vars: Vec<Var>,
    pub origin: ClauseOrigin,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Term {
    Var(VarId),
    Const(Value),
    /// `_`, or a field the atom does not name.
    Wildcard,
}

#[derive(Debug, Clone)]
pub struct Atom {
    pub rel: RelId,
    /// One term per field of the relation, in field order.
    pub terms: Vec<Term>,
    pub span: Span,
}

impl Atom {
    /// Adds every variable of the atom to `out`.
    pub fn vars(&self, out: &mut Vec<VarId>) {
        out.extend(self.terms.iter().filter_map(|t| match t {
            Term::Var(v) => Some(*v),
            _ => None,
        }));
    }
}

/// A body literal. Literals are in source order; the planner reorders.
#[derive(Debug, Clone)]
pub enum Literal {
    Atom(Atom),
    /// Negated atom: every variable in it is bound elsewhere, or is a wildcard.
    Not(Atom),
    /// A test between two expressions (all variables bound elsewhere).
    Compare {
        op: CmpOp,
        lhs: Expr,
        rhs: Expr,
        span: Span,
    },
    /// `var = expr`: binds `var`, whose only other binding sites are later literals.
    Assign {
        var: VarId,
        expr: Expr,
        span: Span,
    },
    Within {
        lhs: Expr,
        window: Expr,
        dir: WithinDir,
        rhs: Expr,
        span: Span,
    },
    InRange {
        value: Expr,
        from: Expr,
        until: Expr,
        span: Span,
    },
    Overlaps {
        a_from: Expr,
        a_until: Expr,
        b_from: Expr,
        b_until: Expr,
        span: Span,
    },
    /// `result = func over { body }`, evaluated per binding of the variables the body
    /// shares with the rest of the clause (`group`); count and sum of nothing are 0, min
    /// and max of nothing bind nothing. Atoms in `body` are in strictly lower strata.
    Aggregate {
        result: VarId,
        func: AggFunc,
        over: Option<Expr>,
        /// Variables of the body that are bound outside it.
        group: Vec<VarId>,
        body: Vec<Literal>,
        span: Span,
    },
}

impl Literal {
    /// Where the literal was written.
    pub fn span(&self) -> Span {
        match self {
            Literal::Atom(a) | Literal::Not(a) => a.span,
            Literal::Compare { span, .. }
            | Literal::Assign { span, .. }
            | Literal::Within { span, .. }
            | Literal::InRange { span, .. }
            | Literal::Overlaps { span, .. }
            | Literal::Aggregate { span, .. } => *span,
        }
    }

    /// The expressions a test or assignment evaluates (none for atoms, negations and
    /// aggregates).
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Literal::Compare { lhs, rhs, .. } => vec![lhs, rhs],
            Literal::Assign { expr, .. } => vec![expr],
            Literal::Within {
                lhs, window, rhs, ..
            } => vec![lhs, window, rhs],
            Literal::InRange {
                value, from, until, ..
            } => vec![value, from, until],
            Literal::Overlaps {
                a_from,
                a_until,
                b_from,
                b_until,
                ..
            } => vec![a_from, a_until, b_from, b_until],
            Literal::Atom(_) | Literal::Not(_) | Literal::Aggregate { .. } => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

impl Expr {
    /// Adds every variable of the expression to `out`.
    pub fn vars(&self, out: &mut Vec<VarId>) {
        match &self.kind {
            ExprKind::Var(v) => out.push(*v),
            ExprKind::Const(_) | ExprKind::Param(_) => {}
            ExprKind::Neg(a) => a.vars(out),
            ExprKind::Binary(_, a, b) => {
                a.vars(out);
                b.vars(out);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Var(VarId),
    Const(Value),
    Param(ParamId),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// A `rule` block's metadata; its `when` blocks are clauses whose head is `rel`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub rel: RelId,
    pub title: String,
    pub severity: Severity,
    pub basis: Option<String>,
    pub tags: Vec<String>,
    /// Holes refer to subject names (fields of `rel`).
    pub flag: Option<Template>,
    pub clauses: Vec<ClauseId>,
    /// `exempt` blocks for this rule, in source order.
    pub exemptions: Vec<Exemption>,
    pub span: Span,
}

/// An `exempt` block: a derived relation over some of the rule's subjects; a finding
/// whose subjects are in it is exempted.
#[derive(Debug, Clone)]
pub struct Exemption {
    /// A derived relation whose fields are the subjects the block binds.
    pub rel: RelId,
    /// For each field of `rel`, the index of the subject (field of the rule's relation).
    pub subjects: Vec<usize>,
    pub reason: String,
    pub span: Span,
}

/// A `test` block, checked: given facts and expectations over any relation.
#[derive(Debug, Clone)]
pub struct Test {
    pub name: String,
    pub given: Vec<GivenFact>,
    pub expects: Vec<Expectation>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct GivenFact {
    pub rel: RelId,
    /// One value per field (absent optional fields are `Value::None` / open ends).
    pub values: Vec<Value>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub negated: bool,
    /// `expect exempted`: a matching finding exists and an exemption covers it.
    pub exempted: bool,
    pub rel: RelId,
    /// Constraints on named fields; unnamed fields are unconstrained.
    pub fields: Vec<(usize, Value)>,
    pub span: Span,
}
