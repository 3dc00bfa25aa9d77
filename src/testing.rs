//! The `test` block runner: evaluates each test's `given` facts alone and checks its
//! `expect` and `expect no` lines against the result.

use std::sync::Arc;

use crate::diag::{Diagnostic, SourceMap};
use crate::eval::{self, EvalOptions};
use crate::facts::{FactSet, FieldValue, Origin};
use crate::ir::{Expectation, Program, Test};
use crate::value::{Status, Value};

/// What happened to one test.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    /// `file:line:col` of the test block.
    pub location: String,
    /// One entry per expectation that did not hold (empty: passed).
    pub failures: Vec<String>,
    /// The findings the given facts produce, as `rule: message` (`exempted` marked).
    pub findings: Vec<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test whose name contains `filter` (all when `None`), in source order.
pub fn run(map: &SourceMap, program: &Program, filter: Option<&str>) -> Vec<Outcome> {
    program
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .map(|t| run_one(map, program, t))
        .collect()
}

/// The facts a test block gives, each with the `given` line as its origin.
pub fn given_facts(map: &SourceMap, program: &Program, test: &Test) -> FactSet {
    let mut facts = FactSet::new(program);
    for g in &test.given {
        let file = map.get(g.span.file);
        let (line, _) = file.line_col(g.span.start);
        let origin = facts.add_origin(Origin {
            file: Arc::from(file.path.as_str()),
            line,
            sources: Vec::new(),
            status: Status::Confirmed,
            note: None,
        });
        let fields = g.values.iter().cloned().map(FieldValue::One).collect();
        facts.add(program, g.rel, fields, origin);
    }
    facts
}

fn run_one(map: &SourceMap, program: &Program, test: &Test) -> Outcome {
    let facts = given_facts(map, program, test);
    let params: Vec<Value> = program.params.iter().map(|p| p.default.clone()).collect();
    let location = map.locate(test.span);
    let db = match eval::evaluate(program, &facts, &params, &EvalOptions::default()) {
        Ok(db) => db,
        Err(diags) => {
            return Outcome {
                name: test.name.clone(),
                location,
                failures: diags
                    .iter()
                    .map(|d: &Diagnostic| d.message.clone())
                    .collect(),
                findings: Vec::new(),
            };
        }
    };
    let failures = test
        .expects
        .iter()
        .filter_map(|e| check(program, &db, e, map))
        .collect();
    let case = given_case(program, &facts, &location);
    let findings = crate::findings::build::findings(program, map, &case, &facts, &db)
        .into_iter()
        .map(|f| {
            let mark = if f.exemption.is_some() {
                " (exempted)"
            } else {
                ""
            };
            format!("{}{mark}: {}", f.rule, f.message)
        })
        .collect();
    Outcome {
        name: test.name.clone(),
        location,
        failures,
        findings,
    }
}

/// A case made of a test's given facts, so findings show entities' names.
fn given_case(program: &Program, facts: &FactSet, location: &str) -> crate::case::Case {
    let mut entities = std::collections::BTreeMap::new();
    for kind in &program.kinds {
        let rel = program.rel(kind.rel);
        let name_at = rel.field("name");
        for (values, origin) in facts.rows(kind.rel.0 as usize) {
            let Some(Value::Entity(id)) = values.first() else {
                continue;
            };
            let name = match name_at.and_then(|i| values.get(i)) {
                Some(Value::Text(n)) => n.to_string(),
                _ => id.to_string(),
            };
            entities.insert(
                id.clone(),
                crate::case::Entity {
                    kind: kind.name.clone(),
                    name,
                    aliases: Vec::new(),
                    origin,
                },
            );
        }
    }
    crate::case::Case {
        dir: location.into(),
        title: String::new(),
        description: None,
        as_of: None,
        sources: Vec::new(),
        entities,
        merged: Default::default(),
        files: Vec::new(),
        unread: Vec::new(),
        warnings: Vec::new(),
        ..Default::default()
    }
}

/// `retained_stake(p: ann, firm: acme)`
fn describe(program: &Program, e: &Expectation) -> String {
    let rel = program.rel(e.rel);
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|(i, v)| format!("{}: {}", rel.fields[*i].name, show(v)))
        .collect();
    format!("{}({})", rel.name, fields.join(", "))
}

fn show(v: &Value) -> String {
    match v {
        Value::Text(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn check(
    program: &Program,
    db: &eval::Database,
    e: &Expectation,
    map: &SourceMap,
) -> Option<String> {
    let rel = program.rel(e.rel);
    let rows: Vec<Vec<Value>> = db.tuples(e.rel).into_iter().map(|(_, t)| t).collect();
    let matching = rows
        .iter()
        .filter(|t| e.fields.iter().all(|(i, v)| t.get(*i) == Some(v)))
        .count();
    let at = map.locate(e.span);
    let want = describe(program, e);
    if e.exempted {
        let rule = match rel.kind {
            crate::ir::RelKind::Rule(r) => program.rule(r),
            _ => return Some(format!("{at}: `{}` is not a rule", rel.name)),
        };
        let exempted = rows
            .iter()
            .filter(|t| e.fields.iter().all(|(i, v)| t.get(*i) == Some(v)))
            .any(|t| crate::findings::build::exemption_for(db, rule, t).is_some());
        if e.negated {
            return exempted
                .then(|| format!("{at}: expected no exempted {want}\n      got an exempted one"));
        }
        return (!exempted).then(|| {
            let got = if matching == 0 {
                format!("no matching `{}` at all", rel.name)
            } else {
                format!("{matching} matching, none exempted")
            };
            format!("{at}: expected exempted {want}\n      got {got}")
        });
    }
    if e.negated && matching > 0 {
        Some(format!(
            "{at}: expected no {want}\n      got {matching} matching: {}",
            list(rel, &rows, e)
        ))
    } else if !e.negated && matching == 0 {
        let got = if rows.is_empty() {
            format!("no `{}` at all", rel.name)
        } else {
            list(rel, &rows, e)
        };
        Some(format!("{at}: expected {want}\n      got {got}"))
    } else {
        None
    }
}

/// Up to five rows (matching ones first), as `rel(f: v, …)`.
fn list(rel: &crate::ir::Relation, rows: &[Vec<Value>], e: &Expectation) -> String {
    let mut shown: Vec<&Vec<Value>> = rows
        .iter()
        .filter(|t| e.fields.iter().all(|(i, v)| t.get(*i) == Some(v)))
        .collect();
    shown.extend(
        rows.iter()
            .filter(|t| !e.fields.iter().all(|(i, v)| t.get(*i) == Some(v))),
    );
    let mut out: Vec<String> = shown
        .iter()
        .take(5)
        .map(|t| {
            let fs: Vec<String> = rel
                .fields
                .iter()
                .zip(t.iter())
                .map(|(f, v)| format!("{}: {}", f.name, show(v)))
                .collect();
            format!("{}({})", rel.name, fs.join(", "))
        })
        .collect();
    if rows.len() > 5 {
        out.push(format!("… and {} more", rows.len() - 5));
    }
    out.join("; ")
}
