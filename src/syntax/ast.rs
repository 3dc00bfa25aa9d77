//! The abstract syntax tree of a `.coi` rule file: every node carries its span.
//!
//! [`Spanned`] compares its value without the span; the larger nodes compare spans too,
//! so tests compare trees through a span-free printer (`syntax/tests/show.rs`).

use crate::diag::Span;
use crate::value::{Date, Decimal, Duration};

/// A value with the span it was written at; `==` compares the value only.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

/// An identifier (relation, field, variable, rule, param or entity-kind name).
pub type Ident = Spanned<String>;

/// One parsed file: its items in source order, plus its comments (kept for `fmt`).
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    /// Comments with their spans (text without the leading `#`), in order.
    pub comments: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Use(Spanned<UseTarget>),
    Entity(EntityDecl),
    Relation(RelationDecl),
    Param(ParamDecl),
    Derive(DeriveDecl),
    Rule(RuleDecl),
    Exempt(ExemptDecl),
    Test(TestDecl),
}

/// `use std`, `use std/roles`, `use "./helpers.coi"`.
#[derive(Debug, Clone, PartialEq)]
pub enum UseTarget {
    /// `std` or `std/<module>`: the shipped vocabulary; `None` means all of it.
    Std(Option<String>),
    /// A path relative to the importing file.
    Path(String),
}

/// `entity person(name: text, aliases: [text]?)`: declares an entity kind and the relation
/// of its facts, whose implicit first field is `id` of that kind.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

/// `symmetric relation associate(a: person, b: person)` and
/// `relation role(person: person, org: org, title: text?, from: date?, until: date?) during from..until`
#[derive(Debug, Clone, PartialEq)]
pub struct RelationDecl {
    pub name: Ident,
    pub symmetric: bool,
    pub fields: Vec<FieldDecl>,
    pub validity: Option<Spanned<Validity>>,
    pub span: Span,
}

/// How a relation's facts say when they held.
#[derive(Debug, Clone, PartialEq)]
pub enum Validity {
    /// `during from..until`: an interval; an absent `from` is -inf, an absent `until` +inf.
    During { from: Ident, until: Ident },
    /// `at on`: a single date.
    At(Ident),
}

/// `name: type`, `name: type?` (optional), `name: [type]` (a list: matches each member).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub optional: bool,
    pub list: bool,
    pub span: Span,
}

/// `text`, `number`, `date`, `duration`, `bool`, an entity kind, a union `person | org`,
/// or `entity` (any entity kind).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    /// One name, or several for a union; each is a builtin type name or an entity kind.
    pub names: Vec<Ident>,
    pub span: Span,
}

/// `param cooling_off = 2y` with an optional doc string: `param cooling_off = 2y "UK ACOBA"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    pub value: Expr,
    pub doc: Option<Spanned<String>>,
    pub span: Span,
}

/// `derive controls(owner, company, a * b / 100) { body }`
#[derive(Debug, Clone, PartialEq)]
pub struct DeriveDecl {
    pub name: Ident,
    pub head: Vec<Expr>,
    pub body: Vec<Literal>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// ```text
/// rule retained_stake(p, firm) {
///     title "…"  severity high  basis "…"  tags "a", "b"
///     when { … }            # one or more `when` blocks: alternatives
///     flag "{p} left {firm}"
/// }
/// ```
/// The optional parameter list names the finding's bindings; without it, every named
/// variable of the `when` blocks in order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub subjects: Option<Vec<Ident>>,
    pub title: Option<Spanned<String>>,
    pub severity: Option<Spanned<Severity>>,
    pub basis: Option<Spanned<String>>,
    pub tags: Vec<Spanned<String>>,
    pub whens: Vec<Spanned<Vec<Literal>>>,
    pub flag: Option<Spanned<Template>>,
    pub span: Span,
}

/// ```text
/// exempt retained_stake {
///     because "declared and managed under the Code"
///     when { declaration(person: p, interest: firm) }
/// }
/// ```
/// A finding of the rule whose subjects satisfy any `when` block (variables named like
/// the rule's subjects are bound to them) is moved to the exempted list, with the reason
/// and the exempting facts as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct ExemptDecl {
    pub rule: Ident,
    pub because: Option<Spanned<String>>,
    pub whens: Vec<Spanned<Vec<Literal>>>,
    pub span: Span,
}

/// A `flag` message: literal text and `{var}` holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    /// `{name}`; the span covers the name inside the braces.
    Hole(Ident),
}

/// ```text
/// test retained_stake_flags {
///     given { person(id: ann, name: "Ann") … }
///     expect retained_stake(p: ann, firm: acme)
///     expect no retained_stake(p: bob)
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TestDecl {
    pub name: Ident,
    /// Given facts: atoms whose arguments are constants (a bare identifier is an entity id).
    pub given: Vec<Atom>,
    pub expects: Vec<Expect>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// `expect no …`
    pub negated: bool,
    /// `expect exempted …`: the finding exists and an `exempt` block exempts it.
    pub exempted: bool,
    pub atom: Atom,
    pub span: Span,
}

/// One condition in a `when` or `derive` body.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Atom(Atom),
    /// `not atom`
    Not(Atom),
    /// `lhs op rhs`; `x = expr` with `x` unbound assigns.
    Compare {
        op: Spanned<CmpOp>,
        lhs: Expr,
        rhs: Expr,
    },
    /// `a within 90d of b`, `a within 2y after b`, `a within 6mo before b`
    Within {
        lhs: Expr,
        window: Expr,
        dir: WithinDir,
        rhs: Expr,
        span: Span,
    },
    /// `d in from..until`
    InRange {
        value: Expr,
        from: Expr,
        until: Expr,
        span: Span,
    },
    /// `f1..u1 overlaps f2..u2`
    Overlaps {
        a_from: Expr,
        a_until: Expr,
        b_from: Expr,
        b_until: Expr,
        span: Span,
    },
    /// `n = count { body }`, `total = sum a { body }`, `first = min d { body }`
    Aggregate {
        result: Ident,
        func: Spanned<AggFunc>,
        /// The aggregated expression (absent for `count`).
        over: Option<Expr>,
        body: Vec<Literal>,
        span: Span,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WithinDir {
    /// `of`: either side.
    Of,
    /// `after`: lhs is on or after rhs, by at most the window.
    After,
    /// `before`: lhs is on or before rhs, by at most the window.
    Before,
}

impl WithinDir {
    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            WithinDir::Of => "of",
            WithinDir::After => "after",
            WithinDir::Before => "before",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Sum,
    Min,
    Max,
}

impl AggFunc {
    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator with its sides swapped: `a < b` is `b > a`.
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }
}

/// `role(person: p, org: firm)` (named, any order, any subset) or `controls(a, b, pct)`
/// (positional, every field).
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    pub rel: Ident,
    pub args: Args,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Args {
    Named(Vec<(Ident, Expr)>),
    Positional(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A variable, or in `given` and `expect` an entity id.
    Var(String),
    /// `_`
    Wildcard,
    /// `$name`
    Param(String),
    Lit(Lit),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `[a, b, c]`: a list value, only in `given` facts for list fields.
    List(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
    /// Binding strength: sums 1, products 2 (atoms are 3).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Text(String),
    /// A number; `text` keeps its spelling so a 4-digit integer can also serve as a year.
    Number {
        value: Decimal,
        text: String,
    },
    Date(Date),
    /// A duration; `text` keeps its spelling (`12mo` stays `12mo`, not `1y`).
    Duration {
        value: Duration,
        text: String,
    },
    Bool(bool),
    /// `none`: the value of an absent optional field.
    None,
}
