//! A task of the job on its node: the channels in and out, the source's
//! loop, the operator's and the sink's delivery, and [`Ctx`], what the
//! student's code may do.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use labrpc::notify::Notify;
use labrpc::time::sleep;
use labrpc::{Persister, task};
use serde::{Deserialize, Serialize};

use crate::framework::dataflow::align::AlignWatch;
use crate::framework::dataflow::coordinator::{Ack, coord};
use crate::framework::dataflow::output::{Commit, output};
use crate::framework::dataflow::{
    CheckpointId, Counts, Event, Record, SinkState, TaskId, Windows, partition, store,
};
use crate::framework::link::{Accepted, Batch, Receiver, Sender};
use crate::{Operator, Sink, WindowSum};

/// Wait between two tries of a control message or a commit.
const RETRY: Duration = Duration::from_millis(10);

/// A control message of attempt `epoch` about checkpoint `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// The job's attempt.
    pub epoch: u64,
    /// The checkpoint.
    pub id: CheckpointId,
}

labrpc::service! {
    /// A task's incoming dataflow channels.
    pub service stream {
        /// Delivers the events not yet delivered and not refused; the next
        /// event number expected.
        fn deliver(Batch<Event>) -> u64;
    }
}

labrpc::service! {
    /// What the coordinator tells a task.
    pub service control {
        /// A source starts checkpoint `id`.
        fn trigger(Control) -> ();
        /// Checkpoint `id` completed.
        fn complete(Control) -> ();
    }
}

/// What every task has: who it is, its attempt, its store, its output
/// channels, the coordinator.
pub(crate) struct Shared {
    pub(crate) task: TaskId,
    pub(crate) epoch: u64,
    pub(crate) persister: Persister,
    pub(crate) outputs: Vec<Rc<Sender<Event>>>,
    pub(crate) capacity: usize,
    pub(crate) coord: coord::Client,
    /// The sink's commits not yet acknowledged by the output, in order.
    pub(crate) commits: RefCell<VecDeque<Commit>>,
    pub(crate) commit_wake: Notify,
    /// What the framework sees of the task's alignment.
    pub(crate) align: RefCell<AlignWatch>,
    /// Whether the job takes incremental snapshots (challenge).
    pub(crate) incremental: bool,
    /// The checkpoint of the task's latest state in its store: the one it
    /// restarted from, then the latest it saved (an increment's base).
    pub(crate) base: Cell<Option<CheckpointId>>,
}

impl Shared {
    fn has_room(&self) -> bool {
        self.outputs.iter().all(|o| o.backlog() < self.capacity)
    }

    /// Saves `state` for checkpoint `id` and acknowledges it to the
    /// coordinator (resent until it answers).
    fn save_and_ack<T: Serialize>(&self, id: CheckpointId, state: &T) {
        self.save_and_ack_sent(id, state, None);
    }

    /// Saves `state` for checkpoint `id`, of which `sent` bytes were sent
    /// (all of it if `None`), and acknowledges it.
    fn save_and_ack_sent<T: Serialize>(&self, id: CheckpointId, state: &T, sent: Option<u64>) {
        let full_bytes = store::put(&self.persister, id, state) as u64;
        self.align.borrow_mut().saved(id);
        self.base.set(Some(id));
        let ack = Ack {
            task: self.task,
            epoch: self.epoch,
            id,
            bytes: sent.unwrap_or(full_bytes),
            full_bytes,
        };
        let coord = self.coord.clone();
        task::spawn(async move {
            while coord.ack(&ack).await.is_err() {
                sleep(RETRY).await;
            }
        })
        .detach();
    }
}

/// What an operator's or the sink's code may do, during a call.
pub struct Ctx<'a> {
    sh: &'a Shared,
}

impl Ctx<'_> {
    pub(crate) fn new(sh: &Shared) -> Ctx<'_> {
        Ctx { sh }
    }

    /// Sends `record` downstream (an operator's output goes to the sink).
    ///
    /// # Panics
    /// At the sink, which has no output channel.
    pub fn emit(&self, record: Record) {
        assert!(
            !self.sh.outputs.is_empty(),
            "emit: {:?} has no output",
            self.sh.task
        );
        let to = partition(&record.key, self.sh.outputs.len());
        self.sh.outputs[to].push(Event::Record(record));
    }

    /// Sends checkpoint `id`'s barrier on every output channel (none at
    /// the sink).
    pub fn forward_barrier(&self, id: CheckpointId) {
        for out in &self.sh.outputs {
            out.push(Event::Barrier(id));
        }
    }

    /// An operator saves its state for checkpoint `id` in its durable
    /// store and acknowledges the checkpoint to the coordinator.
    pub fn snapshot_operator(&self, id: CheckpointId, state: &Counts) {
        self.sh.save_and_ack(id, state);
    }

    /// Whether the job takes incremental snapshots of the word count
    /// (the challenge): then an operator saves its state with
    /// [`Ctx::snapshot_operator_delta`].
    pub fn incremental(&self) -> bool {
        self.sh.incremental
    }

    /// An operator saves checkpoint `id`'s state as an increment: `changed`
    /// holds the keys whose counts changed since the state it saved last
    /// (or restarted from), with their new counts, and nothing else. The
    /// store applies it to that state (as an incremental state backend
    /// would when it restores); only `changed` counts as sent.
    pub fn snapshot_operator_delta(&self, id: CheckpointId, changed: &Counts) {
        let sh = self.sh;
        let base = sh.base.get();
        let mut full: Counts = base
            .and_then(|b| store::get(&sh.persister, b))
            .unwrap_or_default();
        let same: Vec<&String> = changed
            .iter()
            .filter(|&(k, v)| full.get(k) == Some(v))
            .map(|(k, _)| k)
            .take(3)
            .collect();
        let align = sh.align.borrow();
        let mut log = align.log().borrow_mut();
        if !same.is_empty() && log.wrong_deltas.len() < 5 {
            log.wrong_deltas.push(format!(
                "{:?}'s increment for checkpoint {id} holds keys whose counts did not change since checkpoint {base:?}: {same:?} (first few)",
                sh.task
            ));
        }
        drop(log);
        drop(align);
        full.extend(changed.iter().map(|(k, v)| (k.clone(), *v)));
        let sent = labrpc::labcodec::encode(changed).expect("encodes").len() as u64;
        sh.save_and_ack_sent(id, &full, Some(sent));
    }

    /// A windowed-sum instance saves its state for checkpoint `id` in its
    /// durable store and acknowledges the checkpoint to the coordinator.
    pub fn snapshot_window(&self, id: CheckpointId, state: &Windows) {
        self.sh.save_and_ack(id, state);
    }

    /// The sink saves its state for checkpoint `id` in its durable store
    /// and acknowledges the checkpoint to the coordinator.
    pub fn snapshot_sink(&self, id: CheckpointId, state: &SinkState) {
        self.sh.save_and_ack(id, state);
    }

    /// The sink commits checkpoint `id`'s records to the external output:
    /// sent in the order of the calls, resent until the output has them.
    /// Committing an id again is ignored by the output (with the same
    /// records).
    pub fn commit(&self, id: CheckpointId, records: Vec<Record>) {
        self.sh
            .commits
            .borrow_mut()
            .push_back(Commit { id, records });
        self.sh.commit_wake.notify();
    }
}

/// A source: reads its partition of the input from `offset` on, one
/// record every `gap`, and injects barriers when the coordinator asks.
pub(crate) struct SourceTask {
    pub(crate) sh: Rc<Shared>,
    pub(crate) data: Rc<Vec<String>>,
    pub(crate) offset: Cell<u64>,
    pub(crate) gap: Duration,
    pub(crate) triggers: RefCell<VecDeque<CheckpointId>>,
    /// The latest checkpoint triggered (a repeated or late trigger of an
    /// older one is ignored).
    pub(crate) last_trigger: Cell<CheckpointId>,
    pub(crate) wake: Notify,
}

impl SourceTask {
    /// Checkpoints asked for: save the offset, send the barrier, ack.
    fn take_triggers(&self) {
        while let Some(id) = self.triggers.borrow_mut().pop_front() {
            self.sh.save_and_ack(id, &self.offset.get());
            for out in &self.sh.outputs {
                out.push(Event::Barrier(id));
            }
        }
    }

    pub(crate) async fn run(self: Rc<Self>) {
        loop {
            self.take_triggers();
            let off = self.offset.get() as usize;
            let Some(word) = self.data.get(off) else {
                self.wake.notified().await;
                continue;
            };
            let out = &self.sh.outputs[partition(word, self.sh.outputs.len())];
            out.wait_room(self.sh.capacity).await;
            self.take_triggers();
            out.push(Event::Record(Record {
                key: word.clone(),
                value: 1,
            }));
            self.offset.set(off as u64 + 1);
            sleep(self.gap).await;
        }
    }
}

/// An operator instance or the sink, driven by its incoming channels.
pub(crate) enum Consumer {
    Operator(RefCell<Operator>),
    Window(RefCell<WindowSum>),
    Sink(RefCell<Sink>),
}

/// A task with inputs: its consumer and what it shares.
pub(crate) struct ConsumerTask {
    pub(crate) sh: Rc<Shared>,
    pub(crate) consumer: Consumer,
}

impl ConsumerTask {
    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx { sh: &self.sh }
    }

    /// Offers one event from input `input`: refused while the input is
    /// blocked, or (a record) while the output channels are full.
    pub(crate) fn offer(&self, input: usize, event: Event) -> Accepted {
        let blocked = match &self.consumer {
            Consumer::Operator(op) => op.borrow().blocked(input),
            Consumer::Window(w) => w.borrow().blocked(input),
            Consumer::Sink(sink) => sink.borrow().blocked(input),
        };
        self.sh.align.borrow().blocked(input, blocked);
        let is_op = !matches!(self.consumer, Consumer::Sink(_));
        if blocked || (is_op && !self.sh.has_room()) {
            return false;
        }
        match &event {
            Event::Record(_) => self.sh.align.borrow_mut().record(input),
            Event::Barrier(id) => self.sh.align.borrow_mut().barrier(input, *id),
        }
        let ctx = self.ctx();
        match (&self.consumer, event) {
            (Consumer::Operator(op), Event::Record(r)) => op.borrow_mut().on_record(input, r, &ctx),
            (Consumer::Operator(op), Event::Barrier(id)) => {
                op.borrow_mut().on_barrier(input, id, &ctx)
            }
            (Consumer::Window(w), Event::Record(r)) => w.borrow_mut().on_record(input, r, &ctx),
            (Consumer::Window(w), Event::Barrier(id)) => w.borrow_mut().on_barrier(input, id, &ctx),
            (Consumer::Sink(sink), Event::Record(r)) => sink.borrow_mut().on_record(input, r, &ctx),
            (Consumer::Sink(sink), Event::Barrier(id)) => {
                sink.borrow_mut().on_barrier(input, id, &ctx)
            }
        }
        true
    }

    /// Checkpoint `id` completed.
    pub(crate) fn complete(&self, id: CheckpointId) {
        store::prune_below(&self.sh.persister, id);
        if let Consumer::Sink(sink) = &self.consumer {
            sink.borrow_mut().on_complete(id, &self.ctx());
        }
    }

    /// The sink's commits, sent in order to the output (a task of the
    /// sink's node).
    pub(crate) async fn commit_pump(self: Rc<Self>, out: output::Client) {
        loop {
            let front = self.sh.commits.borrow().front().cloned();
            let Some(commit) = front else {
                self.sh.commit_wake.notified().await;
                continue;
            };
            match out.commit(&commit).await {
                Ok(()) => {
                    self.sh.commits.borrow_mut().pop_front();
                }
                Err(_) => sleep(RETRY).await,
            }
        }
    }
}

/// A task's incoming channels, delayed by `delay` per batch (a slow
/// consumer).
pub(crate) struct Inbound<F: Fn(usize, Event) -> Accepted + 'static> {
    pub(crate) rx: Receiver<Event, F>,
    pub(crate) delay: Duration,
}

impl<F: Fn(usize, Event) -> Accepted + 'static> stream::Service for Inbound<F> {
    async fn deliver(&self, batch: Batch<Event>) -> u64 {
        if !self.delay.is_zero() {
            sleep(self.delay).await;
        }
        self.rx.receive(batch)
    }
}

/// A task's control server.
pub(crate) enum Controlled {
    Source(Rc<SourceTask>),
    Consumer(Rc<ConsumerTask>),
}

pub(crate) struct ControlServer {
    pub(crate) epoch: u64,
    pub(crate) task: Controlled,
}

impl control::Service for ControlServer {
    async fn trigger(&self, c: Control) {
        if let (true, Controlled::Source(s)) = (c.epoch == self.epoch, &self.task)
            && c.id > s.last_trigger.get()
        {
            s.last_trigger.set(c.id);
            s.triggers.borrow_mut().push_back(c.id);
            s.wake.notify();
        }
    }

    async fn complete(&self, c: Control) {
        if c.epoch != self.epoch {
            return;
        }
        match &self.task {
            Controlled::Source(s) => store::prune_below(&s.sh.persister, c.id),
            Controlled::Consumer(t) => t.complete(c.id),
        }
    }
}
