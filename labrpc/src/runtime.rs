//! The simulation itself: one executor, one clock, one RNG, the nodes, the
//! trace, and the plugins that simulate the rest of the world (the network,
//! `crate::net`).
//!
//! A [`Sim`] lives in a thread-local while it runs; every public function of
//! this crate reaches it through [`current`]. Nothing here is `Send`: a
//! simulation runs on exactly one OS thread from start to end.
//!
//! Dependencies run one way: the network depends on the runtime, never the
//! reverse. The runtime knows a plugin only through the [`Plugin`] trait
//! (it says when a node crashed) and finds it by type ([`Sim::plugin`]).
//!
//! Invariants:
//! - Virtual time (`now`) never decreases, and moves only when no task is
//!   ready: then it jumps to the earliest pending timer.
//! - The next task to poll is drawn uniformly from the ready set by the RNG.
//! - No `RefCell` of the simulation is borrowed while a task is polled or a
//!   future is dropped, so user code may call back into the simulation from
//!   anywhere, including `Drop` implementations.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, RawWakerVTable, Wake, Waker};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use slab::Slab;

use crate::node::{NodeId, Nodes};
use crate::time::{TimerWaker, Timers};
use crate::trace::Trace;
use crate::watchdog::WatchState;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Sim>>> = const { RefCell::new(None) };
}

/// The running simulation. Panics with a clear message outside one.
pub(crate) fn current() -> Rc<Sim> {
    try_current().unwrap_or_else(|| outside_a_simulation())
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
            // Not the last reference to the simulation (the caller holds
            // one), so nothing is dropped under this borrow.
            let mine = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), prev));
            drop(mine);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().replace(sim.clone()));
    let _restore = Restore(prev);
    f()
}

/// Runs `f` with the current simulation, if any, without counting a
/// reference to it. For the runtime's own short, hot paths: `f` must not
/// enter another simulation.
#[inline]
fn with_current<R>(f: impl FnOnce(&Sim) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_deref().map(f))
}

/// Runs `f` with the current simulation, without counting a reference to
/// it; panics outside one. For short, hot paths that do not enter another
/// simulation.
#[inline]
pub(crate) fn with_sim<R>(f: impl FnOnce(&Sim) -> R) -> R {
    with_current(f).unwrap_or_else(|| outside_a_simulation())
}

/// An empty buffer for an encoded message: one a message of this
/// simulation left (see [`recycle_buffer`]), or a new one.
pub(crate) fn take_buffer() -> Vec<u8> {
    with_current(|sim| sim.buffers.borrow_mut().pop())
        .flatten()
        .unwrap_or_default()
}

/// Keeps a small message's buffer for the next message (a call and its
/// reply then allocate no bytes).
pub(crate) fn recycle_buffer(buf: Vec<u8>) {
    const KEEP: usize = 64;
    const MAX_CAPACITY: usize = 1024;
    if buf.capacity() <= MAX_CAPACITY && buf.capacity() > 0 {
        with_current(|sim| {
            let mut buffers = sim.buffers.borrow_mut();
            if buffers.len() < KEEP {
                buffers.push(buf);
            }
        });
    }
}

#[cold]
fn outside_a_simulation() -> ! {
    panic!(
        "labrpc: this function must be called inside a simulation \
         (from a test body run by labrpc::run_test or labrpc::Builder::run)"
    )
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

/// A task slot. `future` and `waker` are `None` only while the task is
/// being polled (they are moved out, so a poll touches no reference count).
struct Task {
    id: u64,
    node: NodeId,
    future: Option<LocalFuture>,
    waker: Option<Waker>,
    flag: Arc<TaskWaker>,
    /// Told the first time the task does not finish in a poll.
    on_pending: Watch,
}

/// Someone to tell when a task first waits (see [`Sim::spawn_watched`]).
pub(crate) trait OnPending {
    fn task_waits(self: Rc<Self>, sim: &Sim);
}

/// A task's [`OnPending`], until told. A task dropped unfinished before
/// it waited (its node crashed first), or never spawned, tells it as it
/// goes: it will never finish either.
struct Watch(Option<Rc<dyn OnPending>>);

impl Watch {
    /// Tells it now (at most once).
    fn tell(&mut self, sim: &Sim) {
        if let Some(w) = self.0.take() {
            w.task_waits(sim);
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.0.is_some()
            && let Some(sim) = try_current()
        {
            self.tell(&sim);
        }
    }
}

/// Where wakes from other threads land (see [`Sim::ready`]).
///
/// Every waker of a simulation is woken by code of that simulation, on its
/// thread: those wakes go straight to the simulation's ready list, without
/// a lock or an atomic read-modify-write. The `Waker` contract still lets
/// any thread (or another simulation) wake a task; such a wake goes to
/// `remote` and is moved to the list at the next pop. (The order of the
/// list decides nothing by itself: the next task is drawn from it by the
/// seeded RNG.)
struct ReadyQueue {
    /// Distinguishes this simulation's wakers from any other's.
    id: u64,
    remote: Mutex<Vec<(usize, u64)>>,
    has_remote: AtomicBool,
}

/// Source of [`ReadyQueue::id`]s (identity only: never part of a run).
static NEXT_QUEUE_ID: AtomicU64 = AtomicU64::new(1);

impl ReadyQueue {
    fn new() -> ReadyQueue {
        ReadyQueue {
            id: NEXT_QUEUE_ID.fetch_add(1, Ordering::Relaxed),
            remote: Mutex::new(Vec::new()),
            has_remote: AtomicBool::new(false),
        }
    }

    fn push_remote(&self, task: (usize, u64)) {
        let mut q = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        q.push(task);
        self.has_remote.store(true, Ordering::Release);
    }

    fn take_remote(&self) -> Vec<(usize, u64)> {
        if !self.has_remote.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut q = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        self.has_remote.store(false, Ordering::Release);
        std::mem::take(&mut *q)
    }
}

/// Wakes one task. `queued` keeps a task in the ready list at most once.
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
        let task = (self.key, self.id);
        let local = CURRENT
            .try_with(|c| match c.try_borrow() {
                Ok(c) => match c.as_deref() {
                    // On the simulation's own thread: no other thread
                    // touches `queued` but a remote wake, which swaps.
                    Some(sim) if sim.ready.id == self.ready.id => {
                        sim.push_ready(&self.queued, task)
                    }
                    _ => false,
                },
                Err(_) => false,
            })
            .unwrap_or(false);
        if !local && !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.push_remote(task);
        }
    }
}

/// A simulator of one part of the world, with state of its own per
/// simulation (madsim's plugins): the network is one. The runtime knows its
/// plugins only through this trait, so they depend on it and not the other
/// way round.
pub(crate) trait Plugin: Any {
    /// `node` crashed (its tasks are dropped already): forget what it
    /// hosted.
    fn node_crashed(&self, sim: &Sim, node: NodeId);
}

/// A plugin, as itself and as `Any` (to find it by type).
type PluginEntry = (Rc<dyn Plugin>, Rc<dyn Any>);

/// A polled task (slab key, id) and its waker's data and vtable pointers
/// (compared, never dereferenced).
type PolledTask = ((usize, u64), *const (), *const RawWakerVTable);

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
    /// Reused by [`Sim::advance`] for the wakers of due timers.
    due_timers: RefCell<Vec<TimerWaker>>,
    pub nodes: RefCell<Nodes>,
    /// The node of the task being polled (or entered with `node::enter`).
    pub current_node: Cell<NodeId>,
    /// The task being polled and its waker's identity (data, vtable).
    polled: Cell<Option<PolledTask>>,
    pub trace: RefCell<Trace>,
    /// The simulators of the world's parts, in the order first used.
    plugins: RefCell<Vec<PluginEntry>>,
    /// Message buffers to reuse (see [`take_buffer`]).
    buffers: RefCell<Vec<Vec<u8>>>,
    pub limits: Limits,
    pub watch: Arc<WatchState>,
    tasks: RefCell<Slab<Task>>,
    /// Wakers of finished tasks, for new tasks.
    waker_pool: RefCell<Vec<Arc<TaskWaker>>>,
    /// Where other threads' wakes land.
    ready: Arc<ReadyQueue>,
    /// Tasks woken since they were last polled, as (slab key, task id),
    /// each at most once.
    ready_list: RefCell<Vec<(usize, u64)>>,
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
            due_timers: RefCell::new(Vec::new()),
            nodes: RefCell::new(Nodes::new()),
            current_node: Cell::new(NodeId::TESTER),
            polled: Cell::new(None),
            trace: RefCell::new(Trace::new(record_trace)),
            plugins: RefCell::new(Vec::new()),
            buffers: RefCell::new(Vec::new()),
            limits,
            watch: WatchState::register(),
            tasks: RefCell::new(Slab::new()),
            waker_pool: RefCell::new(Vec::new()),
            ready: Arc::new(ReadyQueue::new()),
            ready_list: RefCell::new(Vec::new()),
            next_task_id: Cell::new(1),
            idle_polls: Cell::new(0),
            polls: Cell::new(0),
        })
    }

    /// This simulation's plugin of type `P`, created on first use.
    pub fn plugin<P: Plugin + Default>(&self) -> Rc<P> {
        let found = self
            .plugins
            .borrow()
            .iter()
            .find_map(|(_, any)| any.clone().downcast::<P>().ok());
        found.unwrap_or_else(|| {
            let p = Rc::new(P::default());
            self.plugins.borrow_mut().push((p.clone(), p.clone()));
            p
        })
    }

    /// Tells every plugin that `node` crashed, in the order they were
    /// first used.
    pub fn node_crashed(&self, node: NodeId) {
        let plugins: Vec<Rc<dyn Plugin>> = self
            .plugins
            .borrow()
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        for p in plugins {
            p.node_crashed(self, node);
        }
    }

    /// Adds a task on `node`; it is polled for the first time soon.
    /// Returns `None` (dropping the future) if the node is crashed.
    pub fn spawn_task(&self, node: NodeId, future: LocalFuture) -> Option<(usize, u64)> {
        self.spawn_watched(node, future, None)
    }

    /// [`Sim::spawn_task`], telling `on_pending` (once) if a poll of the
    /// task ends without finishing it, or if the task never runs (its node
    /// is crashed): the network's handlers, most of which answer in their
    /// first poll.
    pub fn spawn_watched(
        &self,
        node: NodeId,
        future: LocalFuture,
        on_pending: Option<Rc<dyn OnPending>>,
    ) -> Option<(usize, u64)> {
        let on_pending = Watch(on_pending);
        if !self.nodes.borrow().is_alive(node) {
            // `on_pending` is told as it is dropped.
            drop(future);
            return None;
        }
        let id = self.next_task_id.get();
        self.next_task_id.set(id + 1);
        let key = {
            let mut tasks = self.tasks.borrow_mut();
            let entry = tasks.vacant_entry();
            let key = entry.key();
            let flag = self.new_task_waker(key, id);
            entry.insert(Task {
                id,
                node,
                future: Some(future),
                waker: Some(Waker::from(flag.clone())),
                flag,
                on_pending,
            });
            key
        };
        self.wake_task(key, id);
        Some((key, id))
    }

    /// A waker for task `id` in slot `key`: a recycled one if any.
    fn new_task_waker(&self, key: usize, id: u64) -> Arc<TaskWaker> {
        let recycled = self.waker_pool.borrow_mut().pop();
        if let Some(mut flag) = recycled
            && let Some(w) = Arc::get_mut(&mut flag)
        {
            w.key = key;
            w.id = id;
            *w.queued.get_mut() = false;
            return flag;
        }
        Arc::new(TaskWaker {
            key,
            id,
            queued: AtomicBool::new(false),
            ready: self.ready.clone(),
        })
    }

    /// Keeps a finished task's waker for the next task, if nothing else
    /// holds it (an `Arc` allocation saved per task).
    fn recycle_waker(&self, flag: Arc<TaskWaker>) {
        const POOL: usize = 256;
        let mut pool = self.waker_pool.borrow_mut();
        if Arc::strong_count(&flag) == 1 && Arc::weak_count(&flag) == 0 && pool.len() < POOL {
            pool.push(flag);
        }
    }

    /// Wakes task `id` in slot `key`, if it still exists. (A wake only
    /// touches the ready list, so the slab may stay borrowed.)
    pub fn wake_task(&self, key: usize, id: u64) {
        if let Some(t) = self.tasks.borrow().get(key)
            && t.id == id
        {
            self.push_ready(&t.flag.queued, (key, id));
        }
    }

    /// Puts `task` in the ready list unless it is there (`queued`); on
    /// this simulation's thread only. Returns false if the list is busy
    /// (never, in practice: it is borrowed only to push or pop).
    #[inline]
    fn push_ready(&self, queued: &AtomicBool, task: (usize, u64)) -> bool {
        if queued.load(Ordering::Relaxed) {
            return true;
        }
        match self.ready_list.try_borrow_mut() {
            Ok(mut list) => {
                queued.store(true, Ordering::Relaxed);
                list.push(task);
                true
            }
            Err(_) => false,
        }
    }

    /// The task being polled, if `waker` is its own waker (not one that a
    /// combinator wrapped around it): a timer then stores the task, not a
    /// clone of the waker.
    pub fn polled_task(&self, waker: &Waker) -> Option<(usize, u64)> {
        let (task, data, vtable) = self.polled.get()?;
        (std::ptr::eq(waker.data(), data) && std::ptr::eq(waker.vtable(), vtable)).then_some(task)
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
        self.ready.take_remote();
        self.ready_list.borrow_mut().clear();
    }

    pub fn task_count(&self) -> usize {
        self.tasks.borrow().len()
    }

    fn pop_ready(&self) -> Option<(usize, u64)> {
        let mut ready = self.ready_list.borrow_mut();
        if self.ready.has_remote.load(Ordering::Relaxed) {
            ready.extend(self.ready.take_remote());
        }
        self.draw(&mut ready)
    }

    /// Takes the next task from `ready`: drawn by the seeded RNG.
    #[inline]
    fn draw(&self, ready: &mut Vec<(usize, u64)>) -> Option<(usize, u64)> {
        match ready.len() {
            0 => None,
            1 => ready.pop(),
            n => {
                let i = self.rng.borrow_mut().random_range(0..n);
                Some(ready.swap_remove(i))
            }
        }
    }

    /// Polls one task once.
    fn poll_task(&self, key: usize, id: u64) -> Result<(), Failure> {
        let (mut future, waker, node) = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(key) {
                Some(t) if t.id == id => match (t.future.take(), t.waker.take()) {
                    (Some(f), Some(w)) => {
                        t.flag.queued.store(false, Ordering::Release);
                        (f, w, t.node)
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        };
        let prev_node = self.current_node.replace(node);
        let prev_polled = self
            .polled
            .replace(Some(((key, id), waker.data(), waker.vtable())));
        let polls = self.polls.get() + 1;
        self.polls.set(polls);
        self.watch.poll_started(polls);
        let result = future.as_mut().poll(&mut Context::from_waker(&waker));
        self.watch.poll_finished(polls);
        self.polled.set(prev_polled);
        self.current_node.set(prev_node);
        let finished = match result {
            Poll::Ready(()) => true,
            Poll::Pending => {
                let mut tasks = self.tasks.borrow_mut();
                match tasks.get_mut(key) {
                    Some(t) if t.id == id => {
                        t.future = Some(future);
                        t.waker = Some(waker);
                        let mut watch = Watch(t.on_pending.0.take());
                        drop(tasks);
                        watch.tell(self);
                        return self.after_poll(node);
                    }
                    // Aborted, or its node crashed, while it was running.
                    _ => false,
                }
            }
        };
        let removed = if finished {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get(key) {
                Some(t) if t.id == id => Some(tasks.remove(key)),
                _ => None,
            }
        } else {
            None
        };
        drop(future);
        drop(waker);
        if let Some(mut task) = removed {
            // Finished: nothing to tell. (Its future and waker were moved
            // out for the poll.)
            task.on_pending.0 = None;
            self.recycle_waker(task.flag);
        }
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
        let next = self.timers.borrow_mut().next_deadline();
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
        // Woken after the timers' borrow ends; the buffer is reused.
        let mut due = std::mem::take(&mut *self.due_timers.borrow_mut());
        self.timers.borrow_mut().take_due(deadline, &mut due);
        for w in due.drain(..) {
            w.wake(self);
        }
        *self.due_timers.borrow_mut() = due;
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
