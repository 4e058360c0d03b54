//! The shardkv grader: one test binary.
//!
//! - `part_5a.rs`: the shard controller, static sharding and rejection (5A).
//! - `part_5b.rs`: shard movement under joins, leaves, crashes and an
//!   unreliable network (5B).
//! - `challenges.rs`: shard deletion and serving during reconfiguration, the
//!   two challenges of 5B (`challenge1_*_5b`, `challenge2_*_5b`).
//!
//! `cargo test -p shardkv 5a` runs one part; `cargo test -p shardkv
//! challenge` the challenges.
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p shardkv -- static_shards_5a --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::{
    CheckedCtrler, Ctrlers, ELECTION_TIMEOUT, GIDS, Options, System, TestClerk, check_config,
    check_minimal, moved, randstring, sleep_ms,
};
use futures::StreamExt;
use futures::channel::mpsc;
use labrpc::time::{sleep, timeout};
use labrpc::{run_test, task};
use labtest::Stats;
use shardkv::{Config, Gid, NSHARDS, key2shard};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

include!("challenges.rs");
mod harness;
include!("part_5a.rs");
include!("part_5b.rs");
