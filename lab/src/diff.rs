//! `lab diff A.jsonl B.jsonl`: where two traces part (two runs of one seed
//! that should agree: before and after a change, or on two machines).
//! Prints the first differing event of each with the events before it
//! and the node it happened on (`labrpc::diff`, as the determinism check
//! prints it). Exit code 0 if the traces agree, 1 if they differ.

use std::path::PathBuf;

use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::trace;

/// Arguments of `lab diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The first trace (JSON lines written with LAB_TRACE).
    pub a: PathBuf,
    /// The second trace.
    pub b: PathBuf,
}

/// Runs `lab diff`.
pub fn diff(args: DiffArgs) -> Result<u8> {
    let a = trace::read(&args.a)?;
    let b = trace::read(&args.b)?;
    match labrpc::diff::first_difference(&a, &b) {
        None => {
            crate::say!("the traces agree: {} events each", a.len());
            Ok(EXIT_OK)
        }
        Some(text) => {
            crate::say!(
                "run 1: {} ({} events)\nrun 2: {} ({} events)\n{}",
                args.a.display(),
                a.len(),
                args.b.display(),
                b.len(),
                text.trim_end()
            );
            Ok(EXIT_FAILED)
        }
    }
}
