//! Base facts as the evaluator receives them: tuples per relation, each with its origin.
//!
//! Loaders (case folders, `given` blocks) add facts here; list fields are expanded into
//! one tuple per member and symmetric relations get both orders, all pointing at the
//! one origin the user wrote, so evidence always names the real file and line.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::ir::{Program, RelId};
use crate::value::{Status, Value};
use crate::values::ValueTable;

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
/// Values are interned in one [`ValueTable`] shared with the evaluator; a tuple is its
/// values' ids. Origins are stored compactly: each is a line and an index into the
/// distinct (file, sources, status, note) combinations, kept in runs ([`Origins`]): the
/// rows of a CSV file cost nothing each, other origins 8 bytes.
#[derive(Debug, Clone, Default)]
pub struct FactSet {
    /// Per relation id: tuples (one value id per field) and their origin.
    pub tuples: Vec<Tuples>,
    values: Arc<ValueTable>,
    /// Per origin: (index into `metas`, line).
    origins: Origins,
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

    /// The values the tuples' ids name.
    pub fn values(&self) -> &Arc<ValueTable> {
        &self.values
    }

    /// The value table, to intern into (copied first if an evaluation still shares it).
    pub fn values_mut(&mut self) -> &mut ValueTable {
        Arc::make_mut(&mut self.values)
    }

    /// The value of id `id`. Panics if there is no such value.
    pub fn value(&self, id: u32) -> &Value {
        self.values.get(id).expect("no such value")
    }

    /// The tuples of relation `rel` as values, with their origins, in insertion order.
    pub fn rows(&self, rel: usize) -> impl Iterator<Item = (Vec<Value>, OriginId)> + '_ {
        self.tuples
            .get(rel)
            .into_iter()
            .flat_map(|t| t.iter())
            .map(|(ids, o)| (ids.iter().map(|&id| self.value(id).clone()).collect(), o))
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
        self.origins.push(meta, line)
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

    /// Adds the origins of `n` rows on consecutive lines from `line`, with the file and
    /// meta of `meta` (from [`FactSet::add_meta`]): the first one's id (the others
    /// follow it).
    pub fn add_origin_rows(&mut self, meta: u32, line: u32, n: u32) -> OriginId {
        self.origins.push_rows(meta, line, n)
    }

    /// Adds the origin at `line` with the file and meta of `meta` (from
    /// [`FactSet::add_meta`]).
    pub fn add_origin_at(&mut self, meta: u32, line: u32) -> OriginId {
        self.origins.push(meta, line)
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
        let (meta, line) = self.origins.get(id.0)?;
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
        let (meta, line) = self.origins.get(id.0).expect("no such origin");
        (&self.metas[meta as usize].file, line)
    }

    /// How many origins there are.
    pub fn origin_count(&self) -> usize {
        self.origins.len as usize
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
        for row in rows {
            let ids: Vec<u32> = row
                .into_iter()
                .map(|v| self.values_mut().intern_owned(v))
                .collect();
            let slot = &mut self.tuples[rel.0 as usize];
            if r.symmetric && ids.len() >= 2 && ids[0] != ids[1] {
                let mut swapped = ids.clone();
                swapped.swap(0, 1);
                slot.push(&swapped, origin);
            }
            slot.push(&ids, origin);
        }
    }

    /// Adds a tuple exactly as given (no expansion).
    pub fn add_tuple(&mut self, rel: RelId, values: Vec<Value>, origin: OriginId) {
        let ids: Vec<u32> = values
            .into_iter()
            .map(|v| self.values_mut().intern_owned(v))
            .collect();
        self.tuples[rel.0 as usize].push(&ids, origin);
    }

    pub fn len(&self) -> usize {
        self.tuples.iter().map(Tuples::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The (meta, line) of every origin, in runs: origin `first + k` of a [`Run::Rows`] has
/// meta `meta` and line `line + k`, so the rows of a file without meta columns or line
/// breaks in cells are one run of a few bytes; other origins are kept each.
#[derive(Debug, Clone, Default)]
struct Origins {
    runs: Vec<Run>,
    len: u32,
}

#[derive(Debug, Clone)]
enum Run {
    Rows {
        first: u32,
        len: u32,
        meta: u32,
        line: u32,
    },
    /// (meta, line) of origins `first..`; the last `tail` of them are one meta on
    /// consecutive lines.
    Each {
        first: u32,
        each: Vec<(u32, u32)>,
        tail: u32,
    },
}

/// Consecutive rows that become a run of their own.
const ROWS: u32 = 32;

impl Run {
    fn first(&self) -> u32 {
        match self {
            Run::Rows { first, .. } | Run::Each { first, .. } => *first,
        }
    }
}

impl Origins {
    fn push(&mut self, meta: u32, line: u32) -> OriginId {
        let id = self.len;
        self.len += 1;
        match self.runs.last_mut() {
            Some(Run::Rows {
                len,
                meta: m,
                line: l,
                ..
            }) if *m == meta && l.checked_add(*len) == Some(line) => *len += 1,
            Some(Run::Rows {
                first,
                len,
                meta: m,
                line: l,
            }) if *len < ROWS => {
                // (The new origin does not follow the run's rows: the arm above.)
                let mut each: Vec<(u32, u32)> = (0..*len).map(|k| (*m, *l + k)).collect();
                each.push((meta, line));
                let first = *first;
                *self.runs.last_mut().expect("a last run") = Run::Each {
                    first,
                    each,
                    tail: 1,
                };
            }
            Some(Run::Each { each, tail, .. }) => {
                let follows = each
                    .last()
                    .is_some_and(|&(m, l)| m == meta && l.checked_add(1) == Some(line));
                *tail = if follows { *tail + 1 } else { 1 };
                each.push((meta, line));
                if *tail == ROWS {
                    // A file's rows after other origins: a run of their own.
                    let at = each.len() - ROWS as usize;
                    let (meta, line) = each[at];
                    each.truncate(at);
                    let empty = each.is_empty();
                    let run = Run::Rows {
                        first: id + 1 - ROWS,
                        len: ROWS,
                        meta,
                        line,
                    };
                    if empty {
                        *self.runs.last_mut().expect("a last run") = run;
                    } else {
                        self.runs.push(run);
                    }
                }
            }
            _ => self.runs.push(Run::Rows {
                first: id,
                len: 1,
                meta,
                line,
            }),
        }
        OriginId(id)
    }

    /// `n` rows of one meta on consecutive lines from `line` (as `push` of each).
    fn push_rows(&mut self, meta: u32, line: u32, n: u32) -> OriginId {
        let id = self.len;
        if n < ROWS {
            for k in 0..n {
                self.push(meta, line + k);
            }
            return OriginId(id);
        }
        match self.runs.last_mut() {
            Some(Run::Rows {
                len,
                meta: m,
                line: l,
                ..
            }) if *m == meta && l.checked_add(*len) == Some(line) => *len += n,
            _ => self.runs.push(Run::Rows {
                first: id,
                len: n,
                meta,
                line,
            }),
        }
        self.len += n;
        OriginId(id)
    }

    fn get(&self, id: u32) -> Option<(u32, u32)> {
        if id >= self.len {
            return None;
        }
        let r = self
            .runs
            .partition_point(|r| r.first() <= id)
            .checked_sub(1)?;
        match &self.runs[r] {
            Run::Rows {
                first, meta, line, ..
            } => Some((*meta, line + (id - first))),
            Run::Each { first, each, .. } => each.get((id - first) as usize).copied(),
        }
    }
}

/// One relation's tuples, stored flat: the value ids of tuple `i` are
/// `ids[i * width..(i + 1) * width]`, so a tuple costs no allocation of its own.
/// Every tuple of a relation has the same number of values (the first one's).
#[derive(Debug, Clone, Default)]
pub struct Tuples {
    width: usize,
    /// Shared with the evaluator, which reads base tuples where they are (copied only
    /// if either side then changes them).
    ids: std::sync::Arc<Vec<u32>>,
    origins: TupleOrigins,
}

/// The origin of each tuple of a relation: kept each, or for the rows of CSV files added
/// whole, computed: tuple `i` has origin `first + i / per` (`per` is 2 in a symmetric
/// relation whose every row gave two tuples), no bytes per tuple.
#[derive(Debug, Clone)]
enum TupleOrigins {
    Each(Vec<OriginId>),
    Rows { first: u32, len: u32, per: u32 },
}

impl Default for TupleOrigins {
    fn default() -> TupleOrigins {
        TupleOrigins::Each(Vec::new())
    }
}

impl TupleOrigins {
    fn len(&self) -> usize {
        match self {
            TupleOrigins::Each(v) => v.len(),
            TupleOrigins::Rows { len, .. } => *len as usize,
        }
    }

    fn get(&self, i: usize) -> Option<OriginId> {
        match self {
            TupleOrigins::Each(v) => v.get(i).copied(),
            TupleOrigins::Rows { first, len, per } => {
                (i < *len as usize).then(|| OriginId(first + i as u32 / per))
            }
        }
    }

    /// Every origin kept each, to add to them.
    fn each(&mut self) -> &mut Vec<OriginId> {
        if let TupleOrigins::Rows { first, len, per } = *self {
            *self = TupleOrigins::Each((0..len).map(|i| OriginId(first + i / per)).collect());
        }
        match self {
            TupleOrigins::Each(v) => v,
            TupleOrigins::Rows { .. } => unreachable!("made each above"),
        }
    }

    /// Adds `n` tuples whose origins are `first + i / per`.
    fn extend_rows(&mut self, first: u32, n: u32, per: u32) {
        match self {
            TupleOrigins::Each(v) if v.is_empty() => {
                *self = TupleOrigins::Rows { first, len: n, per };
            }
            TupleOrigins::Rows {
                first: f,
                len,
                per: p,
            } if *p == per && *len % per == 0 && *f + *len / per == first => *len += n,
            _ => self
                .each()
                .extend((0..n).map(|i| OriginId(first + i / per))),
        }
    }
}

impl Tuples {
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.origins.len() == 0
    }

    /// Values per tuple.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Takes tuples of `width` values: the width of an empty relation, else the one its
    /// tuples have. Panics if they have another.
    fn fit(&mut self, width: usize) {
        if self.is_empty() {
            self.width = width;
        }
        assert_eq!(
            width, self.width,
            "every tuple of a relation has the same length"
        );
    }

    /// Adds a tuple of value ids. Panics if its length differs from the earlier tuples'.
    pub fn push(&mut self, ids: &[u32], origin: OriginId) {
        self.fit(ids.len());
        std::sync::Arc::make_mut(&mut self.ids).extend_from_slice(ids);
        self.origins.each().push(origin);
    }

    /// Tuple `i` (its value ids) and its origin.
    pub fn get(&self, i: usize) -> Option<(&[u32], OriginId)> {
        let origin = self.origins.get(i)?;
        Some((&self.ids[i * self.width..(i + 1) * self.width], origin))
    }

    pub fn iter(&self) -> TuplesIter<'_> {
        TuplesIter { tuples: self, i: 0 }
    }

    /// Adds the tuples of several pieces at once, in order: `ids` are the pieces' tuples
    /// (moved into an empty relation, else copied), and per piece its tuples' origins,
    /// rows (`Ok((first, tuples, per))`: tuple `i`'s is `first + i / per`) or one per
    /// tuple (`Err`). Panics as [`Tuples::push`].
    pub fn extend_pieces(
        &mut self,
        width: usize,
        ids: Vec<u32>,
        pieces: Vec<Result<(OriginId, u32, u32), Vec<OriginId>>>,
    ) {
        let n: usize = (pieces.iter())
            .map(|p| p.as_ref().map_or_else(Vec::len, |&(_, n, _)| n as usize))
            .sum();
        if n == 0 {
            return;
        }
        self.fit(width);
        assert_eq!(ids.len(), width * n, "whole tuples");
        if self.is_empty() && self.ids.is_empty() {
            self.ids = std::sync::Arc::new(ids);
        } else {
            std::sync::Arc::make_mut(&mut self.ids).extend_from_slice(&ids);
        }
        for piece in pieces {
            match piece {
                Ok((first, n, per)) => self.origins.extend_rows(first.0, n, per.max(1)),
                Err(each) => self.origins.each().extend(each),
            }
        }
    }

    /// Adds the tuples of `ids` (`width` ids each; moved into an empty relation), tuple
    /// `i` with origin `first + i / per`: the rows of a file, one tuple each (`per` 1),
    /// or two each in a symmetric relation (`per` 2). Panics as [`Tuples::push`].
    pub fn extend_rows(&mut self, width: usize, ids: Vec<u32>, first: OriginId, per: u32) {
        let n = ids.len() / width.max(1);
        self.extend_pieces(width, ids, vec![Ok((first, n as u32, per))]);
    }

    /// Every value id of every tuple, in order.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Every tuple's origin, in order.
    pub fn origins(&self) -> impl Iterator<Item = OriginId> + '_ {
        (0..self.len()).filter_map(|i| self.origins.get(i))
    }

    /// Every value id of every tuple, in order (to rewrite ids in place).
    pub fn ids_mut(&mut self) -> &mut [u32] {
        std::sync::Arc::make_mut(&mut self.ids).as_mut_slice()
    }

    /// Every value id of every tuple, shared (see [`Tuples`]).
    pub(crate) fn shared_ids(&self) -> std::sync::Arc<Vec<u32>> {
        self.ids.clone()
    }

    /// Room for `n` more tuples of `width` values.
    pub fn reserve(&mut self, n: usize, width: usize) {
        std::sync::Arc::make_mut(&mut self.ids).reserve(n * width);
        if let TupleOrigins::Each(v) = &mut self.origins {
            v.reserve(n);
        }
    }
}

/// The tuples of a relation (value ids) with their origins, in insertion order.
pub struct TuplesIter<'a> {
    tuples: &'a Tuples,
    i: usize,
}

impl<'a> Iterator for TuplesIter<'a> {
    type Item = (&'a [u32], OriginId);

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.tuples;
        let origin = t.origins.get(self.i)?;
        let ids = &t.ids[self.i * t.width..(self.i + 1) * t.width];
        self.i += 1;
        Some((ids, origin))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.tuples.len() - self.i;
        (n, Some(n))
    }
}

impl ExactSizeIterator for TuplesIter<'_> {}

impl<'a> IntoIterator for &'a Tuples {
    type Item = (&'a [u32], OriginId);
    type IntoIter = TuplesIter<'a>;

    fn into_iter(self) -> TuplesIter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_in_runs_give_back_every_meta_and_line() {
        // Files of consecutive rows (some longer than a run, some shorter), rows with a
        // line break in a cell, origins of their own (TOML facts), meta changing per row,
        // and lines at the top of the range.
        let mut want: Vec<(u32, u32)> = Vec::new();
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        for _ in 0..400 {
            let meta = next(5) as u32;
            let mut line = next(1000) as u32 + 2;
            match next(4) {
                0 => {
                    for _ in 0..next(100) {
                        want.push((meta, line));
                        line += 1 + u32::from(next(50) == 0);
                    }
                }
                1 => want.push((meta, line)),
                2 => {
                    for _ in 0..next(40) {
                        want.push((next(3) as u32, line));
                        line += 1;
                    }
                }
                _ => {
                    want.push((meta, u32::MAX - 1));
                    want.push((meta, u32::MAX));
                    want.push((meta, 0));
                }
            }
        }
        let mut o = Origins::default();
        for (i, &(meta, line)) in want.iter().enumerate() {
            assert_eq!(o.push(meta, line), OriginId(i as u32));
        }
        for (i, &w) in want.iter().enumerate() {
            assert_eq!(o.get(i as u32), Some(w), "origin {i}");
        }
        assert_eq!(o.get(want.len() as u32), None);
        assert!(o.runs.len() < want.len() / 4, "{} runs", o.runs.len());
        // Rows added by the run give the ids and places of rows added one by one.
        let mut runs = Origins::default();
        let mut each = Origins::default();
        for (meta, line, n) in [
            (1, 10, 5),
            (1, 15, 40),
            (1, 55, 100),
            (2, 3, 40),
            (2, 50, 2),
        ] {
            let id = runs.push_rows(meta, line, n);
            assert_eq!(id, OriginId(each.len));
            for k in 0..n {
                each.push(meta, line + k);
            }
        }
        assert_eq!(runs.len, each.len);
        for i in 0..=each.len {
            assert_eq!(runs.get(i), each.get(i), "origin {i}");
        }
        assert!(runs.runs.len() <= 3, "{:?}", runs.runs);
        let rows = (o.runs.iter())
            .filter_map(|r| match r {
                Run::Rows { len, .. } => Some(*len),
                Run::Each { .. } => None,
            })
            .max();
        assert!(rows >= Some(ROWS), "long files are runs of rows");
    }

    #[test]
    fn tuple_origins_computed_for_rows_are_those_kept_each() {
        // Rows of one tuple each, then of two (a symmetric relation), then appended
        // rows that follow on, then a tuple pushed alone: the origins computed equal
        // those kept each, and a relation kept by rows holds no origin per tuple.
        let mut t = Tuples::default();
        let mut want: Vec<OriginId> = Vec::new();
        t.extend_rows(2, vec![7; 2 * 10], OriginId(100), 1);
        want.extend((100..110).map(OriginId));
        t.extend_rows(2, vec![7; 2 * 6], OriginId(110), 1);
        want.extend((110..116).map(OriginId));
        assert!(matches!(t.origins, TupleOrigins::Rows { len: 16, .. }));
        let mut s = Tuples::default();
        s.extend_rows(3, vec![1; 3 * 8], OriginId(5), 2);
        s.extend_rows(3, vec![1; 3 * 4], OriginId(9), 2);
        assert!(matches!(s.origins, TupleOrigins::Rows { len: 12, .. }));
        let pairs: Vec<OriginId> = (5..11).flat_map(|o| [OriginId(o), OriginId(o)]).collect();
        assert_eq!(s.origins().collect::<Vec<_>>(), pairs);
        // Not following on: kept each from then.
        t.extend_rows(2, vec![7; 2 * 3], OriginId(500), 1);
        want.extend((500..503).map(OriginId));
        t.push(&[8, 9], OriginId(3));
        want.push(OriginId(3));
        assert!(matches!(t.origins, TupleOrigins::Each(_)));
        assert_eq!(t.origins().collect::<Vec<_>>(), want);
        assert_eq!(t.len(), want.len());
        for (i, (ids, o)) in t.iter().enumerate() {
            assert_eq!(o, want[i]);
            assert_eq!(t.get(i), Some((ids, o)));
        }
        assert_eq!(t.get(want.len()), None);
    }
}
