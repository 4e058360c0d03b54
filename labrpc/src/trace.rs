//! The event trace: what happened, when, and where.
//!
//! Guarantees:
//! - Every node creation, crash and restart, every RPC send, delivery,
//!   reply and drop (with its reason), every held and released message,
//!   every duplicated request, every change of the link table and of
//!   client ends, and every lab event ([`event`]) is recorded with its
//!   virtual time and node. A failed run's trace ends with a `failure`
//!   event carrying the failure message (and is written too).
//! - The trace hash (rustc-hash's FxHasher over every event, in order) is always computed;
//!   the same seed gives the same hash. It is the determinism check.
//! - Events are kept in memory only when asked for (`LAB_TRACE`,
//!   `LAB_DETERMINISM`, or [`crate::Builder::record_trace`]); then they
//!   export as JSON lines, one [`Event`] per line:
//!   `{"seq":3,"time":1200000,"node":1,"kind":"send","rpc":1,...}`.
//! - Log lines (`log` crate) are not part of the trace, so `RUST_LOG` never
//!   changes a run.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::rc::Rc;

use serde::Serialize;

use crate::node::NodeId;
use crate::runtime::{self, Sim};

/// Which leg of an RPC an event concerns.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// Client to server.
    Request,
    /// Server to client.
    Reply,
}

/// Why a message was lost: the `reason` of a `drop` event, written in the
/// trace (and shown by `lab picture`) as [`DropReason::as_str`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The client end was deleted.
    EndDeleted,
    /// The client end is (or became, in flight) disabled.
    EndDisabled,
    /// The client end is connected to no server.
    EndNotConnected,
    /// No server of that name exists (or it was replaced in flight).
    NoSuchServer,
    /// The server was deleted or replaced, or its node crashed, while its
    /// handler ran (noticed at the caller's next check).
    ServerGone,
    /// The link between the two nodes is down.
    LinkDown,
    /// The unreliable network lost it.
    Unreliable,
    /// The link's own loss rate lost it ([`crate::Network::set_link`]).
    LossyLink,
    /// A hook dropped it ([`crate::Network::add_hook`]).
    Hook,
    /// It was held and the hold dropped it ([`crate::Network::drop_held`]),
    /// or its sender crashed.
    DroppedWhileHeld,
}

impl DropReason {
    /// Every reason, in declaration order.
    pub const ALL: [DropReason; 10] = [
        DropReason::EndDeleted,
        DropReason::EndDisabled,
        DropReason::EndNotConnected,
        DropReason::NoSuchServer,
        DropReason::ServerGone,
        DropReason::LinkDown,
        DropReason::Unreliable,
        DropReason::LossyLink,
        DropReason::Hook,
        DropReason::DroppedWhileHeld,
    ];

    /// How the trace writes it, e.g. `"link down"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::EndDeleted => "end deleted",
            DropReason::EndDisabled => "end disabled",
            DropReason::EndNotConnected => "end not connected",
            DropReason::NoSuchServer => "no such server",
            DropReason::ServerGone => "server gone",
            DropReason::LinkDown => "link down",
            DropReason::Unreliable => "unreliable",
            DropReason::LossyLink => "lossy link",
            DropReason::Hook => "hook",
            DropReason::DroppedWhileHeld => "dropped while held",
        }
    }

    /// The reason [`DropReason::as_str`] writes as `s`.
    pub fn parse(s: &str) -> Option<DropReason> {
        DropReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// Hashed as its text, so the trace hash is the same as when reasons were
// strings.
impl Hash for DropReason {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for DropReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What became of a duplicated request: the `what` of a `duplicate` event,
/// written as its [`Display`](fmt::Display) text.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DuplicateStep {
    /// Scheduled, on the server's node, when the original was delivered.
    Scheduled,
    /// Its handler started.
    Delivered,
    /// Lost on the way there or back (`"lost: <reason>"`).
    Lost(DropReason),
    /// Its reply answered the call first.
    ReplyUsed,
    /// The call had its answer already.
    ReplyDiscarded,
}

impl fmt::Display for DuplicateStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DuplicateStep::Scheduled => f.write_str("scheduled"),
            DuplicateStep::Delivered => f.write_str("delivered"),
            DuplicateStep::Lost(reason) => write!(f, "lost: {reason}"),
            DuplicateStep::ReplyUsed => f.write_str("reply used"),
            DuplicateStep::ReplyDiscarded => f.write_str("reply discarded"),
        }
    }
}

// Hashed as its text, as for `DropReason` (duplicates are rare: the
// allocation does not matter).
impl Hash for DuplicateStep {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_string().hash(state);
    }
}

impl Serialize for DuplicateStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A node was created.
    NodeCreated {
        /// Its name.
        name: Rc<str>,
    },
    /// The node crashed.
    Crash,
    /// The node restarted.
    Restart,
    /// A client end sent a request (recorded on the client's node).
    Send {
        /// Unique id of this call.
        rpc: u64,
        /// The client end.
        end: Rc<str>,
        /// The server it is connected to (empty if none).
        server: Rc<str>,
        /// Node hosting the server, if any.
        to: Option<NodeId>,
        /// `service.method`.
        method: &'static str,
        /// Encoded request size.
        bytes: usize,
    },
    /// A request reached its server and its handler started (on the
    /// server's node).
    Deliver {
        /// The call.
        rpc: u64,
        /// The client's node.
        from: NodeId,
        /// `service.method`.
        method: &'static str,
    },
    /// A reply reached its client (on the client's node).
    Reply {
        /// The call.
        rpc: u64,
        /// The server's node.
        from: NodeId,
        /// Encoded reply size (0 for an error reply).
        bytes: usize,
    },
    /// A request or reply was lost.
    Drop {
        /// The call.
        rpc: u64,
        /// Which leg was lost.
        leg: Leg,
        /// Why.
        reason: DropReason,
    },
    /// A message matching a hold ([`crate::Network::hold`]) was held back
    /// (recorded on its sending node).
    Hold {
        /// The call.
        rpc: u64,
        /// Which leg is held.
        leg: Leg,
        /// The hold's number.
        hold: u64,
    },
    /// A held message was released: it now travels on (recorded on its
    /// sending node).
    Release {
        /// The call.
        rpc: u64,
        /// Which leg.
        leg: Leg,
        /// The hold's number.
        hold: u64,
    },
    /// A duplicate of a request (with duplication on,
    /// [`crate::Network::set_duplication`]): its fate, step by step. The
    /// original call's own events are unaffected.
    Duplicate {
        /// The call whose request was duplicated.
        rpc: u64,
        /// What became of it.
        what: DuplicateStep,
    },
    /// A directed link went up or down.
    Link {
        /// Source node.
        from: NodeId,
        /// Destination node.
        to: NodeId,
        /// New state.
        up: bool,
    },
    /// The network was split into groups.
    Partition {
        /// The groups; listed nodes talk only within their group.
        groups: Vec<Vec<NodeId>>,
    },
    /// Every link is up again.
    Heal,
    /// A network setting changed, e.g. `"reliable=false"`.
    Config {
        /// The new setting.
        setting: String,
    },
    /// An RPC server was added (on the node that hosts it).
    ServerAdded {
        /// Its name.
        server: Rc<str>,
    },
    /// An RPC server was deleted (or its node crashed).
    ServerDeleted {
        /// Its name.
        server: Rc<str>,
    },
    /// A client end was enabled or disabled (recorded on the end's node).
    End {
        /// The end's name.
        end: Rc<str>,
        /// Its new state.
        enabled: bool,
    },
    /// The run failed here; the last event of a failed run's trace.
    Failure {
        /// The failure message, with seed and reproduce command.
        message: String,
    },
    /// An event defined by a lab, e.g. `topic = "leader"`.
    Lab {
        /// Short topic, used for filtering and colours.
        topic: Rc<str>,
        /// Human-readable description.
        message: String,
    },
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Event {
    /// Position in the trace, from 0.
    pub seq: u64,
    /// Virtual time, in nanoseconds since the start.
    pub time: u64,
    /// Where it happened.
    pub node: NodeId,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} {}",
            self.seq,
            crate::time::Instant::from_nanos(self.time),
            self.node,
            serde_json::to_string(&self.kind).unwrap_or_default()
        )
    }
}

pub(crate) struct Trace {
    hasher: rustc_hash::FxHasher,
    count: u64,
    events: Option<Vec<Event>>,
}

impl Trace {
    pub fn new(record: bool) -> Trace {
        Trace {
            hasher: rustc_hash::FxHasher::default(),
            count: 0,
            events: record.then(Vec::new),
        }
    }

    pub fn push(&mut self, time: u64, node: NodeId, kind: EventKind) {
        let event = Event {
            seq: self.count,
            time,
            node,
            kind,
        };
        event.hash(&mut self.hasher);
        self.count += 1;
        if let Some(events) = &mut self.events {
            events.push(event);
        }
    }

    pub fn hash(&self) -> u64 {
        self.hasher.finish()
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn take_events(&mut self) -> Option<Vec<Event>> {
        self.events.take()
    }
}

pub(crate) fn record_at(sim: &Sim, node: NodeId, kind: EventKind) {
    let now = sim.now.get();
    sim.trace.borrow_mut().push(now, node, kind);
}

pub(crate) fn record(sim: &Sim, kind: EventKind) {
    record_at(sim, sim.current_node.get(), kind);
}

/// Records a lab-defined event on the current node, e.g.
/// `event("leader", format!("term {term}"))`. It becomes part of the trace
/// (and its hash), and is logged at `debug` level under target `event`.
pub fn event(topic: &str, message: impl fmt::Display) {
    let sim = runtime::current();
    let message = message.to_string();
    log::debug!(target: "event", "[{topic}] {message}");
    record(
        &sim,
        EventKind::Lab {
            topic: topic.into(),
            message,
        },
    );
}

/// The hash of the trace so far.
pub fn hash() -> u64 {
    runtime::current().trace.borrow().hash()
}

/// The number of events recorded so far.
pub fn len() -> u64 {
    runtime::current().trace.borrow().count()
}

/// Writes `events` as JSON lines to `w`.
pub fn write_json_lines(events: &[Event], mut w: impl Write) -> std::io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut w, e)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_read_back_from_their_text() {
        for r in DropReason::ALL {
            assert_eq!(DropReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert_eq!(DropReason::parse("no reason"), None);
    }

    #[test]
    fn reasons_hash_as_their_text() {
        // The trace hash was computed over strings before these were enums.
        let hash = |h: &dyn Fn(&mut rustc_hash::FxHasher)| {
            let mut s = rustc_hash::FxHasher::default();
            h(&mut s);
            s.finish()
        };
        let lost = DuplicateStep::Lost(DropReason::LinkDown);
        assert_eq!(
            hash(&|s| DropReason::LinkDown.hash(s)),
            hash(&|s| "link down".hash(s))
        );
        assert_eq!(
            hash(&|s| lost.hash(s)),
            hash(&|s| "lost: link down".hash(s))
        );
        assert_eq!(serde_json::to_string(&lost).unwrap(), "\"lost: link down\"");
    }
}
