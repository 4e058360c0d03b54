//! Lowe's memo table: the (linearized set, state) pairs already explored.
//!
//! An entry's key combines a Zobrist hash of the set with a hash of the
//! state. Each operation has a fixed random 64-bit key and a set hashes to
//! the XOR of its members' keys, so adding or removing one operation updates
//! it in O(1). The state's hash matters because one set can be reached in
//! thousands of states (every order of concurrent appends gives a different
//! string): keyed on the set alone, those would share one probe sequence and
//! every lookup would compare them all. Entries live in flat arrays (one
//! bitset of `words` words per entry, no allocation per entry) behind an
//! open-addressing index; sets and states are compared only when the full
//! 64-bit keys agree.

use std::hash::{Hash, Hasher};

/// The Zobrist key of operation `i` (SplitMix64 of `i`): fixed, so searches
/// are reproducible.
pub(crate) fn zobrist(i: usize) -> u64 {
    let mut z = (i as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash of a state, with a fixed function (the same on every run and
/// machine, unlike std's `RandomState`): rustc-hash's FxHasher, then a
/// SplitMix64 finalizer, so that the low bits the index uses depend on
/// every input bit.
pub(crate) fn state_hash<S: Hash>(state: &S) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    state.hash(&mut h);
    let mut z = h.finish();
    z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    z = (z ^ (z >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ (z >> 33)
}

/// The memo key of a set with Zobrist hash `set` in a state hashing to
/// `state`.
pub(crate) fn key(set: u64, state: u64) -> u64 {
    set ^ state.rotate_left(17)
}

/// A set of explored (bitset, state) pairs.
///
/// Invariant: `slots.len()` is a power of two, at least twice the number of
/// entries; a slot holds `entry index + 1`, or 0 when empty.
pub(crate) struct Memo<S> {
    words: usize,
    slots: Vec<u32>,
    hashes: Vec<u64>,
    bits: Vec<u64>,
    states: Vec<S>,
    /// The heap the stored states hold beyond their own size, as the
    /// model estimates it ([`crate::Model::heap_bytes`]).
    heap: usize,
}

impl<S: Clone + Eq> Memo<S> {
    /// An empty table for sets of `words * 64` operations.
    pub(crate) fn new(words: usize) -> Self {
        Memo {
            words,
            slots: vec![0; 1024],
            hashes: Vec::new(),
            bits: Vec::new(),
            states: Vec::new(),
            heap: 0,
        }
    }

    /// Adds (`bits`, `state`), whose combined key is `hash` (see
    /// [`key`]), unless already present. Returns whether it was added.
    /// `heap` is the heap memory the state holds that no stored state
    /// shares (see [`Memo::bytes`]).
    pub(crate) fn insert(&mut self, hash: u64, bits: &[u64], state: &S, heap: usize) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                break;
            }
            let e = (slot - 1) as usize;
            if self.hashes[e] == hash
                && self.bits[e * self.words..(e + 1) * self.words] == *bits
                && self.states[e] == *state
            {
                return false;
            }
            i = (i + 1) & mask;
        }
        let e = self.states.len();
        let slot = u32::try_from(e + 1).expect("memo table exceeds 2^32 entries");
        self.hashes.push(hash);
        self.bits.extend_from_slice(bits);
        self.states.push(state.clone());
        self.heap += heap;
        if 2 * self.states.len() > self.slots.len() {
            self.grow();
        } else {
            self.slots[i] = slot;
        }
        true
    }

    /// Doubles the index and re-inserts every entry (including the newest).
    fn grow(&mut self) {
        let len = self.slots.len() * 2;
        let mask = len - 1;
        self.slots = vec![0; len];
        for (e, &hash) in self.hashes.iter().enumerate() {
            let mut i = (hash as usize) & mask;
            while self.slots[i] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = (e + 1) as u32;
        }
    }

    /// The memory the table holds: its arrays as allocated (capacity, not
    /// length) and the states' heap as the model estimates it.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<u32>()
            + self.hashes.capacity() * size_of::<u64>()
            + self.bits.capacity() * size_of::<u64>()
            + self.states.capacity() * size_of::<S>()
            + self.heap
    }

    /// The number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_it_stored_and_only_that() {
        let mut memo: Memo<u32> = Memo::new(2);
        let mut stored = Vec::new();
        for i in 0..5000usize {
            let bits = [i as u64, (i * 7) as u64];
            let hash = zobrist(i % 97); // many equal hashes: exercises collisions
            assert!(memo.insert(hash, &bits, &(i as u32 % 3), 0));
            stored.push((hash, bits, i as u32 % 3));
        }
        assert_eq!(memo.len(), 5000);
        for (hash, bits, state) in &stored {
            assert!(!memo.insert(*hash, bits, state, 0));
        }
        // Same set and hash, different state: a new entry.
        let (hash, bits, state) = stored[0];
        assert!(memo.insert(hash, &bits, &(state + 10), 0));
    }

    #[test]
    fn state_hashes_spread() {
        let mut low: Vec<u64> = (0..4096u64).map(|i| state_hash(&i) & 4095).collect();
        low.sort_unstable();
        low.dedup();
        assert!(low.len() > 2500, "{} distinct low bits", low.len());
        assert_ne!(state_hash(&"ab"), state_hash(&"ba"));
        assert_eq!(state_hash(&"ab"), state_hash(&String::from("ab")));
    }

    #[test]
    fn zobrist_keys_differ() {
        let mut keys: Vec<u64> = (0..10_000).map(zobrist).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 10_000);
    }
}
