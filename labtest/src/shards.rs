//! Counting shard moves, for the sharded KV graders (2024's shardkv and
//! the 2025/26 course's shardkv1): a configuration's shards are a slice of
//! group ids (0: no group), one per shard.

/// The fewest shards a rebalance from `prev` (each shard's group) to the
/// groups `next` can move while leaving every group `shards / n` shards or
/// one more: every shard of a group that is gone, plus each group's
/// surplus over its target, where the groups holding the most shards get
/// the larger targets. With no groups left, every shard goes to group 0.
pub fn min_moves(prev: &[u64], next: &[u64]) -> usize {
    let n = next.len();
    if n == 0 {
        return prev.iter().filter(|&&g| g != 0).count();
    }
    let (base, extra) = (prev.len() / n, prev.len() % n);
    let orphans = prev.iter().filter(|g| !next.contains(g)).count();
    let mut counts: Vec<usize> = next
        .iter()
        .map(|g| prev.iter().filter(|&s| s == g).count())
        .collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let surplus: usize = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c.saturating_sub(base + usize::from(i < extra)))
        .sum();
    orphans + surplus
}

/// How many shards change group from `a` to `b`.
pub fn moved(a: &[u64], b: &[u64]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_of_joins_and_leaves() {
        // The first join takes every shard.
        assert_eq!(min_moves(&[0; 10], &[1]), 10);
        // A second group takes half.
        assert_eq!(min_moves(&[1; 10], &[1, 2]), 5);
        // 10 shards over 3 groups: 4, 3, 3; the biggest keeps 4.
        assert_eq!(min_moves(&[1, 1, 1, 1, 1, 2, 2, 2, 2, 2], &[1, 2, 3]), 3);
        // A group leaves: its shards move, no more.
        assert_eq!(min_moves(&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3], &[1, 3]), 3);
        // Every group leaves.
        assert_eq!(min_moves(&[1, 2, 0], &[]), 2);
        assert_eq!(moved(&[1, 2, 3], &[1, 3, 3]), 1);
    }
}
