//! Building findings from rule tuples: bindings, message, evidence, certainty, period,
//! sources and the derivation tree, all read off the recorded provenance.

use std::collections::BTreeMap;

use super::{
    Binding, Derivation, Evidence, ExemptionInfo, FieldValue, Finding, Period, SourceRef,
    finding_id,
};
use crate::case::Case;
use crate::diag::SourceMap;
use crate::engine::display_dir;
use crate::eval::Database;
use crate::eval::{Derivation as Deriv, Proof, TupleRef};
use crate::facts::{FactSet, OriginId};
use crate::ir::{Exemption, Program, Relation, Rule, Validity};
use crate::syntax::ast::TemplatePart;
use crate::value::{Date, Status, Value};

/// Derivation trees deeper than this are cut (the evidence list stays complete).
pub const MAX_TREE_DEPTH: usize = 48;

/// Every finding of every rule over one case, unsorted.
pub fn findings(
    program: &Program,
    map: &SourceMap,
    case: &Case,
    facts: &FactSet,
    db: &Database,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in &program.rules {
        for (tref, values) in db.tuples(rule.rel) {
            let Some(proof) = db.proof(tref) else {
                continue;
            };
            out.push(build(program, map, case, facts, db, rule, &values, &proof));
        }
    }
    out
}

/// How a value reads in a message: an entity's display name, else the value.
pub fn shown(case: &Case, v: &Value) -> String {
    match v {
        Value::Entity(id) => case.entity_name(id).unwrap_or_else(|| id.to_string()),
        Value::Date(d) if *d == Date::POS_INF => "ongoing".to_string(),
        Value::Date(d) if *d == Date::NEG_INF => "an open start".to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn binding(case: &Case, name: &str, v: &Value) -> Binding {
    Binding {
        name: name.to_string(),
        value: v.to_string(),
        ty: v.type_name(),
        display: match v {
            Value::Entity(_) => Some(shown(case, v)),
            _ => None,
        },
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the parts of a finding"
)]
fn build(
    program: &Program,
    map: &SourceMap,
    case: &Case,
    facts: &FactSet,
    db: &Database,
    rule: &Rule,
    values: &[Value],
    proof: &Proof,
) -> Finding {
    let rel = program.rel(rule.rel);
    let bindings: Vec<Binding> = rel
        .fields
        .iter()
        .zip(values)
        .map(|(f, v)| binding(case, &f.name, v))
        .collect();
    let (mut evidence, mut index) = evidence(program, facts, proof);
    add_sorted(
        &mut evidence,
        &mut index,
        merges(program, case, facts, proof),
    );
    let certainty = evidence
        .iter()
        .map(|e| e.status)
        .min()
        .unwrap_or(Status::Confirmed);
    let period = period(program, proof);
    let case_path = display_dir(&case.dir);
    Finding {
        id: finding_id(&case_path, &rule.name, &bindings),
        rule: rule.name.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        basis: rule.basis.clone(),
        tags: rule.tags.clone(),
        case: case_path,
        message: message(program, case, rule, values, proof),
        certainty,
        period_text: period.map(|p| {
            if p.is_empty() {
                "the evidence never held at one time".to_string()
            } else {
                p.describe(case.as_of)
            }
        }),
        period,
        sources: sources(case, &evidence),
        derivation: tree(program, map, proof, &index),
        exemption: exemption_info(program, map, case, facts, db, rule, values),
        bindings,
        evidence,
    }
}

/// The first `exempt` block of `rule` that covers a finding with these subject values,
/// and the exempting tuple.
pub fn exemption_for<'p>(
    db: &Database,
    rule: &'p Rule,
    values: &[Value],
) -> Option<(&'p Exemption, TupleRef)> {
    rule.exemptions.iter().find_map(|ex| {
        let key: Vec<Value> = ex
            .subjects
            .iter()
            .filter_map(|&i| values.get(i).cloned())
            .collect();
        let index = db.find(ex.rel, &key)?;
        Some((ex, TupleRef { rel: ex.rel, index }))
    })
}

fn exemption_info(
    program: &Program,
    map: &SourceMap,
    case: &Case,
    facts: &FactSet,
    db: &Database,
    rule: &Rule,
    values: &[Value],
) -> Option<ExemptionInfo> {
    let (ex, tref) = exemption_for(db, rule, values)?;
    let proof = db.proof(tref)?;
    let (evidence, _) = evidence(program, facts, &proof);
    Some(ExemptionInfo {
        because: ex.reason.clone(),
        by: map.locate(ex.span),
        sources: sources(case, &evidence),
        evidence,
    })
}

/// Fills the `flag` template: a hole names a subject, or any variable of the `when`
/// block that derived the finding (read from the recorded bindings).
fn message(program: &Program, case: &Case, rule: &Rule, values: &[Value], proof: &Proof) -> String {
    let Some(template) = &rule.flag else {
        return rule.title.clone();
    };
    let rel = program.rel(rule.rel);
    let clause_vars = proof.nodes.first().and_then(|n| match &n.derivation {
        Deriv::Rule {
            clause, bindings, ..
        } => Some((program.clause(*clause), bindings)),
        _ => None,
    });
    let mut out = String::new();
    for part in &template.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Hole(name) => {
                let from_subject = rel.field(&name.node).and_then(|i| values.get(i));
                let from_clause = clause_vars.and_then(|(c, b)| {
                    let i = c.vars.iter().position(|v| v.name == name.node)?;
                    b.get(i)?.as_ref()
                });
                match from_subject.or(from_clause) {
                    Some(v) => out.push_str(&shown(case, v)),
                    None => out.push_str(&format!("{{{}}}", name.node)),
                }
            }
        }
    }
    out
}

fn field_values(rel: &Relation, values: &[Value]) -> Vec<FieldValue> {
    rel.fields
        .iter()
        .zip(values)
        .filter(|(_, v)| !matches!(v, Value::None) && !v_is_open(v))
        .map(|(f, v)| FieldValue {
            field: f.name.clone(),
            value: v.to_string(),
            ty: v.type_name(),
        })
        .collect()
}

fn v_is_open(v: &Value) -> bool {
    matches!(v, Value::Date(d) if d.is_open())
}

/// The base facts of a proof, sorted by file and line (one entry per distinct origin
/// and tuple), and a map from proof node to evidence index.
pub(crate) fn evidence(
    program: &Program,
    facts: &FactSet,
    proof: &Proof,
) -> (Vec<Evidence>, BTreeMap<usize, usize>) {
    let mut items: Vec<(OriginId, usize)> = proof
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n.derivation {
            Deriv::Base(o) => Some((o, i)),
            _ => None,
        })
        .collect();
    let key = |o: OriginId| {
        let (file, line) = facts.origin_place(o);
        (file.clone(), line)
    };
    items.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.cmp(&b.1)));
    let mut out: Vec<Evidence> = Vec::new();
    let mut index = BTreeMap::new();
    for (o, node) in items {
        let n = &proof.nodes[node];
        let e = evidence_item(program.rel(n.tuple.rel), &n.values, &facts.origin(o));
        let at = match out.iter().position(|x| *x == e) {
            Some(at) => at,
            None => {
                out.push(e);
                out.len() - 1
            }
        };
        index.insert(node, at);
    }
    (out, index)
}

/// One base fact as evidence: its relation, fields, place and standing.
fn evidence_item(rel: &Relation, values: &[Value], origin: &crate::facts::Origin) -> Evidence {
    Evidence {
        relation: rel.name.clone(),
        fields: field_values(rel, values),
        file: origin.file.to_string(),
        line: origin.line,
        status: origin.status,
        sources: origin.sources.iter().map(|s| s.to_string()).collect(),
        note: origin.note.as_ref().map(|s| s.to_string()),
    }
}

/// The `same_as` facts behind any merged entity the proof names: a finding that rests on
/// a merge rests on the facts that made it, and they count towards its certainty.
fn merges(program: &Program, case: &Case, facts: &FactSet, proof: &Proof) -> Vec<Evidence> {
    let Some(rel) = program
        .rel_by_name("same_as")
        .filter(|_| !case.merged.is_empty())
    else {
        return Vec::new();
    };
    let named: std::collections::BTreeSet<&str> = proof
        .nodes
        .iter()
        .flat_map(|n| n.values.iter())
        .filter_map(|v| match v {
            Value::Entity(id) => Some(&**id),
            _ => None,
        })
        .collect();
    let relation = program.rel(rel);
    let mut out: Vec<Evidence> = Vec::new();
    for (values, o) in facts.rows(rel.0 as usize) {
        let merged_here = values
            .iter()
            .any(|v| matches!(v, Value::Entity(id) if named.contains(case.canonical(id))));
        if !merged_here {
            continue;
        }
        let e = evidence_item(relation, &values, &facts.origin(o));
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// Adds evidence and keeps the list sorted by file and line, renumbering `index`.
fn add_sorted(
    evidence: &mut Vec<Evidence>,
    index: &mut BTreeMap<usize, usize>,
    more: Vec<Evidence>,
) {
    if more.is_empty() {
        return;
    }
    evidence.extend(more);
    let mut order: Vec<usize> = (0..evidence.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&evidence[a], &evidence[b]);
        (&x.file, x.line).cmp(&(&y.file, y.line)).then(a.cmp(&b))
    });
    let mut new_at = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_at[old] = new;
    }
    for at in index.values_mut() {
        *at = new_at[*at];
    }
    let old = std::mem::take(evidence);
    let mut slots: Vec<Option<Evidence>> = old.into_iter().map(Some).collect();
    *evidence = order.iter().filter_map(|&i| slots[i].take()).collect();
}

/// When the base facts that have a validity interval held together ([`Period::of_evidence`]).
fn period(program: &Program, proof: &Proof) -> Option<Period> {
    let intervals = proof.nodes.iter().filter_map(|n| {
        if !matches!(n.derivation, Deriv::Base(_)) {
            return None;
        }
        let rel = program.rel(n.tuple.rel);
        let date = |i: usize| match n.values.get(i) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        };
        match rel.validity? {
            Validity::During { from, until } => Some((
                date(from).unwrap_or(Date::NEG_INF),
                date(until).unwrap_or(Date::POS_INF),
            )),
            Validity::At(f) => date(f).map(|d| (d, d)),
        }
    });
    Period::of_evidence(intervals)
}

/// The sources cited by the evidence, in first-cited order, resolved from `case.toml`.
fn sources(case: &Case, evidence: &[Evidence]) -> Vec<SourceRef> {
    let mut ids: Vec<&str> = Vec::new();
    for e in evidence {
        for s in &e.sources {
            if !ids.contains(&s.as_str()) {
                ids.push(s);
            }
        }
    }
    ids.into_iter()
        .map(|id| {
            let s = case.source(id);
            SourceRef {
                id: id.to_string(),
                title: s.and_then(|s| s.title.clone()),
                publisher: s.and_then(|s| s.publisher.clone()),
                url: s.and_then(|s| s.url.clone()),
                published: s.and_then(|s| s.published.map(|d| d.to_string())),
            }
        })
        .collect()
}

/// `controls(mandelson, global_counsel, 100)`
fn fact_text(rel: &Relation, values: &[Value]) -> String {
    let vs: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("{}({})", rel.name, vs.join(", "))
}

/// The derivation tree from the proof DAG: a derived node shared by several premises is
/// expanded each time it appears, down to [`MAX_TREE_DEPTH`]; deeper nodes are cut to a
/// leaf that still names the fact.
fn tree(
    program: &Program,
    map: &SourceMap,
    proof: &Proof,
    index: &BTreeMap<usize, usize>,
) -> Derivation {
    // Iterative post-order, so a long chain cannot overflow the stack.
    let mut built: BTreeMap<(usize, usize), Derivation> = BTreeMap::new();
    let mut stack: Vec<(usize, usize, bool)> = vec![(0, 0, false)];
    while let Some((node, depth, expanded)) = stack.pop() {
        let n = &proof.nodes[node];
        let children_ok = depth < MAX_TREE_DEPTH;
        if !expanded && children_ok && !n.children.is_empty() {
            stack.push((node, depth, true));
            for &c in n.children.iter().rev() {
                stack.push((c, depth + 1, false));
            }
            continue;
        }
        let d = match &n.derivation {
            Deriv::Base(_) => Derivation::Fact {
                evidence: index.get(&node).copied().unwrap_or(0),
            },
            Deriv::Rule { clause, .. } => {
                let rel = program.rel(n.tuple.rel);
                let premises = if children_ok {
                    n.children
                        .iter()
                        .filter_map(|&c| built.get(&(c, depth + 1)).cloned())
                        .collect()
                } else {
                    Vec::new()
                };
                Derivation::Derived {
                    relation: rel.name.clone(),
                    fact: fact_text(rel, &n.values),
                    by: map.locate(program.clause(*clause).span),
                    premises,
                }
            }
            Deriv::Unknown => Derivation::Derived {
                relation: program.rel(n.tuple.rel).name.clone(),
                fact: fact_text(program.rel(n.tuple.rel), &n.values),
                by: "provenance not recorded".to_string(),
                premises: Vec::new(),
            },
        };
        built.insert((node, depth), d);
    }
    built
        .remove(&(0, 0))
        .unwrap_or(Derivation::Fact { evidence: 0 })
}
