// Part C: recovery, exactly once. Nodes crash; the job restarts every task
// from the latest completed checkpoint. The output must be a failure-free
// run's: nothing lost, nothing emitted twice.

/// Runs a job while `faults` crashes nodes, then checks the output and
/// every checkpoint.
fn crash_sc<F, Fut>(header: &'static str, config: JobConfig, reliable: bool, faults: F)
where
    F: Fn(Rc<Job>) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    run_test(move || {
        let faults = faults.clone();
        let config = config.clone();
        async move {
            network().set_reliable(reliable);
            let job = Job::start(config);
            let stats = Stats::begin(format!("Test (C): {header}"), job.nodes().len());
            faults(job.clone()).await;
            let crashed = Instant::now();
            while job.restarts() == 0 && crashed.elapsed() < Duration::from_secs(1) {
                sleep(Duration::from_millis(1)).await;
            }
            assert!(job.restarts() > 0, "the job did not restart after a crash");
            check_output(&job, OUTPUT_LIMIT).await;
            let (cps, line) = check_checkpoints(&job, 1);
            stats.end(cps);
            println!("{line}");
        }
    });
}

/// A random task of the job.
fn any_task_sc(job: &Job) -> TaskId {
    let c = job.config();
    match labrpc::rand::gen_range(0..3 + usize::from(c.windows > 0)) {
        0 => TaskId::Source(labrpc::rand::gen_range(0..c.sources)),
        1 => TaskId::Operator(labrpc::rand::gen_range(0..c.operators)),
        3 => TaskId::Window(labrpc::rand::gen_range(0..c.windows)),
        _ => TaskId::Sink,
    }
}

/// Waits until the job restarted `n` times in all.
async fn restarted_sc(job: &Job, n: u64) {
    while job.restarts() < n {
        sleep(Duration::from_millis(1)).await;
    }
}

/// One operator crashes mid-run.
#[test]
fn crash_operator_sc() {
    crash_sc("an operator crashes", JobConfig::default(), true, |job| async move {
        sleep(Duration::from_millis(labrpc::rand::gen_range(100..250))).await;
        node::crash(job.node(TaskId::Operator(1)));
    });
}

/// The sink crashes, three times: between a checkpoint's barrier and its
/// completion its output must not be committed yet.
#[test]
fn crash_sink_sc() {
    crash_sc("the sink crashes three times", JobConfig::default(), true, |job| async move {
        for k in 1..=3 {
            sleep(Duration::from_millis(labrpc::rand::gen_range(60..140))).await;
            node::crash(job.node(TaskId::Sink));
            restarted_sc(&job, k).await;
        }
    });
}

/// Tasks crash a few ms after a checkpoint was triggered: during its
/// alignment, before it completes.
#[test]
fn crash_during_checkpoint_sc() {
    crash_sc("crashes during checkpoints", JobConfig::default(), true, |job| async move {
        let interval = job.config().interval;
        for k in 1..=3 {
            let done = job.checkpoints().len();
            while job.checkpoints().len() == done {
                sleep(Duration::from_millis(1)).await;
            }
            sleep(interval + Duration::from_millis(labrpc::rand::gen_range(1..8))).await;
            node::crash(job.node(any_task_sc(&job)));
            restarted_sc(&job, k).await;
        }
    });
}

/// The checkpoint coordinator crashes (the job restarts with it).
#[test]
fn crash_coordinator_sc() {
    crash_sc("the coordinator crashes", JobConfig::default(), true, |job| async move {
        for k in 1..=2 {
            sleep(Duration::from_millis(labrpc::rand::gen_range(80..200))).await;
            node::crash(job.coordinator_node());
            restarted_sc(&job, k).await;
        }
    });
}

/// A node crashes while the job is recovering from another crash (before
/// the new attempt completes a checkpoint).
#[test]
fn crash_during_recovery_sc() {
    crash_sc("a crash during recovery", JobConfig::default(), true, |job| async move {
        sleep(Duration::from_millis(labrpc::rand::gen_range(100..200))).await;
        node::crash(job.node(any_task_sc(&job)));
        restarted_sc(&job, 1).await;
        sleep(Duration::from_millis(labrpc::rand::gen_range(1..15))).await;
        node::crash(job.node(any_task_sc(&job)));
        restarted_sc(&job, 2).await;
    });
}

/// A crash before any checkpoint completed: the job starts over.
#[test]
fn crash_before_first_checkpoint_sc() {
    crash_sc("a crash before the first checkpoint", JobConfig::default(), true, |job| async move {
        sleep(Duration::from_millis(labrpc::rand::gen_range(5..30))).await;
        node::crash(job.node(any_task_sc(&job)));
    });
}

/// Random nodes crash every 60-150 ms, on a lossy network.
#[test]
fn repeated_crashes_unreliable_sc() {
    crash_sc(
        "repeated crashes, unreliable network",
        JobConfig::default(),
        false,
        |job| async move {
            for k in 1..=5 {
                sleep(Duration::from_millis(labrpc::rand::gen_range(60..150))).await;
                let n = if labrpc::rand::gen_bool(0.2) {
                    job.coordinator_node()
                } else {
                    job.node(any_task_sc(&job))
                };
                node::crash(n);
                restarted_sc(&job, k).await;
            }
        },
    );
}

/// Source 0's acknowledgements take 40-60 ms to reach the coordinator, so
/// a checkpoint completes well after the sink aligned its barriers; a node
/// crashes in that window, three times. Output the sink staged for the
/// checkpoint must not have been committed: the job restarts from the
/// checkpoint before, and produces it again.
#[test]
fn crash_before_completion_sc() {
    crash_sc(
        "crashes between the sink's barrier and the checkpoint's completion",
        JobConfig::default(),
        true,
        |job| async move {
            let slow = LinkConfig {
                loss: 0.0,
                latency: Duration::from_millis(40)..=Duration::from_millis(60),
            };
            let (source, coord) = (job.node(TaskId::Source(0)), job.coordinator_node());
            network().set_link(source, coord, Some(slow));
            for k in 1..=3 {
                let done = job.checkpoints().len();
                while job.checkpoints().len() == done {
                    sleep(Duration::from_millis(1)).await;
                }
                let wait = job.config().interval.as_millis() as u64 + labrpc::rand::gen_range(15..35);
                sleep(Duration::from_millis(wait)).await;
                node::crash(job.node(any_task_sc(&job)));
                restarted_sc(&job, k).await;
            }
        },
    );
}

/// The coordinator's messages to the sink take 40-60 ms, so the sink
/// learns late that a checkpoint completed; a node crashes just after a
/// completion, three times. The restarted sink must commit the output of
/// the checkpoint it restarts from, which it may never have committed.
#[test]
fn crash_after_completion_sc() {
    crash_sc(
        "crashes between a checkpoint's completion and the sink's commit",
        JobConfig::default(),
        true,
        |job| async move {
            let slow = LinkConfig {
                loss: 0.0,
                latency: Duration::from_millis(40)..=Duration::from_millis(60),
            };
            let (coord, sink) = (job.coordinator_node(), job.node(TaskId::Sink));
            network().set_link(coord, sink, Some(slow));
            for k in 1..=3 {
                let done = job.checkpoints().len();
                while job.checkpoints().len() == done {
                    sleep(Duration::from_millis(1)).await;
                }
                sleep(Duration::from_millis(labrpc::rand::gen_range(1..30))).await;
                node::crash(job.node(any_task_sc(&job)));
                restarted_sc(&job, k).await;
            }
        },
    );
}

/// A window instance crashes mid-run: every instance restarts with the
/// open windows it saved, and no window is output twice or lost.
#[test]
fn crash_window_sc() {
    crash_sc("a window instance crashes", windows_config(), true, |job| async move {
        sleep(Duration::from_millis(labrpc::rand::gen_range(100..250))).await;
        node::crash(job.node(TaskId::Window(labrpc::rand::gen_range(0..2))));
    });
}

/// With a window stage: random tasks crash a few ms after a checkpoint
/// starts (while its barriers cross the two stages), three times.
#[test]
fn windows_crash_during_checkpoint_sc() {
    crash_sc(
        "windowed sums, crashes during checkpoints",
        windows_config(),
        true,
        |job| async move {
            let interval = job.config().interval;
            for k in 1..=3 {
                let done = job.checkpoints().len();
                while job.checkpoints().len() == done {
                    sleep(Duration::from_millis(1)).await;
                }
                sleep(interval + Duration::from_millis(labrpc::rand::gen_range(1..8))).await;
                node::crash(job.node(any_task_sc(&job)));
                restarted_sc(&job, k).await;
            }
        },
    );
}

/// With a window stage: five crashes of random nodes on a lossy network.
#[test]
fn windows_repeated_crashes_sc() {
    crash_sc(
        "windowed sums, repeated crashes, unreliable network",
        windows_config(),
        false,
        |job| async move {
            for k in 1..=5 {
                sleep(Duration::from_millis(labrpc::rand::gen_range(60..150))).await;
                node::crash(job.node(any_task_sc(&job)));
                restarted_sc(&job, k).await;
            }
        },
    );
}
