//! The shardkv grader: one test binary.
//!
//! - `part_5a`: the shard controller, static sharding and rejection (5A).
//! - `part_5b`: shard movement under joins, leaves, crashes and an
//!   unreliable network (5B).
//! - `challenges`: shard deletion and serving during reconfiguration, the
//!   two challenges of 5B (`challenge1_*_5b`, `challenge2_*_5b`).
//!
//! `cargo test -p shardkv 5a` runs one part; `cargo test -p shardkv
//! challenge` the challenges.

mod challenges;
mod harness;
mod part_5a;
mod part_5b;
