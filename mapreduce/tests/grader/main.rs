//! The MapReduce grader: 6.824's `test-mr.sh` on the simulator (`mr`),
//! the coordinator's rules on its state machine (`coordinator`), crashes
//! and bad input (`failures`), and the real runner (`real`).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary.

mod coordinator;
mod failures;
mod harness;
mod mr;
mod real;
