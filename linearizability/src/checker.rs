//! The decision procedure: Wing & Gong's search with Lowe's memoization, on
//! porcupine's linked list of call and return entries.
//!
//! Guarantees:
//! - **Sound and complete** for the model (up to cancellation): `Linearizable`
//!   comes with a linearization, `NotLinearizable` means none exists.
//! - **Pending operations** (never returned) may take effect anywhere after
//!   their call, or never; **unknown outputs** accept whatever the model
//!   allows at the chosen point.
//! - **Cancellation** is cooperative: every search polls its deadline and
//!   cancel flag every 1024 steps, so `Unknown` comes back within a few
//!   milliseconds of the timeout.
//! - **Deterministic** answers and evidence for a given history (the thread
//!   count only changes which partition finishes first).
//!
//! The search (per partition): sort call and return entries by time (calls
//! before returns at equal times: touching intervals are concurrent) into a
//! doubly linked list. The calls before the first return in the list are the
//! operations real time allows next. Try them in order: if the model accepts
//! one and (linearized set, new state) is not in the memo, record it, lift
//! its call and return out of the list and start over from the head.
//! Reaching a return means the operation it belongs to can no longer be
//! placed: undo the last choice (unlift) and try the next candidate after
//! it. Reaching the end of the list means every completed operation is
//! placed. Lifting and unlifting are O(1) (dancing links).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::history::Operation;
use crate::memo::{Memo, key, state_hash, zobrist};
use crate::model::{Model, Partition};
use crate::result::{CheckResult, Outcome, PartialLinearization, PartitionResult, Verdict};

/// How many distinct longest prefixes a failed partition reports at most.
const MAX_PREFIXES: usize = 4;

/// How often (in search steps) a search polls for cancellation.
const POLL_EVERY: u32 = 1024;

/// Histories shorter than this are checked on one thread unless
/// [`CheckOptions::threads`] says otherwise.
const SMALL_HISTORY: usize = 1000;

/// Knobs of [`check_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions<'a> {
    /// Give up (verdict `Unknown`) after this much wall time; `None`: never.
    pub timeout: Option<Duration>,
    /// Give up when this flag becomes true (checked as often as the
    /// deadline).
    pub cancel: Option<&'a AtomicBool>,
    /// Worker threads for partitions; `None`: the machine's parallelism
    /// (one thread for histories under 1000 operations).
    pub threads: Option<usize>,
}

/// Checks `history` against `model`, giving up after `timeout` (`None`:
/// never). See [`check_with`].
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> CheckResult {
    check_with(
        model,
        history,
        &CheckOptions {
            timeout,
            ..CheckOptions::default()
        },
    )
}

/// Checks `history` against `model`: partitions it, searches the parts in
/// parallel (smallest first), and returns every part's outcome.
///
/// Every partition is searched to the end (or to cancellation), so a failing
/// history reports all its violating parts, not just the first.
///
/// # Panics
/// If an operation returns before its call, or the model's partitions do
/// not cover each operation exactly once.
pub fn check_with<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions<'_>,
) -> CheckResult {
    let start = now();
    for (i, op) in history.iter().enumerate() {
        if let Some(ret) = op.ret {
            assert!(
                ret >= op.call,
                "linearizability::check: operation {i} returns at {ret}, before its call at {}",
                op.call
            );
        }
    }
    let partitions = model.partition(history);
    validate_partitions(&partitions, history.len());

    let cancel = Cancel {
        deadline: options.timeout.and_then(|t| start.checked_add(t)),
        stop: AtomicBool::new(false),
        external: options.cancel,
    };
    // Smallest first: under a timeout, as many partitions as possible get
    // decided (a violation in a small one is not lost behind a hard big one).
    let mut order: Vec<usize> = (0..partitions.len()).collect();
    order.sort_by_key(|&p| partitions[p].ops.len());
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&p) = order.get(k) else { break };
            let outcome = if cancel.cancelled() {
                Outcome::Unknown {
                    longest: Vec::new(),
                }
            } else {
                check_partition(model, history, &partitions[p].ops, &cancel)
            };
            done.push((p, outcome));
        }
        done
    };
    // Threads cost more than they save on small histories (measured by
    // examples/bench.rs), so those run on the caller's thread by default.
    let threads = options
        .threads
        .unwrap_or_else(|| {
            if history.len() < SMALL_HISTORY {
                1
            } else {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            }
        })
        .clamp(1, partitions.len().max(1));
    let mut outcomes: Vec<Option<Outcome>> = vec![None; partitions.len()];
    let finished: Vec<(usize, Outcome)> = if threads == 1 {
        worker()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("linearizability: a search thread panicked"))
                .collect()
        })
    };
    for (p, outcome) in finished {
        outcomes[p] = Some(outcome);
    }
    let partitions: Vec<PartitionResult> = partitions
        .into_iter()
        .zip(outcomes)
        .map(|(part, outcome)| PartitionResult {
            label: part.label,
            ops: part.ops,
            outcome: outcome.expect("every partition was searched"),
        })
        .collect();
    let any = |v: Verdict| partitions.iter().any(|p| p.outcome.verdict() == v);
    let verdict = if any(Verdict::NotLinearizable) {
        Verdict::NotLinearizable
    } else if any(Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Linearizable
    };
    CheckResult {
        verdict,
        partitions,
        elapsed: now().duration_since(start),
    }
}

// The checker runs after a simulation, on real time (DESIGN.md, "Checkers run
// on real time"): the wall clock is its timeout, not a source of nondeterminism.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn validate_partitions(partitions: &[Partition], len: usize) {
    let mut seen = vec![false; len];
    for part in partitions {
        for &i in &part.ops {
            assert!(
                i < len && !seen[i],
                "linearizability: the model's partition ({}) lists operation {i} twice or out of range",
                part.label
            );
            seen[i] = true;
        }
    }
    if let Some(i) = seen.iter().position(|s| !s) {
        panic!("linearizability: the model's partitions leave out operation {i}");
    }
}

/// Cancellation shared by all searches of one check.
struct Cancel<'a> {
    deadline: Option<Instant>,
    /// Set once the deadline passed or the caller cancelled, so that the
    /// other searches stop without reading the clock.
    stop: AtomicBool,
    external: Option<&'a AtomicBool>,
}

impl Cancel<'_> {
    fn cancelled(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        let expired = self.deadline.is_some_and(|d| now() >= d)
            || self.external.is_some_and(|c| c.load(Ordering::Relaxed));
        if expired {
            self.stop.store(true, Ordering::Relaxed);
        }
        expired
    }
}

/// The end of the list.
const NIL: u32 = u32::MAX;

/// One step of the search: the call entry of the operation it linearized,
/// the state before it, and whether it was a read placed without
/// alternatives.
struct Frame<S> {
    entry: u32,
    state: S,
    forced: bool,
}

/// Searches one partition; `ops` are history indices.
fn check_partition<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ops: &[usize],
    cancel: &Cancel<'_>,
) -> Outcome {
    let n = ops.len();
    assert!(
        n < (u32::MAX / 2) as usize,
        "linearizability: partition too large"
    );
    let inputs: Vec<&M::Input> = ops.iter().map(|&i| &history[i].input).collect();
    let outputs: Vec<Option<&M::Output>> = ops.iter().map(|&i| history[i].known_output()).collect();
    let read_only: Vec<bool> = (0..n)
        .map(|op| model.is_read_only(inputs[op], outputs[op]))
        .collect();
    let keys: Vec<u64> = (0..n).map(zobrist).collect();

    // Entries sorted by (time, return after call, op): a total order, so the
    // search is the same on every run.
    let mut sorted: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
    for (local, &i) in ops.iter().enumerate() {
        let op = &history[i];
        sorted.push((op.call, false, local as u32));
        if let Some(ret) = op.ret {
            sorted.push((ret, true, local as u32));
        }
    }
    sorted.sort_unstable();
    let m = sorted.len();
    let head = m as u32;
    // info[e] = op << 1 | is_return.
    let info: Vec<u32> = sorted
        .iter()
        .map(|&(_, is_ret, op)| (op << 1) | u32::from(is_ret))
        .collect();
    let mut ret_entry = vec![NIL; n];
    for (e, &(_, is_ret, op)) in sorted.iter().enumerate() {
        if is_ret {
            ret_entry[op as usize] = e as u32;
        }
    }
    drop(sorted);
    let mut next: Vec<u32> = (1..=m as u32).collect();
    next.push(if m == 0 { NIL } else { 0 });
    if m > 0 {
        next[m - 1] = NIL;
    }
    let mut prev: Vec<u32> = (0..=m as u32).map(|e| e.wrapping_sub(1)).collect();
    if m > 0 {
        prev[0] = head;
    }

    let words = n.div_ceil(64).max(1);
    let mut bits = vec![0u64; words];
    let mut hash = 0u64;
    let mut memo: Memo<M::State> = Memo::new(words);
    let mut state = model.init();
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    let mut longest = Longest::default();
    let mut steps: u32 = 0;
    // Completed operations not yet placed.
    let mut unplaced = ops.iter().filter(|&&i| history[i].ret.is_some()).count();

    // `fresh`: the search just reached a new configuration, so it first
    // looks for a read to place (see the module docs).
    let mut fresh = true;
    let mut entry = next[head as usize];
    loop {
        steps = steps.wrapping_add(1);
        if steps % POLL_EVERY == 0 && cancel.cancelled() {
            longest.save(&stack, &info, hash);
            return Outcome::Unknown {
                longest: longest.finish(model, history, ops),
            };
        }
        let mut fail = false;
        if fresh && unplaced == 0 {
            // Every completed operation is placed; the pending ones left
            // never took effect.
            let order = stack
                .iter()
                .map(|f| ops[(info[f.entry as usize] >> 1) as usize])
                .collect();
            return Outcome::Linearizable { order };
        }
        if fresh {
            fresh = false;
            let mut e = next[head as usize];
            while e != NIL && info[e as usize] & 1 == 0 {
                let op = (info[e as usize] >> 1) as usize;
                if read_only[op]
                    && let Some(new_state) = model.step(&state, inputs[op], outputs[op])
                {
                    // Placing this read now is as good as any order: if the
                    // configuration after it fails, this one fails too.
                    let new_hash = hash ^ keys[op];
                    bits[op / 64] |= 1 << (op % 64);
                    if memo.insert(key(new_hash, state_hash(&new_state)), &bits, &new_state) {
                        let old = std::mem::replace(&mut state, new_state);
                        stack.push(Frame {
                            entry: e,
                            state: old,
                            forced: true,
                        });
                        hash = new_hash;
                        lift(&mut next, &mut prev, e, ret_entry[op]);
                        unplaced -= usize::from(ret_entry[op] != NIL);
                        longest.pushed(stack.len());
                        fresh = true;
                    } else {
                        bits[op / 64] &= !(1 << (op % 64));
                        fail = true;
                    }
                    break;
                }
                e = next[e as usize];
            }
            if fresh {
                entry = next[head as usize];
                continue;
            }
            entry = next[head as usize];
        }
        if !fail {
            if entry == NIL {
                let order = stack
                    .iter()
                    .map(|f| ops[(info[f.entry as usize] >> 1) as usize])
                    .collect();
                return Outcome::Linearizable { order };
            }
            let e = entry as usize;
            let op = (info[e] >> 1) as usize;
            if info[e] & 1 == 0 {
                // A call: try to linearize `op` now (reads were tried).
                if !read_only[op]
                    && let Some(new_state) = model.step(&state, inputs[op], outputs[op])
                {
                    bits[op / 64] |= 1 << (op % 64);
                    let new_hash = hash ^ keys[op];
                    if memo.insert(key(new_hash, state_hash(&new_state)), &bits, &new_state) {
                        let old = std::mem::replace(&mut state, new_state);
                        stack.push(Frame {
                            entry,
                            state: old,
                            forced: false,
                        });
                        hash = new_hash;
                        lift(&mut next, &mut prev, entry, ret_entry[op]);
                        unplaced -= usize::from(ret_entry[op] != NIL);
                        longest.pushed(stack.len());
                        fresh = true;
                        entry = next[head as usize];
                        continue;
                    }
                    bits[op / 64] &= !(1 << (op % 64));
                }
                entry = next[e];
                continue;
            }
            // A return: its operation can no longer be placed after this
            // prefix, so this configuration fails.
        }
        // Backtrack: undo the last choice and try the next candidate after
        // it; a forced read had no alternatives, so undo further.
        loop {
            longest.save(&stack, &info, hash);
            let Some(frame) = stack.pop() else {
                return Outcome::NotLinearizable {
                    longest: longest.finish(model, history, ops),
                };
            };
            state = frame.state;
            let op = (info[frame.entry as usize] >> 1) as usize;
            bits[op / 64] &= !(1 << (op % 64));
            hash ^= keys[op];
            unlift(&mut next, &mut prev, frame.entry, ret_entry[op]);
            unplaced += usize::from(ret_entry[op] != NIL);
            if !frame.forced {
                entry = next[frame.entry as usize];
                break;
            }
        }
    }
}

/// Removes call entry `call` and its return entry `ret` (if any) from the
/// list, keeping their own links so that [`unlift`] can put them back.
fn lift(next: &mut [u32], prev: &mut [u32], call: u32, ret: u32) {
    for e in [call, ret] {
        if e == NIL {
            continue;
        }
        let (p, n) = (prev[e as usize], next[e as usize]);
        next[p as usize] = n;
        if n != NIL {
            prev[n as usize] = p;
        }
    }
}

/// Undoes the matching [`lift`]; lifts must be undone in reverse order.
fn unlift(next: &mut [u32], prev: &mut [u32], call: u32, ret: u32) {
    for e in [ret, call] {
        if e == NIL {
            continue;
        }
        let (p, n) = (prev[e as usize], next[e as usize]);
        next[p as usize] = e;
        if n != NIL {
            prev[n as usize] = e;
        }
    }
}

/// The longest prefixes seen, copied lazily: only when the search backs out
/// of a depth at least as deep as the best so far, so a search that never
/// backtracks copies nothing.
#[derive(Default)]
struct Longest {
    best: usize,
    /// The stack reached a depth worth saving since the last save.
    dirty: bool,
    /// Prefixes as local op indices, with the Zobrist hash of their set
    /// (distinct prefixes must have distinct sets).
    prefixes: Vec<(u64, Vec<u32>)>,
}

impl Longest {
    fn pushed(&mut self, depth: usize) {
        if depth > self.best || (depth == self.best && self.prefixes.len() < MAX_PREFIXES) {
            self.dirty = true;
        }
    }

    fn save<S>(&mut self, stack: &[Frame<S>], info: &[u32], hash: u64) {
        // The empty prefix is saved too, when nothing better exists.
        if !(self.dirty || stack.is_empty() && self.prefixes.is_empty()) {
            return;
        }
        self.dirty = false;
        if stack.len() > self.best {
            self.best = stack.len();
            self.prefixes.clear();
        }
        if stack.len() == self.best
            && self.prefixes.len() < MAX_PREFIXES
            && self.prefixes.iter().all(|(h, _)| *h != hash)
        {
            let order = stack.iter().map(|f| info[f.entry as usize] >> 1).collect();
            self.prefixes.push((hash, order));
        }
    }

    /// The prefixes as history indices, with the operations that cannot go
    /// next after each.
    fn finish<M: Model>(
        self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        ops: &[usize],
    ) -> Vec<PartialLinearization> {
        self.prefixes
            .into_iter()
            .map(|(_, local)| {
                let order: Vec<usize> = local.iter().map(|&l| ops[l as usize]).collect();
                let stuck = stuck_after(model, history, ops, &order);
                PartialLinearization { order, stuck }
            })
            .collect()
    }
}

/// The operations of `ops` that real time allows right after `prefix` but
/// that the model rejects in the state `prefix` leads to.
fn stuck_after<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ops: &[usize],
    prefix: &[usize],
) -> Vec<usize> {
    let mut state = model.init();
    for &i in prefix {
        let op = &history[i];
        state = model
            .step(&state, &op.input, op.known_output())
            .expect("a linearizable prefix replays legally");
    }
    let placed: std::collections::BTreeSet<usize> = prefix.iter().copied().collect();
    let rest: Vec<usize> = ops
        .iter()
        .copied()
        .filter(|i| !placed.contains(i))
        .collect();
    let first_return = rest
        .iter()
        .filter_map(|&i| history[i].ret)
        .min()
        .unwrap_or(u64::MAX);
    rest.into_iter()
        .filter(|&i| history[i].call <= first_return)
        .filter(|&i| {
            let op = &history[i];
            model.step(&state, &op.input, op.known_output()).is_none()
        })
        .collect()
}
