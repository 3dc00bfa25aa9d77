//! Shared by the TOML and CSV loaders: the known ids, text-to-value conversion, places.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::diag::{Place, did_you_mean};
use crate::facts::FieldValue;
use crate::ir::{Field, KindId, Program, RelId, RelKind, Relation, Type, Validity};
use crate::value::{Date, Decimal, Duration, Status, Value};
use crate::values::{ValueTable, may_grow, numbered, prefix_key};

use super::errors::CaseError;

/// Where something was written, cheap to keep for every entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    /// File `file` (index into the case's data files) at this position.
    Here { file: u32, pos: ShortPos },
    /// Defined by an earlier case loaded into the same fact set.
    Earlier { origin: crate::facts::OriginId },
    /// The `k`th id (counting non-empty cells from 0) of column `col` of the CSV file
    /// `file` read from byte `start`, the start of line `line`: a piece of an entity
    /// file, found again by reading the piece when a message needs the place (see
    /// [`super::csv_facts::nth_id_pos`]).
    Nth {
        file: u32,
        start: u32,
        line: u32,
        col: u32,
        k: u32,
    },
}

/// A [`super::csv::FieldPos`] in 16 bytes (case files are under 4 GiB), kept for every
/// entity a case defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ShortPos {
    pub line: u32,
    line_start: u32,
    start: u32,
    end: u32,
}

impl From<super::csv::FieldPos> for ShortPos {
    fn from(p: super::csv::FieldPos) -> ShortPos {
        let at = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        ShortPos {
            line: p.line,
            line_start: at(p.line_start),
            start: at(p.start),
            end: at(p.end),
        }
    }
}

impl From<ShortPos> for super::csv::FieldPos {
    fn from(p: ShortPos) -> super::csv::FieldPos {
        super::csv::FieldPos {
            line: p.line,
            line_start: p.line_start as usize,
            start: p.start as usize,
            end: p.end as usize,
        }
    }
}

/// The known entity ids: for each, its kind and its id in the fact set's value table.
///
/// Every entity reference of every row looks here, so the common shape of register ids,
/// a prefix and a number (`p17`, `c204`, `GB-COH-00412`'s `0412` is not: see
/// [`numbered`]), is kept as dense arrays indexed by the number, one per prefix: a
/// lookup is a parse and one read in a few megabytes, not a probe of a hash table of
/// every id (a cache and TLB miss per cell on large cases). Other ids, and numbers too
/// sparse for an array, go to a hash table of 32-byte slots. Where each id was defined is
/// kept apart, for diagnostics only.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntityMap {
    dense: Vec<Dense>,
    by_id: hashbrown::HashTable<Slot>,
    /// Room to make in `by_id` when its first id arrives (see [`EntityMap::reserve`]).
    hint: usize,
    /// (value id, where defined), in value id order while `sorted`.
    locs: Vec<(u32, Loc)>,
    sorted: bool,
    /// Pieces of entity files whose ids got consecutive value ids: (first value id,
    /// count, where the first was defined, a [`Loc::Nth`]); where the others were is
    /// that with `k` counted on (no place is kept per id).
    spans: Vec<(u32, u32, Loc)>,
}

/// The ids `prefix` + a number of one kind: `slots[n]` is the value id of id number `n`,
/// or [`EMPTY`]. When ids `0..len` are all there with value ids `base..base + len` (a
/// register numbered in order is interned in order), the array is dropped for
/// `affine = Some((base, len))`: a lookup then reads no memory at all.
#[derive(Debug, Clone)]
struct Dense {
    prefix: Box<[u8]>,
    /// [`prefix_key`] of `prefix`.
    key: u64,
    kind: KindId,
    slots: Vec<u32>,
    affine: Option<(u32, u32)>,
    count: usize,
}

impl Dense {
    /// The value id of number `n`, if defined.
    fn get(&self, n: u32) -> Option<u32> {
        match self.affine {
            Some((base, len)) => (n < len).then(|| base + n),
            None => self.slots.get(n as usize).copied().filter(|&v| v != EMPTY),
        }
    }

    /// Drops the array if it is affine (see [`Dense`]).
    fn compact(&mut self) {
        let Some(&base) = self.slots.first() else {
            return;
        };
        let affine = self.count == self.slots.len()
            && u32::try_from(self.slots.len()).is_ok_and(|len| base.checked_add(len).is_some())
            && self.slots.iter().zip(base..).all(|(&v, want)| v == want);
        if affine {
            self.affine = Some((base, self.slots.len() as u32));
            self.slots = Vec::new();
        }
    }

    /// Brings back the array of an affine part, to add to it.
    fn expand(&mut self) {
        if let Some((base, len)) = self.affine.take() {
            self.slots = (base..base + len).collect();
        }
    }
}

const EMPTY: u32 = u32::MAX;

/// At most this many prefixes get arrays; ids of further prefixes are hashed.
const MAX_DENSE_PREFIXES: usize = crate::values::MAX_NUMBERED_PREFIXES;

/// The array of `prefix` (whose [`prefix_key`] is `key`), if there is one.
fn find_dense(dense: &[Dense], prefix: &[u8], key: u64) -> Option<usize> {
    dense
        .iter()
        .position(|d| d.key == key && (key != u64::MAX || *d.prefix == *prefix))
}

/// One entity id in [`EntityMap`]'s hash table: the id (inline if short), its value id
/// and kind.
#[derive(Debug, Clone)]
struct Slot {
    key: IdKey,
    value: u32,
    kind: KindId,
}

fn hash_id(id: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(id);
    h.write_usize(id.len());
    h.finish()
}

impl EntityMap {
    /// The value id and kind of entity `id`.
    pub fn get(&self, id: &str) -> Option<(u32, KindId)> {
        let id = id.as_bytes();
        if let Some((prefix, n)) = numbered(id)
            && let Some(d) =
                find_dense(&self.dense, prefix, prefix_key(prefix)).map(|i| &self.dense[i])
            && let Some(value) = d.get(n)
        {
            return Some((value, d.kind));
        }
        if self.by_id.is_empty() {
            return None;
        }
        self.by_id
            .find(hash_id(id), |s| s.key.bytes() == id)
            .map(|s| (s.value, s.kind))
    }

    /// [`EntityMap::get`] of `id`, an id of a column: through `last`, the array of the
    /// prefix the column's last numbered id had, when `id` is that prefix and a number
    /// the array has (a column's ids nearly always share a prefix: `p17`, `p18`),
    /// without parsing the prefix again or looking for its array.
    #[inline(always)]
    pub(crate) fn get_in_column(
        &self,
        last: &mut Option<(Box<[u8]>, usize)>,
        id: &str,
    ) -> Option<(u32, KindId)> {
        let bytes = id.as_bytes();
        if let Some((prefix, at)) = last
            && let Some(digits) = bytes.get(prefix.len()..)
            && super::csv_facts::same(&bytes[..prefix.len()], prefix)
            && let Some(n) = crate::values::number(digits)
            && let Some(d) = self.dense.get(*at)
            && let Some(value) = d.get(n)
        {
            return Some((value, d.kind));
        }
        // The prefix of a numbered id never ends in a digit (its number takes them
        // all), so an id that is it and digits has it as its prefix.
        if let Some((prefix, _)) = numbered(bytes)
            && let Some(at) = find_dense(&self.dense, prefix, prefix_key(prefix))
        {
            *last = Some((prefix.into(), at));
        }
        self.get(id)
    }

    /// Adds `id` unless known: `Ok(its new value id)` (from `value_of`, called only
    /// then), or `Err(the known one's value id)`.
    pub fn add(
        &mut self,
        id: &Arc<str>,
        kind: KindId,
        loc: Loc,
        value_of: impl FnOnce() -> u32,
    ) -> Result<u32, u32> {
        if let Some((known, _)) = self.get(id) {
            return Err(known);
        }
        let value = value_of();
        if !self.add_dense(id.as_bytes(), kind, value) {
            if self.by_id.is_empty() && self.hint > 0 {
                self.by_id
                    .reserve(std::mem::take(&mut self.hint), |s| hash_id(s.key.bytes()));
            }
            let bytes = id.as_bytes();
            self.by_id.insert_unique(
                hash_id(bytes),
                Slot {
                    key: IdKey::new(id),
                    value,
                    kind,
                },
                |s| hash_id(s.key.bytes()),
            );
        }
        self.sorted =
            self.locs.is_empty() || (self.sorted && self.locs[self.locs.len() - 1].0 < value);
        self.locs.push((value, loc));
        Ok(value)
    }

    /// The array of ids `prefix` + a number, made (for `kind`) if there is room for one
    /// more; an existing one may be of another kind.
    fn dense_array(&mut self, prefix: &[u8], kind: KindId) -> Option<usize> {
        let key = prefix_key(prefix);
        if let Some(at) = find_dense(&self.dense, prefix, key) {
            return Some(at);
        }
        if self.dense.len() >= MAX_DENSE_PREFIXES {
            return None;
        }
        self.dense.push(Dense {
            prefix: prefix.into(),
            key,
            kind,
            slots: Vec::new(),
            affine: None,
            count: 0,
        });
        Some(self.dense.len() - 1)
    }

    /// Puts the new id `id` in an array if it is numbered, its prefix has one (or may
    /// get one) of its kind, and the array may hold its number.
    fn add_dense(&mut self, id: &[u8], kind: KindId, value: u32) -> bool {
        let Some((prefix, n)) = numbered(id) else {
            return false;
        };
        let Some(at) = self.dense_array(prefix, kind) else {
            return false;
        };
        let d = &mut self.dense[at];
        if d.kind != kind {
            return false;
        }
        d.expand();
        let n = n as usize;
        if n >= d.slots.len() {
            if !may_grow(d.count, n as u32) {
                return false;
            }
            d.slots.resize(n + 1, EMPTY);
        }
        d.slots[n] = value;
        d.count += 1;
        true
    }

    /// The array of ids `prefix` + a number of kind `kind`, made if there is room, with
    /// room for numbers up to `max` once `more` more ids are in: `None` if the ids
    /// cannot all go there (the caller then adds each with [`EntityMap::add`]).
    pub(crate) fn dense_room(
        &mut self,
        prefix: &[u8],
        kind: KindId,
        more: usize,
        max: u32,
    ) -> Option<usize> {
        // An id in the hash table might be one of these (a number once too far for the
        // array): each id must then be looked for there too.
        if !self.by_id.is_empty() {
            return None;
        }
        let at = self.dense_array(prefix, kind)?;
        let d = &mut self.dense[at];
        if d.kind != kind || !may_grow(d.count + more, max) {
            return None;
        }
        // An affine array stays so while ids arrive in order (see `add_numbered`):
        // a register read in pieces is not brought back and checked again per piece.
        if d.affine.is_none() && max as usize >= d.slots.len() {
            d.slots.resize(max as usize + 1, EMPTY);
        }
        Some(at)
    }

    /// The value id of number `n` of array `at` ([`EntityMap::dense_room`]), if defined.
    pub(crate) fn dense_get(&self, at: usize, n: u32) -> Option<u32> {
        self.dense.get(at)?.get(n)
    }

    /// Defines number `n` of array `at` (not defined yet) as value id `value`; where, is
    /// said after ([`EntityMap::defined_at`], [`EntityMap::defined_span`]).
    pub(crate) fn add_numbered(&mut self, at: usize, n: u32, value: u32) {
        let d = &mut self.dense[at];
        d.count += 1;
        if let Some((base, len)) = &mut d.affine {
            if n == *len && value == *base + *len {
                *len += 1;
                return;
            }
            d.expand();
        }
        if n as usize >= d.slots.len() {
            d.slots.resize(n as usize + 1, EMPTY);
        }
        d.slots[n as usize] = value;
    }

    /// Defines numbers `ns` of array `at` (strictly increasing, none defined yet) as
    /// value ids `first`, `first + 1`, … as [`EntityMap::add_numbered`] would one by one.
    pub(crate) fn add_numbered_many(&mut self, at: usize, ns: &[u32], first: u32) {
        let d = &mut self.dense[at];
        if let (Some((base, len)), Some(&n0)) = (&mut d.affine, ns.first())
            && n0 == *len
            && first == *base + *len
            && ns.windows(2).all(|w| w[1] == w[0] + 1)
        {
            *len += ns.len() as u32;
            d.count += ns.len();
            return;
        }
        for (value, &n) in (first..).zip(ns) {
            self.add_numbered(at, n, value);
        }
    }

    /// Entity `value` was defined at `loc`.
    pub(crate) fn defined_at(&mut self, value: u32, loc: Loc) {
        self.sorted =
            self.locs.is_empty() || (self.sorted && self.locs[self.locs.len() - 1].0 < value);
        self.locs.push((value, loc));
    }

    /// Entities `first..first + count` were defined in order from `loc`, a [`Loc::Nth`]
    /// with `k` 0.
    pub(crate) fn defined_span(&mut self, first: u32, count: u32, loc: Loc) {
        self.spans.push((first, count, loc));
    }

    /// Room for `n` more ids: their definitions now, hash slots when the first id that
    /// is not numbered arrives (numbered ids, the usual case, need none).
    pub fn reserve(&mut self, n: usize) {
        self.hint = self.hint.max(n);
        self.locs.reserve(n);
    }

    /// Sorts the definitions for [`EntityMap::loc`] (new ids are interned in order, so
    /// they usually are already).
    pub fn finish(&mut self) {
        for d in &mut self.dense {
            d.compact();
        }
        if !self.sorted {
            self.locs.sort_by_key(|(v, _)| *v);
            self.sorted = true;
        }
    }

    /// Where the entity with value id `value` was defined.
    pub fn loc(&self, value: u32) -> Option<Loc> {
        for &(first, count, loc) in &self.spans {
            if let (
                Some(k),
                Loc::Nth {
                    file,
                    start,
                    line,
                    col,
                    ..
                },
            ) = (value.checked_sub(first).filter(|&k| k < count), loc)
            {
                return Some(Loc::Nth {
                    file,
                    start,
                    line,
                    col,
                    k,
                });
            }
        }
        if self.sorted {
            let i = self.locs.binary_search_by_key(&value, |(v, _)| *v).ok()?;
            return Some(self.locs[i].1);
        }
        self.locs.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
    }

    pub fn len(&self) -> usize {
        self.by_id.len() + self.dense.iter().map(|d| d.count).sum::<usize>()
    }

    /// Every id, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        let dense = self.dense.iter().flat_map(|d| {
            let prefix = String::from_utf8_lossy(&d.prefix);
            let len = d.affine.map_or(d.slots.len() as u32, |(_, len)| len);
            (0..len)
                .filter(|&n| d.get(n).is_some())
                .map(move |n| format!("{prefix}{n}"))
        });
        dense.chain(self.by_id.iter().map(|s| s.key.as_str().to_string()))
    }
}

/// An entity id as a hash key. Ids of up to 22 bytes are stored inline, so a lookup
/// compares them without following a pointer (a cache miss per cell on large cases).
#[derive(Debug, Clone)]
pub(crate) enum IdKey {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Arc<str>),
}

impl IdKey {
    pub fn new(id: &Arc<str>) -> IdKey {
        let mut bytes = [0u8; 22];
        match bytes.get_mut(..id.len()) {
            Some(slot) => {
                slot.copy_from_slice(id.as_bytes());
                IdKey::Inline {
                    len: id.len() as u8,
                    bytes,
                }
            }
            None => IdKey::Heap(id.clone()),
        }
    }

    /// The id's bytes (no UTF-8 check: ids are made from `&str`).
    pub fn bytes(&self) -> &[u8] {
        match self {
            IdKey::Inline { len, bytes } => &bytes[..*len as usize],
            IdKey::Heap(s) => s.as_bytes(),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            IdKey::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..*len as usize]).unwrap_or_default()
            }
            IdKey::Heap(s) => s,
        }
    }
}

/// Suggestions scan every id; above this many ids they are skipped.
const SUGGEST_LIMIT: usize = 5_000;

/// What a fact is checked against: the schema, the entity ids and the source ids.
pub(crate) struct Ctx<'a> {
    pub program: &'a Program,
    pub entities: EntityMap,
    pub sources: FxHashMap<Arc<str>, ()>,
    /// The fact set's value table, once the case's entity ids are in it.
    pub values: Arc<ValueTable>,
}

impl Ctx<'_> {
    /// The value of a known entity id (sharing the table's copy of the id), else a new
    /// entity value.
    pub fn entity_value(&self, id: &str) -> Value {
        self.entities
            .get(id)
            .and_then(|(v, _)| self.values.get(v).cloned())
            .unwrap_or_else(|| Value::entity(id))
    }

    /// A reference to an entity of one of `kinds` (any kind if empty).
    pub fn entity(&self, kinds: &[KindId], id: &str) -> Result<Value, CaseError> {
        let Some((value, kind)) = self.entities.get(id) else {
            let suggestion = if self.entities.len() <= SUGGEST_LIMIT {
                let ids: Vec<String> = self.entities.ids().collect();
                did_you_mean(id, ids.iter().map(String::as_str)).map(String::from)
            } else {
                None
            };
            return Err(CaseError::UnknownEntity {
                id: id.to_string(),
                suggestion,
            });
        };
        if !kinds.is_empty() && !kinds.contains(&kind) {
            return Err(CaseError::WrongKind {
                id: id.to_string(),
                is: format!("of kind `{}`", self.program.kind(kind).name),
                expected: self.type_name(&Type::Entity(kinds.to_vec())),
            });
        }
        Ok(self
            .values
            .get(value)
            .cloned()
            .unwrap_or_else(|| Value::entity(id)))
    }

    /// A cited source id, shared with the case's table.
    pub fn source(&self, id: &str) -> Result<Arc<str>, CaseError> {
        match self.sources.get_key_value(id) {
            Some((k, _)) => Ok(k.clone()),
            None => Err(CaseError::UnknownSource {
                id: id.to_string(),
                suggestion: did_you_mean(id, self.sources.keys().map(|k| &**k)).map(String::from),
            }),
        }
    }

    /// How a type reads in a message: `a number`, `a \`person\` or \`org\` id`.
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Text => "text".into(),
            Type::Number => "a number".into(),
            Type::Date => "a date".into(),
            Type::Duration => "a duration".into(),
            Type::Bool => "`true` or `false`".into(),
            Type::Entity(ks) if ks.is_empty() => "an entity id".into(),
            Type::Entity(ks) => {
                let names: Vec<String> = ks
                    .iter()
                    .filter_map(|k| self.program.kinds.get(k.0 as usize))
                    .map(|k| format!("`{}`", k.name))
                    .collect();
                format!("a {} id", names.join(" or "))
            }
            Type::Any => "a value".into(),
        }
    }

    /// Converts written text (a CSV cell, a TOML string) to a value of `field`'s type.
    pub fn parse_text(&self, field: &Field, s: &str) -> Result<Value, CaseError> {
        match &field.ty {
            Type::Text | Type::Any => Ok(Value::Text(Arc::from(s))),
            Type::Number => parse_number(s)
                .map(Value::Number)
                .ok_or_else(|| CaseError::BadNumber { text: s.into() }),
            Type::Date => match day(s) {
                Some(d) => Ok(Value::Date(d)),
                None => Date::parse(s)
                    .map(Value::Date)
                    .map_err(|why| CaseError::BadDate {
                        text: s.into(),
                        why,
                    }),
            },
            Type::Duration => Duration::parse(s)
                .map(Value::Duration)
                .ok_or_else(|| CaseError::BadDuration { text: s.into() }),
            Type::Bool => match s {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(self.wrong_type(field, &format!("`{s}`"))),
            },
            Type::Entity(kinds) => self.entity(kinds, s),
        }
    }

    pub fn wrong_type(&self, field: &Field, found: &str) -> CaseError {
        CaseError::WrongType {
            field: field.name.clone(),
            expected: self.type_name(&field.ty),
            found: found.to_string(),
        }
    }

    /// The relation facts named `name` go to, or why they cannot.
    pub fn relation(&self, name: &str) -> Result<RelId, CaseError> {
        let Some(id) = self.program.rel_by_name(name) else {
            let given = self
                .program
                .relations
                .iter()
                .filter(|r| matches!(r.kind, RelKind::Base | RelKind::Entity(_)))
                .map(|r| r.name.as_str());
            return Err(CaseError::UnknownRelation {
                name: name.to_string(),
                suggestion: did_you_mean(name, given).map(String::from),
            });
        };
        match self.program.rel(id).kind {
            RelKind::Base | RelKind::Entity(_) => Ok(id),
            RelKind::Derived => Err(CaseError::DerivedRelation {
                name: name.into(),
                what: "a derived relation",
            }),
            RelKind::Rule(_) => Err(CaseError::DerivedRelation {
                name: name.into(),
                what: "the findings of a rule",
            }),
        }
    }
}

/// The keys every fact may carry besides its fields.
pub(crate) const META: [&str; 3] = ["source", "status", "note"];

/// `unknown_field`, suggesting a field or a meta key.
pub(crate) fn unknown_field(rel: &Relation, key: &str) -> CaseError {
    let names = rel.fields.iter().map(|f| f.name.as_str()).chain(META);
    CaseError::UnknownField {
        rel: rel.name.clone(),
        field: key.to_string(),
        suggestion: did_you_mean(key, names).map(String::from),
    }
}

pub(crate) fn parse_status(s: &str) -> Result<Status, CaseError> {
    Status::parse(s).ok_or_else(|| CaseError::BadStatus { text: s.into() })
}

/// The value of an absent field: an open end for `during` ends, otherwise none.
pub(crate) fn absent(rel: &Relation, i: usize) -> FieldValue {
    match rel.validity {
        Some(Validity::During { from, .. }) if from == i => {
            FieldValue::One(Value::Date(Date::NEG_INF))
        }
        Some(Validity::During { until, .. }) if until == i => {
            FieldValue::One(Value::Date(Date::POS_INF))
        }
        _ => FieldValue::One(Value::None),
    }
}

/// A valid `YYYY-MM-DD` without allocating (the common case in bulk data); anything
/// else is left to [`Date::parse`].
fn day(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + (c - b'0') as u32)
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let ok = (1..=12).contains(&m) && d >= 1 && d <= crate::value::days_in_month(y as i32, m);
    ok.then(|| Date::day(y as i32, m, d))
}

/// An exact decimal from `12`, `-3.5`, `1_000`, `1e6` or `2.5E-3`.
pub(crate) fn parse_number(s: &str) -> Option<Decimal> {
    let s: std::borrow::Cow<str> = if s.contains('_') {
        s.replace('_', "").into()
    } else {
        s.into()
    };
    let Some(e_at) = s.find(['e', 'E']) else {
        return Decimal::parse(&s);
    };
    let (mant, exp) = (&s[..e_at], &s[e_at + 1..]);
    if !mant.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let exp: i32 = exp.parse().ok().filter(|e: &i32| e.abs() <= 40)?;
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant.strip_prefix('+').unwrap_or(mant)),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    let shifted = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let d = Decimal::parse(&shifted)?;
    Some(if neg { Decimal(-d.0) } else { d })
}

/// A place in a data file: `line_start` is the byte offset of `line`, `start..end` the
/// bytes to underline (cut at the end of the line).
pub(crate) fn point(path: &str, text: &str, pos: super::csv::FieldPos) -> Place {
    let ls = pos.line_start.min(text.len());
    let rest = &text[ls..];
    let line_end = ls + rest.find(['\n', '\r']).unwrap_or(rest.len());
    let start = pos.start.clamp(ls, line_end);
    let end = pos.end.clamp(start, line_end);
    let chars = |a: usize, b: usize| text.get(a..b).map_or(0, |s| s.chars().count());
    Place::Point {
        path: path.to_string(),
        line: pos.line,
        col: chars(ls, start) as u32 + 1,
        len: (chars(start, end) as u32).max(1),
        line_text: text[ls..line_end].to_string(),
    }
}

/// Byte offsets of line starts, to turn TOML spans into lines.
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    pub fn new(text: &str) -> Lines {
        let mut v = vec![0];
        v.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(v)
    }
    /// The position of the byte range `start..end`.
    pub fn pos(&self, start: usize, end: usize) -> super::csv::FieldPos {
        let i = match self.0.binary_search(&start) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        super::csv::FieldPos {
            line: i as u32 + 1,
            line_start: self.0.get(i).copied().unwrap_or(0),
            start,
            end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbered_ids_added_in_pieces_stay_affine_while_in_order() {
        // Pieces in order (the array dropped after the first and extended after), then
        // a piece out of order, then one past the end: every id keeps its value.
        let mut map = EntityMap::default();
        let kind = KindId(0);
        let mut want: Vec<(u32, u32)> = Vec::new();
        let mut next = 100u32;
        let pieces: Vec<Vec<u32>> = vec![
            (0..1000).collect(),
            (1000..2500).collect(),
            (2500..2600).rev().collect(),
            (2600..2700).collect(),
            vec![2800, 2700],
        ];
        for (i, piece) in pieces.iter().enumerate() {
            let max = piece.iter().copied().max().unwrap_or(0);
            let at = map.dense_room(b"p", kind, piece.len(), max).expect("room");
            for &n in piece {
                assert_eq!(map.dense_get(at, n), None, "p{n} before");
                map.add_numbered(at, n, next);
                want.push((n, next));
                next += 1;
            }
            map.finish();
            let affine = map.dense[at].affine.is_some();
            assert_eq!(affine, i < 2, "piece {i}");
            for &(n, v) in &want {
                assert_eq!(map.get(&format!("p{n}")), Some((v, kind)), "p{n}");
            }
        }
        assert_eq!(map.get("p2750"), None);
        assert_eq!(map.get("p2801"), None);
    }

    #[test]
    fn case_numbers_are_exact() {
        let n = |s| parse_number(s).map(|d| d.to_string());
        assert_eq!(n("1e6"), Some("1000000".into()));
        assert_eq!(n("2.5E-3"), Some("0.0025".into()));
        assert_eq!(n("-1_000.5"), Some("-1000.5".into()));
        assert_eq!(n("0.1"), Some("0.1".into()));
        assert_eq!(n("1e999"), None);
        assert_eq!(n("12,5"), None);
        assert_eq!(n("inf"), None);
        assert_eq!(n("e5"), None);
    }

    #[test]
    fn case_fast_days_agree_with_date_parse() {
        for s in [
            "2024-02-29",
            "2025-02-29",
            "2025-12-31",
            "2025-00-10",
            "2025-1-10",
            "abcd-ef-gh",
        ] {
            let slow = Date::parse(s).ok();
            assert!(day(s).is_none() || day(s) == slow, "{s}");
            if s.len() == 10 {
                assert_eq!(day(s), slow, "{s}");
            }
        }
    }

    #[test]
    fn case_numbered_ids_split_into_prefix_and_canonical_number() {
        assert_eq!(numbered(b"p17"), Some((&b"p"[..], 17)));
        assert_eq!(numbered(b"0"), Some((&b""[..], 0)));
        assert_eq!(numbered(b"GB-C-9"), Some((&b"GB-C-"[..], 9)));
        assert_eq!(numbered(b"p999999999"), Some((&b"p"[..], 999_999_999)));
        for id in ["p017", "p", "17x", "p1234567890", "", "p00"] {
            assert_eq!(numbered(id.as_bytes()), None, "{id}");
        }
    }

    fn here(line: u32) -> Loc {
        Loc::Here {
            file: 0,
            pos: ShortPos {
                line,
                ..ShortPos::default()
            },
        }
    }

    /// Arrays and the hash table together answer exactly like one map, whatever the
    /// order and shape of the ids: numbered, padded, sparse, of two kinds per prefix,
    /// past the prefix limit, and defined twice.
    #[test]
    fn case_entity_map_answers_like_a_plain_map_for_every_shape_of_id() {
        let (person, org) = (KindId(0), KindId(1));
        let mut ids: Vec<(String, KindId)> = Vec::new();
        for n in (0..3000).rev() {
            ids.push((format!("p{n}"), person));
        }
        ids.push(("p900000000".into(), person)); // too sparse for the array
        ids.push(("p007".into(), person)); // not canonical: hashed
        ids.push(("x-1".into(), org));
        ids.push(("p3000".into(), org)); // a second kind under `p`: hashed
        for k in 0..20 {
            ids.push((format!("k{k}x{k}"), org)); // more prefixes than arrays
        }
        ids.push(("alice".into(), person));
        ids.push(("p12".into(), org)); // defined twice, as another kind
        ids.push(("p3000".into(), person)); // defined twice
        let mut map = EntityMap::default();
        map.reserve(ids.len());
        let mut plain: FxHashMap<String, (u32, KindId)> = FxHashMap::default();
        let mut next = 100u32;
        for (i, (id, kind)) in ids.iter().enumerate() {
            let got = map.add(&Arc::from(id.as_str()), *kind, here(i as u32), || {
                next += 1;
                next
            });
            match plain.get(id) {
                Some(&(v, _)) => assert_eq!(got, Err(v), "{id}"),
                None => {
                    assert_eq!(got, Ok(next), "{id}");
                    plain.insert(id.clone(), (next, *kind));
                }
            }
        }
        map.finish();
        assert_eq!(map.len(), plain.len());
        check(&map, &plain);
        // A register numbered in order, interned in order, keeps no array; adding to
        // it afterwards (a later file) brings the array back.
        let mut seq = EntityMap::default();
        let mut plain = FxHashMap::default();
        for n in 0..5000u32 {
            let id = format!("q{n}");
            assert_eq!(
                seq.add(&Arc::from(id.as_str()), person, here(n), || 7 + n),
                Ok(7 + n)
            );
            plain.insert(id, (7 + n, person));
        }
        seq.finish();
        assert!(seq.dense[0].slots.is_empty() && seq.dense[0].affine == Some((7, 5000)));
        check(&seq, &plain);
        assert_eq!(seq.add(&Arc::from("q5"), person, here(0), || 1), Err(12));
        assert_eq!(seq.add(&Arc::from("q5001"), person, here(0), || 1), Ok(1));
        plain.insert("q5001".into(), (1, person));
        seq.finish();
        assert_eq!(seq.dense[0].affine, None);
        check(&seq, &plain);
    }

    fn check(map: &EntityMap, plain: &FxHashMap<String, (u32, KindId)>) {
        for (id, want) in plain {
            assert_eq!(map.get(id), Some(*want), "{id}");
            assert_eq!(map.loc(want.0).map(|_| ()), Some(()), "{id}");
        }
        // A column's ids, each looked up after every other (whatever prefix the one
        // before left): what `get` finds.
        let mut all: Vec<&str> = plain.keys().map(String::as_str).collect();
        all.sort();
        let mut all: Vec<&str> = all.into_iter().step_by(29).collect();
        all.extend([
            "p12", "p3000", "p007", "alice", "x-1", "k3x3", "q5", "q5001",
        ]);
        all.extend([
            "p3001",
            "p900000001",
            "p07",
            "k25x25",
            "bob",
            "q5002",
            "q05",
            "",
            "p",
        ]);
        let mut last = None;
        for a in &all {
            for b in &all {
                for id in [a, b] {
                    assert_eq!(
                        map.get_in_column(&mut last, id),
                        map.get(id),
                        "{a} then {b}"
                    );
                }
            }
        }
        for id in [
            "p3001",
            "p900000001",
            "p07",
            "k25x25",
            "bob",
            "q1",
            "q5002",
            "q05",
            "",
        ] {
            if !plain.contains_key(id) {
                assert_eq!(map.get(id), None, "{id}");
            }
        }
        let mut listed: Vec<String> = map.ids().collect();
        listed.sort();
        let mut want: Vec<String> = plain.keys().cloned().collect();
        want.sort();
        assert_eq!(listed, want);
    }
}
