//! `mapreduce`: runs a MapReduce job for real, with one coordinator and N
//! worker threads on the wall clock, or the sequential reference.
//!
//! ```text
//! cargo run --release -p mapreduce-cli -- wc mapreduce/data/pg-*.txt
//! mapreduce wc data/pg-*.txt                 # 2 workers, output in mr-tmp/mr-out-*
//! mapreduce wc -w 4 --dir out data/*.txt     # 4 workers, output in out/
//! mapreduce wc --sequential data/pg-*.txt    # the reference, in mr-tmp/mr-out-0
//! ```
//!
//! The command lives in a crate of its own (framework, like
//! `mapreduce/src/framework/`) so that the lab crate has no command-line
//! dependencies (clap, indicatif): the progress bar is drawn here, from
//! the statistics [`run_job_with_progress`] reports.
//!
//! Exit status: 0 on success, 1 on an error (printed on stderr), 2 on a
//! command-line error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use mapreduce::apps::{Crash, EarlyExit, Indexer, JobCount, MTiming, NoCrash, RTiming, Wc};
use mapreduce::job::JobStats;
use mapreduce::real::{RunConfig, prepare_dir, run_job_with_progress, run_sequential};
use mapreduce::{App, JobSpec, MrError};

/// `println!` that never panics: output to a closed pipe (`mapreduce ... |
/// head -1`) is dropped.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Run a MapReduce job over files: one coordinator and N worker threads.
#[derive(Parser, Debug)]
#[command(name = "mapreduce", version)]
struct Cli {
    /// The application.
    #[arg(value_enum)]
    app: AppName,

    /// Input files, one map task each.
    files: Vec<String>,

    /// Worker threads.
    #[arg(short, long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    workers: u16,

    /// Reduce tasks (output files).
    #[arg(short = 'r', long, default_value_t = mapreduce::job::DEFAULT_N_REDUCE)]
    n_reduce: usize,

    /// The job's directory: intermediate files and the mr-out-* outputs.
    #[arg(short, long, default_value = "mr-tmp")]
    dir: PathBuf,

    /// Seconds before an unfinished task is handed to another worker.
    #[arg(long, default_value = "10", value_parser = positive_secs)]
    task_timeout: Duration,

    /// Run the sequential reference instead (one thread, output mr-out-0).
    #[arg(long)]
    sequential: bool,

    /// Remove an earlier job's mr-* files from the directory first.
    #[arg(long)]
    clean: bool,

    /// No progress bar.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum AppName {
    Wc,
    Indexer,
    Mtiming,
    Rtiming,
    Jobcount,
    #[value(name = "early_exit")]
    EarlyExit,
    Crash,
    Nocrash,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.app {
        AppName::Wc => run::<Wc>(&cli),
        AppName::Indexer => run::<Indexer>(&cli),
        AppName::Mtiming => run::<MTiming>(&cli),
        AppName::Rtiming => run::<RTiming>(&cli),
        AppName::Jobcount => run::<JobCount>(&cli),
        AppName::EarlyExit => run::<EarlyExit>(&cli),
        AppName::Crash => run::<Crash>(&cli),
        AppName::Nocrash => run::<NoCrash>(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "mapreduce: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn positive_secs(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(Duration::from_secs_f64(x)),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

fn run<A: App + Default>(cli: &Cli) -> Result<(), MrError> {
    let spec = JobSpec::new(cli.files.clone())?
        .with_n_reduce(cli.n_reduce)?
        .with_task_timeout(cli.task_timeout);
    prepare_dir(&cli.dir, cli.clean)?;
    let megabytes = mapreduce::real::input_bytes(&spec) as f64 / 1e6;
    if cli.sequential {
        let r = run_sequential::<A>(&spec, &cli.dir)?;
        let secs = r.wall.as_secs_f64();
        say!(
            "mapreduce: {} over {} files ({megabytes:.2} MB), sequential reference",
            A::NAME,
            spec.n_map()
        );
        say!("  keys       {}", r.keys);
        say!(
            "  wall time  {secs:.3} s  ({:.1} MB/s)",
            megabytes / secs.max(1e-9)
        );
        say!("  output     {}", cli.dir.join("mr-out-0").display());
        return Ok(());
    }
    let config = RunConfig {
        workers: usize::from(cli.workers),
        dir: cli.dir.clone(),
    };
    let bar = progress_bar(&spec, !cli.quiet);
    let r = run_job_with_progress::<A>(&spec, &config, |s| show(&bar, s));
    bar.finish_and_clear();
    let r = r?;
    let s = &r.stats;
    let secs = r.wall.as_secs_f64();
    say!(
        "mapreduce: {} over {} files ({megabytes:.2} MB) with {} workers",
        A::NAME,
        s.n_map,
        r.workers
    );
    say!(
        "  tasks      {} ({} map + {} reduce), {} assignments, {} re-executions, {} worker crashes",
        s.n_map + s.n_reduce,
        s.n_map,
        s.n_reduce,
        s.assigned,
        s.reexecutions,
        r.crashes
    );
    say!(
        "  wall time  {secs:.3} s  ({:.1} MB/s)",
        megabytes / secs.max(1e-9)
    );
    say!("  output     {}", outputs(&cli.dir, s.n_reduce));
    Ok(())
}

/// A progress bar on stderr (hidden if `visible` is false or stderr is not
/// a terminal).
fn progress_bar(spec: &JobSpec, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new((spec.n_map() + spec.n_reduce()) as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} tasks  {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn show(bar: &ProgressBar, s: &JobStats) {
    bar.set_position((s.maps_done + s.reduces_done) as u64);
    bar.set_message(format!(
        "map {}/{}  reduce {}/{}  re-executions {}",
        s.maps_done, s.n_map, s.reduces_done, s.n_reduce, s.reexecutions
    ));
}

fn outputs(dir: &Path, n_reduce: usize) -> String {
    let first = dir.join(mapreduce::files::output_name(0));
    if n_reduce == 1 {
        first.display().to_string()
    } else {
        format!("{} .. mr-out-{}", first.display(), n_reduce - 1)
    }
}
