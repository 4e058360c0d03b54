//! What every lab's grader shares.
//!
//! Graders (`<lab>/tests`) depend on this crate as a dev-dependency; lab
//! code (`<lab>/src`) never does.
//!
//! - [`Stats`]: one test's numbers, measured between [`Stats::begin`] and
//!   [`Stats::end`], printed as 6.824's "Passed" line and as the
//!   machine-readable `labstats` line that `lab grade` reads.
//! - [`StatsLine`]: that line's format, defined here once, with its parser.
//! - [`shards`]: counting shard moves (the fewest a rebalance can make).
//! - [`History`] ([`KvHistory`], [`VersionedKvHistory`]): a key/value
//!   history on virtual time, checked for linearizability, with the
//!   annotated HTML view on a violation.

mod history;
mod memory;
pub mod shards;
mod stats;

pub use history::{
    CHECK_MAX_MEMORY, CHECK_TIMEOUT, History, KvHistory, VersionedKvHistory, check_options,
    trace_call, trace_return, trace_violation,
};
pub use memory::{CountingAllocator, live_bytes};
pub use stats::{STATS_PREFIX, Stats, StatsLine};
