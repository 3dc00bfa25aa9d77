//! One interner per run: every value becomes a dense `u32`, so joins compare integers.

use rustc_hash::FxHashMap;

use crate::value::Value;

/// Marks a variable with no value yet.
pub(crate) const UNBOUND: u32 = u32::MAX;

#[derive(Debug, Default, Clone)]
pub(crate) struct Interner {
    ids: FxHashMap<Value, u32>,
    values: Vec<Value>,
}

impl Interner {
    pub(crate) fn intern(&mut self, v: &Value) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    pub(crate) fn intern_owned(&mut self, v: Value) -> u32 {
        if let Some(&id) = self.ids.get(&v) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v, id);
        id
    }

    /// The id of a value, if it was ever interned.
    pub(crate) fn lookup(&self, v: &Value) -> Option<u32> {
        self.ids.get(v).copied()
    }

    /// The value of an id; `None` for [`UNBOUND`].
    pub(crate) fn get(&self, id: u32) -> Option<&Value> {
        self.values.get(id as usize)
    }
}
