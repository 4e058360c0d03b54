//! The fast path (stop at the first violating partition), the cheap
//! refutations it relies on, and the unpartitioned KV model, cross-checked
//! against brute force and against the full search on generated histories.

use std::time::Duration;

use crate::common::{
    KvOp, KvShape, SearchOnly, assert_evidence, generate_cas, generate_kv, kv_oracle,
};
use linearizability::{
    CasRegisterModel, CheckOptions, KvInput, KvModel, KvOutput, KvUnpartitionedModel, Model,
    Operation, Outcome, Verdict, check, check_with,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const T: Option<Duration> = Some(Duration::from_secs(20));

fn all() -> CheckOptions<'static> {
    CheckOptions {
        timeout: T,
        all: true,
        ..CheckOptions::default()
    }
}

/// A small random KV history on keys "a" and "b": random times, pending
/// and unknown outputs, reads of plausible and implausible values.
fn small_kv(rng: &mut ChaCha8Rng) -> Vec<KvOp> {
    let reads = ["", "1", "2", "12", "21", "22", "3", "13", "121"];
    let n = rng.random_range(1..=7);
    (0..n)
        .map(|c| {
            let call = rng.random_range(0..20);
            let ret = (!rng.random_bool(0.15)).then(|| call + rng.random_range(0..8));
            let key = if rng.random_bool(0.7) { "a" } else { "b" };
            let value = ["1", "2", "3"][rng.random_range(0..3)];
            let (input, output) = match rng.random_range(0..5) {
                0 | 1 => (
                    KvInput::get(key),
                    KvOutput::value(reads[rng.random_range(0..reads.len())]),
                ),
                2 | 3 => (KvInput::append(key, value), KvOutput::Done),
                _ => (KvInput::put(key, value), KvOutput::Done),
            };
            let output = (ret.is_some() && !rng.random_bool(0.1)).then_some(output);
            Operation {
                client: c as u64,
                input,
                call,
                output,
                ret,
            }
        })
        .collect()
}

#[test]
fn refutations_are_sound_by_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut refuted, mut bad) = (0, 0);
    for _ in 0..20_000 {
        let h = small_kv(&mut rng);
        let everything: Vec<usize> = (0..h.len()).collect();
        let linearizable = kv_oracle(&h);
        bad += usize::from(!linearizable);
        for refutation in [
            KvModel.refute(&h, &everything),
            KvUnpartitionedModel.refute(&h, &everything),
        ]
        .into_iter()
        .flatten()
        {
            assert!(
                !linearizable,
                "refuted a linearizable history: {}\n{h:#?}",
                refutation.reason
            );
            refuted += 1;
        }
    }
    // The rules must catch a good share of the violations, or they test
    // nothing.
    eprintln!("refuted {refuted} of 2 x {bad}");
    assert!(refuted > bad / 2, "refuted {refuted} of 2 x {bad}");
}

/// Stale reads, lost writes, pending and unknown outputs: histories the
/// full search decides quickly, with violations the rules look for.
fn medium_shapes() -> Vec<KvShape> {
    let mut shapes = Vec::new();
    for (clients, ops, keys) in [(4, 40, 1), (6, 80, 2), (8, 100, 3), (3, 30, 1)] {
        let mut s = KvShape::new(clients, ops, keys);
        s.stale = 0.1;
        s.stale_lag = 4_000;
        s.crash = 0.02;
        s.unknown = 0.1;
        shapes.push(s);
        let mut appends = s;
        appends.puts = false;
        shapes.push(appends);
    }
    shapes
}

#[test]
fn refutations_agree_with_the_search() {
    let (mut refuted, mut bad) = (0, 0);
    for (s, shape) in medium_shapes().into_iter().enumerate() {
        for seed in 0..150 {
            let h = generate_kv(seed * 31 + s as u64, shape);
            let search = check_with(&SearchOnly(KvModel), &h, &all());
            // Refutations and pruning change no verdict.
            let full = check_with(&KvModel, &h, &all());
            assert_eq!(full.verdict, search.verdict, "shape {shape:?} seed {seed}");
            assert_evidence(&KvModel, &h, &full);
            for p in &search.partitions {
                let verdict = p.outcome.verdict();
                assert_ne!(verdict, Verdict::Unknown, "shape {shape:?} seed {seed}");
                bad += usize::from(verdict == Verdict::NotLinearizable);
                if let Some(r) = KvModel.refute(&h, &p.ops) {
                    assert_eq!(
                        verdict,
                        Verdict::NotLinearizable,
                        "shape {shape:?} seed {seed}: {} refuted but linearizable: {}",
                        p.label,
                        r.reason
                    );
                    refuted += 1;
                }
            }
        }
    }
    eprintln!("refuted {refuted} of {bad}");
    assert!(bad > 500 && refuted > bad / 2, "refuted {refuted} of {bad}");
}

/// The fast path and `all` give the same verdict; the fast path's
/// evidence is valid, and it skips partitions only after a violation.
fn agree<M: Model>(model: &M, h: &[Operation<M::Input, M::Output>], what: &str) -> Verdict {
    let fast = check(model, h, T);
    let full = check_with(model, h, &all());
    assert_eq!(fast.verdict, full.verdict, "{what}");
    assert_ne!(full.verdict, Verdict::Unknown, "{what}");
    assert_evidence(model, h, &fast);
    assert_evidence(model, h, &full);
    assert!(
        full.partitions
            .iter()
            .all(|p| p.outcome != Outcome::NotChecked),
        "{what}: --all skipped a partition"
    );
    if fast.verdict == Verdict::NotLinearizable {
        // Every partition the fast path calls bad is bad.
        for (f, a) in fast.partitions.iter().zip(&full.partitions) {
            if f.outcome.verdict() == Verdict::NotLinearizable {
                assert_eq!(a.outcome.verdict(), Verdict::NotLinearizable, "{what}");
            }
        }
    } else {
        assert_eq!(fast.partitions, full.partitions, "{what}");
    }
    fast.verdict
}

#[test]
fn fast_path_and_all_agree_on_generated_histories() {
    let mut counts = [0usize; 2];
    for (s, shape) in medium_shapes().into_iter().enumerate() {
        for seed in 0..120 {
            let h = generate_kv(seed * 17 + s as u64, shape);
            let v = agree(&KvModel, &h, &format!("kv shape {shape:?} seed {seed}"));
            counts[usize::from(v == Verdict::Linearizable)] += 1;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for i in 0..3000 {
        let h = small_kv(&mut rng);
        let v = agree(&KvModel, &h, &format!("small kv {i}"));
        assert_eq!(v == Verdict::Linearizable, kv_oracle(&h), "small kv {i}");
        counts[usize::from(v == Verdict::Linearizable)] += 1;
    }
    for seed in 0..300 {
        let stale = if seed % 2 == 0 { 0.0 } else { 0.05 };
        let h = generate_cas(seed, 4, 60, 0.05, stale);
        let v = agree(&CasRegisterModel, &h, &format!("cas seed {seed}"));
        counts[usize::from(v == Verdict::Linearizable)] += 1;
    }
    eprintln!("bad/ok {counts:?}");
    assert!(counts[0] > 1000 && counts[1] > 1000, "bad/ok {counts:?}");
}

#[test]
fn several_bad_keys_stop_at_one() {
    // Stale reads in every key of a busy history: the fast path reports
    // one violating partition, `all` reports several.
    let mut shape = KvShape::new(50, 2000, 10);
    shape.spread = 0.3;
    shape.stale = 0.05;
    let h = generate_kv(7, shape);
    let fast = check(&KvModel, &h, T);
    assert_eq!(fast.verdict, Verdict::NotLinearizable);
    assert_evidence(&KvModel, &h, &fast);
    let bad = fast.violations().count();
    let skipped = fast
        .partitions
        .iter()
        .filter(|p| p.outcome == Outcome::NotChecked)
        .count();
    assert!(bad >= 1 && skipped >= 1, "bad {bad}, not checked {skipped}");
    let why = fast.explain(&KvModel, &h);
    assert!(why.contains("not checked"), "{why}");
    let full = check_with(&KvModel, &h, &all());
    assert!(
        full.violations().count() > 3,
        "{}",
        full.explain(&KvModel, &h)
    );
    assert_evidence(&KvModel, &h, &full);
}

#[test]
fn a_stale_read_is_refuted_with_its_reason() {
    // The refutation names the read and the write it missed.
    let h = vec![
        Operation::completed(0, KvInput::append("k", "a"), 0, KvOutput::Done, 10),
        Operation::completed(1, KvInput::append("k", "b"), 20, KvOutput::Done, 30),
        Operation::completed(2, KvInput::get("k"), 40, KvOutput::value("a"), 50),
    ];
    let r = KvModel.refute(&h, &[0, 1, 2]).expect("refuted");
    assert_eq!(r.ops, vec![2, 1]);
    assert!(r.reason.contains(r#"append("k", "b")"#), "{}", r.reason);
    assert!(r.reason.contains("end with \"b\""), "{}", r.reason);
    // A concurrent put could have overwritten "b": no cheap proof.
    let mut h = h;
    h.push(Operation::pending(3, KvInput::put("k", "a"), 25));
    assert!(KvModel.refute(&h, &[0, 1, 2, 3]).is_none());
    assert_eq!(check(&KvModel, &h, T).verdict, Verdict::Linearizable);
}

#[test]
fn unpartitioned_kv_matches_brute_force_and_the_partitioned_check() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut counts = [0usize; 2];
    for i in 0..3000 {
        let h = small_kv(&mut rng);
        let result = check(&KvUnpartitionedModel, &h, T);
        assert_eq!(result.partitions.len(), 1);
        assert_evidence(&KvUnpartitionedModel, &h, &result);
        let expected = kv_oracle(&h);
        assert_eq!(result.is_linearizable(), expected, "small kv {i}");
        counts[usize::from(expected)] += 1;
    }
    for (s, shape) in medium_shapes().into_iter().enumerate().take(4) {
        for seed in 0..40 {
            let h = generate_kv(seed * 13 + s as u64, shape);
            let whole = check_with(&KvUnpartitionedModel, &h, &all());
            let parts = check_with(&KvModel, &h, &all());
            assert_eq!(whole.verdict, parts.verdict, "shape {shape:?} seed {seed}");
            assert_evidence(&KvUnpartitionedModel, &h, &whole);
            counts[usize::from(whole.is_linearizable())] += 1;
        }
    }
    assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");
}
