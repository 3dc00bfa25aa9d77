//! Data coverage: what in a case the rules never looked at — facts of relations no rule
//! reads, entities that cite no source, and facts without a date a rule needed.
//!
//! A rule *reads* a relation when an atom of it (positive, negated or inside an
//! aggregate) appears in one of the rule's `when` or `exempt` blocks, or in a `derive`
//! clause of a relation the rule reads, transitively. A rule *needs* a field when such
//! an atom names it (a variable or a constant, not `_` or an unnamed field). Entity
//! definitions (`person`, `org`) are not counted as unread: they name the entities the
//! other facts link.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::case::Case;
use crate::engine::display_dir;
use crate::facts::FactSet;
use crate::ir::{Literal, Program, RelId, RelKind, Term, Validity};
use crate::value::{Date, Value};

/// Facts of a relation no rule reads, in one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unread {
    pub relation: String,
    pub file: String,
    pub facts: usize,
}

/// An entity whose definition cites no source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsourced {
    pub entity: String,
    pub name: String,
    pub file: String,
    pub line: u32,
}

/// A fact whose validity fields are absent although a rule needs them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undated {
    pub relation: String,
    /// The absent fields a rule needs (`from`, `until`, `on`…), in field order.
    pub fields: Vec<String>,
    pub file: String,
    pub line: u32,
    /// The rules that need one of the fields, by name, in program order.
    pub needed_by: Vec<String>,
}

/// The coverage of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub case: String,
    pub unread: Vec<Unread>,
    pub unsourced: Vec<Unsourced>,
    pub undated: Vec<Undated>,
}

/// The atoms of a block, `not` and aggregate bodies included.
fn atoms<'a>(body: &'a [Literal], out: &mut Vec<&'a crate::ir::Atom>) {
    for l in body {
        match l {
            Literal::Atom(a) | Literal::Not(a) => out.push(a),
            Literal::Aggregate { body, .. } => atoms(body, out),
            _ => {}
        }
    }
}

/// Per relation, the fields one rule reads (transitively through derived relations).
fn reads_of(program: &Program, roots: &[RelId]) -> BTreeMap<RelId, BTreeSet<usize>> {
    let mut seen: BTreeSet<RelId> = BTreeSet::new();
    let mut todo: Vec<RelId> = roots.to_vec();
    let mut out: BTreeMap<RelId, BTreeSet<usize>> = BTreeMap::new();
    while let Some(rel) = todo.pop() {
        if !seen.insert(rel) {
            continue;
        }
        for c in program.clauses.iter().filter(|c| c.head == rel) {
            let mut found = Vec::new();
            atoms(&c.body, &mut found);
            for a in found {
                let fields = out.entry(a.rel).or_default();
                for (i, t) in a.terms.iter().enumerate() {
                    if !matches!(t, Term::Wildcard) {
                        fields.insert(i);
                    }
                }
                todo.push(a.rel);
            }
        }
    }
    out
}

/// Per rule name, what it reads.
fn rule_reads(program: &Program) -> Vec<(String, BTreeMap<RelId, BTreeSet<usize>>)> {
    program
        .rules
        .iter()
        .map(|r| {
            let mut roots = vec![r.rel];
            roots.extend(r.exemptions.iter().map(|e| e.rel));
            (r.name.clone(), reads_of(program, &roots))
        })
        .collect()
}

/// The coverage of `case`, whose facts are `facts`, by `program`'s rules.
pub fn coverage(program: &Program, case: &Case, facts: &FactSet) -> Coverage {
    let reads = rule_reads(program);
    let read_any: BTreeSet<RelId> = reads.iter().flat_map(|(_, m)| m.keys().copied()).collect();
    let mut unread: BTreeMap<(String, String), BTreeSet<u32>> = BTreeMap::new();
    type Key = (String, u32, String);
    let mut undated: BTreeMap<Key, (BTreeSet<usize>, BTreeSet<usize>)> = BTreeMap::new();
    for r in 0..facts.tuples.len() {
        let rid = RelId(r as u32);
        let Some(rel) = program.relations.get(r) else {
            continue;
        };
        if rel.kind != RelKind::Base {
            continue;
        }
        for (values, origin) in facts.rows(r) {
            let o = facts.origin(origin);
            if !read_any.contains(&rid) {
                unread
                    .entry((rel.name.clone(), o.file.to_string()))
                    .or_default()
                    .insert(origin.0);
                continue;
            }
            for field in absent_validity(rel.validity, &values) {
                let needed_by: Vec<usize> = (0..reads.len())
                    .filter(|&i| reads[i].1.get(&rid).is_some_and(|f| f.contains(&field)))
                    .collect();
                if !needed_by.is_empty() {
                    let key = (o.file.to_string(), o.line, rel.name.clone());
                    let entry = undated.entry(key).or_default();
                    entry.0.insert(field);
                    entry.1.extend(needed_by);
                }
            }
        }
    }
    Coverage {
        case: display_dir(&case.dir),
        unread: unread
            .into_iter()
            .map(|((relation, file), origins)| Unread {
                relation,
                file,
                facts: origins.len(),
            })
            .collect(),
        unsourced: unsourced(case, facts),
        undated: undated
            .into_iter()
            .map(|((file, line, relation), (fields, rules))| Undated {
                fields: fields
                    .iter()
                    .filter_map(|&i| program.rel_by_name(&relation).map(|r| (r, i)))
                    .map(|(r, i)| program.rel(r).fields[i].name.clone())
                    .collect(),
                relation,
                file,
                line,
                needed_by: rules.iter().map(|&i| reads[i].0.clone()).collect(),
            })
            .collect(),
    }
}

/// The validity fields of a tuple that were left out (open ends, or no date).
fn absent_validity(validity: Option<Validity>, values: &[Value]) -> Vec<usize> {
    let open = |i: usize, end: Date| match values.get(i) {
        Some(Value::Date(d)) => *d == end,
        Some(Value::None) => true,
        _ => false,
    };
    match validity {
        Some(Validity::During { from, until }) => [(from, Date::NEG_INF), (until, Date::POS_INF)]
            .into_iter()
            .filter(|&(i, end)| open(i, end))
            .map(|(i, _)| i)
            .collect(),
        Some(Validity::At(i)) => match values.get(i) {
            Some(Value::None) => vec![i],
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

fn unsourced(case: &Case, facts: &FactSet) -> Vec<Unsourced> {
    let mut out: Vec<Unsourced> = case
        .all_entities()
        .iter()
        .filter_map(|(id, e)| {
            let o = facts.get_origin(e.origin)?;
            o.sources.is_empty().then(|| Unsourced {
                entity: id.to_string(),
                name: e.name.clone(),
                file: o.file.to_string(),
                line: o.line,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out
}
