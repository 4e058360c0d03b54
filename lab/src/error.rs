//! Errors of the tool itself (not of the tests it runs), as `anyhow`
//! errors: a message for the user with its context ("cannot read x: No
//! such file"), printed by `main`, which exits with [`EXIT_USAGE`].
//!
//! Guarantee: every error the tool can meet becomes such an error with a
//! message that says what to do. Nothing in the tool panics on bad input.

/// Exit code when every selected test passed on every seed.
pub const EXIT_OK: u8 = 0;
/// Exit code when at least one run failed (`grade`), or the replayed run
/// failed (`replay`).
pub const EXIT_FAILED: u8 = 1;
/// Exit code when the tool could not do its job: bad arguments, unknown lab
/// or test, a build that failed, an unreadable file (clap's usage errors use
/// 2 as well).
pub const EXIT_USAGE: u8 = 2;

/// The tool's result type.
pub type Result<T> = anyhow::Result<T>;

/// `println!` that never panics: output to a closed pipe (`lab ... | head`)
/// is dropped instead of aborting the command.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
