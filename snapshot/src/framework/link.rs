//! FIFO channels on the simulator.
//!
//! labrpc's network may lose, delay and reorder calls, so a channel is
//! built on it: the sender numbers its messages and sends them in batches,
//! one call at a time, resending a batch until a reply says how far the
//! receiver got; the receiver delivers each message once, in order, and
//! answers with the number of the next one it expects. Every message put
//! on a channel is therefore delivered exactly once and in the order it
//! was sent, whatever the network does (as long as it eventually delivers).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use labrpc::notify::Notify;
use labrpc::time::sleep;
use serde::{Deserialize, Serialize};

use crate::framework::app::{Message, ProcId};

/// Most messages in one call.
const MAX_BATCH: usize = 32;
/// Wait after a failed call before resending.
const RETRY: Duration = Duration::from_millis(5);

/// One call's worth of a channel: messages `first`, `first + 1`, ... of
/// the channel from `from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The sending process.
    pub from: ProcId,
    /// The number of `msgs[0]` on its channel (from 0).
    pub first: u64,
    /// The messages, in order.
    pub msgs: Vec<Message>,
}

labrpc::service! {
    /// A process's incoming channels.
    pub service link {
        /// Delivers the messages not yet delivered; the reply is the
        /// number of the next message expected from `from`.
        fn deliver(Batch) -> u64;
    }
}

/// The sending end of one channel: messages not yet acknowledged.
#[derive(Default)]
pub(crate) struct Sender {
    queue: RefCell<VecDeque<Message>>,
    /// The number of `queue[0]`.
    first: Cell<u64>,
    wake: Notify,
}

impl Sender {
    /// Puts `msg` on the channel (it will be delivered after every message
    /// put there before it).
    pub(crate) fn push(&self, msg: Message) {
        self.queue.borrow_mut().push_back(msg);
        self.wake.notify();
    }

    /// Messages on the channel not yet acknowledged by the receiver.
    pub(crate) fn backlog(&self) -> usize {
        self.queue.borrow().len()
    }

    fn next_batch(&self, from: ProcId) -> Option<Batch> {
        let queue = self.queue.borrow();
        (!queue.is_empty()).then(|| Batch {
            from,
            first: self.first.get(),
            msgs: queue.iter().take(MAX_BATCH).copied().collect(),
        })
    }

    fn ack(&self, next: u64) {
        let mut queue = self.queue.borrow_mut();
        while self.first.get() < next {
            queue
                .pop_front()
                .expect("the receiver acknowledged a message never sent");
            self.first.set(self.first.get() + 1);
        }
    }

    /// Sends the queue to the receiver through `client`, forever (a task of
    /// the sending process's node).
    pub(crate) async fn pump(self: Rc<Self>, from: ProcId, client: link::Client) {
        loop {
            let Some(batch) = self.next_batch(from) else {
                self.wake.notified().await;
                continue;
            };
            match client.deliver(&batch).await {
                Ok(next) => self.ack(next),
                Err(_) => sleep(RETRY).await,
            }
        }
    }
}

/// The receiving ends of a process's incoming channels: the number of the
/// next message expected on each, and where delivered messages go.
pub(crate) struct Receiver<F: Fn(ProcId, Message) + 'static> {
    next: RefCell<BTreeMap<ProcId, u64>>,
    deliver: F,
}

impl<F: Fn(ProcId, Message) + 'static> Receiver<F> {
    pub(crate) fn new(deliver: F) -> Receiver<F> {
        Receiver {
            next: RefCell::new(BTreeMap::new()),
            deliver,
        }
    }
}

impl<F: Fn(ProcId, Message) + 'static> link::Service for Receiver<F> {
    async fn deliver(&self, batch: Batch) -> u64 {
        let mut next = *self.next.borrow().get(&batch.from).unwrap_or(&0);
        assert!(
            batch.first <= next,
            "channel {} skipped messages {next}..{}",
            batch.from,
            batch.first
        );
        let skip = (next - batch.first) as usize;
        for msg in batch.msgs.into_iter().skip(skip) {
            (self.deliver)(batch.from, msg);
            next += 1;
        }
        self.next.borrow_mut().insert(batch.from, next);
        next
    }
}
