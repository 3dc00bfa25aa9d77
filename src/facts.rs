//! Base facts as the evaluator receives them: tuples per relation, each with its origin.
//!
//! Loaders (case folders, `given` blocks) add facts here; list fields are expanded into
//! one tuple per member and symmetric relations get both orders, all pointing at the
//! one origin the user wrote, so evidence always names the real file and line.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::ir::{Program, RelId};
use crate::value::{Status, Value};

/// Index of an [`Origin`] in a [`FactSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OriginId(pub u32);

/// Where a fact was written and how well it is established.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Path as shown to the user (a case file, or a rule file for `given` facts).
    pub file: Arc<str>,
    pub line: u32,
    /// Source ids the fact cites.
    pub sources: Vec<Arc<str>>,
    pub status: Status,
    pub note: Option<Arc<str>>,
}

/// A field's value as written: one value, or a list (each member its own tuple).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    One(Value),
    Many(Vec<Value>),
}

/// What many origins share: the file and the meta columns (sources, status, note).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OriginMeta {
    file: Arc<str>,
    sources: Vec<Arc<str>>,
    status: Status,
    note: Option<Arc<str>>,
}

/// All base facts, grouped by relation.
///
/// Origins are stored compactly: each is a line and an index into the distinct
/// (file, sources, status, note) combinations, so a fact's origin costs 8 bytes.
#[derive(Debug, Clone, Default)]
pub struct FactSet {
    /// Per relation id: tuples (one value per field) and their origin.
    pub tuples: Vec<Vec<(Vec<Value>, OriginId)>>,
    /// Per origin: (index into `metas`, line).
    origins: Vec<(u32, u32)>,
    metas: Vec<OriginMeta>,
    meta_ids: FxHashMap<OriginMeta, u32>,
}

impl FactSet {
    pub fn new(program: &Program) -> FactSet {
        FactSet {
            tuples: vec![Vec::new(); program.relations.len()],
            ..FactSet::default()
        }
    }

    pub fn add_origin(&mut self, origin: Origin) -> OriginId {
        let Origin {
            file,
            line,
            sources,
            status,
            note,
        } = origin;
        let meta = self.meta(OriginMeta {
            file,
            sources,
            status,
            note,
        });
        self.origins.push((meta, line));
        OriginId(self.origins.len() as u32 - 1)
    }

    /// The index of a meta combination, added if new.
    fn meta(&mut self, m: OriginMeta) -> u32 {
        if let Some(last) = self.metas.last()
            && *last == m
        {
            return self.metas.len() as u32 - 1;
        }
        if let Some(&i) = self.meta_ids.get(&m) {
            return i;
        }
        let i = self.metas.len() as u32;
        self.metas.push(m.clone());
        self.meta_ids.insert(m, i);
        i
    }

    /// The origin of `id`. Panics if there is no such origin.
    pub fn origin(&self, id: OriginId) -> Origin {
        self.get_origin(id).expect("no such origin")
    }

    /// The origin of `id`, if there is one.
    pub fn get_origin(&self, id: OriginId) -> Option<Origin> {
        let &(meta, line) = self.origins.get(id.0 as usize)?;
        let m = &self.metas[meta as usize];
        Some(Origin {
            file: m.file.clone(),
            line,
            sources: m.sources.clone(),
            status: m.status,
            note: m.note.clone(),
        })
    }

    /// The file and line of origin `id` (without copying the rest). Panics if there is
    /// no such origin.
    pub fn origin_place(&self, id: OriginId) -> (&Arc<str>, u32) {
        let (meta, line) = self.origins[id.0 as usize];
        (&self.metas[meta as usize].file, line)
    }

    /// How many origins there are.
    pub fn origin_count(&self) -> usize {
        self.origins.len()
    }

    /// Adds one written fact: expands list fields (the cross product, if several) and,
    /// for a symmetric relation, adds the swapped tuple too.
    pub fn add(
        &mut self,
        program: &Program,
        rel: RelId,
        fields: Vec<FieldValue>,
        origin: OriginId,
    ) {
        let r = program.rel(rel);
        let mut rows: Vec<Vec<Value>> = vec![Vec::with_capacity(fields.len())];
        for f in fields {
            match f {
                FieldValue::One(v) => rows.iter_mut().for_each(|row| row.push(v.clone())),
                FieldValue::Many(vs) => {
                    rows = rows
                        .into_iter()
                        .flat_map(|row| {
                            vs.iter().map(move |v| {
                                let mut r = row.clone();
                                r.push(v.clone());
                                r
                            })
                        })
                        .collect();
                }
            }
        }
        let slot = &mut self.tuples[rel.0 as usize];
        for row in rows {
            if r.symmetric && row.len() >= 2 && row[0] != row[1] {
                let mut swapped = row.clone();
                swapped.swap(0, 1);
                slot.push((swapped, origin));
            }
            slot.push((row, origin));
        }
    }

    /// Adds a tuple exactly as given (no expansion).
    pub fn add_tuple(&mut self, rel: RelId, values: Vec<Value>, origin: OriginId) {
        self.tuples[rel.0 as usize].push((values, origin));
    }

    pub fn len(&self) -> usize {
        self.tuples.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
