//! `lincheck`: check a history file against a model.
//!
//! ```text
//! lincheck --model kv|versioned-kv|register|cas-register [--timeout SECS] [--html OUT] FILE
//! ```
//!
//! FILE is JSON lines, one operation a line (see `linearizability::format`).
//! Prints the verdict (and, for a violation, where the longest linearization
//! stops); with `--html`, writes the view.
//!
//! Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (timed out),
//! 3 bad input: unreadable or malformed FILE (the message names the line),
//! bad arguments, or an HTML file that cannot be written.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use linearizability::{
    CasRegisterModel, JsonModel, KvModel, RegisterModel, Verdict, VersionedKvModel, check,
    read_history, write_html,
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
    after_help = "Exit codes: 0 linearizable, 1 not linearizable, 2 unknown (timed out), 3 bad input."
)]
struct Args {
    /// The sequential specification.
    #[arg(long, value_enum)]
    model: ModelName,
    /// Give up after this many seconds (fractions allowed); the verdict is
    /// then "unknown". Default: no limit.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    timeout: Option<Duration>,
    /// Write the HTML view of the history to this file.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// The history: JSON lines, one operation a line.
    file: PathBuf,
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
        ModelName::Kv => run(&KvModel, &args),
        ModelName::VersionedKv => run(&VersionedKvModel, &args),
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
    let result = check(model, &history, args.timeout);
    print!("{}", result.explain(model, &history));
    if let Some(out) = &args.html {
        if let Err(e) = write_html(out, model, &history, &result, &[]) {
            return bad_input(out, &format!("cannot write the HTML view: {e}"));
        }
        println!("view: {}", out.display());
    }
    ExitCode::from(match result.verdict {
        Verdict::Linearizable => 0,
        Verdict::NotLinearizable => 1,
        Verdict::Unknown => 2,
    })
}

fn bad_input(path: &Path, message: &str) -> ExitCode {
    eprintln!("lincheck: {}: {message}", path.display());
    ExitCode::from(BAD_INPUT)
}
