//! The rsm grader (6.5840 Lab 4A, 2025/26, and the rsm test of 4C): every
//! test of the course's `rsm_test.go`, plus a few of ours, on the
//! simulator. The service is a counter (see `harness.rs`).
//!
//! | part | tests |
//! | --- | --- |
//! | 4A | basic, concurrent, leader_failure, leader_partition, restart_replay, shutdown, restart_submit; ours: own_reply_after_leader_change, shutdown_one |
//! | 4C | snapshot; ours: snapshot_exactly_once |
//!
//! Every test is a function at the top level of this binary (the part
//! files are included, not modules), so that
//! `cargo test -p rsm -- basic_4a --exact` names one test.

mod harness;

use std::rc::Rc;
use std::time::Duration;

use harness::{Config, NSEC, NSRV, Req};
use labrpc::time::{Instant, sleep, timeout};
use labrpc::{run_test, task};

include!("part_4a.rs");
include!("part_4c.rs");
