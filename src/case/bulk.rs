//! Entities defined in CSV files, kept compactly (12 bytes each) and shown on demand:
//! a register of a million people costs no million display records, and a run that
//! only counts findings never builds one.

use std::sync::Arc;

use crate::facts::OriginId;
use crate::value::Value;
use crate::values::{StrKind, ValueTable};

use super::Entity;

/// One entity of a CSV entity file read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Its id's value id.
    value: u32,
    /// The value id of its `name` field ([`NO_NAME`] if the relation has none).
    name: u32,
    /// Index into `kinds`.
    kind: u32,
    origin: OriginId,
}

const NO_NAME: u32 = u32::MAX;
/// No entity (in [`ByValue::Direct`]).
const NONE: u32 = u32::MAX;

/// An entity file loaded for its ids alone: its text, its `name` column if any, its
/// entities' kind, and its rows; the `k`th entity's origin is `first + k`.
#[derive(Debug, Clone)]
struct LazyFile {
    text: Arc<String>,
    name_col: Option<usize>,
    kind: u32,
    first: OriginId,
    rows: LazyRows,
}

/// Per entity of a file loaded for its ids alone: its id's value id, its line and the
/// byte its record starts at. Value ids and lines that follow one another (a register
/// of new ids, one a line, the usual file) are kept as where they start: four bytes an
/// entity, not twelve.
#[derive(Debug, Clone, Default)]
pub(crate) struct LazyRows {
    values: Counted,
    lines: Counted,
    starts: Arc<Vec<u32>>,
}

/// Numbers kept as `Run(first, n)` while each is one more than the one before.
#[derive(Debug, Clone)]
enum Counted {
    Run(u32, u32),
    Each(Vec<u32>),
}

impl Default for Counted {
    fn default() -> Counted {
        Counted::Run(0, 0)
    }
}

impl Counted {
    fn push(&mut self, x: u32) {
        match self {
            Counted::Run(first, n) if *n == 0 || first.checked_add(*n) == Some(x) => {
                if *n == 0 {
                    *first = x;
                }
                *n += 1;
            }
            Counted::Run(first, n) => {
                let mut each: Vec<u32> = (*first..*first + *n).collect();
                each.push(x);
                *self = Counted::Each(each);
            }
            Counted::Each(each) => each.push(x),
        }
    }

    fn get(&self, k: usize) -> u32 {
        match self {
            Counted::Run(first, _) => first + k as u32,
            Counted::Each(each) => each[k],
        }
    }
}

impl LazyRows {
    /// Room for `n` entities.
    pub(crate) fn with_capacity(n: usize) -> LazyRows {
        LazyRows {
            starts: Arc::new(Vec::with_capacity(n)),
            ..LazyRows::default()
        }
    }

    /// Adds the entities of a piece of the file: each record's (line, start) and its
    /// id's value id, but those whose value id is `u32::MAX` (a repeated id).
    pub(crate) fn push_piece(&mut self, records: &[(u32, u32)], values: &[u32]) {
        let starts = Arc::make_mut(&mut self.starts);
        let (Some(&(line, _)), Some(&value)) = (records.first(), values.first()) else {
            return;
        };
        let n = records.len().min(values.len()) as u32;
        // The usual piece: new ids in order, one a line, following the last piece's.
        let follows = |c: &Counted, x: u32| match c {
            Counted::Run(first, len) => *len == 0 || first.checked_add(*len) == Some(x),
            Counted::Each(_) => false,
        };
        if follows(&self.values, value)
            && follows(&self.lines, line)
            && (values.iter()).zip(value..).all(|(&v, want)| v == want)
            && (records.iter()).zip(line..).all(|(r, want)| r.0 == want)
        {
            for (c, from) in [(&mut self.values, value), (&mut self.lines, line)] {
                if let Counted::Run(first, len) = c {
                    if *len == 0 {
                        *first = from;
                    }
                    *len += n;
                }
            }
            starts.extend(records.iter().map(|r| r.1));
            return;
        }
        for (&(line, start), &v) in records.iter().zip(values) {
            if v != u32::MAX {
                self.values.push(v);
                self.lines.push(line);
                starts.push(start);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The `k`th entity's value id.
    pub(crate) fn value(&self, k: usize) -> u32 {
        self.values.get(k)
    }

    /// Where each entity's record starts, shared.
    pub(crate) fn starts(&self) -> Arc<Vec<u32>> {
        self.starts.clone()
    }

    /// The runs of entities on lines that follow one another: (first entity, count,
    /// line of the first).
    pub(crate) fn line_runs(&self) -> Vec<(usize, usize, u32)> {
        match &self.lines {
            Counted::Run(first, n) => match *n {
                0 => Vec::new(),
                n => vec![(0, n as usize, *first)],
            },
            Counted::Each(lines) => {
                let mut runs = Vec::new();
                let mut k = 0;
                while let Some(&line) = lines.get(k) {
                    let run = (lines[k..].iter().zip(line..))
                        .take_while(|(l, want)| **l == *want)
                        .count();
                    runs.push((k, run, line));
                    k += run;
                }
                runs
            }
        }
    }
}

/// Where the entities were added from, in order: rows of `rows`, or a lazy file.
#[derive(Debug, Clone, Copy)]
enum Part {
    Rows(u32, u32),
    Lazy(u32),
}

/// Each entity's place by its value id: rows of `rows` are numbered first, then the
/// entities of the lazy files one after another.
#[derive(Debug, Clone)]
enum ByValue {
    /// The place of each value id from `first` on ([`NONE`] for none): one read away.
    Direct(u32, Vec<u32>),
    /// (value id, place), sorted, when the ids are too sparse for that.
    Sorted(Vec<(u32, u32)>),
}

/// The entities of a case's CSV entity files.
#[derive(Debug, Clone, Default)]
pub(crate) struct BulkEntities {
    values: Arc<ValueTable>,
    kinds: Vec<String>,
    rows: Vec<Row>,
    lazy: Vec<LazyFile>,
    parts: Vec<Part>,
    /// Made at the first lookup: a report that shows no entity never makes it, and a
    /// register's entities cost no more than what was read of them. Of an id given
    /// twice the first is kept.
    by_value: std::sync::OnceLock<ByValue>,
}

impl BulkEntities {
    /// Records an entity: its id's and name's value ids, its kind's name, its origin.
    pub fn push(&mut self, value: u32, name: Option<u32>, kind: &str, origin: OriginId) {
        let kind = self.kind(kind);
        let at = self.rows.len() as u32;
        self.rows.push(Row {
            value,
            name: name.unwrap_or(NO_NAME),
            kind,
            origin,
        });
        match self.parts.last_mut() {
            Some(Part::Rows(_, end)) if *end == at => *end += 1,
            _ => self.parts.push(Part::Rows(at, at + 1)),
        }
    }

    /// Records the entities of a file loaded for its ids alone, of kind `kind`: per
    /// entity its id's value id, its line and the byte its record starts at in `text`;
    /// the `k`th's origin is `first + k`.
    pub fn push_lazy(
        &mut self,
        text: Arc<String>,
        name_col: Option<usize>,
        kind: &str,
        first: OriginId,
        rows: LazyRows,
    ) {
        let kind = self.kind(kind);
        self.parts.push(Part::Lazy(self.lazy.len() as u32));
        self.lazy.push(LazyFile {
            text,
            name_col,
            kind,
            first,
            rows,
        });
    }

    /// The number of entity kind `kind`, added if new.
    fn kind(&mut self, kind: &str) -> u32 {
        match self.kinds.iter().position(|k| k == kind) {
            Some(k) => k as u32,
            None => {
                self.kinds.push(kind.to_string());
                self.kinds.len() as u32 - 1
            }
        }
    }

    /// Room for `n` more entities of [`Self::push`].
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// Ends loading: the value table the ids name.
    pub fn finish(&mut self, values: Arc<ValueTable>) {
        self.values = values;
        self.by_value = std::sync::OnceLock::new();
    }

    /// Every entity's (value id, place), in the order added.
    fn places(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let eager = self.rows.len() as u32;
        let mut lazy_from = Vec::with_capacity(self.lazy.len());
        let mut n = eager;
        for f in &self.lazy {
            lazy_from.push(n);
            n += f.rows.len() as u32;
        }
        self.parts
            .iter()
            .flat_map(move |p| -> Box<dyn Iterator<Item = (u32, u32)> + '_> {
                match *p {
                    Part::Rows(a, b) => Box::new((a..b).map(|i| (self.rows[i as usize].value, i))),
                    Part::Lazy(f) => {
                        let from = lazy_from[f as usize];
                        let rows = &self.lazy[f as usize].rows;
                        Box::new((0..rows.len()).map(move |k| (rows.value(k), from + k as u32)))
                    }
                }
            })
    }

    /// Each entity's place by its value id: direct if the ids span at most four times
    /// as many as there are entities.
    fn by_value(&self) -> &ByValue {
        self.by_value.get_or_init(|| {
            let (mut lo, mut hi, mut n) = (u32::MAX, 0u32, 0usize);
            for (v, _) in self.places() {
                lo = lo.min(v);
                hi = hi.max(v);
                n += 1;
            }
            if n > 0 && ((hi - lo) as usize) < 4 * n + 4096 {
                let mut at = vec![NONE; (hi - lo) as usize + 1];
                for (v, place) in self.places() {
                    let slot = &mut at[(v - lo) as usize];
                    if *slot == NONE {
                        *slot = place;
                    }
                }
                return ByValue::Direct(lo, at);
            }
            let mut sorted: Vec<(u32, u32)> = self.places().collect();
            // Stable: of an id given twice the first stays.
            sorted.sort_by_key(|&(v, _)| v);
            sorted.dedup_by_key(|&mut (v, _)| v);
            ByValue::Sorted(sorted)
        })
    }

    /// The entity with this id, if a CSV file defined it.
    pub fn get(&self, id: &str) -> Option<(Arc<str>, Entity)> {
        let value = self.values.lookup_str(StrKind::Entity, id)?;
        let place = match self.by_value() {
            ByValue::Direct(first, at) => {
                Some(*at.get(value.checked_sub(*first)? as usize)?).filter(|&p| p != NONE)?
            }
            ByValue::Sorted(s) => s[s.binary_search_by_key(&value, |e| e.0).ok()?].1,
        };
        self.entity(place)
    }

    /// Every entity, in value id order.
    pub fn iter(&self) -> impl Iterator<Item = (Arc<str>, Entity)> + '_ {
        let places: Vec<u32> = match self.by_value() {
            ByValue::Direct(_, at) => at.iter().copied().filter(|&p| p != NONE).collect(),
            ByValue::Sorted(s) => s.iter().map(|e| e.1).collect(),
        };
        places.into_iter().filter_map(|p| self.entity(p))
    }

    /// The entity at `place` (see [`ByValue`]).
    fn entity(&self, place: u32) -> Option<(Arc<str>, Entity)> {
        let (value, name, kind, origin) = match self.rows.get(place as usize) {
            Some(r) => {
                let name = match self.values.get(r.name) {
                    Some(Value::Text(t)) => Some(t.to_string()),
                    _ => None,
                };
                (r.value, name, r.kind, r.origin)
            }
            None => {
                let mut k = place as usize - self.rows.len();
                let f = self.lazy.iter().find(|f| {
                    let inside = k < f.rows.len();
                    if !inside {
                        k -= f.rows.len();
                    }
                    inside
                })?;
                let (value, start) = (f.rows.value(k), f.rows.starts[k]);
                let name = f
                    .name_col
                    .and_then(|col| super::csv_facts::cell_at(&f.text, start as usize, col))
                    .filter(|n| !n.is_empty());
                (value, name, f.kind, OriginId(f.first.0 + k as u32))
            }
        };
        let Some(Value::Entity(id)) = self.values.get(value) else {
            return None;
        };
        let e = Entity {
            kind: self.kinds.get(kind as usize).cloned().unwrap_or_default(),
            name: name.unwrap_or_else(|| id.to_string()),
            aliases: Vec::new(),
            origin,
        };
        Some((id.clone(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entities are found by id whether their ids are dense or sparse among the value
    /// ids, from rows and lazy files alike, with names, kinds and origins; of an id
    /// A lazy file's rows: pieces of new ids one a line are kept as runs; a piece after
    /// a gap, with a repeated id (left out) or a row over two lines, entity by entity,
    /// the same rows either way.
    #[test]
    fn lazy_rows_keep_runs_and_each_alike() {
        // Per piece: its records (line, start) and their value ids.
        type Records = Vec<(u32, u32)>;
        let pieces: Vec<(Records, Vec<u32>)> = vec![
            (vec![(2, 10), (3, 20), (4, 30)], vec![100, 101, 102]),
            (vec![(5, 40), (6, 50)], vec![103, 104]),
            (vec![(7, 60), (9, 70), (10, 80)], vec![105, u32::MAX, 106]),
            (vec![(11, 90)], vec![200]),
        ];
        let mut rows = LazyRows::default();
        let mut want: Vec<(u32, u32, u32)> = Vec::new();
        for (k, (records, values)) in pieces.iter().enumerate() {
            rows.push_piece(records, values);
            for (&(line, start), &v) in records.iter().zip(values) {
                if v != u32::MAX {
                    want.push((v, line, start));
                }
            }
            let runs = matches!(
                (&rows.values, &rows.lines),
                (Counted::Run(..), Counted::Run(..))
            );
            assert_eq!(runs, k < 2, "piece {k}");
        }
        assert_eq!(rows.len(), want.len());
        for (k, &(v, _, start)) in want.iter().enumerate() {
            assert_eq!((rows.value(k), rows.starts()[k]), (v, start), "{k}");
        }
        assert_eq!(rows.line_runs(), vec![(0, 6, 2), (6, 2, 10)]);
    }

    /// given twice the first is kept, and `iter` gives each once, in value id order.
    #[test]
    fn entities_are_found_by_id_dense_or_sparse_first_kept() {
        for spread in [1usize, 2000] {
            let mut table = ValueTable::new();
            let mut id = |s: &str| {
                for k in 0..spread {
                    table.intern_owned(Value::text(&format!("{s}-filler-{k}")));
                }
                table.intern_owned(Value::entity(s))
            };
            let (ann, bob, cy, dan) = (id("ann"), id("bob"), id("cy"), id("dan"));
            let name = table.intern_owned(Value::text("Ann A"));
            let text = Arc::new("id,name\nbob,Bob B\ncy,\nann,Not Ann\n".to_string());
            let mut bulk = BulkEntities::default();
            bulk.push(ann, Some(name), "person", OriginId(7));
            let mut rows = LazyRows::default();
            rows.push_piece(&[(2, 8), (3, 16), (4, 20)], &[bob, cy, ann]);
            bulk.push_lazy(text, Some(1), "org", OriginId(20), rows);
            bulk.push(dan, None, "person", OriginId(9));
            bulk.finish(Arc::new(table));
            let got = |id: &str| bulk.get(id).map(|(_, e)| (e.kind, e.name, e.origin.0));
            assert_eq!(got("ann"), Some(("person".into(), "Ann A".into(), 7)));
            assert_eq!(got("bob"), Some(("org".into(), "Bob B".into(), 20)));
            assert_eq!(got("cy"), Some(("org".into(), "cy".into(), 21)));
            assert_eq!(got("dan"), Some(("person".into(), "dan".into(), 9)));
            assert_eq!(got("eve"), None);
            let all: Vec<String> = bulk.iter().map(|(id, _)| id.to_string()).collect();
            assert_eq!(all, vec!["ann", "bob", "cy", "dan"], "spread {spread}");
            let sparse = matches!(bulk.by_value(), ByValue::Sorted(_));
            assert_eq!(sparse, spread > 1);
        }
    }
}
