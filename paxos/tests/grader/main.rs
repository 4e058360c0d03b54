//! The paxos grader: one test binary.
//!
//! | part | what | module |
//! | --- | --- | --- |
//! | `_px` | Basic Paxos: 6.824's 2015 Paxos tests, dueling proposers, a restarted acceptor | `part_px` |
//! | `_ln` | the three learner strategies: message counts, a crashed distinguished learner | `part_ln` |
//! | `_mp` | Multi-Paxos: one round trip per value, a failed leader | `part_mp` |
//! | `_kv` | kvpaxos: 6.824's 2015 kvpaxos tests, every history checked | `part_kv` |
//!
//! `cargo test -p paxos px` runs one part. The memory tests measure the
//! peers' heap with a counting allocator ([`memory`]).

mod harness;
mod kv_harness;
mod memory;
mod part_kv;
mod part_ln;
mod part_mp;
mod part_px;
