//! The applications of 6.824's `src/mrapps`, one per file.
//!
//! | app | map | reduce |
//! | --- | --- | --- |
//! | [`Wc`] | (word, "1") per word (maximal runs of letters) | number of values |
//! | [`Indexer`] | (word, filename) per distinct word | "N f1,f2,..." (sorted) |
//! | [`MTiming`] | ("times-W", start), ("parallel-W", concurrent maps) | values sorted, joined by spaces |
//! | [`RTiming`] | ("a".."j", "1") | number of concurrent reduces |
//! | [`JobCount`] | ("a", "x") after leaving a marker file and 2-5 s | number of marker files |
//! | [`EarlyExit`] | (filename, "1") | number of values, after 3 s for "sherlock"/"tom" keys |
//! | [`Crash`] | as `NoCrash`, but each call may crash or stall | as `NoCrash` |
//! | [`NoCrash`] | a=filename, b=len(filename), c=len(contents), d="xyzzy" | values sorted, joined by spaces |
//!
//! W is the worker's id (6.824: the process id). Every sleep, crash, clock
//! read and random draw goes through the [`crate::app::Ctx`], so the apps
//! are deterministic in the simulation and real in the runner.

mod crash;
mod early_exit;
mod indexer;
mod jobcount;
mod timing;
mod wc;

pub use crash::{Crash, NoCrash};
pub use early_exit::EarlyExit;
pub use indexer::Indexer;
pub use jobcount::JobCount;
pub use timing::{MTiming, RTiming};
pub use wc::{Wc, words};
