//! The kvsrv grader (6.5840 Lab 2): every test of the course's kvsrv and
//! lock suites, plus a few of ours, on the simulator.
//!
//! | part | what | tests |
//! | --- | --- | --- |
//! | 2A | server and clerk, reliable network | `part_kv.rs`: reliable_put, put_concurrent_reliable, mem_put_many_clients_reliable |
//! | 2B | lock, reliable network | `part_lock.rs`: reliable_basic, reliable_nested, one_client_reliable, many_clients_reliable |
//! | 2C | clerk, unreliable network | `part_kv.rs`: unreliable_net, put_concurrent_unreliable (ours) |
//! | 2D | lock, unreliable network | `part_lock.rs`: one_client_unreliable, many_clients_unreliable, many_clients_unreliable_long (ours) |
//!
//! Every clerk operation is recorded with its virtual call and return times
//! and the history is checked with the versioned KV model. The memory test
//! measures the server's heap with a counting allocator ([`memory`]).
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p kvsrv -- reliable_put_2a --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::{
    ClientResult, Harness, TestClerk, check_put_concurrent, net_name, one_client_put, rand_value,
    spawn_clients_and_wait,
};
use kvsrv::{KvError, Lock, Version};
use labrpc::time::{sleep, timeout};
use labrpc::{run_test, run_test_with_limit, task};
use labtest::Stats;
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod harness;
mod memory;
include!("part_kv.rs");
include!("part_lock.rs");
