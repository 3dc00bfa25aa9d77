//! Entity ids: who is defined where, duplicates, display names, and `same_as` merging.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::diag::{Diagnostic, Place};
use crate::facts::{FactSet, OriginId};
use crate::ir::{KindId, Program, RelId, RelKind, Type};
use crate::value::Value;
use crate::values::{StrKind, ValueTable, hash_str};

use super::convert::{EntityMap, Loc};
use super::errors::CaseError;
use super::{Entity, Row, Staged};

/// The entities already in the fact set (from cases loaded earlier).
pub(crate) fn prior(program: &Program, facts: &FactSet) -> EntityMap {
    let mut map = EntityMap::default();
    for (i, rel) in program.relations.iter().enumerate() {
        let RelKind::Entity(kind) = rel.kind else {
            continue;
        };
        for (tuple, origin) in facts.rows(i) {
            if let Some(Value::Entity(id)) = tuple.first() {
                if let Some(value) = facts.values().lookup_str(StrKind::Entity, id) {
                    // A second definition was an error when it was loaded: keep the first.
                    let _ = map.add(id, kind, Loc::Earlier { origin }, || value);
                }
            }
        }
    }
    map.finish();
    map
}

/// Adds newly defined ids in order (`hashes`: their [`hash_str`]s, if computed already); a second definition is a `duplicate_id` pointing at
/// it, with a note at the first. Returns each id's value id (`u32::MAX` for a
/// duplicate).
pub(crate) fn register(
    map: &mut EntityMap,
    table: &mut ValueTable,
    ids: Vec<(Arc<str>, KindId, Loc)>,
    hashes: Option<Vec<u64>>,
    place: &dyn Fn(Loc) -> Place,
    diags: &mut Vec<Diagnostic>,
) -> Vec<u32> {
    let mut values = Vec::with_capacity(ids.len());
    // The table is asked about every id at once and the new ones indexed at once, each
    // in the order of its buckets: a large register is one walk of the table, not a
    // cache miss per id.
    let strs: Vec<&str> = ids.iter().map(|(id, _, _)| &**id).collect();
    let hashes: Vec<u64> = match hashes {
        Some(h) if h.len() == ids.len() => h,
        _ => strs.iter().map(|s| hash_str(StrKind::Entity, s)).collect(),
    };
    let known = table.lookup_strs(StrKind::Entity, &strs, &hashes);
    drop(strs);
    let mut batch = table.batch();
    for (i, (id, kind, loc)) in ids.into_iter().enumerate() {
        let added = map.add(&id, kind, loc, || {
            known[i].unwrap_or_else(|| batch.push_new(hashes[i], Value::Entity(id.clone())))
        });
        match added {
            Ok(value) => values.push(value),
            Err(first) => values.push(duplicate(&id, loc, map.loc(first), place, diags)),
        }
    }
    map.finish();
    values
}

/// Adds the ids of a piece of an entity CSV file ([`super::csv_facts::IdPiece`]) as
/// [`register`] does. When all are one prefix and a number of one kind and the prefix's
/// arrays can hold them, each id is a few array reads and writes, no hash and no parse;
/// and when they get consecutive value ids, where they were defined is kept for the
/// piece, not per id.
pub(crate) fn register_piece(
    map: &mut EntityMap,
    table: &mut ValueTable,
    piece: super::csv_facts::IdPiece,
    place: &dyn Fn(Loc) -> Place,
    diags: &mut Vec<Diagnostic>,
) -> Vec<u32> {
    let loc = |k: usize| piece.loc(k);
    let super::csv_facts::IdPiece {
        kind,
        hashes,
        numbers,
        ..
    } = &piece;
    let kind = *kind;
    if let Some((prefix, ns)) = numbers {
        let max = ns.iter().copied().max().unwrap_or(0);
        if let Some(at) = map.dense_room(prefix, kind, ns.len(), max)
            && let Some(tat) = table.numbered_room(prefix, ns.len(), max)
        {
            // The usual piece: numbers in order, none defined before.
            let fresh = ns.windows(2).all(|w| w[0] < w[1])
                && ns.iter().all(|&n| {
                    map.dense_get(at, n).is_none() && table.numbered_get(tat, n).is_none()
                });
            if fresh && !ns.is_empty() {
                let first = table.push_numbered_many(tat, ns);
                map.add_numbered_many(at, ns, first);
                map.defined_span(first, ns.len() as u32, loc(0));
                map.finish();
                return (first..first + ns.len() as u32).collect();
            }
            let mut values = Vec::with_capacity(ns.len());
            for (k, &n) in ns.iter().enumerate() {
                if let Some(first) = map.dense_get(at, n) {
                    // A first definition in this piece is not placed yet.
                    let first = (map.loc(first))
                        .or_else(|| values.iter().position(|&v| v == first).map(loc));
                    values.push(duplicate(&piece.id(k), loc(k), first, place, diags));
                    continue;
                }
                let value = match table.numbered_get(tat, n) {
                    Some(known) => known,
                    None => table.push_numbered(tat, n),
                };
                map.add_numbered(at, n, value);
                values.push(value);
            }
            let first = values.first().copied().unwrap_or(0);
            let consecutive = (values.iter())
                .zip(first..)
                .all(|(&v, want)| v == want && v != u32::MAX);
            if consecutive && !values.is_empty() {
                map.defined_span(first, values.len() as u32, loc(0));
            } else {
                for (k, &v) in values.iter().enumerate().filter(|(_, v)| **v != u32::MAX) {
                    map.defined_at(v, loc(k));
                }
            }
            map.finish();
            return values;
        }
    }
    let hashes = (!hashes.is_empty()).then(|| hashes.clone());
    let ids = (0..piece.len())
        .map(|k| (piece.id(k), kind, loc(k)))
        .collect();
    register(map, table, ids, hashes, place, diags)
}

/// A second definition of `id` (at `loc`; the first at `first`): the `duplicate_id`
/// error, pointing at both. `u32::MAX`, its value id.
fn duplicate(
    id: &str,
    loc: Loc,
    first: Option<Loc>,
    place: &dyn Fn(Loc) -> Place,
    diags: &mut Vec<Diagnostic>,
) -> u32 {
    let e = CaseError::DuplicateId { id: id.to_string() };
    let mut d = e.at(place(loc));
    if let Some(first) = first {
        d.notes.push((place(first), "first defined here".into()));
    }
    diags.push(d);
    u32::MAX
}

/// The display record of an entity fact (before list expansion).
pub(crate) fn display(
    program: &Program,
    rel: RelId,
    fields: &Row,
    origin: OriginId,
) -> Option<(Arc<str>, Entity)> {
    let rel = program.rel(rel);
    let RelKind::Entity(kind) = rel.kind else {
        return None;
    };
    let Some(Value::Entity(id)) = fields.one(0) else {
        return None;
    };
    let texts = |name: &str| rel.field(name).map(|i| fields.texts(i)).unwrap_or_default();
    let name = texts("name")
        .into_iter()
        .next()
        .unwrap_or_else(|| id.to_string());
    let e = Entity {
        kind: program.kind(kind).name.clone(),
        name,
        aliases: texts("aliases"),
        origin,
    };
    Some((id.clone(), e))
}

/// Union-find over ids; the canonical id of a set is its smallest id (byte order).
#[derive(Default)]
struct Sets {
    parent: BTreeMap<Arc<str>, Arc<str>>,
}

impl Sets {
    fn find(&mut self, id: &Arc<str>) -> Arc<str> {
        let mut root = id.clone();
        while let Some(p) = self.parent.get(&root).filter(|p| **p != root) {
            root = p.clone();
        }
        let mut cur = id.clone();
        while cur != root {
            let next = self
                .parent
                .get(&cur)
                .cloned()
                .unwrap_or_else(|| root.clone());
            self.parent.insert(cur, root.clone());
            cur = next;
        }
        root
    }
    fn union(&mut self, a: &Arc<str>, b: &Arc<str>) {
        for x in [a, b] {
            self.parent.entry(x.clone()).or_insert_with(|| x.clone());
        }
        let (ra, rb) = (self.find(a), self.find(b));
        let (small, big) = if ra <= rb { (ra, rb) } else { (rb, ra) };
        self.parent.insert(big, small);
    }
}

/// The `same_as` pairs among staged facts, each with the index of its fact.
pub(crate) fn same_as_pairs(
    program: &Program,
    staged: &[&Staged],
) -> Vec<(Arc<str>, Arc<str>, usize)> {
    let Some(rel) = program.rel_by_name("same_as") else {
        return Vec::new();
    };
    let two_entities = program
        .rel(rel)
        .fields
        .iter()
        .take(2)
        .filter(|f| matches!(f.ty, Type::Entity(_)))
        .count()
        == 2;
    if !two_entities {
        return Vec::new();
    }
    staged
        .iter()
        .enumerate()
        .filter(|(_, st)| st.rel == rel)
        .filter_map(|(i, st)| match (st.fields.one(0), st.fields.one(1)) {
            (Some(Value::Entity(a)), Some(Value::Entity(b))) => Some((a.clone(), b.clone(), i)),
            _ => None,
        })
        .collect()
}

/// Every merged id mapped to its canonical id.
pub(crate) fn canonical_map(pairs: &[(Arc<str>, Arc<str>, usize)]) -> BTreeMap<Arc<str>, Arc<str>> {
    let mut sets = Sets::default();
    for (a, b, _) in pairs {
        sets.union(a, b);
    }
    let ids: Vec<Arc<str>> = sets.parent.keys().cloned().collect();
    ids.into_iter()
        .filter_map(|id| {
            let root = sets.find(&id);
            (root != id).then_some((id, root))
        })
        .collect()
}

/// Rewrites every entity value in every fact (except `same_as`'s own) to its canonical id.
pub(crate) fn rewrite(program: &Program, facts: &mut FactSet, map: &BTreeMap<Arc<str>, Arc<str>>) {
    if map.is_empty() {
        return;
    }
    let skip = program.rel_by_name("same_as").map(|r| r.0 as usize);
    let table = facts.values_mut();
    let ids: FxHashMap<u32, u32> = map
        .iter()
        .filter_map(|(from, to)| {
            let from = table.lookup_str(StrKind::Entity, from)?;
            Some((from, table.intern_str(StrKind::Entity, to)))
        })
        .collect();
    for (i, tuples) in facts.tuples.iter_mut().enumerate() {
        if Some(i) == skip {
            continue;
        }
        for id in tuples.ids_mut() {
            if let Some(&c) = ids.get(id) {
                *id = c;
            }
        }
    }
}

/// Folds merged entities into their canonical one: its name stays, the others' names
/// and aliases become aliases.
pub(crate) fn merge_display(
    entities: &mut BTreeMap<Arc<str>, Entity>,
    map: &BTreeMap<Arc<str>, Arc<str>>,
) {
    for (id, canon) in map {
        let Some(gone) = entities.remove(id) else {
            continue;
        };
        if let Some(c) = entities.get_mut(canon) {
            for a in std::iter::once(gone.name).chain(gone.aliases) {
                if a != c.name && !c.aliases.contains(&a) {
                    c.aliases.push(a);
                }
            }
        }
    }
}
