//! Tasks: lightweight futures that belong to a node.
//!
//! Guarantees:
//! - A task spawned with [`spawn`] runs on the node of the task that spawned
//!   it; [`spawn_on`] names the node. When that node crashes the task is
//!   dropped at once and never polled again.
//! - Tasks need not be `Send`: share one node's state with `Rc<RefCell<_>>`.
//! - Awaiting a [`JoinHandle`] gives the task's output, or [`JoinError`] if
//!   the task was aborted or its node crashed first. Dropping a handle
//!   detaches the task; it keeps running.
//! - A panic in any task fails the whole simulation, naming the node.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::node::NodeId;
use crate::runtime;

/// The task was aborted, or its node crashed, before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinError;

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task was cancelled: it was aborted or its node crashed")
    }
}

impl std::error::Error for JoinError {}

struct JoinState<T> {
    result: Option<Result<T, JoinError>>,
    waiter: Option<Waker>,
}

impl<T> JoinState<T> {
    fn finish(&mut self, r: Result<T, JoinError>) {
        if self.result.is_none() {
            self.result = Some(r);
            if let Some(w) = self.waiter.take() {
                w.wake();
            }
        }
    }
}

/// Marks the join state cancelled if the task is dropped unfinished.
struct CancelGuard<T>(Rc<RefCell<JoinState<T>>>);

impl<T> Drop for CancelGuard<T> {
    fn drop(&mut self) {
        self.0.borrow_mut().finish(Err(JoinError));
    }
}

/// An owned permission to await or abort a task.
#[must_use = "dropping a JoinHandle detaches the task; call .detach() to say so"]
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
    task: Option<(usize, u64)>,
}

impl<T> JoinHandle<T> {
    /// Drops the task now (if it has not finished). Awaiting the handle then
    /// yields `Err(JoinError)`.
    pub fn abort(&self) {
        if let Some((key, id)) = self.task
            && let Some(sim) = runtime::try_current()
        {
            sim.abort_task(key, id);
        }
        self.state.borrow_mut().finish(Err(JoinError));
    }

    /// Lets the task run on its own; its output is dropped.
    pub fn detach(self) {}

    /// Whether the task has finished (completed, aborted or crashed).
    pub fn is_finished(&self) -> bool {
        self.state.borrow().result.is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.state.borrow_mut();
        match st.result.take() {
            Some(r) => {
                // Keep a marker so `is_finished` stays true.
                st.result = Some(Err(JoinError));
                Poll::Ready(r)
            }
            None => {
                st.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.task)
            .finish()
    }
}

/// Spawns `future` on the current node.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let node = runtime::current().current_node.get();
    spawn_on(node, future)
}

/// Spawns `future` on `node`. If the node is crashed the future is dropped
/// and the handle resolves to `Err(JoinError)`.
pub fn spawn_on<F>(node: NodeId, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let sim = runtime::current();
    let state = Rc::new(RefCell::new(JoinState {
        result: None,
        waiter: None,
    }));
    let guard = CancelGuard(state.clone());
    let task = sim.spawn_task(
        node,
        Box::pin(async move {
            let out = future.await;
            guard.0.borrow_mut().finish(Ok(out));
        }),
    );
    JoinHandle { state, task }
}

/// Spawns `future` on `node` with no handle to it (cheaper than
/// [`spawn_on`] and dropping the handle: no join state).
pub(crate) fn spawn_detached_on(node: NodeId, future: impl Future<Output = ()> + 'static) {
    spawn_boxed_on(node, Box::pin(future));
}

/// [`spawn_detached_on`] for a future that is boxed already.
pub(crate) fn spawn_boxed_on(node: NodeId, future: runtime::LocalFuture) {
    runtime::current().spawn_task(node, future);
}

/// Gives up the thread: this task goes back to the ready set and the next
/// task to run is drawn from it by the seeded RNG (possibly this one again).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
