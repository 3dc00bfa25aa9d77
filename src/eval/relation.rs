//! Relations as flat `u32` tuples (arity stride) with incrementally maintained hash indexes.
//!
//! Tuples are never moved, so a tuple's index is its identity (provenance refers to it).
//! A relation's tuples are `stable` (before the previous iteration), then `recent` (the
//! previous iteration's), in one vector: datafrog's stable/recent as two index ranges.

use std::hash::Hasher;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

const NONE: u32 = u32::MAX;

/// A hash index on some columns: hash of the key -> newest tuple, then a chain through
/// `next` to older tuples with the same hash (so a range read can stop early). The
/// hash is folded to 32 bits to halve the table; readers compare the key columns of
/// every tuple on a chain, so a collision costs a comparison, never a wrong answer.
///
/// An index built at once over a relation's tuples (base facts, before evaluation) is
/// [`Frozen`] instead; it goes back to chains if a tuple is ever added.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    pub(crate) cols: Vec<usize>,
    heads: FxHashMap<u32, u32>,
    next: Vec<u32>,
    frozen: Option<Frozen>,
    /// A [`Direct`] index on the key column at this position of `cols`.
    direct: Option<(usize, Arc<Direct>)>,
}

/// An index over tuples that are all there, on one column whose value ids are dense (an
/// entity column, usually): the tuples whose value is `min + v` are `ids[starts[v]..
/// starts[v + 1]]`, ascending. A lookup is two reads, no hash and no search; building
/// it is a counting sort. An index on several columns may be one on the column of them
/// whose values repeat least: the tuples of a key are then among that column's, which
/// the reader checks as it checks every candidate; scanned in that column's order (a
/// file of rows by person, looked up by person), the lookups read memory in order.
#[derive(Debug, Clone, Default)]
struct Direct {
    /// The column, and the sum of the squares of its values' counts.
    col: usize,
    squares: u64,
    min: u32,
    starts: Vec<u32>,
    ids: Vec<u32>,
}

/// The most tuples a probe of a [`Direct`] index on one of several key columns finds
/// on average (weighing each value by its tuples): beyond that, a hash of the whole key
/// reads less. Below it the direct index pays even where probes read more: it is built
/// in a few passes, a frozen one with a sort (Q2's lookup of a meeting by both people,
/// about seven tuples a person: indexes built at 1 M in 0.08 s instead of 0.18, the join
/// 0.01 s slower).
const DIRECT_SPREAD: u64 = 8;

/// A probe of a [`Direct`] index on one of several key columns that finds at most about
/// this many tuples on average is taken without counting the other columns (each count
/// is two passes over the tuples): another could save at most a comparison or two a
/// probe (`employment` looked up by person and company: the person column, about 1.5
/// tuples a person, taken without counting the companies).
const DIRECT_CLOSE: u64 = 2;

/// Tuples from which a [`Direct`] index is built on more than one thread, if given.
const DIRECT_PARALLEL: usize = 1 << 18;

/// How many threads build a [`Direct`] index over `n` tuples, of `threads` given.
fn direct_threads(n: usize, threads: usize) -> usize {
    match n >= DIRECT_PARALLEL {
        true => threads.clamp(1, 8),
        false => 1,
    }
}

/// How column `col` of tuples `0..n` of `data` would index as a [`Direct`]: its least
/// value, the count of each value (shifted one up, for the starts), and the sum of the
/// counts' squares; `None` if its values span more than about twice as many ids as
/// there are tuples. On `threads` threads: each counts a range of the tuples (the
/// first into the counts, the others into counts of their own, added in after), so the
/// counts are the same however many there are.
fn direct_counts(
    data: &[u32],
    arity: usize,
    n: usize,
    col: usize,
    threads: usize,
) -> Option<(u32, Vec<u32>, u64)> {
    let value = |t: usize| data[t * arity + col];
    let par = direct_threads(n, threads);
    let parts: Vec<std::ops::Range<usize>> =
        (0..par).map(|i| n * i / par..n * (i + 1) / par).collect();
    let bounds = |r: std::ops::Range<usize>| {
        r.fold((u32::MAX, 0u32), |(lo, hi), t| {
            (lo.min(value(t)), hi.max(value(t)))
        })
    };
    let (min, max) = on_threads(parts.clone(), bounds)
        .into_iter()
        .fold((u32::MAX, 0u32), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
    if n == 0 || (max - min) as usize > 2 * n + 4096 {
        return None;
    }
    let span = (max - min) as usize + 1;
    let count = |r: std::ops::Range<usize>, counts: &mut [u32]| {
        for t in r {
            counts[(value(t) - min) as usize + 1] += 1;
        }
    };
    let mut counts = vec![0u32; span + 1];
    if par == 1 {
        count(0..n, &mut counts);
    } else {
        let mut rest = parts.into_iter();
        let first = rest.next().unwrap_or(0..0);
        let others: Vec<Vec<u32>> = std::thread::scope(|s| {
            let workers: Vec<_> = rest
                .map(|r| {
                    s.spawn(move || {
                        let mut own = vec![0u32; span + 1];
                        count(r, &mut own);
                        own
                    })
                })
                .collect();
            count(first, &mut counts);
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        // Added in by ranges of values, one range a thread.
        let chunk = counts.len().div_ceil(par);
        std::thread::scope(|s| {
            for (i, part) in counts.chunks_mut(chunk).enumerate() {
                let others = &others;
                s.spawn(move || {
                    let at = i * chunk;
                    for o in others {
                        for (c, x) in part.iter_mut().zip(&o[at..]) {
                            *c += x;
                        }
                    }
                });
            }
        });
    }
    let squares = counts.iter().map(|&c| u64::from(c) * u64::from(c)).sum();
    Some((min, counts, squares))
}

/// `f` over each of `parts`, each on a thread of its own (the first on this one).
fn on_threads<R: Send>(
    parts: Vec<std::ops::Range<usize>>,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    if parts.len() <= 1 {
        return parts.into_iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or(0..0);
        let workers: Vec<_> = parts.map(|r| s.spawn(move || f(r))).collect();
        let mut out = vec![f(first)];
        out.extend(
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
        );
        out
    })
}

impl Direct {
    /// Over column `col` of tuples `0..n` of `data`, from its [`direct_counts`]. On
    /// `threads` threads, each places the tuples of a range of values (of about as many
    /// tuples): each reads every tuple and writes its own part of `ids`, in tuple order,
    /// so the index is the same however many there are.
    fn build(
        data: &[u32],
        arity: usize,
        n: usize,
        col: usize,
        (min, mut starts, squares): (u32, Vec<u32>, u64),
        threads: usize,
    ) -> Direct {
        let value = |t: usize| data[t * arity + col];
        for v in 0..starts.len() - 1 {
            starts[v + 1] += starts[v];
        }
        let mut ids = vec![0u32; n];
        let values = starts.len() - 1;
        let par = direct_threads(n, threads);
        // Value `cuts[i]` is the first of part `i`: the first whose tuples start at or
        // after the part's share of them.
        let mut cuts: Vec<usize> = (0..par)
            .map(|i| {
                starts
                    .partition_point(|&s| (s as usize) < n * i / par)
                    .min(values)
            })
            .collect();
        cuts.push(values);
        let place = |(lo, hi): (usize, usize), out: &mut [u32]| match Buckets::of(n, hi - lo) {
            Some(b) => b.place(&starts[lo..=hi], |t| (value(t) - min) as usize, lo, n, out),
            None => {
                let base = starts[lo] as usize;
                let mut fill: Vec<u32> = starts[lo..hi].to_vec();
                for t in 0..n {
                    let v = (value(t) - min) as usize;
                    if (lo..hi).contains(&v) {
                        let at = &mut fill[v - lo];
                        out[*at as usize - base] = t as u32;
                        *at += 1;
                    }
                }
            }
        };
        if par == 1 {
            place((0, values), &mut ids);
        } else {
            std::thread::scope(|s| {
                let mut rest = &mut ids[..];
                let mut mine = None;
                for (i, w) in cuts.windows(2).enumerate() {
                    let len = (starts[w[1]] - starts[w[0]]) as usize;
                    let (part, after) = std::mem::take(&mut rest).split_at_mut(len);
                    rest = after;
                    let range = (w[0], w[1]);
                    match i {
                        0 => mine = Some((range, part)),
                        _ => {
                            let place = &place;
                            s.spawn(move || place(range, part));
                        }
                    }
                }
                if let Some((range, part)) = mine {
                    place(range, part);
                }
            });
        }
        Direct {
            col,
            squares,
            min,
            starts,
            ids,
        }
    }

    /// The tuples whose value is `key`, ascending.
    fn run(&self, key: u32) -> &[u32] {
        let Some(v) = key.checked_sub(self.min).map(|v| v as usize) else {
            return &[];
        };
        match (self.starts.get(v), self.starts.get(v + 1)) {
            (Some(&lo), Some(&hi)) => &self.ids[lo as usize..hi as usize],
            _ => &[],
        }
    }
}

/// How a large [`Direct`] index places its tuples: in two passes rather than one write
/// to a random place per tuple (a cache miss each, once the index outgrows the cache).
/// The first pass puts each tuple in the bucket of its value (buckets of `width`
/// consecutive values, written a cache line after another), where the index keeps
/// those values' tuples anyway, as one word: the value's place in its bucket above,
/// the tuple's number below. The second puts each bucket's tuples in order, the
/// bucket (a few thousand tuples) in the cache. Both keep the tuples of a value in
/// ascending order, as the one pass does.
struct Buckets {
    /// Bits of a word that hold the tuple's number.
    low: u32,
}

impl Buckets {
    /// Tuples from which the two passes pay.
    const FROM: usize = 1 << 18;
    /// Bits left for a value's place in its bucket at least (buckets of 256 values).
    const PLACE_BITS: u32 = 8;

    /// Buckets at most: the first pass writes to each bucket in turn, and more lines
    /// being written than the cache holds would undo what the buckets are for.
    const MOST: usize = 4096;

    /// For `n` tuples of `values` values, if they are many but not too many to number
    /// in 24 bits, and their values fill few enough buckets.
    fn of(n: usize, values: usize) -> Option<Buckets> {
        let low = usize::BITS - n.leading_zeros();
        let fits = n >= Buckets::FROM && low <= 32 - Buckets::PLACE_BITS;
        (fits && values >> (32 - low) < Buckets::MOST).then_some(Buckets { low })
    }

    /// Places in `out` the tuples `0..n` whose `value` (an offset from the index's
    /// least) is one of `lo..lo + starts.len() - 1`: `starts[i]` is where the tuples of
    /// value `lo + i` start in the index (`starts[0]` where `out` does).
    fn place(
        &self,
        starts: &[u32],
        value: impl Fn(usize) -> usize,
        lo: usize,
        n: usize,
        out: &mut [u32],
    ) {
        let base = starts[0] as usize;
        let values = starts.len() - 1;
        let width_bits = 32 - self.low;
        let buckets = values.div_ceil(1 << width_bits).max(1);
        let first = |b: usize| (b << width_bits).min(values);
        // Where each bucket's next tuple goes.
        let mut next: Vec<u32> = (0..buckets).map(|b| starts[first(b)] - starts[0]).collect();
        for t in 0..n {
            let v = value(t).wrapping_sub(lo);
            if v < values {
                let b = v >> width_bits;
                let at = &mut next[b];
                out[*at as usize] = (((v - (b << width_bits)) as u32) << self.low) | t as u32;
                *at += 1;
            }
        }
        let mask = (1u32 << self.low) - 1;
        let mut bucket: Vec<u32> = Vec::new();
        let mut fill: Vec<u32> = Vec::new();
        for b in 0..buckets {
            let (from, to) = (first(b), first(b + 1));
            let (s, e) = (starts[from] as usize - base, starts[to] as usize - base);
            bucket.clear();
            bucket.extend_from_slice(&out[s..e]);
            fill.clear();
            fill.extend(starts[from..to].iter().map(|&x| x - starts[from]));
            let region = &mut out[s..e];
            for &w in &bucket {
                let at = &mut fill[(w >> self.low) as usize];
                region[*at as usize] = w & mask;
                *at += 1;
            }
        }
    }
}

/// A direct index built already, or a column's [`direct_counts`] to build one from.
type DirectOr = Result<Arc<Direct>, (u32, Vec<u32>, u64)>;

/// An index over tuples that are all there: every tuple's (folded key hash, number),
/// sorted by hash (a stable radix sort, so numbers ascend within a hash), and a
/// directory from a hash's top `bits` to where its bucket starts. The tuples of a key
/// are one contiguous run, found with one directory read and a search in a bucket of
/// a few entries; building it is sequential passes, not a hash-table insert (a cache
/// miss) per tuple.
#[derive(Debug, Clone, Default)]
struct Frozen {
    bits: u32,
    dir: Vec<u32>,
    entries: Vec<(u32, u32)>,
}

impl Frozen {
    /// Over tuples `0..n`, `key(t)` being tuple `t`'s folded key hash (computed twice:
    /// no vector of hashes is held beside the entries). The entries are placed by their
    /// top 11 bits in one pass, each such part then sorted where it lies: a peak of the
    /// entries alone.
    fn build(n: usize, key: impl Fn(usize) -> u32) -> Frozen {
        let top = |h: u32| (h >> 21) as usize;
        let mut starts = vec![0u32; 2049];
        for t in 0..n {
            starts[top(key(t)) + 1] += 1;
        }
        for d in 0..2048 {
            starts[d + 1] += starts[d];
        }
        let bounds = starts.clone();
        let mut entries = vec![(0u32, 0u32); n];
        for t in 0..n {
            let h = key(t);
            let d = top(h);
            entries[starts[d] as usize] = (h, t as u32);
            starts[d] += 1;
        }
        // (hash, number) pairs are distinct, so this is the stable order by hash.
        for w in bounds.windows(2) {
            entries[w[0] as usize..w[1] as usize].sort_unstable();
        }
        // About two to four tuples a bucket, but no more than 2^15 buckets: a directory
        // of 128 KiB at most stays in the cache, and within a larger bucket a hash is
        // found by interpolation (see `run`).
        let bits = match n {
            0..=3 => 0,
            _ => (usize::BITS - 1 - n.leading_zeros() - 1).min(DIR_BITS),
        };
        let bucket = |h: u32| {
            if bits == 0 {
                0
            } else {
                (h >> (32 - bits)) as usize
            }
        };
        let mut dir = vec![0u32; (1usize << bits) + 1];
        for &(h, _) in &entries {
            dir[bucket(h) + 1] += 1;
        }
        for b in 0..(1usize << bits) {
            dir[b + 1] += dir[b];
        }
        Frozen { bits, dir, entries }
    }

    /// The bucket of hash `h32` (its entries' range) and where in it `h32` should fall:
    /// hashes are uniform within a bucket's range, so the guess is usually within a few
    /// entries (one cache line) of the first with that hash.
    fn bucket(&self, h32: u32) -> Option<(usize, usize, usize)> {
        let b = if self.bits == 0 {
            0
        } else {
            (h32 >> (32 - self.bits)) as usize
        };
        let (&lo, &hi) = (self.dir.get(b)?, self.dir.get(b + 1)?);
        let width = 32 - self.bits;
        let offset = if width == 32 {
            u64::from(h32)
        } else {
            u64::from(h32 & ((1u32 << width) - 1))
        };
        let guess = ((offset * u64::from(hi - lo)) >> width) as usize;
        Some((lo as usize, hi as usize, guess))
    }

    /// The entry where [`Frozen::run`] starts looking for hash `h32`: a read that
    /// depends on no other read of the entries, so many can wait for memory at once.
    fn guess(&self, h32: u32) -> u32 {
        self.bucket(h32)
            .and_then(|(lo, _, guess)| self.entries.get(lo + guess))
            .map_or(0, |e| e.1)
    }

    /// The entries of hash `h32`, oldest tuple first.
    fn run(&self, h32: u32) -> &[(u32, u32)] {
        let Some((lo, hi, guess)) = self.bucket(h32) else {
            return &[];
        };
        let bucket = &self.entries[lo..hi];
        if bucket.len() <= 8 {
            let from = bucket.partition_point(|e| e.0 < h32);
            let to = bucket.partition_point(|e| e.0 <= h32);
            return &bucket[from..to];
        }
        // Gallop from the guess.
        let from = first_at_least(bucket, h32, guess.min(bucket.len() - 1));
        let len = bucket[from..].iter().take_while(|e| e.0 == h32).count();
        &bucket[from..from + len]
    }
}

/// Frozen directories have at most 2^`DIR_BITS` buckets.
const DIR_BITS: u32 = 15;

/// The first position of sorted `e` whose hash is at least `h`, galloping from `guess`
/// (an index into `e`, which is not empty).
fn first_at_least(e: &[(u32, u32)], h: u32, guess: usize) -> usize {
    let n = e.len();
    if e[guess].0 < h {
        let (mut lo, mut step) = (guess + 1, 1);
        let hi = loop {
            let probe = lo + step - 1;
            if probe >= n {
                break n;
            }
            if e[probe].0 >= h {
                break probe;
            }
            lo = probe + 1;
            step *= 2;
        };
        lo + e[lo..hi].partition_point(|x| x.0 < h)
    } else {
        let (mut hi, mut step) = (guess, 1);
        let lo = loop {
            if hi < step {
                break 0;
            }
            let probe = hi - step;
            if e[probe].0 < h {
                break probe + 1;
            }
            hi = probe;
            step *= 2;
        };
        lo + e[lo..hi].partition_point(|x| x.0 < h)
    }
}

/// The tuples an index has under one key hash, newest first.
pub(crate) enum Candidates<'a> {
    Chain { next: &'a [u32], cur: u32 },
    Run(&'a [(u32, u32)]),
    Ids(&'a [u32]),
}

impl Iterator for Candidates<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            Candidates::Chain { next, cur } => {
                let c = *cur;
                if c == NONE {
                    return None;
                }
                *cur = next.get(c as usize).copied().unwrap_or(NONE);
                Some(c)
            }
            Candidates::Run(run) => {
                let (&(_, t), rest) = run.split_last()?;
                *run = rest;
                Some(t)
            }
            Candidates::Ids(ids) => {
                let (&t, rest) = ids.split_last()?;
                *ids = rest;
                Some(t)
            }
        }
    }
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
            frozen: None,
            direct: None,
        }
    }

    /// Indexes tuples `0..len` of `data` (arity `arity`) at once: as a [`Direct`] index
    /// on a column of dense values (of the key's columns, the first whose probes find
    /// [`DIRECT_CLOSE`] tuples or fewer on average, else the one whose values repeat
    /// least, if a probe finds few tuples on average), else as a [`Frozen`] one. A
    /// direct index on a column one of `built` (the relation's other indexes) has already
    /// is shared, not built again (`employment` looked up by person, and by person and
    /// company, is one array).
    fn freeze(&mut self, data: &[u32], arity: usize, len: u32, built: &[Index], threads: usize) {
        let n = len as usize;
        let known = |col: usize| {
            built
                .iter()
                .find_map(|ix| ix.direct.as_ref().filter(|(_, d)| d.col == col))
                .map(|(_, d)| d.clone())
        };
        let mut best: Option<(usize, DirectOr)> = None;
        let squares = |c: &DirectOr| match c {
            Ok(d) => d.squares,
            Err(counts) => counts.2,
        };
        // Columns with a direct index already first (they cost nothing), then the others
        // counted one at a time, until one finds few enough tuples a probe.
        let order = (self.cols.iter().enumerate())
            .filter(|(_, c)| known(**c).is_some())
            .chain(
                self.cols
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| known(**c).is_none()),
            );
        for (at, &col) in order {
            if best
                .as_ref()
                .is_some_and(|b| squares(&b.1) <= DIRECT_CLOSE * n as u64)
            {
                break;
            }
            let Some(candidate) = known(col)
                .map(Ok)
                .or_else(|| direct_counts(data, arity, n, col, threads).map(Err))
            else {
                continue;
            };
            let sq = squares(&candidate);
            let spread = self.cols.len() > 1 && sq > DIRECT_SPREAD * n as u64;
            if !spread && best.as_ref().is_none_or(|b| sq < squares(&b.1)) {
                best = Some((at, candidate));
            }
        }
        self.heads = FxHashMap::default();
        self.next = Vec::new();
        if let Some((at, candidate)) = best {
            let d = candidate.unwrap_or_else(|counts| {
                Arc::new(Direct::build(
                    data,
                    arity,
                    n,
                    self.cols[at],
                    counts,
                    threads,
                ))
            });
            self.direct = Some((at, d));
            return;
        }
        let cols = &self.cols;
        let frozen = Frozen::build(n, |t| {
            let tuple = &data[t * arity..(t + 1) * arity];
            fold(hash_key(cols.iter().map(|&c| tuple[c])))
        });
        self.frozen = Some(frozen);
    }

    /// Turns a frozen or direct index over the first tuples of `data` back into chains,
    /// to add to it.
    fn thaw(&mut self, data: &[u32], arity: usize) {
        let keys = if let Some((_, d)) = self.direct.take() {
            let cols = &self.cols;
            (0..d.ids.len())
                .map(|t| {
                    let tuple = &data[t * arity..(t + 1) * arity];
                    fold(hash_key(cols.iter().map(|&c| tuple[c])))
                })
                .collect()
        } else if let Some(frozen) = self.frozen.take() {
            let mut keys = vec![0u32; frozen.entries.len()];
            for &(h, t) in &frozen.entries {
                keys[t as usize] = h;
            }
            keys
        } else {
            return;
        };
        self.heads.reserve(keys.len());
        self.next.reserve(keys.len());
        for (t, h) in keys.into_iter().enumerate() {
            let prev = self.heads.insert(h, t as u32).unwrap_or(NONE);
            self.next.push(prev);
        }
    }

    /// The tuples that may have the key whose `i`th column's value is `key(i)`, newest
    /// first: the caller compares their keys. A [`Direct`] index reads one column of
    /// the key, and hashes nothing.
    pub(crate) fn lookup(&self, key: impl Fn(usize) -> u32) -> Candidates<'_> {
        match &self.direct {
            Some((at, d)) => Candidates::Ids(d.run(key(*at))),
            None => self.candidates(hash_key((0..self.cols.len()).map(key))),
        }
    }

    /// The tuples whose key hashes as `h`, newest first (not for a [`Direct`] index:
    /// see [`Index::lookup`]).
    pub(crate) fn candidates(&self, h: u64) -> Candidates<'_> {
        match &self.frozen {
            Some(f) => Candidates::Run(f.run(fold(h))),
            None => Candidates::Chain {
                next: &self.next,
                cur: self.heads.get(&fold(h)).copied().unwrap_or(NONE),
            },
        }
    }

    /// What [`Index::touch_first`] and [`Index::touch`] read for the key whose `i`th
    /// column's value is `key(i)`: the column a [`Direct`] index is on, else the hash.
    pub(crate) fn probe(&self, key: impl Fn(usize) -> u32) -> u64 {
        match &self.direct {
            Some((at, _)) => u64::from(key(*at)),
            None => hash_key((0..self.cols.len()).map(key)),
        }
    }

    /// Reads the entry of a frozen or direct index where the search for [`Index::probe`]
    /// `p` starts (see [`Frozen::guess`]), to have it in the cache: its tuple number, or 0.
    pub(crate) fn touch_first(&self, p: u64) -> u32 {
        if let Some((_, d)) = &self.direct {
            let v = (p as u32).wrapping_sub(d.min) as usize;
            return d.starts.get(v).copied().unwrap_or(0);
        }
        match &self.frozen {
            Some(f) => f.guess(fold(p)),
            None => 0,
        }
    }

    /// Reads where the tuples of [`Index::probe`] `p` are, for nothing but to have it in
    /// the cache when they are looked up: the newest such tuple's number, if there is one.
    pub(crate) fn touch(&self, p: u64) -> Option<u32> {
        if let Some((_, d)) = &self.direct {
            return d.run(p as u32).last().copied();
        }
        match &self.frozen {
            Some(f) => f.run(fold(p)).last().map(|e| e.1),
            None => self.heads.get(&fold(p)).copied(),
        }
    }

    /// Adds tuple `idx` (tuples are added in index order; a frozen or direct index is
    /// thawed first, by [`Rel::thaw`]).
    fn insert(&mut self, idx: u32, tuple: &[u32]) {
        debug_assert!(self.frozen.is_none() && self.direct.is_none());
        let h = hash_key(self.cols.iter().map(|&c| tuple[c]));
        let prev = self.heads.insert(fold(h), idx).unwrap_or(NONE);
        self.next.push(prev);
    }

    fn clear(&mut self) {
        self.frozen = None;
        self.direct = None;
        self.heads.clear();
        self.next.clear();
    }

    /// The newest tuple whose key hashes as `h`, or `NONE` (never frozen: the set index).
    pub(crate) fn head(&self, h: u64) -> u32 {
        debug_assert!(self.frozen.is_none());
        self.heads.get(&fold(h)).copied().unwrap_or(NONE)
    }

    /// The next older tuple in the chain of `idx`, or `NONE`.
    pub(crate) fn next(&self, idx: u32) -> u32 {
        self.next.get(idx as usize).copied().unwrap_or(NONE)
    }
}

/// Of the tuples `item(0)`, …, `item(count - 1)` of `ids` (tuples of `width`), which
/// to keep: the first of each repeated one.
///
/// Repeats are found cache-consciously rather than by one probe of a table of every
/// tuple: the tuples are split by hash into partitions small enough for the cache, and
/// each partition is checked with a small table (tuples are compared only when their
/// hashes are equal). Each tuple's hash is computed twice (to count the partitions, then
/// to fill them) rather than kept: 8 bytes per tuple in flight, not 24, when the largest
/// relations are stored side by side on every core.
fn repeated(ids: &[u32], width: usize, count: usize, item: impl Fn(usize) -> usize) -> Vec<bool> {
    let n = count;
    let tuple = |k: usize| {
        let i = item(k);
        &ids[i * width..(i + 1) * width]
    };
    let hash = |i: usize| hash_key(tuple(i).iter().copied());
    // Partitions of about 8k tuples, by the hash's top bits; each holds its tuples'
    // (folded hash, number) pairs, written in one sequential pass.
    let bits = (n / 8192)
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .min(16);
    let part = |h: u64| {
        if bits == 0 {
            0
        } else {
            (h >> (64 - bits)) as usize
        }
    };
    let mut starts = vec![0usize; (1 << bits) + 1];
    for i in 0..n {
        starts[part(hash(i)) + 1] += 1;
    }
    for p in 1..starts.len() {
        starts[p] += starts[p - 1];
    }
    let mut fill = starts.clone();
    let mut parted = vec![(0u32, 0u32); n];
    for i in 0..n {
        let h = hash(i);
        let p = part(h);
        parted[fill[p]] = (fold(h), i as u32);
        fill[p] += 1;
    }
    let mut keep = vec![true; n];
    // Within a partition the top bits are all alike: the table's hash is the folded
    // one spread over 64 bits, so its tags (the top 7 bits) still tell entries apart.
    let spread = |k: u32| u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut seen: hashbrown::HashTable<(u32, u32)> = hashbrown::HashTable::new();
    for p in 0..(1usize << bits) {
        seen.clear();
        for &(k, i) in &parted[starts[p]..starts[p + 1]] {
            let same = |&(g, j): &(u32, u32)| g == k && tuple(j as usize) == tuple(i as usize);
            if seen.find(spread(k), same).is_some() {
                keep[i as usize] = false;
            } else {
                seen.insert_unique(spread(k), (k, i), |&(g, _)| spread(g));
            }
        }
    }
    keep
}

/// Base relations of fewer tuples drop their repeats (see [`Rel::load_shared`]).
const KEEP_REPEATS_FROM: usize = 65_536;

/// Whether `n` base tuples of `ids` (of `width`) are stored with their repeats: a
/// relation of [`KEEP_REPEATS_FROM`] tuples or more whose sample holds no tuple twice.
/// The sample, about 8·√n tuples at seeded random places, finds the repeats of a file
/// given twice (or of any relation where many tuples repeat) all but surely; repeats it
/// misses are few, and cost no more than as many other facts.
/// `PROBITY_REPEATS=keep` keeps the repeats of every relation and `drop` drops them
/// all (for tests, which compare the two).
fn keeps_repeats(ids: &[u32], width: usize, n: usize) -> bool {
    match std::env::var("PROBITY_REPEATS").as_deref() {
        Ok("keep") => return true,
        Ok("drop") => return false,
        _ => {}
    }
    n >= KEEP_REPEATS_FROM && !sample_repeats(ids, width, n)
}

/// Whether some tuple is twice in a seeded random sample of about 8·√n of the `n`
/// tuples of `ids` (of `width`). Places drawn twice count once.
fn sample_repeats(ids: &[u32], width: usize, n: usize) -> bool {
    let want = (((n as f64).sqrt() * 8.0) as usize).max(4096).min(n);
    let mut seen: rustc_hash::FxHashMap<&[u32], usize> = Default::default();
    seen.reserve(want);
    let mut x: u64 = 0x5eed_0f5a_3b1e;
    for _ in 0..want {
        // SplitMix64.
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let i = (z % n as u64) as usize;
        let tuple = &ids[i * width..(i + 1) * width];
        if let Some(&j) = seen.get(tuple) {
            if j != i {
                return true;
            }
        } else {
            seen.insert(tuple, i);
        }
    }
    false
}

/// The `n` tuples of `ids` (of `width`) as pairs, if they all come in pairs (a tuple with
/// its first two values swapped next to it) or alone with those two equal: per pair,
/// the tuple whose first value is the smaller, and the pair's first tuple.
fn swapped_pairs(ids: &[u32], width: usize, n: usize) -> Option<Vec<(u32, u32)>> {
    if width < 2 {
        return None;
    }
    let tuple = |i: usize| &ids[i * width..(i + 1) * width];
    let mut pairs = Vec::with_capacity(n / 2 + 1);
    let mut i = 0;
    while i < n {
        let t = tuple(i);
        if t[0] == t[1] {
            pairs.push((i as u32, i as u32));
            i += 1;
            continue;
        }
        let u = (i + 1 < n).then(|| tuple(i + 1))?;
        if u[0] != t[1] || u[1] != t[0] || u[2..] != t[2..] {
            return None;
        }
        let least = if t[0] < t[1] { i } else { i + 1 };
        pairs.push((least as u32, i as u32));
        i += 2;
    }
    Some(pairs)
}

/// End marker of an index chain.
pub(crate) const END: u32 = NONE;

/// One relation's tuples, set index (slot 0, all columns) and lookup indexes.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    pub(crate) arity: usize,
    /// Shared with the fact set for base facts stored as they are (see
    /// [`Rel::load_shared`]); copied on the first write.
    data: Arc<Vec<u32>>,
    len: u32,
    /// Tuples `[0, stable)` are stable, `[stable, recent)` recent.
    pub(crate) stable: u32,
    pub(crate) recent: u32,
    pub(crate) indexes: Vec<Index>,
    /// Partial indexes (see [`super::partial`]): only on a relation no clause derives,
    /// whose tuples are all there when they are built.
    pub(crate) partials: Vec<super::partial::Partial>,
    /// Whether the set index (slot 0) covers every tuple; base facts stored by
    /// [`Rel::load_shared`] leave it to be built when first needed.
    set_ready: bool,
    /// Whether a tuple may be held more than once: base facts stored with their
    /// repeats (see [`Rel::load_shared`]). The first copy is the tuple's: the one
    /// [`Rel::position`] finds.
    repeats: bool,
}

impl Rel {
    pub(crate) fn new(arity: usize) -> Rel {
        Rel {
            arity,
            data: Arc::default(),
            len: 0,
            stable: 0,
            recent: 0,
            indexes: vec![Index::new((0..arity).collect())],
            partials: Vec::new(),
            set_ready: true,
            repeats: false,
        }
    }

    /// Stores `n` base tuples (`ids`, the arity per tuple) into an empty relation, dropping
    /// repeats (the first one stays); returns, per given tuple, whether it was kept.
    ///
    /// Repeats are found cache-consciously rather than by one probe of a table of every
    /// tuple: the tuples' hashes are computed in one pass, the tuple numbers are split by
    /// hash into partitions small enough for the cache, and each partition is checked
    /// with a small table (tuples are compared only when their 64-bit hashes are equal).
    /// No index is built: the set index is built by [`Rel::ensure_set`] if a lookup ever
    /// needs it.
    #[cfg(test)]
    pub(crate) fn load_base(&mut self, ids: &[u32], n: usize) -> Vec<bool> {
        let keep = self.repeats(ids, n);
        self.fill(ids, &keep);
        keep
    }

    /// Stores `n` base tuples (the fact set's own vector of ids) into the empty
    /// relation, reading that vector as it is, shared rather than copied (a later write
    /// copies it first); returns which tuples were kept, `None` for all of them.
    ///
    /// A large relation keeps its repeats (see [`keeps_repeats`]): a base fact given
    /// twice changes no result, since a rule's tuples are a set, an aggregate ranges
    /// over distinct bindings, and a tuple's derivation is the least one, by fact ids,
    /// so the first copy's. The second copy costs its share of the joins, no more, and
    /// finding it would cost a hash of every tuple. Other relations drop their repeats
    /// as [`Rel::load_base`] does.
    pub(crate) fn load_shared(&mut self, ids: &Arc<Vec<u32>>, n: usize) -> Option<Vec<bool>> {
        let whole = ids.len() == n * self.arity;
        let unchecked = whole && keeps_repeats(ids, self.arity, n);
        let keep = match unchecked {
            true => None,
            false => Some(self.repeats(ids, n)).filter(|keep| keep.iter().any(|&k| !k)),
        };
        match &keep {
            None if whole => {
                self.data = ids.clone();
                self.len = n as u32;
                self.set_ready = false;
                self.repeats = unchecked && n > 1;
            }
            None => self.fill(ids, &vec![true; n]),
            Some(keep) => self.fill(ids, keep),
        }
        keep
    }

    /// Stores the tuples of `ids` that `keep` says, in order, into the empty relation.
    fn fill(&mut self, ids: &[u32], keep: &[bool]) {
        let width = self.arity;
        let kept = keep.iter().filter(|&&k| k).count();
        let data = Arc::make_mut(&mut self.data);
        data.reserve(kept * width);
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            data.extend_from_slice(&ids[i * width..(i + 1) * width]);
        }
        self.len = kept as u32;
        self.set_ready = false;
    }

    /// Which of the `n` tuples of `ids` to keep: the first of each repeated one.
    ///
    /// The tuples of a symmetric relation come in pairs, a tuple and its first two
    /// values swapped, side by side (and alone when those two are equal): then two
    /// tuples are equal exactly when their pairs are, so pairs are compared, each by
    /// its tuple whose first value is the smaller, at half the cost.
    fn repeats(&self, ids: &[u32], n: usize) -> Vec<bool> {
        let width = self.arity;
        debug_assert!(self.len == 0 && ids.len() == n * width);
        let Some(pairs) = swapped_pairs(ids, width, n) else {
            return repeated(ids, width, n, |i| i);
        };
        let keep_pair = repeated(ids, width, pairs.len(), |k| pairs[k].0 as usize);
        let mut keep = vec![true; n];
        for (&(_, first), kept) in pairs.iter().zip(keep_pair) {
            if !kept {
                let first = first as usize;
                let last = match ids[first * width] == ids[first * width + 1] {
                    true => first,
                    false => first + 1,
                };
                keep[first..=last].fill(false);
            }
        }
        keep
    }

    /// Builds the set index if [`Rel::load_shared`] left it out.
    pub(crate) fn ensure_set(&mut self) {
        if self.set_ready {
            return;
        }
        let set = &mut self.indexes[0];
        set.clear();
        set.heads.reserve(self.len as usize);
        set.next.reserve(self.len as usize);
        for t in 0..self.len {
            let s = t as usize * self.arity;
            set.insert(t, &self.data[s..s + self.arity]);
        }
        self.set_ready = true;
    }

    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Every tuple, one after another.
    pub(crate) fn data(&self) -> &[u32] {
        &self.data[..self.len as usize * self.arity]
    }

    pub(crate) fn tuple(&self, idx: u32) -> &[u32] {
        let s = idx as usize * self.arity;
        &self.data[s..s + self.arity]
    }

    /// The slot of the index on `cols`, creating it (over existing tuples) if needed.
    pub(crate) fn index_for(&mut self, cols: &[usize]) -> usize {
        if cols == self.indexes[0].cols {
            self.ensure_set();
        }
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

    /// The slot of the index on `cols`, built at once as a [`Frozen`] index if new (and
    /// not the set index, which tuples are added through); a large direct index on
    /// `threads` threads.
    /// The partial index on column `col` applying exactly the comparisons `conds`, if
    /// one was built.
    pub(crate) fn partial_on(
        &self,
        col: usize,
        conds: &[super::partial::CondKey],
    ) -> Option<usize> {
        self.partials
            .iter()
            .position(|p| p.col == col && p.conds == conds)
    }

    pub(crate) fn frozen_index_on(&mut self, cols: &[usize], threads: usize) -> usize {
        if cols == self.indexes[0].cols || self.len == 0 {
            return self.index_for(cols);
        }
        if let Some(i) = self.indexes.iter().position(|x| x.cols == cols) {
            return i;
        }
        let mut ix = Index::new(cols.to_vec());
        ix.freeze(&self.data, self.arity, self.len, &self.indexes, threads);
        self.indexes.push(ix);
        self.indexes.len() - 1
    }

    /// Turns frozen and direct indexes back into chains, before a tuple is added.
    fn thaw(&mut self) {
        // Tuples are never added to a relation with partial indexes (no clause derives
        // it); were they, its partial indexes would be wrong.
        debug_assert!(self.partials.is_empty());
        for ix in &mut self.indexes {
            ix.thaw(&self.data, self.arity);
        }
    }

    /// Makes room for `n` more tuples in the data and the set index.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.thaw();
        Arc::make_mut(&mut self.data).reserve(n * self.arity);
        for ix in &mut self.indexes {
            ix.heads.reserve(n);
            ix.next.reserve(n);
        }
    }

    /// Takes every tuple of `from` into this empty relation, in order, leaving `from`
    /// empty: its data and set index as they are, this relation's other indexes built
    /// over them.
    pub(crate) fn take_all(&mut self, from: &mut Rel) {
        debug_assert!(self.len == 0 && self.arity == from.arity);
        from.ensure_set();
        from.thaw();
        std::mem::swap(&mut self.data, &mut from.data);
        std::mem::swap(&mut self.indexes[0], &mut from.indexes[0]);
        self.len = from.len;
        self.set_ready = true;
        let arity = self.arity;
        for ix in &mut self.indexes[1..] {
            ix.clear();
            ix.heads.reserve(self.len as usize);
            ix.next.reserve(self.len as usize);
            for t in 0..self.len {
                let s = t as usize * arity;
                ix.insert(t, &self.data[s..s + arity]);
            }
        }
        from.clear();
    }

    /// Whether the tuple is present (among all tuples).
    pub(crate) fn contains(&self, tuple: &[u32]) -> bool {
        self.position(tuple).is_some()
    }

    /// The index of the tuple, if present.
    pub(crate) fn position(&self, tuple: &[u32]) -> Option<u32> {
        if !self.set_ready {
            // Never expected (lookups build the set index first): correct, if slow.
            return (0..self.len).find(|&i| self.tuple(i) == tuple);
        }
        let set = &self.indexes[0];
        let mut cur = set.head(hash_key(tuple.iter().copied()));
        // Newest first: with repeats, the last one found is the first copy.
        let mut found = None;
        while cur != END {
            if self.tuple(cur) == tuple {
                found = Some(cur);
                if !self.repeats {
                    break;
                }
            }
            cur = set.next(cur);
        }
        found
    }

    /// Whether a tuple may be held more than once (see [`Rel::load_shared`]).
    pub(crate) fn has_repeats(&self) -> bool {
        self.repeats
    }

    /// Appends a tuple known to be new; returns its index.
    pub(crate) fn push(&mut self, tuple: &[u32]) -> u32 {
        self.ensure_set();
        self.thaw();
        let idx = self.len;
        Arc::make_mut(&mut self.data).extend_from_slice(tuple);
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
        self.ensure_set();
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
        for ix in &mut self.indexes[1..] {
            ix.thaw(&self.data, arity);
        }
        Arc::make_mut(&mut self.data).extend_from_slice(tuple);
        self.len += 1;
        let s = idx as usize * arity;
        for ix in &mut self.indexes[1..] {
            ix.insert(idx, &self.data[s..s + arity]);
        }
        Some(idx)
    }

    /// Empties the relation, keeping its indexes' columns and capacity.
    pub(crate) fn clear(&mut self) {
        match Arc::get_mut(&mut self.data) {
            Some(data) => data.clear(),
            None => self.data = Arc::default(),
        }
        self.len = 0;
        self.stable = 0;
        self.recent = 0;
        for ix in &mut self.indexes {
            ix.clear();
        }
        self.set_ready = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bulk loading keeps the first of each repeated tuple, in order, across many
    /// partitions, and the set index built afterwards finds every tuple.
    #[test]
    fn load_base_drops_repeats_keeps_order_and_builds_the_set_on_demand() {
        let width = 3;
        let n = 100_000;
        let mut ids = Vec::with_capacity(n * width);
        let mut want: Vec<[u32; 3]> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..n as u32 {
            // Every third tuple repeats an earlier one.
            let t = if i % 3 == 2 {
                [i / 7, (i / 7) % 11, 1]
            } else {
                [i, i % 11, 0]
            };
            ids.extend_from_slice(&t);
            if seen.insert(t) {
                want.push(t);
            }
        }
        let mut rel = Rel::new(width);
        let keep = rel.load_base(&ids, n);
        assert_eq!(keep.iter().filter(|k| **k).count(), want.len());
        assert_eq!(rel.len() as usize, want.len());
        for (i, t) in want.iter().enumerate() {
            assert_eq!(rel.tuple(i as u32), t);
        }
        assert!(rel.insert(&want[5]).is_none());
        assert_eq!(rel.position(&want[7]), Some(7));
        assert_eq!(rel.insert(&[u32::MAX, 0, 0]), Some(want.len() as u32));
        // Zero-width tuples: all one tuple.
        let mut unit = Rel::new(0);
        assert_eq!(unit.load_base(&[], 3), vec![true, false, false]);
        assert_eq!(unit.len(), 1);
    }

    /// An index on one column and one on it and another share one direct array, built
    /// once, whichever is built first; each answers as chains do.
    #[test]
    fn direct_indexes_on_one_column_are_built_once() {
        let n = 5000u32;
        let mut ids = Vec::new();
        for i in 0..n {
            ids.extend_from_slice(&[i % 1000, i % 7, i]);
        }
        for order in [[vec![0usize], vec![0, 1]], [vec![0, 1], vec![0]]] {
            let mut rel = Rel::new(3);
            rel.load_base(&ids, n as usize);
            let a = rel.frozen_index_on(&order[0], 1);
            let b = rel.frozen_index_on(&order[1], 1);
            let (x, y) = (&rel.indexes[a].direct, &rel.indexes[b].direct);
            let same = matches!((x, y), (Some((_, x)), Some((_, y))) if Arc::ptr_eq(x, y));
            assert!(same, "one array for both");
            let two = if order[0].len() == 2 { a } else { b };
            let got: Vec<u32> = (rel.indexes[two].lookup(|i| [5, 5][i]))
                .filter(|&t| rel.tuple(t)[..2] == [5, 5])
                .collect();
            let want: Vec<u32> = (0..n)
                .rev()
                .filter(|i| i % 1000 == 5 && i % 7 == 5)
                .collect();
            assert_eq!(got, want);
        }
    }

    /// Tuples that come in swapped pairs (a symmetric relation's) are checked for repeats
    /// pair by pair, with the result of checking tuple by tuple; so are tuples that
    /// only mostly come in pairs (checked tuple by tuple).
    #[test]
    fn repeats_of_swapped_pairs_are_those_of_their_tuples() {
        let naive = |ids: &[u32], width: usize| -> Vec<bool> {
            let mut seen = std::collections::HashSet::new();
            ids.chunks(width).map(|t| seen.insert(t.to_vec())).collect()
        };
        // Rows (a, b, day): each gives (b, a, day) then (a, b, day), or one tuple if a = b.
        let mut rows: Vec<[u32; 3]> = Vec::new();
        for i in 0..30_000u32 {
            rows.push([i % 300, (i * 7) % 311, i % 5]);
        }
        rows.push([3, 3, 1]);
        rows.push([3, 3, 1]);
        rows.push([12, 4, 2]);
        rows.push([4, 12, 2]);
        let mut ids = Vec::new();
        for r in &rows {
            if r[0] != r[1] {
                ids.extend_from_slice(&[r[1], r[0], r[2]]);
            }
            ids.extend_from_slice(r);
        }
        let n = ids.len() / 3;
        assert!(swapped_pairs(&ids, 3, n).is_some());
        let want = naive(&ids, 3);
        assert!(want.iter().any(|k| !k) && want.iter().any(|k| *k));
        assert_eq!(Rel::new(3).repeats(&ids, n), want);
        // One tuple without its swapped copy: checked tuple by tuple.
        ids.extend_from_slice(&[12, 4, 2]);
        assert!(swapped_pairs(&ids, 3, n + 1).is_none());
        assert_eq!(Rel::new(3).repeats(&ids, n + 1), naive(&ids, 3));
    }

    /// A frozen index (or a direct one, for the fewest tuples) offers the tuples of a key
    /// in the order chains do, for every key (many tuples a key, one, none; colliding
    /// buckets), and stays right once thawed.
    #[test]
    fn frozen_indexes_answer_like_chains_and_thaw_on_insert() {
        for n in [0u32, 1, 3, 5, 1000, 50_000] {
            let mut ids = Vec::new();
            for i in 0..n {
                ids.extend_from_slice(&[i % 97, i, i % 3]);
            }
            let mut chains = Rel::new(3);
            let mut frozen = Rel::new(3);
            chains.load_base(&ids, n as usize);
            frozen.load_base(&ids, n as usize);
            let cols = [0usize, 2];
            let a = chains.index_for(&cols);
            let b = frozen.frozen_index_on(&cols, 1);
            let same = |chains: &Rel, frozen: &Rel| {
                for k in 0..100u32 {
                    for c in 0..4u32 {
                        let h = hash_key([k, c].into_iter());
                        let hit = |r: &Rel, t: u32| r.tuple(t)[0] == k && r.tuple(t)[2] == c;
                        let x: Vec<u32> = (chains.indexes[a].candidates(h))
                            .filter(|&t| hit(chains, t))
                            .collect();
                        let y: Vec<u32> = (frozen.indexes[b].lookup(|i| [k, c][i]))
                            .filter(|&t| hit(frozen, t))
                            .collect();
                        assert_eq!(x, y, "n={n} key=({k},{c})");
                    }
                }
            };
            same(&chains, &frozen);
            chains.push(&[5, u32::MAX, 2]);
            frozen.push(&[5, u32::MAX, 2]);
            assert!(frozen.indexes[b].frozen.is_none() && frozen.indexes[b].direct.is_none());
            same(&chains, &frozen);
        }
    }

    /// A direct index (one column of dense values) offers a key's tuples in the order
    /// chains do, and stays right once thawed; a sparse column gets a frozen index.
    /// A direct index built on several threads is the one built on one: the same
    /// counts, starts and tuples in the same order, however the values fall (some
    /// repeated, some absent, a run in order and a run scattered); and large enough to
    /// be placed through buckets, it holds each value's tuples in order.
    #[test]
    fn direct_indexes_built_on_threads_are_built_alike() {
        let n = DIRECT_PARALLEL as u32 + 12_345;
        let mut ids = Vec::new();
        for i in 0..n {
            let v = match i < n / 2 {
                true => 7 + i / 3,
                false => 7 + (i.wrapping_mul(2_654_435_761) % n) / 2,
            };
            ids.extend_from_slice(&[v, i]);
        }
        let mut one = Rel::new(2);
        one.load_base(&ids, n as usize);
        let a = one.frozen_index_on(&[0], 1);
        let one = one.indexes[a].direct.clone().expect("direct").1;
        // The tuples by value, each value's in order: what the buckets must give.
        let mut by_value: Vec<u32> = (0..n).collect();
        by_value.sort_by_key(|&t| ids[t as usize * 2]);
        assert!(Buckets::of(n as usize, n as usize).is_some());
        assert_eq!(one.ids, by_value);
        for threads in [2, 3, 8] {
            let mut many = Rel::new(2);
            many.load_base(&ids, n as usize);
            let b = many.frozen_index_on(&[0], threads);
            let many = many.indexes[b].direct.clone().expect("direct").1;
            assert_eq!(
                (one.min, one.squares, &one.starts, &one.ids),
                (many.min, many.squares, &many.starts, &many.ids),
                "threads={threads}"
            );
        }
    }

    #[test]
    fn direct_indexes_answer_like_chains_and_thaw_on_insert() {
        for (n, spread) in [
            (0u32, 1u32),
            (1, 1),
            (5, 3),
            (50_000, 1),
            (50_000, 7),
            (3000, 100_000),
        ] {
            let mut ids = Vec::new();
            for i in 0..n {
                ids.extend_from_slice(&[1000 + (i * 31 % 997) * spread, i]);
            }
            let mut chains = Rel::new(2);
            let mut direct = Rel::new(2);
            chains.load_base(&ids, n as usize);
            direct.load_base(&ids, n as usize);
            let a = chains.index_for(&[0]);
            let b = direct.frozen_index_on(&[0], 1);
            let dense = n > 0 && spread < 100;
            assert_eq!(
                direct.indexes[b].direct.is_some(),
                dense,
                "n={n} spread={spread}"
            );
            let same = |chains: &Rel, direct: &Rel| {
                for k in (0..1100u32)
                    .map(|k| 1000 + k * spread)
                    .chain([0, 999, u32::MAX])
                {
                    let h = hash_key([k].into_iter());
                    let x: Vec<u32> = (chains.indexes[a].candidates(h))
                        .filter(|&t| chains.tuple(t)[0] == k)
                        .collect();
                    let y: Vec<u32> = (direct.indexes[b].lookup(|_| k))
                        .filter(|&t| direct.tuple(t)[0] == k)
                        .collect();
                    assert_eq!(x, y, "n={n} key={k}");
                }
            };
            same(&chains, &direct);
            chains.push(&[1000 + 5 * spread, u32::MAX]);
            direct.push(&[1000 + 5 * spread, u32::MAX]);
            assert!(direct.indexes[b].direct.is_none());
            same(&chains, &direct);
        }
    }

    /// An index on two columns is direct on the one whose values repeat least, if a
    /// probe finds few tuples; its candidates, checked as readers check them, are the
    /// chains' in their order, and stay so once thawed by an insert. Columns whose values
    /// repeat much, or are sparse, give a frozen index.
    #[test]
    fn direct_indexes_on_one_of_several_columns_answer_like_chains() {
        let n = 20_000u32;
        // (a, b, c): `a` has about two tuples a value, `b` 500, `c` is sparse.
        let tuple = |i: u32| [(i * 7919) % (n / 2), i % 40, i.wrapping_mul(2_654_435_761)];
        let mut ids = Vec::new();
        for i in 0..n {
            ids.extend_from_slice(&tuple(i));
        }
        for (cols, want) in [
            (vec![1usize, 0], Some(1usize)),
            (vec![0, 1], Some(0)),
            (vec![1, 2], None),
            (vec![2, 1], None),
        ] {
            let mut chains = Rel::new(3);
            let mut direct = Rel::new(3);
            chains.load_base(&ids, n as usize);
            direct.load_base(&ids, n as usize);
            let a = chains.index_for(&cols);
            let b = direct.frozen_index_on(&cols, 1);
            let at = direct.indexes[b].direct.as_ref().map(|d| d.0);
            assert_eq!(at, want, "cols {cols:?}");
            assert_eq!(direct.indexes[b].frozen.is_some(), want.is_none());
            let same = |chains: &Rel, direct: &Rel| {
                for i in (0..n + 10).step_by(7) {
                    let t = tuple(i);
                    let key: Vec<u32> = cols.iter().map(|&c| t[c]).collect();
                    let hit =
                        |r: &Rel, x: u32| cols.iter().zip(&key).all(|(&c, &v)| r.tuple(x)[c] == v);
                    let h = hash_key(key.iter().copied());
                    let x: Vec<u32> = chains.indexes[a]
                        .candidates(h)
                        .filter(|&x| hit(chains, x))
                        .collect();
                    let y: Vec<u32> = (direct.indexes[b].lookup(|i| key[i]))
                        .filter(|&x| hit(direct, x))
                        .collect();
                    assert_eq!(x, y, "cols {cols:?} key {key:?}");
                    assert!(i >= n || !x.is_empty());
                }
            };
            same(&chains, &direct);
            chains.push(&tuple(3));
            assert!(direct.insert(&tuple(3)).is_none());
            direct.push(&tuple(3));
            assert!(direct.indexes[b].direct.is_none() && direct.indexes[b].frozen.is_none());
            same(&chains, &direct);
        }
    }

    /// Taking every tuple of a relation into an empty one keeps them in order, finds
    /// each through the set index and the taker's other indexes, and leaves the giver
    /// empty and usable.
    #[test]
    fn take_all_moves_tuples_and_builds_the_takers_indexes() {
        let mut from = Rel::new(2);
        for i in 0..1000u32 {
            assert!(from.insert(&[i % 37, i]).is_some());
        }
        let mut to = Rel::new(2);
        let by_first = to.index_for(&[0]);
        to.take_all(&mut from);
        assert_eq!(to.len(), 1000);
        assert_eq!(from.len(), 0);
        for i in 0..1000u32 {
            assert_eq!(to.tuple(i), &[i % 37, i]);
            assert_eq!(to.position(&[i % 37, i]), Some(i));
        }
        let got: Vec<u32> = to.indexes[by_first]
            .lookup(|_| 5)
            .filter(|&t| to.tuple(t)[0] == 5)
            .collect();
        let want: Vec<u32> = (0..1000u32).rev().filter(|i| i % 37 == 5).collect();
        assert_eq!(got, want);
        assert!(to.insert(&[5, 5]).is_none());
        assert_eq!(to.insert(&[5, 1000]), Some(1000));
        assert_eq!(from.insert(&[1, 2]), Some(0));
        assert!(!from.contains(&[5, 5]));
    }

    /// Runs are found whatever the spread of the hashes: skewed, all equal, at the ends.
    #[test]
    fn frozen_runs_are_found_for_skewed_hashes() {
        let big: Vec<u32> = (0..300_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761) | 1)
            .collect();
        let shapes: Vec<Vec<u32>> = vec![
            big,
            (0..300_000u32)
                .map(|i| (i % 5000).wrapping_mul(2_654_435_761))
                .collect(),
            (0..300_000u32).map(|i| i << 12).collect(),
            vec![7; 1000],
            (0..1000)
                .map(|i| if i % 2 == 0 { 0 } else { u32::MAX })
                .collect(),
            (0..1000).map(|i| i / 10).collect(),
            (0..1000).map(|i| u32::MAX - (i % 3)).collect(),
            (0..1000u32)
                .map(|i| i.wrapping_mul(2_654_435_761))
                .collect(),
        ];
        for keys in shapes {
            let f = Frozen::build(keys.len(), |t| keys[t]);
            let mut probes: Vec<u32> = keys.iter().step_by(keys.len() / 300 + 1).copied().collect();
            probes.extend([0, 1, 6, 8, 50, u32::MAX, u32::MAX - 5, 1 << 31]);
            for h in probes {
                let want: Vec<u32> = (0..keys.len() as u32)
                    .filter(|&t| keys[t as usize] == h)
                    .collect();
                let got: Vec<u32> = f.run(h).iter().map(|&(_, t)| t).collect();
                assert_eq!(got, want, "hash {h}");
            }
        }
    }

    /// Base tuples without repeats are shared with the fact set, not copied; adding to
    /// the relation copies them first, leaving the fact set's untouched. With repeats
    /// they are copied, as by `load_base`.
    #[test]
    fn base_tuples_are_shared_until_written() {
        let ids = Arc::new(vec![1, 2, 3, 4, 5, 6]);
        let mut rel = Rel::new(2);
        assert_eq!(rel.load_shared(&ids, 3), None);
        assert!(Arc::ptr_eq(&rel.data, &ids));
        assert_eq!(rel.insert(&[7, 8]), Some(3));
        assert!(!Arc::ptr_eq(&rel.data, &ids));
        assert_eq!(*ids, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(rel.tuple(3), &[7, 8]);
        assert_eq!(rel.position(&[3, 4]), Some(1));
        let repeated = Arc::new(vec![1, 2, 1, 2, 5, 6]);
        let mut rel = Rel::new(2);
        assert_eq!(rel.load_shared(&repeated, 3), Some(vec![true, false, true]));
        assert!(!Arc::ptr_eq(&rel.data, &repeated));
        assert_eq!((rel.len(), rel.tuple(1)), (2, &[5u32, 6][..]));
        assert!(!rel.has_repeats());
    }

    /// A large relation keeps its repeats unless its sample shows some: a relation
    /// given twice (its copies far apart, or side by side) drops them; one with a few
    /// keeps them, shared, and finds each tuple at its first copy.
    #[test]
    fn large_relations_keep_repeats_their_sample_does_not_show() {
        let n = 200_000u32;
        let distinct: Vec<u32> = (0..n).flat_map(|i| [i, i * 7 % n]).collect();
        let half = |v: &[u32]| v[..v.len() / 2].to_vec();
        let apart = [half(&distinct), half(&distinct)].concat();
        let side_by_side: Vec<u32> = half(&distinct)
            .chunks(2)
            .flat_map(|t| [t, t].concat())
            .collect();
        for (what, ids) in [("apart", apart), ("side by side", side_by_side)] {
            let mut rel = Rel::new(2);
            let keep = rel.load_shared(&Arc::new(ids), n as usize);
            let dropped = keep.map_or(0, |k| k.iter().filter(|&&k| !k).count());
            assert_eq!(dropped, n as usize / 2, "{what}");
            assert_eq!(rel.len(), n / 2, "{what}");
            assert!(!rel.has_repeats(), "{what}");
        }
        let mut few = distinct.clone();
        for k in [10usize, 99_000, 150_001] {
            few[2 * (k + 1)..2 * (k + 2)].copy_from_slice(&distinct[2 * k..2 * (k + 1)]);
        }
        let few = Arc::new(few);
        let mut rel = Rel::new(2);
        assert_eq!(rel.load_shared(&few, n as usize), None);
        assert!(Arc::ptr_eq(&rel.data, &few) && rel.has_repeats());
        rel.ensure_set();
        for k in [10u32, 99_000, 150_001] {
            assert_eq!(rel.position(rel.tuple(k + 1)), Some(k), "copy of {k}");
        }
        assert_eq!(rel.position(&[5, 35]), Some(5));
    }
}
