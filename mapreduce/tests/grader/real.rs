//! The real runner: threads, wall clock, the same apps and files.

use std::time::Duration;

use crate::harness::*;
use mapreduce::apps::{Wc, words};
use mapreduce::real::{RunConfig, run_job};
use mapreduce::{App, Ctx, JobSpec, KeyValue};

fn config(workers: usize, dir: &std::path::Path) -> RunConfig {
    RunConfig {
        workers,
        dir: dir.to_path_buf(),
        progress: false,
    }
}

#[test]
fn wc_on_two_threads_matches_the_reference() {
    let dir = job_dir();
    let report = run_job::<Wc>(&spec(), &config(2, dir.path())).unwrap();
    assert_same_output("real wc", &output(dir.path()), &reference::<Wc>(&inputs()));
    assert_eq!(report.stats.maps_done, 7);
    assert_eq!(report.stats.reduces_done, 10);
    assert_eq!(report.crashes, 0);
    assert_eq!(report.input_bytes, 3_162_050);
}

/// Word count whose map crashes the worker on its first attempt at the
/// first input (a marker file remembers the crash across workers).
#[derive(Default)]
struct CrashOnce;

impl App for CrashOnce {
    const NAME: &'static str = "crash_once";

    async fn map(&self, ctx: &Ctx<'_>, filename: &str, contents: &str) -> Vec<KeyValue> {
        let marker = ctx.dir().join("crashed-once");
        if filename.ends_with("being_ernest.txt") && !marker.exists() {
            std::fs::write(&marker, "").unwrap();
            ctx.crash().await;
        }
        words(contents).map(|w| KeyValue::new(w, "1")).collect()
    }

    async fn reduce(&self, _ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        values.len().to_string()
    }
}

#[test]
fn a_crashed_worker_is_replaced_and_its_task_reissued() {
    let dir = job_dir();
    let input = inputs()[..2].to_vec();
    // A short timeout keeps the test quick; these two small maps take
    // milliseconds, so only the crashed one is re-executed.
    let spec = JobSpec::new(input.clone())
        .unwrap()
        .with_task_timeout(Duration::from_secs(1));
    let report = run_job::<CrashOnce>(&spec, &config(2, dir.path())).unwrap();
    assert_eq!(report.crashes, 1);
    assert_eq!(report.stats.reexecutions, 1);
    assert_same_output("real crash", &output(dir.path()), &reference::<Wc>(&input));
}
