// Part D (the challenge): incremental snapshots of the word count. Each
// operator instance sends, at a checkpoint, only the keys whose counts
// changed since its previous state; the store applies the increment. Every
// checkpoint must still be a consistent cut (the full state the store
// rebuilds), the output exactly once under crashes, and no increment may
// hold a key that did not change. Each test prints the increments' size
// against full snapshots' of the same states.

/// Many distinct words, so that a state is much larger than what changes
/// between two checkpoints.
fn incremental_config_sd() -> JobConfig {
    JobConfig {
        words: 300,
        records_per_source: 400,
        incremental: true,
        ..JobConfig::default()
    }
}

/// Checks the increments (none held an unchanged key, together smaller
/// than full snapshots); a line of their size against full snapshots'.
fn check_increments_sd(job: &Job) -> String {
    let wrong = job.wrong_deltas();
    assert!(
        wrong.is_empty(),
        "an incremental snapshot sent keys that had not changed since the operator's previous state: {wrong:?}"
    );
    let cps = job.checkpoints();
    let sent: u64 = cps.iter().map(|c| c.info.bytes).sum();
    let full: u64 = cps.iter().map(|c| c.info.full_bytes).sum();
    assert!(
        sent < full,
        "incremental snapshots sent {sent} bytes over {} checkpoints, no less than full snapshots ({full} bytes)",
        cps.len()
    );
    let n = cps.len().max(1) as u64;
    format!(
        "  incremental: {} bytes per checkpoint, full snapshots {} bytes ({:.0}%)",
        sent / n,
        full / n,
        100.0 * sent as f64 / full.max(1) as f64
    )
}

/// Runs an incremental job, crashing a random task `crashes` times a few
/// ms after a checkpoint starts, and checks checkpoints, output and
/// increments.
fn job_sd(header: &'static str, crashes: u64) {
    run_test(move || async move {
        let job = Job::start(incremental_config_sd());
        let stats = Stats::begin(format!("Test (D): {header}"), job.nodes().len());
        for k in 1..=crashes {
            let done = job.checkpoints().len();
            while job.checkpoints().len() == done {
                sleep(Duration::from_millis(1)).await;
            }
            sleep(job.config().interval + Duration::from_millis(labrpc::rand::gen_range(1..8))).await;
            node::crash(job.node(any_task_sc(&job)));
            restarted_sc(&job, k).await;
        }
        check_output(&job, OUTPUT_LIMIT).await;
        let (cps, line) = check_checkpoints(&job, 3);
        let inc = check_increments_sd(&job);
        stats.end(cps);
        println!("{line}");
        println!("{inc}");
    });
}

/// Incremental snapshots, no failures.
#[test]
fn incremental_sd() {
    job_sd("incremental snapshots of the word count", 0);
}

/// Incremental snapshots, a random task crashing during checkpoints three
/// times: a restarted operator's next increment is against the state it
/// restarted from.
#[test]
fn incremental_crashes_sd() {
    job_sd("incremental snapshots, crashes during checkpoints", 3);
}
