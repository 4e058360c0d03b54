//! The KV store of the kvsrv, kvraft and shardkv labs.
//!
//! Get / Put / Append on string keys; a missing key reads `""`. Keys are
//! independent, so the history is partitioned by key (sorted) and each
//! key's state is its value. An Append may also report the value it
//! replaced (kvsrv's Append returns the old value): then that must match.
//!
//! JSON (see [`crate::format`]): input `{"op": "get", "key": "k"}`,
//! `{"op": "put" | "append", "key": "k", "value": "v"}`; output
//! `{"value": "v"}` for a get, `{}` for a put, `{}` or `{"value": "old"}`
//! for an append.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::format::{JsonModel, MaybeValue};
use crate::history::Operation;
use crate::model::{Model, Partition};
use crate::refute::refute_kv;
use crate::result::Refutation;

/// A KV operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

impl KvInput {
    pub fn get(key: impl Into<String>) -> Self {
        KvInput::Get { key: key.into() }
    }

    pub fn put(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn append(key: impl Into<String>, value: impl Into<String>) -> Self {
        KvInput::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    /// The key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

/// A KV result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "MaybeValue<String>", into = "MaybeValue<String>")]
pub enum KvOutput {
    /// A get's value, or the old value an append replaced.
    Value(String),
    /// A put or an append that reports nothing.
    Done,
}

impl KvOutput {
    pub fn value(value: impl Into<String>) -> Self {
        KvOutput::Value(value.into())
    }
}

/// The KV model; the state of one key is its value.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvModel;

/// The value of one key, with a cached polynomial hash of its bytes.
///
/// Appends build long values, and the checker hashes and compares a state
/// on every step: the hash is extended in O(appended bytes) instead of
/// recomputed, a clone bumps a count, and unequal values almost always
/// differ in hash (checked first) rather than after a byte comparison.
///
/// Invariant: `hash == poly_hash(value)`.
#[derive(Clone, Debug)]
pub struct KvState {
    value: Rc<str>,
    hash: u64,
}

/// The polynomial hash base (odd, so powers never vanish mod 2^64).
const BASE: u64 = 0x0000_0100_0000_01b3;

fn poly_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |h, &b| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1)
    })
}

impl KvState {
    fn new(value: &str) -> Self {
        KvState {
            value: Rc::from(value),
            hash: poly_hash(value.as_bytes()),
        }
    }

    fn append(&self, suffix: &str) -> Self {
        let mut s = String::with_capacity(self.value.len() + suffix.len());
        s.push_str(&self.value);
        s.push_str(suffix);
        let shift = BASE.wrapping_pow(suffix.len() as u32);
        KvState {
            value: Rc::from(s),
            hash: self
                .hash
                .wrapping_mul(shift)
                .wrapping_add(poly_hash(suffix.as_bytes())),
        }
    }

    /// The value.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The heap `self` holds that `before` does not share: its value's
    /// allocation (the `Rc`'s two counts, the bytes, the allocator's
    /// header) unless it is `before`'s.
    fn heap_bytes(&self, before: &KvState) -> usize {
        if Rc::ptr_eq(&self.value, &before.value) {
            0
        } else {
            allocation(16 + self.value.len())
        }
    }
}

/// The bytes an allocation of `size` takes from the allocator: a 16-byte
/// header, rounded up to 16 (glibc's malloc; others are alike).
pub(crate) const fn allocation(size: usize) -> usize {
    (size + 16).next_multiple_of(16)
}

/// The bytes one entry of a `BTreeMap<String, KvState>` takes in its node
/// (key 24 + value 24, nodes about two-thirds full, edges and headers
/// shared out), not counting the key's own allocation.
const MAP_ENTRY: usize = 80;

impl PartialEq for KvState {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && (Rc::ptr_eq(&self.value, &other.value) || self.value == other.value)
    }
}

impl Eq for KvState {}

impl Hash for KvState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Model for KvModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvState;

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.iter().enumerate() {
            by_key.entry(op.input.key()).or_default().push(i);
        }
        by_key
            .into_iter()
            .map(|(key, ops)| Partition {
                label: format!("key {key:?}"),
                ops,
            })
            .collect()
    }

    fn init(&self) -> KvState {
        KvState::new("")
    }

    fn step(&self, state: &KvState, input: &KvInput, output: Option<&KvOutput>) -> Option<KvState> {
        match (input, output) {
            (KvInput::Get { .. }, None) => Some(state.clone()),
            (KvInput::Get { .. }, Some(KvOutput::Value(v))) => {
                (state.as_str() == v).then(|| state.clone())
            }
            (KvInput::Put { value, .. }, None | Some(KvOutput::Done)) => Some(KvState::new(value)),
            (KvInput::Append { value, .. }, None | Some(KvOutput::Done)) => {
                Some(state.append(value))
            }
            (KvInput::Append { value, .. }, Some(KvOutput::Value(old))) => {
                (state.as_str() == old).then(|| state.append(value))
            }
            (KvInput::Get { .. }, Some(KvOutput::Done))
            | (KvInput::Put { .. }, Some(KvOutput::Value(_))) => None,
        }
    }

    fn is_read_only(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn heap_bytes(&self, before: &KvState, after: &KvState) -> usize {
        after.heap_bytes(before)
    }

    /// A put, whatever its output says (a put's output is never a value).
    fn is_reset(&self, input: &KvInput, _output: Option<&KvOutput>) -> bool {
        matches!(input, KvInput::Put { .. })
    }

    fn prunes(&self, input: &KvInput, output: Option<&KvOutput>) -> bool {
        matches!(
            (input, output),
            (KvInput::Get { .. }, Some(KvOutput::Value(_)))
        )
    }

    /// Without puts a value only grows: a get of `v` can become legal only
    /// if the value now is a prefix of `v`.
    fn reaches(&self, state: &KvState, input: &KvInput, output: Option<&KvOutput>) -> bool {
        match (input, output) {
            (KvInput::Get { .. }, Some(KvOutput::Value(v))) => v.starts_with(state.as_str()),
            _ => true,
        }
    }

    /// A read of a value no write could produce, or one that misses a
    /// write completed before it began (see `src/refute.rs`).
    fn refute(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        ops: &[usize],
    ) -> Option<Refutation> {
        refute_kv(self, history, ops)
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        let call = match input {
            KvInput::Get { key } => format!("get({key:?})"),
            KvInput::Put { key, value } => format!("put({key:?}, {value:?})"),
            KvInput::Append { key, value } => format!("append({key:?}, {value:?})"),
        };
        match output {
            None => format!("{call} -> ?"),
            Some(KvOutput::Value(v)) => format!("{call} -> {v:?}"),
            Some(KvOutput::Done) => call,
        }
    }

    fn describe_state(&self, state: &KvState) -> String {
        format!("{:?}", state.as_str())
    }
}

/// The KV model checked as one partition (`lincheck --no-partition`):
/// the state is the whole store. Exact like [`KvModel`], but the search
/// no longer splits by key, which is the hard case porcupine's
/// "no partition" KV benchmarks measure.
#[derive(Clone, Copy, Debug, Default)]
pub struct KvUnpartitionedModel;

/// The whole store: keys with a non-empty value (a missing key reads
/// `""`), with a cached hash, the wrapping sum of one hash per entry.
#[derive(Clone, Debug)]
pub struct KvStoreState {
    map: Rc<BTreeMap<String, KvState>>,
    hash: u64,
    /// The allocations of the map's keys, added up.
    keys: usize,
    /// What making this state allocated ([`Model::heap_bytes`]): the map
    /// (nodes and keys; the values are shared with the states before) and
    /// the one value the step wrote.
    heap: usize,
}

impl KvStoreState {
    /// The value of `key` (`""` if missing).
    pub fn get(&self, key: &str) -> &str {
        self.map.get(key).map_or("", KvState::as_str)
    }

    fn entry_hash(key: &str, value: &KvState) -> u64 {
        let h = poly_hash(key.as_bytes()) ^ value.hash.rotate_left(29);
        // SplitMix64's finalizer: entries must not cancel out in the sum.
        let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl PartialEq for KvStoreState {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Rc::ptr_eq(&self.map, &other.map) || self.map == other.map)
    }
}

impl Eq for KvStoreState {}

impl Hash for KvStoreState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Model for KvUnpartitionedModel {
    type Input = KvInput;
    type Output = KvOutput;
    type State = KvStoreState;

    fn init(&self) -> KvStoreState {
        KvStoreState {
            map: Rc::new(BTreeMap::new()),
            hash: 0,
            keys: 0,
            heap: 0,
        }
    }

    fn step(
        &self,
        state: &KvStoreState,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Option<KvStoreState> {
        let key = input.key();
        let empty = KvModel.init();
        let current = state.map.get(key).unwrap_or(&empty);
        let next = KvModel.step(current, input, output)?;
        if matches!(input, KvInput::Get { .. }) {
            return Some(state.clone());
        }
        let mut map = (*state.map).clone();
        let mut hash = state.hash;
        let mut keys = state.keys;
        let mut written = 0;
        if let Some(old) = map.remove(key) {
            hash = hash.wrapping_sub(KvStoreState::entry_hash(key, &old));
            keys -= allocation(key.len());
        }
        if !next.as_str().is_empty() {
            hash = hash.wrapping_add(KvStoreState::entry_hash(key, &next));
            keys += allocation(key.len());
            written = next.heap_bytes(current);
            map.insert(key.to_string(), next);
        }
        // The Rc'd map's header, its nodes, its keys, the value written.
        let heap = allocation(48) + map.len() * MAP_ENTRY + keys + written;
        Some(KvStoreState {
            map: Rc::new(map),
            hash,
            keys,
            heap,
        })
    }

    fn is_read_only(&self, input: &KvInput, output: Option<&KvOutput>) -> bool {
        KvModel.is_read_only(input, output)
    }

    fn heap_bytes(&self, before: &KvStoreState, after: &KvStoreState) -> usize {
        if Rc::ptr_eq(&before.map, &after.map) {
            0
        } else {
            after.heap
        }
    }

    /// [`KvModel`]'s refutations, key by key.
    fn refute(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        ops: &[usize],
    ) -> Option<Refutation> {
        refute_kv(self, history, ops)
    }

    fn describe_operation(&self, input: &KvInput, output: Option<&KvOutput>) -> String {
        KvModel.describe_operation(input, output)
    }

    fn describe_state(&self, state: &KvStoreState) -> String {
        let entries: Vec<String> = state
            .map
            .iter()
            .map(|(k, v)| format!("{k:?}: {:?}", v.as_str()))
            .collect();
        format!("{{{}}}", entries.join(", "))
    }
}

impl JsonModel for KvUnpartitionedModel {
    fn expected_output(&self, input: &KvInput, output: &KvOutput) -> Option<&'static str> {
        KvModel.expected_output(input, output)
    }
}

impl JsonModel for KvModel {
    fn expected_output(&self, input: &KvInput, output: &KvOutput) -> Option<&'static str> {
        match (input, output) {
            (KvInput::Get { .. }, KvOutput::Done) => Some("a get's output is {\"value\": \"...\"}"),
            (KvInput::Put { .. }, KvOutput::Value(_)) => Some("a put's output is {}"),
            _ => None,
        }
    }
}

impl From<MaybeValue<String>> for KvOutput {
    fn from(m: MaybeValue<String>) -> Self {
        m.value.map_or(KvOutput::Done, KvOutput::Value)
    }
}

impl From<KvOutput> for MaybeValue<String> {
    fn from(o: KvOutput) -> Self {
        MaybeValue {
            value: match o {
                KvOutput::Value(v) => Some(v),
                KvOutput::Done => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_hash_equals_fresh_hash() {
        let a = KvState::new("x 1 0 y").append("x 2 0 y").append("");
        let b = KvState::new("x 1 0 yx 2 0 y");
        assert_eq!(a.hash, b.hash);
        assert_eq!(a, b);
        assert_ne!(KvState::new("ab"), KvState::new("ba"));
        assert_ne!(KvState::new(""), KvState::new("\0"));
    }
}
