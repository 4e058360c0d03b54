//! The shardkv1 grader (6.5840 Lab 5, 2025/26): every test of the
//! course's `shardkv_test.go` on the simulator, each history checked with
//! the versioned KV model, and tests of ours for what the course's let
//! through.
//!
//! | part | tests |
//! | --- | --- |
//! | 5A | init_query, static_one_shard_group, join_basic, delete_basic, join_leave_basic, many_join_leave_reliable, many_join_leave_unreliable, shutdown, progress_shutdown, progress_join, one_concurrent_clerk_reliable, many_concurrent_clerk_reliable, one_concurrent_clerk_unreliable, many_concurrent_clerk_unreliable; ours: stale_freeze, stale_install, stale_delete, put_version, round_pause |
//! | 5B | join_leave, recover_ctrler; ours: publish_after_moves, delete_after_install |
//! | 5C | concurrent_reliable, concurrent_unreliable, partition_controller_join, partition_recovery_reliable_no_clerk, partition_recovery_unreliable_no_clerk, partition_recovery_reliable_clerks, partition_recovery_unreliable_clerks; ours: one_winner, one_winner_maybe, init_during_change |
//!
//! Every test is a function at the top level of this binary (the part
//! files are included, not modules), so that
//! `cargo test -p shardkv1 -- join_basic_5a --exact` names one test.

mod harness;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use harness::{
    Clients, NGRP, NKEYS, Options, System, VALUE_LEN, check_config, concur_ctrler, group_servers,
    net_name, partition_ctrler, spread_puts,
};
use labrpc::net::Filter;
use labrpc::time::{Instant, sleep, timeout};
use labrpc::trace::Leg;
use labrpc::{Verdict, network, run_test, task};
use shardkv1::{GID1, Gid, KvError, NSHARDS, ShardConfig, ShardError, key2shard};

include!("part_5a.rs");
include!("part_5b.rs");
include!("part_5c.rs");
