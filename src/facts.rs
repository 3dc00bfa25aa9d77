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
    pub tuples: Vec<Tuples>,
    /// Per origin: (index into `metas`, line).
    origins: Vec<(u32, u32)>,
    metas: Vec<OriginMeta>,
    meta_ids: FxHashMap<OriginMeta, u32>,
}

impl FactSet {
    pub fn new(program: &Program) -> FactSet {
        FactSet {
            tuples: vec![Tuples::default(); program.relations.len()],
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

    /// The id of what many origins share (file, sources, status, note), for
    /// [`FactSet::add_origin_at`].
    pub fn add_meta(
        &mut self,
        file: Arc<str>,
        sources: Vec<Arc<str>>,
        status: Status,
        note: Option<Arc<str>>,
    ) -> u32 {
        self.meta(OriginMeta {
            file,
            sources,
            status,
            note,
        })
    }

    /// Adds the origin at `line` with the file and meta of `meta` (from
    /// [`FactSet::add_meta`]).
    pub fn add_origin_at(&mut self, meta: u32, line: u32) -> OriginId {
        self.origins.push((meta, line));
        OriginId(self.origins.len() as u32 - 1)
    }

    /// Room for `n` more origins.
    pub fn reserve_origins(&mut self, n: usize) {
        self.origins.reserve(n);
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
                slot.push(&swapped, origin);
            }
            slot.push(&row, origin);
        }
    }

    /// Adds a tuple exactly as given (no expansion).
    pub fn add_tuple(&mut self, rel: RelId, values: Vec<Value>, origin: OriginId) {
        self.tuples[rel.0 as usize].push_owned(values, origin);
    }

    pub fn len(&self) -> usize {
        self.tuples.iter().map(Tuples::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One relation's tuples, stored flat: the values of tuple `i` are
/// `values[i * width..(i + 1) * width]`, so a tuple costs no allocation of its own.
/// Every tuple of a relation has the same number of values (the first one's).
#[derive(Debug, Clone, Default)]
pub struct Tuples {
    width: usize,
    values: Vec<Value>,
    origins: Vec<OriginId>,
}

impl Tuples {
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// Adds a tuple. Panics if its length differs from the earlier tuples'.
    pub fn push(&mut self, values: &[Value], origin: OriginId) {
        if self.origins.is_empty() {
            self.width = values.len();
        }
        assert_eq!(
            values.len(),
            self.width,
            "every tuple of a relation has the same length"
        );
        self.values.extend_from_slice(values);
        self.origins.push(origin);
    }

    /// Adds a tuple, moving its values. Panics as [`Tuples::push`].
    pub fn push_owned(&mut self, values: Vec<Value>, origin: OriginId) {
        if self.origins.is_empty() {
            self.width = values.len();
        }
        assert_eq!(
            values.len(),
            self.width,
            "every tuple of a relation has the same length"
        );
        self.values.extend(values);
        self.origins.push(origin);
    }

    /// Tuple `i` and its origin.
    pub fn get(&self, i: usize) -> Option<(&[Value], OriginId)> {
        let origin = *self.origins.get(i)?;
        Some((&self.values[i * self.width..(i + 1) * self.width], origin))
    }

    pub fn iter(&self) -> TuplesIter<'_> {
        TuplesIter { tuples: self, i: 0 }
    }

    /// Adds tuples of `width` values each from `values` (moved), tuple `i` with
    /// `origins[i]`; with `swapped`, each tuple whose first two values differ is
    /// preceded by a copy with those two swapped (as [`FactSet::add`] does for a
    /// symmetric relation). Panics as [`Tuples::push`].
    pub fn extend_flat(
        &mut self,
        width: usize,
        values: Vec<Value>,
        origins: &[OriginId],
        swapped: bool,
    ) {
        if origins.is_empty() {
            return;
        }
        if self.origins.is_empty() {
            self.width = width;
        }
        assert_eq!(
            width, self.width,
            "every tuple of a relation has the same length"
        );
        if !swapped || width < 2 {
            self.values.extend(values);
            self.origins.extend_from_slice(origins);
            return;
        }
        let mut values = values.into_iter();
        for &origin in origins {
            let start = self.values.len();
            self.values.extend(values.by_ref().take(width));
            if self.values[start] != self.values[start + 1] {
                // The swapped copy goes first: copy the tuple behind itself, then swap
                // the first two values of the first copy.
                self.values.extend_from_within(start..start + width);
                self.values.swap(start, start + 1);
                self.origins.push(origin);
            }
            self.origins.push(origin);
        }
    }

    /// Every value of every tuple, in order (to rewrite values in place).
    pub fn values_mut(&mut self) -> &mut [Value] {
        &mut self.values
    }

    /// Room for `n` more tuples of `width` values.
    pub fn reserve(&mut self, n: usize, width: usize) {
        self.values.reserve(n * width);
        self.origins.reserve(n);
    }
}

/// The tuples of a relation with their origins, in insertion order.
pub struct TuplesIter<'a> {
    tuples: &'a Tuples,
    i: usize,
}

impl<'a> Iterator for TuplesIter<'a> {
    type Item = (&'a [Value], &'a OriginId);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tuples;
        let origin = t.origins.get(self.i)?;
        let values = &t.values[self.i * t.width..(self.i + 1) * t.width];
        self.i += 1;
        Some((values, origin))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.tuples.len() - self.i;
        (n, Some(n))
    }
}

impl ExactSizeIterator for TuplesIter<'_> {}

impl<'a> IntoIterator for &'a Tuples {
    type Item = (&'a [Value], &'a OriginId);
    type IntoIter = TuplesIter<'a>;

    fn into_iter(self) -> TuplesIter<'a> {
        self.iter()
    }
}
