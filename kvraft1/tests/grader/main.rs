//! The kvraft1 grader (6.5840 Lab 4B and 4C, 2025/26): every test of the
//! course's `kvraft_test.go` on the simulator, each history checked with
//! the versioned KV model. (The rsm tests of 4A and 4C are `rsm`'s.)
//!
//! | part | tests |
//! | --- | --- |
//! | 4B | basic, speed, concurrent, unreliable, one_partition, many_partitions_one_client, many_partitions_many_clients, persist_one_client, persist_concurrent, persist_concurrent_unreliable, persist_partition, persist_partition_unreliable, persist_partition_unreliable_linearizable; ours: put_cases |
//! | 4C | snapshot_rpc, snapshot_size, speed, snapshot_recover, snapshot_recover_many_clients, snapshot_unreliable, snapshot_unreliable_recover, snapshot_unreliable_recover_concurrent_partition, snapshot_unreliable_recover_concurrent_partition_linearizable |
//!
//! Every test is a function at the top level of this binary (the part
//! files are included, not modules), so that
//! `cargo test -p kvraft1 -- basic_4b --exact` names one test.

mod harness;

use std::rc::Rc;
use std::time::Duration;

use harness::{
    Config, ELECTION_TIMEOUT, Generic, Options, generic_test, generic_test_speed, net_name,
    put_at_least_once,
};
use labrpc::time::{Instant, sleep, timeout};
use labrpc::trace::Leg;
use labrpc::{Verdict, network, run_test, task};

include!("part_4b.rs");
include!("part_4c.rs");
