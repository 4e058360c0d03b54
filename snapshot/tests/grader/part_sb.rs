// Part B: aligned checkpoints. No failures: every completed checkpoint must
// be a consistent cut of the dataflow (each operator's saved counts are
// exactly those of the records before the barriers, at the sources' saved
// offsets), checkpoints must complete under back-pressure and over slow
// channels, and the output must be a failure-free run's.

/// Virtual time a job may take to produce its whole output.
const OUTPUT_LIMIT: Duration = Duration::from_secs(20);

/// Runs a job with `config` (after `setup`), without failures, and checks
/// every checkpoint and the output.
fn job_sb(header: &'static str, config: JobConfig, reliable: bool, setup: fn(&Job), min_cps: usize) {
    run_test(move || {
        let config = config.clone();
        async move {
        network().set_reliable(reliable);
        let job = Job::start(config);
        setup(&job);
        let stats = Stats::begin(format!("Test (B): {header}"), job.nodes().len());
        check_output(&job, OUTPUT_LIMIT).await;
        let (cps, line) = check_checkpoints(&job, min_cps);
        stats.end(cps);
        println!("{line}");
        }
    });
}

/// Makes the channels from source 0 to every operator slow (20-60 ms).
fn slow_source_sb(job: &Job) {
    let config = LinkConfig {
        loss: 0.0,
        latency: Duration::from_millis(20)..=Duration::from_millis(60),
    };
    for p in 0..job.config().operators {
        network().set_link(
            job.node(TaskId::Source(0)),
            job.node(TaskId::Operator(p)),
            Some(config.clone()),
        );
    }
}

/// Two sources, three word-count instances, a checkpoint every 40 ms.
#[test]
fn checkpoints_sb() {
    job_sb(
        "aligned checkpoints, 2 sources, 3 operators",
        JobConfig::default(),
        true,
        |_| {},
        5,
    );
}

/// A slow sink: the channels fill up and the sources wait; checkpoints
/// still complete, and are still consistent.
#[test]
fn back_pressure_sb() {
    job_sb(
        "checkpoints under back-pressure (a slow sink)",
        JobConfig {
            sink_delay: Duration::from_millis(15),
            capacity: 4,
            ..JobConfig::default()
        },
        true,
        |_| {},
        5,
    );
}

/// One source's channels are slow: every operator aligns a fast input with
/// a slow one.
#[test]
fn slow_channels_sb() {
    job_sb(
        "checkpoints with one slow source (20-60 ms channels)",
        JobConfig::default(),
        true,
        slow_source_sb,
        5,
    );
}

/// Source 0's channels are very slow (100-200 ms), source 1's fast: each
/// alignment waits long for source 0's barrier while source 1's records
/// keep coming. They must wait on their channel (back-pressure on source
/// 1), not pile up in the operator: its alignment buffer stays within a
/// channel's capacity.
#[test]
fn alignment_buffer_sb() {
    job_sb(
        "bounded alignment buffers (source 0's channels 100-200 ms)",
        JobConfig {
            records_per_source: 200,
            ..JobConfig::default()
        },
        true,
        |job| {
            let config = LinkConfig {
                loss: 0.0,
                latency: Duration::from_millis(100)..=Duration::from_millis(200),
            };
            for p in 0..job.config().operators {
                network().set_link(
                    job.node(TaskId::Source(0)),
                    job.node(TaskId::Operator(p)),
                    Some(config.clone()),
                );
            }
        },
        3,
    );
}

/// A window stage after the word count: 3 word-count instances feed 2
/// windowed-sum instances (windows of 4 records per key), which feed the
/// sink. Barriers cross two aligning stages; every window instance's open
/// windows are in each checkpoint.
#[test]
fn windows_sb() {
    job_sb(
        "windowed sums after the word count (3 + 2 instances)",
        windows_config(),
        true,
        |_| {},
        5,
    );
}

/// The window stage with source 0's channels slow (20-60 ms): both stages
/// align a slow input with fast ones.
#[test]
fn windows_slow_channels_sb() {
    job_sb(
        "windowed sums, one slow source (20-60 ms channels)",
        windows_config(),
        true,
        slow_source_sb,
        5,
    );
}

/// A job with a window stage: 2 windowed-sum instances, windows of 4.
fn windows_config() -> JobConfig {
    JobConfig {
        windows: 2,
        window: 4,
        ..JobConfig::default()
    }
}

/// More instances, checkpoints close together, a lossy network.
#[test]
fn unreliable_network_sb() {
    job_sb(
        "4 sources, 4 operators, unreliable network",
        JobConfig {
            sources: 4,
            operators: 4,
            records_per_source: 150,
            interval: Duration::from_millis(25),
            ..JobConfig::default()
        },
        false,
        |_| {},
        3,
    );
}

/// The coordinator cannot reach source 0 for the first 3.2 s: the first
/// checkpoint (triggered at 0.2 s) is abandoned at 3.2 s, its barrier having
/// reached the operators from source 1 only; its trigger then gets through
/// to source 0 before the next checkpoint starts (3.4 s), so its alignment
/// completes late, and the next checkpoint's completion must commit its
/// output too.
#[test]
fn abandoned_checkpoint_sb() {
    run_test(|| async {
        let config = JobConfig {
            interval: Duration::from_millis(200),
            ..JobConfig::default()
        };
        let job = Job::start(config);
        let (coord, source) = (job.coordinator_node(), job.node(TaskId::Source(0)));
        network().cut(coord, source);
        let stats = Stats::begin(
            "Test (B): an abandoned checkpoint (source 0 unreachable for 3.2 s)",
            job.nodes().len(),
        );
        sleep(Duration::from_millis(3210)).await;
        network().restore(coord, source);
        check_output(&job, OUTPUT_LIMIT).await;
        let (cps, line) = check_checkpoints(&job, 3);
        let first = job.checkpoints()[0].info.id;
        assert!(
            first > 1,
            "checkpoint 1 completed although source 0 never got its trigger in time"
        );
        stats.end(cps);
        println!("{line}");
    });
}

/// The id of the latest completed checkpoint (0: none yet).
fn last_completed_sb(job: &Job) -> u64 {
    job.checkpoints().last().map_or(0, |cp| cp.info.id)
}

/// Waits until `done()`, at most `limit`; whether it became true.
async fn until_sb(limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        sleep(Duration::from_millis(1)).await;
    }
    true
}

/// Makes source 0 skip the next checkpoint k: its trigger is held until
/// the coordinator abandons k (3 s) and triggers k + 1, so source 0's next
/// barrier is k + 1's. With `hold_b`, source 1's channels are held as
/// well until source 0's barrier k + 1 has reached the operators: source
/// 1's barrier k then arrives after the alignment of k + 1 started.
/// Returns k, once a later checkpoint completed.
async fn skip_checkpoint_sb(job: &Job, hold_b: bool) -> u64 {
    let (a, b) = (job.node(TaskId::Source(0)), job.node(TaskId::Source(1)));
    let before = last_completed_sb(job);
    let done = until_sb(Duration::from_secs(2), || last_completed_sb(job) > before).await;
    assert!(done, "no checkpoint completed within 2 s (the last one: {before})");
    let k = last_completed_sb(job) + 1;
    let triggers = Rc::new(Cell::new(0));
    let count = triggers.clone();
    let hook = network().add_hook(move |m| {
        if m.method == "control.trigger" && m.to == a && m.leg == Leg::Request {
            count.set(count.get() + 1);
        }
        Verdict::Deliver
    });
    let trigger_k = network().hold_first(Filter::new().method("control.trigger").to(a), 1);
    let data = hold_b.then(|| network().hold(Filter::new().method("stream.deliver").from(b)));
    let sent = until_sb(Duration::from_secs(4), || triggers.get() >= 2).await;
    assert!(sent, "checkpoint {k} was not abandoned, or {} not triggered, within 4 s", k + 1);
    // Source 0's barrier k + 1 goes out with its next record (60 ms).
    sleep(Duration::from_millis(150)).await;
    network().remove_hook(hook);
    if let Some(data) = data {
        network().remove_hold(data);
    }
    network().remove_hold(trigger_k);
    let next = until_sb(Duration::from_secs(2), || last_completed_sb(job) > k).await;
    assert!(
        next,
        "no checkpoint completed within 2 s after source 0 skipped checkpoint {k} (its first barrier since is {}'s{}): a barrier of a later checkpoint abandons the alignment in progress, and one of an earlier checkpoint is ignored",
        k + 1,
        if hold_b {
            format!("; source 1's barrier {k} arrived after it")
        } else {
            format!(", which arrived while the operators aligned {k} with source 1's barrier")
        }
    );
    k
}

/// Source 0 skips two checkpoints (their triggers held until they are
/// abandoned): it sends no barrier for them, and its next one is the next
/// checkpoint's. First (checkpoint k) source 1's barrier k reaches the
/// operators before source 0's k + 1, which must abandon the alignment of
/// k, not complete it. Then (checkpoint j) source 1's channels are held
/// too until source 0's barrier j + 1 has reached the operators: source 1's
/// barrier j, arriving after, is stale; counted for j + 1, it would
/// complete j + 1 without source 1's records between its barriers j and
/// j + 1.
#[test]
fn skipped_barrier_sb() {
    run_test(|| async {
        let config = JobConfig {
            records_per_source: 100,
            source_gap: Duration::from_millis(60),
            interval: Duration::from_millis(100),
            ..JobConfig::default()
        };
        let job = Job::start(config);
        let stats = Stats::begin(
            "Test (B): source 0 skips two checkpoints (barriers of successive checkpoints)",
            job.nodes().len(),
        );
        skip_checkpoint_sb(&job, false).await;
        skip_checkpoint_sb(&job, true).await;
        check_output(&job, OUTPUT_LIMIT).await;
        let (cps, line) = check_checkpoints(&job, 3);
        stats.end(cps);
        println!("{line}");
    });
}
