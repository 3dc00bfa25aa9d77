//! Compiles a checked program to SQL for DuckDB, PostgreSQL or Spark SQL: a table per
//! input relation, a view per derived relation (a self-recursive one as `WITH
//! RECURSIVE … UNION`), and per rule a query of its subjects and the ids of the facts
//! used. Anything the backend cannot express exactly is rejected with
//! `probity::sql::unsupported`, never approximated. See docs/scale.md.

mod agg;
mod clause;
pub mod dialect;
mod expr;
pub mod remote;
mod schema;
mod view;
mod why;

pub use dialect::Dialect;

use crate::diag::{Diagnostic, Span};
use crate::ir::{Clause, Program, RelId};
use crate::value::Value;
use expr::SqlVal;

pub const UNSUPPORTED: &str = "probity::sql::unsupported";

/// A construct the SQL backend cannot express, at its place.
#[derive(Debug, Clone)]
pub(crate) struct Unsupported {
    what: String,
    span: Span,
    help: String,
}

impl Unsupported {
    pub(crate) fn new(what: impl Into<String>, span: Span) -> Unsupported {
        Unsupported {
            what: what.into(),
            span,
            help: "evaluate this rule with `probity audit` (the native engine) instead".into(),
        }
    }
    pub(crate) fn help(mut self, help: impl Into<String>) -> Unsupported {
        self.help = help.into();
        self
    }
    /// The diagnostic, naming the rule or relation whose block holds the construct.
    pub(crate) fn diagnostic(self, owner: &str) -> Diagnostic {
        Diagnostic::error(
            UNSUPPORTED,
            format!("the SQL backend cannot express {} in `{owner}`", self.what),
        )
        .at(self.span)
        .help(self.help)
    }
}

/// Translation state of one SELECT (nested ones get a child).
pub(crate) struct Cx<'a> {
    pub(crate) p: &'a Program,
    pub(crate) d: Dialect,
    pub(crate) params: &'a [Value],
    pub(crate) clause: &'a Clause,
    pub(crate) vars: Vec<Option<SqlVal>>,
    pub(crate) from: Vec<String>,
    pub(crate) conds: Vec<String>,
    pub(crate) next_alias: usize,
    /// Positive atoms over base and entity relations: (alias, relation).
    pub(crate) facts: Vec<(String, RelId)>,
    /// Every positive atom, in body order: (alias, relation).
    pub(crate) atoms: Vec<(String, RelId)>,
    /// The relation being defined recursively and the CTE it is read from.
    pub(crate) rec: Option<(RelId, String)>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        p: &'a Program,
        d: Dialect,
        params: &'a [Value],
        clause: &'a Clause,
        rec: Option<(RelId, String)>,
    ) -> Cx<'a> {
        Cx {
            p,
            d,
            params,
            clause,
            vars: vec![None; clause.vars.len()],
            from: Vec::new(),
            conds: Vec::new(),
            next_alias: 1,
            facts: Vec::new(),
            atoms: Vec::new(),
            rec,
        }
    }
    /// A context for a subquery: the same bindings, its own FROM and WHERE.
    pub(crate) fn child(&self) -> Cx<'a> {
        Cx {
            vars: self.vars.clone(),
            from: Vec::new(),
            conds: Vec::new(),
            facts: Vec::new(),
            atoms: Vec::new(),
            rec: self.rec.clone(),
            ..*self
        }
    }
    pub(crate) fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("{prefix}{}", self.next_alias - 1)
    }
    pub(crate) fn var(&self, v: crate::ir::VarId, span: Span) -> Result<SqlVal, Unsupported> {
        self.vars
            .get(v.0 as usize)
            .cloned()
            .flatten()
            .ok_or_else(|| Unsupported::new("a variable used before it is bound", span))
    }
}

/// The param values: defaults with `--param` overrides applied.
pub fn param_values(p: &Program, overrides: &[String]) -> Result<Vec<Value>, Vec<Diagnostic>> {
    let mut values: Vec<Value> = p.params.iter().map(|x| x.default.clone()).collect();
    let mut errors = Vec::new();
    for o in overrides {
        match crate::resolve::parse_param_override(p, o) {
            Ok((id, v)) => values[id.0 as usize] = v,
            Err(d) => errors.push(d),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The whole SQL script, or every construct that stopped it.
pub fn compile(p: &Program, d: Dialect, params: &[Value]) -> Result<String, Vec<Diagnostic>> {
    let (setup, _) = setup(p, d, params, false);
    let mut errors = Vec::new();
    let mut out = match setup {
        Ok((tables, views)) => tables + &views,
        Err(mut e) => {
            errors.append(&mut e);
            String::new()
        }
    };
    for rule in &p.rules {
        match view::rule_queries(p, d, params, rule) {
            Ok(q) => out.push_str(&q),
            Err(mut e) => errors.append(&mut e),
        }
    }
    finish(out, errors)
}

/// The script's header and tables, and its views (all but the rule queries; with
/// `materialize`, tables computed once instead of views); and the input relations it
/// makes tables for.
#[expect(
    clippy::type_complexity,
    reason = "the two parts of a script, and its inputs"
)]
pub(crate) fn setup(
    p: &Program,
    d: Dialect,
    params: &[Value],
    materialize: bool,
) -> (Result<(String, String), Vec<Diagnostic>>, Vec<RelId>) {
    let inputs = schema::read_inputs(p);
    let strata = match crate::plan::strata::stratify(p) {
        Ok(s) => s,
        Err(errs) => {
            let diags = errs
                .iter()
                .map(|e| crate::plan::strata::to_diagnostic(p, e))
                .collect::<Vec<_>>();
            return (Err(diags), inputs);
        }
    };
    let mut out = format!(
        "-- Generated by `probity compile --to sql --dialect {}`.\n\
         -- Dates are two DATE columns (`_first`, `_last`: the days a partial date covers);\n\
         -- open interval ends are DATE '{}' and DATE '{}'; none is NULL.\n\n",
        d.name(),
        dialect::NEG_INF_SQL,
        dialect::POS_INF_SQL
    );
    let mut errors = Vec::new();
    for &r in &inputs {
        match schema::table(d, p.rel(r)) {
            Ok(t) => out.push_str(&(t + "\n")),
            Err(u) => errors.push(u.diagnostic(&p.rel(r).name)),
        }
    }
    let mut views = String::new();
    for s in &strata {
        match view::stratum(p, d, params, s, materialize) {
            Ok(v) => views.push_str(&v),
            Err(mut e) => errors.append(&mut e),
        }
    }
    (finish(out, errors).map(|t| (t, views)), inputs)
}

/// `out`, or the errors sorted with repeats dropped.
fn finish(out: String, mut errors: Vec<Diagnostic>) -> Result<String, Vec<Diagnostic>> {
    if errors.is_empty() {
        Ok(out)
    } else {
        crate::diag::sort(&mut errors);
        errors.dedup_by(|a, b| a.message == b.message && a.place == b.place);
        Err(errors)
    }
}
