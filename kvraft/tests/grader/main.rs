//! The kvraft grader (6.824's parts 4A and 4B).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary, and every test's name ends
//! with its part (`cargo test -p kvraft PART` runs one part).
//!
//! Each part is a file `include!`d at the crate root, not a module, so a
//! test's full name is its function name and
//! `cargo test -p kvraft -- basic_4a --exact` selects it. Part files
//! therefore import nothing themselves (the imports are here).

use crate::harness::{
    Config, ELECTION_TIMEOUT, Generic, Options, check_concurrent_appends, generic_test,
    generic_test_speed,
};
use labrpc::time::sleep;
use labrpc::{run_test, task};
use std::time::Duration;

mod harness;
include!("part_4a.rs");
include!("part_4b.rs");
