//! Relations as flat `u32` tuples (arity stride) with incrementally maintained hash indexes.
//!
//! Tuples are never moved, so a tuple's index is its identity (provenance refers to it).
//! A relation's tuples are `stable` (before the previous iteration), then `recent` (the
//! previous iteration's), in one vector: datafrog's stable/recent as two index ranges.

use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHasher};

const NONE: u32 = u32::MAX;

/// A hash index on some columns: hash of the key -> newest tuple, then a chain through
/// `next` to older tuples with the same hash (so a range read can stop early). The
/// hash is folded to 32 bits to halve the table; readers compare the key columns of
/// every tuple on a chain, so a collision costs a comparison, never a wrong answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    pub(crate) cols: Vec<usize>,
    heads: FxHashMap<u32, u32>,
    next: Vec<u32>,
}

pub(crate) fn hash_key(vals: impl Iterator<Item = u32>) -> u64 {
    let mut h = FxHasher::default();
    for v in vals {
        h.write_u32(v);
    }
    h.finish()
}

/// A 64-bit key hash as the 32-bit key of an index table.
fn fold(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

impl Index {
    pub(crate) fn new(cols: Vec<usize>) -> Index {
        Index {
            cols,
            heads: FxHashMap::default(),
            next: Vec::new(),
        }
    }

    /// Adds tuple `idx` (tuples are added in index order).
    fn insert(&mut self, idx: u32, tuple: &[u32]) {
        let h = hash_key(self.cols.iter().map(|&c| tuple[c]));
        let prev = self.heads.insert(fold(h), idx).unwrap_or(NONE);
        self.next.push(prev);
    }

    fn clear(&mut self) {
        self.heads.clear();
        self.next.clear();
    }

    /// The newest tuple whose key hashes as `h`, or `NONE`.
    pub(crate) fn head(&self, h: u64) -> u32 {
        self.heads.get(&fold(h)).copied().unwrap_or(NONE)
    }

    /// The next older tuple in the chain of `idx`, or `NONE`.
    pub(crate) fn next(&self, idx: u32) -> u32 {
        self.next.get(idx as usize).copied().unwrap_or(NONE)
    }
}

/// End marker of an index chain.
pub(crate) const END: u32 = NONE;

/// One relation's tuples, set index (slot 0, all columns) and lookup indexes.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    pub(crate) arity: usize,
    data: Vec<u32>,
    len: u32,
    /// Tuples `[0, stable)` are stable, `[stable, recent)` recent.
    pub(crate) stable: u32,
    pub(crate) recent: u32,
    pub(crate) indexes: Vec<Index>,
}

impl Rel {
    pub(crate) fn new(arity: usize) -> Rel {
        Rel {
            arity,
            data: Vec::new(),
            len: 0,
            stable: 0,
            recent: 0,
            indexes: vec![Index::new((0..arity).collect())],
        }
    }

    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    pub(crate) fn tuple(&self, idx: u32) -> &[u32] {
        let s = idx as usize * self.arity;
        &self.data[s..s + self.arity]
    }

    /// The slot of the index on `cols`, creating it (over existing tuples) if needed.
    pub(crate) fn index_for(&mut self, cols: &[usize]) -> usize {
        if let Some(i) = self.indexes.iter().position(|x| x.cols == cols) {
            return i;
        }
        let mut ix = Index::new(cols.to_vec());
        for t in 0..self.len {
            let s = t as usize * self.arity;
            ix.insert(t, &self.data[s..s + self.arity]);
        }
        self.indexes.push(ix);
        self.indexes.len() - 1
    }

    /// Makes room for `n` more tuples in the data and the set index.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.data.reserve(n * self.arity);
        for ix in &mut self.indexes {
            ix.heads.reserve(n);
            ix.next.reserve(n);
        }
    }

    /// Whether the tuple is present (among all tuples).
    pub(crate) fn contains(&self, tuple: &[u32]) -> bool {
        self.position(tuple).is_some()
    }

    /// The index of the tuple, if present.
    pub(crate) fn position(&self, tuple: &[u32]) -> Option<u32> {
        let set = &self.indexes[0];
        let mut cur = set.head(hash_key(tuple.iter().copied()));
        while cur != END {
            if self.tuple(cur) == tuple {
                return Some(cur);
            }
            cur = set.next(cur);
        }
        None
    }

    /// Appends a tuple known to be new; returns its index.
    pub(crate) fn push(&mut self, tuple: &[u32]) -> u32 {
        let idx = self.len;
        self.data.extend_from_slice(tuple);
        self.len += 1;
        let s = idx as usize * self.arity;
        for ix in &mut self.indexes {
            ix.insert(idx, &self.data[s..s + self.arity]);
        }
        idx
    }

    /// Appends a tuple unless present; returns its index if it was new. One probe of
    /// the set index both finds a present tuple and, if absent, takes the new one.
    pub(crate) fn insert(&mut self, tuple: &[u32]) -> Option<u32> {
        let idx = self.len;
        let arity = self.arity;
        let key = fold(hash_key(tuple.iter().copied()));
        let Index { heads, next, .. } = &mut self.indexes[0];
        let data = &self.data;
        let head = heads.entry(key).or_insert(NONE);
        let mut cur = *head;
        while cur != END {
            let s = cur as usize * arity;
            if &data[s..s + arity] == tuple {
                return None;
            }
            cur = next.get(cur as usize).copied().unwrap_or(NONE);
        }
        next.push(*head);
        *head = idx;
        self.data.extend_from_slice(tuple);
        self.len += 1;
        let s = idx as usize * arity;
        for ix in &mut self.indexes[1..] {
            ix.insert(idx, &self.data[s..s + arity]);
        }
        Some(idx)
    }

    /// Empties the relation, keeping its indexes' columns and capacity.
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.len = 0;
        self.stable = 0;
        self.recent = 0;
        for ix in &mut self.indexes {
            ix.clear();
        }
    }

    /// datafrog's `changed()`: recent joins stable, new tuples become recent.
    pub(crate) fn advance(&mut self) -> bool {
        self.stable = self.recent;
        self.recent = self.len;
        self.recent > self.stable
    }

    /// Marks everything as stable (a finished stratum, or base facts).
    pub(crate) fn settle(&mut self) {
        self.stable = self.len;
        self.recent = self.len;
    }
}
