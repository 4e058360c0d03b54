//! Test helpers: an independent validator for the checker's evidence, a
//! brute-force oracle, and a generator of correct KV histories.
#![allow(dead_code)]

use std::collections::BTreeMap;

use linearizability::{
    CasInput, CasOutput, CheckResult, KvInput, KvModel, KvOutput, KvState, Model, Operation,
    Outcome, Verdict,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub type KvOp = Operation<KvInput, KvOutput>;

/// Asserts that `order` is a linearization of the operations `ops`: distinct
/// members of `ops`, every completed operation present, real-time order
/// respected (nothing is placed after an operation called after it
/// returned), and legal for `model` from its initial state.
pub fn assert_linearization<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ops: &[usize],
    order: &[usize],
    complete: bool,
) {
    let mut seen = vec![false; history.len()];
    for &i in order {
        assert!(ops.contains(&i), "op {i} is not in the partition");
        assert!(!seen[i], "op {i} placed twice");
        seen[i] = true;
    }
    if complete {
        for &i in ops {
            assert!(
                seen[i] || history[i].ret.is_none(),
                "completed op {i} missing from the linearization"
            );
        }
    }
    for (a, &i) in order.iter().enumerate() {
        for &j in &order[a + 1..] {
            // j is placed after i: j must not have returned before i was called.
            if let Some(ret) = history[j].ret {
                assert!(
                    ret >= history[i].call,
                    "op {j} (returned at {ret}) placed after op {i} (called at {})",
                    history[i].call
                );
            }
        }
    }
    let mut state = model.init();
    for &i in order {
        state = model
            .step(&state, &history[i].input, history[i].known_output())
            .unwrap_or_else(|| panic!("op {i} is illegal where it was placed"));
    }
}

/// Checks all the evidence in `result`: linearizations are valid, longest
/// prefixes are valid prefixes, and stuck operations are really rejected.
pub fn assert_evidence<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
) {
    for p in &result.partitions {
        match &p.outcome {
            Outcome::Linearizable { order } => {
                assert_linearization(model, history, &p.ops, order, true)
            }
            Outcome::NotLinearizable { longest } => {
                if let Some(refutation) = &p.refutation {
                    assert!(!refutation.ops.is_empty(), "{}: empty refutation", p.label);
                    assert!(refutation.ops.iter().all(|i| p.ops.contains(i)));
                }
                if longest.is_empty() {
                    assert!(
                        p.refutation.is_some(),
                        "{}: no prefix reported, and no refutation",
                        p.label
                    );
                    continue;
                }
                let len = longest[0].order.len();
                for prefix in longest {
                    assert_eq!(prefix.order.len(), len, "prefixes of unequal length");
                    assert_linearization(model, history, &p.ops, &prefix.order, false);
                    assert!(!prefix.stuck.is_empty(), "{}: nothing stuck", p.label);
                    let mut state = model.init();
                    for &i in &prefix.order {
                        state = model
                            .step(&state, &history[i].input, history[i].known_output())
                            .unwrap();
                    }
                    for &i in &prefix.stuck {
                        assert!(!prefix.order.contains(&i));
                        assert!(
                            model
                                .step(&state, &history[i].input, history[i].known_output())
                                .is_none(),
                            "stuck op {i} is accepted"
                        );
                    }
                }
            }
            Outcome::Unknown { longest } => {
                for prefix in longest {
                    assert_linearization(model, history, &p.ops, &prefix.order, false);
                }
            }
            Outcome::NotChecked => assert_eq!(
                result.verdict,
                Verdict::NotLinearizable,
                "{}: not checked, yet no violation",
                p.label
            ),
        }
    }
    let any = |v| result.partitions.iter().any(|p| p.outcome.verdict() == v);
    let expected = if any(Verdict::NotLinearizable) {
        Verdict::NotLinearizable
    } else if any(Verdict::Unknown) {
        Verdict::Unknown
    } else {
        Verdict::Linearizable
    };
    assert_eq!(result.verdict, expected);
}

/// The definition, by brute force: is there an order of all completed
/// operations and some pending ones that respects real time and that
/// `step` accepts from `init`? `step(state, i)` applies operation `i`.
/// Exponential: for a handful of operations only.
pub fn oracle<S: Clone>(
    calls: &[u64],
    rets: &[Option<u64>],
    init: S,
    step: &dyn Fn(&S, usize) -> Option<S>,
) -> bool {
    fn go<S: Clone>(
        calls: &[u64],
        rets: &[Option<u64>],
        used: &mut Vec<bool>,
        state: S,
        step: &dyn Fn(&S, usize) -> Option<S>,
    ) -> bool {
        if (0..calls.len()).all(|i| used[i] || rets[i].is_none()) {
            return true;
        }
        for i in 0..calls.len() {
            if used[i] {
                continue;
            }
            // i may go next only if no unplaced op returned before i's call.
            let blocked = (0..calls.len())
                .any(|j| j != i && !used[j] && rets[j].is_some_and(|r| r < calls[i]));
            if blocked {
                continue;
            }
            if let Some(next) = step(&state, i) {
                used[i] = true;
                if go(calls, rets, used, next, step) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    let mut used = vec![false; calls.len()];
    go(calls, rets, &mut used, init, step)
}

/// The oracle for a whole KV history, without partitioning: one map of
/// keys to values, each step delegated to the KV model on that key.
pub fn kv_oracle(history: &[KvOp]) -> bool {
    let calls: Vec<u64> = history.iter().map(|o| o.call).collect();
    let rets: Vec<Option<u64>> = history.iter().map(|o| o.ret).collect();
    let step = |state: &BTreeMap<String, KvState>, i: usize| {
        let op = &history[i];
        let key = op.input.key().to_string();
        let cur = state.get(&key).cloned().unwrap_or_else(|| KvModel.init());
        let next = KvModel.step(&cur, &op.input, op.known_output())?;
        let mut state = state.clone();
        state.insert(key, next);
        Some(state)
    };
    oracle(&calls, &rets, BTreeMap::new(), &step)
}

/// How to generate a correct KV history.
#[derive(Clone, Copy, Debug)]
pub struct KvShape {
    pub clients: usize,
    pub ops: usize,
    pub keys: usize,
    /// Probability that a client's op is its last: it crashes (pending).
    pub crash: f64,
    /// Probability that a completed op's output is unknown.
    pub unknown: f64,
    /// Longest gap between a client's ops and longest op duration.
    pub max_gap: u64,
    pub max_duration: u64,
    /// Whether ops include puts (else only gets and appends).
    pub puts: bool,
    /// Where in its interval an op takes effect: uniformly in the first
    /// `spread` fraction (1.0: anywhere, the hardest for the checker; a
    /// server that executes requests soon after they arrive and whose
    /// replies are slow looks like a small spread).
    pub spread: f64,
    /// Probability that a completed get is served stale: it returns the
    /// value its key had up to `stale_lag` time units before the get took
    /// effect (a deposed leader's local read). Such histories are usually
    /// not linearizable, but not always (the value may not have changed).
    pub stale: f64,
    pub stale_lag: u64,
}

impl KvShape {
    pub fn new(clients: usize, ops: usize, keys: usize) -> Self {
        KvShape {
            clients,
            ops,
            keys,
            crash: 0.0,
            unknown: 0.0,
            max_gap: 1_000,
            max_duration: 3_000,
            puts: true,
            spread: 1.0,
            stale: 0.0,
            stale_lag: 10_000,
        }
    }
}

/// A history of a correct KV store under random concurrency: each client
/// issues ops one after another; each op takes effect at a random point in
/// its interval (a crashed client's last op at a random later point, or
/// never), and outputs come from applying the ops in that order. It is
/// linearizable by construction. Ops are returned in call order.
pub fn generate_kv(seed: u64, shape: KvShape) -> Vec<KvOp> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ops: Vec<KvOp> = Vec::new();
    // (linearization point, op index), or None: never took effect.
    let mut points: Vec<Option<u64>> = Vec::new();
    let per_client = shape.ops.div_ceil(shape.clients);
    for c in 0..shape.clients {
        let mut t = rng.random_range(0..=shape.max_gap);
        for k in 0..per_client {
            if ops.len() >= shape.ops {
                break;
            }
            let key = format!("k{}", rng.random_range(0..shape.keys));
            let value = format!("x {c} {k} y");
            let input = match rng.random_range(0..10) {
                0..4 => KvInput::get(key),
                4..8 => KvInput::append(key, value),
                _ if shape.puts => KvInput::put(key, value),
                _ => KvInput::append(key, value),
            };
            let duration = rng.random_range(1..=shape.max_duration);
            let crashed = rng.random_bool(shape.crash);
            if crashed {
                ops.push(Operation::pending(c as u64, input, t));
                let took_effect = rng.random_bool(0.5);
                points.push(took_effect.then(|| t + rng.random_range(0..=2 * duration)));
                break;
            }
            ops.push(Operation::unknown(c as u64, input, t, t + duration));
            let reach = ((duration as f64) * shape.spread) as u64;
            points.push(Some(t + rng.random_range(0..=reach)));
            t += duration + rng.random_range(0..=shape.max_gap);
        }
    }
    let mut order: Vec<(u64, usize)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (p, i)))
        .collect();
    order.sort_unstable();
    let mut store: BTreeMap<String, String> = BTreeMap::new();
    // Every value each key had, with the time it was set.
    let mut versions: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for (point, i) in order {
        let op = &mut ops[i];
        let key = op.input.key().to_string();
        let value = store.entry(key.clone()).or_default();
        let output = match &op.input {
            KvInput::Get { .. } if shape.stale > 0.0 && rng.random_bool(shape.stale) => {
                let then = point.saturating_sub(rng.random_range(0..=shape.stale_lag));
                let old = versions.get(&key).and_then(|v| {
                    let at = v.partition_point(|(t, _)| *t <= then);
                    at.checked_sub(1).map(|at| v[at].1.clone())
                });
                KvOutput::Value(old.unwrap_or_default())
            }
            KvInput::Get { .. } => KvOutput::Value(value.clone()),
            KvInput::Put { value: v, .. } => {
                *value = v.clone();
                KvOutput::Done
            }
            KvInput::Append { value: v, .. } => {
                value.push_str(v);
                KvOutput::Done
            }
        };
        if !matches!(op.input, KvInput::Get { .. }) {
            versions
                .entry(key)
                .or_default()
                .push((point, store[op.input.key()].clone()));
        }
        if op.ret.is_some() && !rng.random_bool(shape.unknown) {
            op.output = Some(output);
        }
    }
    let mut indexed: Vec<(u64, usize)> = ops.iter().enumerate().map(|(i, o)| (o.call, i)).collect();
    indexed.sort_unstable();
    indexed.into_iter().map(|(_, i)| ops[i].clone()).collect()
}

pub type CasOp = Operation<CasInput, CasOutput>;

/// A Jepsen-style compare-and-set register history (the shape of the etcd
/// histories porcupine ships): `slots` processes run ops one after another
/// on one register holding 0..5 (initially absent); an op times out with
/// probability `crash` and stays pending (it took effect or not), and its
/// process continues under a new client id, as Jepsen's do. Linearizable by
/// construction unless `stale` > 0: then a read returns, with that
/// probability, the value of a few writes ago.
pub fn generate_cas(seed: u64, slots: usize, ops: usize, crash: f64, stale: f64) -> Vec<CasOp> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut history: Vec<CasOp> = Vec::new();
    let mut points: Vec<Option<u64>> = Vec::new();
    let per_slot = ops.div_ceil(slots);
    let mut next_client = slots as u64;
    for slot in 0..slots {
        let mut client = slot as u64;
        let mut t = rng.random_range(0..=100u64);
        for _ in 0..per_slot {
            let input = match rng.random_range(0..3) {
                0 => CasInput::Read,
                1 => CasInput::Write(rng.random_range(0..5)),
                _ => CasInput::Cas {
                    from: rng.random_range(0..5),
                    to: rng.random_range(0..5),
                },
            };
            let duration = rng.random_range(1..=300u64);
            if rng.random_bool(crash) {
                history.push(Operation::pending(client, input, t));
                let took_effect = rng.random_bool(0.5);
                points.push(took_effect.then(|| t + rng.random_range(0..=2 * duration)));
                client = next_client;
                next_client += 1;
            } else {
                history.push(Operation::unknown(client, input, t, t + duration));
                points.push(Some(t + rng.random_range(0..=duration)));
            }
            t += duration + rng.random_range(0..=100);
        }
    }
    let mut order: Vec<(u64, usize)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (p, i)))
        .collect();
    order.sort_unstable();
    let mut state: Option<i64> = None;
    let mut past: Vec<Option<i64>> = vec![None];
    for (_, i) in order {
        let op = &mut history[i];
        let output = match op.input {
            CasInput::Read if stale > 0.0 && rng.random_bool(stale) => {
                let back = rng.random_range(1..=3).min(past.len());
                CasOutput::Value(past[past.len() - back])
            }
            CasInput::Read => CasOutput::Value(state),
            CasInput::Write(v) => {
                state = Some(v);
                CasOutput::Done
            }
            CasInput::Cas { from, to } => {
                let ok = state == Some(from);
                if ok {
                    state = Some(to);
                }
                CasOutput::Cas(ok)
            }
        };
        if past.last() != Some(&state) {
            past.push(state);
        }
        if op.ret.is_some() {
            op.output = Some(output);
        }
    }
    let mut indexed: Vec<(u64, usize)> = history
        .iter()
        .enumerate()
        .map(|(i, o)| (o.call, i))
        .collect();
    indexed.sort_unstable();
    indexed
        .into_iter()
        .map(|(_, i)| history[i].clone())
        .collect()
}

/// `M` without its refutations: the search alone decides. Comparing the
/// two shows that refutations never change a verdict.
pub struct SearchOnly<M>(pub M);

impl<M: Model> Model for SearchOnly<M> {
    type Input = M::Input;
    type Output = M::Output;
    type State = M::State;

    fn partition(
        &self,
        history: &[Operation<M::Input, M::Output>],
    ) -> Vec<linearizability::Partition> {
        self.0.partition(history)
    }

    fn init(&self) -> M::State {
        self.0.init()
    }

    fn step(
        &self,
        state: &M::State,
        input: &M::Input,
        output: Option<&M::Output>,
    ) -> Option<M::State> {
        self.0.step(state, input, output)
    }

    fn is_read_only(&self, input: &M::Input, output: Option<&M::Output>) -> bool {
        self.0.is_read_only(input, output)
    }

    fn describe_operation(&self, input: &M::Input, output: Option<&M::Output>) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &M::State) -> String {
        self.0.describe_state(state)
    }
}
