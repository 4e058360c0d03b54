//! The errors of a MapReduce job: values that say what to fix, never panics.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a job, a worker or the sequential reference could not do its work.
#[derive(Debug)]
pub enum MrError {
    /// The job was given no input files.
    NoInputs,
    /// `n_reduce` was zero: there would be nowhere to put the map output.
    NoReduceTasks,
    /// An input file cannot be read (missing, a directory, no permission).
    UnreadableInput {
        /// The path as given.
        path: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// An input file is not UTF-8 text; apps take `&str` contents.
    InputNotText {
        /// The path as given.
        path: String,
    },
    /// A file operation in the job's directory failed.
    Io {
        /// What was being done, e.g. "create", "rename to".
        op: &'static str,
        /// The file involved.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// An intermediate file does not follow the documented line format.
    CorruptIntermediate {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The job's directory already holds files of an earlier job, whose
    /// `mr-out-*` files would mix with the new ones.
    DirtyDirectory {
        /// The directory.
        dir: PathBuf,
        /// One of the files in the way.
        file: String,
    },
    /// Every worker stopped (each with an error or a crash it could not
    /// recover from) before the job was done.
    Incomplete {
        /// What the workers reported.
        reason: String,
    },
}

impl MrError {
    /// An [`MrError::Io`] for `op` on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> MrError {
        MrError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl fmt::Display for MrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MrError::NoInputs => {
                f.write_str("no input files: a job needs at least one file (one map task per file)")
            }
            MrError::NoReduceTasks => f.write_str("n_reduce must be at least 1"),
            MrError::UnreadableInput { path, source } => {
                write!(f, "cannot read input file {path:?}: {source}")
            }
            MrError::InputNotText { path } => {
                write!(f, "input file {path:?} is not UTF-8 text")
            }
            MrError::Io { op, path, source } => {
                write!(f, "cannot {op} {}: {source}", path.display())
            }
            MrError::CorruptIntermediate { path, line } => write!(
                f,
                "intermediate file {} is corrupt at line {line} (expected `key<TAB>value`)",
                path.display()
            ),
            MrError::DirtyDirectory { dir, file } => write!(
                f,
                "directory {} already holds {file:?} from an earlier job; remove the mr-* \
                 files (or pass --clean) or choose another directory",
                dir.display()
            ),
            MrError::Incomplete { reason } => {
                write!(f, "the job did not finish: {reason}")
            }
        }
    }
}

impl std::error::Error for MrError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MrError::UnreadableInput { source, .. } | MrError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
