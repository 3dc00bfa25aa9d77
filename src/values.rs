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
//!
//! A register's entity ids (`p1` … `p1000000`) are not kept as values at all: the table
//! keeps their numbers, finds them by number, and makes a value only when evidence asks
//! for one (see [`Run`]). Joins compare ids, never these values.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::value::Value;

/// Every distinct value once; ids are indexes in insertion order.
#[derive(Debug, Clone, Default)]
pub struct ValueTable {
    /// The values kept as values, in id order: every id's but those in `runs`.
    values: Vec<Value>,
    /// (id, [`fold`] of the value's hash).
    index: HashTable<(u32, u32)>,
    /// Entity ids written as a prefix and a number, found by number rather than in
    /// `index` (see [`Numbered`]); each value is in one of the two.
    numbered: Vec<Numbered>,
    /// Ranges of ids whose values are not kept but made when first asked for (see
    /// [`Run`]), in id order.
    runs: Vec<Run>,
    /// How many ids `runs` hold: the table has `values.len() + hidden` ids.
    hidden: u32,
}

/// Ids `first..first + len` whose values are not kept in [`ValueTable::values`]: a
/// register's entity ids, written as a prefix and a number ([`ValueTable::push_numbered`]),
/// or the texts of a file no rule reads ([`ValueTable::add_lazy`]). A value is made when
/// its id is first asked for, with the others of its chunk, so a table of a million
/// entities holds four bytes per id until evidence shows some of them.
#[derive(Debug, Clone)]
struct Run {
    first: u32,
    len: u32,
    /// How many ids the runs before this one hold.
    before: u32,
    source: Source,
}

#[derive(Debug, Clone)]
enum Source {
    /// Entity ids of numbered array `at`: the `k`th is `prefix` and number
    /// `numbers.nth(k)`; made [`CHUNK`] at a time.
    Numbered {
        at: usize,
        prefix: Arc<str>,
        numbers: Numbers,
        chunks: Vec<OnceLock<Box<[Value]>>>,
    },
    Lazy(Arc<Lazy>),
}

/// Values of a numbered run made together.
const CHUNK: u32 = 1024;

/// The numbers of a run of numbered ids.
#[derive(Debug, Clone)]
enum Numbers {
    /// `from`, `from + 1`, …: a register written in order.
    From(u32),
    Each(Vec<u32>),
}

impl Numbers {
    fn nth(&self, k: u32) -> u32 {
        match self {
            Numbers::From(from) => from + k,
            Numbers::Each(ns) => ns[k as usize],
        }
    }
}

impl Run {
    /// The value of the run's `k`th id (`k < len`).
    fn get(&self, k: u32) -> Option<&Value> {
        match &self.source {
            Source::Lazy(l) => {
                let values = l.values.get_or_init(|| (0..l.len).map(&l.read).collect());
                values.get(k as usize)
            }
            Source::Numbered {
                prefix,
                numbers,
                chunks,
                ..
            } => {
                let c = k / CHUNK;
                let values = chunks.get(c as usize)?.get_or_init(|| {
                    let mut s = String::new();
                    (c * CHUNK..self.len.min((c + 1) * CHUNK))
                        .map(|k| {
                            use std::fmt::Write;
                            s.clear();
                            let _ = write!(s, "{prefix}{}", numbers.nth(k));
                            Value::entity(&s)
                        })
                        .collect()
                });
                values.get((k % CHUNK) as usize)
            }
        }
    }
}

/// Where an id's value is.
enum Place {
    /// `values[slot]`.
    Kept(usize),
    /// The `k`th of run `r`.
    Run(usize, u32),
}

/// The kept value of `id` (an id of the index: never one of a run) in a table's
/// `values` and `runs` ([`place`]).
fn kept<'v>(values: &'v [Value], runs: &[Run], hidden: u32, id: u32) -> &'v Value {
    match place(runs, hidden, id) {
        Place::Kept(slot) => &values[slot],
        Place::Run(..) => unreachable!("an indexed id is kept"),
    }
}

/// [`ValueTable::place`] over a table's runs (`hidden`: the ids they hold).
fn place(runs: &[Run], hidden: u32, id: u32) -> Place {
    let Some(last) = runs.last() else {
        return Place::Kept(id as usize);
    };
    if id >= last.first + last.len {
        // Past the last run: the usual case, values interned after the registers.
        return Place::Kept((id - hidden) as usize);
    }
    let i = runs.partition_point(|r| r.first <= id);
    let Some(r) = i.checked_sub(1).map(|i| &runs[i]) else {
        return Place::Kept(id as usize);
    };
    if id - r.first < r.len {
        Place::Run(i - 1, id - r.first)
    } else {
        Place::Kept((id - r.before - r.len) as usize)
    }
}

/// How a lazy value is read: the value of the `k`th id of its range.
pub(crate) type ReadLazy = Box<dyn Fn(u32) -> Value + Send + Sync>;

/// A range of `len` ids whose values `read` gives, all read together the first time one
/// is asked for. They are not in the index: nothing looks them up by value (see
/// [`ValueTable::add_lazy`]).
struct Lazy {
    len: u32,
    read: ReadLazy,
    values: OnceLock<Vec<Value>>,
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lazy")
            .field("len", &self.len)
            .field("read", &self.values.get().is_some())
            .finish()
    }
}

/// The entity ids `prefix` + a number ([`numbered`]) in the table: `ids[n]` is the
/// value id of number `n`, or [`NO_ID`]. A register's ids (`p1` … `p1000000`) are
/// kept here, four bytes each, and found by parsing the number: no hash, no probe of
/// the index. A number too far past the others for the array goes to the index, and
/// then `spilled` says the index must be asked too.
#[derive(Debug, Clone)]
struct Numbered {
    prefix: Box<[u8]>,
    /// [`prefix_key`] of `prefix`.
    key: u64,
    ids: Vec<u32>,
    count: usize,
    spilled: bool,
}

const NO_ID: u32 = u32::MAX;

/// At most this many prefixes are numbered; ids of further prefixes are hashed.
pub(crate) const MAX_NUMBERED_PREFIXES: usize = 16;

/// An array of numbered ids may grow to hold number `n` while at least a quarter of it
/// would be used (or it stays small), so memory is bounded by the ids it holds.
pub(crate) fn may_grow(count: usize, n: u32) -> bool {
    (n as usize) < 4 * (count + 1) + 4096
}

/// A prefix of up to 7 bytes as one integer (bytes and length), so finding its array
/// is a comparison of integers; `u64::MAX` for longer ones (compared as bytes).
pub(crate) fn prefix_key(prefix: &[u8]) -> u64 {
    if prefix.len() > 7 {
        return u64::MAX;
    }
    prefix
        .iter()
        .rev()
        .fold(prefix.len() as u64, |k, &b| (k << 8) | u64::from(b))
}

/// `id` as a prefix and a number written in canonical decimal (one to nine digits, no
/// leading zero): `p17` is (`p`, 17); `p017`, `p`, `17x` and `p1234567890` are not.
pub(crate) fn numbered(id: &[u8]) -> Option<(&[u8], u32)> {
    let digits = id.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (prefix, num) = id.split_at(id.len() - digits);
    Some((prefix, number(num)?))
}

/// `digits` as the number of a [`numbered`] id: one to nine decimal digits, no leading
/// zero.
#[inline(always)]
pub(crate) fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// What the numbered ids say of an entity id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByNumber {
    Found(u32),
    /// Not in the table.
    Absent,
    /// Not numbered here: the index decides.
    AskIndex,
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
        self.values.len() + self.hidden as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `n` more values (the index grows when values go to it: numbered entity
    /// ids, the usual large batch, need none).
    pub fn reserve(&mut self, n: usize) {
        self.values.reserve(n);
    }

    /// The array of numbered ids of `prefix`, if there is one.
    fn find_numbered(&self, prefix: &[u8]) -> Option<usize> {
        let key = prefix_key(prefix);
        self.numbered
            .iter()
            .position(|d| d.key == key && (key != u64::MAX || *d.prefix == *prefix))
    }

    /// The array of numbered ids of `prefix`, made if there is room for one more.
    fn numbered_array(&mut self, prefix: &[u8]) -> Option<usize> {
        if let Some(at) = self.find_numbered(prefix) {
            return Some(at);
        }
        if self.numbered.len() >= MAX_NUMBERED_PREFIXES {
            return None;
        }
        self.numbered.push(Numbered {
            prefix: prefix.into(),
            key: prefix_key(prefix),
            ids: Vec::new(),
            count: 0,
            spilled: false,
        });
        Some(self.numbered.len() - 1)
    }

    /// The array of numbered ids of `prefix`, made if there is room, with room for
    /// numbers up to `max` as [`may_grow`] allows once `more` more ids are in: `None`
    /// if ids of `prefix` cannot all be kept by number (the caller then interns each).
    pub(crate) fn numbered_room(&mut self, prefix: &[u8], more: usize, max: u32) -> Option<usize> {
        let at = self.numbered_array(prefix)?;
        let d = &mut self.numbered[at];
        if d.spilled || !may_grow(d.count + more, max) {
            return None;
        }
        if max as usize >= d.ids.len() {
            d.ids.resize(max as usize + 1, NO_ID);
        }
        Some(at)
    }

    /// The value id of number `n` of array `at` ([`ValueTable::numbered_room`]), if any.
    pub(crate) fn numbered_get(&self, at: usize, n: u32) -> Option<u32> {
        let id = *self.numbered.get(at)?.ids.get(n as usize)?;
        (id != NO_ID).then_some(id)
    }

    /// Adds entity id `v`, number `n` of array `at` (made room for by
    /// [`ValueTable::numbered_room`], and not in the table): its new id.
    /// Its value is not kept but made when asked for (see [`Run`]).
    pub(crate) fn push_numbered(&mut self, at: usize, n: u32) -> u32 {
        let id = self.len() as u32;
        let d = &mut self.numbered[at];
        d.ids[n as usize] = id;
        d.count += 1;
        let prefix = &d.prefix;
        self.hidden += 1;
        if let Some(r) = self.runs.last_mut()
            && r.first + r.len == id
            && let Source::Numbered {
                at: a,
                numbers,
                chunks,
                ..
            } = &mut r.source
            && *a == at
        {
            if let Numbers::From(from) = *numbers
                && from + r.len != n
            {
                *numbers = Numbers::Each((from..from + r.len).collect());
            }
            if let Numbers::Each(ns) = numbers {
                ns.push(n);
            }
            r.len += 1;
            let want = r.len.div_ceil(CHUNK) as usize;
            if chunks.len() < want {
                chunks.push(OnceLock::new());
            } else if let Some(last) = chunks.last_mut() {
                // A chunk made before this id was added is made again.
                *last = OnceLock::new();
            }
            return id;
        }
        self.runs.push(Run {
            first: id,
            len: 1,
            before: self.hidden - 1,
            source: Source::Numbered {
                at,
                prefix: Arc::from(String::from_utf8_lossy(prefix)),
                numbers: Numbers::From(n),
                chunks: vec![OnceLock::new()],
            },
        });
        id
    }

    /// Adds entity ids `ns` (strictly increasing numbers of array `at`, none in the
    /// table) as [`ValueTable::push_numbered`] one after another would: their ids are
    /// consecutive from the one returned. The run and its chunks are extended once.
    pub(crate) fn push_numbered_many(&mut self, at: usize, ns: &[u32]) -> u32 {
        let first = self.len() as u32;
        let Some((&n0, rest)) = ns.split_first() else {
            return first;
        };
        self.push_numbered(at, n0);
        let d = &mut self.numbered[at];
        for (id, &n) in (first + 1..).zip(rest) {
            d.ids[n as usize] = id;
        }
        d.count += rest.len();
        let more = rest.len() as u32;
        self.hidden += more;
        if let Some(r) = self.runs.last_mut()
            && let Source::Numbered {
                numbers, chunks, ..
            } = &mut r.source
        {
            let consecutive = rest.first().is_none_or(|&n| n == n0 + 1)
                && rest.windows(2).all(|w| w[1] == w[0] + 1);
            match numbers {
                Numbers::From(from) if consecutive && *from + r.len - 1 == n0 => {}
                Numbers::From(from) => {
                    let mut each: Vec<u32> = (*from..*from + r.len).collect();
                    each.extend_from_slice(rest);
                    *numbers = Numbers::Each(each);
                }
                Numbers::Each(each) => each.extend_from_slice(rest),
            }
            // The chunk the rest start in is `n0`'s or a new one: `push_numbered` made
            // `n0`'s again if it was made before.
            r.len += more;
            chunks.resize_with(r.len.div_ceil(CHUNK) as usize, OnceLock::new);
        }
        first
    }

    /// Where the value of `id` is.
    fn place(&self, id: u32) -> Place {
        place(&self.runs, self.hidden, id)
    }

    /// The kept value of `id`, which is in the index.
    fn kept(&self, id: u32) -> &Value {
        kept(&self.values, &self.runs, self.hidden, id)
    }

    /// Where the numbered ids have entity id `id`.
    fn by_number(&self, id: &str) -> ByNumber {
        if self.numbered.is_empty() {
            return ByNumber::AskIndex;
        }
        let Some((prefix, n)) = numbered(id.as_bytes()) else {
            return ByNumber::AskIndex;
        };
        let Some(d) = self.find_numbered(prefix).map(|at| &self.numbered[at]) else {
            return ByNumber::AskIndex;
        };
        match d.ids.get(n as usize) {
            Some(&v) if v != NO_ID => ByNumber::Found(v),
            _ if d.spilled => ByNumber::AskIndex,
            _ => ByNumber::Absent,
        }
    }

    /// [`ValueTable::by_number`] of a value (`AskIndex` for any but an entity id).
    fn value_by_number(&self, v: &Value) -> ByNumber {
        match v {
            Value::Entity(s) => self.by_number(s),
            _ => ByNumber::AskIndex,
        }
    }

    /// Keeps new value `v` with id `id` among the numbered ids if it is a numbered entity
    /// id whose array may hold it (`true`), else marks its prefix as spilled (`false`:
    /// the caller indexes it).
    fn number(&mut self, v: &Value, id: u32) -> bool {
        let Value::Entity(s) = v else {
            return false;
        };
        let Some((prefix, n)) = numbered(s.as_bytes()) else {
            return false;
        };
        let Some(at) = self.numbered_array(prefix) else {
            return false;
        };
        let d = &mut self.numbered[at];
        let n = n as usize;
        if n >= d.ids.len() {
            if !may_grow(d.count, n as u32) {
                d.spilled = true;
                return false;
            }
            // Doubling, so a register read in order grows its array in few steps.
            let len = (n + 1).max(d.ids.len() * 2).min(4 * (d.count + 1) + 4096);
            d.ids.resize(len.max(n + 1), NO_ID);
        }
        d.ids[n] = id;
        d.count += 1;
        true
    }

    /// The id of `v`, adding it if new.
    pub fn intern(&mut self, v: &Value) -> u32 {
        let h = hash_value(v);
        match self.find_value(h, v) {
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
        match self.find_str(h, kind, s) {
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
        self.find_value(h, v)
    }

    /// The id of `v` (whose [`hash_value`] is `h`), adding it (moved) if new.
    pub(crate) fn intern_hashed(&mut self, h: u64, v: Value) -> u32 {
        self.entry(h, v)
    }

    /// The id of `v`, if it is in the table.
    pub fn lookup(&self, v: &Value) -> Option<u32> {
        self.find_value(hash_value(v), v)
    }

    /// The id of the text or entity id `s`, if it is in the table.
    pub fn lookup_str(&self, kind: StrKind, s: &str) -> Option<u32> {
        self.find_str(hash_str(kind, s), kind, s)
    }

    /// The value of `id`.
    pub fn get(&self, id: u32) -> Option<&Value> {
        match self.place(id) {
            Place::Kept(slot) => self.values.get(slot),
            Place::Run(r, k) => self.runs[r].get(k),
        }
    }

    /// Gives `len` new ids to values read only when one of them is first asked for, by
    /// `read(k)` for the `k`th: the first id. Such a value is never found by
    /// [`ValueTable::lookup`] or [`ValueTable::intern`] (which would give an equal value
    /// an id of its own): they are for columns no rule reads, shown in evidence only.
    pub(crate) fn add_lazy(&mut self, len: u32, read: ReadLazy) -> u32 {
        let first = self.len() as u32;
        if len > 0 {
            self.runs.push(Run {
                first,
                len,
                before: self.hidden,
                source: Source::Lazy(Arc::new(Lazy {
                    len,
                    read,
                    values: OnceLock::new(),
                })),
            });
            self.hidden += len;
        }
        first
    }

    /// The values, in id order, giving up the table (one whose values are all kept, such
    /// as a file's own: values made when asked for are not in it).
    pub fn into_values(self) -> Vec<Value> {
        debug_assert!(self.runs.is_empty());
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
        let by_number = |i: usize| match kind {
            StrKind::Entity => self.by_number(strs[i]),
            StrKind::Text => ByNumber::AskIndex,
        };
        self.find_many(hashes, by_number, |i, x| is_str(kind, strs[i], x))
    }

    /// The id of each `i`th value looked for (its hash `hashes[i]`, `eq(i, _)` telling it
    /// from others), where present, probing the index in the order of its buckets.
    fn find_many(
        &self,
        hashes: &[u64],
        by_number: impl Fn(usize) -> ByNumber,
        eq: impl Fn(usize, &Value) -> bool,
    ) -> Vec<Option<u32>> {
        let mut out = vec![None; hashes.len()];
        if self.is_empty() {
            return out;
        }
        let mut order: Vec<u32> = Vec::with_capacity(hashes.len());
        for (i, slot) in out.iter_mut().enumerate() {
            match by_number(i) {
                ByNumber::Found(id) => *slot = Some(id),
                ByNumber::Absent => {}
                ByNumber::AskIndex => order.push(i as u32),
            }
        }
        if self.index.is_empty() {
            return out;
        }
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
        let known = self.find_many(
            &hashes,
            |i| self.value_by_number(&values[i]),
            |i, x| *x == values[i],
        );
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

    /// The id of `v` (hash `h`), if it is in the table.
    fn find_value(&self, h: u64, v: &Value) -> Option<u32> {
        match self.value_by_number(v) {
            ByNumber::Found(id) => Some(id),
            ByNumber::Absent => None,
            ByNumber::AskIndex => self.find(h, |x| x == v),
        }
    }

    /// The id of the text or entity id `s` (hash `h`), if it is in the table.
    fn find_str(&self, h: u64, kind: StrKind, s: &str) -> Option<u32> {
        let by_number = match kind {
            StrKind::Entity => self.by_number(s),
            StrKind::Text => ByNumber::AskIndex,
        };
        match by_number {
            ByNumber::Found(id) => Some(id),
            ByNumber::Absent => None,
            ByNumber::AskIndex => self.find(h, |x| is_str(kind, s, x)),
        }
    }

    fn find(&self, h: u64, eq: impl Fn(&Value) -> bool) -> Option<u32> {
        let h32 = fold(h);
        self.index
            .find(spread(h32), |&(id, kept)| kept == h32 && eq(self.kept(id)))
            .map(|&(id, _)| id)
    }

    /// The id of `v` (hash `h`), added if new: one probe sequence either way.
    fn entry(&mut self, h: u64, v: Value) -> u32 {
        if let Value::Entity(_) = v {
            return match self.find_value(h, &v) {
                Some(id) => id,
                None => self.insert_new(h, v),
            };
        }
        let h32 = fold(h);
        let id = self.len() as u32;
        let ValueTable {
            values,
            index,
            runs,
            hidden,
            ..
        } = self;
        let found = index.entry(
            spread(h32),
            |&(id, k)| k == h32 && *kept(values, runs, *hidden, id) == v,
            |&(_, k)| spread(k),
        );
        match found {
            hashbrown::hash_table::Entry::Occupied(e) => e.get().0,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert((id, h32));
                values.push(v);
                id
            }
        }
    }

    fn insert_new(&mut self, h: u64, v: Value) -> u32 {
        let id = self.len() as u32;
        if self.number(&v, id) {
            self.values.push(v);
            return id;
        }
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
        let id = self.table.len() as u32;
        if !self.table.number(&v, id) {
            self.pending.push((id, fold(h)));
        }
        self.table.values.push(v);
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
    fn numbered_entity_ids_are_found_whichever_way_they_came_in() {
        let mut t = ValueTable::new();
        let text = t.intern_str(StrKind::Text, "p3");
        let p3 = t.intern_str(StrKind::Entity, "p3");
        assert_ne!(text, p3);
        // In the array, beyond it (spilled to the index), not numbered, other prefixes
        // (more than get arrays), a leading zero.
        let mut ids = vec![("p3".to_string(), p3)];
        for s in [
            "p0",
            "p1",
            "p900000000",
            "p017",
            "x",
            "p",
            "q12",
            "GB-12",
            "p2",
        ] {
            ids.push((s.to_string(), t.intern(&Value::entity(s))));
        }
        for k in 0..40 {
            let s = format!("k{k}x{}", k * 3);
            ids.push((s.clone(), t.intern_owned(Value::entity(&s))));
        }
        {
            let mut b = t.batch();
            for n in 10..6000u32 {
                let s = format!("p{n}");
                let v = Value::entity(&s);
                ids.push((s, b.push_new(hash_value(&v), v)));
            }
        }
        let far: Vec<Value> = (0..5000)
            .map(|n| Value::entity(&format!("z{}", n * 1000)))
            .collect();
        let far_ids = t.intern_distinct(far.clone());
        ids.extend(far.iter().map(|v| v.to_string()).zip(far_ids));
        let mut seen = std::collections::HashSet::new();
        for (s, id) in &ids {
            assert!(seen.insert(*id), "{s} has an id of its own");
            assert_eq!(t.get(*id), Some(&Value::entity(s)), "{s}");
            assert_eq!(t.lookup_str(StrKind::Entity, s), Some(*id), "{s}");
            assert_eq!(t.lookup(&Value::entity(s)), Some(*id), "{s}");
            assert_eq!(t.intern_str(StrKind::Entity, s), *id, "{s}");
        }
        let strs: Vec<&str> = ids.iter().map(|(s, _)| s.as_str()).collect();
        let hashes: Vec<u64> = strs.iter().map(|s| hash_str(StrKind::Entity, s)).collect();
        let want: Vec<Option<u32>> = ids.iter().map(|(_, id)| Some(*id)).collect();
        assert_eq!(t.lookup_strs(StrKind::Entity, &strs, &hashes), want);
        assert_eq!(t.lookup_str(StrKind::Text, "p3"), Some(text));
        for absent in ["p4", "p5999999", "p6000", "z1", "k1x4", "p00"] {
            assert_eq!(t.lookup_str(StrKind::Entity, absent), None, "{absent}");
        }
        assert_eq!(t.len(), ids.len() + 1);
    }

    #[test]
    fn ids_kept_by_number_or_read_lazily_have_their_values_among_kept_ones() {
        let mut t = ValueTable::new();
        let mut want: Vec<Value> = Vec::new();
        let keep = |t: &mut ValueTable, want: &mut Vec<Value>, v: Value| {
            assert_eq!(t.intern(&v) as usize, want.len());
            want.push(v);
        };
        keep(&mut t, &mut want, Value::text("before"));
        // A register in order (one run across chunks), one out of order, two prefixes
        // taking turns, a lazy range between, and values kept between and after.
        let p = t.numbered_room(b"p", 3000, 2999).expect("room");
        for n in 0..3000u32 {
            assert_eq!(t.push_numbered(p, n) as usize, want.len());
            want.push(Value::entity(&format!("p{n}")));
            if n == 1500 {
                // Asked for while its run grows: made again with the later ids.
                assert_eq!(t.get(want.len() as u32 - 1), want.last());
            }
        }
        keep(&mut t, &mut want, Value::Date(Date::POS_INF));
        let q = t.numbered_room(b"q", 10, 40).expect("room");
        for n in [7u32, 3, 40, 0] {
            assert_eq!(t.push_numbered(q, n) as usize, want.len());
            want.push(Value::entity(&format!("q{n}")));
        }
        let first = t.add_lazy(5, Box::new(|k| Value::text(&format!("lazy {k}"))));
        assert_eq!(first as usize, want.len());
        want.extend((0..5).map(|k| Value::text(&format!("lazy {k}"))));
        let p = t.numbered_room(b"p", 2, 3001).expect("room");
        for n in [3001u32, 3000] {
            assert_eq!(t.push_numbered(p, n) as usize, want.len());
            want.push(Value::entity(&format!("p{n}")));
        }
        for i in 0..3000 {
            keep(&mut t, &mut want, Value::text(&format!("after {i}")));
        }
        assert_eq!(t.len(), want.len());
        for (id, v) in want.iter().enumerate() {
            assert_eq!(t.get(id as u32), Some(v), "id {id}");
            if !matches!(v, Value::Text(s) if s.starts_with("lazy")) {
                assert_eq!(t.lookup(v), Some(id as u32), "{v:?}");
                assert_eq!(t.intern(v), id as u32, "{v:?}");
            }
        }
        assert_eq!(t.get(want.len() as u32), None);
        assert_eq!(t.lookup_str(StrKind::Entity, "q8"), None);
        assert_eq!(t.lookup_str(StrKind::Entity, "p3002"), None);
        assert_eq!(t.intern(&Value::entity("q8")) as usize, want.len());
        let copy = t.clone();
        assert_eq!(copy.get(2), Some(&Value::entity("p1")));
    }

    #[test]
    fn numbered_ids_added_at_once_are_the_ids_added_one_by_one() {
        // Pieces in order (across chunk boundaries), one with gaps, one continuing a
        // run that was read in between (its last chunk made before it grew).
        let pieces: [&[u32]; 5] = [&[0, 1, 2], &[3, 4, 5, 6], &[], &[10, 12, 13], &[14]];
        let mut one = ValueTable::new();
        let mut many = ValueTable::new();
        for t in [&mut one, &mut many] {
            t.intern_str(StrKind::Text, "before");
        }
        let long: Vec<u32> = (100..2600).collect();
        for (k, ns) in pieces
            .iter()
            .copied()
            .chain([&long[..], &[2600, 2601]])
            .enumerate()
        {
            let max = ns.iter().copied().max().unwrap_or(0);
            let a = one.numbered_room(b"p", ns.len(), max).expect("room");
            let b = many.numbered_room(b"p", ns.len(), max).expect("room");
            let firsts: Vec<u32> = ns.iter().map(|&n| one.push_numbered(a, n)).collect();
            let first = many.push_numbered_many(b, ns);
            let want: Vec<u32> = (first..).take(ns.len()).collect();
            assert_eq!(firsts, want, "piece {k}");
            // Each asked for at once: its chunk made while the run is short, made again
            // once the run is longer.
            for (id, n) in (first..).zip(ns) {
                assert_eq!(many.get(id), Some(&Value::entity(&format!("p{n}"))));
            }
        }
        assert_eq!(many.len(), one.len());
        for id in 0..one.len() as u32 {
            assert_eq!(many.get(id), one.get(id), "id {id}");
            if let Some(v) = one.get(id) {
                assert_eq!(many.lookup(v), Some(id), "{v:?}");
            }
        }
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
