//! Milliseconds per check on generated histories: the rows of issue 11's
//! table, and more.
//!
//! ```text
//! cargo bench -p linearizability --bench bench
//! cargo bench -p linearizability --bench bench -- --only "hot key"
//! cargo bench -p linearizability --bench bench -- --porcupine-kv c10-ok.txt
//! cargo bench -p linearizability --bench bench -- --write DIR   # then time lincheck on them
//! ```
//!
//! Histories come from `tests/common`: correct stores under random
//! concurrency; "stale" ones serve some reads from an old version of the
//! key (a deposed leader's local read), "zzz" ones have one read changed to
//! a value never written. "fast" is the default check (stop at the first
//! violating partition); "all" explains every partition (`--all`).
//! `--porcupine-kv FILE` also times a history in the format of porcupine's
//! `test_data/kv/*.txt` (Jepsen-style `{:process 3, :type :invoke, ...}`
//! lines), so the same input can be compared with porcupine's own
//! `BenchmarkKv*` figures.
#![allow(clippy::disallowed_methods)] // a benchmark reads the wall clock

#[path = "../tests/checker/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{KvOp, KvShape, generate_cas, generate_kv};
use linearizability::{
    CasRegisterModel, CheckOptions, Event, KvInput, KvModel, KvOutput, KvUnpartitionedModel, Model,
    Operation, Outcome, Verdict, check_with, operations_from_events, write_history,
};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Median wall time of checking `h`, its verdict, and how many partitions
/// were explained as violations / left unknown.
fn time_check<M: Model>(
    model: &M,
    h: &[Operation<M::Input, M::Output>],
    options: &CheckOptions<'_>,
) -> (Duration, Verdict, usize, usize) {
    let first = check_with(model, h, options);
    let runs = if first.elapsed < Duration::from_millis(20) {
        21
    } else {
        3
    };
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let r = check_with(model, h, options);
            assert!(
                r.verdict == first.verdict || r.verdict == Verdict::Unknown,
                "verdicts differ between runs"
            );
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    let explained = first
        .partitions
        .iter()
        .filter(
            |p| matches!(&p.outcome, Outcome::NotLinearizable { longest } if !longest.is_empty()),
        )
        .count();
    let unknown = first
        .partitions
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Unknown { .. }))
        .count();
    (times[runs / 2], first.verdict, explained, unknown)
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

fn report<M: Model>(
    name: &str,
    model: &M,
    histories: &[Vec<Operation<M::Input, M::Output>>],
    options: &CheckOptions<'_>,
) {
    // `--only TEXT`: just the rows whose name contains TEXT.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--only")
        && !args
            .get(at + 1)
            .is_some_and(|only| name.contains(only.as_str()))
    {
        return;
    }
    let mut times = Vec::new();
    let mut verdicts = [0usize; 3];
    let (mut explained, mut unknown) = (0, 0);
    for h in histories {
        let (t, v, e, u) = time_check(model, h, options);
        times.push(t.as_secs_f64() * 1e3);
        explained += e;
        unknown += u;
        verdicts[match v {
            Verdict::Linearizable => 0,
            Verdict::NotLinearizable => 1,
            Verdict::Unknown => 2,
        }] += 1;
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let mode = match (options.all, options.threads) {
        (true, _) => String::from("all"),
        (false, Some(t)) => format!("fast/{t}"),
        (false, None) => String::from("fast"),
    };
    println!(
        "{name:<58} {mode:>6} {:>4} {:>9.3} {:>9.3} {:>9.3}   ok/bad/unknown {}/{}/{}  explained/unknown parts {explained}/{unknown}",
        histories[0].len(),
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
        "{:<58} {:>6} {:>4} {:>9} {:>9} {:>9}   (ms per check; median of runs per history, over {} histories unless said; timeout {:?}, --all 2 s)",
        "history", "mode", "ops", "mean", "median", "worst", seeds.end, TIMEOUT
    );
    let fast = CheckOptions {
        timeout: Some(TIMEOUT),
        ..CheckOptions::default()
    };
    let fast1 = CheckOptions {
        threads: Some(1),
        ..fast
    };
    let all = CheckOptions {
        timeout: Some(Duration::from_secs(2)),
        all: true,
        ..CheckOptions::default()
    };
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
    let stale = |mut s: KvShape, p| {
        s.stale = p;
        s
    };
    let kv = |shape: KvShape| -> Vec<Vec<KvOp>> {
        seeds.clone().map(|s| generate_kv(s, shape)).collect()
    };

    // Issue 11's table.
    let ok50 = kv(server_like(50, 2000, 10));
    report(
        "KV 50 clients x 10 keys, linearizable",
        &KvModel,
        &ok50,
        &fast,
    );
    let bad50 = kv(stale(server_like(50, 2000, 10), 0.02));
    report(
        "KV 50 x 10, stale reads (several keys)",
        &KvModel,
        &bad50,
        &fast,
    );
    report(
        "KV 50 x 10, stale reads (several keys)",
        &KvModel,
        &bad50,
        &all,
    );
    let uni50 = kv(stale(uniform(50, 2000, 10, 1000), 0.02));
    report(
        "KV 50 x 10, uniform points, stale reads",
        &KvModel,
        &uni50,
        &fast,
    );
    report(
        "KV 50 x 10, uniform points, stale reads",
        &KvModel,
        &uni50,
        &all,
    );
    let cas_ok: Vec<_> = (0..102)
        .map(|s| generate_cas(s, 5, 300, 0.05, 0.0))
        .collect();
    report(
        "cas-register, Jepsen-style, 102 histories, ok",
        &CasRegisterModel,
        &cas_ok,
        &fast,
    );
    let cas_bad: Vec<_> = (0..102)
        .map(|s| generate_cas(s, 5, 300, 0.05, 0.02))
        .collect();
    report(
        "cas-register, Jepsen-style, 102 histories, stale",
        &CasRegisterModel,
        &cas_bad,
        &fast,
    );
    let c10 = kv(server_like(10, 350, 10));
    report(
        "KV 10 clients, 350 ops, 10 keys, --no-partition, ok",
        &KvUnpartitionedModel,
        &c10,
        &fast,
    );
    let c10_bad = kv(stale(server_like(10, 350, 10), 0.05));
    report(
        "KV 10 clients, 350 ops, 10 keys, --no-partition, stale",
        &KvUnpartitionedModel,
        &c10_bad,
        &fast,
    );
    let c10_zzz: Vec<_> = c10.iter().cloned().map(corrupt).collect();
    report(
        "KV 10 clients, 350 ops, 10 keys, --no-partition, zzz",
        &KvUnpartitionedModel,
        &c10_zzz,
        &fast,
    );
    for (name, shape) in [
        ("hot key: 10 clients, 1000 ops", server_like(10, 1000, 1)),
        (
            "hot key: 10 clients, 1000 ops, uniform points",
            uniform(10, 1000, 1, 3000),
        ),
    ] {
        let ok = kv(shape);
        report(name, &KvModel, &ok, &fast1);
        let bad = kv(stale(shape, 0.02));
        report(&format!("{name}, stale"), &KvModel, &bad, &fast1);
        let zzz: Vec<_> = ok.into_iter().map(corrupt).collect();
        report(&format!("{name}, zzz"), &KvModel, &zzz, &fast1);
    }

    // More shapes.
    let cases: Vec<(&str, KvShape)> = vec![
        (
            "10 clients, 350 ops, 10 keys (c10-like)",
            server_like(10, 350, 10),
        ),
        (
            "50 clients, 2000 ops, 10 keys, uniform points",
            uniform(50, 2000, 10, 1000),
        ),
        ("10 clients, 2000 ops, 1 hot key", server_like(10, 2000, 1)),
    ];
    for (name, shape) in &cases {
        let histories = kv(*shape);
        report(name, &KvModel, &histories, &fast1);
        report(name, &KvModel, &histories, &fast);
        let bad: Vec<Vec<KvOp>> = histories.into_iter().map(corrupt).collect();
        report(&format!("{name}, zzz"), &KvModel, &bad, &fast1);
    }
    // `--write DIR`: save the row histories as JSON lines, so that
    // `lincheck` (one process per file) can be timed on them.
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|at| args.get(at + 1))
    {
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir).expect("a writable directory");
        let save = |name: String, write: &dyn Fn(std::fs::File) -> std::io::Result<()>| {
            write(std::fs::File::create(dir.join(name)).expect("a writable file"))
                .expect("written");
        };
        for (i, h) in cas_ok.iter().enumerate() {
            save(format!("cas-ok-{i:03}.jsonl"), &|f| {
                write_history(&CasRegisterModel, h, f)
            });
        }
        for (i, h) in bad50.iter().enumerate() {
            save(format!("kv50-stale-{i}.jsonl"), &|f| {
                write_history(&KvModel, h, f)
            });
        }
        for (i, h) in ok50.iter().enumerate() {
            save(format!("kv50-ok-{i}.jsonl"), &|f| {
                write_history(&KvModel, h, f)
            });
        }
        println!("histories written to {}", dir.display());
    }
    if let Some(at) = args.iter().position(|a| a == "--porcupine-kv") {
        for path in &args[at + 1..] {
            let h = porcupine_kv(&std::fs::read_to_string(path).expect("readable file"));
            let name = format!("{path} ({} ops)", h.len());
            report(&name, &KvModel, std::slice::from_ref(&h), &fast1);
            report(
                &format!("{name}, --no-partition"),
                &KvUnpartitionedModel,
                std::slice::from_ref(&h),
                &fast1,
            );
        }
    }
}
