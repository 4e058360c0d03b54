//! The kvraft grader (6.824's parts 4A and 4B).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary; each part is a module, and every test's name ends
//! with its part (`cargo test -p kvraft PART` runs one part).

mod harness;
mod part_4a;
mod part_4b;
