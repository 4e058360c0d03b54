//! Hand-built histories whose answer is known: each test names the anomaly
//! it shows.

use std::time::Duration;

use crate::common::{KvOp, assert_evidence};
use linearizability::{
    CasInput, CasOutput, CasRegisterModel, Event, EventError, KvInput, KvModel, KvOutput, Model,
    Operation, Outcome, Recorder, RegisterInput, RegisterModel, RegisterOutput, Verdict, check,
    operations_from_events,
};

const T: Option<Duration> = Some(Duration::from_secs(5));

fn get(client: u64, key: &str, call: u64, value: &str, ret: u64) -> KvOp {
    Operation::completed(client, KvInput::get(key), call, KvOutput::value(value), ret)
}
fn put(client: u64, key: &str, value: &str, call: u64, ret: u64) -> KvOp {
    Operation::completed(client, KvInput::put(key, value), call, KvOutput::Done, ret)
}
fn append(client: u64, key: &str, value: &str, call: u64, ret: u64) -> KvOp {
    Operation::completed(
        client,
        KvInput::append(key, value),
        call,
        KvOutput::Done,
        ret,
    )
}

fn kv_verdict(history: &[KvOp]) -> Verdict {
    let result = check(&KvModel, history, T);
    assert_evidence(&KvModel, history, &result);
    result.verdict
}

#[test]
fn empty_history_is_linearizable() {
    assert_eq!(kv_verdict(&[]), Verdict::Linearizable);
    let result = check(&RegisterModel, &[], T);
    assert_eq!(result.verdict, Verdict::Linearizable);
}

#[test]
fn sequential_history_is_linearizable() {
    let h = vec![
        get(0, "x", 0, "", 10),
        put(0, "x", "a", 20, 30),
        append(1, "x", "b", 40, 50),
        get(1, "x", 60, "ab", 70),
    ];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
}

#[test]
fn sequential_wrong_read_is_not_linearizable() {
    let h = vec![put(0, "x", "a", 0, 10), get(1, "x", 20, "b", 30)];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn missing_key_reads_empty() {
    assert_eq!(
        kv_verdict(&[get(0, "nope", 0, "", 1)]),
        Verdict::Linearizable
    );
    assert_eq!(
        kv_verdict(&[get(0, "nope", 0, "x", 1)]),
        Verdict::NotLinearizable
    );
}

#[test]
fn read_overlapping_a_write_may_see_either_value() {
    for seen in ["", "a"] {
        let h = vec![put(0, "x", "a", 0, 100), get(1, "x", 50, seen, 150)];
        assert_eq!(kv_verdict(&h), Verdict::Linearizable, "read saw {seen:?}");
    }
}

#[test]
fn reads_may_not_see_a_write_and_then_unsee_it() {
    // Both reads overlap the write, but the second starts after the first
    // returned "a": it cannot see the old value any more.
    let h = vec![
        put(0, "x", "a", 0, 1000),
        get(1, "x", 100, "a", 200),
        get(2, "x", 300, "", 400),
    ];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn stale_read_is_not_linearizable_and_is_blamed() {
    let h = vec![
        put(0, "x", "1", 0, 10),
        put(0, "x", "2", 20, 30),
        get(1, "x", 40, "1", 50), // stale: "2" was written before the call
    ];
    let result = check(&KvModel, &h, T);
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    assert_evidence(&KvModel, &h, &result);
    let Outcome::NotLinearizable { longest } = &result.partitions[0].outcome else {
        panic!("expected a violation");
    };
    assert_eq!(longest[0].order, vec![0, 1]);
    assert_eq!(longest[0].stuck, vec![2]);
    let why = result.explain(&KvModel, &h);
    assert!(why.contains(r#"in state "2""#), "{why}");
    assert!(why.contains(r#"get("x") -> "1""#), "{why}");
}

#[test]
fn lost_write_is_not_linearizable() {
    // Two acknowledged appends, but the final read has only one of them.
    let h = vec![
        append(0, "x", "a", 0, 10),
        append(1, "x", "b", 5, 15),
        get(2, "x", 20, "a", 30),
    ];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
    let h = vec![
        append(0, "x", "a", 0, 10),
        append(1, "x", "b", 5, 15),
        get(2, "x", 20, "ba", 30),
    ];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
}

#[test]
fn duplicated_append_is_not_linearizable() {
    // A retried append applied twice: the at-most-once bug of the labs.
    let h = vec![append(0, "x", "a", 0, 10), get(1, "x", 20, "aa", 30)];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn touching_intervals_are_concurrent() {
    // The put returns at 10 and the get is called at 10: either order.
    let h = vec![put(0, "x", "a", 0, 10), get(1, "x", 10, "", 20)];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
    let h = vec![put(0, "x", "a", 0, 10), get(1, "x", 11, "", 20)];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn pending_write_may_take_effect_late() {
    // The client crashed during its put; a read long after sees it.
    let h = vec![
        Operation::pending(0, KvInput::put("x", "a"), 0),
        get(1, "x", 100, "", 110),
        get(1, "x", 1000, "a", 1010),
    ];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
}

#[test]
fn pending_write_may_never_take_effect() {
    let h = vec![
        Operation::pending(0, KvInput::put("x", "a"), 0),
        get(1, "x", 100, "", 110),
        get(1, "x", 1000, "", 1010),
    ];
    let result = check(&KvModel, &h, T);
    assert_eq!(result.verdict, Verdict::Linearizable);
    assert_evidence(&KvModel, &h, &result);
    let Outcome::Linearizable { order } = &result.partitions[0].outcome else {
        panic!("expected a linearization");
    };
    assert!(
        !order.contains(&0),
        "the pending put must not be placed: {order:?}"
    );
}

#[test]
fn pending_write_cannot_take_effect_before_its_call() {
    let h = vec![
        get(1, "x", 0, "a", 10),
        Operation::pending(0, KvInput::put("x", "a"), 20),
    ];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn pending_write_seen_then_unseen_is_not_linearizable() {
    let h = vec![
        Operation::pending(0, KvInput::put("x", "a"), 0),
        get(1, "x", 100, "a", 110),
        get(1, "x", 200, "", 210),
    ];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn pending_output_is_ignored() {
    // A pending op's output cannot be known; if one is given it is ignored.
    let mut op = Operation::pending(0, KvInput::get("x"), 0);
    op.output = Some(KvOutput::value("nonsense"));
    let h = vec![put(1, "x", "a", 0, 10), op];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
}

#[test]
fn unknown_output_accepts_any_result() {
    // The append returned, but its reply was lost: it happened, in its interval.
    let h = vec![
        Operation::unknown(0, KvInput::append("x", "a"), 0, 10),
        Operation::unknown(1, KvInput::get("x"), 0, 10),
        get(2, "x", 20, "a", 30),
    ];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
    // Unlike a pending op, a returned op with unknown output did happen.
    let h = vec![
        Operation::unknown(0, KvInput::append("x", "a"), 0, 10),
        get(2, "x", 20, "", 30),
    ];
    assert_eq!(kv_verdict(&h), Verdict::NotLinearizable);
}

#[test]
fn append_reporting_the_old_value_must_match() {
    let h = vec![
        put(0, "x", "a", 0, 10),
        Operation::completed(1, KvInput::append("x", "b"), 20, KvOutput::value("a"), 30),
        get(2, "x", 40, "ab", 50),
    ];
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
    let mut bad = h.clone();
    bad[1].output = Some(KvOutput::value(""));
    assert_eq!(kv_verdict(&bad), Verdict::NotLinearizable);
}

#[test]
fn many_keys_are_checked_independently_and_the_bad_key_is_named() {
    let mut h = Vec::new();
    for k in 0..200u64 {
        let key = format!("k{k:03}");
        let t = k * 10;
        h.push(put(k, &key, "v", t, t + 100));
        h.push(get(k + 1, &key, t + 50, "v", t + 150));
        h.push(get(k + 2, &key, t + 20, "", t + 60));
    }
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
    // Key k117's second read goes back in time.
    h.push(get(9, "k117", 5000, "", 5010));
    let result = check(&KvModel, &h, T);
    assert_eq!(result.verdict, Verdict::NotLinearizable);
    assert_evidence(&KvModel, &h, &result);
    assert_eq!(result.partitions.len(), 200);
    let bad: Vec<&str> = result.violations().map(|p| p.label.as_str()).collect();
    assert_eq!(bad, vec![r#"key "k117""#]);
}

#[test]
fn single_threaded_and_parallel_checks_agree() {
    let h = crate::common::generate_kv(7, crate::common::KvShape::new(20, 600, 8));
    let one = linearizability::check_with(
        &KvModel,
        &h,
        &linearizability::CheckOptions {
            threads: Some(1),
            ..Default::default()
        },
    );
    let many = linearizability::check_with(
        &KvModel,
        &h,
        &linearizability::CheckOptions {
            threads: Some(4),
            ..Default::default()
        },
    );
    assert_eq!(one.verdict, Verdict::Linearizable);
    assert_eq!(one.partitions, many.partitions);
}

#[test]
fn register_read_must_see_latest_write() {
    let ok =
        |c, v, s, e| Operation::completed(c, RegisterInput::Read, s, RegisterOutput::Value(v), e);
    let w =
        |c, v, s, e| Operation::completed(c, RegisterInput::Write(v), s, RegisterOutput::Done, e);
    let h = vec![
        ok(0, 0, 0, 5),
        w(1, 1, 10, 20),
        ok(0, 1, 15, 25),
        ok(2, 1, 30, 40),
    ];
    let r = check(&RegisterModel, &h, T);
    assert_eq!(r.verdict, Verdict::Linearizable);
    assert_evidence(&RegisterModel, &h, &r);
    let h = vec![w(1, 1, 10, 20), ok(2, 0, 30, 40)];
    assert_eq!(
        check(&RegisterModel, &h, T).verdict,
        Verdict::NotLinearizable
    );
}

#[test]
fn cas_register_follows_compare_and_set() {
    let m = CasRegisterModel;
    let op = |c, i, o, s, e| Operation::completed(c, i, s, o, e);
    // Absent at first: a read says so and a cas fails.
    let h = vec![
        op(0, CasInput::Read, CasOutput::Value(None), 0, 1),
        op(
            0,
            CasInput::Cas { from: 0, to: 1 },
            CasOutput::Cas(false),
            2,
            3,
        ),
        op(0, CasInput::Write(0), CasOutput::Done, 4, 5),
        op(
            0,
            CasInput::Cas { from: 0, to: 1 },
            CasOutput::Cas(true),
            6,
            7,
        ),
        op(0, CasInput::Read, CasOutput::Value(Some(1)), 8, 9),
    ];
    let r = check(&m, &h, T);
    assert_eq!(r.verdict, Verdict::Linearizable);
    assert_evidence(&m, &h, &r);
    // Two concurrent cas(0 -> x) cannot both succeed.
    let h = vec![
        op(0, CasInput::Write(0), CasOutput::Done, 0, 1),
        op(
            1,
            CasInput::Cas { from: 0, to: 1 },
            CasOutput::Cas(true),
            2,
            10,
        ),
        op(
            2,
            CasInput::Cas { from: 0, to: 2 },
            CasOutput::Cas(true),
            2,
            10,
        ),
    ];
    assert_eq!(check(&m, &h, T).verdict, Verdict::NotLinearizable);
    // A cas with unknown outcome may or may not have succeeded.
    let h = vec![
        op(0, CasInput::Write(0), CasOutput::Done, 0, 1),
        Operation::unknown(1, CasInput::Cas { from: 0, to: 1 }, 2, 10),
        op(2, CasInput::Read, CasOutput::Value(Some(1)), 20, 21),
    ];
    assert_eq!(check(&m, &h, T).verdict, Verdict::Linearizable);
    assert_eq!(m.describe_state(&None), "absent");
}

#[test]
fn events_become_operations() {
    let events = vec![
        Event::Call {
            client: 0,
            id: 1,
            input: KvInput::put("x", "a"),
        },
        Event::Call {
            client: 1,
            id: 2,
            input: KvInput::get("x"),
        },
        Event::Return {
            id: 2,
            output: Some(KvOutput::value("a")),
        },
        Event::Return {
            id: 1,
            output: Some(KvOutput::Done),
        },
        Event::Call {
            client: 1,
            id: 3,
            input: KvInput::get("x"),
        },
        Event::Call {
            client: 2,
            id: 4,
            input: KvInput::append("x", "b"),
        },
        Event::Return {
            id: 3,
            output: Some(KvOutput::value("")),
        },
    ];
    let ops = operations_from_events(events).unwrap();
    assert_eq!(ops.len(), 4);
    assert_eq!((ops[0].call, ops[0].ret), (0, Some(3)));
    assert!(ops[3].is_pending());
    // Op 3 reads "" after "a" was read and the put returned: a violation.
    assert_eq!(kv_verdict(&ops), Verdict::NotLinearizable);

    let dup: Vec<Event<KvInput, KvOutput>> = vec![
        Event::Call {
            client: 0,
            id: 1,
            input: KvInput::get("x"),
        },
        Event::Call {
            client: 0,
            id: 1,
            input: KvInput::get("x"),
        },
    ];
    assert_eq!(
        operations_from_events(dup),
        Err(EventError::DuplicateCall { index: 1, id: 1 })
    );
    let orphan: Vec<Event<KvInput, KvOutput>> = vec![Event::Return {
        id: 9,
        output: None,
    }];
    assert_eq!(
        operations_from_events(orphan),
        Err(EventError::ReturnWithoutCall { index: 0, id: 9 })
    );
}

#[test]
fn recorder_clones_share_one_history() {
    let rec: Recorder<KvInput, KvOutput> = Recorder::new();
    let other = rec.clone();
    let a = rec.call(0, KvInput::put("x", "1"), 10);
    let b = other.call(1, KvInput::get("x"), 12);
    other.finish(b, KvOutput::value("1"), 30);
    rec.finish(a, KvOutput::Done, 20);
    let lost = rec.call(0, KvInput::append("x", "2"), 40);
    other.finish_unknown(lost, 50);
    rec.call(2, KvInput::get("x"), 60); // never finishes
    let h = rec.history();
    assert_eq!(h.len(), 4);
    assert_eq!(h[1].ret, Some(30));
    assert_eq!(h[2].output, None);
    assert!(h[3].is_pending());
    assert_eq!(kv_verdict(&h), Verdict::Linearizable);
    assert_eq!(rec.take().len(), 4);
    assert!(other.is_empty());
}

#[test]
#[should_panic(expected = "finished twice")]
fn recorder_rejects_a_second_return() {
    let rec: Recorder<KvInput, KvOutput> = Recorder::new();
    let a = rec.call(0, KvInput::get("x"), 10);
    rec.finish(a, KvOutput::value(""), 20);
    rec.finish(a, KvOutput::value(""), 30);
}

#[test]
#[should_panic(expected = "before its call")]
fn check_rejects_a_return_before_the_call() {
    let h = vec![get(0, "x", 10, "", 5)];
    check(&KvModel, &h, T);
}
