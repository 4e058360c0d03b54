//! The dataflow parts' harness: waits for a job's output, checks every
//! completed checkpoint (a consistent cut of the dataflow) and the output
//! (exactly once), and reports the checkpoints' latency and size.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use labrpc::time::{Instant, sleep};
use snapshot::{Checkpoint, Counts, Job, OpenWindow, Record, Windows, partition, window_key};

/// How often the tester looks at the output.
const POLL: Duration = Duration::from_millis(5);

/// The counts the operator instance `p` must have saved in `cp`: those of
/// the records the sources had read at their saved offsets.
fn counts_at(job: &Job, cp: &Checkpoint, p: usize) -> Counts {
    let operators = job.config().operators;
    let mut counts = Counts::new();
    for (s, &off) in cp.offsets.iter().enumerate() {
        for w in &job.input(s)[..off as usize] {
            if partition(w, operators) == p {
                *counts.entry(w.clone()).or_default() += 1;
            }
        }
    }
    counts
}

/// Every key's count among the records the sources had read at `cp`'s
/// offsets.
fn totals_at(job: &Job, cp: &Checkpoint) -> Counts {
    let mut all = Counts::new();
    for p in 0..job.config().operators {
        all.extend(counts_at(job, cp, p));
    }
    all
}

/// The open windows windowed-sum instance `q` must have saved in `cp`:
/// every key it has seen, with the index of its next window and the
/// counts after its last full window (none after a full one: the index
/// must still be kept, or the key's next window gets an old index).
fn windows_at(job: &Job, cp: &Checkpoint, q: usize) -> Windows {
    let size = job.config().window;
    totals_at(job, cp)
        .into_iter()
        .filter(|(k, _)| partition(k, job.config().windows) == q)
        .map(|(k, n)| {
            let index = n / size;
            let sum = (index * size + 1..=n).sum();
            let w = OpenWindow {
                index,
                records: n % size,
                sum,
            };
            (k, w)
        })
        .collect()
}

/// The output the records before `cp`'s barriers produce: every key's
/// counts up to its count there, or (with a window stage) its full
/// windows.
fn output_at(job: &Job, cp: &Checkpoint) -> BTreeSet<Record> {
    let size = job.config().window;
    let mut out = BTreeSet::new();
    for (k, n) in totals_at(job, cp) {
        if job.config().windows == 0 {
            out.extend((1..=n).map(|value| Record {
                key: k.clone(),
                value,
            }));
        } else {
            out.extend((0..n / size).map(|j| Record {
                key: window_key(&k, j),
                value: (j * size + 1..=(j + 1) * size).sum(),
            }));
        }
    }
    out
}

/// Checks that every windowed-sum instance saved exactly the open windows
/// of the records before the barriers.
fn check_windows(job: &Job, cp: &Checkpoint) {
    let id = cp.info.id;
    for (q, saved) in cp.windows.iter().enumerate() {
        let want = windows_at(job, cp, q);
        let got: Windows = saved
            .iter()
            .filter(|(_, w)| **w != OpenWindow::default())
            .map(|(k, w)| (k.clone(), *w))
            .collect();
        if let Some(key) = want
            .keys()
            .chain(got.keys())
            .find(|k| got.get(*k) != want.get(*k))
        {
            panic!(
                "checkpoint {id} is not a consistent cut: window instance {q} saved {key:?}'s open window as {:?}, but the records before the barriers (source offsets {:?}) leave it {:?}",
                got.get(key),
                cp.offsets,
                want.get(key)
            );
        }
    }
}

/// Checks one completed checkpoint: every operator's state is exactly the
/// count of the records before the barriers, every window instance's its
/// open windows, and the sink's last segment holds only output those
/// records produce.
pub fn check_checkpoint(job: &Job, cp: &Checkpoint) {
    let id = cp.info.id;
    for p in 0..job.config().operators {
        let want = counts_at(job, cp, p);
        let got = &cp.counts[p];
        if *got != want {
            let key = want
                .keys()
                .chain(got.keys())
                .find(|k| got.get(*k) != want.get(*k))
                .expect("they differ");
            panic!(
                "checkpoint {id} is not a consistent cut: operator {p} saved {key:?} = {:?}, but the records before the barriers (source offsets {:?}) give {:?}",
                got.get(key),
                cp.offsets,
                want.get(key)
            );
        }
    }
    check_windows(job, cp);
    let prefix = output_at(job, cp);
    for r in cp.sink.pending.get(&id).into_iter().flatten() {
        assert!(
            prefix.contains(r),
            "checkpoint {id} is not a consistent cut: the sink saved the output {r:?}, which the records before the barriers (source offsets {:?}) do not produce",
            cp.offsets
        );
    }
}

/// Waits (at most `limit`) until the output holds as many records as a
/// failure-free run's, then a little longer, and checks it is exactly that
/// run's output: every record once, none missing, none extra.
pub async fn check_output(job: &Rc<Job>, limit: Duration) {
    let expected = job.expected_output();
    let start = Instant::now();
    while total(job) < expected.len() && start.elapsed() < limit {
        sleep(POLL).await;
    }
    sleep(job.config().interval * 3).await;
    check_blocking(job);
    let conflicts = job.conflicts();
    assert!(
        conflicts.is_empty(),
        "the sink's commits contradict each other: {conflicts:?}"
    );
    let mut seen: BTreeMap<&Record, u64> = BTreeMap::new();
    let committed = job.committed();
    for (&id, records) in &committed {
        for r in records {
            if let Some(first) = seen.insert(r, id) {
                panic!(
                    "output emitted twice: {r:?} committed with checkpoint {first} and again with checkpoint {id} ({} restarts)",
                    job.restarts()
                );
            }
        }
    }
    let got: BTreeSet<&Record> = seen.keys().copied().collect();
    let missing: Vec<&Record> = expected
        .iter()
        .filter(|r| !got.contains(r))
        .take(5)
        .collect();
    let extra: Vec<&&Record> = got
        .iter()
        .filter(|r| !expected.contains(r))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the output differs from a failure-free run's ({} records committed of {}, {} restarts): missing {missing:?}, not expected {extra:?} (first few)",
        got.len(),
        expected.len(),
        job.restarts()
    );
    check_sink_cuts(job);
}

/// Checks, for every completed checkpoint, that the output committed
/// under it and the checkpoints before it is exactly what the records
/// before its barriers produce: the sink's side of the cut.
pub fn check_sink_cuts(job: &Job) {
    let committed = job.committed();
    for cp in job.checkpoints() {
        let id = cp.info.id;
        let prefix = output_at(job, &cp);
        let upto: BTreeSet<Record> = committed
            .range(..=id)
            .flat_map(|(_, r)| r.iter().cloned())
            .collect();
        if upto != prefix {
            let missing: Vec<&Record> = prefix.difference(&upto).take(3).collect();
            let extra: Vec<&Record> = upto.difference(&prefix).take(3).collect();
            panic!(
                "checkpoint {id} is not a consistent cut at the sink: the output committed with it and before it holds {} records, but the records before its barriers (source offsets {:?}) make {}: missing {missing:?}, not expected {extra:?} (first few)",
                upto.len(),
                cp.offsets,
                prefix.len()
            );
        }
    }
}

fn total(job: &Job) -> usize {
    job.committed().values().map(Vec::len).sum()
}

/// Checks every checkpoint completed so far; their count, and a line of
/// their numbers (latency, size) to print.
pub fn check_checkpoints(job: &Job, at_least: usize) -> (u64, String) {
    let cps = job.checkpoints();
    for cp in &cps {
        check_checkpoint(job, cp);
    }
    check_buffer(job);
    assert!(
        cps.len() >= at_least,
        "only {} checkpoints completed; expected at least {at_least}",
        cps.len()
    );
    let n = cps.len().max(1) as f64;
    let lat: Vec<f64> = cps
        .iter()
        .map(|c| c.info.latency.as_secs_f64() * 1000.0)
        .collect();
    let size: Vec<u64> = cps.iter().map(|c| c.info.bytes).collect();
    let buffered = job.max_buffered().map_or(0, |b| b.records);
    let line = format!(
        "  checkpoints: {} completed, {} restarts; latency mean {:.1} ms, max {:.1} ms; size mean {:.0} bytes, max {} bytes; alignment buffer max {buffered} records",
        cps.len(),
        job.restarts(),
        lat.iter().sum::<f64>() / n,
        lat.iter().copied().fold(0.0, f64::max),
        size.iter().sum::<u64>() as f64 / n,
        size.iter().max().copied().unwrap_or(0)
    );
    (cps.len() as u64, line)
}

/// Checks that no task blocked an input on which no barrier was waiting
/// (one whose barrier has not arrived, or one still blocked after the
/// task saved its state): alignment would wait for ever.
pub fn check_blocking(job: &Job) {
    let (wrong, count) = job.wrong_blocks();
    assert!(
        wrong.is_empty(),
        "an input was blocked while no barrier of it was waiting ({count} times; only inputs whose barrier arrived wait, and all are released once the state is saved): {wrong:?} (first few)"
    );
}

/// Checks that no task took more than a channel's capacity of records
/// from an input between its barrier and the snapshot (records it must
/// have kept aside: its alignment buffer).
pub fn check_buffer(job: &Job) {
    let bound = job.config().capacity;
    if let Some(b) = job.max_buffered() {
        assert!(
            b.records <= bound,
            "alignment buffer unbounded: {:?} took {} records from its input {} after checkpoint {}'s barrier on it and before saving its state (at most {bound}, a channel's capacity): leave a blocked input's records on its channel (`blocked`), or stop taking them when your buffer is full",
            b.task,
            b.records,
            b.input,
            b.checkpoint
        );
    }
}
