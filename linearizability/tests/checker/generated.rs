//! Generated histories with known answers: correct stores under random
//! concurrency (linearizable by construction), the same with outputs mutated
//! into impossible ones, and small random histories judged by brute force.

use std::time::Duration;

use crate::common::{KvShape, assert_evidence, generate_kv, kv_oracle, oracle};
use linearizability::{
    CasInput, CasOutput, CasRegisterModel, KvInput, KvModel, KvOutput, Model, Operation,
    RegisterInput, RegisterModel, RegisterOutput, Verdict, check,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const T: Option<Duration> = Some(Duration::from_secs(10));

/// Shapes whose per-key concurrency stays moderate: with random
/// linearization points and many concurrent unobserved appends per key, the
/// search is exponential (for porcupine too), which the benchmark shows.
fn shapes() -> Vec<KvShape> {
    let mut crashy = KvShape::new(10, 300, 3);
    crashy.crash = 0.05;
    crashy.unknown = 0.1;
    let mut lossy_hot = KvShape::new(8, 200, 1);
    lossy_hot.unknown = 0.2;
    lossy_hot.crash = 0.02;
    let mut hot = KvShape::new(10, 400, 1);
    hot.max_gap = 3_000;
    // Near the benchmark's shape (more keys), with server-like timing: a request takes
    // effect early in its interval and the reply takes the rest.
    let mut big = KvShape::new(50, 2000, 20);
    big.spread = 0.3;
    let mut busy = KvShape::new(20, 400, 10);
    busy.max_gap = 10;
    vec![
        KvShape::new(1, 100, 2),
        KvShape::new(5, 200, 1),
        big,
        hot,
        crashy,
        lossy_hot,
        busy,
    ]
}

#[test]
fn correct_store_histories_are_linearizable() {
    for (s, shape) in shapes().into_iter().enumerate() {
        for seed in 0..4 {
            let h = generate_kv(seed * 100 + s as u64, shape);
            let result = check(&KvModel, &h, T);
            assert_eq!(
                result.verdict,
                Verdict::Linearizable,
                "shape {shape:?} seed {seed}:\n{}",
                result.explain(&KvModel, &h)
            );
            assert_evidence(&KvModel, &h, &result);
        }
    }
}

#[test]
fn a_read_of_a_value_never_written_is_caught() {
    let mut caught = 0;
    for (s, shape) in shapes().into_iter().enumerate() {
        for seed in 0..4 {
            let mut h = generate_kv(seed * 100 + s as u64, shape);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let reads: Vec<usize> = (0..h.len())
                .filter(|&i| {
                    matches!(h[i].input, KvInput::Get { .. }) && h[i].known_output().is_some()
                })
                .collect();
            let victim = reads[rng.random_range(0..reads.len())];
            // Every written value is "x c k y": nothing ever reads "zzz".
            h[victim].output = Some(KvOutput::value("zzz"));
            let result = check(&KvModel, &h, T);
            assert_eq!(
                result.verdict,
                Verdict::NotLinearizable,
                "shape {shape:?} seed {seed}, op {victim}"
            );
            assert_evidence(&KvModel, &h, &result);
            let key = h[victim].input.key().to_string();
            let bad: Vec<&str> = result.violations().map(|p| p.label.as_str()).collect();
            assert_eq!(bad, vec![format!("key {key:?}")]);
            caught += 1;
        }
    }
    assert_eq!(caught, 28);
}

#[test]
fn a_read_that_drops_an_acknowledged_append_is_caught() {
    // Without puts every state after an append contains its value. Take an
    // append that returned before some read was called and remove its value
    // from what the read saw: the read now misses a completed write.
    let mut caught = 0;
    for seed in 0..40 {
        let mut shape = KvShape::new(6, 150, 2);
        shape.puts = false;
        let mut h = generate_kv(seed, shape);
        let target = (0..h.len()).find_map(|r| {
            let KvInput::Get { key } = &h[r].input else {
                return None;
            };
            let Some(KvOutput::Value(seen)) = h[r].known_output() else {
                return None;
            };
            (0..h.len()).find_map(|a| match &h[a].input {
                KvInput::Append { key: k, value }
                    if k == key
                        && h[a].ret.is_some_and(|ret| ret < h[r].call)
                        && seen.matches(value.as_str()).count() == 1 =>
                {
                    Some((r, seen.replacen(value.as_str(), "", 1)))
                }
                _ => None,
            })
        });
        let Some((r, dropped)) = target else { continue };
        h[r].output = Some(KvOutput::Value(dropped));
        let result = check(&KvModel, &h, T);
        assert_eq!(result.verdict, Verdict::NotLinearizable, "seed {seed}");
        assert_evidence(&KvModel, &h, &result);
        caught += 1;
    }
    assert!(
        caught >= 20,
        "only {caught} histories had a droppable append"
    );
}

/// Small random histories, judged by the checker and by brute force.
fn random_times(rng: &mut ChaCha8Rng, n: usize) -> Vec<(u64, Option<u64>)> {
    (0..n)
        .map(|_| {
            let call = rng.random_range(0..20);
            let ret = (!rng.random_bool(0.15)).then(|| call + rng.random_range(0..8));
            (call, ret)
        })
        .collect()
}

fn compare<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    expected: bool,
    counts: &mut [usize; 2],
) {
    let result = check(model, history, T);
    let want = if expected {
        Verdict::Linearizable
    } else {
        Verdict::NotLinearizable
    };
    assert_eq!(result.verdict, want, "{}", result.explain(model, history));
    assert_evidence(model, history, &result);
    counts[usize::from(expected)] += 1;
}

#[test]
fn small_register_histories_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut counts = [0; 2];
    for _ in 0..3000 {
        let n = rng.random_range(1..=7);
        let times = random_times(&mut rng, n);
        let h: Vec<Operation<RegisterInput, RegisterOutput>> = times
            .iter()
            .enumerate()
            .map(|(c, &(call, ret))| {
                let (input, output) = if rng.random_bool(0.5) {
                    (
                        RegisterInput::Read,
                        RegisterOutput::Value(rng.random_range(0..3)),
                    )
                } else {
                    (
                        RegisterInput::Write(rng.random_range(1..3)),
                        RegisterOutput::Done,
                    )
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
            .collect();
        let calls: Vec<u64> = h.iter().map(|o| o.call).collect();
        let rets: Vec<Option<u64>> = h.iter().map(|o| o.ret).collect();
        let step = |s: &i64, i: usize| RegisterModel.step(s, &h[i].input, h[i].known_output());
        let expected = oracle(&calls, &rets, 0, &step);
        compare(&RegisterModel, &h, expected, &mut counts);
    }
    assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");
}

#[test]
fn small_cas_register_histories_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut counts = [0; 2];
    for _ in 0..3000 {
        let n = rng.random_range(1..=7);
        let times = random_times(&mut rng, n);
        let h: Vec<Operation<CasInput, CasOutput>> = times
            .iter()
            .enumerate()
            .map(|(c, &(call, ret))| {
                let (input, output) = match rng.random_range(0..3) {
                    0 => (
                        CasInput::Read,
                        CasOutput::Value(rng.random_bool(0.8).then(|| rng.random_range(0..3))),
                    ),
                    1 => (CasInput::Write(rng.random_range(0..3)), CasOutput::Done),
                    _ => (
                        CasInput::Cas {
                            from: rng.random_range(0..3),
                            to: rng.random_range(0..3),
                        },
                        CasOutput::Cas(rng.random_bool(0.5)),
                    ),
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
            .collect();
        let calls: Vec<u64> = h.iter().map(|o| o.call).collect();
        let rets: Vec<Option<u64>> = h.iter().map(|o| o.ret).collect();
        let step =
            |s: &Option<i64>, i: usize| CasRegisterModel.step(s, &h[i].input, h[i].known_output());
        let expected = oracle(&calls, &rets, None, &step);
        compare(&CasRegisterModel, &h, expected, &mut counts);
    }
    assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");
}

#[test]
fn small_kv_histories_match_brute_force_without_partitioning() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut counts = [0; 2];
    let reads = ["", "1", "2", "12", "21", "22"];
    for _ in 0..3000 {
        let n = rng.random_range(1..=7);
        let times = random_times(&mut rng, n);
        let h: Vec<Operation<KvInput, KvOutput>> = times
            .iter()
            .enumerate()
            .map(|(c, &(call, ret))| {
                let key = if rng.random_bool(0.7) { "a" } else { "b" };
                let value = if rng.random_bool(0.5) { "1" } else { "2" };
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
            .collect();
        let expected = kv_oracle(&h);
        compare(&KvModel, &h, expected, &mut counts);
    }
    assert!(counts[0] > 300 && counts[1] > 300, "{counts:?}");
}
