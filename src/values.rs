//! Interned values: every distinct [`Value`] once, named by a dense `u32`.
//!
//! The case loader interns while it reads, the fact set keeps tuples as `u32` ids into
//! one shared table, and the evaluator reads that table as is (adding the values it
//! computes in a layer of its own), so no value is converted or hashed twice between
//! a CSV cell and a join.
//!
//! The table is a vector of values and an open-addressing hash table of (id, 32-bit
//! hash) pairs (`hashbrown::HashTable`): 8 bytes and a control byte per slot, rather
//! than a second copy of every value as a map key. The stored hash lets growth rehash
//! without reading the values, and a probe skip most non-matching slots without
//! following a value's pointer.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::value::Value;

/// Every distinct value once; ids are indexes in insertion order.
#[derive(Debug, Clone, Default)]
pub struct ValueTable {
    values: Vec<Value>,
    /// (id, [`fold`] of the value's hash).
    index: HashTable<(u32, u32)>,
}

/// A 64-bit hash as the 32 bits the table keeps.
fn fold(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

/// The table's hash of an entry: the kept 32 bits spread over 64 (hashbrown takes the
/// slot from the low bits and a tag from the top 7).
fn spread(h32: u32) -> u64 {
    (h32 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The hash of a value. Texts and entity ids hash their bytes with a tag, so a lookup by
/// `&str` ([`ValueTable::lookup_str`]) needs no `Value` built first.
pub(crate) fn hash_value(v: &Value) -> u64 {
    match v {
        Value::Text(s) => hash_str(StrKind::Text, s),
        Value::Entity(s) => hash_str(StrKind::Entity, s),
        other => {
            let mut h = FxHasher::default();
            other.hash(&mut h);
            h.finish()
        }
    }
}

/// Which string-valued variant a `&str` lookup means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrKind {
    Text,
    Entity,
}

pub(crate) fn hash_str(kind: StrKind, s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write_u8(match kind {
        StrKind::Text => 0xa1,
        StrKind::Entity => 0xe1,
    });
    h.write(s.as_bytes());
    h.finish()
}

fn is_str(kind: StrKind, s: &str, v: &Value) -> bool {
    match (kind, v) {
        (StrKind::Text, Value::Text(t)) | (StrKind::Entity, Value::Entity(t)) => &**t == s,
        _ => false,
    }
}

impl ValueTable {
    pub fn new() -> ValueTable {
        ValueTable::default()
    }

    /// How many distinct values the table holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Room for `n` more values.
    pub fn reserve(&mut self, n: usize) {
        self.values.reserve(n);
        self.index.reserve(n, |&(_, h)| spread(h));
    }

    /// The id of `v`, adding it if new.
    pub fn intern(&mut self, v: &Value) -> u32 {
        let h = hash_value(v);
        match self.find(h, |x| x == v) {
            Some(id) => id,
            None => self.insert_new(h, v.clone()),
        }
    }

    /// The id of `v`, adding it (moved) if new.
    pub fn intern_owned(&mut self, v: Value) -> u32 {
        let h = hash_value(&v);
        self.entry(h, v)
    }

    /// The id of the text or entity id `s`, adding it if new (allocating only then).
    pub fn intern_str(&mut self, kind: StrKind, s: &str) -> u32 {
        let h = hash_str(kind, s);
        match self.find(h, |x| is_str(kind, s, x)) {
            Some(id) => id,
            None => self.insert_new(
                h,
                match kind {
                    StrKind::Text => Value::text(s),
                    StrKind::Entity => Value::entity(s),
                },
            ),
        }
    }

    /// The id of `v` (whose [`hash_value`] is `h`), if it is in the table.
    pub(crate) fn lookup_hashed(&self, h: u64, v: &Value) -> Option<u32> {
        self.find(h, |x| x == v)
    }

    /// The id of `v` (whose [`hash_value`] is `h`), adding it (moved) if new.
    pub(crate) fn intern_hashed(&mut self, h: u64, v: Value) -> u32 {
        self.entry(h, v)
    }

    /// The id of `v`, if it is in the table.
    pub fn lookup(&self, v: &Value) -> Option<u32> {
        self.find(hash_value(v), |x| x == v)
    }

    /// The id of the text or entity id `s`, if it is in the table.
    pub fn lookup_str(&self, kind: StrKind, s: &str) -> Option<u32> {
        self.find(hash_str(kind, s), |x| is_str(kind, s, x))
    }

    /// The value of `id`.
    pub fn get(&self, id: u32) -> Option<&Value> {
        self.values.get(id as usize)
    }

    /// Every value, in id order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The values, in id order, giving up the table.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The ids of the texts or entity ids `strs` (whose [`hash_str`]s are `hashes`), where
    /// present: like [`ValueTable::lookup_str`] for each, but probing the index in the
    /// order of its buckets, so a large batch walks the table instead of missing the cache
    /// at every key.
    pub(crate) fn lookup_strs(
        &self,
        kind: StrKind,
        strs: &[&str],
        hashes: &[u64],
    ) -> Vec<Option<u32>> {
        self.find_many(hashes, |i, x| is_str(kind, strs[i], x))
    }

    /// The id of each `i`th value looked for (its hash `hashes[i]`, `eq(i, _)` telling it
    /// from others), where present, probing the index in the order of its buckets.
    fn find_many(&self, hashes: &[u64], eq: impl Fn(usize, &Value) -> bool) -> Vec<Option<u32>> {
        let mut out = vec![None; hashes.len()];
        if self.values.is_empty() {
            return out;
        }
        let order: Vec<u32> = (0..hashes.len() as u32).collect();
        let order = crate::buckets::by_bucket(
            &order,
            |&i| spread(fold(hashes[i as usize])),
            self.index.capacity(),
        );
        for i in order {
            let i = i as usize;
            out[i] = self.find(hashes[i], |x| eq(i, x));
        }
        out
    }

    /// The ids of `values`, which are distinct, adding the new ones in order: what
    /// [`ValueTable::intern_owned`] of each gives, but for a large batch (a file's
    /// table of names) the index is probed and filled in bucket order.
    pub fn intern_distinct(&mut self, values: Vec<Value>) -> Vec<u32> {
        if values.len() < 4096 {
            return values.into_iter().map(|v| self.intern_owned(v)).collect();
        }
        let hashes: Vec<u64> = values.iter().map(hash_value).collect();
        let known = self.find_many(&hashes, |i, x| *x == values[i]);
        let mut batch = self.batch();
        values
            .into_iter()
            .zip(hashes)
            .zip(known)
            .map(|((v, h), id)| id.unwrap_or_else(|| batch.push_new(h, v)))
            .collect()
    }

    /// A batch of new values, indexed when the batch ends (see [`Batch`]).
    pub(crate) fn batch(&mut self) -> Batch<'_> {
        Batch {
            table: self,
            pending: Vec::new(),
        }
    }

    fn find(&self, h: u64, eq: impl Fn(&Value) -> bool) -> Option<u32> {
        let values = &self.values;
        let h32 = fold(h);
        self.index
            .find(spread(h32), |&(id, kept)| {
                kept == h32 && eq(&values[id as usize])
            })
            .map(|&(id, _)| id)
    }

    /// The id of `v` (hash `h`), added if new: one probe sequence either way.
    fn entry(&mut self, h: u64, v: Value) -> u32 {
        let h32 = fold(h);
        let ValueTable { values, index } = self;
        let found = index.entry(
            spread(h32),
            |&(id, kept)| kept == h32 && values[id as usize] == v,
            |&(_, k)| spread(k),
        );
        match found {
            hashbrown::hash_table::Entry::Occupied(e) => e.get().0,
            hashbrown::hash_table::Entry::Vacant(e) => {
                let id = values.len() as u32;
                e.insert((id, h32));
                values.push(v);
                id
            }
        }
    }

    fn insert_new(&mut self, h: u64, v: Value) -> u32 {
        let id = self.values.len() as u32;
        self.values.push(v);
        let h32 = fold(h);
        self.index
            .insert_unique(spread(h32), (id, h32), |&(_, k)| spread(k));
        id
    }
}

/// New values added to a [`ValueTable`] in order, their index entries made when the
/// batch ends, in bucket order (one walk of the index, not a cache miss per value).
/// Until then the table is borrowed, so nothing can look for a value not yet indexed.
pub(crate) struct Batch<'a> {
    table: &'a mut ValueTable,
    /// (id, folded hash) of each value added.
    pending: Vec<(u32, u32)>,
}

impl Batch<'_> {
    /// Adds `v`, which the caller knows is not in the table (nor added earlier in this
    /// batch), with its [`hash_value`] `h`: its new id.
    pub(crate) fn push_new(&mut self, h: u64, v: Value) -> u32 {
        let id = self.table.values.len() as u32;
        self.table.values.push(v);
        self.pending.push((id, fold(h)));
        id
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        let table = &mut *self.table;
        table.index.reserve(pending.len(), |&(_, h)| spread(h));
        let pending =
            crate::buckets::by_bucket(&pending, |&(_, h)| spread(h), table.index.capacity());
        for (id, h32) in pending {
            table
                .index
                .insert_unique(spread(h32), (id, h32), |&(_, k)| spread(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Date, Decimal};

    #[test]
    fn interns_each_value_once_and_finds_strings_without_building_a_value() {
        let mut t = ValueTable::new();
        let a = t.intern(&Value::entity("p1"));
        let b = t.intern(&Value::text("p1"));
        let c = t.intern(&Value::Number(Decimal::from_int(3)));
        let d = t.intern(&Value::Date(Date::POS_INF));
        assert_eq!(t.len(), 4);
        assert_ne!(a, b);
        assert_eq!(t.intern_str(StrKind::Entity, "p1"), a);
        assert_eq!(t.intern_str(StrKind::Text, "p1"), b);
        assert_eq!(t.lookup_str(StrKind::Entity, "p2"), None);
        assert_eq!(t.intern_owned(Value::Number(Decimal::from_int(3))), c);
        assert_eq!(t.lookup(&Value::Date(Date::POS_INF)), Some(d));
        assert_eq!(t.get(a), Some(&Value::entity("p1")));
        let many: Vec<u32> = (0..10_000)
            .map(|i| t.intern_str(StrKind::Text, &format!("t{i}")))
            .collect();
        for (i, id) in many.iter().enumerate() {
            assert_eq!(t.lookup(&Value::text(&format!("t{i}"))), Some(*id));
        }
        assert_eq!(t.len(), 4 + 10_000);
    }

    #[test]
    fn batches_index_new_values_and_batch_lookups_find_them() {
        let mut t = ValueTable::new();
        let before = t.intern_str(StrKind::Text, "e1");
        let ids: Vec<String> = (0..5000).map(|i| format!("e{i}")).collect();
        let strs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let hashes: Vec<u64> = strs.iter().map(|s| hash_str(StrKind::Entity, s)).collect();
        assert_eq!(
            t.lookup_strs(StrKind::Entity, &strs, &hashes),
            vec![None; 5000]
        );
        let mut got = Vec::new();
        {
            let mut b = t.batch();
            for (s, h) in strs.iter().zip(&hashes) {
                got.push(b.push_new(*h, Value::entity(s)));
            }
        }
        assert_eq!(got, (1..5001).collect::<Vec<u32>>());
        let found = t.lookup_strs(StrKind::Entity, &strs, &hashes);
        assert_eq!(found, got.iter().map(|&v| Some(v)).collect::<Vec<_>>());
        for (s, id) in strs.iter().zip(&got) {
            assert_eq!(t.lookup_str(StrKind::Entity, s), Some(*id));
            assert_eq!(t.intern_str(StrKind::Entity, s), *id);
        }
        assert_eq!(t.lookup_str(StrKind::Text, "e1"), Some(before));
        assert_eq!(t.len(), 5001);
    }

    #[test]
    fn interning_distinct_values_at_once_gives_the_ids_of_one_at_a_time() {
        for n in [10usize, 10_000] {
            let mut one = ValueTable::new();
            let mut all = ValueTable::new();
            for t in [&mut one, &mut all] {
                for i in 0..n / 2 {
                    t.intern_str(StrKind::Text, &format!("v{}", i * 3));
                }
            }
            let batch: Vec<Value> = (0..n).map(|i| Value::text(&format!("v{i}"))).collect();
            let want: Vec<u32> = batch.iter().map(|v| one.intern(v)).collect();
            assert_eq!(all.intern_distinct(batch.clone()), want);
            for v in &batch {
                assert_eq!(all.lookup(v), one.lookup(v));
            }
            assert_eq!(all.len(), one.len());
        }
    }
}
