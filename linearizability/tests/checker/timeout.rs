//! The timeout and cancellation paths: "unknown", promptly, without hiding
//! a violation found elsewhere.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use linearizability::{
    CheckOptions, KvInput, KvModel, KvOutput, Operation, Outcome, RegisterInput, RegisterModel,
    RegisterOutput, Verdict, check, check_with,
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
