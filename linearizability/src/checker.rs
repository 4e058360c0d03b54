//! The decision procedure: cheap refutations first, then Wing & Gong's
//! search with Lowe's memoization, on porcupine's linked list of call and
//! return entries.
//!
//! Guarantees:
//! - **Sound and complete** for the model (up to cancellation): `Linearizable`
//!   comes with a linearization, `NotLinearizable` means none exists.
//! - **Verdict first.** By default the check stops at the first partition
//!   proven not linearizable and cancels the others ([`Outcome::NotChecked`]);
//!   the evidence is computed for that partition only.
//!   [`CheckOptions::all`] searches every partition.
//! - **Pending operations** (never returned) may take effect anywhere after
//!   their call, or never; **unknown outputs** accept whatever the model
//!   allows at the chosen point.
//! - **Cancellation** is cooperative: every search polls its deadline and
//!   cancel flag every 1024 steps, so `Unknown` comes back within a few
//!   milliseconds of the timeout.
//! - **Bounded memory**: the searches add up what their memo tables and
//!   stacks hold (arrays as allocated, states' heap as the model estimates
//!   it, [`Model::heap_bytes`]) at the same polls; past
//!   [`CheckOptions::max_memory`] (default [`DEFAULT_MAX_MEMORY`]) the
//!   verdict is `Unknown` and [`CheckResult::gave_up`] says why, instead of
//!   the system killing the process.
//! - **Deterministic** answers and evidence for a given history when the
//!   history is linearizable, or with `all`; on the fast path, which
//!   violating partition is reported first may depend on thread timing
//!   (with one thread it does not).
//!
//! The schedule (per check):
//! 1. The search, in rounds: every undecided partition (smallest first, in
//!    parallel) gets a step budget ([`BUDGETS`], then unlimited). Most
//!    partitions, and violations that are quick to prove, are decided in
//!    the first small round, before any hard partition is searched to the
//!    end; a restart costs at most the budget spent.
//! 2. After the first round, [`Model::refute`] on the undecided partitions,
//!    smallest first: the model's cheap, sound arguments (a read of a value
//!    no write wrote, a stale read, ...). A refuted partition is not
//!    linearizable; the search then only looks for its longest prefixes
//!    (on the fast path within [`EVIDENCE_BUDGET`]).
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
use crate::result::{
    CheckResult, GaveUp, Outcome, PartialLinearization, PartitionResult, Refutation, Verdict,
};

/// How many distinct longest prefixes a failed partition reports at most.
const MAX_PREFIXES: usize = 4;

/// How often (in search steps) a search polls for cancellation.
const POLL_EVERY: u64 = 1024;

/// Histories shorter than this are checked on one thread unless
/// [`CheckOptions::threads`] says otherwise.
const SMALL_HISTORY: usize = 1000;

/// The step budgets of the search rounds before the last, unlimited one.
/// Few and small: a restarted search repeats its work, so they only let
/// quick decisions (most partitions, and most violations) come first.
const BUDGETS: [u64; 2] = [1 << 14, 1 << 18];

/// On the fast path, how long the search for the longest prefixes of a
/// partition that a refutation already proved not linearizable may take
/// (within the timeout). Past it, the refutation alone is the evidence.
/// With [`CheckOptions::all`] only the timeout bounds that search.
pub const EVIDENCE_BUDGET: Duration = Duration::from_millis(200);

/// The memory a check's searches may hold unless
/// [`CheckOptions::max_memory`] says otherwise: 2 GiB, which a laptop
/// has to spare and which decides every history the labs record (theirs
/// take a few megabytes at most).
pub const DEFAULT_MAX_MEMORY: usize = 2 << 30;

/// Knobs of [`check_with`].
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions<'a> {
    /// Give up (verdict `Unknown`) after this much wall time; `None`: never.
    pub timeout: Option<Duration>,
    /// Give up when this flag becomes true (checked as often as the
    /// deadline).
    pub cancel: Option<&'a AtomicBool>,
    /// Worker threads for partitions; `None`: the machine's parallelism
    /// (one thread for histories under 1000 operations).
    pub threads: Option<usize>,
    /// Explain every partition: search each to the end (or the timeout)
    /// and give every violating one its evidence, as `lincheck --all`.
    /// `false` (the default, the graders' fast path): stop at the first
    /// partition proven not linearizable; the rest are
    /// [`Outcome::NotChecked`]. Both give the same verdict whenever
    /// neither times out.
    pub all: bool,
    /// Give up (verdict `Unknown`, [`GaveUp::Memory`]) when the searches
    /// together hold more than this many bytes; `None`: no limit.
    /// Default: [`DEFAULT_MAX_MEMORY`].
    pub max_memory: Option<usize>,
}

impl Default for CheckOptions<'_> {
    fn default() -> Self {
        CheckOptions {
            timeout: None,
            cancel: None,
            threads: None,
            all: false,
            max_memory: Some(DEFAULT_MAX_MEMORY),
        }
    }
}

/// Checks `history` against `model`, giving up after `timeout` (`None`:
/// never), stopping at the first violating partition. See [`check_with`].
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

/// Checks `history` against `model`: partitions it, tries the model's cheap
/// refutations, then searches the parts in parallel (smallest first, in
/// rounds of growing step budgets; see the module docs).
///
/// Without [`CheckOptions::all`], the first violation found ends the check:
/// its partition gets its evidence, the others not yet decided are
/// [`Outcome::NotChecked`]. With it, every partition is searched to the end
/// (or to cancellation).
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
    let deadline = options.timeout.and_then(|t| start.checked_add(t));
    let found = AtomicBool::new(false);
    let memory = Memory::new(options.max_memory);
    let cancel = Cancel {
        deadline,
        stop: AtomicBool::new(false),
        external: options.cancel,
        found: (!options.all).then_some(&found),
        memory: &memory,
    };
    // Smallest first: under a timeout, as many partitions as possible get
    // decided (a violation in a small one is not lost behind a hard big one).
    let mut order: Vec<usize> = (0..partitions.len()).collect();
    order.sort_by_key(|&p| partitions[p].ops.len());
    // Threads cost more than they save on small histories (measured by
    // benches/bench.rs), so those run on the caller's thread by default.
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

    let (outcomes, refutations) = search_rounds(
        model,
        history,
        &partitions,
        order,
        &Round {
            cancel: &cancel,
            found: &found,
            options,
            threads,
        },
    );

    let stopped_early = !options.all && found.load(Ordering::Relaxed);
    let partitions = partition_results(partitions, outcomes, refutations, stopped_early);
    let verdict = overall_verdict(&partitions);
    let gave_up = (verdict == Verdict::Unknown).then(|| {
        if memory.exceeded.load(Ordering::Relaxed) {
            GaveUp::Memory {
                limit: options.max_memory.unwrap_or(usize::MAX),
            }
        } else if deadline.is_some_and(|d| now() >= d) {
            GaveUp::Timeout {
                after: options.timeout.unwrap_or_default(),
            }
        } else {
            GaveUp::Cancelled
        }
    });
    CheckResult {
        verdict,
        partitions,
        elapsed: now().duration_since(start),
        gave_up,
        peak_memory: memory.peak.load(Ordering::Relaxed),
    }
}

/// What every round of a check shares.
struct Round<'a, 'b> {
    cancel: &'a Cancel<'b>,
    /// Set once a partition is proven not linearizable.
    found: &'a AtomicBool,
    options: &'a CheckOptions<'b>,
    threads: usize,
}

/// Searches the partitions in `order` in rounds of growing step budgets
/// (the cheap refutations after the first round); each partition's
/// outcome (`None`: never decided) and refutation.
fn search_rounds<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partitions: &[Partition],
    order: Vec<usize>,
    r: &Round<'_, '_>,
) -> (Vec<Option<Outcome>>, Vec<Option<Refutation>>) {
    let (cancel, found) = (r.cancel, r.found);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; partitions.len()];
    let mut refutations: Vec<Option<Refutation>> = vec![None; partitions.len()];
    let mut undecided = order;
    let mut round = 0;
    while !undecided.is_empty() && !cancel.cancelled() {
        let budget = BUDGETS.get(round).copied();
        round += 1;
        let searched = run_parallel(&undecided, r.threads, |p| {
            if cancel.cancelled() {
                return Search::Done(Outcome::Unknown {
                    longest: Vec::new(),
                });
            }
            let search = check_partition(model, history, &partitions[p].ops, cancel, budget);
            if let Search::Done(Outcome::NotLinearizable { .. }) = search {
                found.store(true, Ordering::Relaxed);
            }
            search
        });
        undecided.clear();
        for (p, search) in searched {
            match search {
                Search::Done(outcome) => outcomes[p] = Some(outcome),
                Search::OutOfBudget => undecided.push(p),
            }
        }
        undecided.sort_by_key(|&p| (partitions[p].ops.len(), p));
        if round == 1 {
            // The partitions the first, small budget did not decide: try
            // the cheap refutations before searching them to the end.
            let refuted = refute(
                model, history, partitions, &undecided, cancel, r.options, r.threads,
            );
            for (p, refutation, outcome) in refuted {
                refutations[p] = Some(refutation);
                if outcome.verdict() == Verdict::NotLinearizable {
                    found.store(true, Ordering::Relaxed);
                }
                outcomes[p] = Some(outcome);
                undecided.retain(|&q| q != p);
            }
        }
    }

    (outcomes, refutations)
}

/// Each partition's result; those never decided are unknown, or not
/// checked when the check stopped at a violation.
fn partition_results(
    partitions: Vec<Partition>,
    outcomes: Vec<Option<Outcome>>,
    refutations: Vec<Option<Refutation>>,
    stopped_early: bool,
) -> Vec<PartitionResult> {
    partitions
        .into_iter()
        .zip(outcomes)
        .zip(refutations)
        .map(|((part, outcome), refutation)| {
            let outcome = match outcome {
                Some(Outcome::Unknown { .. }) | None if stopped_early => Outcome::NotChecked,
                Some(outcome) => outcome,
                None => Outcome::Unknown {
                    longest: Vec::new(),
                },
            };
            PartitionResult {
                label: part.label,
                ops: part.ops,
                outcome,
                refutation,
            }
        })
        .collect()
}

/// Not linearizable if a partition is not; else unknown if one is unknown.
fn overall_verdict(partitions: &[PartitionResult]) -> Verdict {
    let any = |v: Verdict| partitions.iter().any(|p| p.outcome.verdict() == v);
    if any(Verdict::NotLinearizable) {
        Verdict::NotLinearizable
    } else if any(Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Linearizable
    }
}

/// Tries [`Model::refute`] on the partitions `undecided` (in order; on the
/// fast path, up to the first refuted one), and searches each refuted
/// partition for its longest prefixes (on the fast path within
/// [`EVIDENCE_BUDGET`]). Returns
/// (partition, refutation, outcome) for the refuted ones.
fn refute<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partitions: &[Partition],
    undecided: &[usize],
    cancel: &Cancel<'_>,
    options: &CheckOptions<'_>,
    threads: usize,
) -> Vec<(usize, Refutation, Outcome)> {
    let mut refuted = Vec::new();
    for &p in undecided {
        if cancel.cancelled() {
            break;
        }
        if let Some(refutation) = model.refute(history, &partitions[p].ops) {
            refuted.push((p, refutation));
            if !options.all {
                break;
            }
        }
    }
    let parts: Vec<usize> = refuted.iter().map(|&(p, _)| p).collect();
    let mut evidence = run_parallel(&parts, threads, |p| {
        // On the fast path the verdict is known: the prefixes get a short
        // budget. `all` asked for every explanation: the timeout bounds it.
        let budget_end = if options.all {
            cancel.deadline
        } else {
            now()
                .checked_add(EVIDENCE_BUDGET)
                .map_or(cancel.deadline, |e| {
                    Some(cancel.deadline.map_or(e, |d| d.min(e)))
                })
        };
        let evidence_cancel = Cancel {
            deadline: budget_end,
            stop: AtomicBool::new(false),
            external: cancel.external,
            found: None,
            memory: cancel.memory,
        };
        match check_partition(model, history, &partitions[p].ops, &evidence_cancel, None) {
            // The search is exact: a refutation that disagrees is a model
            // bug (the generated tests look for these), and the search wins.
            Search::Done(Outcome::Linearizable { order }) => {
                debug_assert!(false, "unsound refutation of partition {p}");
                Outcome::Linearizable { order }
            }
            Search::Done(Outcome::NotLinearizable { longest }) => {
                Outcome::NotLinearizable { longest }
            }
            // Prefixes of an unfinished search are not the longest.
            _ => Outcome::NotLinearizable {
                longest: Vec::new(),
            },
        }
    });
    evidence.sort_by_key(|&(p, _)| p);
    refuted.sort_by_key(|&(p, _)| p);
    refuted
        .into_iter()
        .zip(evidence)
        .filter(|(_, (_, outcome))| outcome.verdict() == Verdict::NotLinearizable)
        .map(|((p, refutation), (_, outcome))| (p, refutation, outcome))
        .collect()
}

/// Runs `f` on every item, on up to `threads` threads (the caller's own
/// when one), taking items in order; returns (item, result) pairs.
fn run_parallel<T: Send>(
    items: &[usize],
    threads: usize,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<(usize, T)> {
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        while let Some(&p) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((p, f(p)));
        }
        done
    };
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return worker();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("linearizability: a search thread panicked"))
            .collect()
    })
}

// The checker runs after a simulation, on real time (docs/determinism.md): the
// wall clock is its timeout, not a source of nondeterminism.
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

/// Cancellation shared by the searches of one check.
struct Cancel<'a> {
    deadline: Option<Instant>,
    /// Set once the deadline passed or the caller cancelled, so that the
    /// other searches stop without reading the clock.
    stop: AtomicBool,
    external: Option<&'a AtomicBool>,
    /// On the fast path: set once some partition is proven not
    /// linearizable, which ends the other searches.
    found: Option<&'a AtomicBool>,
    /// What the searches hold, against the limit.
    memory: &'a Memory,
}

/// The memory the searches of one check hold, added up across threads.
struct Memory {
    limit: Option<usize>,
    used: AtomicUsize,
    peak: AtomicUsize,
    /// Set once `used` went past `limit`; every search then stops.
    exceeded: AtomicBool,
}

impl Memory {
    fn new(limit: Option<usize>) -> Memory {
        Memory {
            limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            exceeded: AtomicBool::new(false),
        }
    }
}

/// One search's share of [`Memory`]: updated at each poll, given back
/// when the search ends (its memo table is dropped then).
struct Charge<'a> {
    memory: &'a Memory,
    held: usize,
}

impl<'a> Charge<'a> {
    fn new(memory: &'a Memory) -> Self {
        Charge { memory, held: 0 }
    }

    /// Records that the search now holds `bytes`; false once the check as
    /// a whole holds more than its limit.
    fn update(&mut self, bytes: usize) -> bool {
        let m = self.memory;
        let used = if bytes >= self.held {
            m.used.fetch_add(bytes - self.held, Ordering::Relaxed) + (bytes - self.held)
        } else {
            m.used.fetch_sub(self.held - bytes, Ordering::Relaxed) - (self.held - bytes)
        };
        self.held = bytes;
        m.peak.fetch_max(used, Ordering::Relaxed);
        if m.limit.is_some_and(|limit| used > limit) {
            m.exceeded.store(true, Ordering::Relaxed);
        }
        !m.exceeded.load(Ordering::Relaxed)
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.memory.used.fetch_sub(self.held, Ordering::Relaxed);
    }
}

impl Cancel<'_> {
    fn cancelled(&self) -> bool {
        if self.stop.load(Ordering::Relaxed)
            || self.found.is_some_and(|f| f.load(Ordering::Relaxed))
            || self.memory.exceeded.load(Ordering::Relaxed)
        {
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

/// How a search ended.
enum Search {
    /// Decided, or cancelled (`Outcome::Unknown`).
    Done(Outcome),
    /// Its step budget ran out first.
    OutOfBudget,
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

/// The call and return entries of one partition's operations, in time
/// order, as a doubly linked list from which placed operations are lifted
/// (Lowe's list; see the module docs).
struct Entries {
    /// `info[e] = op << 1 | is_return`.
    info: Vec<u32>,
    /// Each operation's return entry, or [`NIL`] if it never returned.
    ret_entry: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The list's head sentinel (`next[head]` is the first entry).
    head: u32,
}

impl Entries {
    fn new<I, O>(history: &[Operation<I, O>], ops: &[usize]) -> Entries {
        let n = ops.len();
        // Sorted by (time, return after call, op): a total order, so the
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
        let mut next: Vec<u32> = (1..=m as u32).collect();
        next.push(if m == 0 { NIL } else { 0 });
        if m > 0 {
            next[m - 1] = NIL;
        }
        let mut prev: Vec<u32> = (0..=m as u32).map(|e| e.wrapping_sub(1)).collect();
        if m > 0 {
            prev[0] = m as u32;
        }
        Entries {
            info,
            ret_entry,
            next,
            prev,
            head: m as u32,
        }
    }

    fn first(&self) -> u32 {
        self.next[self.head as usize]
    }

    /// The operation (local index) of entry `e`.
    fn op(&self, e: u32) -> usize {
        (self.info[e as usize] >> 1) as usize
    }

    fn is_return(&self, e: u32) -> bool {
        self.info[e as usize] & 1 == 1
    }

    /// Takes `op`'s call entry `e` and its return out of the list.
    fn lift(&mut self, e: u32, op: usize) {
        lift(&mut self.next, &mut self.prev, e, self.ret_entry[op]);
    }

    /// Undoes the last [`Entries::lift`].
    fn unlift(&mut self, e: u32, op: usize) {
        unlift(&mut self.next, &mut self.prev, e, self.ret_entry[op]);
    }
}

/// The search of one partition: the operations placed so far (in `stack`,
/// as a bit set and its Zobrist hash), the state they lead to, and what it
/// remembers of configurations already tried.
struct PartitionSearch<'a, M: Model> {
    model: &'a M,
    inputs: Vec<&'a M::Input>,
    outputs: Vec<Option<&'a M::Output>>,
    read_only: Vec<bool>,
    keys: Vec<u64>,
    dead_ends: DeadEnds,
    entries: Entries,
    bits: Vec<u64>,
    hash: u64,
    state: M::State,
    stack: Vec<Frame<M::State>>,
    memo: Memo<M::State>,
    longest: Longest,
    /// Completed operations not yet placed.
    unplaced: usize,
}

/// What looking for a read to place first found.
enum FreshRead {
    /// One was placed.
    Placed,
    /// A read can never become legal here, or the configuration after the
    /// read was tried before: this configuration fails.
    Fail,
    /// No read can go now.
    None,
}

impl<'a, M: Model> PartitionSearch<'a, M> {
    fn new(model: &'a M, history: &'a [Operation<M::Input, M::Output>], ops: &[usize]) -> Self {
        let n = ops.len();
        let inputs: Vec<&M::Input> = ops.iter().map(|&i| &history[i].input).collect();
        let outputs: Vec<Option<&M::Output>> =
            ops.iter().map(|&i| history[i].known_output()).collect();
        let read_only: Vec<bool> = (0..n)
            .map(|op| model.is_read_only(inputs[op], outputs[op]))
            .collect();
        let dead_ends = DeadEnds::new(model, history, ops, &read_only);
        let words = n.div_ceil(64).max(1);
        PartitionSearch {
            model,
            inputs,
            outputs,
            read_only,
            keys: (0..n).map(zobrist).collect(),
            dead_ends,
            entries: Entries::new(history, ops),
            bits: vec![0u64; words],
            hash: 0,
            state: model.init(),
            stack: Vec::new(),
            memo: Memo::new(words),
            longest: Longest::default(),
            unplaced: ops.iter().filter(|&&i| history[i].ret.is_some()).count(),
        }
    }

    /// Bytes the search holds (its memo and its stack).
    fn held(&self) -> usize {
        self.memo.bytes() + self.stack.capacity() * size_of::<Frame<M::State>>()
    }

    /// Places `op` (call entry `e`) next, leading to `new_state`, unless
    /// that configuration was tried before; whether it was placed.
    fn place(&mut self, e: u32, op: usize, new_state: M::State, forced: bool) -> bool {
        let new_hash = self.hash ^ self.keys[op];
        self.bits[op / 64] |= 1 << (op % 64);
        let heap = self.model.heap_bytes(&self.state, &new_state);
        let key = key(new_hash, state_hash(&new_state));
        if !self.memo.insert(key, &self.bits, &new_state, heap) {
            self.bits[op / 64] &= !(1 << (op % 64));
            return false;
        }
        let old = std::mem::replace(&mut self.state, new_state);
        self.stack.push(Frame {
            entry: e,
            state: old,
            forced,
        });
        self.hash = new_hash;
        self.entries.lift(e, op);
        self.unplaced -= usize::from(self.entries.ret_entry[op] != NIL);
        self.longest.pushed(self.stack.len());
        true
    }

    /// In a new configuration, places the first read (or inert operation)
    /// that is legal now, before any other choice: if the configuration
    /// after it fails, this one fails too.
    fn place_fresh_read(&mut self) -> FreshRead {
        let mut e = self.entries.first();
        while e != NIL && !self.entries.is_return(e) {
            let op = self.entries.op(e);
            let (input, output) = (self.inputs[op], self.outputs[op]);
            if !self.read_only[op] && !self.model.is_inert(&self.state, input, output) {
                e = self.entries.next[e as usize];
                continue;
            }
            let Some(new_state) = self.model.step(&self.state, input, output) else {
                let dead =
                    self.dead_ends
                        .is_dead(self.model, &self.state, op, input, output, &self.bits);
                if dead {
                    // This read can never become legal here: give up on
                    // the configuration now, not at its return.
                    return FreshRead::Fail;
                }
                e = self.entries.next[e as usize];
                continue;
            };
            return if self.place(e, op, new_state, true) {
                FreshRead::Placed
            } else {
                FreshRead::Fail
            };
        }
        FreshRead::None
    }

    /// Tries entry `e` of the list: a call is placed if the model allows it
    /// (`Ok(true)`) or skipped (`Ok(false)`); at a return, the
    /// configuration fails (`Err`): that operation can no longer go after
    /// this prefix.
    fn try_entry(&mut self, e: u32) -> Result<bool, ()> {
        if self.entries.is_return(e) {
            return Err(());
        }
        let op = self.entries.op(e);
        // Reads were tried first, in place_fresh_read.
        if self.read_only[op] {
            return Ok(false);
        }
        match self
            .model
            .step(&self.state, self.inputs[op], self.outputs[op])
        {
            Some(new_state) => Ok(self.place(e, op, new_state, false)),
            None => Ok(false),
        }
    }

    /// Undoes choices up to the last one that had alternatives; the entry
    /// to try next, or `None` when there is nothing left to undo.
    fn backtrack(&mut self) -> Option<u32> {
        loop {
            self.longest
                .save(&self.stack, &self.entries.info, self.hash);
            let frame = self.stack.pop()?;
            self.state = frame.state;
            let op = self.entries.op(frame.entry);
            self.bits[op / 64] &= !(1 << (op % 64));
            self.hash ^= self.keys[op];
            self.entries.unlift(frame.entry, op);
            self.unplaced += usize::from(self.entries.ret_entry[op] != NIL);
            if !frame.forced {
                return Some(self.entries.next[frame.entry as usize]);
            }
        }
    }

    /// The placed operations, as history indices.
    fn order(&self, ops: &[usize]) -> Vec<usize> {
        self.stack
            .iter()
            .map(|f| ops[self.entries.op(f.entry)])
            .collect()
    }
}

/// Searches one partition; `ops` are history indices. Gives up after
/// `budget` steps (`None`: never) or when `cancel` says so.
fn check_partition<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ops: &[usize],
    cancel: &Cancel<'_>,
    budget: Option<u64>,
) -> Search {
    assert!(
        ops.len() < (u32::MAX / 2) as usize,
        "linearizability: partition too large"
    );
    let mut search = PartitionSearch::new(model, history, ops);
    let mut charge = Charge::new(cancel.memory);
    let mut steps: u64 = 0;
    // `fresh`: the search just reached a new configuration, so it first
    // looks for a read to place (see the module docs).
    let mut fresh = true;
    let mut entry = search.entries.first();
    loop {
        steps += 1;
        if steps.is_multiple_of(POLL_EVERY) {
            if budget.is_some_and(|b| steps >= b) {
                return Search::OutOfBudget;
            }
            if !charge.update(search.held()) || cancel.cancelled() {
                let s = &mut search;
                s.longest.save(&s.stack, &s.entries.info, s.hash);
                return Search::Done(Outcome::Unknown {
                    longest: search.longest.finish(model, history, ops),
                });
            }
        }
        let mut fail = false;
        if fresh {
            if search.unplaced == 0 {
                // Every completed operation is placed; the pending ones
                // left never took effect.
                return Search::Done(Outcome::Linearizable {
                    order: search.order(ops),
                });
            }
            fresh = false;
            match search.place_fresh_read() {
                FreshRead::Placed => {
                    fresh = true;
                    entry = search.entries.first();
                    continue;
                }
                FreshRead::Fail => fail = true,
                FreshRead::None => {}
            }
            entry = search.entries.first();
        }
        if !fail {
            if entry == NIL {
                return Search::Done(Outcome::Linearizable {
                    order: search.order(ops),
                });
            }
            match search.try_entry(entry) {
                Ok(true) => {
                    fresh = true;
                    entry = search.entries.first();
                    continue;
                }
                Ok(false) => {
                    entry = search.entries.next[entry as usize];
                    continue;
                }
                Err(()) => {}
            }
        }
        // Backtrack: undo the last choice and try the next candidate after
        // it; a forced read had no alternatives, so undo further.
        match search.backtrack() {
            Some(next) => entry = next,
            None => {
                return Search::Done(Outcome::NotLinearizable {
                    longest: search.longest.finish(model, history, ops),
                });
            }
        }
    }
}

/// Reads that can be seen to be dead early (Model::reaches and
/// Model::is_reset): for each read-only operation with a known output, the
/// resets (local indices) after which it could become legal, or `None`
/// when the model gives no pruning for it.
struct DeadEnds {
    enablers: Vec<Option<Vec<usize>>>,
}

impl DeadEnds {
    fn new<M: Model>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        ops: &[usize],
        read_only: &[bool],
    ) -> Self {
        let init = model.init();
        // (local index, call, the state right after it) of every reset.
        let resets: Vec<(usize, u64, Option<M::State>)> = ops
            .iter()
            .enumerate()
            .filter(|&(_, &i)| model.is_reset(&history[i].input, history[i].known_output()))
            .map(|(local, &i)| {
                let op = &history[i];
                (
                    local,
                    op.call,
                    model.step(&init, &op.input, op.known_output()),
                )
            })
            .collect();
        let enablers = ops
            .iter()
            .enumerate()
            .map(|(local, &i)| {
                let op = &history[i];
                let (Some(ret), Some(output)) = (op.ret, op.known_output()) else {
                    return None;
                };
                if !read_only[local] || !model.prunes(&op.input, Some(output)) {
                    return None;
                }
                Some(
                    resets
                        .iter()
                        .filter(|(_, call, after)| {
                            *call <= ret
                                && after
                                    .as_ref()
                                    .is_some_and(|s| model.reaches(s, &op.input, Some(output)))
                        })
                        .map(|&(r, _, _)| r)
                        .collect(),
                )
            })
            .collect();
        DeadEnds { enablers }
    }

    /// Whether read `op`, illegal in `state`, can never become legal
    /// given the operations placed so far (`bits`): neither by the
    /// operations that are not resets, nor after a reset not yet placed.
    fn is_dead<M: Model>(
        &self,
        model: &M,
        state: &M::State,
        op: usize,
        input: &M::Input,
        output: Option<&M::Output>,
        bits: &[u64],
    ) -> bool {
        let Some(enablers) = &self.enablers[op] else {
            return false;
        };
        !model.reaches(state, input, output)
            && enablers
                .iter()
                .all(|&r| bits[r / 64] & (1 << (r % 64)) != 0)
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
