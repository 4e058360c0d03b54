//! The simulator's tests, one binary (a binary per file would link labrpc
//! and instantiate its generics once per file): `labrpc_6824.rs`, 6.824's
//! labrpc tests; `network.rs`, partitions, cuts, links and hooks;
//! `nodes.rs`, crashes and restarts; `failures.rs`, how a failed run is
//! reported; `determinism.rs`, one seed, one trace; `distributions.rs`, the
//! network's numbers.
//!
//! Each file is `include!`d at the crate root, as the labs' graders are, so
//! a test's name is its function name (`cargo test -p labrpc -- killed
//! --exact`).

use common::{client, failure_of, junk, start_junk};
use labrpc::net::{
    DEFAULT_LATENCY, LONG_FAIL_DELAY, LONG_REORDER_MIN, LONG_REORDER_PROBABILITY,
    LONG_REORDER_SPREAD, SHORT_FAIL_DELAY, UNRELIABLE_DROP, UNRELIABLE_JITTER,
};
use labrpc::time::{Instant, sleep};
use labrpc::trace::Leg;
use labrpc::{
    Builder, Filter, LinkConfig, NodeId, RpcError, Verdict, network, node, run_test, task,
};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod common;
include!("determinism.rs");
include!("distributions.rs");
include!("failures.rs");
include!("labrpc_6824.rs");
include!("network.rs");
include!("nodes.rs");
