//! `lab fuzz LAB`: swarm fault testing with safety monitors, a liveness
//! phase and coverage, on many seeds in parallel.
//!
//! Guarantees:
//! - Seed S draws the same run for everyone (the plan depends on the seed
//!   only): `lab fuzz raft --first-seed S --seeds 1` replays it.
//! - Seeds go to `--jobs` processes of the scenario package's `fuzz`
//!   binary, in chunks; a chunk's results never depend on its chunk.
//! - A failing seed is shrunk (faults dropped, intervals shortened, network
//!   knobs off, while it still fails the same way) and written as a
//!   scenario file `<out>/<lab>-<seed>.toml` that `lab scenario` replays to
//!   the same failure.
//! - The coverage table counts, per named situation, the seeds that
//!   reached it; `--until-covered` stops once every one was reached (or
//!   after `--seeds`).
//! - Exit code 1 if a seed failed (a violation, a stuck run, a crash), 0
//!   otherwise.

// Worker threads run fuzz processes; the wall clock times the whole.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::bail;
use anyhow::{Context as _, anyhow};

use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::workspace::Workspace;

/// Labs `lab fuzz` knows.
pub const LABS: &[&str] = &["raft", "kvraft"];

/// Arguments of `lab fuzz`.
#[derive(clap::Args, Debug)]
pub struct FuzzArgs {
    /// The lab: raft or kvraft.
    pub lab: String,
    /// Seeds to run (with --until-covered: at most this many).
    #[arg(long, short = 'n', default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 1, value_name = "SEED")]
    pub first_seed: u64,
    /// Parallel fuzz processes; default: the number of cores.
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Stop once every situation of the coverage table was reached.
    #[arg(long)]
    pub until_covered: bool,
    /// Where shrunk scenarios go (default: lab-runs/fuzz under the
    /// workspace root).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not shrink failing seeds.
    #[arg(long)]
    pub no_shrink: bool,
    /// Turn the safety monitors off (to measure what they cost).
    #[arg(long)]
    pub no_monitors: bool,
    /// The workspace's Cargo.toml (default: found from the current
    /// directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// One seed's result.
#[derive(Debug, Default, Clone)]
struct SeedResult {
    seed: u64,
    result: String,
    what: String,
    wall_ms: f64,
    coverage: Vec<(usize, u64)>,
    message: Vec<String>,
    shrunk: Option<String>,
}

/// What the workers found so far.
#[derive(Default)]
struct Tally {
    situations: Vec<String>,
    seeds: Vec<SeedResult>,
}

impl Tally {
    fn covered(&self) -> bool {
        !self.situations.is_empty()
            && (0..self.situations.len()).all(|k| {
                self.seeds
                    .iter()
                    .any(|s| s.coverage.iter().any(|c| c.0 == k))
            })
    }
}

/// Parses the fuzz binary's output (see its docs) into `tally`.
fn parse(output: &str, tally: &mut Tally) {
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("situations: ") {
            tally.situations = rest.split('|').map(str::to_string).collect();
        } else if let Some(rest) = line.strip_prefix("seed ") {
            tally.seeds.push(parse_seed(rest));
        } else if let Some(rest) = line.strip_prefix("  | ") {
            if let Some(s) = tally.seeds.last_mut() {
                s.message.push(rest.to_string());
            }
        } else if let Some(rest) = line.strip_prefix("shrunk ")
            && let Some(s) = tally.seeds.last_mut()
        {
            s.shrunk = Some(rest.split_once(' ').map_or(rest, |x| x.1).to_string());
        }
    }
}

fn parse_seed(rest: &str) -> SeedResult {
    let words: Vec<&str> = rest.split(' ').collect();
    let mut r = SeedResult {
        seed: words.first().and_then(|w| w.parse().ok()).unwrap_or(0),
        result: words.get(1).unwrap_or(&"?").to_string(),
        what: words.get(2).unwrap_or(&"").to_string(),
        ..SeedResult::default()
    };
    for w in &words {
        if let Some(v) = w.strip_prefix("wall_ms=") {
            r.wall_ms = v.parse().unwrap_or(0.0);
        } else if let Some(v) = w.strip_prefix("cov=") {
            r.coverage = v
                .split(',')
                .filter_map(|kc| kc.split_once(':'))
                .filter_map(|(k, c)| Some((k.parse().ok()?, c.parse().ok()?)))
                .collect();
        }
    }
    r
}

/// Runs `lab fuzz`; returns the exit code.
pub fn fuzz(args: FuzzArgs) -> Result<u8> {
    if !LABS.contains(&args.lab.as_str()) {
        bail!(
            "lab fuzz runs {}, not {:?} (kvsrv, paxos and shardkv are not fuzzed yet)",
            LABS.join(" and "),
            args.lab
        );
    }
    if args.first_seed.checked_add(args.seeds).is_none() {
        bail!("--first-seed + --seeds overflows a u64 seed");
    }
    let ws = Workspace::load(args.manifest_path.as_deref())?;
    let exe = crate::scenario::build_bin(&ws, "fuzz")?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| ws.root.join("lab-runs").join("fuzz"));
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u64));
    let start = Instant::now();
    let tally = run_all(&args, &exe, &out, jobs)?;
    let wall = start.elapsed().as_secs_f64();
    Ok(report(&args, &tally, wall))
}

/// The chunks of seeds, in order: (first, count).
fn chunks(first: u64, seeds: u64, jobs: u64) -> Vec<(u64, u64)> {
    let size = (seeds / (jobs * 4)).clamp(1, 200);
    let mut v = Vec::new();
    let mut s = 0;
    while s < seeds {
        let c = size.min(seeds - s);
        v.push((first + s, c));
        s += c;
    }
    v
}

fn run_all(args: &FuzzArgs, exe: &Path, out: &Path, jobs: u64) -> Result<Tally> {
    let queue = Arc::new(Mutex::new(chunks(args.first_seed, args.seeds, jobs)));
    queue.lock().expect("not poisoned").reverse();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let errors: Arc<Mutex<Vec<anyhow::Error>>> = Arc::default();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (queue, tally, errors) = (queue.clone(), tally.clone(), errors.clone());
            scope.spawn(move || {
                loop {
                    if args.until_covered && tally.lock().expect("not poisoned").covered() {
                        return;
                    }
                    let Some((first, count)) = queue.lock().expect("not poisoned").pop() else {
                        return;
                    };
                    match run_chunk(args, exe, out, first, count) {
                        Ok(text) => parse(&text, &mut tally.lock().expect("not poisoned")),
                        Err(e) => errors.lock().expect("not poisoned").push(e),
                    }
                }
            });
        }
    });
    if let Some(e) = std::mem::take(&mut *errors.lock().expect("not poisoned"))
        .into_iter()
        .next()
    {
        return Err(e);
    }
    let mut t = std::mem::take(&mut *tally.lock().expect("not poisoned"));
    t.seeds.sort_by_key(|s| s.seed);
    Ok(t)
}

fn run_chunk(args: &FuzzArgs, exe: &Path, out: &Path, first: u64, count: u64) -> Result<String> {
    let mut cmd = Command::new(exe);
    cmd.arg(&args.lab)
        .args([
            "--first-seed",
            &first.to_string(),
            "--seeds",
            &count.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if !args.no_shrink {
        cmd.arg("--shrink").arg(out);
    }
    if args.no_monitors {
        cmd.arg("--no-monitors");
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let mut text = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for {}", exe.display()))?;
    match status.code() {
        Some(0 | 1) => Ok(text),
        _ => Err(anyhow!(
            "{} --first-seed {first} --seeds {count} crashed ({status}); its output:\n{text}",
            exe.display()
        )),
    }
}

/// Prints the failures, the coverage table and the totals; the exit code.
fn report(args: &FuzzArgs, t: &Tally, wall: f64) -> u8 {
    let failed: Vec<&SeedResult> = t.seeds.iter().filter(|s| s.result != "ok").collect();
    for s in &failed {
        crate::say!("\nseed {}: {} {}", s.seed, s.result, s.what);
        for l in &s.message {
            crate::say!("  {l}");
        }
        crate::say!(
            "  reproduce: cargo run --release -p lab -- fuzz {} --first-seed {} --seeds 1",
            args.lab,
            s.seed
        );
        if let Some(f) = &s.shrunk {
            crate::say!("  shrunk: {f}");
            let file = f.split(' ').next().unwrap_or(f);
            crate::say!("  replay: cargo run --release -p lab -- scenario {file}");
        }
    }
    print_coverage(t);
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &t.seeds {
        *counts.entry(s.result.as_str()).or_default() += 1;
    }
    let cpu: f64 = t.seeds.iter().map(|s| s.wall_ms).sum::<f64>() / 1000.0;
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    crate::say!(
        "\n{}: {} seeds ({}), {:.1} s wall, {:.1} s in runs{}",
        args.lab,
        t.seeds.len(),
        summary.join(", "),
        wall,
        cpu,
        if args.until_covered {
            if t.covered() {
                "; every situation covered"
            } else {
                "; NOT every situation covered"
            }
        } else {
            ""
        }
    );
    if failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn print_coverage(t: &Tally) {
    let width = t
        .situations
        .iter()
        .map(|s| s.len())
        .max()
        .unwrap_or(9)
        .max(9);
    crate::say!("\n{:<width$}  {:>6}  {:>8}", "situation", "seeds", "times");
    for (k, name) in t.situations.iter().enumerate() {
        let hits: Vec<u64> = t
            .seeds
            .iter()
            .filter_map(|s| s.coverage.iter().find(|c| c.0 == k).map(|c| c.1))
            .collect();
        crate::say!(
            "{:<width$}  {:>6}  {:>8}{}",
            name,
            hits.len(),
            hits.iter().sum::<u64>(),
            if hits.is_empty() { "  (never)" } else { "" }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fuzz_output() {
        let mut t = Tally::default();
        parse(
            "situations: a|b\nseed 3 ok  wall_ms=2.5 cov=0:4\nseed 4 violation election wall_ms=1.0 cov=1:1\n  | two leaders\nshrunk 4 /x/raft-4.toml faults=1 steps=5\n",
            &mut t,
        );
        assert_eq!(t.situations, ["a", "b"]);
        assert_eq!(t.seeds.len(), 2);
        assert_eq!(t.seeds[0].coverage, [(0, 4)]);
        assert_eq!(t.seeds[1].what, "election");
        assert_eq!(t.seeds[1].message, ["two leaders"]);
        assert_eq!(
            t.seeds[1].shrunk.as_deref(),
            Some("/x/raft-4.toml faults=1 steps=5")
        );
        assert!(t.covered());
    }

    #[test]
    fn chunks_cover_every_seed_once() {
        let c = chunks(5, 1000, 2);
        assert_eq!(c.first(), Some(&(5, 125)));
        assert_eq!(c.iter().map(|x| x.1).sum::<u64>(), 1000);
    }
}
