//! Relationship graphs: entities as nodes, facts that link entities as labelled edges —
//! of a whole case, of one entity's neighbourhood, or of one finding's evidence.
//!
//! A fact linking two entities is an edge between them, labelled with its relation (and
//! a short text field such as a title, if it has one). A fact linking three or more
//! entities (a meeting and its attendees) becomes a small node of its own, with one
//! edge to each entity labelled by field. Node and edge order follows the input, so the
//! layout ([`layout`]) and every text format ([`text`], [`svg`]) are deterministic.

pub mod layout;
pub mod svg;
pub mod text;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::case::Case;
use crate::facts::FactSet;
use crate::findings::Evidence;
use crate::ir::{Program, RelKind};
use crate::value::Value;

/// Text fields at most this long are shown in edge labels.
const MAX_LABEL_TEXT: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Entity,
    /// A fact linking three or more entities.
    Fact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// An entity's id, or `relation@file:line` for a fact node.
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
    /// A finding's subject.
    pub highlight: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// One written fact, reduced to what a picture needs.
#[derive(Debug, Clone)]
pub struct FactLinks {
    pub relation: String,
    /// `file:line`, to tell facts apart.
    pub place: String,
    /// (field, entity id), in field order, without repeats.
    pub entities: Vec<(String, String)>,
    /// A short text describing the fact (a title, a kind), if any.
    pub text: Option<String>,
}

impl Graph {
    /// The node for an entity, added if new.
    fn entity(&mut self, id: &str, names: &BTreeMap<String, String>) -> usize {
        if let Some(i) = self.nodes.iter().position(|n| n.id == id) {
            return i;
        }
        self.nodes.push(Node {
            id: id.to_string(),
            label: names.get(id).cloned().unwrap_or_else(|| id.to_string()),
            kind: NodeKind::Entity,
            highlight: false,
        });
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: String) {
        let e = Edge { from, to, label };
        if from != to && !self.edges.contains(&e) {
            self.edges.push(e);
        }
    }

    /// A graph of these facts; entities are labelled from `names` (id → display name).
    pub fn from_facts(facts: &[FactLinks], names: &BTreeMap<String, String>) -> Graph {
        let mut g = Graph::default();
        for f in facts {
            let ids: Vec<usize> = f.entities.iter().map(|(_, e)| g.entity(e, names)).collect();
            let label = match &f.text {
                Some(t) => format!("{}: {t}", f.relation),
                None => f.relation.clone(),
            };
            match ids.as_slice() {
                [] | [_] => {}
                [a, b] => g.edge(*a, *b, label),
                _ => {
                    g.nodes.push(Node {
                        id: format!("{}@{}", f.relation, f.place),
                        label,
                        kind: NodeKind::Fact,
                        highlight: false,
                    });
                    let hub = g.nodes.len() - 1;
                    for ((field, _), id) in f.entities.iter().zip(ids) {
                        g.edge(hub, id, field.clone());
                    }
                }
            }
        }
        g
    }

    /// Marks these entities as subjects.
    pub fn highlight(&mut self, ids: &[String]) {
        for n in &mut self.nodes {
            n.highlight |= n.kind == NodeKind::Entity && ids.contains(&n.id);
        }
    }

    /// Undirected neighbours of every node.
    pub fn adjacency(&self) -> Vec<Vec<usize>> {
        let mut adj = vec![Vec::new(); self.nodes.len()];
        for e in &self.edges {
            adj[e.from].push(e.to);
            adj[e.to].push(e.from);
        }
        for a in &mut adj {
            a.sort_unstable();
            a.dedup();
        }
        adj
    }

    /// The part of the graph within `hops` entity-to-entity steps of `id` (a fact node
    /// between two entities does not count as a step), or `None` if there is no such
    /// node. The centre is highlighted.
    pub fn around(&self, id: &str, hops: usize) -> Option<Graph> {
        let start = self.nodes.iter().position(|n| n.id == id)?;
        let adj = self.adjacency();
        let mut dist: BTreeMap<usize, usize> = BTreeMap::from([(start, 0)]);
        let mut queue = VecDeque::from([start]);
        // A 0-1 breadth-first search: leaving an entity costs a step, leaving a fact
        // node is free.
        while let Some(n) = queue.pop_front() {
            let d = dist[&n];
            let step = usize::from(self.nodes[n].kind == NodeKind::Entity);
            for &m in &adj[n] {
                let nd = d + step;
                if nd <= hops && dist.get(&m).is_none_or(|&old| nd < old) {
                    dist.insert(m, nd);
                    if step == 0 {
                        queue.push_front(m);
                    } else {
                        queue.push_back(m);
                    }
                }
            }
        }
        let keep: BTreeSet<usize> = dist.keys().copied().collect();
        let mut g = self.subgraph(&keep);
        g.highlight(&[id.to_string()]);
        Some(g)
    }

    fn subgraph(&self, keep: &BTreeSet<usize>) -> Graph {
        let renumber: BTreeMap<usize, usize> = keep
            .iter()
            .enumerate()
            .map(|(new, &old)| (old, new))
            .collect();
        Graph {
            nodes: keep.iter().map(|&i| self.nodes[i].clone()).collect(),
            edges: self
                .edges
                .iter()
                .filter_map(|e| {
                    Some(Edge {
                        from: *renumber.get(&e.from)?,
                        to: *renumber.get(&e.to)?,
                        label: e.label.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// Entity id → display name, for a case.
pub fn names(case: &Case) -> BTreeMap<String, String> {
    case.all_entities()
        .iter()
        .map(|(id, e)| (id.to_string(), e.name.clone()))
        .collect()
}

/// The first short text field of a fact, for its edge label.
fn short_text<'a>(texts: impl Iterator<Item = &'a str>) -> Option<String> {
    texts
        .filter(|t| !t.is_empty() && t.chars().count() <= MAX_LABEL_TEXT)
        .map(str::to_string)
        .next()
}

/// Every written fact of a case that names an entity, grouped by the line it came from
/// (a list field's members and a symmetric fact's two orders are one fact).
pub fn case_facts(program: &Program, case: &Case, facts: &FactSet) -> Vec<FactLinks> {
    let mut by_origin: BTreeMap<u32, FactLinks> = BTreeMap::new();
    for r in 0..facts.tuples.len() {
        let Some(rel) = program.relations.get(r) else {
            continue;
        };
        if !matches!(rel.kind, RelKind::Base | RelKind::Entity(_)) {
            continue;
        }
        for (values, origin) in facts.rows(r) {
            let o = facts.origin(origin);
            let entry = by_origin.entry(origin.0).or_insert_with(|| FactLinks {
                relation: rel.name.clone(),
                place: format!("{}:{}", o.file, o.line),
                entities: Vec::new(),
                text: None,
            });
            for (field, v) in rel.fields.iter().zip(&values) {
                if let Value::Entity(id) = v {
                    let pair = (field.name.clone(), case.canonical(id).to_string());
                    if !entry.entities.iter().any(|(_, e)| *e == pair.1) {
                        entry.entities.push(pair);
                    }
                }
            }
            if entry.text.is_none() && !matches!(rel.kind, RelKind::Entity(_)) {
                entry.text = short_text(values.iter().filter_map(|v| match v {
                    Value::Text(t) => Some(&**t),
                    _ => None,
                }));
            }
        }
    }
    by_origin.into_values().collect()
}

/// The facts of a finding's evidence, grouped by file and line.
pub fn evidence_facts(evidence: &[Evidence]) -> Vec<FactLinks> {
    let mut out: Vec<FactLinks> = Vec::new();
    for e in evidence {
        let place = format!("{}:{}", e.file, e.line);
        let at = match out
            .iter()
            .position(|f| f.place == place && f.relation == e.relation)
        {
            Some(i) => i,
            None => {
                out.push(FactLinks {
                    relation: e.relation.clone(),
                    place,
                    entities: Vec::new(),
                    text: None,
                });
                out.len() - 1
            }
        };
        let f = &mut out[at];
        for v in e.fields.iter().filter(|v| v.ty == "entity") {
            if !f.entities.iter().any(|(_, id)| *id == v.value) {
                f.entities.push((v.field.clone(), v.value.clone()));
            }
        }
        if f.text.is_none() {
            f.text = short_text(
                e.fields
                    .iter()
                    .filter(|v| v.ty == "text")
                    .map(|v| v.value.as_str()),
            );
        }
    }
    out
}

/// The picture of a finding: its evidence's entities and links, subjects highlighted.
pub fn of_evidence(
    evidence: &[Evidence],
    subjects: &[String],
    names: &BTreeMap<String, String>,
) -> Graph {
    let mut g = Graph::from_facts(&evidence_facts(evidence), names);
    g.highlight(subjects);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(rel: &str, place: &str, ents: &[&str]) -> FactLinks {
        FactLinks {
            relation: rel.into(),
            place: place.into(),
            entities: ents
                .iter()
                .map(|e| ("f".to_string(), e.to_string()))
                .collect(),
            text: None,
        }
    }

    #[test]
    fn two_entities_make_an_edge_and_more_make_a_fact_node() {
        let facts = [
            fact("holding", "a:1", &["ann", "acme"]),
            fact("meeting", "a:2", &["ann", "bob", "cy"]),
            fact("person", "a:3", &["dan"]),
        ];
        let g = Graph::from_facts(&facts, &BTreeMap::new());
        assert_eq!(g.nodes.len(), 6);
        assert_eq!(g.edges.len(), 4);
        assert_eq!(g.nodes[4].kind, NodeKind::Fact, "after the attendees");
        let near = g.around("acme", 1).map(|g| g.nodes.len());
        assert_eq!(near, Some(2));
        let two = g.around("acme", 2).map(|g| g.nodes.len());
        assert_eq!(two, Some(5), "ann, acme, the meeting, bob, cy");
        assert!(g.around("nobody", 1).is_none());
    }
}
