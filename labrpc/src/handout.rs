//! Stubs in student handouts.
//!
//! `lab handout` replaces every solution block of a lab with its
//! `// HANDOUT:` text; the stubs there call [`not_implemented!`], which
//! panics with a message naming the lab, the part and the file:
//!
//! ```text
//! not implemented yet: Raft 3A (leader election) — raft/src/election.rs
//! ```
//!
//! A test that reaches such a stub fails at once with that message first
//! (the harness recognises it and puts it before the seed and the
//! reproduce line), instead of waiting for a time limit.

/// What every stub's panic message starts with.
pub const NOT_IMPLEMENTED: &str = "not implemented yet: ";

/// Panics with "not implemented yet: PART — FILE", where FILE is the source
/// file of the call (as cargo names it, e.g. `raft/src/election.rs`).
///
/// The macro has the type `!`, so it stands in for any value:
///
/// ```should_panic
/// fn start(command: Vec<u8>) -> Option<(u64, u64)> {
///     let _ = command;
///     labrpc::not_implemented!("Raft 3B (log replication)")
/// }
/// start(vec![1]);
/// ```
#[macro_export]
macro_rules! not_implemented {
    ($part:expr) => {
        panic!(
            "{}{} \u{2014} {}",
            $crate::handout::NOT_IMPLEMENTED,
            $part,
            file!()
        )
    };
}
