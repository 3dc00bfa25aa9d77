//! One interner per run: every value becomes a dense `u32`, so joins compare integers.
//!
//! The base facts' values are already interned in the fact set's [`ValueTable`]; the
//! evaluator shares that table and keeps the values it computes (constants of the
//! rules, arithmetic results, aggregates) in a layer of its own, numbered after it. A
//! run on another thread adds a layer of its own over the round's ([`Interner::layer`]),
//! so the round's values are shared, not copied.

use std::sync::Arc;

use crate::value::Value;
use crate::values::{ValueTable, hash_value};

/// Marks a variable with no value yet.
pub(crate) const UNBOUND: u32 = u32::MAX;

#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    base: Arc<ValueTable>,
    /// `base.len()`: the id of `shared`'s first value.
    base_len: u32,
    /// The values of the interner this one is a layer over (see [`Interner::layer`]),
    /// numbered after `base`'s; empty otherwise.
    shared: Arc<ValueTable>,
    /// `base_len + shared.len()`: the id of `extra`'s first value.
    extra_from: u32,
    /// This interner's own values. Shared, so a copy costs nothing until it adds a value.
    extra: Arc<ValueTable>,
}

impl Interner {
    /// An interner whose first ids are `base`'s.
    pub(crate) fn over(base: Arc<ValueTable>) -> Interner {
        Interner {
            base_len: base.len() as u32,
            extra_from: base.len() as u32,
            base,
            shared: Arc::default(),
            extra: Arc::default(),
        }
    }

    /// An interner for a run on another thread: this one's values, shared as they are,
    /// and a layer of its own for the values the run adds, numbered after them. A layer
    /// over a layer copies the layer's own values.
    pub(crate) fn layer(&self) -> Interner {
        if !self.shared.is_empty() {
            return self.clone();
        }
        Interner {
            base: self.base.clone(),
            base_len: self.base_len,
            shared: self.extra.clone(),
            extra_from: self.len() as u32,
            extra: Arc::default(),
        }
    }

    /// The values of ids `from` on, in order, giving the interner up (and with it its
    /// share of the values of the interner it is a layer over).
    pub(crate) fn take_from(self, from: usize) -> Vec<Option<Value>> {
        (from..self.len())
            .map(|id| self.get(id as u32).cloned())
            .collect()
    }

    /// A value is in one layer at most (a layer holds only values the ones under it
    /// lack), so the small layers of computed values are asked first: a value computed
    /// again is found without a probe of the large table of the case's values.
    fn find(&self, h: u64, v: &Value) -> Option<u32> {
        if let Some(id) = self.extra.lookup_hashed(h, v) {
            return Some(self.extra_from + id);
        }
        if let Some(id) = self.shared.lookup_hashed(h, v) {
            return Some(self.base_len + id);
        }
        self.base.lookup_hashed(h, v)
    }

    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        let h = hash_value(v);
        match self.find(h, v) {
            Some(id) => id,
            None => self.extra_from + Arc::make_mut(&mut self.extra).intern_hashed(h, v.clone()),
        }
    }

    pub(crate) fn intern_owned(&mut self, v: Value) -> u32 {
        let h = hash_value(&v);
        match self.find(h, &v) {
            Some(id) => id,
            None => self.extra_from + Arc::make_mut(&mut self.extra).intern_hashed(h, v),
        }
    }

    /// How many values have ids.
    pub(crate) fn len(&self) -> usize {
        self.extra_from as usize + self.extra.len()
    }

    /// The id of a value, if it was ever interned.
    pub(crate) fn lookup(&self, v: &Value) -> Option<u32> {
        self.find(hash_value(v), v)
    }

    /// The value of an id; `None` for [`UNBOUND`].
    pub(crate) fn get(&self, id: u32) -> Option<&Value> {
        if id < self.base_len {
            self.base.get(id)
        } else if id < self.extra_from {
            self.shared.get(id - self.base_len)
        } else {
            self.extra.get(id - self.extra_from)
        }
    }
}
