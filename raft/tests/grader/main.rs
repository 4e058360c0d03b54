//! The Raft grader (6.824's parts 3A-3D, and ours).
//!
//! One test binary for the whole lab, so that a change to the lab rebuilds
//! and links one binary; each part is a module, and every test's name ends
//! with its part (`cargo test -p raft PART` runs one part).

mod harness;
mod part_3a;
mod part_3b;
mod part_3c;
mod part_3d;
