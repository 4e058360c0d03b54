//! `fuzz LAB [--first-seed S] [--seeds N] [--shrink DIR]`: swarm fault
//! testing, one scenario drawn per seed (see `scenario::fuzz`). `lab fuzz`
//! runs this binary in parallel and sums up; its output is line based:
//!
//! ```text
//! situations: NAME|NAME|...                 once, the coverage table's rows
//! seed S ok wall_ms=W cov=K:C,K:C           a passing seed (situation K reached C times)
//! seed S violation MONITOR wall_ms=W cov=.. a failing seed (or stuck, error), then
//!   | message lines
//! shrunk S FILE faults=F steps=T            the shrunk scenario of a failing seed
//! ```
//!
//! Exit codes: 0 every seed passed, 1 a seed failed, 2 bad arguments.

// Outside any simulation: the wall clock times runs, files are written.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use scenario::fuzz::{Plan, plan, shrink, verdict};
use scenario::monitor::{SITUATIONS, observable_in};
use scenario::{Lab, Outcome};

/// Swarm fault testing with safety monitors, a liveness phase and coverage.
#[derive(Parser, Debug)]
#[command(name = "fuzz", version, about)]
struct Args {
    /// The lab: raft or kvraft.
    lab: String,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    first_seed: u64,
    /// How many seeds.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Shrink each failing seed and write its scenario file into DIR.
    #[arg(long, value_name = "DIR")]
    shrink: Option<PathBuf>,
    /// Runs the shrinker may spend on one failing seed.
    #[arg(long, default_value_t = 60)]
    shrink_budget: usize,
    /// Turn the safety monitors off (to measure what they cost).
    #[arg(long)]
    no_monitors: bool,
    /// Print each seed's scenario file instead of running it.
    #[arg(long)]
    print: bool,
}

fn run_plan(p: &Plan, monitors: bool) -> Outcome {
    let mut s = p.scenario().expect("a generated scenario is valid");
    s.monitors = monitors;
    scenario::run(&s, p.seed)
}

/// The situations of the lab's coverage table (indices into SITUATIONS).
fn situations(lab: Lab) -> Vec<usize> {
    (0..SITUATIONS.len())
        .filter(|&k| observable_in(lab, k))
        .collect()
}

/// `row:count,...` for the situations reached (rows of the lab's table).
fn coverage(lab: Lab, o: &Outcome) -> String {
    let v: Vec<String> = situations(lab)
        .into_iter()
        .enumerate()
        .filter_map(|(row, k)| {
            let c = o.coverage.get(SITUATIONS[k]).copied().unwrap_or(0);
            (c > 0).then(|| format!("{row}:{c}"))
        })
        .collect();
    v.join(",")
}

fn why(o: &Outcome) -> String {
    if let Some(e) = &o.error {
        return e.clone();
    }
    o.results
        .iter()
        .find(|r| r.held != Some(true))
        .map(|r| {
            format!(
                "expectation `{}` failed at {:.3}s: {}",
                r.field,
                r.at.as_secs_f64(),
                r.why
            )
        })
        .unwrap_or_default()
}

fn write_shrunk(dir: &PathBuf, p: &Plan, o: &Outcome, failure: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}-{}.toml", p.lab.name(), p.seed));
    let title = format!(
        "lab fuzz {} seed {}, shrunk: {failure}",
        p.lab.name(),
        p.seed
    );
    let text: String = why(o).lines().map(|l| format!("{l}\n")).collect();
    let description = format!(
        "Found by `lab fuzz {} --first-seed {} --seeds 1`, shrunk to {} faults.\n\
         Replay: lab scenario {}\n\nWhat failed:\n{}",
        p.lab.name(),
        p.seed,
        p.faults.len(),
        path.display(),
        text.replace("\"\"\"", "'''").replace('\\', "/")
    );
    std::fs::write(&path, p.toml(&title, description.trim_end()))?;
    Ok(path)
}

fn one_seed(args: &Args, lab: Lab, seed: u64) -> bool {
    let p = plan(lab, seed);
    if args.print {
        print!("{}", p.toml("fuzz", "generated"));
        return true;
    }
    let t0 = Instant::now();
    let o = run_plan(&p, !args.no_monitors);
    let wall = t0.elapsed().as_secs_f64() * 1000.0;
    let (result, what) = verdict(&o);
    println!(
        "seed {seed} {result} {what} wall_ms={wall:.1} cov={}",
        coverage(lab, &o)
    );
    if result == "ok" {
        return true;
    }
    for l in why(&o).lines() {
        println!("  | {l}");
    }
    if let Some(dir) = &args.shrink {
        let small = shrink(
            &p,
            |q| verdict(&run_plan(q, true)) == (result, what.clone()),
            args.shrink_budget,
        );
        let o2 = run_plan(&small, true);
        match write_shrunk(dir, &small, &o2, &format!("{result} {what}")) {
            Ok(path) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let steps = text.matches("[[step]]").count();
                println!(
                    "shrunk {seed} {} faults={} steps={steps}",
                    path.display(),
                    small.faults.len()
                );
            }
            Err(e) => println!("  | cannot write the shrunk scenario: {e}"),
        }
    }
    false
}

fn main() -> ExitCode {
    let args = Args::parse();
    let lab = match args.lab.as_str() {
        "raft" => Lab::Raft,
        "kvraft" => Lab::Kvraft,
        other => {
            eprintln!("fuzz: no lab {other:?}: lab fuzz runs raft or kvraft");
            return ExitCode::from(2);
        }
    };
    std::panic::set_hook(Box::new(|_| {}));
    if !args.print {
        let names: Vec<&str> = situations(lab).into_iter().map(|k| SITUATIONS[k]).collect();
        println!("situations: {}", names.join("|"));
    }
    let mut ok = true;
    for k in 0..args.seeds {
        ok &= one_seed(&args, lab, args.first_seed.wrapping_add(k));
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
