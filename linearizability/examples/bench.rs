//! Milliseconds per check on large generated KV histories.
//!
//! ```text
//! cargo run --release -p linearizability --example bench
//! cargo run --release -p linearizability --example bench -- --porcupine-kv c10-ok.txt
//! ```
//!
//! Histories come from `tests/common` (a correct store under random
//! concurrency); "bad" ones have one read changed to a value never written.
//! `--porcupine-kv FILE` also times a history in the format of porcupine's
//! `test_data/kv/*.txt` (Jepsen-style `{:process 3, :type :invoke, ...}`
//! lines), so the same input can be compared with porcupine's own
//! `BenchmarkKv*` figures.
#![allow(clippy::disallowed_methods)] // a benchmark reads the wall clock

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{KvOp, KvShape, generate_kv};
use linearizability::{
    CheckOptions, Event, KvInput, KvModel, KvOutput, Verdict, check_with, operations_from_events,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Median wall time of checking `h`, and its verdict.
fn time_check(h: &[KvOp], threads: Option<usize>) -> (Duration, Verdict) {
    let options = CheckOptions {
        timeout: Some(TIMEOUT),
        threads,
        ..CheckOptions::default()
    };
    let first = check_with(&KvModel, h, &options);
    let runs = if first.elapsed < Duration::from_millis(20) {
        21
    } else {
        3
    };
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let r = check_with(&KvModel, h, &options);
            assert_eq!(r.verdict, first.verdict);
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    (times[runs / 2], first.verdict)
}

fn corrupt(mut h: Vec<KvOp>) -> Vec<KvOp> {
    let victim = h
        .iter()
        .position(|o| matches!(o.input, KvInput::Get { .. }) && o.known_output().is_some())
        .expect("a read");
    let victim = victim + (h.len() - victim) / 2;
    let victim = (victim..h.len())
        .find(|&i| matches!(h[i].input, KvInput::Get { .. }) && h[i].known_output().is_some())
        .unwrap_or(victim);
    h[victim].output = Some(KvOutput::value("zzz"));
    h
}

fn report(name: &str, histories: &[Vec<KvOp>], threads: Option<usize>) {
    let mut times = Vec::new();
    let mut verdicts = [0usize; 3];
    for h in histories {
        let (t, v) = time_check(h, threads);
        times.push(t.as_secs_f64() * 1e3);
        verdicts[match v {
            Verdict::Linearizable => 0,
            Verdict::NotLinearizable => 1,
            Verdict::Unknown => 2,
        }] += 1;
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{name:<52} {:>3} {:>9.3} {:>9.3} {:>9.3}   ok/bad/unknown {}/{}/{}",
        threads.map_or(String::from("all"), |t| t.to_string()),
        mean,
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
        verdicts[0],
        verdicts[1],
        verdicts[2]
    );
}

/// Parses porcupine's `test_data/kv` format: one event a line, in time order.
fn porcupine_kv(text: &str) -> Vec<KvOp> {
    fn field<'a>(line: &'a str, name: &str) -> &'a str {
        let start = line.find(name).expect("field") + name.len();
        let rest = &line[start..];
        if let Some(quoted) = rest.strip_prefix('"') {
            &quoted[..quoted.find('"').expect("closing quote")]
        } else {
            rest[..rest.find([',', '}']).unwrap_or(rest.len())].trim()
        }
    }
    let mut events = Vec::new();
    let mut next_id = 0u64;
    let mut open = std::collections::BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let process: u64 = field(line, ":process ").parse().expect("process");
        let key = field(line, ":key ");
        let value = field(line, ":value ");
        match field(line, ":type ") {
            ":invoke" => {
                let input = match field(line, ":f ") {
                    ":get" => KvInput::get(key),
                    ":put" => KvInput::put(key, value),
                    _ => KvInput::append(key, value),
                };
                open.insert(process, next_id);
                events.push(Event::Call {
                    client: process,
                    id: next_id,
                    input,
                });
                next_id += 1;
            }
            _ => {
                let id = open.remove(&process).expect("a return matches a call");
                let output = match field(line, ":f ") {
                    ":get" => KvOutput::value(if value == "nil" { "" } else { value }),
                    _ => KvOutput::Done,
                };
                events.push(Event::Return {
                    id,
                    output: Some(output),
                });
            }
        }
    }
    operations_from_events(events).expect("a well-formed event log")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds = 0..8u64;
    println!(
        "{:<52} {:>3} {:>9} {:>9} {:>9}   (ms per check; median of runs per history, over {} histories; timeout {:?})",
        "history", "thr", "mean", "median", "worst", seeds.end, TIMEOUT
    );
    let server_like = |clients, ops, keys| {
        let mut s = KvShape::new(clients, ops, keys);
        s.spread = 0.3;
        s
    };
    let uniform = |clients, ops, keys, gap| {
        let mut s = KvShape::new(clients, ops, keys);
        s.max_gap = gap;
        s
    };
    let cases: Vec<(&str, KvShape)> = vec![
        (
            "10 clients, 350 ops, 10 keys (c10-like)",
            server_like(10, 350, 10),
        ),
        ("50 clients, 2000 ops, 10 keys", server_like(50, 2000, 10)),
        (
            "50 clients, 2000 ops, 10 keys, uniform points",
            uniform(50, 2000, 10, 1000),
        ),
        ("10 clients, 2000 ops, 1 hot key", server_like(10, 2000, 1)),
        (
            "10 clients, 2000 ops, 1 hot key, uniform points",
            uniform(10, 2000, 1, 3000),
        ),
    ];
    for (name, shape) in &cases {
        let histories: Vec<Vec<KvOp>> = seeds.clone().map(|s| generate_kv(s, *shape)).collect();
        for threads in [Some(1), None] {
            report(name, &histories, threads);
        }
        let bad: Vec<Vec<KvOp>> = histories.into_iter().map(corrupt).collect();
        report(&format!("{name}, bad"), &bad, Some(1));
    }
    if let Some(at) = args.iter().position(|a| a == "--porcupine-kv") {
        for path in &args[at + 1..] {
            let h = porcupine_kv(&std::fs::read_to_string(path).expect("readable file"));
            let name = format!("{path} ({} ops)", h.len());
            report(&name, std::slice::from_ref(&h), Some(1));
        }
    }
}
