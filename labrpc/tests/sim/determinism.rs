// One seed, one run: same seed -> same trace; different seeds -> different
// traces; the determinism check catches nondeterminism and says where.

/// A busy workload: unreliable network, concurrent clients, random sleeps,
/// a partition and a crash.
async fn workload() {
    let net = network();
    let (a, _) = start_junk("a");
    let (b, _) = start_junk("b");
    net.set_reliable(false);
    let mut handles = Vec::new();
    for i in 0..8u64 {
        let server = if i % 2 == 0 { "a" } else { "b" };
        let c = client(server);
        handles.push(task::spawn(async move {
            for j in 0..10 {
                let _ = c.record(&(i * 100 + j)).await;
                sleep(Duration::from_millis(labrpc::rand::gen_range(0..20))).await;
            }
        }));
    }
    sleep(Duration::from_millis(100)).await;
    net.partition(&[&[a], &[b]]);
    labrpc::trace::event("test", "partitioned");
    sleep(Duration::from_millis(100)).await;
    net.heal();
    labrpc::node::crash(b);
    for h in handles {
        h.await.unwrap();
    }
}

fn report(seed: u64) -> labrpc::Report {
    Builder::new().seed(seed).record_trace(true).run(workload)
}

#[test]
fn same_seed_gives_the_same_trace() {
    let (r1, r2) = (report(42), report(42));
    assert!(r1.events > 200, "a busy run, got {} events", r1.events);
    assert_eq!(r1.trace_hash, r2.trace_hash);
    assert_eq!(r1.trace, r2.trace);
    assert_eq!(r1.virtual_time, r2.virtual_time);
    assert_eq!(r1.polls, r2.polls);
}

#[test]
fn different_seeds_give_different_traces() {
    let mut hashes: Vec<u64> = (0..20).map(|s| report(s).trace_hash).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 20, "20 seeds must give 20 different traces");
}

#[test]
fn determinism_check_passes_a_deterministic_body() {
    Builder::new()
        .seed(7)
        .runs(3)
        .determinism(true)
        .run_all(workload);
}

/// State kept between runs is the classic injected nondeterminism.
#[test]
fn determinism_check_catches_state_kept_between_runs() {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let msg = failure_of(|| {
        Builder::new().seed(3).determinism(true).run_all(|| async {
            let (_, _) = start_junk("a");
            let c = client("a");
            for i in 0..5 {
                c.record(&i).await.unwrap();
            }
            // The second run sleeps longer: every later event moves.
            let k = RUNS.fetch_add(1, Ordering::Relaxed);
            sleep(Duration::from_millis(10 + k)).await;
            c.record(&99).await.unwrap();
        });
    });
    assert!(msg.contains("nondeterminism"), "{msg}");
    assert!(msg.contains("first difference at event #"), "{msg}");
    assert!(msg.contains("run 1:") && msg.contains("run 2:"), "{msg}");
    assert!(msg.contains("LAB_DETERMINISM=1 LAB_SEED=3"), "{msg}");
}

/// Iterating a std HashMap (random order per process and per map) is the
/// other classic; the lints forbid it in lab code, the check catches it.
#[test]
#[allow(clippy::disallowed_types)]
fn determinism_check_catches_hashmap_iteration_order() {
    let msg = failure_of(|| {
        Builder::new().seed(5).determinism(true).run_all(|| async {
            let (_, _) = start_junk("a");
            let c = client("a");
            let map: std::collections::HashMap<u64, u64> = (0..32).map(|i| (i, i)).collect();
            for (k, _) in map {
                labrpc::trace::event("order", k);
                c.record(&k).await.unwrap();
            }
        });
    });
    assert!(msg.contains("first difference at event #"), "{msg}");
}

#[test]
fn trace_exports_as_json_lines() {
    let dir = std::env::temp_dir().join(format!("labrpc-trace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t-{seed}.jsonl");
    Builder::new()
        .seed(11)
        .trace_path(path.to_str().unwrap())
        .run(workload);
    let text = std::fs::read_to_string(dir.join("t-11.jsonl")).unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{{\"trace_version\":{}}}", labrpc::trace::VERSION).as_str())
    );
    for (i, line) in lines.enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seq"].as_u64(), Some(i as u64));
        assert!(v["time"].is_u64() && v["node"].is_u64(), "{line}");
        kinds.insert(v["kind"].as_str().unwrap().to_string());
    }
    for k in [
        "node_created",
        "server_added",
        "send",
        "deliver",
        "reply",
        "drop",
        "partition",
        "heal",
        "crash",
        "config",
        "lab",
    ] {
        assert!(kinds.contains(k), "no {k:?} event in {kinds:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
