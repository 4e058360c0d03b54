//! The simulation itself: one executor, one clock, one RNG, one network.
//!
//! A [`Sim`] lives in a thread-local while it runs; every public function of
//! this crate reaches it through [`current`]. Nothing here is `Send`: a
//! simulation runs on exactly one OS thread from start to end.
//!
//! Invariants:
//! - Virtual time (`now`) never decreases, and moves only when no task is
//!   ready: then it jumps to the earliest pending timer.
//! - The next task to poll is drawn uniformly from the ready set by the RNG.
//! - No `RefCell` of the simulation is borrowed while a task is polled or a
//!   future is dropped, so user code may call back into the simulation from
//!   anywhere, including `Drop` implementations.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use slab::Slab;

use crate::net::NetState;
use crate::node::{NodeId, Nodes};
use crate::time::Timers;
use crate::trace::Trace;
use crate::watchdog::WatchState;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Sim>>> = const { RefCell::new(None) };
}

/// The running simulation. Panics with a clear message outside one.
pub(crate) fn current() -> Rc<Sim> {
    try_current().unwrap_or_else(|| {
        panic!(
            "labrpc: this function must be called inside a simulation \
             (from a test body run by labrpc::run_test or labrpc::Builder::run)"
        )
    })
}

/// The running simulation, if this thread is inside one.
pub(crate) fn try_current() -> Option<Rc<Sim>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes `sim` current for the duration of `f`, restoring the previous one.
pub(crate) fn enter<R>(sim: &Rc<Sim>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Rc<Sim>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().replace(sim.clone()));
    let _restore = Restore(prev);
    f()
}

/// Limits that turn a stuck simulation into a clear failure.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    /// Virtual time after which the run fails.
    pub time_limit_nanos: u64,
    /// Polls in a row without virtual time moving before the run fails.
    pub livelock_polls: u64,
}

pub(crate) type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A task slot. `future` is `None` only while the task is being polled.
struct Task {
    id: u64,
    node: NodeId,
    future: Option<LocalFuture>,
    waker: Arc<TaskWaker>,
}

/// Tasks woken since they were last polled, as (slab key, task id).
#[derive(Default)]
struct ReadyQueue(Mutex<Vec<(usize, u64)>>);

/// Wakes one task. `queued` keeps a task in the ready queue at most once.
struct TaskWaker {
    key: usize,
    id: u64,
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            let mut q = self.ready.0.lock().unwrap_or_else(|e| e.into_inner());
            q.push((self.key, self.id));
        }
    }
}

/// Why a run stopped early; turned into the failure message by the harness.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    Deadlock { tasks: usize },
    Livelock { polls: u64 },
    TimeLimit { limit_nanos: u64 },
    Stalled { wall_ms: u64 },
}

pub(crate) struct Sim {
    pub seed: u64,
    pub rng: RefCell<ChaCha8Rng>,
    /// Virtual nanoseconds since the simulation started.
    pub now: Cell<u64>,
    pub timers: RefCell<Timers>,
    pub nodes: RefCell<Nodes>,
    /// The node of the task being polled (or entered with `node::enter`).
    pub current_node: Cell<NodeId>,
    pub trace: RefCell<Trace>,
    pub net: RefCell<NetState>,
    pub limits: Limits,
    pub watch: Arc<WatchState>,
    tasks: RefCell<Slab<Task>>,
    ready: Arc<ReadyQueue>,
    next_task_id: Cell<u64>,
    /// Polls since virtual time last moved.
    idle_polls: Cell<u64>,
    pub polls: Cell<u64>,
}

impl Sim {
    pub fn new(seed: u64, limits: Limits, record_trace: bool) -> Rc<Sim> {
        Rc::new(Sim {
            seed,
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)),
            now: Cell::new(0),
            timers: RefCell::new(Timers::default()),
            nodes: RefCell::new(Nodes::new()),
            current_node: Cell::new(NodeId::TESTER),
            trace: RefCell::new(Trace::new(record_trace)),
            net: RefCell::new(NetState::default()),
            limits,
            watch: WatchState::register(),
            tasks: RefCell::new(Slab::new()),
            ready: Arc::new(ReadyQueue::default()),
            next_task_id: Cell::new(1),
            idle_polls: Cell::new(0),
            polls: Cell::new(0),
        })
    }

    /// Adds a task on `node`; it is polled for the first time soon.
    /// Returns `None` (dropping the future) if the node is crashed.
    pub fn spawn_task(&self, node: NodeId, future: LocalFuture) -> Option<(usize, u64)> {
        if !self.nodes.borrow().is_alive(node) {
            drop(future);
            return None;
        }
        let id = self.next_task_id.get();
        self.next_task_id.set(id + 1);
        let key = {
            let mut tasks = self.tasks.borrow_mut();
            let entry = tasks.vacant_entry();
            let key = entry.key();
            let waker = Arc::new(TaskWaker {
                key,
                id,
                queued: AtomicBool::new(false),
                ready: self.ready.clone(),
            });
            entry.insert(Task {
                id,
                node,
                future: Some(future),
                waker,
            });
            key
        };
        self.wake_task(key, id);
        Some((key, id))
    }

    fn wake_task(&self, key: usize, id: u64) {
        let waker = {
            let tasks = self.tasks.borrow();
            match tasks.get(key) {
                Some(t) if t.id == id => t.waker.clone(),
                _ => return,
            }
        };
        waker.wake_by_ref();
    }

    /// Drops a task (abort). Its future is dropped after all borrows end.
    pub fn abort_task(&self, key: usize, id: u64) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get(key) {
                Some(t) if t.id == id => Some(tasks.remove(key)),
                _ => None,
            }
        };
        drop(removed);
    }

    /// Drops every task of `node`, in slab order (deterministic).
    pub fn drop_node_tasks(&self, node: NodeId) -> usize {
        let removed: Vec<Task> = {
            let mut tasks = self.tasks.borrow_mut();
            let keys: Vec<usize> = tasks
                .iter()
                .filter(|(_, t)| t.node == node)
                .map(|(k, _)| k)
                .collect();
            keys.into_iter().map(|k| tasks.remove(k)).collect()
        };
        let n = removed.len();
        drop(removed);
        n
    }

    /// Drops every remaining task (end of the simulation).
    pub fn drop_all_tasks(&self) {
        loop {
            let batch: Vec<Task> = {
                let mut tasks = self.tasks.borrow_mut();
                if tasks.is_empty() {
                    break;
                }
                tasks.drain().collect()
            };
            drop(batch);
        }
        self.ready
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn task_count(&self) -> usize {
        self.tasks.borrow().len()
    }

    fn pop_ready(&self) -> Option<(usize, u64)> {
        let mut q = self.ready.0.lock().unwrap_or_else(|e| e.into_inner());
        match q.len() {
            0 => None,
            1 => q.pop(),
            n => {
                let i = self.rng.borrow_mut().random_range(0..n);
                Some(q.swap_remove(i))
            }
        }
    }

    /// Polls one task once.
    fn poll_task(&self, key: usize, id: u64) -> Result<(), Failure> {
        let (mut future, waker, node) = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(key) {
                Some(t) if t.id == id => match t.future.take() {
                    Some(f) => (f, t.waker.clone(), t.node),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            }
        };
        waker.queued.store(false, Ordering::Release);
        let waker = Waker::from(waker);
        let prev_node = self.current_node.replace(node);
        let polls = self.polls.get() + 1;
        self.polls.set(polls);
        self.watch.poll_started(polls);
        let result = future.as_mut().poll(&mut Context::from_waker(&waker));
        self.watch.poll_finished(polls);
        self.current_node.set(prev_node);
        let finished = match result {
            Poll::Ready(()) => true,
            Poll::Pending => {
                let mut tasks = self.tasks.borrow_mut();
                match tasks.get_mut(key) {
                    Some(t) if t.id == id => {
                        t.future = Some(future);
                        return self.after_poll(node);
                    }
                    // Aborted, or its node crashed, while it was running.
                    _ => false,
                }
            }
        };
        if finished {
            let removed = {
                let mut tasks = self.tasks.borrow_mut();
                match tasks.get(key) {
                    Some(t) if t.id == id => Some(tasks.remove(key)),
                    _ => None,
                }
            };
            drop(removed);
        }
        drop(future);
        self.after_poll(node)
    }

    fn after_poll(&self, node: NodeId) -> Result<(), Failure> {
        if let Some(wall_ms) = self.watch.take_stall() {
            self.current_node.set(node);
            return Err(Failure::Stalled { wall_ms });
        }
        let idle = self.idle_polls.get() + 1;
        self.idle_polls.set(idle);
        if idle > self.limits.livelock_polls {
            self.current_node.set(node);
            return Err(Failure::Livelock { polls: idle });
        }
        Ok(())
    }

    /// Advances virtual time to the earliest timer and wakes every timer
    /// due then. Fails if there is none (deadlock) or it lies past the limit.
    fn advance(&self) -> Result<(), Failure> {
        let next = self.timers.borrow().next_deadline();
        let Some(deadline) = next else {
            return Err(Failure::Deadlock {
                tasks: self.task_count(),
            });
        };
        if deadline > self.limits.time_limit_nanos {
            self.now
                .set(self.limits.time_limit_nanos.max(self.now.get()));
            return Err(Failure::TimeLimit {
                limit_nanos: self.limits.time_limit_nanos,
            });
        }
        debug_assert!(deadline >= self.now.get(), "virtual time went backwards");
        self.now.set(deadline);
        self.idle_polls.set(0);
        let due = self.timers.borrow_mut().take_due(deadline);
        for w in due {
            w.wake();
        }
        Ok(())
    }

    /// Runs until `done()` holds, or fails.
    pub fn run_until(&self, mut done: impl FnMut() -> bool) -> Result<(), Failure> {
        loop {
            if done() {
                return Ok(());
            }
            match self.pop_ready() {
                Some((key, id)) => self.poll_task(key, id)?,
                None => self.advance()?,
            }
        }
    }
}
