//! The snapshot grader: one test binary, every test at its root.
//!
//! | part | what | file |
//! | --- | --- | --- |
//! | `_sa` | Chandy–Lamport: conservation, a consistent cut and completion on every snapshot; concurrent snapshots; ring, complete and random topologies; lossy and slow networks | `part_sa.rs` |
//!
//! `cargo test -p snapshot sa` runs one part; every test's name is exact at
//! the top level (`cargo test -p snapshot -- ring_sa --exact`).

use std::time::Duration;

use labrpc::time::{Instant, sleep};
use labrpc::{LinkConfig, network, run_test};
use labtest::Stats;
use snapshot::{ProcId, System, Topology};

mod harness;

use harness::{SnapshotStats, check_snapshot, wait_all};

include!("part_sa.rs");
