// The coordinator's rules, checked on the pure state machine (no network,
// no workers): what is handed out, when, and when the job is done.

const S: Duration = Duration::from_secs(1);

fn job_spec(n_map: usize, n_reduce: usize) -> JobSpec {
    let inputs = crate::harness::inputs()[..n_map].to_vec();
    JobSpec::new(inputs)
        .and_then(|s| s.with_n_reduce(n_reduce))
        .unwrap()
}

#[test]
fn hands_out_each_map_once_then_waits() {
    let spec = job_spec(3, 2);
    let mut c = Coordinator::new(&spec);
    for (x, file) in spec.inputs().iter().enumerate() {
        let want = Assignment::Map {
            task: x,
            file: file.clone(),
            n_reduce: 2,
        };
        assert_eq!(c.assign(Duration::ZERO), want);
    }
    // Every map is running: nothing else may start, not even a reduce.
    assert_eq!(c.assign(9 * S), Assignment::Wait);
    assert!(!c.done());
}

#[test]
fn no_reduce_before_every_map_is_done() {
    let mut c = Coordinator::new(&job_spec(2, 3));
    c.assign(Duration::ZERO);
    c.assign(Duration::ZERO);
    c.complete(TaskId::Map(1));
    assert_eq!(c.assign(S), Assignment::Wait);
    c.complete(TaskId::Map(0));
    assert_eq!(c.assign(S), Assignment::Reduce { task: 0, n_map: 2 });
}

#[test]
fn reissues_a_task_only_after_the_timeout() {
    let mut c = Coordinator::new(&job_spec(1, 1));
    let first = c.assign(Duration::ZERO);
    assert_eq!(first.task(), Some(TaskId::Map(0)));
    let just_before = Duration::from_secs(10) - Duration::from_nanos(1);
    assert_eq!(c.assign(just_before), Assignment::Wait);
    assert_eq!(c.assign(10 * S), first, "re-issued at 10 s");
    // The new holder gets its own 10 s.
    assert_eq!(c.assign(19 * S), Assignment::Wait);
    assert_eq!(c.assign(20 * S), first);
}

#[test]
fn honours_the_jobs_task_timeout() {
    let spec = job_spec(1, 1).with_task_timeout(Duration::from_millis(300));
    let mut c = Coordinator::new(&spec);
    let first = c.assign(Duration::ZERO);
    assert_eq!(c.assign(Duration::from_millis(299)), Assignment::Wait);
    assert_eq!(c.assign(Duration::from_millis(300)), first);
}

#[test]
fn late_and_repeated_reports_are_harmless() {
    let mut c = Coordinator::new(&job_spec(1, 1));
    c.assign(Duration::ZERO);
    c.assign(10 * S); // re-issued: two workers now run map 0
    c.complete(TaskId::Map(0));
    c.complete(TaskId::Map(0));
    assert_eq!(c.assign(11 * S), Assignment::Reduce { task: 0, n_map: 1 });
    c.complete(TaskId::Reduce(0));
    c.complete(TaskId::Reduce(0));
    assert!(c.done());
}

#[test]
fn exits_once_every_reduce_is_done() {
    let mut c = Coordinator::new(&job_spec(1, 2));
    c.assign(Duration::ZERO);
    c.complete(TaskId::Map(0));
    c.assign(S);
    c.assign(S);
    c.complete(TaskId::Reduce(1));
    assert_eq!(c.assign(2 * S), Assignment::Wait);
    assert!(!c.done());
    c.complete(TaskId::Reduce(0));
    assert!(c.done());
    assert_eq!(c.assign(3 * S), Assignment::Exit);
    assert_eq!(c.assign(30 * S), Assignment::Exit, "done is final");
}
