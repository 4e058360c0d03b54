//! The snapshot grader: one test binary, every test at its root.
//!
//! | part | what | file |
//! | --- | --- | --- |
//! | `_sa` | Chandy–Lamport: conservation, a consistent cut and completion on every snapshot; concurrent snapshots; ring, complete and random topologies; lossy and slow networks | `part_sa.rs` |
//! | `_sb` | aligned checkpoints in a dataflow: every checkpoint a consistent cut (counts, open windows, the sink's output); completion under back-pressure, over slow channels and when a source skips a checkpoint; alignment buffers bounded | `part_sb.rs` |
//! | `_sc` | recovery, exactly once: crashes of tasks, during checkpoints, during recovery, of the coordinator, with and without a window stage; the output is a failure-free run's | `part_sc.rs` |
//! | `_sd` | the challenge: incremental snapshots of the word count, measured against full ones | `part_sd.rs` |
//!
//! `cargo test -p snapshot sa` runs one part; every test's name is exact at
//! the top level (`cargo test -p snapshot -- ring_sa --exact`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::trace::Leg;
use labrpc::{Filter, LinkConfig, Verdict, network, node, run_test};
use labtest::Stats;
use snapshot::{Job, JobConfig, ProcId, System, TaskId, Topology};

mod flow;
mod harness;

use flow::{check_checkpoints, check_output};
use harness::{SnapshotStats, check_snapshot, wait_all};

include!("part_sa.rs");
include!("part_sb.rs");
include!("part_sc.rs");
include!("part_sd.rs");
