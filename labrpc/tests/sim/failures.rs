// Every way a run can go wrong ends in one message that names the seed,
// the virtual time, the node and the command that reproduces it.

/// The lines every failure message carries.
fn assert_reproducible(msg: &str, seed: u64, test: &str) {
    assert!(msg.starts_with("labrpc: "), "{msg}");
    assert!(
        msg.contains(&format!("\n  seed:         {seed}\n")),
        "{msg}"
    );
    assert!(msg.contains("\n  virtual time: "), "{msg}");
    assert!(msg.contains("\n  node:         "), "{msg}");
    let cmd = format!("reproduce:    LAB_SEED={seed} LAB_TRACE_VERSION=3 cargo test -p labrpc");
    assert!(msg.contains(&cmd), "{msg}");
    assert!(msg.contains(&format!("-- {test} --exact")), "{msg}");
}

#[test]
fn panic_in_a_task_names_the_node_and_time() {
    let msg = failure_of(|| {
        Builder::new().seed(17).run(|| async {
            let worker = node::create("worker-3");
            task::spawn_on(worker, async {
                sleep(Duration::from_millis(1500)).await;
                panic!("boom");
            })
            .detach();
            sleep(Duration::from_secs(10)).await;
        });
    });
    assert_reproducible(&msg, 17, "panic_in_a_task_names_the_node_and_time");
    assert!(
        msg.contains("a task on node n1 (worker-3) panicked: boom"),
        "{msg}"
    );
    assert!(msg.contains("virtual time: 1.500000s"), "{msg}");
}

#[test]
fn a_handout_stub_leads_the_message() {
    let msg = failure_of(|| {
        Builder::new().seed(5).run(|| async {
            let peer = node::create("raft-0");
            task::spawn_on(peer, async {
                sleep(Duration::from_millis(20)).await;
                labrpc::not_implemented!("Raft 3A (leader election)")
            })
            .detach();
            sleep(Duration::from_secs(10)).await;
        });
    });
    assert_reproducible(&msg, 5, "a_handout_stub_leads_the_message");
    let headline = msg.lines().next().unwrap();
    assert_eq!(
        headline,
        "labrpc: not implemented yet: Raft 3A (leader election) \u{2014} labrpc/tests/sim/failures.rs \
         (reached on node n1 (raft-0))"
    );
}

#[test]
fn deadlock_is_reported() {
    let msg = failure_of(|| {
        Builder::new().seed(5).run(|| async {
            let (_tx, rx) = futures::channel::oneshot::channel::<()>();
            sleep(Duration::from_secs(2)).await;
            let _ = rx.await;
        });
    });
    assert_reproducible(&msg, 5, "deadlock_is_reported");
    assert!(
        msg.contains("deadlock: no task is ready and no timer is pending"),
        "{msg}"
    );
    assert!(msg.contains("virtual time: 2.000000s"), "{msg}");
}

#[test]
fn livelock_is_reported() {
    let msg = failure_of(|| {
        Builder::new().seed(6).livelock_polls(10_000).run(|| async {
            let spinner = node::create("spinner");
            task::spawn_on(spinner, async {
                loop {
                    task::yield_now().await;
                }
            })
            .detach();
            sleep(Duration::from_secs(1)).await;
        });
    });
    assert_reproducible(&msg, 6, "livelock_is_reported");
    assert!(
        msg.contains("livelock: 10001 task polls without virtual time advancing"),
        "{msg}"
    );
    assert!(msg.contains("n1 (spinner)"), "{msg}");
}

#[test]
fn time_limit_is_reported() {
    let msg = failure_of(|| {
        Builder::new()
            .seed(8)
            .time_limit(Duration::from_secs(30))
            .run(|| async {
                loop {
                    sleep(Duration::from_secs(1)).await;
                }
            });
    });
    assert_reproducible(&msg, 8, "time_limit_is_reported");
    assert!(
        msg.contains("time limit: the test did not finish within 30.000000s"),
        "{msg}"
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // blocking the thread is the point
fn a_task_blocking_the_thread_is_reported() {
    let msg = failure_of(|| {
        Builder::new()
            .seed(9)
            .stall_limit(Duration::from_millis(200))
            .run(|| async {
                let blocker = node::create("blocker");
                task::spawn_on(blocker, async {
                    sleep(Duration::from_millis(3)).await;
                    std::thread::sleep(Duration::from_millis(600));
                })
                .detach();
                sleep(Duration::from_secs(1)).await;
            });
    });
    assert_reproducible(&msg, 9, "a_task_blocking_the_thread_is_reported");
    assert!(
        msg.contains("stall: a task on node n1 (blocker) blocked the simulation thread"),
        "{msg}"
    );
    assert!(msg.contains("virtual time: 0.003"), "{msg}");
}

#[test]
fn the_body_panicking_is_reported_too() {
    let msg = failure_of(|| {
        Builder::new().seed(10).run(|| async {
            sleep(Duration::from_millis(250)).await;
            assert_eq!(1 + 1, 3, "arithmetic is broken");
        });
    });
    assert_reproducible(&msg, 10, "the_body_panicking_is_reported_too");
    assert!(
        msg.contains("a task on node n0 (tester) panicked: assertion"),
        "{msg}"
    );
    assert!(msg.contains("arithmetic is broken"), "{msg}");
}

#[test]
fn outside_a_simulation_functions_fail_clearly() {
    let msg = failure_of(|| {
        let _ = labrpc::time::Instant::now();
    });
    assert!(msg.contains("must be called inside a simulation"), "{msg}");
}

#[test]
fn a_failed_run_still_writes_its_trace_ending_with_the_failure() {
    let dir = std::env::temp_dir().join(format!("labrpc-failtrace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t-{seed}.jsonl");
    let msg = failure_of(|| {
        Builder::new()
            .seed(21)
            .trace_path(path.to_str().unwrap())
            .run(|| async {
                let n = node::create("doomed");
                sleep(Duration::from_millis(5)).await;
                labrpc::trace::event("test", "about to fail");
                node::crash(n);
                panic!("on purpose");
            });
    });
    assert!(msg.contains("on purpose"), "{msg}");
    let text = std::fs::read_to_string(dir.join("t-21.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "failure");
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("seed:         21")
    );
    assert!(text.contains("\"kind\":\"crash\""));
    std::fs::remove_dir_all(&dir).unwrap();
}
