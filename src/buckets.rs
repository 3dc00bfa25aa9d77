//! Visiting a batch of keys in the order of a hash table's buckets.
//!
//! Inserting or looking up millions of keys one after another in a table far larger
//! than the cache misses the cache (and the TLB) at nearly every key. Taken in the order
//! of the buckets they fall in, the same operations walk the table from one end to the
//! other. The order is a counting sort by blocks of buckets a few kilobytes long: two
//! sequential passes, no comparison sort.

/// `items` (each with the 64-bit hash a hashbrown table places it by) ordered by the
/// bucket they fall in in such a table with room for `capacity` items. Stable: items of
/// equal hashes keep their order. The items themselves are moved, so the caller then
/// reads them sequentially.
///
/// hashbrown keeps a power-of-two number of buckets, 8/7 of its capacity, and takes an
/// entry's bucket from the low bits of its hash. Were this ever not so, the order would
/// only be slower, never wrong: callers use it only to order operations whose result does
/// not depend on their order (or, for equal keys, keep their order).
pub(crate) fn by_bucket<T: Copy + Default>(
    items: &[T],
    hash: impl Fn(&T) -> u64,
    capacity: usize,
) -> Vec<T> {
    let buckets = (capacity.max(1) * 8 / 7).next_power_of_two().max(1);
    let blocks = (buckets / 512).clamp(1, 1 << 16);
    let shift = (buckets / blocks).trailing_zeros();
    let block = |t: &T| (hash(t) as usize & (buckets - 1)) >> shift;
    let mut starts = vec![0u32; blocks + 1];
    for t in items {
        starts[block(t) + 1] += 1;
    }
    for b in 0..blocks {
        starts[b + 1] += starts[b];
    }
    let mut out = vec![T::default(); items.len()];
    for &t in items {
        let b = block(&t);
        out[starts[b] as usize] = t;
        starts[b] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_bucket_block_and_keeps_equal_hashes_in_order() {
        let hashes: Vec<u64> = (0..10_000u64)
            .map(|i| (i % 977).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let items: Vec<u32> = (0..10_000).collect();
        let order = by_bucket(&items, |&i| hashes[i as usize], 10_000);
        let mut seen = order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..10_000).collect::<Vec<u32>>());
        let buckets = (10_000usize * 8 / 7).next_power_of_two();
        let block = |i: u32| (hashes[i as usize] as usize & (buckets - 1)) >> 9;
        for w in order.windows(2) {
            assert!(block(w[0]) <= block(w[1]));
            if hashes[w[0] as usize] == hashes[w[1] as usize] {
                assert!(w[0] < w[1]);
            }
        }
        assert!(by_bucket(&[] as &[u32], |&i| u64::from(i), 0).is_empty());
        assert_eq!(
            by_bucket(&[5u32, 1, 3], |&i| u64::from(i), 0),
            vec![5, 1, 3]
        );
    }
}
