// The real runner: threads, wall clock, the same apps and files.

fn config(workers: usize, dir: &std::path::Path) -> RunConfig {
    RunConfig {
        workers,
        dir: dir.to_path_buf(),
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

#[test]
fn wc_on_one_and_four_threads_matches_the_reference() {
    let expected = reference::<Wc>(&inputs());
    for (workers, n_reduce) in [(1, 10), (4, 3)] {
        let dir = job_dir();
        let spec = spec().with_n_reduce(n_reduce).unwrap();
        let report = run_job::<Wc>(&spec, &config(workers, dir.path())).unwrap();
        assert_eq!(report.stats.reduces_done, n_reduce);
        let what = format!("real wc, {workers} workers, {n_reduce} reduce tasks");
        assert_same_output(&what, &output(dir.path()), &expected);
    }
}

#[test]
fn indexer_on_threads_matches_the_reference() {
    let dir = job_dir();
    run_job::<Indexer>(&spec(), &config(2, dir.path())).unwrap();
    let expected = reference::<Indexer>(&inputs());
    assert_same_output("real indexer", &output(dir.path()), &expected);
}

/// Inputs with what the bundled texts lack: non-ASCII letters and
/// non-letters, tabs, backslashes, CRLF line ends, an empty file, and one
/// word repeated past any small table.
#[test]
fn wc_on_unusual_text_matches_the_reference() {
    let dir = job_dir();
    let data = job_dir();
    let texts = [
        "Où est l'été? Ünïcödé ǅ 漢字 ٣ ① ß\r\nback\\slash\ttab\r\n".repeat(50),
        String::new(),
        "word ".repeat(20_000) + &"x".repeat(100),
        (0..5000).map(|i| format!("w{}q ", i % 977)).collect(),
    ];
    let inputs: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let path = data.path().join(format!("in-{i}.txt"));
            std::fs::write(&path, t).unwrap();
            path.display().to_string()
        })
        .collect();
    let spec = JobSpec::new(inputs.clone())
        .unwrap()
        .with_n_reduce(4)
        .unwrap();
    run_job::<Wc>(&spec, &config(2, dir.path())).unwrap();
    assert_same_output("real wc", &output(dir.path()), &reference::<Wc>(&inputs));
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
