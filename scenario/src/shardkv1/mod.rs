//! `lab = "shardkv1"`: scenarios of the 2026 Lab 5 (shard controller on
//! the configuration server, shard groups on `rsm`, moves by Freeze,
//! Install and Delete), on the lab's public API only.
//!
//! The cluster: the configuration server (node `kvsrv`), shard groups
//! `g1`.. of three servers (`g1.0`, `g1.1`, `g1.2`), controllers
//! (`ctrler-0`, started at 0 with `init_config`; more with `new_ctrler`),
//! one node per client (`client-0`, ...) with its own controller instance
//! and clerk, and a `checker` node for the expectations. A controller runs
//! as a task on its node, so crashing the node stops it between any two
//! messages: `ctrler_crash_on` crashes it when the reply of a given
//! method reaches it (the request was carried out, the reply is lost),
//! e.g. after a FreezeShard was obeyed and before the Install.
//!
//! The clients' operations are recorded as a versioned-KV history
//! (`kv_call`/`kv_return` trace events, as `labtest::KvHistory` writes
//! them, so the page of `lab scenario --html` shows them) and checked with
//! the versioned KV model, as the shardkv1 grader does.

mod checks;
mod read;
mod spec;
mod steps;
mod world;

use std::collections::BTreeMap;
use std::time::Duration;

use labrpc::trace::{Event, EventKind};
use linearizability::{CheckOptions, VersionedKvModel};

pub(crate) use read::parse;
pub use spec::{Action, Check, Expect, Spec, Step, Target, Targets, describe, is_its_file};

use crate::run::{GET_TIMEOUT, LIN_TIMEOUT, Listed, Outcome, simulate};
use crate::spec::Scenario;

/// The RPC methods a shardkv1 scenario's `drop`, `delay` and `deliver`
/// may name: the groups' Raft and shard service, the configuration
/// server's.
pub fn methods() -> Vec<&'static str> {
    [
        raft::rpc::raft::METHODS,
        shardkv1::framework::rpc::shardgrp::METHODS,
        kvsrv::kv::METHODS,
    ]
    .concat()
}

/// Runs the shardkv1 scenario `s` once with `seed`.
pub fn run(s: &Scenario, seed: u64) -> Outcome {
    let spec = s
        .shardkv1
        .clone()
        .expect("a shardkv1 scenario has its spec");
    let limit = s.duration
        + spec
            .expects
            .iter()
            .filter_map(|e| e.within)
            .max()
            .unwrap_or_default()
        + GET_TIMEOUT
        + Duration::from_secs(30);
    let listed: Vec<Listed> = spec
        .expects
        .iter()
        .map(|e| (e.number, e.place.line, e.place.field.clone(), describe(e)))
        .collect();
    let s = std::rc::Rc::new(s.clone());
    let spec = std::rc::Rc::new(*spec);
    simulate(seed, limit, &listed, move |found| {
        world::body(s.clone(), spec.clone(), found)
    })
}

/// What happened, one line per event worth telling: steps, controllers'
/// changes, crashes and restarts (by node name), group leaders, client
/// operations, expectations.
pub fn timeline(events: &[Event]) -> Vec<String> {
    let mut names: BTreeMap<u32, String> = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        let name = |n: u32| names.get(&n).cloned().unwrap_or_else(|| format!("n{n}"));
        let line = match &e.kind {
            EventKind::NodeCreated { name: n, .. } => {
                names.insert(e.node.0, n.to_string());
                None
            }
            EventKind::Lab { topic, fields } => match topic.as_ref() {
                "scenario" => Some(format!("▶ {fields}")),
                "ctrler" => Some(format!("◆ {fields}")),
                "leader" => Some(format!(
                    "★ {} leads term {}",
                    name(e.node.0),
                    fields.int("term").unwrap_or(0)
                )),
                "client" => Some(format!("  {fields}")),
                "expect" => Some(format!("? {fields}")),
                _ => None,
            },
            EventKind::Crash => Some(format!("✖ {} crashed", name(e.node.0))),
            EventKind::Restart => Some(format!("↻ {} restarted", name(e.node.0))),
            EventKind::Failure { message } => Some(format!("!! {message}")),
            _ => None,
        };
        if let Some(l) = line {
            out.push(format!("{} {l}", crate::time(e.time)));
        }
    }
    out
}

/// Writes the history view of a shardkv1 run (versioned KV model; the
/// steps as annotations) to `path`.
pub fn write_history_html(o: &Outcome, path: &std::path::Path) -> std::io::Result<()> {
    let options = CheckOptions {
        timeout: Some(LIN_TIMEOUT),
        threads: Some(1),
        all: true,
        ..CheckOptions::default()
    };
    #[allow(clippy::disallowed_methods)] // the checker runs on wall time
    let result = linearizability::check_with(&VersionedKvModel, &o.versioned_history, &options);
    linearizability::write_html(
        path,
        &VersionedKvModel,
        &o.versioned_history,
        &result,
        &o.annotations,
    )
}
