//! The Raft grader (6.824's parts 3A-3D, and ours).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary, and every test's name ends
//! with its part (`cargo test -p raft PART` runs one part).
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p raft -- backup_3b --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::{
    Config, ELECTION_TIMEOUT, MAX_LOG_SIZE, Options, Retry, SNAPSHOT_INTERVAL, cmd, rand_cmd, uncmd,
};
use labrpc::time::{Instant, sleep};
use labrpc::trace::Leg;
use labrpc::{Filter, Verdict, network, node, run_test, task};
use raft::rpc::raft::method;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

mod harness;
include!("part_3a.rs");
include!("part_3b.rs");
include!("part_3c.rs");
include!("part_3d.rs");
