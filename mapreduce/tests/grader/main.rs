//! The MapReduce grader: 6.824's `test-mr.sh` on the simulator (`mr.rs`),
//! the coordinator's rules on its state machine (`coordinator.rs`), crashes
//! and bad input (`failures.rs`), and the real runner (`real.rs`).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary.
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p mapreduce -- crash --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::*;
use futures::future::select_all;
use labrpc::{task, time};
use mapreduce::apps::{Crash, EarlyExit, Indexer, JobCount, MTiming, NoCrash, RTiming, Wc, words};
use mapreduce::coordinator::{Assignment, Coordinator, TaskId};
use mapreduce::real::{RunConfig, prepare_dir, run_job};
use mapreduce::sim::COORDINATOR;
use mapreduce::{App, Ctx, JobSpec, KeyValue};
use std::cell::Cell;
use std::time::Duration;

include!("coordinator.rs");
include!("failures.rs");
mod harness;
include!("mr.rs");
include!("real.rs");
