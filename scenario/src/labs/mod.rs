//! The labs whose scenarios are not Raft clusters: [`gfs`] (a master,
//! chunkservers and clients) and [`snapshot`] (Chandy–Lamport processes,
//! or a dataflow job with checkpoints).
//!
//! Each lab reads its own part of the file (its `[cluster]` or `[job]`,
//! its clients, its checks) and names its own nodes (`master`, `cs2`,
//! `primary`; `p3`, `sink`, `coordinator`); what they share is here:
//! the steps that act on the network ([`net`]), the timeline driver and
//! the expectation loop ([`drive`]), and the run shell of `run.rs`.
//! `spec.rs` hands a file to [`parse`] when its `lab` is one of these,
//! `run.rs` hands the scenario to [`run`].

pub mod drive;
pub mod gfs;
pub mod net;
pub mod parse;
pub mod snapshot;

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::run::Outcome;
use crate::spec::{Ctx, Lab, Peers, Scenario, SpecError};

/// The lab's own part of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum LabSpec {
    /// GFS: the cluster, the files and the clients.
    Gfs(gfs::Spec),
    /// Snapshots: the processes, or the dataflow job.
    Snapshot(snapshot::Spec),
}

impl LabSpec {
    /// The cluster in a few words, for the report's header.
    pub fn summary(&self) -> String {
        match self {
            LabSpec::Gfs(g) => g.summary(),
            LabSpec::Snapshot(s) => s.summary(),
        }
    }

    /// The name of every node the run creates, in order (node `k + 1` of
    /// the trace is the `k`-th).
    pub fn node_names(&self) -> Vec<String> {
        match self {
            LabSpec::Gfs(g) => g.node_names(),
            LabSpec::Snapshot(s) => s.node_names(),
        }
    }
}

/// A check of one of these labs.
#[derive(Debug, Clone, PartialEq)]
pub enum LabCheck {
    /// A GFS check.
    Gfs(gfs::Check),
    /// A snapshot check.
    Snapshot(snapshot::Check),
}

impl fmt::Display for LabCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabCheck::Gfs(c) => c.fmt(f),
            LabCheck::Snapshot(c) => c.fmt(f),
        }
    }
}

/// A step only one of these labs has.
#[derive(Debug, Clone, PartialEq)]
pub enum LabAction {
    /// Snapshot, part A: these processes start a snapshot.
    StartSnapshot(Peers),
    /// Snapshot, parts B and C: crash these nodes in the middle of a
    /// checkpoint (once the next checkpoint has been triggered after `at`).
    CrashMidCheckpoint(Peers),
}

/// The RPC methods of the lab (what `drop`/`delay` may name).
pub(crate) fn methods(lab: Lab) -> Vec<&'static str> {
    match lab {
        Lab::Gfs => gfs::methods(),
        Lab::Snapshot => snapshot::methods(),
        Lab::Raft | Lab::Kvraft | Lab::Shardkv1 => Vec::new(),
    }
}

/// The lab of `source` if it is one of these (a file that is not TOML,
/// or names another lab, goes the usual way, with its usual errors).
pub(crate) fn which(source: &str) -> Option<Lab> {
    #[derive(Deserialize)]
    struct LabOnly {
        lab: Option<Spanned<String>>,
    }
    let lab = toml::from_str::<LabOnly>(source).ok()?.lab?;
    match lab.get_ref().trim() {
        "gfs" => Some(Lab::Gfs),
        "snapshot" => Some(Lab::Snapshot),
        _ => None,
    }
}

/// Reads a file of one of these labs.
pub(crate) fn parse(ctx: &Ctx<'_>, lab: Lab) -> Result<Scenario, SpecError> {
    match lab {
        Lab::Gfs => gfs::parse(ctx),
        _ => snapshot::parse(ctx),
    }
}

/// Runs a scenario of one of these labs once with `seed`.
pub fn run(s: &Scenario, seed: u64) -> Outcome {
    match &s.lab_spec {
        Some(LabSpec::Gfs(_)) => crate::run::shell(s, seed, gfs::SLACK, gfs::body),
        _ => crate::run::shell(s, seed, snapshot::SLACK, snapshot::body),
    }
}
