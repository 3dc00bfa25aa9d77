//! Entities defined in CSV files, kept compactly (12 bytes each) and shown on demand:
//! a register of a million people costs no million display records, and a run that
//! only counts findings never builds one.

use std::sync::Arc;

use crate::facts::OriginId;
use crate::value::Value;
use crate::values::{StrKind, ValueTable};

use super::Entity;

/// One entity of a CSV entity file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Its id's value id.
    value: u32,
    /// The value id of its `name` field ([`NO_NAME`] if the relation has none); for an
    /// entity of a lazy file, the offset of its record in the file's text.
    name: u32,
    /// Index into `lazy`, or [`EAGER`].
    file: u32,
    /// Index into `kinds`.
    kind: u32,
    origin: OriginId,
}

const NO_NAME: u32 = u32::MAX;
const EAGER: u32 = u32::MAX;

/// An entity file loaded for its ids alone: its text, and its `name` column if any.
#[derive(Debug, Clone)]
struct LazyFile {
    text: Arc<str>,
    name_col: Option<usize>,
}

/// The entities of a case's CSV entity files.
#[derive(Debug, Clone, Default)]
pub(crate) struct BulkEntities {
    values: Arc<ValueTable>,
    kinds: Vec<String>,
    /// Sorted by `value` once loading is done.
    rows: Vec<Row>,
    lazy: Vec<LazyFile>,
    /// The row of each value id from `first` on (`u32::MAX` for none), made at the first
    /// lookup if the ids are dense enough: a register's entity is then one read away, not
    /// a binary search over every row (which a report with evidence does per finding).
    by_value: std::sync::OnceLock<Option<(u32, Vec<u32>)>>,
}

impl BulkEntities {
    /// Records an entity: its id's and name's value ids, its kind's name, its origin.
    pub fn push(&mut self, value: u32, name: Option<u32>, kind: &str, origin: OriginId) {
        let kind = self.kind(kind);
        self.rows.push(Row {
            value,
            name: name.unwrap_or(NO_NAME),
            file: EAGER,
            kind,
            origin,
        });
    }

    /// Adds a file loaded for its ids alone; returns its number for [`Self::push_lazy`].
    pub fn lazy_file(&mut self, text: Arc<str>, name_col: Option<usize>) -> u32 {
        self.lazy.push(LazyFile { text, name_col });
        self.lazy.len() as u32 - 1
    }

    /// Records an entity of lazy file `file` whose record starts at byte `start`.
    /// `kind`: its number from [`Self::kind`].
    pub fn push_lazy(&mut self, value: u32, file: u32, start: u32, kind: u32, origin: OriginId) {
        self.rows.push(Row {
            value,
            name: start,
            file,
            kind,
            origin,
        });
    }

    /// The number of entity kind `kind`, added if new.
    pub fn kind(&mut self, kind: &str) -> u32 {
        match self.kinds.iter().position(|k| k == kind) {
            Some(k) => k as u32,
            None => {
                self.kinds.push(kind.to_string());
                self.kinds.len() as u32 - 1
            }
        }
    }

    /// Room for `n` more entities.
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
    }

    /// Ends loading: the value table the ids name, and the rows sorted for lookup.
    pub fn finish(&mut self, values: Arc<ValueTable>) {
        self.values = values;
        // Stable: the rows are a few ascending runs (one per file), which a merge sort
        // takes in one pass each; and of an id given twice the first row is kept.
        self.rows.sort_by_key(|r| r.value);
        self.rows.dedup_by_key(|r| r.value);
        self.by_value = std::sync::OnceLock::new();
    }

    /// The row of each value id, if the rows' ids span at most four times as many.
    fn direct(&self) -> Option<(u32, Vec<u32>)> {
        let (first, last) = (self.rows.first()?.value, self.rows.last()?.value);
        let span = (last - first) as usize + 1;
        if span > 4 * self.rows.len() + 4096 {
            return None;
        }
        let mut at = vec![u32::MAX; span];
        for (i, r) in self.rows.iter().enumerate() {
            at[(r.value - first) as usize] = i as u32;
        }
        Some((first, at))
    }

    /// The entity with this id, if a CSV file defined it.
    pub fn get(&self, id: &str) -> Option<(Arc<str>, Entity)> {
        let value = self.values.lookup_str(StrKind::Entity, id)?;
        let i = match self.by_value.get_or_init(|| self.direct()) {
            Some((first, at)) => {
                let i = *at.get(value.checked_sub(*first)? as usize)?;
                (i != u32::MAX).then_some(i as usize)?
            }
            None => self.rows.binary_search_by_key(&value, |r| r.value).ok()?,
        };
        self.entity(&self.rows[i])
    }

    /// Every entity, in value id order.
    pub fn iter(&self) -> impl Iterator<Item = (Arc<str>, Entity)> + '_ {
        self.rows.iter().filter_map(|r| self.entity(r))
    }

    fn entity(&self, r: &Row) -> Option<(Arc<str>, Entity)> {
        let Some(Value::Entity(id)) = self.values.get(r.value) else {
            return None;
        };
        let name = match self.lazy.get(r.file as usize) {
            Some(f) => f
                .name_col
                .and_then(|col| super::csv_facts::cell_at(&f.text, r.name as usize, col))
                .filter(|n| !n.is_empty()),
            None => match self.values.get(r.name) {
                Some(Value::Text(t)) => Some(t.to_string()),
                _ => None,
            },
        };
        let name = name.unwrap_or_else(|| id.to_string());
        let e = Entity {
            kind: self.kinds.get(r.kind as usize).cloned().unwrap_or_default(),
            name,
            aliases: Vec::new(),
            origin: r.origin,
        };
        Some((id.clone(), e))
    }
}
