//! Runs a compiled clause: nested index lookups over flat tuples, antijoins, filters,
//! aggregates per group, and derivation of head tuples with their provenance.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::compile::{AggOp, CollectOp, Op, PartialScan, Src, Val};
use super::expr::{self, ExprError, Scope};
use super::intern::{Interner, UNBOUND};
use super::partial::Run;
use super::provenance::Prov;
use super::relation::{Candidates, Index, Rel};
use crate::diag::Span;
use crate::ir::Literal;
use crate::plan::Source;
use crate::syntax::ast::{AggFunc, BinOp};
use crate::value::{Decimal, Value};

/// Why a clause stopped.
#[derive(Debug)]
pub(crate) enum Fail {
    Expr(ExprError),
    /// The derived-tuple budget is spent.
    Limit,
    /// One aggregate group ranges over more distinct bindings than the limit.
    AggLimit,
}

impl From<ExprError> for Fail {
    fn from(e: ExprError) -> Fail {
        Fail::Expr(e)
    }
}

/// Tuples derived in the current iteration, not yet visible to reads.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) rel: Rel,
    pub(crate) prov: Prov,
}

/// Per aggregate: results per group key (the body reads lower strata only, so a group's
/// result never changes during a stratum), and the scratch of the group being computed.
#[derive(Debug, Default)]
pub(crate) struct AggState {
    cache: FxHashMap<Vec<u32>, u32>,
    /// Per cached group: the result id (or `UNBOUND` for none) and its premises.
    results: Vec<(u32, u32, u32)>,
    prems: Vec<(u32, u32)>,
    /// Per distinct binding of the body's named variables: its group in the scratch.
    seen: FxHashMap<Vec<u32>, u32>,
    acc: Option<Value>,
    count: u64,
    /// With provenance: per distinct binding, the premises of its least binding (by
    /// fact ids, then values), `width` at a time.
    scratch_prems: Vec<(u32, u32)>,
    width: usize,
    /// Index into `results` of the group in the current binding.
    current: usize,
}

/// Two derivations of one block (their premises `a` and `b`): by their atoms' fact ids
/// (none for a derived premise), then by their atoms' values.
pub(crate) fn derivation_order(
    rels: &[Rel],
    provs: &[Prov],
    values: &Interner,
    a: &[(u32, u32)],
    b: &[(u32, u32)],
) -> std::cmp::Ordering {
    let fact = |&(rel, index): &(u32, u32)| {
        provs
            .get(rel as usize)
            .and_then(|p| p.get(index as usize))
            .filter(|r| r.clause == super::provenance::BASE)
            .map(|r| r.bind)
    };
    let facts = a.iter().map(fact).cmp(b.iter().map(fact));
    facts.then_with(|| {
        let vals = |&(rel, index): &(u32, u32)| {
            rels[rel as usize]
                .tuple(index)
                .iter()
                .map(|&id| values.get(id).cloned())
                .collect::<Vec<_>>()
        };
        a.iter().map(vals).cmp(b.iter().map(vals))
    })
}

/// Everything a clause run reads and writes.
pub(crate) struct Exec<'a, 'p> {
    pub(crate) rels: &'a [Rel],
    /// The derivations of `rels`' tuples (empty without provenance).
    pub(crate) provs: &'a [Prov],
    pub(crate) values: &'a mut Interner,
    pub(crate) params: &'a [Value],
    pub(crate) out: &'a mut Pending,
    pub(crate) aggs: &'a mut [AggState],
    pub(crate) head: usize,
    pub(crate) head_vals: &'a [Val<'p>],
    pub(crate) clause: u32,
    pub(crate) top_atoms: &'a [usize],
    pub(crate) env: Vec<u32>,
    pub(crate) prem: Vec<(u32, u32)>,
    pub(crate) buf: Vec<u32>,
    pub(crate) prem_buf: Vec<(u32, u32)>,
    /// How many more tuples may be derived.
    pub(crate) budget: u64,
    /// Most distinct bindings one aggregate group may range over.
    pub(crate) max_agg_bindings: u64,
    pub(crate) provenance: bool,
    pub(crate) max_agg_premises: usize,
    /// A part of a run split over threads: this scan op walks only tuples `lo..hi`
    /// (see `fixpoint::Engine::run_split`).
    pub(crate) outer: Option<(&'a Op<'p>, u32, u32)>,
    /// Per [`super::compile::MemoAt`] slot: results kept by the variables' ids.
    pub(crate) memos: &'a mut [Memo],
}

/// The results of one filter or assignment by the ids of its variables (a key of two
/// ids): a direct-mapped table, made at the first use, given up when fewer than a
/// quarter of the first few thousand lookups find their key (a column whose values
/// hardly repeat), and made larger when they do find it (a date column compared with a
/// constant holds some thousands of days). A result is the same whichever way it is
/// found, and a computed value is interned when first computed, as without the memo, so
/// nothing depends on it.
///
/// A memo of one variable keeps its results by the variable's id instead, in pages
/// made as ids arrive: no two ids share a place, so a column of some thousands of
/// values (its ids close together, as a file's values are interned together) is
/// computed once per value however its rows are ordered. It is given up when a trial
/// finds few results and has made many pages (ids that hardly repeat, far apart).
#[derive(Debug, Default)]
pub(crate) struct Memo {
    slots: Vec<(u64, u32)>,
    pages: Vec<Option<Box<[u32]>>>,
    made: usize,
    asked: u32,
    found: u32,
    off: bool,
}

/// A memo's slots at first and at most (powers of two), and lookups before it may give
/// up or grow.
const MEMO_FIRST: usize = 1024;
const MEMO_MOST: usize = 8192;
const MEMO_TRIAL: u32 = 4096;
/// A memo's empty slot (no key is two unbound ids).
const MEMO_EMPTY: u64 = u64::MAX;
/// A kept assignment that gave no value.
const MEMO_NONE: u32 = u32::MAX;
/// Ids per page of a memo of one variable (a power of two), and a page's empty place.
const PAGE: usize = 1024;
const PAGE_EMPTY: u32 = u32::MAX - 1;
/// Lookups of a memo of one variable before it may give up, and the pages it may make
/// before then without giving up.
const PAGE_TRIAL: u32 = 16_384;
const PAGES_KEPT: usize = 64;

impl Memo {
    /// The slot of `key` in a table of `len` slots.
    fn slot(key: u64, len: usize) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - len.trailing_zeros())) as usize
    }

    /// The result kept for `key`; `one`: the key is one variable's id.
    fn get(&mut self, key: u64, one: bool) -> Option<u32> {
        if self.off {
            return None;
        }
        if one {
            return self.get_one(key as u32);
        }
        if self.slots.is_empty() {
            self.slots = vec![(MEMO_EMPTY, 0); MEMO_FIRST];
        }
        self.asked = self.asked.saturating_add(1);
        let (k, v) = self.slots[Memo::slot(key, self.slots.len())];
        if k == key {
            self.found += 1;
            return Some(v);
        }
        if self.asked == MEMO_TRIAL {
            if self.found < MEMO_TRIAL / 4 {
                self.off = true;
                self.slots = Vec::new();
            } else {
                let mut larger = vec![(MEMO_EMPTY, 0); MEMO_MOST];
                for &(k, v) in self.slots.iter().filter(|(k, _)| *k != MEMO_EMPTY) {
                    larger[Memo::slot(k, MEMO_MOST)] = (k, v);
                }
                self.slots = larger;
            }
        }
        None
    }

    fn get_one(&mut self, id: u32) -> Option<u32> {
        self.asked = self.asked.saturating_add(1);
        let at = id as usize;
        let kept = (self.pages.get(at / PAGE))
            .and_then(|p| p.as_ref())
            .map(|p| p[at % PAGE])
            .filter(|&v| v != PAGE_EMPTY);
        if kept.is_some() {
            self.found += 1;
        } else if self.asked == PAGE_TRIAL && self.found < PAGE_TRIAL / 4 && self.made > PAGES_KEPT
        {
            self.off = true;
            self.pages = Vec::new();
        }
        kept
    }

    /// Keeps `v` for `key` ([`Memo::get`]).
    fn put(&mut self, key: u64, v: u32, one: bool) {
        if one {
            if self.off {
                return;
            }
            let at = key as usize;
            if self.pages.len() <= at / PAGE {
                self.pages.resize_with(at / PAGE + 1, || None);
            }
            let page = &mut self.pages[at / PAGE];
            if page.is_none() {
                self.made += 1;
            }
            page.get_or_insert_with(|| vec![PAGE_EMPTY; PAGE].into_boxed_slice())[at % PAGE] = v;
            return;
        }
        let len = self.slots.len();
        if let Some(s) = self.slots.get_mut(Memo::slot(key, len.max(1))) {
            *s = (key, v);
        }
    }
}

/// Tuples whose next lookups are warmed together (see [`Exec::warm`]).
const AHEAD: u32 = 16;

/// Tuples found this close after one another are in the cache already, or soon: the
/// processor reads ahead of a walk in order.
const CLOSE: u32 = 16;

/// Whether a scan warms its next lookups (see [`Exec::warm`]): after a batch whose
/// lookups found tuples close to one another, the next [`Warmth::REST`] batches are
/// not warmed, then one is again, to look.
#[derive(Default)]
struct Warmth {
    rest: u32,
}

impl Warmth {
    const REST: u32 = 15;

    /// Warms the batch (`warm`, true if its tuples were close) unless resting.
    fn batch(&mut self, warm: impl FnOnce() -> bool) {
        if self.rest > 0 {
            self.rest -= 1;
        } else if warm() {
            self.rest = Warmth::REST;
        }
    }
}

/// A lookup's key (of up to four columns), taken from a tuple about to be visited.
struct Ahead {
    rel: usize,
    index: usize,
    /// The partial index the lookup reads instead of `index`, if any.
    partial: Option<usize>,
    key: [KeyPart; 4],
}

#[derive(Clone, Copy)]
enum KeyPart {
    /// Column of the tuple.
    Col(usize),
    /// Fixed while the scan runs.
    Fixed(u32),
}

/// The tuples of `r` a scan from `s` reads.
pub(crate) fn range(r: &Rel, s: Source) -> (u32, u32) {
    match s {
        Source::Full | Source::StableRecent => (0, r.recent),
        Source::Delta => (r.stable, r.recent),
        Source::Stable => (0, r.stable),
    }
}

impl<'p> Exec<'_, 'p> {
    fn src(&self, s: &Src) -> u32 {
        match *s {
            Src::Var(v) => self.env.get(v as usize).copied().unwrap_or(UNBOUND),
            Src::Const(c) => c,
        }
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            env: &self.env,
            values: self.values,
            params: self.params,
        }
    }

    /// Runs `ops[k..]` for the current bindings.
    pub(crate) fn run(&mut self, ops: &[Op<'p>], k: usize) -> Result<(), Fail> {
        let Some(op) = ops.get(k) else { return Ok(()) };
        match op {
            Op::Scan { .. } => self.scan(ops, k),
            Op::Anti { rel, index, key } => {
                if !self.exists(*rel, *index, key) {
                    self.run(ops, k + 1)?;
                }
                Ok(())
            }
            Op::SameVars { a, b, equal } => {
                if (self.src(&Src::Var(*a)) == self.src(&Src::Var(*b))) == *equal {
                    self.run(ops, k + 1)?;
                }
                Ok(())
            }
            Op::Filter { lit, memo } => {
                let pass = self.memoized(*memo, |x| Ok(u32::from(x.test(lit)?)))?;
                if pass != 0 {
                    self.run(ops, k + 1)?;
                }
                Ok(())
            }
            Op::Assign {
                var,
                val,
                test,
                memo,
            } => {
                let id = self.memoized(*memo, |x| Ok(x.value(val)?.unwrap_or(MEMO_NONE)))?;
                if id == MEMO_NONE {
                    return Ok(());
                }
                let slot = *var as usize;
                if *test {
                    if self.env.get(slot) == Some(&id) {
                        self.run(ops, k + 1)?;
                    }
                } else if slot < self.env.len() {
                    self.env[slot] = id;
                    self.run(ops, k + 1)?;
                }
                Ok(())
            }
            Op::Agg(a) => self.aggregate(a, ops, k),
            Op::Collect(c) => self.collect(c),
            Op::Emit => self.emit(),
        }
    }

    // rel(key…, binds…) — walk the index chain for the key, newest first, inside the range.
    fn scan(&mut self, ops: &[Op<'p>], k: usize) -> Result<(), Fail> {
        let Some(Op::Scan {
            rel,
            slot,
            source,
            index,
            partial,
            key,
            binds,
            checks,
        }) = ops.get(k)
        else {
            return Ok(());
        };
        let rels = self.rels;
        let r = &rels[*rel];
        let (lo, hi) = match self.outer {
            Some((op, lo, hi)) if std::ptr::eq(op, &ops[k]) => (lo, hi),
            _ => range(r, *source),
        };
        if let (Some(p), [k0]) = (partial, &key[..])
            && let Some(part) = r.partials.get(p.id)
        {
            let run = part.run(self.src(k0));
            return self.scan_partial(run, part.cols.len(), (lo, hi), ops, k);
        }
        if key.is_empty() {
            let ahead = self.ahead(ops, k, binds);
            let mut warmth = Warmth::default();
            let mut at = lo;
            while at < hi {
                let end = hi.min(at + AHEAD);
                if let Some(a) = &ahead {
                    warmth.batch(|| self.warm(a, (at..end).map(|i| r.tuple(i))));
                }
                for idx in at..end {
                    self.visit(r.tuple(idx), idx, *rel, *slot, binds, checks, ops, k)?;
                }
                at = end;
            }
            return Ok(());
        }
        let ix = &r.indexes[*index];
        let mut found = self.candidates(ix, key);
        let mut batch = [0u32; AHEAD as usize];
        let mut ahead: Option<Option<Ahead>> = None;
        let mut warmth = Warmth::default();
        loop {
            // The next few tuples in range, their next lookups warmed first.
            let mut n = 0;
            let mut older = false;
            for cur in found.by_ref() {
                if cur < lo {
                    older = true;
                    break;
                }
                if cur < hi {
                    batch[n] = cur;
                    n += 1;
                    if n == batch.len() {
                        break;
                    }
                }
            }
            if n > 1
                && let Some(a) = ahead.get_or_insert_with(|| self.ahead(ops, k, binds))
            {
                warmth.batch(|| self.warm(a, batch[..n].iter().map(|&i| r.tuple(i))));
            }
            for &cur in &batch[..n] {
                let t = r.tuple(cur);
                let hit = ix.cols.iter().zip(key).all(|(&c, s)| t[c] == self.src(s));
                if hit {
                    self.visit(t, cur, *rel, *slot, binds, checks, ops, k)?;
                }
            }
            if n < batch.len() || older {
                return Ok(());
            }
        }
    }

    /// The rest of [`Exec::scan`] of `ops[k]` through a partial index: the tuples of
    /// `run` (all with the key, all passing the comparisons the index applies), newest
    /// first, within `lo..hi`.
    fn scan_partial(
        &mut self,
        run: Run<'_>,
        width: usize,
        (lo, hi): (u32, u32),
        ops: &[Op<'p>],
        k: usize,
    ) -> Result<(), Fail> {
        let Some(Op::Scan {
            rel,
            slot,
            partial: Some(PartialScan { binds, checks, .. }),
            ..
        }) = ops.get(k)
        else {
            return Ok(());
        };
        // (A partial index's rows hold at least the column it compares.)
        let width = width.max(1);
        let mut ahead: Option<Option<Ahead>> = None;
        let mut warmth = Warmth::default();
        let mut end = run.orig.len();
        while end > 0 {
            let start = end.saturating_sub(AHEAD as usize);
            let rows = &run.rows[start * width..end * width];
            if end - start > 1
                && let Some(a) = ahead.get_or_insert_with(|| self.ahead(ops, k, binds))
            {
                warmth.batch(|| self.warm(a, rows.chunks_exact(width)));
            }
            for (&cur, t) in run.orig[start..end]
                .iter()
                .zip(rows.chunks_exact(width))
                .rev()
            {
                if cur < lo {
                    return Ok(());
                }
                if cur < hi {
                    self.visit(t, cur, *rel, *slot, binds, checks, ops, k)?;
                }
            }
            end = start;
        }
        Ok(())
    }

    /// The tuples of index `ix` that may have key `key` (bound now), newest first.
    fn candidates<'r>(&self, ix: &'r Index, key: &[Src]) -> Candidates<'r> {
        ix.lookup(|i| self.src(&key[i]))
    }

    /// The lookup that follows scan `ops[k]` (past ops that bind nothing), if its key is
    /// known from a tuple of the scan: constants, variables bound before, and the scan's
    /// own `binds`.
    fn ahead(&self, ops: &[Op<'p>], k: usize, binds: &[(usize, u32)]) -> Option<Ahead> {
        let next = ops[k + 1..]
            .iter()
            .find(|o| !matches!(o, Op::Filter { .. } | Op::SameVars { .. }))?;
        let (rel, index, partial, key) = match next {
            Op::Scan {
                rel,
                index,
                partial,
                key,
                ..
            } => (*rel, *index, partial.as_ref().map(|p| p.id), key),
            Op::Anti { rel, index, key } => (*rel, *index, None, key),
            _ => return None,
        };
        if key.is_empty() || key.len() > 4 {
            return None;
        }
        let mut a = Ahead {
            rel,
            index,
            partial: partial.filter(|&p| p < self.rels[rel].partials.len()),
            key: [KeyPart::Fixed(0); 4],
        };
        for (part, s) in a.key.iter_mut().zip(key) {
            *part = match *s {
                Src::Var(v) => match binds.iter().find(|b| b.1 == v) {
                    Some(&(c, _)) => KeyPart::Col(c),
                    None => KeyPart::Fixed(self.src(s)),
                },
                Src::Const(c) => KeyPart::Fixed(c),
            };
        }
        Some(a)
    }

    /// Looks up, for each of tuples `idxs` of `r`, the key `a` of the next lookup, and
    /// reads the first tuple found: the cache misses of a batch of lookups are waited
    /// for together, not one after another. Returns whether the tuples found follow one
    /// another closely (both relations in the key's order): the reads then hit the
    /// cache anyway, and the next batches need no warming (see [`Warmth`]).
    fn warm<'t>(&self, a: &Ahead, tuples: impl Iterator<Item = &'t [u32]>) -> bool {
        let to = &self.rels[a.rel];
        let ix = &to.indexes[a.index];
        let partial = a.partial.and_then(|p| to.partials.get(p));
        let mut probes = [0u64; AHEAD as usize];
        let mut n = 0;
        for t in tuples.take(probes.len()) {
            let part = |p: &KeyPart| match *p {
                KeyPart::Col(c) => t[c],
                KeyPart::Fixed(v) => v,
            };
            probes[n] = match partial {
                Some(_) => u64::from(part(&a.key[0])),
                None => ix.probe(|i| part(&a.key[i])),
            };
            n += 1;
        }
        if let Some(partial) = partial {
            // Where each key's tuples are, then the newest of them.
            let (mut sum, mut close, mut last) = (0u32, true, None::<u32>);
            for &p in &probes[..n] {
                if let Some((at, first)) = partial.touch(p as u32) {
                    sum = sum.wrapping_add(first);
                    close &= last.is_none_or(|l| at >= l && at - l <= CLOSE);
                    last = Some(at);
                }
            }
            std::hint::black_box(sum);
            return close && last.is_some();
        }
        // First the entries the searches start at, then (those now at hand) the first
        // tuple each search finds: no read waits for a read of its own round, and no
        // branch on data not yet read.
        let mut sum = 0u32;
        for &p in &probes[..n] {
            sum = sum.wrapping_add(ix.touch_first(p));
        }
        let (mut close, mut last) = (true, None::<u32>);
        for &p in &probes[..n] {
            // A key with no tuples has nothing to warm, and says nothing of how close
            // the others are.
            if let Some(cand) = ix.touch(p).filter(|&c| c < to.len()) {
                sum = sum.wrapping_add(to.tuple(cand)[0]);
                close &= last.is_none_or(|l| cand >= l && cand - l <= CLOSE);
                last = Some(cand);
            }
        }
        std::hint::black_box(sum);
        close && last.is_some()
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the hot loop's state, passed unpacked"
    )]
    fn visit(
        &mut self,
        t: &[u32],
        idx: u32,
        rel: usize,
        slot: usize,
        binds: &[(usize, u32)],
        checks: &[(usize, u32)],
        ops: &[Op<'p>],
        k: usize,
    ) -> Result<(), Fail> {
        for &(c, v) in binds {
            self.env[v as usize] = t[c];
        }
        if checks.iter().all(|&(c, v)| self.env[v as usize] == t[c]) {
            self.prem[slot] = (rel as u32, idx);
            self.run(ops, k + 1)?;
        }
        Ok(())
    }

    fn exists(&self, rel: usize, index: usize, key: &[Src]) -> bool {
        let r = &self.rels[rel];
        let hi = r.recent;
        if key.is_empty() {
            return hi > 0;
        }
        let ix = &r.indexes[index];
        self.candidates(ix, key).any(|cur| {
            cur < hi
                && ix
                    .cols
                    .iter()
                    .zip(key)
                    .all(|(&c, s)| r.tuple(cur)[c] == self.src(s))
        })
    }

    /// The id of a head term or assigned value; `None` when it has no value.
    /// `compute`'s result for the current bindings, through memo `memo` if there is one
    /// and its variables are bound (a result is kept once computed; an error is not).
    fn memoized(
        &mut self,
        memo: Option<super::compile::MemoAt>,
        compute: impl FnOnce(&mut Self) -> Result<u32, ExprError>,
    ) -> Result<u32, ExprError> {
        let Some((slot, key, one)) =
            memo.and_then(|m| Some((m.slot, self.memo_key(&m)?, m.b.is_none())))
        else {
            return compute(self);
        };
        if let Some(v) = self.memos[slot].get(key, one) {
            return Ok(v);
        }
        let v = compute(self)?;
        self.memos[slot].put(key, v, one);
        Ok(v)
    }

    /// The key of a memo: its variables' ids (`None` if one is unbound).
    fn memo_key(&self, m: &super::compile::MemoAt) -> Option<u64> {
        let id = |v: u32| self.env.get(v as usize).copied().filter(|&i| i != UNBOUND);
        let a = id(m.a)?;
        let b = match m.b {
            Some(b) => id(b)?,
            None => 0,
        };
        Some(u64::from(a) | (u64::from(b) << 32))
    }

    fn value(&mut self, v: &Val<'p>) -> Result<Option<u32>, ExprError> {
        match v {
            Val::Var(x) => Ok(self
                .env
                .get(*x as usize)
                .copied()
                .filter(|&id| id != UNBOUND)),
            Val::Const(c) => Ok(Some(*c)),
            Val::Expr(e) => {
                let v = expr::eval(e, &self.scope())?.map(Cow::into_owned);
                Ok(v.map(|v| self.values.intern_owned(v)))
            }
        }
    }

    fn test(&self, lit: &Literal) -> Result<bool, ExprError> {
        test(lit, &self.scope())
    }

    /// head(terms…) — compute the head, skip known tuples, record one derivation.
    fn emit(&mut self) -> Result<(), Fail> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for v in self.head_vals {
            match self.value(v) {
                Ok(Some(id)) => buf.push(id),
                Ok(None) => {
                    self.buf = buf;
                    return Ok(());
                }
                Err(e) => return Err(Fail::Expr(e)),
            }
        }
        let known = self.rels[self.head].contains(&buf);
        let fresh = !known && self.out.rel.insert(&buf).is_some();
        if !fresh && !known && self.provenance {
            self.reconsider(&buf);
        }
        self.buf = buf;
        if !fresh {
            return Ok(());
        }
        if self.budget == 0 {
            return Err(Fail::Limit);
        }
        self.budget -= 1;
        if self.provenance {
            self.record();
        }
        Ok(())
    }

    /// A tuple derived again in the round that first derived it: it keeps the least of
    /// the derivations (by block, then its atoms' fact ids, then their values), not the
    /// first the join met, so the proof does not depend on the join's plan and is the
    /// one an SQL engine's rows lead to (`crate::sql::remote`).
    fn reconsider(&mut self, tuple: &[u32]) {
        let Some(t) = self.out.rel.position(tuple) else {
            return;
        };
        let Some(old) = self.out.prov.get(t as usize) else {
            return;
        };
        if old.clause == super::provenance::BASE || old.clause < self.clause {
            return;
        }
        // The new derivation's premises, in the buffer `record` uses (no allocation per
        // repeat).
        let mut new = std::mem::take(&mut self.prem_buf);
        new.clear();
        new.extend(self.top_atoms.iter().map(|&s| self.prem[s]));
        if old.clause == self.clause {
            let prems = &self.out.prov.prems[old.prem as usize..(old.prem + old.nprem) as usize];
            let keep = match prems.get(..new.len()) {
                Some(recorded) => self.derivation_order(&new, recorded) != std::cmp::Ordering::Less,
                None => true,
            };
            if keep {
                self.prem_buf = new;
                return;
            }
        }
        self.prem_buf = new;
        self.push_aggregate_premises();
        self.out
            .prov
            .replace(t as usize, self.clause, &self.env, &self.prem_buf);
    }

    /// Two derivations of one block: by their atoms' fact ids (none for a derived
    /// premise), then by their atoms' values.
    fn derivation_order(&self, a: &[(u32, u32)], b: &[(u32, u32)]) -> std::cmp::Ordering {
        derivation_order(self.rels, self.provs, self.values, a, b)
    }

    fn push_aggregate_premises(&mut self) {
        for a in self.aggs.iter() {
            if let Some(&(_, start, len)) = a.results.get(a.current) {
                let cap = len.min(self.max_agg_premises as u32);
                self.prem_buf
                    .extend_from_slice(&a.prems[start as usize..(start + cap) as usize]);
            }
        }
    }

    fn record(&mut self) {
        self.prem_buf.clear();
        self.prem_buf
            .extend(self.top_atoms.iter().map(|&s| self.prem[s]));
        self.push_aggregate_premises();
        self.out.prov.push(self.clause, &self.env, &self.prem_buf);
    }

    /// result = func over { body } — computed once per group key, then cached.
    fn aggregate(&mut self, a: &AggOp<'p>, ops: &[Op<'p>], k: usize) -> Result<(), Fail> {
        let mut key = std::mem::take(&mut self.buf);
        key.clear();
        key.extend(a.group.iter().map(|&v| self.src(&Src::Var(v))));
        let cached = self.aggs[a.slot].cache.get(&key[..]).copied();
        let ri = match cached {
            Some(i) => i,
            None => self.compute_group(a, key.clone())?,
        };
        self.buf = key;
        let st = &mut self.aggs[a.slot];
        st.current = ri as usize;
        let Some(&(value, _, _)) = st.results.get(ri as usize) else {
            return Ok(());
        };
        if value == UNBOUND {
            return Ok(());
        }
        let slot = a.result as usize;
        if a.test {
            if self.env.get(slot) == Some(&value) {
                self.run(ops, k + 1)?;
            }
        } else if slot < self.env.len() {
            self.env[slot] = value;
            self.run(ops, k + 1)?;
        }
        Ok(())
    }

    fn compute_group(&mut self, a: &AggOp<'p>, key: Vec<u32>) -> Result<u32, Fail> {
        {
            let st = &mut self.aggs[a.slot];
            st.seen.clear();
            st.acc = None;
            st.count = 0;
            st.scratch_prems.clear();
        }
        self.run(&a.ops, 0)?;
        for &v in &a.locals {
            self.env[v as usize] = UNBOUND;
        }
        let st = &mut self.aggs[a.slot];
        let result = match (a.func, st.acc.take()) {
            (AggFunc::Count, _) => Some(Value::Number(Decimal::from_int(st.count as i64))),
            (AggFunc::Sum, None) => Some(Value::Number(Decimal::ZERO)),
            (_, acc) => acc,
        };
        let id = result.map_or(UNBOUND, |v| self.values.intern_owned(v));
        // The premises: whole bindings in order of their premises (fact ids, then
        // values) while fewer than the cap were taken, cut at the cap — the same
        // whatever order the join met them in.
        let st = &mut self.aggs[a.slot];
        let scratch = std::mem::take(&mut st.scratch_prems);
        let w = st.width;
        let mut order: Vec<usize> = (0..scratch.len().checked_div(w).unwrap_or(0)).collect();
        order.sort_by(|&x, &y| {
            self.derivation_order(&scratch[x * w..(x + 1) * w], &scratch[y * w..(y + 1) * w])
        });
        let cap = self.max_agg_premises;
        let st = &mut self.aggs[a.slot];
        let start = st.prems.len();
        for g in order {
            if st.prems.len() - start >= cap {
                break;
            }
            st.prems.extend_from_slice(&scratch[g * w..(g + 1) * w]);
        }
        st.prems.truncate(start + cap);
        let len = (st.prems.len() - start) as u32;
        let start = start as u32;
        st.scratch_prems = scratch;
        let ri = st.results.len() as u32;
        st.results.push((id, start, len));
        st.cache.insert(key, ri);
        Ok(ri)
    }

    /// One binding of an aggregate's body: count it, add it, or compare it, once per
    /// distinct binding of the body's own variables.
    fn collect(&mut self, c: &CollectOp<'p>) -> Result<(), Fail> {
        let key: Vec<u32> = c.distinct.iter().map(|&v| self.src(&Src::Var(v))).collect();
        let group: Vec<(u32, u32)> = if self.provenance {
            c.atoms.iter().map(|&s| self.prem[s]).collect()
        } else {
            Vec::new()
        };
        let st = &mut self.aggs[c.slot];
        st.width = group.len();
        let next = st.seen.len() as u32;
        if let Some(&g) = st.seen.get(&key) {
            // A binding seen before: its premises are the least of its bindings'.
            let (w, at) = (group.len(), g as usize * group.len());
            if w > 0 {
                let old = self.aggs[c.slot].scratch_prems[at..at + w].to_vec();
                if self.derivation_order(&group, &old) == std::cmp::Ordering::Less {
                    self.aggs[c.slot].scratch_prems[at..at + w].copy_from_slice(&group);
                }
            }
            return Ok(());
        }
        st.seen.insert(key, next);
        if st.seen.len() as u64 > self.max_agg_bindings {
            return Err(Fail::AggLimit);
        }
        let over = match c.over {
            Some(e) => expr::eval(e, &self.scope())?.map(Cow::into_owned),
            None => None,
        };
        let span = c.over.map(|e| e.span).unwrap_or_default();
        let st = &mut self.aggs[c.slot];
        st.count += 1;
        st.scratch_prems.extend_from_slice(&group);
        // `none` (an absent optional field) is skipped, like a valueless expression.
        let Some(v) = over.filter(|v| *v != Value::None) else {
            return Ok(());
        };
        st.acc = Some(match st.acc.take() {
            None => v,
            Some(acc) => fold(c, acc, v, span)?,
        });
        Ok(())
    }
}

/// Whether filter `lit` holds for the variables of `s` (false for a literal that is no
/// filter).
pub(crate) fn test(lit: &Literal, s: &Scope<'_>) -> Result<bool, ExprError> {
    macro_rules! get {
        ($e:expr) => {
            match expr::eval($e, s)? {
                Some(v) => v,
                None => return Ok(false),
            }
        };
    }
    Ok(match lit {
        Literal::Compare { op, lhs, rhs, .. } => expr::compare(*op, &*get!(lhs), &*get!(rhs)),
        Literal::Within {
            lhs,
            window,
            dir,
            rhs,
            span,
        } => expr::within(&*get!(lhs), &*get!(window), *dir, &*get!(rhs), *span)?,
        Literal::InRange {
            value, from, until, ..
        } => expr::in_range(&*get!(value), &*get!(from), &*get!(until)),
        Literal::Overlaps {
            a_from,
            a_until,
            b_from,
            b_until,
            ..
        } => expr::overlaps(
            &*get!(a_from),
            &*get!(a_until),
            &*get!(b_from),
            &*get!(b_until),
        ),
        _ => false,
    })
}

fn fold(c: &CollectOp<'_>, acc: Value, v: Value, span: Span) -> Result<Value, Fail> {
    use std::cmp::Ordering::{Greater, Less};
    Ok(match c.func {
        AggFunc::Sum => expr::arith(BinOp::Add, &acc, &v, span)?.unwrap_or(acc),
        AggFunc::Min if expr::total_cmp(&v, &acc) == Less => v,
        AggFunc::Max if expr::total_cmp(&v, &acc) == Greater => v,
        _ => acc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memo of one variable keeps every id's result, however many ids there are and
    /// in whatever order they come, in pages made as ids arrive; one over ids that
    /// hardly repeat and lie far apart gives up after its trial. A memo of two keeps a
    /// few thousand keys, and gives up when its keys hardly repeat.
    #[test]
    fn memos_keep_results_by_ids_and_give_up_when_keys_do_not_repeat() {
        let mut one = Memo::default();
        // Twenty thousand ids close together (a file's dates), asked for in a shuffled
        // order, twice: none is found the first time, every one the second.
        let ids: Vec<u32> = (0..20_000u32)
            .map(|k| 1_000_000 + (k * 7_919) % 20_000)
            .collect();
        for &id in &ids {
            assert_eq!(one.get(u64::from(id), true), None);
            one.put(u64::from(id), id / 3, true);
        }
        for &id in &ids {
            assert_eq!(one.get(u64::from(id), true), Some(id / 3), "{id}");
        }
        assert!(!one.off && one.made <= 20_000 / PAGE + 2);
        // A result may be "no value".
        one.put(7, MEMO_NONE, true);
        assert_eq!(one.get(7, true), Some(MEMO_NONE));
        // Ids spread over millions, none asked twice: given up at the trial.
        let mut far = Memo::default();
        for k in 0..PAGE_TRIAL {
            let id = u64::from(k) * 4_099;
            if far.get(id, true).is_none() {
                far.put(id, 1, true);
            }
        }
        assert!(far.off && far.pages.is_empty());
        assert_eq!(far.get(0, true), None);
        // Two variables: keys that never repeat give the table up.
        let mut two = Memo::default();
        for k in 0..u64::from(MEMO_TRIAL) + 1 {
            let key = k | (k << 32);
            if two.get(key, false).is_none() {
                two.put(key, 0, false);
            }
        }
        assert!(two.off);
    }
}
