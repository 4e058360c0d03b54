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
//!   takes effect before `r`. If no put other than `w` can take effect
//!   between them (none that is called by the time `r` returns and that
//!   had not returned before `w` was called), then `v` starts with `w`'s
//!   value (a put) or contains it (an append); if no write at all can come
//!   between, `v` is the put's value or ends with the appended value.
//!   Only the [`RECENT`] latest such `w` per read are tried: a stale read
//!   misses the most recent writes, and a lost append is missed by the
//!   next reads.
//!
//! Operations that never returned, or whose output is unknown, are writes
//! that may or may not (pending) or did (unknown output) take effect; they
//! are never used as reads.

use std::collections::{BTreeMap, BTreeSet};

use crate::history::Operation;
use crate::model::Model;
use crate::models::{KvInput, KvOutput};
use crate::result::{Refutation, describe};

/// How many of the latest writes that completed before a read are tried
/// against it.
const RECENT: usize = 16;

type KvOp = Operation<KvInput, KvOutput>;

/// A refutation of the KV operations `ops` (history indices, any keys), or
/// `None`. Keys are examined independently, in order.
pub(crate) fn refute_kv<M: Model<Input = KvInput, Output = KvOutput>>(
    model: &M,
    history: &[KvOp],
    ops: &[usize],
) -> Option<Refutation> {
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
    for &(r, v) in &reads {
        let (call_r, ret_r) = (history[r].call, history[r].ret.unwrap_or(u64::MAX));
        if let Some(reason) = unwritable(&writes, ret_r, v) {
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

/// Why no write called by `ret_r` can produce `v`, or `None` if some
/// combination might.
fn unwritable(writes: &[Write<'_>], ret_r: u64, v: &str) -> Option<String> {
    let early = || writes.iter().filter(|w| w.call <= ret_r);
    let appended: BTreeSet<&str> = early()
        .filter(|w| !w.is_put && !w.value.is_empty())
        .map(|w| w.value)
        .collect();
    let lengths: BTreeSet<usize> = appended.iter().map(|a| a.len()).collect();
    // tiled[i]: v[i..] is a concatenation of appended values.
    let bytes = v.as_bytes();
    let mut tiled = vec![false; bytes.len() + 1];
    tiled[bytes.len()] = true;
    for i in (0..bytes.len()).rev() {
        tiled[i] = lengths.iter().any(|&l| {
            i + l <= bytes.len()
                && tiled[i + l]
                && v.get(i..i + l).is_some_and(|s| appended.contains(s))
        });
    }
    let possible =
        tiled[0] || early().any(|w| w.is_put && v.starts_with(w.value) && tiled[w.value.len()]);
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
    let between = writes
        .iter()
        .enumerate()
        .filter(|&(w, x)| w != w0 && x.ret >= first.call && x.call <= ret_r);
    let mut puts = 0;
    let mut any = 0;
    for (_, x) in between {
        any += 1;
        puts += usize::from(x.is_put);
    }
    if puts > 0 {
        return None;
    }
    let value = first.value;
    let (ok, must) = match (first.is_put, any == 0) {
        (true, true) => (v == value, "be"),
        (true, false) => (v.starts_with(value), "start with"),
        (false, true) => (v.ends_with(value), "end with"),
        (false, false) => (v.contains(value), "contain"),
    };
    (!ok).then(|| {
        let between = if any == 0 {
            "no other write"
        } else {
            "no put (only appends)"
        };
        format!(
            "{between} on this key could take effect between them, so the value read must {must} {value:?}"
        )
    })
}
