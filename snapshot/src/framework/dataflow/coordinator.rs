//! The checkpoint coordinator: every `interval` it starts a checkpoint at
//! the sources, collects every task's acknowledgement, and then records
//! the checkpoint as completed (durably) and tells every task.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use labrpc::notify::Notify;
use labrpc::time::{Instant, sleep, timeout};
use labrpc::{Persister, task};
use serde::{Deserialize, Serialize};

use crate::framework::dataflow::job::CheckpointInfo;
use crate::framework::dataflow::task::{Control, control};
use crate::framework::dataflow::{CheckpointId, TaskId};

/// A checkpoint not completed within this is abandoned.
const CHECKPOINT_TIMEOUT: Duration = Duration::from_secs(3);
/// Wait between two tries of a control message.
const RETRY: Duration = Duration::from_millis(10);

/// A task acknowledges checkpoint `id`: its state is saved (`bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Who.
    pub task: TaskId,
    /// Its attempt.
    pub epoch: u64,
    /// The checkpoint.
    pub id: CheckpointId,
    /// The size of the state it sent (a delta, with incremental
    /// snapshots).
    pub bytes: u64,
    /// The size of its whole state.
    pub full_bytes: u64,
}

labrpc::service! {
    /// The coordinator.
    pub service coord {
        /// A task acknowledges a checkpoint.
        fn ack(Ack) -> ();
    }
}

/// The coordinator's durable state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CoordState {
    /// The next checkpoint id to use.
    pub(crate) next_id: CheckpointId,
    /// The latest completed checkpoint.
    pub(crate) completed: Option<CheckpointId>,
}

impl CoordState {
    pub(crate) fn load(p: &Persister) -> CoordState {
        let bytes = p.read_state();
        if bytes.is_empty() {
            return CoordState {
                next_id: 1,
                completed: None,
            };
        }
        labrpc::labcodec::decode(&bytes).expect("the coordinator's state decodes")
    }

    fn save(&self, p: &Persister) {
        p.save(labrpc::labcodec::encode(self).expect("encodes"), Vec::new());
    }
}

pub(crate) struct Pending {
    id: CheckpointId,
    started: Instant,
    acked: BTreeMap<TaskId, (u64, u64)>,
}

/// The coordinator of one attempt.
pub(crate) struct Coordinator {
    pub(crate) epoch: u64,
    pub(crate) persister: Persister,
    pub(crate) interval: Duration,
    /// Every task, with its control client; sources first.
    pub(crate) tasks: Vec<(TaskId, control::Client)>,
    pub(crate) pending: RefCell<Option<Pending>>,
    pub(crate) acked: Notify,
    /// Told of every completed checkpoint (the job's log).
    pub(crate) on_complete: Box<dyn Fn(CheckpointInfo)>,
}

impl Coordinator {
    fn all_acked(&self) -> bool {
        self.pending
            .borrow()
            .as_ref()
            .is_some_and(|p| p.acked.len() == self.tasks.len())
    }

    /// Sends `call` to `client` until it answers (or the attempt ends with
    /// the node).
    fn send(client: &control::Client, c: Control, complete: bool) {
        let client = client.clone();
        task::spawn(async move {
            loop {
                let r = if complete {
                    client.complete(&c).await
                } else {
                    client.trigger(&c).await
                };
                if r.is_ok() {
                    break;
                }
                sleep(RETRY).await;
            }
        })
        .detach();
    }

    /// One checkpoint: trigger, wait for every ack, complete.
    async fn checkpoint(&self) {
        let mut state = CoordState::load(&self.persister);
        let id = state.next_id;
        state.next_id += 1;
        state.save(&self.persister);
        *self.pending.borrow_mut() = Some(Pending {
            id,
            started: Instant::now(),
            acked: BTreeMap::new(),
        });
        let c = Control {
            epoch: self.epoch,
            id,
        };
        for (t, client) in &self.tasks {
            if matches!(t, TaskId::Source(_)) {
                Coordinator::send(client, c, false);
            }
        }
        let all = async {
            while !self.all_acked() {
                self.acked.notified().await;
            }
        };
        if timeout(CHECKPOINT_TIMEOUT, all).await.is_err() {
            self.pending.borrow_mut().take();
            return;
        }
        let p = self.pending.borrow_mut().take().expect("pending");
        state.completed = Some(id);
        state.save(&self.persister);
        (self.on_complete)(CheckpointInfo {
            id,
            latency: p.started.elapsed(),
            bytes: p.acked.values().map(|a| a.0).sum(),
            full_bytes: p.acked.values().map(|a| a.1).sum(),
        });
        for (_, client) in &self.tasks {
            Coordinator::send(client, c, true);
        }
    }

    pub(crate) async fn run(self: Rc<Self>) {
        loop {
            sleep(self.interval).await;
            self.checkpoint().await;
        }
    }
}

impl coord::Service for Coordinator {
    async fn ack(&self, a: Ack) {
        if a.epoch != self.epoch {
            return;
        }
        if let Some(p) = self.pending.borrow_mut().as_mut()
            && p.id == a.id
        {
            p.acked.insert(a.task, (a.bytes, a.full_bytes));
        }
        self.acked.notify();
    }
}
