//! Errors of the tool itself (not of the tests it runs): a message for the
//! user and the exit code that goes with it.
//!
//! Guarantee: every error the tool can meet becomes an [`Error`] with a
//! message that says what to do; `main` prints it and exits with its code.
//! Nothing in the tool panics on bad input.

use std::fmt;

/// Exit code when every selected test passed on every seed.
pub const EXIT_OK: u8 = 0;
/// Exit code when at least one run failed (`grade`), or the replayed run
/// failed (`replay`).
pub const EXIT_FAILED: u8 = 1;
/// Exit code when the tool could not do its job: bad arguments, unknown lab
/// or test, a build that failed, an unreadable file (clap's usage errors use
/// 2 as well).
pub const EXIT_USAGE: u8 = 2;

/// A message for the user and an exit code.
#[derive(Debug)]
pub struct Error {
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
    /// The process exit code.
    pub code: u8,
}

impl Error {
    /// A usage or environment error (exit code [`EXIT_USAGE`]).
    pub fn usage(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The tool's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds context to an I/O error: `read(path).map_err(io("cannot read x"))`.
pub fn io(context: impl fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::usage(format!("{context}: {e}"))
}

/// Returns early with a usage error built by `format!`.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::usage(format!($($arg)*)))
    };
}

/// `println!` that never panics: output to a closed pipe (`lab ... | head`)
/// is dropped instead of aborting the command.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
