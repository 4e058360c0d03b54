//! Histories: what the clients did, as the checker sees it.
//!
//! An [`Operation`] is one client call: its input and call time, and, if the
//! call returned, its return time and output. Times are `u64` in any
//! monotonic unit (virtual nanoseconds in our labs). The checker only
//! compares times, so the unit matters to nobody but the HTML view.
//!
//! Two kinds of incompleteness are allowed and handled soundly:
//! - **Never returned** (`ret == None`: the client timed out or crashed). The
//!   operation may have taken effect at any point after its call, or never.
//!   Its output, if any, is ignored.
//! - **Unknown output** (`output == None` with a return time). The operation
//!   took effect somewhere between call and return, and any output it could
//!   have produced there is accepted.
//!
//! Operations whose intervals touch (`a.ret == b.call`) count as concurrent.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// One client operation.
///
/// Invariant: `ret >= call` when `ret` is `Some` (the checker panics
/// otherwise; [`crate::format::parse_history`] reports it as bad input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that issued it; used by the view, never by the checker.
    pub client: u64,
    /// What the client asked for.
    pub input: I,
    /// When the client issued the call.
    pub call: u64,
    /// What the call returned; `None` if unknown (any output is accepted).
    pub output: Option<O>,
    /// When the call returned; `None` if it never did.
    pub ret: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at `ret`.
    pub fn completed(client: u64, input: I, call: u64, output: O, ret: u64) -> Self {
        Operation {
            client,
            input,
            call,
            output: Some(output),
            ret: Some(ret),
        }
    }

    /// An operation that returned at `ret` without a usable result (e.g. an
    /// RPC whose reply was lost after the server may have executed it).
    pub fn unknown(client: u64, input: I, call: u64, ret: u64) -> Self {
        Operation {
            client,
            input,
            call,
            output: None,
            ret: Some(ret),
        }
    }

    /// An operation that never returned.
    pub fn pending(client: u64, input: I, call: u64) -> Self {
        Operation {
            client,
            input,
            call,
            output: None,
            ret: None,
        }
    }

    /// Whether the operation never returned.
    pub fn is_pending(&self) -> bool {
        self.ret.is_none()
    }

    /// The output the checker must respect: `None` when it is unknown or
    /// when the operation never returned.
    pub fn known_output(&self) -> Option<&O> {
        match self.ret {
            Some(_) => self.output.as_ref(),
            None => None,
        }
    }
}

/// A raw call or return event. A sequence of events in time order is the
/// other way to give a history (porcupine's `CheckEvents`): each event's
/// index in the sequence is its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<I, O> {
    /// Client `client` calls operation `id` with `input`.
    Call { client: u64, id: u64, input: I },
    /// Operation `id` returns `output` (`None`: unknown).
    Return { id: u64, output: Option<O> },
}

/// Why an event sequence is not a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// Two calls share an id.
    DuplicateCall { index: usize, id: u64 },
    /// A return whose id was never called.
    ReturnWithoutCall { index: usize, id: u64 },
    /// A second return for the same id.
    DuplicateReturn { index: usize, id: u64 },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::DuplicateCall { index, id } => {
                write!(f, "event {index}: operation {id} was already called")
            }
            EventError::ReturnWithoutCall { index, id } => {
                write!(
                    f,
                    "event {index}: operation {id} returns but was never called"
                )
            }
            EventError::DuplicateReturn { index, id } => {
                write!(f, "event {index}: operation {id} already returned")
            }
        }
    }
}

impl std::error::Error for EventError {}

/// Turns events in time order into operations, in call order. An event's
/// time is its index; calls without a return become pending operations.
pub fn operations_from_events<I, O>(
    events: Vec<Event<I, O>>,
) -> Result<Vec<Operation<I, O>>, EventError> {
    let mut ops: Vec<Operation<I, O>> = Vec::new();
    let mut by_id: BTreeMap<u64, usize> = BTreeMap::new();
    for (index, event) in events.into_iter().enumerate() {
        let time = index as u64;
        match event {
            Event::Call { client, id, input } => {
                if by_id.insert(id, ops.len()).is_some() {
                    return Err(EventError::DuplicateCall { index, id });
                }
                ops.push(Operation::pending(client, input, time));
            }
            Event::Return { id, output } => {
                let Some(&at) = by_id.get(&id) else {
                    return Err(EventError::ReturnWithoutCall { index, id });
                };
                let op = &mut ops[at];
                if op.ret.is_some() {
                    return Err(EventError::DuplicateReturn { index, id });
                }
                op.ret = Some(time);
                op.output = output;
            }
        }
    }
    Ok(ops)
}

/// A handle to an operation recorded by [`Recorder::call`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(usize);

impl OpId {
    /// The operation's index in [`Recorder::history`].
    pub fn index(self) -> usize {
        self.0
    }
}

/// Records a history from many simulated clients on one thread.
///
/// Cloning is cheap and every clone appends to the same history. A client
/// calls [`Recorder::call`] before sending a request and [`Recorder::finish`]
/// when the reply arrives; a client that crashes or gives up simply never
/// finishes, and its operation stays pending (it may or may not have taken
/// effect). Not `Send`: simulations run on one thread.
pub struct Recorder<I, O> {
    ops: Rc<RefCell<Vec<Operation<I, O>>>>,
}

impl<I, O> Clone for Recorder<I, O> {
    fn clone(&self) -> Self {
        Recorder {
            ops: Rc::clone(&self.ops),
        }
    }
}

impl<I, O> Default for Recorder<I, O> {
    fn default() -> Self {
        Recorder {
            ops: Rc::new(RefCell::new(Vec::new())),
        }
    }
}

impl<I, O> fmt::Debug for Recorder<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("operations", &self.ops.borrow().len())
            .finish()
    }
}

impl<I, O> Recorder<I, O> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `client` called `input` at `time`; the operation is
    /// pending until [`Recorder::finish`].
    pub fn call(&self, client: u64, input: I, time: u64) -> OpId {
        let mut ops = self.ops.borrow_mut();
        ops.push(Operation::pending(client, input, time));
        OpId(ops.len() - 1)
    }

    /// Records that operation `id` returned `output` at `time`.
    ///
    /// # Panics
    /// If `id` already finished or `time` is before its call: both are bugs
    /// in the recording code, not in the system under test.
    pub fn finish(&self, id: OpId, output: O, time: u64) {
        self.set_return(id, Some(output), time);
    }

    /// Records that operation `id` returned at `time` with an unknown
    /// result (e.g. the clerk gave up after a timeout but the request may
    /// have been executed). Panics as [`Recorder::finish`].
    pub fn finish_unknown(&self, id: OpId, time: u64) {
        self.set_return(id, None, time);
    }

    fn set_return(&self, id: OpId, output: Option<O>, time: u64) {
        let mut ops = self.ops.borrow_mut();
        let op = &mut ops[id.0];
        assert!(
            op.ret.is_none(),
            "linearizability::Recorder: operation {} finished twice",
            id.0
        );
        assert!(
            time >= op.call,
            "linearizability::Recorder: operation {} returns at {time}, before its call at {}",
            id.0,
            op.call
        );
        op.ret = Some(time);
        op.output = output;
    }

    /// Appends a whole operation.
    pub fn record(&self, op: Operation<I, O>) {
        self.ops.borrow_mut().push(op);
    }

    /// The number of operations recorded so far.
    pub fn len(&self) -> usize {
        self.ops.borrow().len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.borrow().is_empty()
    }

    /// A copy of the history so far; unfinished operations are pending.
    pub fn history(&self) -> Vec<Operation<I, O>>
    where
        I: Clone,
        O: Clone,
    {
        self.ops.borrow().clone()
    }

    /// Moves the history out, leaving the recorder empty.
    pub fn take(&self) -> Vec<Operation<I, O>> {
        std::mem::take(&mut *self.ops.borrow_mut())
    }
}
