//! Near misses: per rule, the bindings that satisfied every condition of a `when` block
//! but one, and which condition failed — what an auditor shows as checked and cleared.
//!
//! For each `when` block of each rule and each condition `i` of it, the block is
//! evaluated again with condition `i` left out, over the same facts and parameters,
//! into a relation of its own. A tuple of that relation the rule did not derive is a
//! near miss: its binding met every other condition, so condition `i` failed for it
//! (had it held, the block would have derived the tuple). The evidence is the facts the
//! other conditions matched; the failed condition is shown with its source text,
//! location and the values of its variables.
//!
//! A condition is not left out when it is the only one binding a variable that the
//! subjects or another condition use (dropping it would leave the variable unbound);
//! such a condition cannot be "the one that failed" for any binding. So a binding that
//! fails only a join — two atoms disagreeing on a shared variable, such as a colleague
//! whose office is in another body, when each atom also binds variables used elsewhere
//! — is not found. A tuple the rule
//! derived, exempted or not, is never a near miss. At most [`MAX_PER_RULE`] near
//! misses are listed per rule and case, in the order of their subjects' values; the
//! rest are counted.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::case::Case;
use crate::diag::{Diagnostic, SourceMap};
use crate::engine::display_dir;
use crate::eval::{self, Derivation as Deriv, EvalOptions, TupleRef};
use crate::facts::FactSet;
use crate::findings::build::{binding, evidence};
use crate::findings::{Binding, Evidence};
use crate::ir::{
    Clause, ClauseId, ClauseOrigin, Literal, Program, RelId, RelKind, Relation, RuleId, VarId,
};
use crate::value::Value;

/// Most near misses listed per rule and case.
pub const MAX_PER_RULE: usize = 10;

/// The condition a near miss failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// Its source text, as written in the rule file.
    pub text: String,
    /// `file:line:col`.
    pub at: String,
}

/// One binding that failed one condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    /// The rule's subjects, as in a finding.
    pub bindings: Vec<Binding>,
    pub failed: Condition,
    /// The variables of the failed condition and their values in this binding.
    pub values: Vec<Binding>,
    /// The facts the other conditions matched.
    pub evidence: Vec<Evidence>,
}

/// The near misses of one rule in one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMisses {
    pub rule: String,
    pub title: String,
    pub case: String,
    pub items: Vec<NearMiss>,
    /// How many more there were beyond [`MAX_PER_RULE`].
    pub omitted: usize,
}

/// One left-out condition: the relation its variant derives into.
struct Variant {
    rel: RelId,
    rule: RuleId,
    clause: ClauseId,
    literal: usize,
}

/// Variables a literal binds.
fn binds(l: &Literal) -> Vec<VarId> {
    let mut out = Vec::new();
    match l {
        Literal::Atom(a) => a.vars(&mut out),
        Literal::Assign { var, .. } => out.push(*var),
        Literal::Aggregate { result, .. } => out.push(*result),
        _ => {}
    }
    out
}

/// Variables a literal mentions (for an aggregate: those it shares with the clause).
fn uses(l: &Literal) -> Vec<VarId> {
    let mut out = binds(l);
    match l {
        Literal::Not(a) => a.vars(&mut out),
        Literal::Aggregate { group, .. } => out.extend(group),
        _ => l.exprs().into_iter().for_each(|e| e.vars(&mut out)),
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether leaving literal `i` out keeps every used variable bound.
fn droppable(c: &Clause, i: usize) -> bool {
    let mut bound_elsewhere = BTreeSet::new();
    let mut used = BTreeSet::new();
    for (_, l) in c.body.iter().enumerate().filter(|(j, _)| *j != i) {
        bound_elsewhere.extend(binds(l));
        used.extend(uses(l));
    }
    for t in &c.head_terms {
        let mut vs = Vec::new();
        t.vars(&mut vs);
        used.extend(vs);
    }
    binds(&c.body[i])
        .iter()
        .all(|v| bound_elsewhere.contains(v) || !used.contains(v))
}

/// The program with one extra relation and clause per droppable condition of every
/// rule's `when` blocks.
fn with_variants(program: &Program) -> (Program, Vec<Variant>) {
    let mut p = program.clone();
    let mut variants = Vec::new();
    for (r, rule) in program.rules.iter().enumerate() {
        let fields = program.rel(rule.rel).fields.clone();
        for &cid in &rule.clauses {
            let c = program.clause(cid);
            for i in (0..c.body.len()).filter(|&i| droppable(c, i)) {
                let rel = RelId(p.relations.len() as u32);
                p.relations.push(Relation {
                    name: format!("near miss {}#{}#{i}", rule.name, cid.0),
                    kind: RelKind::Derived,
                    fields: fields.clone(),
                    symmetric: false,
                    validity: None,
                    span: c.span,
                });
                let mut body = c.body.clone();
                body.remove(i);
                p.clauses.push(Clause {
                    head: rel,
                    head_terms: c.head_terms.clone(),
                    body,
                    vars: c.vars.clone(),
                    origin: ClauseOrigin::Derive,
                    span: c.span,
                });
                variants.push(Variant {
                    rel,
                    rule: RuleId(r as u32),
                    clause: cid,
                    literal: i,
                });
            }
        }
    }
    (p, variants)
}

/// The near misses of every rule over one case's facts, rules in program order.
pub fn near_misses(
    program: &Program,
    map: &SourceMap,
    case: &Case,
    facts: &FactSet,
    params: &[Value],
    opts: &EvalOptions,
) -> Result<Vec<NearMisses>, Vec<Diagnostic>> {
    let (p, variants) = with_variants(program);
    let db = eval::evaluate(&p, facts, params, opts)?;
    let case_path = display_dir(&case.dir);
    let mut out = Vec::new();
    for (r, rule) in program.rules.iter().enumerate() {
        let mut found: Vec<(Vec<Value>, usize, NearMiss)> = Vec::new();
        for v in variants.iter().filter(|v| v.rule.0 as usize == r) {
            for (tref, values) in db.tuples(v.rel) {
                if db.find(rule.rel, &values).is_some() {
                    continue;
                }
                let miss = describe(&p, map, case, facts, &db, v, tref, &values);
                found.push((values, v.literal, miss));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        found.dedup_by(|a, b| a.0 == b.0 && a.2.failed == b.2.failed);
        if found.is_empty() {
            continue;
        }
        let omitted = found.len().saturating_sub(MAX_PER_RULE);
        out.push(NearMisses {
            rule: rule.name.clone(),
            title: rule.title.clone(),
            case: case_path.clone(),
            items: found
                .into_iter()
                .take(MAX_PER_RULE)
                .map(|(_, _, m)| m)
                .collect(),
            omitted,
        });
    }
    Ok(out)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the parts of a near miss"
)]
fn describe(
    program: &Program,
    map: &SourceMap,
    case: &Case,
    facts: &FactSet,
    db: &eval::Database,
    v: &Variant,
    tref: TupleRef,
    values: &[Value],
) -> NearMiss {
    let rule = program.rule(v.rule);
    let clause = program.clause(v.clause);
    let lit = &clause.body[v.literal];
    let span = lit.span();
    let file = map.get(span.file);
    let text = file
        .text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let proof = db.proof(tref);
    let env: Vec<Option<Value>> = match proof.as_ref().and_then(|p| p.nodes.first()) {
        Some(n) => match &n.derivation {
            Deriv::Rule { bindings, .. } => bindings.clone(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let shown_vars = uses(lit)
        .into_iter()
        .filter_map(|var| {
            let name = &clause.vars.get(var.0 as usize)?.name;
            let value = env.get(var.0 as usize)?.as_ref()?;
            (name != "_").then(|| binding(case, name, value))
        })
        .collect();
    let rel = program.rel(rule.rel);
    NearMiss {
        bindings: rel
            .fields
            .iter()
            .zip(values)
            .map(|(f, x)| binding(case, &f.name, x))
            .collect(),
        failed: Condition {
            text,
            at: map.locate(span),
        },
        values: shown_vars,
        evidence: proof
            .map(|p| evidence(program, facts, &p).0)
            .unwrap_or_default(),
    }
}
