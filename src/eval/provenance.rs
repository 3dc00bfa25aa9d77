//! Provenance: one derivation recorded per tuple when it is first derived (rule, bindings,
//! premise tuples), and the proof tree rebuilt on demand, iteratively.

use rustc_hash::FxHashMap;

use std::fmt::Write;

use super::Database;
use crate::facts::{FactSet, OriginId};
use crate::ir::{ClauseId, Program, RelId};
use crate::value::Value;

/// `Rec::clause` of a base fact.
pub(crate) const BASE: u32 = u32::MAX;

/// One tuple's derivation, as offsets into its relation's arenas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec {
    /// Clause id, or [`BASE`] (then `bind` is the origin id).
    pub(crate) clause: u32,
    pub(crate) bind: u32,
    pub(crate) nbind: u32,
    pub(crate) prem: u32,
    pub(crate) nprem: u32,
}

/// Derivations of one relation's tuples, parallel to them: the base facts loaded first
/// as their origins alone (4 bytes each), then one record per later tuple.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prov {
    base: Vec<OriginId>,
    recs: Vec<Rec>,
    pub(crate) binds: Vec<u32>,
    pub(crate) prems: Vec<(u32, u32)>,
}

impl Prov {
    pub(crate) fn reserve_base(&mut self, n: usize) {
        self.base.reserve(n);
    }

    /// The record of tuple `i`.
    pub(crate) fn get(&self, i: usize) -> Option<Rec> {
        match self.base.get(i) {
            Some(o) => Some(Rec {
                clause: BASE,
                bind: o.0,
                nbind: 0,
                prem: 0,
                nprem: 0,
            }),
            None => self.recs.get(i - self.base.len()).copied(),
        }
    }

    pub(crate) fn push_base(&mut self, origin: OriginId) {
        if self.recs.is_empty() {
            self.base.push(origin);
            return;
        }
        self.recs.push(Rec {
            clause: BASE,
            bind: origin.0,
            nbind: 0,
            prem: 0,
            nprem: 0,
        });
    }

    pub(crate) fn push(&mut self, clause: u32, binds: &[u32], prems: &[(u32, u32)]) {
        self.recs.push(Rec {
            clause,
            bind: self.binds.len() as u32,
            nbind: binds.len() as u32,
            prem: self.prems.len() as u32,
            nprem: prems.len() as u32,
        });
        self.binds.extend_from_slice(binds);
        self.prems.extend_from_slice(prems);
    }

    /// Replaces the derivation of tuple `i` (one recorded with [`Prov::push`]).
    pub(crate) fn replace(&mut self, i: usize, clause: u32, binds: &[u32], prems: &[(u32, u32)]) {
        let Some(at) = i.checked_sub(self.base.len()) else {
            return;
        };
        let Some(slot) = self.recs.get_mut(at) else {
            return;
        };
        *slot = Rec {
            clause,
            bind: self.binds.len() as u32,
            nbind: binds.len() as u32,
            prem: self.prems.len() as u32,
            nprem: prems.len() as u32,
        };
        self.binds.extend_from_slice(binds);
        self.prems.extend_from_slice(prems);
    }

    /// Copies record `i` of `other` to the end of `self`.
    pub(crate) fn copy_from(&mut self, other: &Prov, i: usize) {
        self.copy_mapped(other, i, |id| id);
    }

    /// [`Prov::copy_from`], each bound value id passed through `map` (a record derived
    /// with an interner of its own, see `fixpoint::Engine::run_split`).
    pub(crate) fn copy_mapped(&mut self, other: &Prov, i: usize, map: impl Fn(u32) -> u32) {
        let Some(r) = other.get(i) else { return };
        if r.clause == BASE {
            self.push_base(OriginId(r.bind));
            return;
        }
        let b = &other.binds[r.bind as usize..(r.bind + r.nbind) as usize];
        let p = &other.prems[r.prem as usize..(r.prem + r.nprem) as usize];
        let at = self.binds.len();
        self.push(r.clause, b, p);
        for id in &mut self.binds[at..] {
            *id = map(*id);
        }
    }

    /// Whether no tuple has a record.
    pub(crate) fn is_empty(&self) -> bool {
        self.base.is_empty() && self.recs.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.base.clear();
        self.recs.clear();
        self.binds.clear();
        self.prems.clear();
    }
}

/// A tuple of a relation, by its index (its position in derivation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TupleRef {
    pub rel: RelId,
    pub index: u32,
}

/// How a tuple first came to hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Derivation {
    /// A base fact, written at this origin.
    Base(OriginId),
    /// Derived by a clause. `bindings` has one entry per clause variable (`None` for
    /// variables local to an aggregate); `premises` are the positive atoms' tuples in
    /// body order, then the tuples aggregates ranged over (capped per aggregate).
    Rule {
        clause: ClauseId,
        bindings: Vec<Option<Value>>,
        premises: Vec<TupleRef>,
    },
    /// Provenance was not recorded (`EvalOptions::provenance` off).
    Unknown,
}

/// One node of a proof: a tuple, its values, its derivation and its premises' nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofNode {
    pub tuple: TupleRef,
    pub values: Vec<Value>,
    pub derivation: Derivation,
    /// Indexes into [`Proof::nodes`]; a tuple used twice is one shared node.
    pub children: Vec<usize>,
}

/// A proof down to base facts; `nodes[0]` is the root. Shared premises are shared nodes,
/// so the size is bounded by the number of distinct tuples involved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Proof {
    pub nodes: Vec<ProofNode>,
}

impl Proof {
    /// The base facts' origins the proof rests on, sorted and deduplicated.
    pub fn origins(&self) -> Vec<OriginId> {
        let mut out: Vec<OriginId> = self
            .nodes
            .iter()
            .filter_map(|n| match n.derivation {
                Derivation::Base(o) => Some(o),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Longest path from the root to a leaf, in edges.
    pub fn depth(&self) -> usize {
        // Iterative post-order with memo; the proof is acyclic (premises are older).
        let mut depth: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut stack = vec![0usize];
        while let Some(&i) = stack.last() {
            let Some(node) = self.nodes.get(i) else { break };
            let pending: Vec<usize> = node
                .children
                .iter()
                .copied()
                .filter(|&c| depth[c].is_none())
                .collect();
            if pending.is_empty() {
                stack.pop();
                depth[i] = Some(
                    node.children
                        .iter()
                        .filter_map(|&c| depth[c])
                        .map(|d| d + 1)
                        .max()
                        .unwrap_or(0),
                );
            } else {
                stack.extend(pending);
            }
        }
        depth.first().copied().flatten().unwrap_or(0)
    }
}

impl Proof {
    /// The proof as an indented tree, root first; a node shown before is marked
    /// `(see above)` instead of repeated. Base facts show `file:line` of their origin.
    pub fn render(&self, program: &Program, facts: &FactSet) -> String {
        let mut out = String::new();
        let mut shown = vec![false; self.nodes.len()];
        let mut stack = vec![(0usize, 0usize)];
        while let Some((i, depth)) = stack.pop() {
            let Some(n) = self.nodes.get(i) else { continue };
            let vals: Vec<String> = n.values.iter().map(|v| v.to_string()).collect();
            let name = program
                .relations
                .get(n.tuple.rel.0 as usize)
                .map_or("?", |r| r.name.as_str());
            let how = match &n.derivation {
                _ if shown[i] => "(see above)".to_string(),
                Derivation::Base(o) => match facts.get_origin(*o) {
                    Some(o) => format!("[{}:{}]", o.file, o.line),
                    None => "[base]".to_string(),
                },
                Derivation::Rule { clause, .. } => format!("<- clause {}", clause.0),
                Derivation::Unknown => "<- ?".to_string(),
            };
            let _ = writeln!(
                out,
                "{}{name}({}) {how}",
                "  ".repeat(depth),
                vals.join(", ")
            );
            if !shown[i] {
                shown[i] = true;
                stack.extend(n.children.iter().rev().map(|&c| (c, depth + 1)));
            }
        }
        out
    }
}

impl Database {
    /// The tree of derivations of a tuple down to base facts, built iteratively (no
    /// recursion, so a long chain cannot overflow the stack). `None` for a bad reference.
    pub fn proof(&self, root: TupleRef) -> Option<Proof> {
        let mut nodes: Vec<ProofNode> = Vec::new();
        let mut seen: FxHashMap<TupleRef, usize> = FxHashMap::default();
        seen.insert(root, 0);
        nodes.push(self.node(root)?);
        let mut next = 0;
        while next < nodes.len() {
            let prems = match &nodes[next].derivation {
                Derivation::Rule { premises, .. } => premises.clone(),
                _ => Vec::new(),
            };
            for p in prems {
                let id = match seen.get(&p) {
                    Some(&id) => id,
                    None => {
                        let id = nodes.len();
                        nodes.push(self.node(p)?);
                        seen.insert(p, id);
                        id
                    }
                };
                nodes[next].children.push(id);
            }
            next += 1;
        }
        Some(Proof { nodes })
    }

    fn node(&self, t: TupleRef) -> Option<ProofNode> {
        Some(ProofNode {
            tuple: t,
            values: self.tuple(t.rel, t.index)?,
            derivation: self.derivation(t.rel, t.index)?,
            children: Vec::new(),
        })
    }
}
