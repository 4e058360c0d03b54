//! `scenario FILE [--seed S] [--seeds N] [--trace OUT] [--history OUT]`:
//! runs a scenario file and prints its timeline and expectations.
//! `lab scenario` builds and runs this binary (and draws the picture).
//!
//! Exit codes: 0 every expectation held (with `--seeds`: the report was
//! written), 1 an expectation failed or the run stopped, 2 a bad file or
//! bad arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Run a scenario file: a timeline of faults and expectations, on the
/// deterministic simulator.
#[derive(Parser, Debug)]
#[command(name = "scenario", version, about)]
struct Args {
    /// The scenario file (TOML; see docs/scenarios.md).
    file: PathBuf,
    /// The seed (default: the file's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Run this many seeds (from --seed) and report how often each
    /// expectation held.
    #[arg(long, value_name = "N")]
    seeds: Option<u64>,
    /// Write the run's trace (JSON lines) here.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// kvraft, shardkv1: write the clients' history view (HTML) here.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let s = match scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scenario: {e}");
            return ExitCode::from(2);
        }
    };
    // A simulation's failure comes back as an error in the outcome; its
    // panic message is printed there, once.
    std::panic::set_hook(Box::new(|_| {}));
    let seed = args.seed.unwrap_or(s.seed);
    if let Some(n) = args.seeds {
        if n == 0 {
            eprintln!("scenario: --seeds needs at least 1");
            return ExitCode::from(2);
        }
        let outcomes: Vec<_> = (0..n)
            .map(|k| scenario::run(&s, seed.wrapping_add(k)))
            .collect();
        print!("{}", scenario::seeds_report(&s, &outcomes));
        return ExitCode::SUCCESS;
    }
    let o = scenario::run(&s, seed);
    print!("{}", scenario::report(&s, &o, true));
    if let Some(path) = &args.trace {
        let written = std::fs::File::create(path).and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            labrpc::trace::write_json_lines(&o.events, &mut w)?;
            std::io::Write::flush(&mut w)
        });
        if let Err(e) = written {
            eprintln!(
                "scenario: cannot write the trace to {}: {e}",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.history {
        let written = match s.lab {
            scenario::Lab::Shardkv1 => Some(scenario::shardkv1::write_history_html(&o, path)),
            scenario::Lab::Kvraft => Some(scenario::run::write_history_html(&o, path)),
            scenario::Lab::Raft | scenario::Lab::Gfs | scenario::Lab::Snapshot => None,
        };
        if written.is_none() {
            eprintln!(
                "scenario: lab {} has no key/value history (no --history view)",
                s.lab.name()
            );
        } else if let Some(Err(e)) = written {
            eprintln!(
                "scenario: cannot write the history to {}: {e}",
                path.display()
            );
            return ExitCode::from(2);
        } else {
            println!("history: {}", path.display());
        }
    }
    if o.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
