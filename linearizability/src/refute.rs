//! Cheap, sound refutations of KV histories: proofs in microseconds that no
//! linearization exists, for the common bugs (a read of a value no write
//! wrote, a stale read, a lost append). The checker tries them before the
//! exponential search ([`crate::Model::refute`]).
//!
//! Both rules only use facts every linearization must respect; a read `r`
//! is a `get` with a known output `v` (appends reporting the value they
//! replaced are not used as reads here):
//!
//! - **Unwritable value.** The value of a key is `""` or a put's value,
//!   followed by appended values. Only writes called no later than `r`
//!   returned can take effect before `r`. If `v` is not such a value
//!   (even allowing each appended value to repeat), `r` is impossible.
//! - **Missed write.** If a write `w` returned before `r` was called, `w`
//!   takes effect before `r`. The writes that can take effect between them
//!   are those called by the time `r` returns that had not returned before
//!   `w` was called. If one of them is the last put before `r`, `v` starts
//!   with its value. Otherwise only appends came between, and `v` starts
//!   with `w`'s value (a put) or contains it (an append); if no write at
//!   all can come between, `v` is the put's value or ends with the
//!   appended value. So `v` is impossible when it starts with no such
//!   put's value and breaks the rule for `w`.
//!   Only the [`RECENT`] latest such `w` per read are tried: a stale read
//!   misses the most recent writes, and a lost append is missed by the
//!   next reads.
//!
//! Operations that never returned, or whose output is unknown, are writes
//! that may or may not (pending) or did (unknown output) take effect; they
//! are never used as reads.

use std::collections::BTreeMap;

use crate::history::Operation;
use crate::model::Model;
use crate::models::{KvInput, KvOutput};
use crate::result::{Refutation, describe};

/// How many of the latest writes that completed before a read are tried
/// against it.
const RECENT: usize = 8;

type KvOp = Operation<KvInput, KvOutput>;

/// A refutation of the KV operations `ops` (history indices, any keys), or
/// `None`. Keys are examined independently, in order.
pub(crate) fn refute_kv<M: Model<Input = KvInput, Output = KvOutput>>(
    model: &M,
    history: &[KvOp],
    ops: &[usize],
) -> Option<Refutation> {
    if std::env::var_os("NOREFUTE").is_some() {
        return None;
    }
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in ops {
        by_key.entry(history[i].input.key()).or_default().push(i);
    }
    by_key
        .values()
        .find_map(|ops| refute_key(model, history, ops))
}

/// A write of one key, with what the rules need.
struct Write<'a> {
    op: usize,
    call: u64,
    /// `u64::MAX` when it never returned.
    ret: u64,
    is_put: bool,
    value: &'a str,
}

fn refute_key<M: Model<Input = KvInput, Output = KvOutput>>(
    model: &M,
    history: &[KvOp],
    ops: &[usize],
) -> Option<Refutation> {
    let mut writes: Vec<Write<'_>> = Vec::new();
    let mut reads: Vec<(usize, &str)> = Vec::new();
    for &i in ops {
        let op = &history[i];
        match (&op.input, op.known_output()) {
            (KvInput::Get { .. }, Some(KvOutput::Value(v))) => reads.push((i, v)),
            (KvInput::Get { .. }, _) => {}
            (KvInput::Put { value, .. }, _) | (KvInput::Append { value, .. }, _) => {
                writes.push(Write {
                    op: i,
                    call: op.call,
                    ret: op.ret.unwrap_or(u64::MAX),
                    is_put: matches!(op.input, KvInput::Put { .. }),
                    value,
                })
            }
        }
    }
    if reads.is_empty() {
        return None;
    }
    // Completed writes by return time, for "the latest before r's call".
    let mut completed: Vec<usize> = (0..writes.len())
        .filter(|&w| writes[w].ret != u64::MAX)
        .collect();
    completed.sort_by_key(|&w| (writes[w].ret, writes[w].op));
    let appended = Appended::new(&writes);
    for &(r, v) in &reads {
        let (call_r, ret_r) = (history[r].call, history[r].ret.unwrap_or(u64::MAX));
        if let Some(reason) = unwritable(&writes, &appended, ret_r, v) {
            return Some(Refutation {
                ops: vec![r],
                reason: format!("{} {reason}", describe(model, history, r)),
            });
        }
        let before = completed.partition_point(|&w| writes[w].ret < call_r);
        for &w0 in completed[..before].iter().rev().take(RECENT) {
            if let Some(reason) = missed(&writes, w0, ret_r, v) {
                let w0 = &writes[w0];
                return Some(Refutation {
                    ops: vec![r, w0.op],
                    reason: format!(
                        "{} is impossible: {} returned before it was called, and {reason}",
                        describe(model, history, r),
                        describe(model, history, w0.op),
                    ),
                });
            }
        }
    }
    None
}

/// The appended values of one key, as (length, hash, earliest call) of
/// each distinct value, sorted: with prefix hashes of a read's value, "is
/// this substring an appended value called by then" is a binary search.
/// A hash collision can only make a value look writable, never the
/// reverse, so collisions cost completeness, not soundness.
struct Appended {
    values: Vec<(usize, u64, u64)>,
    lengths: Vec<usize>,
}

impl Appended {
    fn new(writes: &[Write<'_>]) -> Self {
        let mut values: Vec<(usize, u64, u64)> = writes
            .iter()
            .filter(|w| !w.is_put && !w.value.is_empty())
            .map(|w| (w.value.len(), hash(w.value.as_bytes()), w.call))
            .collect();
        values.sort_unstable();
        // Keep the earliest call of each (length, hash).
        values.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
        let mut lengths: Vec<usize> = values.iter().map(|v| v.0).collect();
        lengths.dedup();
        Appended { values, lengths }
    }

    fn contains(&self, len: usize, h: u64, ret_r: u64) -> bool {
        let at = self.values.partition_point(|&(l, x, _)| (l, x) < (len, h));
        self.values
            .get(at)
            .is_some_and(|&(l, x, call)| l == len && x == h && call <= ret_r)
    }
}

const BASE: u64 = 0x0000_0100_0000_01b3;

fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |h, &b| {
        h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1)
    })
}

/// Why no write called by `ret_r` can produce `v`, or `None` if some
/// combination might.
fn unwritable(writes: &[Write<'_>], appended: &Appended, ret_r: u64, v: &str) -> Option<String> {
    let bytes = v.as_bytes();
    let n = bytes.len();
    // prefix[i]: hash of v[..i]; power[l] = BASE^l.
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0u64);
    for &b in bytes {
        let h = *prefix.last().expect("non-empty");
        prefix.push(h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1));
    }
    let max_len = appended.lengths.last().copied().unwrap_or(0).min(n);
    let mut power = vec![1u64; max_len + 1];
    for l in 1..=max_len {
        power[l] = power[l - 1].wrapping_mul(BASE);
    }
    // tiled[i]: v[i..] is a concatenation of appended values.
    let mut tiled = vec![false; n + 1];
    tiled[n] = true;
    for i in (0..n).rev() {
        tiled[i] = appended.lengths.iter().any(|&l| {
            i + l <= n && tiled[i + l] && {
                let h = prefix[i + l].wrapping_sub(prefix[i].wrapping_mul(power[l]));
                appended.contains(l, h, ret_r)
            }
        });
    }
    let possible = tiled[0]
        || writes
            .iter()
            .any(|w| w.is_put && w.call <= ret_r && v.starts_with(w.value) && tiled[w.value.len()]);
    (!possible).then(|| {
        String::from(
            "returned a value that no combination of the writes called before it returned \
             can produce (the initial value or a put's, followed by appended values)",
        )
    })
}

/// Why a read of `v` returning at `ret_r` cannot follow the completed write
/// `writes[w0]`, or `None`.
fn missed(writes: &[Write<'_>], w0: usize, ret_r: u64, v: &str) -> Option<String> {
    let first = &writes[w0];
    // Writes that can take effect after `first` and before the read.
    let mut puts = 0;
    let mut any = 0;
    for (w, x) in writes.iter().enumerate() {
        if w != w0 && x.ret >= first.call && x.call <= ret_r {
            any += 1;
            if x.is_put {
                // The last put between them, if any, starts the value.
                if v.starts_with(x.value) {
                    return None;
                }
                puts += 1;
            }
        }
    }
    // No put took effect between them (none can explain `v`), so only
    // appends did.
    let value = first.value;
    let (ok, must) = match (first.is_put, any == 0) {
        (true, true) => (v == value, "be"),
        (true, false) => (v.starts_with(value), "start with"),
        (false, true) => (v.ends_with(value), "end with"),
        (false, false) => (v.contains(value), "contain"),
    };
    (!ok).then(|| {
        let between = match (any, puts) {
            (0, _) => String::from("no other write on this key could take effect between them"),
            (_, 0) => String::from("only appends could take effect between them"),
            (_, p) => format!(
                "the value read starts with none of the {p} puts that could take effect \
                 between them, so only appends did"
            ),
        };
        format!("{between}; the value read must then {must} {value:?}")
    })
}
