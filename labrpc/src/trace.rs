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
//! - **Versioned.** [`VERSION`] names both the format and the way a seed
//!   schedules a run; a trace file starts with a [`Header`] line naming it,
//!   a failure's reproduce command carries it (`LAB_TRACE_VERSION=3`), and
//!   a seed or a trace of another version is reported as such rather than
//!   silently replayed differently.
//!
//! # The one definition of the trace's format
//!
//! These types are the JSON schema of a trace, both ways: labrpc writes
//! them ([`write_json_lines`]) and the `lab` tool reads them back with the
//! same types ([`parse_line`], [`read_json_lines`]) for `lab picture`,
//! `lab logs` and `lab replay`, so a change to a field cannot silently
//! break the reader. Reading is lenient where it is cheap: a kind this
//! version does not know reads as [`EventKind::Unknown`] (a newer labrpc
//! never breaks an older tool), and fields a reader does not need default
//! when missing. The format is described for users in
//! `docs/simulator.md`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::node::NodeId;
use crate::runtime::{self, Sim};

/// The trace version of this build. It changes whenever the trace's format
/// changes or the same seed would run differently (other random draws, a
/// different schedule), so a seed or a trace is comparable only within one
/// version:
///
/// - **1**: builds before the call path's redesign of 2026-12 (commit
///   1fb20a0); their trace files have no header line.
/// - **2**: requests arrive by a timer of their own and a reply's fate is
///   decided as the handler answers (see `docs/simulator.md`).
/// - **3**: lab events are typed (a topic and named [`Fields`], no
///   formatted message), and harnesses record what they observe of each
///   node (`state` events, [`observe`]).
pub const VERSION: u32 = 3;

/// The first line of a trace file: `{"trace_version":3}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The [`VERSION`] of the build that wrote the trace.
    pub trace_version: u32,
}

/// Which leg of an RPC an event concerns.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Leg {
    /// Client to server.
    Request,
    /// Server to client.
    Reply,
}

impl Leg {
    /// How the trace writes it: `"request"` or `"reply"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Leg::Request => "request",
            Leg::Reply => "reply",
        }
    }
}

impl fmt::Display for Leg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message was lost: the `reason` of a `drop` event, written in the
/// trace (and shown by `lab picture`) as [`DropReason::as_str`]. The text
/// of each reason is given once, in its `strum` attribute; `Display`,
/// `FromStr`, serde and the trace hash all use it.
#[derive(
    Copy,
    Clone,
    Debug,
    PartialEq,
    Eq,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
    strum::Display,
)]
pub enum DropReason {
    /// The client end was deleted.
    #[strum(serialize = "end deleted")]
    EndDeleted,
    /// The client end is (or became, in flight) disabled.
    #[strum(serialize = "end disabled")]
    EndDisabled,
    /// The client end is connected to no server.
    #[strum(serialize = "end not connected")]
    EndNotConnected,
    /// No server of that name exists (or it was replaced in flight).
    #[strum(serialize = "no such server")]
    NoSuchServer,
    /// The server was deleted or replaced, or its node crashed, while its
    /// handler ran (noticed at the caller's next check).
    #[strum(serialize = "server gone")]
    ServerGone,
    /// The link between the two nodes is down.
    #[strum(serialize = "link down")]
    LinkDown,
    /// The unreliable network lost it.
    #[strum(serialize = "unreliable")]
    Unreliable,
    /// The link's own loss rate lost it ([`crate::Network::set_link`]).
    #[strum(serialize = "lossy link")]
    LossyLink,
    /// A hook dropped it ([`crate::Network::add_hook`]).
    #[strum(serialize = "hook")]
    Hook,
    /// It was held and the hold dropped it ([`crate::Network::drop_held`]),
    /// or its sender crashed.
    #[strum(serialize = "dropped while held")]
    DroppedWhileHeld,
}

impl DropReason {
    /// How the trace writes it, e.g. `"link down"`.
    pub fn as_str(self) -> &'static str {
        self.into()
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

impl<'de> Deserialize<'de> for DropReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown drop reason {text:?}")))
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

impl DuplicateStep {
    /// The step [`Display`](fmt::Display) writes as `s`.
    pub fn parse(s: &str) -> Option<DuplicateStep> {
        Some(match s {
            "scheduled" => DuplicateStep::Scheduled,
            "delivered" => DuplicateStep::Delivered,
            "reply used" => DuplicateStep::ReplyUsed,
            "reply discarded" => DuplicateStep::ReplyDiscarded,
            _ => DuplicateStep::Lost(s.strip_prefix("lost: ")?.parse().ok()?),
        })
    }
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

impl<'de> Deserialize<'de> for DuplicateStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(d)?;
        DuplicateStep::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown duplicate step {text:?}")))
    }
}

// `NodeId` is written as its number (`#[serde(transparent)]`); read back
// here, beside the rest of the trace's reading side.
impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u32::deserialize(d).map(NodeId)
    }
}

/// The value of a lab event's field: a flag, a number or a text. Written
/// as the JSON value itself (`true`, `3`, `"x"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// A flag.
    Bool(bool),
    /// A number (unsigned values above `i64::MAX` saturate).
    Int(i64),
    /// A text.
    Text(Rc<str>),
}

impl Value {
    /// The number, if it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The text, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_value!(i32, i64, u32, u64, usize);

impl From<&str> for Value {
    fn from(t: &str) -> Value {
        Value::Text(t.into())
    }
}

impl From<String> for Value {
    fn from(t: String) -> Value {
        Value::Text(t.into())
    }
}

/// The named fields of a lab event or an observation, by name. Written as
/// a JSON object; displayed as `name=value` pairs, or as the bare text of
/// an event that has only a `text` field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(pub BTreeMap<Cow<'static, str>, Value>);

impl Fields {
    /// The field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// The field `name`, if it is a number.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_i64()
    }
}

impl<'a> FromIterator<(&'a str, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value)>>(iter: I) -> Fields {
        Fields(
            iter.into_iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), v))
                .collect(),
        )
    }
}

impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (1, Some(text)) = (self.0.len(), self.get("text")) {
            return write!(f, "{text}");
        }
        for (i, (k, v)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            write!(f, "{sep}{k}={v}")?;
        }
        Ok(())
    }
}

/// A message's content as JSON, kept only when a trace is written
/// (`LAB_TRACE`): it is not part of the trace hash (it hashes as nothing),
/// so recording it never changes a run's hash. Values longer than
/// [`PAYLOAD_MAX`] characters are kept as a cut string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Payload(pub Option<serde_json::Value>);

/// The longest payload kept whole, in characters of JSON.
pub const PAYLOAD_MAX: usize = 600;

impl Payload {
    /// Whether there is none.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// `value` as JSON, cut to [`PAYLOAD_MAX`] characters.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Payload {
        let Ok(json) = serde_json::to_value(value) else {
            return Payload(None);
        };
        let text = json.to_string();
        Payload(Some(match text.char_indices().nth(PAYLOAD_MAX) {
            Some((at, _)) => serde_json::Value::String(format!("{}…", &text[..at])),
            None => json,
        }))
    }
}

impl Hash for Payload {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// What happened.
///
/// Hashed with the derived `Hash` (the trace hash): a field's type may
/// change only to one that hashes the same (`&str`, `Rc<str>` and
/// `Cow<str>` all hash as `str`), and a new kind goes last.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
        #[serde(default)]
        end: Rc<str>,
        /// The server it is connected to (empty if none).
        #[serde(default)]
        server: Rc<str>,
        /// Node hosting the server, if any.
        to: Option<NodeId>,
        /// `service.method` (static when recorded, owned when read).
        method: Cow<'static, str>,
        /// Encoded request size.
        #[serde(default)]
        bytes: usize,
        /// The arguments, as JSON (only in a trace written with
        /// `LAB_TRACE`; not part of the trace hash).
        #[serde(default, skip_serializing_if = "Payload::is_none")]
        args: Payload,
    },
    /// A request reached its server and its handler started (on the
    /// server's node).
    Deliver {
        /// The call.
        rpc: u64,
        /// The client's node.
        from: NodeId,
        /// `service.method`.
        #[serde(default)]
        method: Cow<'static, str>,
    },
    /// A reply reached its client (on the client's node).
    Reply {
        /// The call.
        rpc: u64,
        /// The server's node.
        from: NodeId,
        /// Encoded reply size (0 for an error reply).
        #[serde(default)]
        bytes: usize,
        /// The decoded reply, as JSON (as `args` of `send`).
        #[serde(default, skip_serializing_if = "Payload::is_none")]
        reply: Payload,
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
    /// An event defined by a lab, e.g. `topic = "leader"`, with named
    /// fields (`{"peer":0,"term":3}`); see [`event_with`].
    Lab {
        /// Short topic, used for filtering and colours.
        topic: Rc<str>,
        /// What happened, field by field.
        #[serde(default)]
        fields: Fields,
    },
    /// What a harness observed of this node through the lab's public API
    /// (e.g. Raft's term and whether it believes it leads), recorded by
    /// [`observe`]: only the fields that changed since the last
    /// observation of the node (all of them again after a crash).
    State {
        /// The changed fields.
        fields: Fields,
    },
    /// A kind this version does not know, read from a newer trace (its
    /// fields are skipped). Never recorded.
    #[serde(other)]
    Unknown,
}

impl EventKind {
    /// The kind's name as the trace writes it, e.g. `"node_created"`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::NodeCreated { .. } => "node_created",
            EventKind::Crash => "crash",
            EventKind::Restart => "restart",
            EventKind::Send { .. } => "send",
            EventKind::Deliver { .. } => "deliver",
            EventKind::Reply { .. } => "reply",
            EventKind::Drop { .. } => "drop",
            EventKind::Hold { .. } => "hold",
            EventKind::Release { .. } => "release",
            EventKind::Duplicate { .. } => "duplicate",
            EventKind::Link { .. } => "link",
            EventKind::Partition { .. } => "partition",
            EventKind::Heal => "heal",
            EventKind::Config { .. } => "config",
            EventKind::ServerAdded { .. } => "server_added",
            EventKind::ServerDeleted { .. } => "server_deleted",
            EventKind::End { .. } => "end",
            EventKind::Failure { .. } => "failure",
            EventKind::Lab { .. } => "lab",
            EventKind::State { .. } => "state",
            EventKind::Unknown => "unknown",
        }
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    /// Position in the trace, from 0.
    #[serde(default)]
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
    /// Per node, the last value [`observe`] saw of each field.
    observed: BTreeMap<NodeId, Fields>,
    /// Keep messages' content ([`Payload`]).
    payloads: bool,
    /// The arguments of the `send` event about to be recorded.
    pending_args: Payload,
}

impl Trace {
    pub fn new(record: bool) -> Trace {
        Trace {
            hasher: rustc_hash::FxHasher::default(),
            count: 0,
            events: record.then(Vec::new),
            observed: BTreeMap::new(),
            payloads: false,
            pending_args: Payload::default(),
        }
    }

    /// Keeps messages' content from now on (only when events are kept).
    pub fn keep_payloads(&mut self, on: bool) {
        self.payloads = on && self.events.is_some();
    }

    /// Whether messages' content is kept.
    pub fn payloads(&self) -> bool {
        self.payloads
    }

    /// `args` go into the next `send` event.
    pub fn stash_args(&mut self, args: Payload) {
        self.pending_args = args;
    }

    /// Puts `reply` into the latest `reply` event of `rpc` (recorded just
    /// before the reply is decoded).
    pub fn attach_reply(&mut self, rpc_id: u64, payload: Payload) {
        let Some(events) = &mut self.events else {
            return;
        };
        for e in events.iter_mut().rev().take(8) {
            if let EventKind::Reply { rpc, reply, .. } = &mut e.kind
                && *rpc == rpc_id
            {
                *reply = payload;
                return;
            }
        }
    }

    /// The fields of `fields` whose value differs from the last one
    /// observed on `node`; remembers the new values.
    fn observed_changes<'a>(
        &mut self,
        node: NodeId,
        fields: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Fields {
        let seen = self.observed.entry(node).or_default();
        let mut changed = Fields::default();
        for (name, value) in fields {
            if seen.0.get(name) != Some(&value) {
                seen.0.insert(Cow::Owned(name.to_string()), value.clone());
                changed.0.insert(Cow::Owned(name.to_string()), value);
            }
        }
        changed
    }

    pub fn push(&mut self, time: u64, node: NodeId, kind: EventKind) {
        // Hashed field by field, as the derived `Hash` of the `Event` it
        // makes (a test checks they agree), so that no `Event` is built
        // unless it is kept.
        let seq = self.count;
        seq.hash(&mut self.hasher);
        time.hash(&mut self.hasher);
        node.hash(&mut self.hasher);
        kind.hash(&mut self.hasher);
        self.count += 1;
        if matches!(kind, EventKind::Crash) {
            self.observed.remove(&node);
        }
        if let Some(events) = &mut self.events {
            let mut kind = kind;
            if let EventKind::Send { args, .. } = &mut kind {
                *args = std::mem::take(&mut self.pending_args);
            }
            events.push(Event {
                seq,
                time,
                node,
                kind,
            });
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

#[inline]
pub(crate) fn record_at(sim: &Sim, node: NodeId, kind: EventKind) {
    let now = sim.now.get();
    sim.trace.borrow_mut().push(now, node, kind);
}

#[inline]
pub(crate) fn record(sim: &Sim, kind: EventKind) {
    record_at(sim, sim.current_node.get(), kind);
}

/// Records a lab event with one field, `text`, on the current node, e.g.
/// `event("scenario", "crash peer 1")`: for events that are prose. Events
/// a tool reads field by field use [`event_with`].
pub fn event(topic: &str, text: impl fmt::Display) {
    event_with(topic, [("text", Value::from(text.to_string()))]);
}

/// Records a lab-defined event on the current node, with named fields,
/// e.g. `event_with("leader", [("peer", me.into()), ("term", term.into())])`.
/// It becomes part of the trace (and its hash), and is logged at `debug`
/// level under target `event` as `[leader] peer=0 term=3`.
pub fn event_with<'a>(topic: &str, fields: impl IntoIterator<Item = (&'a str, Value)>) {
    let sim = runtime::current();
    let fields = Fields::from_iter(fields);
    log::debug!(target: "event", "[{topic}] {fields}");
    record(
        &sim,
        EventKind::Lab {
            topic: topic.into(),
            fields,
        },
    );
}

/// Records what a harness observes of `node` through the lab's public API,
/// e.g. `observe(node, [("term", 3.into()), ("leader", true.into())])`:
/// a `state` event on `node` with the fields whose value changed since the
/// node's last observation (none: nothing is recorded), so a harness may
/// call it as often as it looks. A crash forgets the node's observations.
pub fn observe<'a>(node: NodeId, fields: impl IntoIterator<Item = (&'a str, Value)>) {
    let sim = runtime::current();
    let changed = sim.trace.borrow_mut().observed_changes(node, fields);
    if !changed.0.is_empty() {
        record_at(&sim, node, EventKind::State { fields: changed });
    }
}

/// The hash of the trace so far.
pub fn hash() -> u64 {
    runtime::current().trace.borrow().hash()
}

/// The number of events recorded so far.
pub fn len() -> u64 {
    runtime::current().trace.borrow().count()
}

/// Writes `events` as JSON lines to `w`, after the [`Header`] line;
/// [`read_json_lines`] reads them back.
pub fn write_json_lines(events: &[Event], mut w: impl Write) -> std::io::Result<()> {
    serde_json::to_writer(
        &mut w,
        &Header {
            trace_version: VERSION,
        },
    )?;
    w.write_all(b"\n")?;
    for e in events {
        serde_json::to_writer(&mut w, e)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads one line of a trace; `None` if it is not an event (a log line,
/// test output, a malformed object).
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

/// A line of a trace file that is not an event.
#[derive(Debug)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub error: serde_json::Error,
}

/// The trace version a trace file names in its [`Header`] line, or `None`
/// when its first line is not one (a trace of version 1, or not a trace).
pub fn version_of(text: &str) -> Option<u32> {
    let first = text.lines().find(|l| !l.trim().is_empty())?;
    serde_json::from_str::<Header>(first)
        .ok()
        .map(|h| h.trace_version)
}

/// What to tell a reader of a trace of `version` (from [`version_of`]),
/// or `None` when it is this build's.
pub fn version_warning(version: Option<u32>) -> Option<String> {
    match version {
        Some(VERSION) => None,
        Some(v) => Some(format!(
            "written by trace version {v}, and this build reads version {VERSION}: events \
             it does not know show as unknown, and its seed runs differently here"
        )),
        None => Some(format!(
            "has no version line: written before trace version 2 (this build reads version \
             {VERSION}); events it does not know show as unknown, and its seed runs \
             differently here"
        )),
    }
}

/// Reads a whole trace, as [`write_json_lines`] writes it: the [`Header`]
/// line (if any) is skipped, as are blank lines; any other line that is
/// not an event is an error.
pub fn read_json_lines(text: &str) -> Result<Vec<Event>, BadLine> {
    let mut events = Vec::new();
    let header = version_of(text).is_some();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if std::mem::take(&mut first) && header {
            continue;
        }
        let event = serde_json::from_str(line).map_err(|error| BadLine { line: i + 1, error })?;
        events.push(event);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_file_starts_with_its_version_and_reads_back_without_it() {
        let events = vec![Event {
            seq: 0,
            time: 5,
            node: NodeId(1),
            kind: EventKind::Crash,
        }];
        let mut out = Vec::new();
        write_json_lines(&events, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("{\"trace_version\":3}\n"), "{text}");
        assert_eq!(version_of(&text), Some(VERSION));
        assert_eq!(version_warning(version_of(&text)), None);
        assert_eq!(read_json_lines(&text).unwrap(), events);
        // A trace of version 1 had no header: it still reads, and says so.
        let old = text.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(version_of(&old), None);
        assert_eq!(read_json_lines(&old).unwrap(), events);
        assert!(
            version_warning(None)
                .unwrap()
                .starts_with("has no version line: written before trace version 2")
        );
        assert!(
            version_warning(Some(4))
                .unwrap()
                .starts_with("written by trace version 4, and this build reads version 3")
        );
    }

    #[test]
    fn lab_events_are_typed_and_observations_record_changes_only() {
        let f = Fields::from_iter([("peer", 0.into()), ("term", 3u64.into())]);
        assert_eq!(f.to_string(), "peer=0 term=3");
        assert_eq!(f.int("term"), Some(3));
        assert_eq!(
            Fields::from_iter([("text", "crash 1".into())]).to_string(),
            "crash 1"
        );
        let kind = EventKind::Lab {
            topic: "leader".into(),
            fields: f,
        };
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"lab","topic":"leader","fields":{"peer":0,"term":3}}"#
        );
        let mut trace = Trace::new(true);
        let seen = |t: &mut Trace, term: u64| {
            t.observed_changes(NodeId(1), [("term", term.into()), ("leader", false.into())])
        };
        assert_eq!(seen(&mut trace, 1).0.len(), 2);
        assert!(seen(&mut trace, 1).0.is_empty());
        assert_eq!(seen(&mut trace, 2).to_string(), "term=2");
        trace.push(0, NodeId(1), EventKind::Crash);
        assert_eq!(seen(&mut trace, 2).0.len(), 2, "a crash forgets");
    }

    #[test]
    fn drop_reasons_read_back_from_their_text() {
        for r in <DropReason as strum::IntoEnumIterator>::iter() {
            assert_eq!(r.as_str().parse::<DropReason>().ok(), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert!("no reason".parse::<DropReason>().is_err());
    }

    /// One event of every kind the simulator records.
    fn every_kind() -> Vec<EventKind> {
        let (n1, n2) = (NodeId(1), NodeId(2));
        let mut kinds = vec![
            EventKind::NodeCreated {
                name: "raft-1".into(),
            },
            EventKind::Crash,
            EventKind::Restart,
            EventKind::Send {
                rpc: 1,
                end: "e1".into(),
                server: "s2".into(),
                to: Some(n2),
                method: "Raft.request_vote".into(),
                bytes: 9,
                args: Payload::default(),
            },
            EventKind::Send {
                rpc: 2,
                end: "e1".into(),
                server: "".into(),
                to: None,
                method: "Raft.append_entries".into(),
                bytes: 0,
                args: Payload::of(&[1, 2]),
            },
            EventKind::Deliver {
                rpc: 1,
                from: n1,
                method: "Raft.request_vote".into(),
            },
            EventKind::Reply {
                rpc: 1,
                from: n2,
                bytes: 4,
                reply: Payload::default(),
            },
            EventKind::Hold {
                rpc: 3,
                leg: Leg::Request,
                hold: 1,
            },
            EventKind::Release {
                rpc: 3,
                leg: Leg::Reply,
                hold: 1,
            },
            EventKind::Link {
                from: n1,
                to: n2,
                up: false,
            },
            EventKind::Partition {
                groups: vec![vec![n1], vec![n2, NodeId(3)]],
            },
            EventKind::Heal,
            EventKind::Config {
                setting: "reliable=false".into(),
            },
            EventKind::ServerAdded {
                server: "s2".into(),
            },
            EventKind::ServerDeleted {
                server: "s2".into(),
            },
            EventKind::End {
                end: "e1".into(),
                enabled: false,
            },
            EventKind::Failure {
                message: "labrpc: boom\n  seed:         3".into(),
            },
            EventKind::Lab {
                topic: "leader".into(),
                fields: Fields::from_iter([("peer", 1.into()), ("note", "\"quoted\" ✓".into())]),
            },
            EventKind::State {
                fields: Fields::from_iter([("term", 4u64.into()), ("leader", true.into())]),
            },
        ];
        for reason in <DropReason as strum::IntoEnumIterator>::iter() {
            kinds.push(EventKind::Drop {
                rpc: 4,
                leg: Leg::Reply,
                reason,
            });
            kinds.push(EventKind::Duplicate {
                rpc: 4,
                what: DuplicateStep::Lost(reason),
            });
        }
        for what in [
            DuplicateStep::Scheduled,
            DuplicateStep::Delivered,
            DuplicateStep::ReplyUsed,
            DuplicateStep::ReplyDiscarded,
        ] {
            kinds.push(EventKind::Duplicate { rpc: 5, what });
        }
        kinds
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let events: Vec<Event> = every_kind()
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Event {
                seq: i as u64,
                time: 1_000_000 * i as u64 + 7,
                node: NodeId(i as u32 % 3),
                kind,
            })
            .collect();
        let mut out = Vec::new();
        write_json_lines(&events, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(read_json_lines(&text).unwrap(), events);
        for (line, e) in text.lines().skip(1).zip(&events) {
            assert_eq!(parse_line(line).as_ref(), Some(e));
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(json["kind"], e.kind.name(), "{line}");
        }
        // The written form is the documented one (docs/simulator.md).
        assert_eq!(
            text.lines().nth(4),
            Some(
                r#"{"seq":3,"time":3000007,"node":0,"kind":"send","rpc":1,"end":"e1","server":"s2","to":2,"method":"Raft.request_vote","bytes":9}"#
            )
        );
    }

    #[test]
    fn reading_tolerates_new_kinds_and_missing_fields() {
        let e = parse_line(r#"{"seq":5,"time":5,"node":0,"kind":"timer_fired","x":1}"#).unwrap();
        assert_eq!(e.kind, EventKind::Unknown);
        let e = parse_line(r#"{"time":5,"node":1,"kind":"send","rpc":1,"to":null,"method":"m"}"#)
            .unwrap();
        assert_eq!(
            e.kind,
            EventKind::Send {
                rpc: 1,
                end: "".into(),
                server: "".into(),
                to: None,
                method: "m".into(),
                bytes: 0,
                args: Payload::default(),
            }
        );
        assert!(parse_line("   1.0s n1 x INFO a: b").is_none());
        assert!(
            parse_line(
                r#"{"time":5,"node":1,"kind":"drop","rpc":1,"leg":"request","reason":"??"}"#
            )
            .is_none()
        );
        let bad =
            read_json_lines("\n{\"time\":1,\"node\":0,\"kind\":\"heal\"}\nnot json\n").unwrap_err();
        assert_eq!(bad.line, 3);
    }

    #[test]
    fn duplicate_steps_read_back_from_their_text() {
        for kind in every_kind() {
            if let EventKind::Duplicate { what, .. } = kind {
                assert_eq!(DuplicateStep::parse(&what.to_string()), Some(what));
            }
        }
        assert_eq!(DuplicateStep::parse("lost: nothing"), None);
        assert_eq!(Leg::Reply.to_string(), "reply");
    }

    #[test]
    fn the_trace_hash_is_the_hash_of_its_events() {
        let mut trace = Trace::new(true);
        for (i, kind) in every_kind().into_iter().enumerate() {
            trace.push(1000 * i as u64, NodeId(i as u32 % 3), kind);
        }
        let mut derived = rustc_hash::FxHasher::default();
        for e in trace.take_events().unwrap() {
            e.hash(&mut derived);
        }
        assert_eq!(trace.hash(), derived.finish());
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
