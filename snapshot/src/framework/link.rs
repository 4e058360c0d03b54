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

use crate::framework::app::Message;

/// Whether a receiver took a message: `false` leaves it (and every later
/// one) on the channel, to be offered again at the next call.
pub(crate) type Accepted = bool;

/// Most messages in one call.
const MAX_BATCH: usize = 32;
/// Wait after a failed call before resending.
const RETRY: Duration = Duration::from_millis(5);

/// One call's worth of a channel: messages `first`, `first + 1`, ... of
/// the channel from `from`, sent in the job's attempt `epoch` (0 for the
/// token system; a receiver ignores another attempt's messages).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch<M> {
    /// The sender (a process, or a dataflow task's index).
    pub from: usize,
    /// The attempt the sender belongs to.
    pub epoch: u64,
    /// The number of `msgs[0]` on its channel (from 0).
    pub first: u64,
    /// The messages, in order.
    pub msgs: Vec<M>,
}

labrpc::service! {
    /// A process's incoming channels.
    pub service link {
        /// Delivers the messages not yet delivered; the reply is the
        /// number of the next message expected from `from`.
        fn deliver(Batch<Message>) -> u64;
    }
}

/// The sending end of one channel: messages not yet acknowledged.
pub(crate) struct Sender<M> {
    queue: RefCell<VecDeque<M>>,
    /// The number of `queue[0]`.
    first: Cell<u64>,
    wake: Notify,
    /// Woken when messages are acknowledged (room on the channel).
    room: Notify,
}

impl<M> Default for Sender<M> {
    fn default() -> Self {
        Sender {
            queue: RefCell::new(VecDeque::new()),
            first: Cell::new(0),
            wake: Notify::default(),
            room: Notify::default(),
        }
    }
}

impl<M: Clone + 'static> Sender<M> {
    /// Puts `msg` on the channel (it will be delivered after every message
    /// put there before it).
    pub(crate) fn push(&self, msg: M) {
        self.queue.borrow_mut().push_back(msg);
        self.wake.notify();
    }

    /// Waits until fewer than `capacity` messages are unacknowledged (one
    /// waiter per channel).
    pub(crate) async fn wait_room(&self, capacity: usize) {
        while self.backlog() >= capacity {
            self.room.notified().await;
        }
    }

    /// Messages on the channel not yet acknowledged by the receiver.
    pub(crate) fn backlog(&self) -> usize {
        self.queue.borrow().len()
    }

    fn next_batch(&self, from: usize, epoch: u64) -> Option<Batch<M>> {
        let queue = self.queue.borrow();
        (!queue.is_empty()).then(|| Batch {
            from,
            epoch,
            first: self.first.get(),
            msgs: queue.iter().take(MAX_BATCH).cloned().collect(),
        })
    }

    /// Drops the messages the receiver has; whether it took them all.
    fn ack(&self, next: u64) -> bool {
        let mut queue = self.queue.borrow_mut();
        while self.first.get() < next {
            queue
                .pop_front()
                .expect("the receiver acknowledged a message never sent");
            self.first.set(self.first.get() + 1);
        }
        self.room.notify();
        queue.is_empty()
    }

    /// Sends the queue to the receiver through `deliver` (one call at a
    /// time), forever: a task of the sending node. A receiver that leaves
    /// messages on the channel is offered them again after a pause.
    pub(crate) async fn pump<F, Fut>(self: Rc<Self>, from: usize, epoch: u64, deliver: F)
    where
        F: Fn(Batch<M>) -> Fut,
        Fut: std::future::Future<Output = Result<u64, labrpc::RpcError>>,
    {
        loop {
            let Some(batch) = self.next_batch(from, epoch) else {
                self.wake.notified().await;
                continue;
            };
            let sent = batch.first + batch.msgs.len() as u64;
            match deliver(batch).await {
                Ok(next) => {
                    self.ack(next);
                    if next < sent {
                        sleep(RETRY).await;
                    }
                }
                Err(_) => sleep(RETRY).await,
            }
        }
    }
}

/// The receiving ends of a node's incoming channels: the number of the
/// next message expected on each, and where delivered messages go.
pub(crate) struct Receiver<M, F: Fn(usize, M) -> Accepted + 'static> {
    epoch: u64,
    next: RefCell<BTreeMap<usize, u64>>,
    deliver: F,
    _msg: std::marker::PhantomData<M>,
}

impl<M, F: Fn(usize, M) -> Accepted + 'static> Receiver<M, F> {
    pub(crate) fn new(epoch: u64, deliver: F) -> Receiver<M, F> {
        Receiver {
            epoch,
            next: RefCell::new(BTreeMap::new()),
            deliver,
            _msg: std::marker::PhantomData,
        }
    }

    /// Offers the batch's new messages in order, until one is refused; the
    /// number of the next message expected (`u64::MAX`, meaning "nothing
    /// more", for another attempt's batch: its sender is gone).
    pub(crate) fn receive(&self, batch: Batch<M>) -> u64 {
        if batch.epoch != self.epoch {
            return u64::MAX;
        }
        let mut next = *self.next.borrow().get(&batch.from).unwrap_or(&0);
        assert!(
            batch.first <= next,
            "channel {} skipped messages {next}..{}",
            batch.from,
            batch.first
        );
        let skip = (next - batch.first) as usize;
        for msg in batch.msgs.into_iter().skip(skip) {
            if !(self.deliver)(batch.from, msg) {
                break;
            }
            next += 1;
        }
        self.next.borrow_mut().insert(batch.from, next);
        next
    }
}

impl<F: Fn(usize, Message) -> Accepted + 'static> link::Service for Receiver<Message, F> {
    async fn deliver(&self, batch: Batch<Message>) -> u64 {
        self.receive(batch)
    }
}
