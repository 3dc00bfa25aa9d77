//! One interner per run: every value becomes a dense `u32`, so joins compare integers.
//!
//! The base facts' values are already interned in the fact set's [`ValueTable`]; the
//! evaluator shares that table and keeps the values it computes (constants of the
//! rules, arithmetic results, aggregates) in a layer of its own, numbered after it.

use std::sync::Arc;

use crate::value::Value;
use crate::values::{ValueTable, hash_value};

/// Marks a variable with no value yet.
pub(crate) const UNBOUND: u32 = u32::MAX;

#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    base: Arc<ValueTable>,
    /// `base.len()`: the id of `extra`'s first value.
    base_len: u32,
    /// Shared, so a copy for a run on another thread costs nothing until it adds a value
    /// (see `fixpoint::Engine::iterate`).
    extra: Arc<ValueTable>,
}

impl Interner {
    /// An interner whose first ids are `base`'s.
    pub(crate) fn over(base: Arc<ValueTable>) -> Interner {
        Interner {
            base_len: base.len() as u32,
            base,
            extra: Arc::default(),
        }
    }

    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        let h = hash_value(v);
        if let Some(id) = self.base.lookup_hashed(h, v) {
            return id;
        }
        match self.extra.lookup_hashed(h, v) {
            Some(id) => self.base_len + id,
            None => self.base_len + Arc::make_mut(&mut self.extra).intern_hashed(h, v.clone()),
        }
    }

    pub(crate) fn intern_owned(&mut self, v: Value) -> u32 {
        let h = hash_value(&v);
        if let Some(id) = self.base.lookup_hashed(h, &v) {
            return id;
        }
        self.base_len + Arc::make_mut(&mut self.extra).intern_hashed(h, v)
    }

    /// How many values have ids.
    pub(crate) fn len(&self) -> usize {
        self.base_len as usize + self.extra.len()
    }

    /// The id of a value, if it was ever interned.
    pub(crate) fn lookup(&self, v: &Value) -> Option<u32> {
        let h = hash_value(v);
        self.base
            .lookup_hashed(h, v)
            .or_else(|| Some(self.base_len + self.extra.lookup_hashed(h, v)?))
    }

    /// The value of an id; `None` for [`UNBOUND`].
    pub(crate) fn get(&self, id: u32) -> Option<&Value> {
        match id.checked_sub(self.base_len) {
            None => self.base.get(id),
            Some(i) => self.extra.get(i),
        }
    }
}
