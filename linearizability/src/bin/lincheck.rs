//! `lincheck`: check a history file against a model.
//!
//! ```text
//! lincheck --model kv|versioned-kv|register|cas-register [--timeout SECS] [--all]
//!          [--no-partition] [--max-memory SIZE] [--html OUT] FILE
//! ```
//!
//! FILE is JSON lines, one operation a line (see `linearizability::format`).
//! Prints the verdict (and, for a violation, where the longest linearization
//! stops); with `--html`, writes the view. By default the check stops at
//! the first partition proven not linearizable; `--all` explains every
//! partition. `--no-partition` checks a KV history as one partition (the
//! whole store as the state) instead of key by key.
//!
//! Output goes to a pipe that may close early (`lincheck ... | head`): the
//! rest is dropped quietly and the exit code is still the verdict's.
//!
//! The search holds at most `--max-memory` (default 2 GiB): past it the
//! verdict is "unknown", with what to try, rather than the system killing
//! the process.
//!
//! Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (time or
//! memory limit reached),
//! 3 bad input: unreadable or malformed FILE (the message names the line),
//! bad arguments, or an HTML file that cannot be written.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bytesize::ByteSize;
use clap::{Parser, ValueEnum};
use linearizability::{
    CasRegisterModel, CheckOptions, JsonModel, KvModel, KvUnpartitionedModel, RegisterModel,
    Verdict, VersionedKvModel, check_with, read_history, write_html,
};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModelName {
    Kv,
    VersionedKv,
    Register,
    CasRegister,
}

/// Check a history for linearizability.
#[derive(Debug, Parser)]
#[command(
    name = "lincheck",
    version,
    after_help = "Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (time or memory \
                  limit reached), 3 bad input."
)]
struct Args {
    /// The sequential specification.
    #[arg(long, value_enum)]
    model: ModelName,
    /// Give up after this many seconds (fractions allowed); the verdict is
    /// then "unknown". Default: no limit.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    timeout: Option<Duration>,
    /// Explain every partition (search each to the end, within the
    /// timeout) instead of stopping at the first violation.
    #[arg(long)]
    all: bool,
    /// Check the history as one partition (KV: the whole store is the
    /// state) instead of splitting it by key.
    #[arg(long)]
    no_partition: bool,
    /// Give up (the verdict is then "unknown") when the search holds more
    /// memory than this: bytes, or with a unit (512MiB, 4GiB, 4GB).
    #[arg(long, value_name = "SIZE", default_value = "2GiB", value_parser = parse_size)]
    max_memory: ByteSize,
    /// Write the HTML view of the history to this file.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// The history: JSON lines, one operation a line.
    file: PathBuf,
}

fn parse_size(s: &str) -> Result<ByteSize, String> {
    let size: ByteSize = s
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 512MiB, 4GiB, 4GB)"))?;
    if size.as_u64() == 0 {
        return Err(format!("{s:?}: the memory limit must be more than 0"));
    }
    Ok(size)
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is not a valid timeout"))
}

const BAD_INPUT: u8 = 3;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { BAD_INPUT } else { 0 });
        }
    };
    match args.model {
        ModelName::Kv if args.no_partition => run(&KvUnpartitionedModel, &args),
        ModelName::Kv => run(&KvModel, &args),
        ModelName::VersionedKv => run(&VersionedKvModel, &args),
        // The register models have one partition already.
        ModelName::Register => run(&RegisterModel, &args),
        ModelName::CasRegister => run(&CasRegisterModel, &args),
    }
}

fn run<M: JsonModel>(model: &M, args: &Args) -> ExitCode {
    let file = match File::open(&args.file) {
        Ok(f) => f,
        Err(e) => return bad_input(&args.file, &format!("cannot open: {e}")),
    };
    let history = match read_history(model, BufReader::new(file)) {
        Ok(h) => h,
        Err(e) => return bad_input(&args.file, &e.to_string()),
    };
    let options = CheckOptions {
        timeout: args.timeout,
        all: args.all,
        max_memory: Some(usize::try_from(args.max_memory.as_u64()).unwrap_or(usize::MAX)),
        ..CheckOptions::default()
    };
    let result = check_with(model, &history, &options);
    let mut stdout = io::stdout().lock();
    // A closed pipe (`| head`) is not an error: the verdict is the exit code.
    let _ = stdout.write_all(result.explain(model, &history).as_bytes());
    if let Some(out) = &args.html {
        if let Err(e) = write_html(out, model, &history, &result, &[]) {
            return bad_input(out, &format!("cannot write the HTML view: {e}"));
        }
        let _ = writeln!(stdout, "view: {}", out.display());
    }
    let _ = stdout.flush();
    ExitCode::from(match result.verdict {
        Verdict::Linearizable => 0,
        Verdict::NotLinearizable => 1,
        Verdict::Unknown => 2,
    })
}

fn bad_input(path: &Path, message: &str) -> ExitCode {
    let _ = writeln!(io::stderr(), "lincheck: {}: {message}", path.display());
    ExitCode::from(BAD_INPUT)
}
