//! The versioned KV model (kvsrv): small random histories judged by brute
//! force, and histories of a simulated server whose clerks retry over a
//! lossy network (linearizable by construction), plus mutations of them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use crate::common::{assert_evidence, oracle};
use linearizability::{
    Model, Operation, Verdict, VersionedKvInput as I, VersionedKvModel, VersionedKvOutput as O,
    VersionedKvState, check,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Op = Operation<I, O>;

const T: Option<Duration> = Some(Duration::from_secs(10));

/// The definition, without partitioning: one map of keys to states, each
/// step delegated to the model on that key.
fn versioned_oracle(history: &[Op]) -> bool {
    let calls: Vec<u64> = history.iter().map(|o| o.call).collect();
    let rets: Vec<Option<u64>> = history.iter().map(|o| o.ret).collect();
    let step = |state: &BTreeMap<String, VersionedKvState>, i: usize| {
        let op = &history[i];
        let key = op.input.key().to_string();
        let cur = state
            .get(&key)
            .cloned()
            .unwrap_or_else(|| VersionedKvModel.init());
        let next = VersionedKvModel.step(&cur, &op.input, op.known_output())?;
        let mut state = state.clone();
        state.insert(key, next);
        Some(state)
    };
    oracle(&calls, &rets, BTreeMap::new(), &step)
}

#[test]
fn small_versioned_histories_match_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut counts = [0usize; 2];
    let values = ["a", "b"];
    for _ in 0..4000 {
        let n = rng.random_range(1..=7);
        let h: Vec<Op> = (0..n)
            .map(|c| {
                let call = rng.random_range(0..20);
                let ret = (!rng.random_bool(0.15)).then(|| call + rng.random_range(0..8));
                let key = if rng.random_bool(0.8) { "k" } else { "x" };
                let (input, output) = if rng.random_bool(0.4) {
                    let out = if rng.random_bool(0.2) {
                        O::ErrNoKey
                    } else {
                        O::value(values[rng.random_range(0..2)], rng.random_range(1..=3))
                    };
                    (I::get(key), out)
                } else {
                    let version = rng.random_range(0..=2);
                    let out = match rng.random_range(0..8) {
                        0..=2 => O::Done,
                        3 | 4 => O::ErrMaybe,
                        5 | 6 => O::ErrVersion,
                        _ => O::ErrNoKey,
                    };
                    (I::put(key, values[rng.random_range(0..2)], version), out)
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
        let expected = versioned_oracle(&h);
        let result = check(&VersionedKvModel, &h, T);
        let want = if expected {
            Verdict::Linearizable
        } else {
            Verdict::NotLinearizable
        };
        assert_eq!(
            result.verdict,
            want,
            "{h:#?}\n{}",
            result.explain(&VersionedKvModel, &h)
        );
        assert_evidence(&VersionedKvModel, &h, &result);
        counts[usize::from(expected)] += 1;
    }
    assert!(counts[0] > 400 && counts[1] > 400, "{counts:?}");
}

/// How to simulate clerks of a versioned KV server.
#[derive(Clone, Copy, Debug)]
struct Shape {
    clients: usize,
    ops: usize,
    keys: usize,
    /// Probability that a request, or (independently) a reply, is lost.
    loss: f64,
}

/// A history of a correct versioned KV server and correct clerks. Each
/// client runs operations one after another; an operation sends attempts
/// until one's reply arrives; each attempt whose request arrives executes
/// at once on the server, in global time order. A clerk reports a put's
/// `ErrVersion` as `ErrMaybe` when a retry got it. Clients mostly put at
/// the version they last saw (as the lab's tests and the lock do), so many
/// puts race and many retries see `ErrVersion`.
fn simulate(seed: u64, shape: Shape) -> Vec<Op> {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Ev {
        /// The client calls its next operation.
        Call,
        /// An attempt of the current operation reaches the server.
        Attempt(u32),
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut store: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut history: Vec<Op> = Vec::new();
    // Per client: the current op's index in history, its attempt count, and
    // the versions it has seen per key.
    let mut current: Vec<Option<usize>> = vec![None; shape.clients];
    let mut seen: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); shape.clients];
    let mut issued = 0;
    let mut queue: BinaryHeap<Reverse<(u64, usize, Ev)>> = BinaryHeap::new();
    for c in 0..shape.clients {
        queue.push(Reverse((rng.random_range(0..20), c, Ev::Call)));
    }
    while let Some(Reverse((t, c, ev))) = queue.pop() {
        match ev {
            Ev::Call => {
                if issued == shape.ops {
                    continue;
                }
                issued += 1;
                let key = format!("k{}", rng.random_range(0..shape.keys));
                let input = if rng.random_bool(0.3) {
                    I::get(&key)
                } else {
                    let last = seen[c].get(&key).copied().unwrap_or(0);
                    let version = if rng.random_bool(0.85) {
                        last
                    } else {
                        rng.random_range(0..=last + 2)
                    };
                    I::put(&key, format!("{c}.{issued}"), version)
                };
                current[c] = Some(history.len());
                history.push(Operation::pending(c as u64, input, t));
                queue.push(Reverse((t + rng.random_range(1..10), c, Ev::Attempt(0))));
            }
            Ev::Attempt(n) => {
                let i = current[c].expect("an attempt belongs to an operation");
                let retry = |queue: &mut BinaryHeap<_>, rng: &mut ChaCha8Rng| {
                    queue.push(Reverse((
                        t + rng.random_range(5..30),
                        c,
                        Ev::Attempt(n + 1),
                    )));
                };
                if rng.random_bool(shape.loss) {
                    retry(&mut queue, &mut rng); // request lost
                    continue;
                }
                let key = history[i].input.key().to_string();
                let reply = match &history[i].input {
                    I::Get { .. } => match store.get(&key) {
                        Some((v, ver)) => O::value(v.clone(), *ver),
                        None => O::ErrNoKey,
                    },
                    I::Put { value, version, .. } => match store.get_mut(&key) {
                        Some((v, ver)) if *ver == *version => {
                            *v = value.clone();
                            *ver += 1;
                            O::Done
                        }
                        Some(_) => O::ErrVersion,
                        None if *version == 0 => {
                            store.insert(key.clone(), (value.clone(), 1));
                            O::Done
                        }
                        None => O::ErrNoKey,
                    },
                };
                if rng.random_bool(shape.loss) {
                    retry(&mut queue, &mut rng); // reply lost, after executing
                    continue;
                }
                let output = match reply {
                    O::ErrVersion if n > 0 => O::ErrMaybe,
                    r => r,
                };
                if let O::Value { version, .. } = &output {
                    seen[c].insert(key.clone(), *version);
                }
                if let (O::Done, I::Put { version, .. }) = (&output, &history[i].input) {
                    seen[c].insert(key.clone(), version + 1);
                }
                let ret = t + rng.random_range(1..10);
                history[i].output = Some(output);
                history[i].ret = Some(ret);
                current[c] = None;
                queue.push(Reverse((ret + rng.random_range(0..5), c, Ev::Call)));
            }
        }
    }
    history
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            clients: 1,
            ops: 200,
            keys: 1,
            loss: 0.2,
        },
        Shape {
            clients: 5,
            ops: 300,
            keys: 1,
            loss: 0.1,
        },
        Shape {
            clients: 10,
            ops: 1000,
            keys: 1,
            loss: 0.1,
        },
        Shape {
            clients: 10,
            ops: 1000,
            keys: 5,
            loss: 0.3,
        },
        Shape {
            clients: 3,
            ops: 300,
            keys: 2,
            loss: 0.0,
        },
    ]
}

#[test]
fn simulated_clerks_are_linearizable() {
    let mut maybes = 0;
    for (s, shape) in shapes().into_iter().enumerate() {
        for seed in 0..5 {
            let h = simulate(seed * 10 + s as u64, shape);
            maybes += h.iter().filter(|o| o.output == Some(O::ErrMaybe)).count();
            let result = check(&VersionedKvModel, &h, T);
            assert_eq!(
                result.verdict,
                Verdict::Linearizable,
                "shape {shape:?} seed {seed}:\n{}",
                result.explain(&VersionedKvModel, &h)
            );
            assert_evidence(&VersionedKvModel, &h, &result);
        }
    }
    assert!(
        maybes > 100,
        "only {maybes} ErrMaybe outputs were generated"
    );
}

/// The mutations a buggy server or clerk would produce, each caught.
#[test]
fn mutated_simulations_are_caught() {
    let shape = Shape {
        clients: 5,
        ops: 300,
        keys: 2,
        loss: 0.1,
    };
    let mut caught = [0usize; 3];
    for seed in 0..30 {
        let h = simulate(1000 + seed, shape);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pick = |rng: &mut ChaCha8Rng, f: &dyn Fn(&Op) -> bool| {
            let idx: Vec<usize> = (0..h.len()).filter(|&i| f(&h[i])).collect();
            (!idx.is_empty()).then(|| idx[rng.random_range(0..idx.len())])
        };
        // 1. A get reports a version that was never stored.
        if let Some(i) = pick(&mut rng, &|o| matches!(o.output, Some(O::Value { .. }))) {
            let mut m = h.clone();
            if let Some(O::Value { version, .. }) = &mut m[i].output {
                *version += 1000;
            }
            assert_eq!(
                check(&VersionedKvModel, &m, T).verdict,
                Verdict::NotLinearizable
            );
            caught[0] += 1;
        }
        // 2. A get reports a value that was never written.
        if let Some(i) = pick(&mut rng, &|o| matches!(o.output, Some(O::Value { .. }))) {
            let mut m = h.clone();
            if let Some(O::Value { value, .. }) = &mut m[i].output {
                *value = String::from("never written");
            }
            assert_eq!(
                check(&VersionedKvModel, &m, T).verdict,
                Verdict::NotLinearizable
            );
            caught[1] += 1;
        }
        // 3. A put refused with ErrVersion is reported as applied at the
        // version before one a later get saw (with another value): two
        // puts then claim the same version.
        let later_read = |o: &Op| {
            h.iter().find_map(|g| match &g.output {
                Some(O::Value { value, version })
                    if g.call > o.ret.unwrap_or(u64::MAX) && g.input.key() == o.input.key() =>
                {
                    Some((value.clone(), *version))
                }
                _ => None,
            })
        };
        if let Some(i) = pick(&mut rng, &|o| {
            o.output == Some(O::ErrVersion) && later_read(o).is_some()
        }) {
            let (value, v) = later_read(&h[i]).unwrap();
            let mut m = h.clone();
            m[i].input = I::put(m[i].input.key(), format!("{value} (not)"), v - 1);
            m[i].output = Some(O::Done);
            assert_eq!(
                check(&VersionedKvModel, &m, T).verdict,
                Verdict::NotLinearizable,
                "seed {seed}, op {i}"
            );
            caught[2] += 1;
        }
    }
    assert!(caught.iter().all(|&c| c >= 20), "{caught:?}");
}
