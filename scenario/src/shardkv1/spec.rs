//! The shardkv1 scenario file: the same top level, `[[client]]`,
//! `[[step]]` and `[[expect]]` tables as the other labs, with this lab's
//! cluster (groups and the configuration server), its nodes' names, its
//! steps (join, leave, controllers that crash mid-move, new controllers)
//! and its checks. Every error names the file, the line and the field.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use shardkv1::Gid;
use shardkv1::framework::rpc::shardgrp;

use crate::spec::{Client, Place};

/// The most shard groups a scenario may have.
pub const MAX_GROUPS: u64 = 6;

/// The methods a controller crash can wait for (the moves and the
/// configuration server's calls).
pub const CRASH_METHODS: &[&str] = &[
    shardgrp::method::freeze_shard,
    shardgrp::method::install_shard,
    shardgrp::method::delete_shard,
    kvsrv::kv::method::get,
    kvsrv::kv::method::put,
];

/// A node, or a set of nodes, as a step names it; resolved when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The configuration server.
    Kvsrv,
    /// A controller: `None` the latest started, `Some(n)` the n-th (from 0).
    Ctrler(Option<usize>),
    /// Every server of a group.
    Group(Gid),
    /// Server `i` of a group.
    Server(Gid, usize),
    /// The server of a group that believes it leads (highest term).
    Leader(Gid),
    /// Every client.
    Clients,
    /// Client `n`.
    Client(usize),
    /// Every node of the lab.
    All,
    /// In `partition`: every node not named in another group.
    Rest,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Kvsrv => f.write_str("kvsrv"),
            Target::Ctrler(None) => f.write_str("ctrler"),
            Target::Ctrler(Some(n)) => write!(f, "ctrler {n}"),
            Target::Group(g) => write!(f, "g{g}"),
            Target::Server(g, i) => write!(f, "g{g}.{i}"),
            Target::Leader(g) => write!(f, "g{g}.leader"),
            Target::Clients => f.write_str("clients"),
            Target::Client(n) => write!(f, "client {n}"),
            Target::All => f.write_str("all"),
            Target::Rest => f.write_str("rest"),
        }
    }
}

/// Nodes named by a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// In the file's order.
    pub list: Vec<Target>,
    /// Where the field is.
    pub place: Place,
}

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<String> = self.list.iter().map(|t| t.to_string()).collect();
        if v.len() == 1 {
            f.write_str(&v[0])
        } else {
            write!(f, "[{}]", v.join(", "))
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A controller moves to the current configuration plus these groups.
    Join(Vec<Gid>, Option<usize>),
    /// A controller moves to the current configuration without them.
    Leave(Vec<Gid>, Option<usize>),
    /// A new controller starts (on a node of its own) and runs
    /// `init_controller`.
    NewCtrler,
    /// Arms a crash: the controller crashes when the `count`-th reply of
    /// `method` reaches it (the request was carried out; the reply is lost).
    CrashOn {
        /// `service.method`.
        method: String,
        /// Which reply (from 1).
        count: u64,
        /// Which controller (`None`: the latest started).
        by: Option<usize>,
    },
    /// Split the nodes into groups.
    Partition(Vec<Targets>),
    /// Every link up.
    Heal,
    /// Cut the one-way links from each of the first to each of the second.
    Cut(Targets, Targets),
    /// Restore them.
    Restore(Targets, Targets),
    /// Crash servers or controllers.
    Crash(Targets),
    /// Restart servers (from their persisters) or controllers (a fresh one
    /// on the same node, which runs `init_controller`).
    Restart(Targets),
    /// Cut nodes off from every other node, both ways.
    Isolate(Targets),
    /// Undo an isolate.
    Reconnect(Targets),
    /// Own latency and loss on the links from..to.
    Slow {
        /// Senders.
        from: Targets,
        /// Receivers.
        to: Targets,
        /// One-way latency range.
        latency: (Duration, Duration),
        /// Loss probability.
        loss: f64,
    },
    /// Drop (or, with `by`, delay) the messages of a method.
    Hook {
        /// `service.method`.
        method: String,
        /// `None`: drop; `Some(d)`: delay by d.
        delay: Option<Duration>,
        /// Only messages sent by these.
        from: Option<Targets>,
        /// Only messages to these.
        to: Option<Targets>,
    },
    /// Remove the drop/delay rules of a method.
    Deliver(String),
    /// Reliable or unreliable network from now on.
    Reliable(bool),
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
    /// The clients' history is linearizable (versioned KV model).
    Linearizable,
    /// Every key a client wrote is there, with the value of its last Put.
    KeysIntact,
    /// The current configuration's number.
    ConfigNum(u64),
    /// The current configuration's groups: exactly these, every shard on
    /// one of them, balanced.
    Members(Vec<Gid>),
    /// Shard `.0` is on group `.1` in the current configuration.
    Owner(usize, Gid),
    /// A fresh Get and Put complete.
    Progress,
    /// The network carried at most N RPCs so far.
    RpcsAtMost(u64),
    /// The controller (`None`: the latest started) is alive and idle:
    /// every change it was told has returned (it neither hangs nor is
    /// still at work).
    CtrlerDone(Option<usize>),
}

/// One expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Its number in the file (from 1).
    pub number: usize,
    /// When (`None`: at the end).
    pub at: Option<Duration>,
    /// How long it may take to hold.
    pub within: Option<Duration>,
    /// What.
    pub check: Check,
    /// The check's field.
    pub place: Place,
}

/// A checked shardkv1 scenario: what [`Scenario`]'s raft fields do not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Groups 1..=groups, three servers each.
    pub groups: u64,
    /// The groups of the first configuration.
    pub joined: Vec<Gid>,
    /// Servers' Raft state size that triggers a snapshot.
    pub maxraftstate: Option<usize>,
    /// The clients (keys, ops: put, get or mixed; a schedule).
    pub clients: Vec<Client>,
    /// The timeline, in time order (file order at equal times).
    pub steps: Vec<Step>,
    /// The expectations, in file order.
    pub expects: Vec<Expect>,
}

#[derive(Deserialize)]
struct LabOnly {
    lab: Option<String>,
}

/// Whether `source` says `lab = "shardkv1"` (else, or if it is not TOML,
/// the common reader takes it and says what is wrong).
pub fn is_its_file(source: &str) -> bool {
    toml::from_str::<LabOnly>(source).is_ok_and(|l| l.lab.is_some_and(|l| l.trim() == "shardkv1"))
}

/// An expectation in words.
pub fn describe(e: &Expect) -> String {
    let w = e
        .within
        .map_or(String::new(), |w| format!(" within {}s", w.as_secs_f64()));
    let what = match &e.check {
        Check::Linearizable => "the client history is linearizable (versioned KV)".to_string(),
        Check::KeysIntact => {
            "every key written is present, with the value of its last Put".to_string()
        }
        Check::ConfigNum(n) => format!("the current configuration is number {n}{w}"),
        Check::Members(g) => {
            let v: Vec<String> = g.iter().map(|g| g.to_string()).collect();
            format!(
                "the current configuration's groups are {{{}}}, balanced{w}",
                v.join(",")
            )
        }
        Check::Owner(s, g) => format!("shard {s} is on group {g}{w}"),
        Check::Progress => format!(
            "progress: a fresh Get and Put complete within {}s",
            e.within
                .unwrap_or(crate::run::PROGRESS_WITHIN)
                .as_secs_f64()
        ),
        Check::RpcsAtMost(n) => format!("at most {n} RPCs"),
        Check::CtrlerDone(n) => format!(
            "{} is up and every change it was told has returned{w}",
            Target::Ctrler(*n)
        ),
    };
    match e.at {
        Some(t) => format!("at {}: {what}", crate::run::secs(t)),
        None => format!("at the end: {what}"),
    }
}
