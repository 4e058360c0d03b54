//! The real runner's benchmark: word count over a generated input (the
//! bundled texts repeated, written to a temporary directory and removed
//! afterwards), the sequential reference once, then the runner with 1, 2
//! and 4 workers, several runs each; prints the median figures and checks
//! every configuration's output against the reference.
//!
//! ```text
//! cargo bench -p mapreduce --bench wc_bench                  # 100 MB, 16 files, 5 runs
//! cargo bench -p mapreduce --bench wc_bench -- --mb 20 --runs 3 --workers 2
//! ```
//!
//! Figures depend on the machine and its load: the load average is
//! printed before and after, and next to the wall-clock figures the
//! process's CPU time (user + system, from `/proc/self/stat`), which a
//! loaded machine disturbs less: `MB/cpu-s` is input over CPU seconds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use mapreduce::JobSpec;
use mapreduce::apps::Wc;
use mapreduce::files::sorted_output;
use mapreduce::real::{RunConfig, prepare_dir, run_job, run_sequential};

/// Word count on the real runner vs the sequential reference.
#[derive(Parser, Debug)]
struct Args {
    /// Total input size, in MB (10^6 bytes).
    #[arg(long, default_value_t = 100)]
    mb: u64,
    /// Input files (map tasks).
    #[arg(long, default_value_t = 16)]
    files: usize,
    /// Runs per worker count (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Runs of the sequential reference (slow: one String pair per word).
    #[arg(long, default_value_t = 1)]
    seq_runs: usize,
    /// Worker counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    let args = Args::parse();
    let tmp = tempfile::Builder::new()
        .prefix("mr-wc-bench-")
        .tempdir()
        .expect("cannot create a temporary directory");
    let inputs = generate(tmp.path(), args.mb * 1_000_000, args.files.max(1));
    let spec = JobSpec::new(inputs).expect("the generated inputs are readable");
    let bytes = mapreduce::real::input_bytes(&spec);
    let mb = bytes as f64 / 1e6;
    println!(
        "wc_bench: {mb:.1} MB in {} files, {} reduce tasks; load average {}",
        spec.n_map(),
        spec.n_reduce(),
        load()
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "runner", "median s", "MB/s", "min s", "max s", "cpu s", "MB/cpu-s"
    );

    let seq_dir = tmp.path().join("seq");
    let mut walls = Vec::new();
    for _ in 0..args.seq_runs.max(1) {
        prepare_dir(&seq_dir, true).expect("job directory");
        let cpu = cpu_time();
        let r = run_sequential::<Wc>(&spec, &seq_dir).expect("the reference runs");
        walls.push((r.wall, cpu_time().saturating_sub(cpu)));
    }
    row("sequential", &mut walls, mb);
    let reference = sorted_output(&seq_dir).expect("reference output");

    for &workers in &args.workers {
        let dir = tmp.path().join(format!("w{workers}"));
        let mut walls = Vec::new();
        for run in 0..args.runs.max(1) {
            prepare_dir(&dir, true).expect("job directory");
            let config = RunConfig {
                workers,
                dir: dir.clone(),
            };
            let cpu = cpu_time();
            let r = run_job::<Wc>(&spec, &config).expect("the job runs");
            walls.push((r.wall, cpu_time().saturating_sub(cpu)));
            if run == 0 {
                let out = sorted_output(&dir).expect("job output");
                assert!(
                    out == reference,
                    "{workers} workers: output differs from the sequential reference"
                );
            }
        }
        row(&format!("{workers} workers"), &mut walls, mb);
    }
    println!(
        "outputs identical to the reference; load average {}",
        load()
    );
}

/// Writes `files` inputs of about `total / files` bytes each into `dir`:
/// the bundled texts concatenated, each file starting at a different text.
fn generate(dir: &Path, total: u64, files: usize) -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut texts: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("the bundled texts")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    texts.sort();
    let texts: Vec<Vec<u8>> = texts
        .iter()
        .map(|p| std::fs::read(p).expect("a bundled text"))
        .collect();
    let each = total / files as u64;
    (0..files)
        .map(|i| {
            let mut content = Vec::with_capacity(each as usize + (1 << 20));
            let mut t = i;
            while (content.len() as u64) < each {
                content.extend_from_slice(&texts[t % texts.len()]);
                t += 1;
            }
            content.truncate(each as usize);
            // Cut at a line end, so that no word or character is split.
            let end = content
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            content.truncate(end);
            let path = dir.join(format!("input-{i:02}.txt"));
            std::fs::write(&path, &content).expect("cannot write a generated input");
            path.display().to_string()
        })
        .collect()
}

/// Prints the medians of (wall, CPU) times of some runs.
fn row(name: &str, runs: &mut [(Duration, Duration)], mb: f64) {
    let mut cpus: Vec<Duration> = runs.iter().map(|r| r.1).collect();
    cpus.sort();
    runs.sort();
    let median = runs[runs.len() / 2].0.as_secs_f64();
    let cpu = cpus[cpus.len() / 2].as_secs_f64();
    println!(
        "{name:<12} {median:>10.3} {:>10.1} {:>10.3} {:>10.3} {cpu:>10.2} {:>10.1}",
        mb / median,
        runs[0].0.as_secs_f64(),
        runs[runs.len() - 1].0.as_secs_f64(),
        mb / cpu.max(1e-9)
    );
}

/// This process's CPU time so far (user + system), from `/proc/self/stat`
/// in clock ticks of 1/100 s; zero where there is no such file.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    // Fields 14 and 15 (utime, stime); the text after ") " starts at field 3.
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The 1, 5 and 15-minute load averages, from /proc/loadavg if there.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
