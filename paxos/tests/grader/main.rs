//! The paxos grader: one test binary.
//!
//! | part | what | file |
//! | --- | --- | --- |
//! | `_px` | Basic Paxos: 6.824's 2015 Paxos tests, dueling proposers, a restarted acceptor | `part_px.rs` |
//! | `_ln` | the three learner strategies: message counts, a crashed distinguished learner | `part_ln.rs` |
//! | `_mp` | Multi-Paxos: one round trip per value, a failed or deposed leader | `part_mp.rs` |
//! | `_kv` | kvpaxos: 6.824's 2015 kvpaxos tests, every history checked | `part_kv.rs` |
//!
//! `cargo test -p paxos px` runs one part. The memory tests measure the
//! peers' heap with a counting allocator ([`memory`]).
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p paxos -- basic_px --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::{MessageCounter, Px, val};
use crate::kv_harness::Kv;

use labrpc::time::{Instant, sleep};
use labrpc::trace::Leg;
use labrpc::{Verdict, network, rand, run_test, task};
use paxos::{Config, Fate, Learners};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod harness;
mod kv_harness;
mod memory;
include!("part_kv.rs");
include!("part_ln.rs");
include!("part_mp.rs");
include!("part_px.rs");
