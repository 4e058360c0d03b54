//! The scenario file: TOML read with serde (unknown fields refused), then
//! checked field by field. Every error names the file, the line and the
//! field; nothing here panics. `docs/scenarios.md` documents the format.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

/// The most virtual time a scenario may last (a typo such as `at = 1e9`
/// must not turn into an hour of simulation).
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// The most peers a cluster may have.
pub const MAX_PEERS: usize = 9;
/// The most client operations a scenario may schedule.
pub const MAX_OPS: usize = 5000;

/// A bad scenario file, or a step that could not be carried out: the
/// message names the file, the line and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// `FILE:LINE: field `x`: what is wrong`.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SpecError {}

/// Where something is in the file: its line and field, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// 1-based line.
    pub line: usize,
    /// The field, e.g. `step[3].crash`.
    pub field: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, `{}`", self.line, self.field)
    }
}

/// The labs a scenario can run. paxos is to come: add a variant, its
/// name in [`Lab::NAMES`], its methods, and its cluster in `run.rs` (or,
/// for a lab with a cluster of its own shape, a module as `shardkv1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lab {
    /// Raft peers; the scenario plays their service (reads the apply
    /// channels) and proposes commands with `start`.
    Raft,
    /// kvraft servers and clerks; the history is recorded.
    Kvraft,
    /// shardkv1 (the 2026 Lab 5): shard groups, the configuration server,
    /// controllers and clerks; its file format and run are
    /// [`crate::shardkv1`]'s.
    Shardkv1,
    /// GFS: a master, chunkservers and clients (`crate::labs::gfs`).
    Gfs,
    /// Snapshots: Chandy–Lamport processes, or a dataflow job with
    /// checkpoints (`crate::labs::snapshot`).
    Snapshot,
}

impl Lab {
    /// The names accepted in `lab = "..."`.
    pub const NAMES: &'static [&'static str] = &["raft", "kvraft", "shardkv1", "gfs", "snapshot"];

    fn parse(s: &str) -> Option<Lab> {
        match s {
            "raft" => Some(Lab::Raft),
            "kvraft" => Some(Lab::Kvraft),
            "shardkv1" => Some(Lab::Shardkv1),
            "gfs" => Some(Lab::Gfs),
            "snapshot" => Some(Lab::Snapshot),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Lab::Raft => "raft",
            Lab::Kvraft => "kvraft",
            Lab::Shardkv1 => "shardkv1",
            Lab::Gfs => "gfs",
            Lab::Snapshot => "snapshot",
        }
    }

    /// The RPC methods its servers answer (what `drop`/`delay` may name).
    pub fn methods(self) -> Vec<&'static str> {
        let raft = raft::rpc::raft::METHODS.iter().copied();
        match self {
            Lab::Raft => raft.collect(),
            Lab::Kvraft => raft
                .chain(kvraft::rpc::kv::METHODS.iter().copied())
                .collect(),
            Lab::Shardkv1 => crate::shardkv1::methods(),
            Lab::Gfs | Lab::Snapshot => crate::labs::methods(self),
        }
    }
}

/// A peer, or a set of peers, as a step or expectation names it; resolved
/// when the step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Peer number `i` (from 0).
    Peer(usize),
    /// The peer that believes it leads, in the highest term.
    Leader,
    /// The k-th live non-leader after the leader (`follower` is the 1st).
    Follower(usize),
    /// In `partition`: every peer not named in another group.
    Rest,
    /// The peers outside the largest group of the last partition.
    Minority,
    /// The largest group of the last partition (more than half).
    Majority,
    /// Every peer.
    All,
    /// A name bound by an earlier `bind` step.
    Name(String),
    /// A node the lab names itself (gfs: `master`, `cs2`, `primary`),
    /// resolved by its module in `crate::labs`.
    Lab(String),
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Peer(i) => write!(f, "{i}"),
            Role::Leader => f.write_str("leader"),
            Role::Follower(1) => f.write_str("follower"),
            Role::Follower(k) => write!(f, "follower {k}"),
            Role::Rest => f.write_str("rest"),
            Role::Minority => f.write_str("minority"),
            Role::Majority => f.write_str("majority"),
            Role::All => f.write_str("all"),
            Role::Name(n) | Role::Lab(n) => f.write_str(n),
        }
    }
}

/// Peers named by a field: roles, resolved together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peers {
    /// The roles, in the file's order.
    pub roles: Vec<Role>,
    /// Where the field is.
    pub place: Place,
}

impl fmt::Display for Peers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r: Vec<String> = self.roles.iter().map(|r| r.to_string()).collect();
        if r.len() == 1 {
            f.write_str(&r[0])
        } else {
            write!(f, "[{}]", r.join(", "))
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Split the peers into groups.
    Partition(Vec<Peers>),
    /// Every link up.
    Heal,
    /// Cut the one-way links from each of the first to each of the second.
    Cut(Peers, Peers),
    /// Restore those links.
    Restore(Peers, Peers),
    /// Crash the peers.
    Crash(Peers),
    /// Restart the peers from their persisted state.
    Restart(Peers),
    /// Cut the peers off from every other peer, both ways.
    Isolate(Peers),
    /// Undo an isolate.
    Reconnect(Peers),
    /// Give the one-way links from..to their own latency and loss.
    Slow {
        /// Senders.
        from: Peers,
        /// Receivers.
        to: Peers,
        /// One-way latency range.
        latency: (Duration, Duration),
        /// Loss probability.
        loss: f64,
    },
    /// Drop (or, with `by`, delay) messages of a method, optionally only
    /// from/to some peers.
    Hook {
        /// `service.method`.
        method: String,
        /// `None`: drop; `Some(d)`: delay by d.
        delay: Option<Duration>,
        /// Only messages sent by these.
        from: Option<Peers>,
        /// Only messages to these.
        to: Option<Peers>,
    },
    /// Remove the drop/delay rules of a method.
    Deliver(String),
    /// Reliable or unreliable network from now on.
    Reliable(bool),
    /// Raft: `start(command)` on the peers.
    Start {
        /// The command (a string).
        command: String,
        /// Where (default: the leader).
        on: Peers,
    },
    /// Bind names to peers as resolved now.
    Bind(Vec<(String, Peers)>),
    /// A step of a lab of its own in `crate::labs`.
    Lab(crate::labs::LabAction),
}

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Its number in the file (from 1).
    pub number: usize,
    /// When.
    pub at: Duration,
    /// What.
    pub action: Action,
    /// The action's field.
    pub place: Place,
}

/// What an expectation checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Some peer of the set leads (within the window).
    Leader(Peers),
    /// No peer of the set leads (throughout the window).
    NoLeader(Peers),
    /// No live peer's term is above N.
    TermAtMost(u64),
    /// Raft: the command is applied on every peer of the set.
    Committed(String, Peers),
    /// Raft: the command is applied on no peer of the set.
    NotCommitted(String, Peers),
    /// Raft: the applied log of the first is a prefix of the second's.
    LogPrefix(Peers, Peers),
    /// kvraft: the history is linearizable.
    Linearizable,
    /// kvraft: a Get of the key returns the value.
    KeyValue(String, String),
    /// The network carried at most N RPCs so far.
    RpcsAtMost(u64),
    /// Liveness: a new command (raft) or operation (kvraft) proposed now
    /// completes on every peer within the window.
    Progress,
    /// A check of a lab in `crate::labs` (gfs, snapshot).
    Lab(crate::labs::LabCheck),
}

/// One expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Its number in the file (from 1).
    pub number: usize,
    /// When (`None`: at the end).
    pub at: Option<Duration>,
    /// How long it may take to hold (positive checks) or must keep holding
    /// (negative checks).
    pub within: Option<Duration>,
    /// What.
    pub check: Check,
    /// The check's field.
    pub place: Place,
}

/// Which operations a client issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Append a unique value.
    Append,
    /// Put a unique value.
    Put,
    /// Get.
    Get,
    /// Append, Put or Get at random.
    Mixed,
}

/// One client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// Its number (from 0).
    pub id: usize,
    /// kvraft: the keys it uses, in turn.
    pub keys: Vec<String>,
    /// What it does.
    pub ops: OpKind,
    /// When each operation is due, in order.
    pub schedule: Vec<Duration>,
    /// kvraft: the servers it can reach (resolved when it starts), or all.
    pub servers: Option<Peers>,
    /// When it starts (its first operation, or `from`).
    pub start: Duration,
}

/// A checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it was read from.
    pub file: String,
    /// Its title.
    pub title: String,
    /// What it shows.
    pub description: String,
    /// The lab.
    pub lab: Lab,
    /// The default seed.
    pub seed: u64,
    /// Number of peers.
    pub peers: usize,
    /// Whether the network starts reliable.
    pub reliable: bool,
    /// One-way latency of every link, if set.
    pub latency: Option<(Duration, Duration)>,
    /// When the run ends (expectations without `at` are checked then).
    pub duration: Duration,
    /// The clients.
    pub clients: Vec<Client>,
    /// The timeline, in time order (file order at equal times).
    pub steps: Vec<Step>,
    /// The expectations, in file order.
    pub expects: Vec<Expect>,
    /// Requests are duplicated now and then (`cluster.duplication`).
    pub duplication: bool,
    /// Undeliverable calls fail after a long delay (`cluster.long_delays`).
    pub long_delays: bool,
    /// Replies are reordered by long delays (`cluster.long_reordering`).
    pub long_reordering: bool,
    /// A step whose peers do not resolve is skipped (noted in the
    /// timeline) instead of stopping the run: `skip_unresolved = true`, as
    /// generated scenarios (`lab fuzz`) say.
    pub skip_unresolved: bool,
    /// The safety monitors run (always, from a file; off only to measure
    /// what they cost).
    pub monitors: bool,
    /// lab = "shardkv1": its cluster, clients, steps and expectations (the
    /// fields above that are raft's and kvraft's stay empty).
    pub shardkv1: Option<Box<crate::shardkv1::Spec>>,
    /// gfs, snapshot: the lab's own part of the file (its cluster or job,
    /// its clients), read by `crate::labs`.
    pub lab_spec: Option<crate::labs::LabSpec>,
}

// ---------------------------------------------------------------- raw TOML

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: Option<String>,
    description: Option<String>,
    lab: Spanned<String>,
    seed: Option<Spanned<i64>>,
    duration: Option<Spanned<f64>>,
    skip_unresolved: Option<bool>,
    cluster: Spanned<RawCluster>,
    #[serde(default)]
    client: Vec<Spanned<RawClient>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    expect: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCluster {
    peers: Spanned<i64>,
    reliable: Option<bool>,
    latency_ms: Option<Spanned<Millis>>,
    duplication: Option<bool>,
    long_delays: Option<bool>,
    long_reordering: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    keys: Option<Spanned<Vec<String>>>,
    pub(crate) ops: Option<Spanned<String>>,
    rate: Option<Spanned<f64>>,
    from: Option<Spanned<f64>>,
    until: Option<Spanned<f64>>,
    burst: Option<Spanned<RawBurst>>,
    pub(crate) servers: Option<Spanned<RawPeers>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurst {
    at: Spanned<f64>,
    count: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Spanned<f64>,
    partition: Option<Spanned<Vec<RawPeers>>>,
    heal: Option<Spanned<bool>>,
    cut: Option<Spanned<Vec<RawPeers>>>,
    restore: Option<Spanned<Vec<RawPeers>>>,
    crash: Option<Spanned<RawPeers>>,
    restart: Option<Spanned<RawPeers>>,
    isolate: Option<Spanned<RawPeers>>,
    reconnect: Option<Spanned<RawPeers>>,
    slow: Option<Spanned<Vec<RawPeers>>>,
    drop: Option<Spanned<String>>,
    delay: Option<Spanned<String>>,
    deliver: Option<Spanned<String>>,
    reliable: Option<Spanned<bool>>,
    start: Option<Spanned<String>>,
    bind: Option<Spanned<BTreeMap<String, RawPeers>>>,
    // Modifiers.
    on: Option<Spanned<RawPeers>>,
    from: Option<Spanned<RawPeers>>,
    to: Option<Spanned<RawPeers>>,
    by_ms: Option<Spanned<f64>>,
    latency_ms: Option<Spanned<Millis>>,
    loss: Option<Spanned<f64>>,
    // Repetition: the step again every `every` seconds, `times` in all.
    every: Option<Spanned<f64>>,
    times: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    at: Option<Spanned<f64>>,
    within: Option<Spanned<f64>>,
    leader: Option<Spanned<RawPeers>>,
    no_leader: Option<Spanned<RawPeers>>,
    term_at_most: Option<Spanned<i64>>,
    committed: Option<Spanned<String>>,
    not_committed: Option<Spanned<String>>,
    log_prefix: Option<Spanned<Vec<RawPeers>>>,
    linearizable: Option<Spanned<bool>>,
    key: Option<Spanned<String>>,
    value: Option<Spanned<String>>,
    rpcs_at_most: Option<Spanned<i64>>,
    progress: Option<Spanned<bool>>,
    on: Option<Spanned<RawPeers>>,
}

/// A peer field as written: a number, a role, or a list of them.
#[derive(Debug, Clone)]
pub(crate) struct RawPeers(pub(crate) Vec<RawRole>);

#[derive(Debug, Clone)]
pub(crate) enum RawRole {
    Number(i64),
    Word(String),
}

impl<'de> Deserialize<'de> for RawPeers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPeers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a peer number, a role such as \"leader\", or a list of them")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawPeers, E> {
                Ok(RawPeers(vec![RawRole::Number(v)]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawPeers, E> {
                Ok(RawPeers(vec![RawRole::Number(
                    i64::try_from(v).unwrap_or(i64::MAX),
                )]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPeers, E> {
                Ok(RawPeers(vec![RawRole::Word(v.to_string())]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPeers, A::Error> {
                let mut out = Vec::new();
                while let Some(RawPeers(mut one)) = seq.next_element::<RawPeers>()? {
                    if one.len() != 1 {
                        return Err(de::Error::custom(
                            "a list of peers holds numbers and roles, not lists",
                        ));
                    }
                    out.push(one.remove(0));
                }
                Ok(RawPeers(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Milliseconds: `5` or a range `[1, 20]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis(f64, f64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("milliseconds: a number, or [low, high]")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                Ok(Millis(v as f64, v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(v as f64, v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                Ok(Millis(v, v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Millis, A::Error> {
                let lo: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a range needs [low, high]"))?;
                let hi: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("a range needs [low, high]"))?;
                if seq.next_element::<f64>()?.is_some() {
                    return Err(de::Error::custom("a range is [low, high]: two numbers"));
                }
                Ok(Millis(lo, hi))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------- validation

pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) source: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.source.len());
        self.source[..end].matches('\n').count() + 1
    }

    pub(crate) fn place(&self, span: &Range<usize>, field: impl Into<String>) -> Place {
        Place {
            line: self.line(span),
            field: field.into(),
        }
    }

    pub(crate) fn err(
        &self,
        span: &Range<usize>,
        field: &str,
        what: impl fmt::Display,
    ) -> SpecError {
        SpecError {
            message: format!("{}:{}: field `{field}`: {what}", self.file, self.line(span)),
        }
    }

    pub(crate) fn secs(&self, v: &Spanned<f64>, field: &str) -> Result<Duration, SpecError> {
        let s = *v.get_ref();
        if !s.is_finite() || s < 0.0 {
            return Err(self.err(
                &v.span(),
                field,
                format!("{s} is not a time: times are virtual seconds from the start, 0 or more"),
            ));
        }
        let d = Duration::from_secs_f64(s);
        if d > MAX_DURATION {
            return Err(self.err(
                &v.span(),
                field,
                format!(
                    "{s} s is past the longest scenario ({} s of virtual time)",
                    MAX_DURATION.as_secs()
                ),
            ));
        }
        Ok(d)
    }

    pub(crate) fn millis(
        &self,
        v: &Spanned<Millis>,
        field: &str,
    ) -> Result<(Duration, Duration), SpecError> {
        let Millis(lo, hi) = *v.get_ref();
        if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo <= hi && hi <= 60_000.0) {
            return Err(self.err(
                &v.span(),
                field,
                format!("[{lo}, {hi}] is not a latency: milliseconds, 0 ≤ low ≤ high ≤ 60000"),
            ));
        }
        Ok((
            Duration::from_secs_f64(lo / 1000.0),
            Duration::from_secs_f64(hi / 1000.0),
        ))
    }
}

/// What the static check knows while reading the timeline.
pub(crate) struct Known {
    pub(crate) peers: usize,
    pub(crate) names: BTreeSet<String>,
}

const ROLE_HELP: &str = "a peer number, leader, follower, follower N, minority, majority, all, \
                         rest (in a partition), or a name bound by an earlier `bind` step";

fn parse_role(
    ctx: &Ctx<'_>,
    known: &Known,
    raw: &RawRole,
    span: &Range<usize>,
    field: &str,
    rest_ok: bool,
) -> Result<Role, SpecError> {
    match raw {
        RawRole::Number(i) => {
            if *i < 0 || *i as u64 >= known.peers as u64 {
                return Err(ctx.err(
                    span,
                    field,
                    format!(
                        "peer {i} is out of range: the cluster has {} peers, numbered 0 to {}",
                        known.peers,
                        known.peers - 1
                    ),
                ));
            }
            Ok(Role::Peer(*i as usize))
        }
        RawRole::Word(w) => {
            let w = w.trim();
            let role = match w {
                "leader" | "the leader" => Role::Leader,
                "follower" | "a follower" => Role::Follower(1),
                "minority" | "the minority" => Role::Minority,
                "majority" | "the majority" => Role::Majority,
                "all" => Role::All,
                "rest" | "others" => Role::Rest,
                _ => {
                    if let Some(k) = w.strip_prefix("follower ") {
                        match k.trim().parse::<usize>() {
                            Ok(k) if k >= 1 && k < known.peers => Role::Follower(k),
                            _ => {
                                return Err(ctx.err(
                                    span,
                                    field,
                                    format!(
                                        "{w:?}: follower N counts from 1 to {}",
                                        known.peers.saturating_sub(1)
                                    ),
                                ));
                            }
                        }
                    } else if known.names.contains(w) {
                        Role::Name(w.to_string())
                    } else {
                        return Err(ctx.err(
                            span,
                            field,
                            format!("{w:?} is not a role: a peer is named by {ROLE_HELP}"),
                        ));
                    }
                }
            };
            if role == Role::Rest && !rest_ok {
                return Err(ctx.err(
                    span,
                    field,
                    "\"rest\" means the peers not in another group: it belongs in `partition`",
                ));
            }
            Ok(role)
        }
    }
}

fn parse_peers(
    ctx: &Ctx<'_>,
    known: &Known,
    raw: &Spanned<RawPeers>,
    field: &str,
) -> Result<Peers, SpecError> {
    parse_peers_at(ctx, known, raw.get_ref(), &raw.span(), field, false)
}

fn parse_peers_at(
    ctx: &Ctx<'_>,
    known: &Known,
    raw: &RawPeers,
    span: &Range<usize>,
    field: &str,
    rest_ok: bool,
) -> Result<Peers, SpecError> {
    if raw.0.is_empty() {
        return Err(ctx.err(span, field, "an empty list names no peer"));
    }
    let roles = raw
        .0
        .iter()
        .map(|r| parse_role(ctx, known, r, span, field, rest_ok))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Peers {
        roles,
        place: ctx.place(span, field),
    })
}

/// The RPC method `m` names, checked to be one of `lab`'s.
pub(crate) fn method(
    ctx: &Ctx<'_>,
    lab: Lab,
    m: &Spanned<String>,
    field: &str,
) -> Result<String, SpecError> {
    let name = m.get_ref().trim();
    if !lab.methods().contains(&name) {
        return Err(ctx.err(
            &m.span(),
            field,
            format!(
                "{name:?} is not an RPC method of {}: one of {}",
                lab.name(),
                lab.methods().join(", ")
            ),
        ));
    }
    Ok(name.to_string())
}

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, SpecError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| SpecError {
        message: format!("{file}: cannot read the scenario: {e}"),
    })?;
    parse(&file, &source)
}

/// Checks the scenario text `source`, read from `file` (for messages).
pub fn parse(file: &str, source: &str) -> Result<Scenario, SpecError> {
    let ctx = Ctx { file, source };
    if crate::shardkv1::is_its_file(source) {
        return crate::shardkv1::parse(&ctx);
    }
    if let Some(lab) = crate::labs::which(source) {
        return crate::labs::parse(&ctx, lab);
    }
    let raw: RawFile = from_toml(&ctx)?;
    check(&ctx, raw)
}

/// The file read with serde; a serde error names the line and the table.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(ctx: &Ctx<'_>) -> Result<T, SpecError> {
    let (file, source) = (ctx.file, ctx.source);
    toml::from_str(source).map_err(|e| {
        let line = e.span().map(|s| ctx.line(&s));
        let msg = e.message().trim().to_string();
        // serde names the field in its message ("unknown field `x`, expected
        // one of ..."); add the table it is in when it is not the top level.
        let table = e
            .span()
            .map(|s| enclosing_table(source, s.start))
            .unwrap_or_default();
        SpecError {
            message: match line {
                Some(l) if table.is_empty() => format!("{file}:{l}: {msg}"),
                Some(l) => format!("{file}:{l}: in {table}: {msg}"),
                None => format!("{file}: {msg}"),
            },
        }
    })
}

/// The run's length: `duration` if given (it may not end before `latest`,
/// the last step, client operation or expectation), else a second past
/// `latest`.
pub(crate) fn duration(
    ctx: &Ctx<'_>,
    given: &Option<Spanned<f64>>,
    latest: Duration,
) -> Result<Duration, SpecError> {
    let Some(d) = given else {
        return Ok(latest + Duration::from_secs(1));
    };
    let secs = ctx.secs(d, "duration")?;
    if secs < latest {
        return Err(ctx.err(
            &d.span(),
            "duration",
            format!(
                "the run ends at {}s but a step, client or expectation is at {}s",
                secs.as_secs_f64(),
                latest.as_secs_f64()
            ),
        ));
    }
    Ok(secs)
}

/// What a table holds exactly one of.
#[derive(Clone, Copy)]
pub(crate) enum OneOf {
    /// A step's action.
    Action,
    /// An expectation's check.
    Check,
}

/// The single field of `fields` that is set, or an error naming the table
/// or the second field: none is set (`help` lists them), or two are.
pub(crate) fn one_of(
    ctx: &Ctx<'_>,
    span: &Range<usize>,
    table: &str,
    fields: Vec<(&'static str, Option<Range<usize>>)>,
    help: &str,
    kind: OneOf,
) -> Result<(&'static str, Range<usize>), SpecError> {
    let mut set: Vec<(&str, Range<usize>)> = fields
        .into_iter()
        .filter_map(|(n, s)| s.map(|s| (n, s)))
        .collect();
    set.sort_by_key(|(_, s)| s.start);
    match set.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ctx.err(span, table, help)),
        [first, second, ..] => Err(ctx.err(
            &second.1,
            &format!("{table}.{}", second.0),
            match kind {
                OneOf::Action => format!(
                    "a step has one action, this one has `{}` and `{}`: write two steps at the \
                     same time (they run in file order)",
                    first.0, second.0
                ),
                OneOf::Check => format!(
                    "an expectation checks one thing, this one `{}` and `{}`: write two",
                    first.0, second.0
                ),
            },
        )),
    }
}

/// The `[table]` or `[[table]]` header above byte `at`, if any.
pub(crate) fn enclosing_table(source: &str, at: usize) -> String {
    let before = &source[..at.min(source.len())];
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.split('#').next().unwrap_or(l).trim().to_string())
        .unwrap_or_default()
}

fn check(ctx: &Ctx<'_>, raw: RawFile) -> Result<Scenario, SpecError> {
    let lab = Lab::parse(raw.lab.get_ref().trim()).ok_or_else(|| {
        ctx.err(
            &raw.lab.span(),
            "lab",
            format!(
                "no lab {:?}: scenarios run {} (shardkv and paxos are not supported yet)",
                raw.lab.get_ref(),
                Lab::NAMES.join(" or ")
            ),
        )
    })?;
    let seed = match &raw.seed {
        None => 1,
        Some(s) => u64::try_from(*s.get_ref())
            .map_err(|_| ctx.err(&s.span(), "seed", "a seed is a number, 0 or more"))?,
    };
    let cluster = raw.cluster.get_ref();
    let peers = *cluster.peers.get_ref();
    if peers < 1 || peers > MAX_PEERS as i64 {
        return Err(ctx.err(
            &cluster.peers.span(),
            "cluster.peers",
            format!("{peers} peers: a cluster has 1 to {MAX_PEERS}"),
        ));
    }
    let peers = peers as usize;
    let latency = cluster
        .latency_ms
        .as_ref()
        .map(|l| ctx.millis(l, "cluster.latency_ms"))
        .transpose()?;
    let mut known = Known {
        peers,
        names: BTreeSet::new(),
    };

    // The timeline, in time order; names bound in that order.
    let mut raw_steps: Vec<(usize, Duration, &Spanned<RawStep>)> = Vec::new();
    for (i, s) in raw.step.iter().enumerate() {
        let at = ctx.secs(&s.get_ref().at, &format!("step[{}].at", i + 1))?;
        raw_steps.push((i + 1, at, s));
    }
    raw_steps.sort_by_key(|(i, at, _)| (*at, *i));
    let mut steps = Vec::new();
    for (number, at, s) in raw_steps {
        let step = check_step(ctx, lab, &mut known, number, at, s)?;
        steps.extend(repeat(ctx, step, s.get_ref())?);
    }
    steps.sort_by_key(|s| (s.at, s.number));
    let last_step = steps.iter().map(|s| s.at).max().unwrap_or_default();

    let mut clients = Vec::new();
    for (i, c) in raw.client.iter().enumerate() {
        clients.push(check_client(ctx, lab, &known, i, c)?);
    }
    let ops: usize = clients.iter().map(|c| c.schedule.len()).sum();
    if ops > MAX_OPS {
        return Err(ctx.err(
            &raw.client[0].span(),
            "client",
            format!("the clients schedule {ops} operations; at most {MAX_OPS}"),
        ));
    }

    let mut expects = Vec::new();
    for (i, e) in raw.expect.iter().enumerate() {
        expects.push(check_expect(ctx, lab, &known, i + 1, e)?);
    }

    let latest = expects
        .iter()
        .filter_map(|e| e.at)
        .chain(clients.iter().filter_map(|c| c.schedule.last().copied()))
        .chain([last_step])
        .max()
        .unwrap_or_default();
    let duration = duration(ctx, &raw.duration, latest)?;
    Ok(Scenario {
        file: ctx.file.to_string(),
        title: raw.title.unwrap_or_else(|| ctx.file.to_string()),
        description: raw.description.unwrap_or_default().trim().to_string(),
        lab,
        seed,
        peers,
        reliable: cluster.reliable.unwrap_or(true),
        latency,
        duration,
        clients,
        steps,
        expects,
        duplication: cluster.duplication.unwrap_or(false),
        long_delays: cluster.long_delays.unwrap_or(false),
        long_reordering: cluster.long_reordering.unwrap_or(false),
        skip_unresolved: raw.skip_unresolved.unwrap_or(false),
        monitors: true,
        shardkv1: None,
        lab_spec: None,
    })
}

/// Most copies a `times` may make.
pub const MAX_REPEAT: i64 = 1000;

/// The step and its repetitions (`every = K`, `times = N`: at `at`,
/// `at + K`, ..., N in all), for flapping faults.
fn repeat(ctx: &Ctx<'_>, step: Step, r: &RawStep) -> Result<Vec<Step>, SpecError> {
    repeat_every(ctx, step, r.every.as_ref(), r.times.as_ref())
}

/// [`repeat`] on the fields themselves (the labs of `crate::labs` too).
pub(crate) fn repeat_every(
    ctx: &Ctx<'_>,
    step: Step,
    every: Option<&Spanned<f64>>,
    times: Option<&Spanned<i64>>,
) -> Result<Vec<Step>, SpecError> {
    let field = |n: &str| format!("step[{}].{n}", step.number);
    let (every, times) = match (every, times) {
        (None, None) => return Ok(vec![step]),
        (Some(e), Some(t)) => (e, t),
        (Some(e), None) => {
            return Err(ctx.err(&e.span(), &field("every"), "`every` needs `times`"));
        }
        (None, Some(t)) => {
            return Err(ctx.err(&t.span(), &field("times"), "`times` needs `every`"));
        }
    };
    let k = ctx.secs(every, &field("every"))?;
    let n = *times.get_ref();
    if !(1..=MAX_REPEAT).contains(&n) || k.is_zero() {
        return Err(ctx.err(
            &times.span(),
            &field("times"),
            format!(
                "repeat {n} times every {}s: 1 to {MAX_REPEAT} times, every more than 0 s",
                k.as_secs_f64()
            ),
        ));
    }
    let last = step.at + k * (n as u32 - 1);
    if last > MAX_DURATION {
        return Err(ctx.err(
            &times.span(),
            &field("times"),
            format!(
                "the last repetition is at {}s, after {}s",
                last.as_secs_f64(),
                MAX_DURATION.as_secs_f64()
            ),
        ));
    }
    Ok((0..n as u32)
        .map(|j| Step {
            at: step.at + k * j,
            ..step.clone()
        })
        .collect())
}

fn check_step(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &mut Known,
    number: usize,
    at: Duration,
    s: &Spanned<RawStep>,
) -> Result<Step, SpecError> {
    let r = s.get_ref();
    let f = |name: &str| format!("step[{number}].{name}");
    let (name, span) = one_of(
        ctx,
        &s.span(),
        &format!("step[{number}]"),
        vec![
            ("partition", r.partition.as_ref().map(|v| v.span())),
            ("heal", r.heal.as_ref().map(|v| v.span())),
            ("cut", r.cut.as_ref().map(|v| v.span())),
            ("restore", r.restore.as_ref().map(|v| v.span())),
            ("crash", r.crash.as_ref().map(|v| v.span())),
            ("restart", r.restart.as_ref().map(|v| v.span())),
            ("isolate", r.isolate.as_ref().map(|v| v.span())),
            ("reconnect", r.reconnect.as_ref().map(|v| v.span())),
            ("slow", r.slow.as_ref().map(|v| v.span())),
            ("drop", r.drop.as_ref().map(|v| v.span())),
            ("delay", r.delay.as_ref().map(|v| v.span())),
            ("deliver", r.deliver.as_ref().map(|v| v.span())),
            ("reliable", r.reliable.as_ref().map(|v| v.span())),
            ("start", r.start.as_ref().map(|v| v.span())),
            ("bind", r.bind.as_ref().map(|v| v.span())),
        ],
        "a step needs one action: partition, heal, cut, restore, crash, restart, \
                 isolate, reconnect, slow, drop, delay, deliver, reliable, start or bind",
        OneOf::Action,
    )?;
    let field = f(name);
    check_modifiers(ctx, r, name, number)?;
    let action = parse_action(ctx, lab, known, r, name, span.clone(), field.clone())?;
    Ok(Step {
        number,
        at,
        action,
        place: ctx.place(&span, field),
    })
}

/// The modifiers (`on`, `from`, `by_ms`, ...) allowed with action `name`, and no other.
fn check_modifiers(ctx: &Ctx<'_>, r: &RawStep, name: &str, number: usize) -> Result<(), SpecError> {
    let f = |name: &str| format!("step[{number}].{name}");
    // Modifiers allowed with this action.
    let allowed: &[&str] = match name {
        "slow" => &["latency_ms", "loss"],
        "drop" => &["from", "to"],
        "delay" => &["from", "to", "by_ms"],
        "start" => &["on"],
        _ => &[],
    };
    let modifiers: [(&str, Option<Range<usize>>); 6] = [
        ("on", r.on.as_ref().map(|v| v.span())),
        ("from", r.from.as_ref().map(|v| v.span())),
        ("to", r.to.as_ref().map(|v| v.span())),
        ("by_ms", r.by_ms.as_ref().map(|v| v.span())),
        ("latency_ms", r.latency_ms.as_ref().map(|v| v.span())),
        ("loss", r.loss.as_ref().map(|v| v.span())),
    ];
    for (m, sp) in modifiers {
        if let Some(sp) = sp
            && !allowed.contains(&m)
        {
            return Err(ctx.err(
                &sp,
                &f(m),
                format!(
                    "`{m}` does not go with `{name}`{}",
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!(" (it takes {})", allowed.join(", "))
                    }
                ),
            ));
        }
    }
    Ok(())
}

/// The action `name` of a step, checked (`field`: `step[N].NAME`).
fn parse_action(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &mut Known,
    r: &RawStep,
    name: &str,
    span: Range<usize>,
    field: String,
) -> Result<Action, SpecError> {
    let pair = |v: &Spanned<Vec<RawPeers>>| -> Result<(Peers, Peers), SpecError> {
        match v.get_ref().as_slice() {
            [a, b] => Ok((
                parse_peers_at(ctx, known, a, &v.span(), &field, false)?,
                parse_peers_at(ctx, known, b, &v.span(), &field, false)?,
            )),
            _ => Err(ctx.err(
                &v.span(),
                &field,
                "takes [from, to]: two peers (or lists of peers)",
            )),
        }
    };
    let action = match name {
        "partition" => {
            let v = r.partition.as_ref().expect("present");
            if v.get_ref().len() < 2 {
                return Err(ctx.err(
                    &span,
                    &field,
                    "a partition has two groups or more, e.g. [[\"leader\"], [\"rest\"]]",
                ));
            }
            let groups = v
                .get_ref()
                .iter()
                .map(|g| parse_peers_at(ctx, known, g, &span, &field, true))
                .collect::<Result<Vec<_>, _>>()?;
            let rests = groups
                .iter()
                .flat_map(|g| &g.roles)
                .filter(|r| **r == Role::Rest)
                .count();
            if rests > 1 {
                return Err(ctx.err(&span, &field, "\"rest\" may appear in one group only"));
            }
            Action::Partition(groups)
        }
        "heal" => {
            if !*r.heal.as_ref().expect("present").get_ref() {
                return Err(ctx.err(&span, &field, "write `heal = true`"));
            }
            Action::Heal
        }
        "cut" => {
            let (a, b) = pair(r.cut.as_ref().expect("present"))?;
            Action::Cut(a, b)
        }
        "restore" => {
            let (a, b) = pair(r.restore.as_ref().expect("present"))?;
            Action::Restore(a, b)
        }
        "crash" => Action::Crash(parse_peers(
            ctx,
            known,
            r.crash.as_ref().expect("p"),
            &field,
        )?),
        "restart" => Action::Restart(parse_peers(
            ctx,
            known,
            r.restart.as_ref().expect("p"),
            &field,
        )?),
        "isolate" => Action::Isolate(parse_peers(
            ctx,
            known,
            r.isolate.as_ref().expect("p"),
            &field,
        )?),
        "reconnect" => Action::Reconnect(parse_peers(
            ctx,
            known,
            r.reconnect.as_ref().expect("p"),
            &field,
        )?),
        "slow" => {
            let (from, to) = pair(r.slow.as_ref().expect("present"))?;
            slow_action(ctx, r, from, to, &field)?
        }
        "drop" | "delay" => hook_action(ctx, lab, known, r, name == "delay", &span, &field)?,
        "deliver" => Action::Deliver(method(
            ctx,
            lab,
            r.deliver.as_ref().expect("present"),
            &field,
        )?),
        "reliable" => Action::Reliable(*r.reliable.as_ref().expect("present").get_ref()),
        "start" => start_action(ctx, lab, known, r, &span, &field)?,
        "bind" => bind_action(ctx, known, r, &span, &field)?,
        _ => unreachable!("every action is listed"),
    };
    Ok(action)
}

/// `slow = [from, to]` with its `latency_ms` and `loss`.
fn slow_action(
    ctx: &Ctx<'_>,
    r: &RawStep,
    from: Peers,
    to: Peers,
    field: &str,
) -> Result<Action, SpecError> {
    let f = |n: &str| sibling(field, n);
    let latency = match &r.latency_ms {
        Some(l) => ctx.millis(l, &f("latency_ms"))?,
        None => (Duration::from_millis(100), Duration::from_millis(100)),
    };
    let loss = match &r.loss {
        Some(l) => {
            let p = *l.get_ref();
            if !(0.0..=1.0).contains(&p) {
                return Err(ctx.err(
                    &l.span(),
                    &f("loss"),
                    format!("{p} is not a probability (0 to 1)"),
                ));
            }
            p
        }
        None => 0.0,
    };
    Ok(Action::Slow {
        from,
        to,
        latency,
        loss,
    })
}

/// `drop = METHOD` or `delay = METHOD` (with `by_ms`), with `from`, `to`.
fn hook_action(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &mut Known,
    r: &RawStep,
    is_delay: bool,
    span: &Range<usize>,
    field: &str,
) -> Result<Action, SpecError> {
    let f = |n: &str| sibling(field, n);
    let m = if is_delay { &r.delay } else { &r.drop };
    let method = method(ctx, lab, m.as_ref().expect("present"), field)?;
    let delay = if is_delay {
        let by = r
            .by_ms
            .as_ref()
            .ok_or_else(|| ctx.err(span, field, "a delay needs `by_ms`, the added latency"))?;
        let ms = *by.get_ref();
        if !(ms.is_finite() && ms > 0.0 && ms <= 60_000.0) {
            return Err(ctx.err(
                &by.span(),
                &f("by_ms"),
                format!("{ms} ms: a delay is more than 0 and at most 60000 ms"),
            ));
        }
        Some(Duration::from_secs_f64(ms / 1000.0))
    } else {
        None
    };
    let from = r
        .from
        .as_ref()
        .map(|p| parse_peers(ctx, known, p, &f("from")))
        .transpose()?;
    let to =
        r.to.as_ref()
            .map(|p| parse_peers(ctx, known, p, &f("to")))
            .transpose()?;
    Ok(Action::Hook {
        method,
        delay,
        from,
        to,
    })
}

/// `start = COMMAND` (raft), with `on`.
fn start_action(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &mut Known,
    r: &RawStep,
    span: &Range<usize>,
    field: &str,
) -> Result<Action, SpecError> {
    let f = |n: &str| sibling(field, n);
    if lab != Lab::Raft {
        return Err(ctx.err(
            span,
            field,
            format!(
                "`start` proposes a raw command to Raft (lab = \"raft\"); {} is driven \
                     by its clients ([[client]])",
                lab.name()
            ),
        ));
    }
    let on = match &r.on {
        Some(p) => parse_peers(ctx, known, p, &f("on"))?,
        None => Peers {
            roles: vec![Role::Leader],
            place: ctx.place(span, field),
        },
    };
    Ok(Action::Start {
        command: r.start.as_ref().expect("present").get_ref().clone(),
        on,
    })
}

/// `bind = { NAME = PEERS, ... }`.
fn bind_action(
    ctx: &Ctx<'_>,
    known: &mut Known,
    r: &RawStep,
    span: &Range<usize>,
    field: &str,
) -> Result<Action, SpecError> {
    let b = r.bind.as_ref().expect("present");
    let mut out = Vec::new();
    for (n, p) in b.get_ref() {
        let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let reserved = ["leader", "follower", "minority", "majority", "all", "rest"];
        if !ok || reserved.contains(&n.as_str()) || n == "others" {
            return Err(ctx.err(
                span,
                field,
                format!(
                    "{n:?} cannot be a name: names are letters, digits and _, start \
                         with a letter, and are not roles"
                ),
            ));
        }
        out.push((
            n.clone(),
            parse_peers_at(ctx, known, p, span, field, false)?,
        ));
    }
    for (n, _) in &out {
        known.names.insert(n.clone());
    }
    Ok(Action::Bind(out))
}

/// `step[3].by_ms` for `step[3].delay` and `by_ms`.
pub(crate) fn sibling(field: &str, name: &str) -> String {
    let step = field.rsplit_once('.').map_or(field, |(s, _)| s);
    format!("{step}.{name}")
}

pub(crate) fn check_client(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &Known,
    i: usize,
    c: &Spanned<RawClient>,
) -> Result<Client, SpecError> {
    let r = c.get_ref();
    let f = |name: &str| format!("client[{}].{name}", i + 1);
    let keys = match (&r.keys, lab) {
        (Some(k), Lab::Raft) => {
            return Err(ctx.err(
                &k.span(),
                &f("keys"),
                "a Raft client proposes commands; keys are for kvraft",
            ));
        }
        (Some(k), _) if k.get_ref().is_empty() => {
            return Err(ctx.err(&k.span(), &f("keys"), "at least one key"));
        }
        (Some(k), _) => k.get_ref().clone(),
        (None, _) => vec!["x".to_string()],
    };
    let ops = match &r.ops {
        None => OpKind::Append,
        Some(o) => match (o.get_ref().as_str(), lab) {
            (_, Lab::Raft) => {
                return Err(ctx.err(
                    &o.span(),
                    &f("ops"),
                    "a Raft client only proposes commands; ops are for kvraft",
                ));
            }
            ("append", _) => OpKind::Append,
            ("put", _) => OpKind::Put,
            ("get", _) => OpKind::Get,
            ("mixed", _) => OpKind::Mixed,
            (other, _) => {
                return Err(ctx.err(
                    &o.span(),
                    &f("ops"),
                    format!("{other:?}: ops is append, put, get or mixed"),
                ));
            }
        },
    };
    let from_given = r
        .from
        .as_ref()
        .map(|v| ctx.secs(v, &f("from")))
        .transpose()?;
    let from = from_given.unwrap_or_default();
    let until = r
        .until
        .as_ref()
        .map(|v| ctx.secs(v, &f("until")))
        .transpose()?;
    let mut schedule = Vec::new();
    if let Some(rate) = &r.rate {
        let per_s = *rate.get_ref();
        if !(per_s.is_finite() && per_s > 0.0 && per_s <= 200.0) {
            return Err(ctx.err(
                &rate.span(),
                &f("rate"),
                format!(
                    "{per_s}: a rate is operations per virtual second, more than 0, at most 200"
                ),
            ));
        }
        let until = until.ok_or_else(|| {
            ctx.err(
                &rate.span(),
                &f("until"),
                "a steady client needs `until`, when it stops",
            )
        })?;
        let gap = Duration::from_secs_f64(1.0 / per_s);
        let mut t = from;
        while t < until && schedule.len() <= MAX_OPS {
            schedule.push(t);
            t += gap;
        }
    } else if let Some(u) = &r.until {
        return Err(ctx.err(&u.span(), &f("until"), "`until` goes with `rate`"));
    }
    if let Some(b) = &r.burst {
        let at = ctx.secs(&b.get_ref().at, &f("burst.at"))?;
        let n = *b.get_ref().count.get_ref();
        if n < 1 || n as usize > MAX_OPS {
            return Err(ctx.err(
                &b.get_ref().count.span(),
                &f("burst.count"),
                format!("{n}: a burst has 1 to {MAX_OPS} operations"),
            ));
        }
        schedule.extend(std::iter::repeat_n(at, n as usize));
        schedule.sort();
    }
    if schedule.is_empty() {
        return Err(ctx.err(
            &c.span(),
            &format!("client[{}]", i + 1),
            "a client without `rate` (with `from`, `until`) or `burst` does nothing",
        ));
    }
    let servers = match &r.servers {
        Some(s) if lab == Lab::Raft => {
            return Err(ctx.err(
                &s.span(),
                &f("servers"),
                "a Raft client proposes to whichever peer leads; servers are for kvraft",
            ));
        }
        Some(s) => Some(parse_peers(ctx, known, s, &f("servers"))?),
        None => None,
    };
    let start = from_given.map_or(schedule[0], |f| f.min(schedule[0]));
    Ok(Client {
        id: i,
        keys,
        ops,
        schedule,
        servers,
        start,
    })
}

fn check_expect(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &Known,
    number: usize,
    e: &Spanned<RawExpect>,
) -> Result<Expect, SpecError> {
    let r = e.get_ref();
    let f = |name: &str| format!("expect[{number}].{name}");
    let (name, span) = one_of(
        ctx,
        &e.span(),
        &format!("expect[{number}]"),
        vec![
            ("leader", r.leader.as_ref().map(|v| v.span())),
            ("no_leader", r.no_leader.as_ref().map(|v| v.span())),
            ("term_at_most", r.term_at_most.as_ref().map(|v| v.span())),
            ("committed", r.committed.as_ref().map(|v| v.span())),
            ("not_committed", r.not_committed.as_ref().map(|v| v.span())),
            ("log_prefix", r.log_prefix.as_ref().map(|v| v.span())),
            ("linearizable", r.linearizable.as_ref().map(|v| v.span())),
            ("key", r.key.as_ref().map(|v| v.span())),
            ("rpcs_at_most", r.rpcs_at_most.as_ref().map(|v| v.span())),
            ("progress", r.progress.as_ref().map(|v| v.span())),
        ],
        "an expectation needs one check: leader, no_leader, term_at_most, committed, \
                 not_committed, log_prefix, linearizable, key (with value), rpcs_at_most or progress",
        OneOf::Check,
    )?;
    let field = f(name);
    if let Some(o) = &r.on
        && !matches!(name, "committed" | "not_committed")
    {
        return Err(ctx.err(
            &o.span(),
            &f("on"),
            format!("`on` goes with committed and not_committed, not `{name}`"),
        ));
    }
    if let Some(v) = &r.value
        && name != "key"
    {
        return Err(ctx.err(&v.span(), &f("value"), "`value` goes with `key`"));
    }
    let check = expect_check(ctx, lab, known, r, name, &span, &field)?;
    let at = r.at.as_ref().map(|v| ctx.secs(v, &f("at"))).transpose()?;
    let within = r
        .within
        .as_ref()
        .map(|v| ctx.secs(v, &f("within")))
        .transpose()?;
    Ok(Expect {
        number,
        at,
        within,
        check,
        place: ctx.place(&span, field),
    })
}

/// The check an expectation's one field `name` (at `span`) asks for.
fn expect_check(
    ctx: &Ctx<'_>,
    lab: Lab,
    known: &Known,
    r: &RawExpect,
    name: &str,
    span: &Range<usize>,
    field: &str,
) -> Result<Check, SpecError> {
    // `field` is `expect[N].NAME`: its siblings are `expect[N].OTHER`.
    let f = |other: &str| {
        format!(
            "{}.{other}",
            field.rsplit_once('.').map_or(field, |(t, _)| t)
        )
    };
    let raft_only = |what: &str| -> Result<(), SpecError> {
        if lab == Lab::Raft {
            Ok(())
        } else {
            Err(ctx.err(
                span,
                field,
                format!(
                    "`{what}` looks at Raft's apply channel, which only lab = \"raft\" reads \
                     (in {} the servers read it)",
                    lab.name()
                ),
            ))
        }
    };
    let kv_only = |what: &str| -> Result<(), SpecError> {
        if lab == Lab::Raft {
            Err(ctx.err(
                span,
                field,
                format!("`{what}` looks at the clients' key/value history: not for lab = \"raft\""),
            ))
        } else {
            Ok(())
        }
    };
    let on = || -> Result<Peers, SpecError> {
        match &r.on {
            Some(p) => parse_peers(ctx, known, p, &f("on")),
            None => Ok(Peers {
                roles: vec![Role::All],
                place: ctx.place(span, field),
            }),
        }
    };
    let count = |v: &Spanned<i64>| -> Result<u64, SpecError> {
        u64::try_from(*v.get_ref()).map_err(|_| ctx.err(&v.span(), field, "a count is 0 or more"))
    };
    let check = match name {
        "leader" => Check::Leader(parse_peers(
            ctx,
            known,
            r.leader.as_ref().expect("p"),
            field,
        )?),
        "no_leader" => Check::NoLeader(parse_peers(
            ctx,
            known,
            r.no_leader.as_ref().expect("p"),
            field,
        )?),
        "term_at_most" => Check::TermAtMost(count(r.term_at_most.as_ref().expect("p"))?),
        "committed" => {
            raft_only("committed")?;
            Check::Committed(r.committed.as_ref().expect("p").get_ref().clone(), on()?)
        }
        "not_committed" => {
            raft_only("not_committed")?;
            Check::NotCommitted(
                r.not_committed.as_ref().expect("p").get_ref().clone(),
                on()?,
            )
        }
        "log_prefix" => {
            raft_only("log_prefix")?;
            let v = r.log_prefix.as_ref().expect("p");
            match v.get_ref().as_slice() {
                [a, b] => Check::LogPrefix(
                    parse_peers_at(ctx, known, a, span, field, false)?,
                    parse_peers_at(ctx, known, b, span, field, false)?,
                ),
                _ => {
                    return Err(ctx.err(
                        span,
                        field,
                        "takes [shorter, longer]: the first peer's applied log is a prefix of \
                         the second's",
                    ));
                }
            }
        }
        "linearizable" => {
            kv_only("linearizable")?;
            if !*r.linearizable.as_ref().expect("p").get_ref() {
                return Err(ctx.err(span, field, "write `linearizable = true`"));
            }
            Check::Linearizable
        }
        "key" => {
            kv_only("key")?;
            let v = r
                .value
                .as_ref()
                .ok_or_else(|| ctx.err(span, field, "`key` needs `value`, what a Get returns"))?;
            Check::KeyValue(
                r.key.as_ref().expect("p").get_ref().clone(),
                v.get_ref().clone(),
            )
        }
        "rpcs_at_most" => Check::RpcsAtMost(count(r.rpcs_at_most.as_ref().expect("p"))?),
        "progress" => {
            if !*r.progress.as_ref().expect("p").get_ref() {
                return Err(ctx.err(span, field, "write `progress = true`"));
            }
            Check::Progress
        }
        _ => unreachable!("every check is listed"),
    };
    Ok(check)
}
