//! Partial indexes: a lookup followed by comparisons of the tuple's own columns with
//! constants (`holds_shares(holder: h, end: end)` then `end > 9999-12-31`) reads an
//! index of only the tuples that pass them, built once over a relation no clause
//! derives.
//!
//! The index holds its own copy of those tuples (of the columns its lookups bind), in
//! the order of the lookup's key (a dense column, as a direct index's) and, within a
//! key, in the relation's order: a key's tuples are one run of memory, found with one
//! read of `starts`. A lookup then
//! finds the same tuples, in the same order, as the lookup of the whole relation
//! followed by the comparisons would have let through: the derivations, and so the
//! findings and their evidence, are the same.

use crate::ir::Literal;
use crate::syntax::ast::CmpOp;
use crate::value::Value;

/// What a comparison of a partial index is, among those of other clauses: the column,
/// the operator (with the column on its left), and the constant (a param's value).
pub(crate) type CondKey = (usize, CmpOp, Value);

/// A comparison a partial index applies: the column of its `key` against a constant, as
/// literal `lit` (whose variable is `var`) says.
#[derive(Debug, Clone)]
pub(crate) struct Cond<'p> {
    pub(crate) var: u32,
    pub(crate) lit: &'p Literal,
    pub(crate) key: CondKey,
}

/// The tuples of a relation that pass some comparisons, by the value of one dense
/// column: those whose value is `min + v` are rows `starts[v]..starts[v + 1]` of
/// `rows`, the relation's tuples `orig[starts[v]..starts[v + 1]]`, ascending. A row
/// holds the tuple's columns `cols` (those its lookups bind), in that order.
#[derive(Debug, Clone)]
pub(crate) struct Partial {
    /// The key column, and the comparisons' keys (see [`Cond::key`]).
    pub(crate) col: usize,
    pub(crate) conds: Vec<CondKey>,
    pub(crate) cols: Vec<usize>,
    min: u32,
    starts: Vec<u32>,
    rows: Vec<u32>,
    orig: Vec<u32>,
}

/// Buckets of values a part of a [`Partial`] index is first placed in, at most.
const BUCKETS: usize = 4096;

/// A key's tuples in a [`Partial`] index: their numbers in the relation, and their rows
/// (of the index's `cols`).
pub(crate) struct Run<'a> {
    pub(crate) orig: &'a [u32],
    pub(crate) rows: &'a [u32],
}

/// `f` over each of `parts`, each on a thread of its own (the first on this one).
fn on_threads<R: Send>(
    parts: &[std::ops::Range<usize>],
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let f = &f;
    std::thread::scope(|s| {
        let workers: Vec<_> = (parts.iter().skip(1))
            .map(|r| {
                let r = r.clone();
                s.spawn(move || f(r))
            })
            .collect();
        let mut out: Vec<R> = parts.first().cloned().map(f).into_iter().collect();
        out.extend(
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
        );
        out
    })
}

/// No key: the tuple is not kept (see [`Partial::build`]).
pub(crate) const NO_KEY: u32 = u32::MAX;

impl Partial {
    /// Over the tuples of `data` (arity `arity`) whose `keys[t]` (their column `col`'s
    /// value) is not [`NO_KEY`], rows of their columns `cols`; `None` if those values
    /// span more than about twice as many ids as there are tuples (the column is not
    /// dense). On `threads` threads, each placing the tuples of a range of values: the
    /// index is the same however many there are.
    pub(crate) fn build(
        data: &[u32],
        arity: usize,
        (col, cols): (usize, Vec<usize>),
        keys: &[u32],
        conds: Vec<CondKey>,
        threads: usize,
    ) -> Option<Partial> {
        let width = cols.len();
        let par = if keys.len() >= 1 << 17 {
            threads.clamp(1, 8)
        } else {
            1
        };
        let parts: Vec<std::ops::Range<usize>> = (0..par)
            .map(|i| keys.len() * i / par..keys.len() * (i + 1) / par)
            .collect();
        let kept = |r: std::ops::Range<usize>| keys[r].iter().filter(|&&k| k != NO_KEY);
        let (n, min, max) = on_threads(&parts, |r| {
            kept(r).fold((0usize, u32::MAX, 0u32), |(n, lo, hi), &k| {
                (n + 1, lo.min(k), hi.max(k))
            })
        })
        .into_iter()
        .fold((0, u32::MAX, 0), |(n, lo, hi), (m, a, b)| {
            (n + m, lo.min(a), hi.max(b))
        });
        if n > 0 && (max - min) as usize > 2 * n + 4096 {
            return None;
        }
        let span = if n == 0 { 0 } else { (max - min) as usize + 1 };
        // Values in buckets of 2^shift consecutive ones, few enough for their counts
        // (and the places being written, below) to stay in the cache.
        let mut shift = 0;
        while span >> shift > BUCKETS {
            shift += 1;
        }
        let buckets = (span >> shift) + 1;
        let bucket_of = |k: u32| ((k - min) >> shift) as usize;
        let counted = on_threads(&parts, |r| {
            let mut counts = vec![0usize; buckets];
            for &k in kept(r) {
                counts[bucket_of(k)] += 1;
            }
            counts
        });
        // Where each bucket's tuples start.
        let mut at = vec![0usize; buckets + 1];
        for b in 0..buckets {
            at[b + 1] = at[b] + counted.iter().map(|c| c[b]).sum::<usize>();
        }
        // Bucket `cuts[i]` is the first of part `i`: about as many tuples each.
        let mut cuts: Vec<usize> = (0..par)
            .map(|i| at.partition_point(|&s| s < n * i / par).min(buckets))
            .collect();
        cuts.push(buckets);
        let mut starts = vec![0u32; span + 1];
        let mut rows = vec![0u32; n * width];
        let mut orig = vec![0u32; n];
        // Each part reads the keys and places the tuples of its buckets, in two passes
        // rather than a write to a random place per tuple: the first copies each into
        // the run of its bucket (a few thousand runs, each written in order, their
        // current lines in the cache), the second counts each bucket's values and orders
        // it by them, in the cache. Both keep the tuples of a value in the relation's
        // order.
        let place =
            |(lo, hi): (usize, usize),
             (starts, rows, orig): (&mut [u32], &mut [u32], &mut [u32])| {
                let base = at[lo];
                let mut fill: Vec<usize> = at[lo..hi].iter().map(|&a| a - base).collect();
                // Each placed tuple's value, less its bucket's first.
                let mut value = vec![0u32; orig.len()];
                for (t, &k) in keys.iter().enumerate() {
                    if k == NO_KEY || !(lo..hi).contains(&bucket_of(k)) {
                        continue;
                    }
                    let b = bucket_of(k);
                    let p = fill[b - lo];
                    fill[b - lo] += 1;
                    orig[p] = t as u32;
                    value[p] = (k - min) - ((b as u32) << shift);
                    let tuple = &data[t * arity..(t + 1) * arity];
                    for (to, &c) in rows[p * width..(p + 1) * width].iter_mut().zip(&cols) {
                        *to = tuple[c];
                    }
                }
                let (mut own_rows, mut own_orig, mut own_value) =
                    (Vec::new(), Vec::new(), Vec::new());
                let mut next = vec![0usize; 1 << shift];
                for b in lo..hi {
                    let (from, to) = (at[b] - base, at[b + 1] - base);
                    // The bucket's values' starts.
                    let first = b << shift;
                    let values = (1usize << shift).min(span - first.min(span));
                    next[..values].fill(0);
                    for &v in &value[from..to] {
                        next[v as usize] += 1;
                    }
                    let mut sum = from;
                    for (v, c) in next[..values].iter_mut().enumerate() {
                        starts[first + v - (lo << shift)] = (base + sum) as u32;
                        (*c, sum) = (sum, sum + *c);
                    }
                    if to - from < 2 {
                        continue;
                    }
                    own_orig.clear();
                    own_orig.extend_from_slice(&orig[from..to]);
                    own_value.clear();
                    own_value.extend_from_slice(&value[from..to]);
                    own_rows.clear();
                    own_rows.extend_from_slice(&rows[from * width..to * width]);
                    for (k, (&t, &v)) in own_orig.iter().zip(&own_value).enumerate() {
                        let p = next[v as usize];
                        next[v as usize] += 1;
                        orig[p] = t;
                        rows[p * width..(p + 1) * width]
                            .copy_from_slice(&own_rows[k * width..(k + 1) * width]);
                    }
                }
            };
        std::thread::scope(|s| {
            let mut rest = (&mut starts[..span], &mut rows[..], &mut orig[..]);
            let mut mine = None;
            for (i, w) in cuts.windows(2).enumerate() {
                let len = at[w[1]] - at[w[0]];
                let vals = ((w[1] << shift).min(span)) - ((w[0] << shift).min(span));
                let (rs, ro, rg) = std::mem::take(&mut rest);
                let (s0, s1) = rs.split_at_mut(vals);
                let (r0, r1) = ro.split_at_mut(len * width);
                let (o0, o1) = rg.split_at_mut(len);
                rest = (s1, r1, o1);
                let range = (w[0], w[1]);
                match i {
                    0 => mine = Some((range, (s0, r0, o0))),
                    _ => {
                        let place = &place;
                        s.spawn(move || place(range, (s0, r0, o0)));
                    }
                }
            }
            if let Some((range, part)) = mine {
                place(range, part);
            }
        });
        starts[span] = n as u32;
        Some(Partial {
            col,
            conds,
            cols,
            min,
            starts,
            rows,
            orig,
        })
    }

    /// The tuples whose key column's value is `key`.
    pub(crate) fn run(&self, key: u32) -> Run<'_> {
        let (lo, hi) = self.span(key);
        let width = self.cols.len();
        Run {
            orig: &self.orig[lo..hi],
            rows: &self.rows[lo * width..hi * width],
        }
    }

    fn span(&self, key: u32) -> (usize, usize) {
        let Some(v) = key.checked_sub(self.min).map(|v| v as usize) else {
            return (0, 0);
        };
        match (self.starts.get(v), self.starts.get(v + 1)) {
            (Some(&lo), Some(&hi)) => (lo as usize, hi as usize),
            _ => (0, 0),
        }
    }

    /// Reads where the tuples of `key` are, and the first id of the newest, for nothing
    /// but to have them in the cache when they are looked up: its place among the
    /// index's rows and that id, if it has tuples.
    pub(crate) fn touch(&self, key: u32) -> Option<(u32, u32)> {
        let (lo, hi) = self.span(key);
        (hi > lo).then(|| {
            let at = (hi - 1) * self.cols.len();
            ((hi - 1) as u32, self.rows.get(at).copied().unwrap_or(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A partial index finds, per key, exactly the kept tuples with that key, in the
    /// relation's order, with their rows; built alike on one thread and on several.
    #[test]
    fn partial_indexes_find_the_kept_tuples_of_a_key_in_order() {
        let arity = 3;
        let n = 300_000usize;
        let mut data = Vec::with_capacity(n * arity);
        let mut x = 12345u64;
        for t in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            data.extend([
                1000 + (x >> 40) as u32 % 5000,
                t as u32,
                (x >> 20) as u32 % 7,
            ]);
        }
        let keep: Vec<bool> = (0..n).map(|t| data[t * arity + 2] != 3).collect();
        let keys: Vec<u32> = (0..n)
            .map(|t| if keep[t] { data[t * arity] } else { NO_KEY })
            .collect();
        // Rows of columns 2 and 1, in that order.
        let cols = vec![2, 1];
        let one = Partial::build(&data, arity, (0, cols.clone()), &keys, vec![], 1).expect("dense");
        let many = Partial::build(&data, arity, (0, cols), &keys, vec![], 4).expect("dense");
        assert_eq!(
            (&one.starts, &one.orig, &one.rows),
            (&many.starts, &many.orig, &many.rows)
        );
        for key in [0, 999, 1000, 1001, 3500, 5999, 6000, u32::MAX] {
            let want: Vec<u32> = (0..n as u32)
                .filter(|&t| keep[t as usize] && data[t as usize * arity] == key)
                .collect();
            let run = one.run(key);
            assert_eq!(run.orig, &want[..], "key {key}");
            for (k, &t) in run.orig.iter().enumerate() {
                let t = t as usize;
                assert_eq!(
                    run.rows[k * 2..k * 2 + 2],
                    [data[t * arity + 2], data[t * arity + 1]]
                );
            }
            assert_eq!(one.touch(key).is_some(), !want.is_empty());
        }
        // Values spread too thin for their number: no index.
        let sparse = [0u32, 0, 0, 1 << 30, 0, 0];
        assert!(Partial::build(&sparse, 3, (0, vec![1]), &[0, 1 << 30], vec![], 1).is_none());
        let none =
            Partial::build(&sparse, 3, (0, vec![1]), &[NO_KEY, NO_KEY], vec![], 1).expect("empty");
        assert!(none.run(0).orig.is_empty() && none.touch(0).is_none());
    }
}
