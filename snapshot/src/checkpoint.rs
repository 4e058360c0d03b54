//! Aligned checkpoints in a dataflow (part B) and exactly-once recovery
//! (part C): the keyed word-count operator, the windowed sum and the sink;
//! incremental snapshots of the word count (part D, the challenge).

// SOLUTION BEGIN
use std::collections::BTreeSet;
// SOLUTION END
// HANDOUT:

use crate::framework::dataflow::{CheckpointId, Counts, Ctx, Record, SinkState, Windows};

// SOLUTION BEGIN
/// Barrier alignment over `inputs` channels: the checkpoint being aligned
/// and the inputs whose barrier for it has arrived (blocked until the last
/// one arrives), and the last checkpoint aligned.
#[derive(Default)]
struct Alignment {
    inputs: usize,
    current: Option<(CheckpointId, BTreeSet<usize>)>,
    last: CheckpointId,
}

impl Alignment {
    fn new(inputs: usize) -> Alignment {
        Alignment {
            inputs,
            current: None,
            last: 0,
        }
    }

    fn blocked(&self, input: usize) -> bool {
        self.current
            .as_ref()
            .is_some_and(|(_, seen)| seen.contains(&input))
    }

    /// Barrier `id` arrived on `input`: whether it was the last one. A
    /// barrier of a later checkpoint abandons the one being aligned (a
    /// source never started it); one of an earlier checkpoint is stale.
    fn barrier(&mut self, input: usize, id: CheckpointId) -> bool {
        let cid = self.current.as_ref().map_or(self.last, |(cid, _)| *cid);
        if id <= self.last || (self.current.is_some() && id < cid) {
            return false;
        }
        if id > cid || self.current.is_none() {
            self.current = Some((id, BTreeSet::new()));
        }
        let (_, seen) = self.current.as_mut().expect("aligning");
        seen.insert(input);
        if seen.len() == self.inputs {
            self.current = None;
            self.last = id;
            return true;
        }
        false
    }
}
// SOLUTION END
// HANDOUT:

/// One instance of the keyed word count: it counts the keys of its
/// partition and emits each key's new count downstream.
///
/// The framework calls it on its node, one call at a time, with the events
/// of each input in channel order. While `blocked(input)` is true, the
/// framework leaves that input's events on its channel.
pub struct Operator {
    // SOLUTION BEGIN
    counts: Counts,
    align: Alignment,
    /// Keys counted since the last snapshot (incremental snapshots).
    changed: BTreeSet<String>,
    // SOLUTION END
    // HANDOUT: // Your state here (B, C).
}

impl Operator {
    /// An instance with `inputs` input channels (one per source), starting
    /// from `restored` (the state it saved for the checkpoint the job
    /// restarts from) or, if `None`, from nothing.
    pub fn new(inputs: usize, restored: Option<Counts>) -> Operator {
        // SOLUTION BEGIN
        Operator {
            counts: restored.unwrap_or_default(),
            align: Alignment::new(inputs),
            changed: BTreeSet::new(),
        }
        // SOLUTION END
        // HANDOUT: let _ = (inputs, restored);
        // HANDOUT: Operator {}
    }

    /// Whether events of `input` must wait on their channel.
    pub fn blocked(&self, input: usize) -> bool {
        // SOLUTION BEGIN
        self.align.blocked(input)
        // SOLUTION END
        // HANDOUT: let _ = input;
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Operator::blocked)")
    }

    /// A record from `input`: count it, and emit the key's new count.
    pub fn on_record(&mut self, input: usize, record: Record, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        let _ = input;
        self.changed.insert(record.key.clone());
        let count = self.counts.entry(record.key.clone()).or_default();
        *count += record.value;
        ctx.emit(Record {
            key: record.key,
            value: *count,
        });
        // SOLUTION END
        // HANDOUT: let _ = (input, record, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Operator::on_record)")
    }

    /// Checkpoint `id`'s barrier arrived on `input`. (Part D: when
    /// `ctx.incremental()`, the state is saved as an increment.)
    pub fn on_barrier(&mut self, input: usize, id: CheckpointId, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        if self.align.barrier(input, id) {
            if ctx.incremental() {
                let changed: Counts = std::mem::take(&mut self.changed)
                    .into_iter()
                    .map(|k| {
                        let n = self.counts[&k];
                        (k, n)
                    })
                    .collect();
                ctx.snapshot_operator_delta(id, &changed);
            } else {
                self.changed.clear();
                ctx.snapshot_operator(id, &self.counts);
            }
            ctx.forward_barrier(id);
        }
        // SOLUTION END
        // HANDOUT: let _ = (input, id, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Operator::on_barrier)")
    }
}

/// One instance of the windowed sum: for every key of its partition, it
/// sums the values of the key's records by tumbling windows of `size`
/// records (the key's records `0..size`, then `size..2*size`, ...), and
/// when a window is full emits `Record { key: window_key(key, index), value:
/// sum }` downstream. Its inputs are the word-count instances.
pub struct WindowSum {
    // SOLUTION BEGIN
    size: u64,
    open: Windows,
    align: Alignment,
    // SOLUTION END
    // HANDOUT: // Your state here (B, C).
}

impl WindowSum {
    /// An instance with `inputs` input channels (one per word-count
    /// instance) and windows of `size` records, starting from `restored`
    /// (the open windows it saved for the checkpoint the job restarts
    /// from) or, if `None`, from nothing.
    pub fn new(inputs: usize, size: u64, restored: Option<Windows>) -> WindowSum {
        // SOLUTION BEGIN
        WindowSum {
            size,
            open: restored.unwrap_or_default(),
            align: Alignment::new(inputs),
        }
        // SOLUTION END
        // HANDOUT: let _ = (inputs, size, restored);
        // HANDOUT: WindowSum {}
    }

    /// Whether events of `input` must wait on their channel.
    pub fn blocked(&self, input: usize) -> bool {
        // SOLUTION BEGIN
        self.align.blocked(input)
        // SOLUTION END
        // HANDOUT: let _ = input;
        // HANDOUT: labrpc::not_implemented!("Snapshot B (WindowSum::blocked)")
    }

    /// A record from `input`: add it to its key's open window, and emit
    /// the window's sum if it is full.
    pub fn on_record(&mut self, input: usize, record: Record, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        let _ = input;
        let w = self.open.entry(record.key.clone()).or_default();
        w.records += 1;
        w.sum += record.value;
        if w.records == self.size {
            ctx.emit(Record {
                key: crate::window_key(&record.key, w.index),
                value: w.sum,
            });
            w.index += 1;
            w.records = 0;
            w.sum = 0;
        }
        // SOLUTION END
        // HANDOUT: let _ = (input, record, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (WindowSum::on_record)")
    }

    /// Checkpoint `id`'s barrier arrived on `input`.
    pub fn on_barrier(&mut self, input: usize, id: CheckpointId, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        if self.align.barrier(input, id) {
            ctx.snapshot_window(id, &self.open);
            ctx.forward_barrier(id);
        }
        // SOLUTION END
        // HANDOUT: let _ = (input, id, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (WindowSum::on_barrier)")
    }
}

/// The sink: it receives every key's counts from the operators and writes
/// them to the external output, exactly once.
pub struct Sink {
    // SOLUTION BEGIN
    state: SinkState,
    /// Records received since the last aligned barrier.
    staged: Vec<Record>,
    align: Alignment,
    // SOLUTION END
    // HANDOUT: // Your state here (B, C).
}

impl Sink {
    /// The sink, with `inputs` input channels (one per operator instance),
    /// starting from `restored` (its state saved for checkpoint
    /// `completed`, the one the job restarts from) or from nothing.
    pub fn new(
        inputs: usize,
        restored: Option<SinkState>,
        completed: Option<CheckpointId>,
        ctx: &Ctx<'_>,
    ) -> Sink {
        // SOLUTION BEGIN
        let mut sink = Sink {
            state: restored.unwrap_or_default(),
            staged: Vec::new(),
            align: Alignment::new(inputs),
        };
        if let Some(id) = completed {
            sink.on_complete(id, ctx);
        }
        sink.state.pending.clear();
        sink
        // SOLUTION END
        // HANDOUT: let _ = (inputs, restored, completed, ctx);
        // HANDOUT: Sink {}
    }

    /// Whether events of `input` must wait on their channel.
    pub fn blocked(&self, input: usize) -> bool {
        // SOLUTION BEGIN
        self.align.blocked(input)
        // SOLUTION END
        // HANDOUT: let _ = input;
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Sink::blocked)")
    }

    /// A record (a key's new count) from `input`.
    pub fn on_record(&mut self, input: usize, record: Record, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        let _ = (input, ctx);
        self.staged.push(record);
        // SOLUTION END
        // HANDOUT: let _ = (input, record, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Sink::on_record)")
    }

    /// Checkpoint `id`'s barrier arrived on `input`.
    pub fn on_barrier(&mut self, input: usize, id: CheckpointId, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        if self.align.barrier(input, id) {
            let staged = std::mem::take(&mut self.staged);
            self.state.pending.insert(id, staged);
            ctx.snapshot_sink(id, &self.state);
        }
        // SOLUTION END
        // HANDOUT: let _ = (input, id, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Sink::on_barrier)")
    }

    /// Checkpoint `id` completed (every task saved its state).
    pub fn on_complete(&mut self, id: CheckpointId, ctx: &Ctx<'_>) {
        // SOLUTION BEGIN
        let later = self.state.pending.split_off(&(id + 1));
        for (done, records) in std::mem::replace(&mut self.state.pending, later) {
            ctx.commit(done, records);
        }
        // SOLUTION END
        // HANDOUT: let _ = (id, ctx);
        // HANDOUT: labrpc::not_implemented!("Snapshot B (Sink::on_complete)")
    }
}
