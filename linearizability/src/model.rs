//! The sequential specification a history is checked against.
//!
//! A [`Model`] is a deterministic state machine: from a state, an input
//! either is legal with a given output (and leads to one next state) or is
//! not. The checker asks it nothing else, so a model is all a new kind of
//! service needs.
//!
//! Partitioning (P-compositionality): a history is linearizable iff each of
//! its independent parts is, when the parts touch disjoint objects (keys of a
//! KV store). Checking parts separately turns one exponential search into
//! many small ones, and lets them run in parallel.

use std::hash::Hash;

use crate::history::Operation;
use crate::result::Refutation;

/// A history of operations of model `M`.
pub type History<M> = Vec<Operation<<M as Model>::Input, <M as Model>::Output>>;

/// An independent part of a history, as returned by [`Model::partition`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// Shown in reports and in the view, e.g. `key "x"`.
    pub label: String,
    /// Indices into the history, in increasing order.
    pub ops: Vec<usize>,
}

/// A sequential specification.
///
/// Requirements the checker relies on:
/// - `step` is deterministic and pure: the same state, input and output
///   give the same answer every time.
/// - `step(s, i, None)` (output unknown) returns the state `i` leads to from
///   `s` whatever output it produced, or `None` if `i` cannot happen in `s`.
///   This is exact for deterministic specifications, where a state and an
///   input determine the output.
/// - `partition` returns parts that cover every operation exactly once, and
///   operations in different parts never affect one another's legality.
///
/// The memo table keys (linearized set, state) on the set's Zobrist hash
/// (updated in O(1) a step) combined with the state's `Hash`, and compares
/// states with `Eq` only when keys agree; hashing runs on every step, so it
/// must be cheap (the KV state caches its hash). States never cross threads
/// (each part is searched on one thread), so `Rc` is fine.
pub trait Model: Sync {
    /// What a client asks for.
    type Input: Sync;
    /// What the service answers.
    type Output: Sync;
    /// The state of one part.
    type State: Clone + Eq + Hash;

    /// Splits a history into independent parts. Default: one part.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Partition> {
        vec![Partition {
            label: String::from("all operations"),
            ops: (0..history.len()).collect(),
        }]
    }

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` produced `output` in `state`, or `None` if
    /// that cannot happen. `output == None` means the output is unknown.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether `input` with `output` never changes the state: wherever
    /// `step` accepts it, it returns the state unchanged (a read, a failed
    /// compare-and-set). The default, `false`, is always safe.
    ///
    /// The checker places a legal read as soon as real time allows, without
    /// trying other orders: any linearization that places it later stays
    /// valid with it moved to the front (it changes no state, and every
    /// operation that must precede it is already placed). This prunes most
    /// of the search in read-heavy histories.
    fn is_read_only(&self, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        false
    }

    /// Search pruning: whether, from `state` and every state reachable
    /// from it, `step` accepts `input` with `output` and returns the state
    /// unchanged: the operation has become a read (a versioned put whose
    /// version the key has passed, whether it reported `ErrMaybe` or never
    /// returned). The default, `false`, is always safe.
    ///
    /// The checker then places the operation as soon as real time allows,
    /// as it does a read ([`Model::is_read_only`]): many such operations
    /// overlapping (clerks retrying stale puts around a crash) would
    /// otherwise make the search try every subset of them.
    fn is_inert(
        &self,
        _state: &Self::State,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
    ) -> bool {
        false
    }

    /// Search pruning (optional; the defaults never prune): whether the
    /// state after `input` (with `output`) does not depend on the state
    /// before it (a put, a register write). `step` from the initial state
    /// must then give that state.
    fn is_reset(&self, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        false
    }

    /// Search pruning: whether [`Model::reaches`] is meaningful for this
    /// read-only operation. Default `false`.
    fn prunes(&self, _input: &Self::Input, _output: Option<&Self::Output>) -> bool {
        false
    }

    /// Search pruning, for a read-only operation for which
    /// [`Model::prunes`]: whether some sequence of operations, none of
    /// them a reset ([`Model::is_reset`]), can lead from `state` to a state
    /// where the operation is legal. Must be sound: `false` only if none
    /// can. The search abandons a configuration as soon as a read that
    /// real time has already called can no longer become legal (not by
    /// such operations, nor after a reset not yet placed), instead of when
    /// the read's return is reached. Default `true`.
    fn reaches(
        &self,
        _state: &Self::State,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
    ) -> bool {
        true
    }

    /// A cheap proof that the operations `ops` (history indices, one
    /// partition, increasing) have no linearization, or `None`. The
    /// checker tries it on every partition before the exponential search,
    /// so that the common bugs (a read of a value no write wrote, a stale
    /// read, a lost append) are proven in microseconds.
    ///
    /// It must be **sound**: return `Some` only if no linearization
    /// exists (it need not find every violation; the search does that).
    /// The default finds nothing.
    fn refute(
        &self,
        _history: &[Operation<Self::Input, Self::Output>],
        _ops: &[usize],
    ) -> Option<Refutation> {
        None
    }

    /// An estimate of the heap memory `after` (the result of a
    /// [`Model::step`] from `before`) holds that `before` does not share:
    /// 0 when it shares everything (a read returns a clone of an `Rc`).
    /// The checker adds it up over the states it keeps, to stop at
    /// [`crate::CheckOptions::max_memory`] rather than be killed by the
    /// system. Called once per new state, so it must be cheap. Default:
    /// 0, right for states without heap data (`size_of` is counted anyway).
    fn heap_bytes(&self, _before: &Self::State, _after: &Self::State) -> usize {
        0
    }

    /// A short human description of an operation, e.g. `get("x") -> "1"`;
    /// `output == None` means unknown.
    fn describe_operation(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A short human description of a state.
    fn describe_state(&self, state: &Self::State) -> String;
}
