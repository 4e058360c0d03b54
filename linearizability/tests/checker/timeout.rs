//! The timeout and cancellation paths: "unknown", promptly, without hiding
//! a violation found elsewhere.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use linearizability::{
    CheckOptions, DEFAULT_MAX_MEMORY, GaveUp, KvInput, KvModel, KvOutput, KvUnpartitionedModel,
    Operation, Outcome, RegisterInput, RegisterModel, RegisterOutput, Verdict, check, check_with,
};

/// `n` concurrent writes of distinct values, then a read of a value none
/// wrote: not linearizable, but only after trying every subset of writes.
fn hard_register(n: u64) -> Vec<Operation<RegisterInput, RegisterOutput>> {
    let mut h: Vec<_> = (0..n)
        .map(|i| {
            Operation::completed(
                i,
                RegisterInput::Write(i as i64 + 1),
                0,
                RegisterOutput::Done,
                1000,
            )
        })
        .collect();
    h.push(Operation::completed(
        n,
        RegisterInput::Read,
        2000,
        RegisterOutput::Value(-1),
        2001,
    ));
    h
}

// Tests measure wall time to check that "unknown" comes back promptly.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

#[test]
fn small_hard_history_is_decided() {
    let result = check(
        &RegisterModel,
        &hard_register(10),
        Some(Duration::from_secs(10)),
    );
    assert_eq!(result.verdict, Verdict::NotLinearizable);
}

#[test]
fn timeout_returns_unknown_promptly() {
    let h = hard_register(40);
    let timeout = Duration::from_millis(100);
    let start = now();
    let result = check(&RegisterModel, &h, Some(timeout));
    let elapsed = now() - start;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_millis(400),
        "took {elapsed:?}"
    );
    let Outcome::Unknown { longest } = &result.partitions[0].outcome else {
        panic!("expected unknown");
    };
    // The search got as far as placing every write.
    assert_eq!(longest[0].order.len(), 40);
}

#[test]
fn a_violation_elsewhere_is_not_hidden_by_a_timeout() {
    let mut h: Vec<Operation<KvInput, KvOutput>> = (0..40)
        .map(|i| {
            Operation::completed(
                i,
                KvInput::put("hard", format!("v{i}")),
                0,
                KvOutput::Done,
                1000,
            )
        })
        .collect();
    // Two reads that disagree after every put returned: no cheap
    // refutation sees it, and the search tries every subset of puts.
    h.push(Operation::completed(
        40,
        KvInput::get("hard"),
        2000,
        KvOutput::value("v1"),
        2001,
    ));
    h.push(Operation::completed(
        40,
        KvInput::get("hard"),
        2002,
        KvOutput::value("v2"),
        2003,
    ));
    h.push(Operation::completed(
        41,
        KvInput::put("bad", "1"),
        0,
        KvOutput::Done,
        10,
    ));
    h.push(Operation::completed(
        41,
        KvInput::get("bad"),
        20,
        KvOutput::value(""),
        30,
    ));
    for threads in [1, 2] {
        let result = check_with(
            &KvModel,
            &h,
            &CheckOptions {
                timeout: Some(Duration::from_millis(100)),
                threads: Some(threads),
                // Search "hard" too (the fast path would stop at "bad").
                all: true,
                ..Default::default()
            },
        );
        assert_eq!(
            result.verdict,
            Verdict::NotLinearizable,
            "{threads} threads"
        );
        let verdicts: Vec<Verdict> = result
            .partitions
            .iter()
            .map(|p| p.outcome.verdict())
            .collect();
        // Partitions in key order: "bad", "hard".
        assert_eq!(verdicts, vec![Verdict::NotLinearizable, Verdict::Unknown]);
    }
}

#[test]
fn caller_cancellation_returns_unknown() {
    let h = hard_register(40);
    let cancel = AtomicBool::new(false);
    let start = now();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            // A test helper thread standing in for a caller that gives up.
            #[allow(clippy::disallowed_methods)]
            std::thread::sleep(Duration::from_millis(50));
            cancel.store(true, Ordering::Relaxed);
        });
        check_with(
            &RegisterModel,
            &h,
            &CheckOptions {
                cancel: Some(&cancel),
                ..Default::default()
            },
        )
    });
    assert_eq!(result.verdict, Verdict::Unknown);
    assert!(now() - start < Duration::from_millis(450));
}

/// The history that grew `lincheck --no-partition` to 24 GB before the
/// memory limit: 50 clients, 1,000 operations on 10 keys, checked as one
/// store.
pub(crate) fn fifty_clients() -> Vec<Operation<KvInput, KvOutput>> {
    let mut shape = crate::common::KvShape::new(50, 1000, 10);
    shape.spread = 0.3;
    crate::common::generate_kv(1, shape)
}

#[test]
fn the_memory_limit_stops_a_search_with_unknown_and_says_why() {
    let h = fifty_clients();
    let limit = 32 << 20;
    let result = check_with(
        &KvUnpartitionedModel,
        &h,
        &CheckOptions {
            max_memory: Some(limit),
            ..Default::default()
        },
    );
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(result.gave_up, Some(GaveUp::Memory { limit }));
    // Checked every 1,024 steps: it stops within a few steps' growth of
    // the limit.
    assert!(result.peak_memory > limit, "{}", result.peak_memory);
    assert!(
        result.peak_memory < limit + limit / 4,
        "{}",
        result.peak_memory
    );
    let text = result.explain(&KvUnpartitionedModel, &h);
    assert!(
        text.starts_with("unknown: 1000 operations in 1 partition, 1 undecided: the search reached its memory limit (32.0 MiB)"),
        "{text}"
    );
    assert!(
        text.contains("--max-memory") && text.contains("--no-partition"),
        "{text}"
    );
}

#[test]
fn a_timeout_says_so() {
    let h = hard_register(40);
    let result = check(&RegisterModel, &h, Some(Duration::from_millis(50)));
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(
        result.gave_up,
        Some(GaveUp::Timeout {
            after: Duration::from_millis(50)
        })
    );
    assert!(
        result
            .explain(&RegisterModel, &h)
            .contains("the search ran out of time (0.1 s)"),
        "{}",
        result.explain(&RegisterModel, &h)
    );
}

#[test]
fn a_decided_check_gave_up_nothing() {
    let mut shape = crate::common::KvShape::new(5, 200, 3);
    shape.spread = 0.3;
    let h = crate::common::generate_kv(2, shape);
    let result = check_with(&KvModel, &h, &CheckOptions::default());
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_eq!(result.gave_up, None);
    assert_eq!(CheckOptions::default().max_memory, Some(DEFAULT_MAX_MEMORY));
}
