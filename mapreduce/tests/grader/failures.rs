// Beyond test-mr.sh: a worker crashing between writing its output and
// renaming it, and jobs that cannot start.

/// Word count whose worker crashes in its second `reduce` call: after the
/// first output line went to the temporary file, before the rename.
#[derive(Default)]
struct CrashInSecondReduce {
    reduces: Cell<u32>,
}

impl App for CrashInSecondReduce {
    const NAME: &'static str = "crash_in_second_reduce";

    async fn map(&self, _ctx: &Ctx<'_>, _filename: &str, contents: &str) -> Vec<KeyValue> {
        words(contents).map(|w| KeyValue::new(w, "1")).collect()
    }

    async fn reduce(&self, ctx: &Ctx<'_>, _key: &str, values: &[String]) -> String {
        self.reduces.set(self.reduces.get() + 1);
        if self.reduces.get() == 2 {
            ctx.crash().await;
        }
        values.len().to_string()
    }
}

#[test]
fn crash_before_rename_leaves_no_output() {
    let input = vec![inputs()[0].clone()];
    let want = reference::<Wc>(&input);
    labrpc::run_test(|| {
        let (input, want) = (input.clone(), want.clone());
        async move {
            let clock = WallClock::start();
            let dir = job_dir();
            // One reduce task, so the crashing worker writes mr-out-0.
            let spec = JobSpec::new(input).unwrap().with_n_reduce(1).unwrap();
            let coordinator = start_coordinator(spec);
            time::sleep(std::time::Duration::from_secs(1)).await;
            let (n, crasher) = start_worker::<CrashInSecondReduce>("crasher", dir.path());
            assert!(crasher.await.is_err(), "worker {n} was meant to crash");
            assert_eq!(
                files_with_prefix(dir.path(), "mr-out"),
                Vec::<std::path::PathBuf>::new(),
                "a crashed worker left a (partial) output file"
            );
            let tmp = files_with_prefix(dir.path(), "tmp-mr-out-0");
            assert_eq!(tmp.len(), 1, "the crash happened while writing mr-out-0");
            // A healthy worker gets the reduce task after the timeout and
            // completes the job.
            let healthy = start_worker::<Wc>("healthy", dir.path());
            let stats = coordinator.await.unwrap();
            exited(healthy).await;
            assert_eq!(stats.reexecutions, 1, "only the crashed reduce re-runs");
            assert_same_output("crash_before_rename", &output(dir.path()), &want);
            print_stats("crash_before_rename", 2, &stats, clock.elapsed());
        }
    });
}

#[test]
fn workers_exit_when_the_coordinator_is_gone() {
    labrpc::run_test(|| async {
        let dir = job_dir();
        let coordinator = labrpc::node::create("coordinator");
        let job = labrpc::task::spawn_on(coordinator, mapreduce::sim::coordinator(spec()));
        time::sleep(std::time::Duration::from_secs(1)).await;
        let ws: Vec<Worker> = (0..3)
            .map(|i| start_worker::<mapreduce::apps::JobCount>(&format!("worker-{i}"), dir.path()))
            .collect();
        // Mid-job: every worker is inside a 2-5 s map.
        time::sleep(std::time::Duration::from_secs(1)).await;
        labrpc::node::crash(coordinator);
        assert!(job.await.is_err());
        let crashed_at = labrpc::time::Instant::now();
        for w in ws {
            exited(w).await;
        }
        assert!(
            crashed_at.elapsed() < std::time::Duration::from_secs(6),
            "workers took {:?} to notice the coordinator was gone",
            crashed_at.elapsed()
        );
    });
}

#[test]
fn runner_refuses_a_directory_with_an_earlier_job() {
    // As `mapreduce wc --dir D` and then `--clean` do.
    let dir = job_dir();
    std::fs::write(dir.path().join("mr-out-3"), "old 1\n").unwrap();
    let input = inputs()[0].clone();
    let err = prepare_dir(dir.path(), false).unwrap_err();
    assert!(
        err.to_string().contains("already holds \"mr-out-3\""),
        "{err}"
    );
    prepare_dir(dir.path(), true).unwrap();
    let config = RunConfig {
        workers: 2,
        dir: dir.path().to_path_buf(),
    };
    run_job::<Wc>(&JobSpec::new(vec![input.clone()]).unwrap(), &config).unwrap();
    assert_eq!(output(dir.path()), reference::<Wc>(&[input]));
}
