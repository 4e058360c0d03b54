//! A one-value channel between tasks of one simulation.
//!
//! `futures::channel::oneshot` works across threads, and pays for it with
//! an `Arc`, atomics and locks on every message. A simulation runs on one
//! thread, so the network uses this one instead: the same semantics (the
//! receiver is woken when the value is sent or the sender is dropped; a send
//! to a dropped receiver gives the value back), on an `Rc<RefCell<_>>`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::future::FusedFuture;

struct State<T> {
    value: Option<T>,
    waiter: Option<Waker>,
    sender_alive: bool,
    receiver_alive: bool,
}

/// Sends the one value.
pub(crate) struct Sender<T>(Rc<RefCell<State<T>>>);

/// Waits for the value: `Err(Canceled)` if the sender is dropped first.
pub(crate) struct Receiver<T> {
    state: Option<Rc<RefCell<State<T>>>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canceled;

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let state = Rc::new(RefCell::new(State {
        value: None,
        waiter: None,
        sender_alive: true,
        receiver_alive: true,
    }));
    (Sender(state.clone()), Receiver { state: Some(state) })
}

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver; gives it back if the receiver
    /// is gone.
    pub fn send(self, value: T) -> Result<(), T> {
        let waiter = {
            let mut s = self.0.borrow_mut();
            if !s.receiver_alive {
                return Err(value);
            }
            s.value = Some(value);
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone.
    pub fn is_canceled(&self) -> bool {
        !self.0.borrow().receiver_alive
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiter = {
            let mut s = self.0.borrow_mut();
            s.sender_alive = false;
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(s) = &self.state {
            let waiter = {
                let mut s = s.borrow_mut();
                s.receiver_alive = false;
                // Nobody waits any more: the sender's drop wakes no one.
                s.waiter.take()
            };
            drop(waiter);
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Canceled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(state) = &self.state else {
            return Poll::Pending;
        };
        let ready = {
            let mut s = state.borrow_mut();
            match s.value.take() {
                Some(v) => Some(Ok(v)),
                None if !s.sender_alive => Some(Err(Canceled)),
                None => {
                    match &mut s.waiter {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        w => *w = Some(cx.waker().clone()),
                    }
                    None
                }
            }
        };
        match ready {
            Some(r) => {
                // Done: mark the receiver gone (a later send gives the
                // value back) and terminated.
                if let Some(s) = self.state.take() {
                    s.borrow_mut().receiver_alive = false;
                }
                Poll::Ready(r)
            }
            None => Poll::Pending,
        }
    }
}

/// Terminated once it has completed, or once its sender is gone without
/// sending (as `futures`' oneshot): a `select!` then waits on its other
/// branches instead of taking the cancellation. Wrap it in
/// `FutureExt::fuse` to see the cancellation.
impl<T> FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.state.as_ref().is_none_or(|s| {
            let s = s.borrow();
            !s.sender_alive && s.value.is_none()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn value_dropped_sender_and_dropped_receiver() {
        let (tx, rx) = channel();
        assert_eq!(tx.send(5), Ok(()));
        assert_eq!(rx.now_or_never(), Some(Ok(5)));

        let (tx, rx) = channel::<u8>();
        drop(tx);
        assert_eq!(rx.now_or_never(), Some(Err(Canceled)));

        let (tx, rx) = channel();
        assert!(!tx.is_canceled());
        drop(rx);
        assert!(tx.is_canceled());
        assert_eq!(tx.send(7), Err(7));

        let (tx, mut rx) = channel::<u8>();
        assert_eq!((&mut rx).now_or_never(), None);
        assert!(!rx.is_terminated());
        tx.send(1).unwrap();
        assert_eq!((&mut rx).now_or_never(), Some(Ok(1)));
        assert!(rx.is_terminated());

        let (tx, rx) = channel::<u8>();
        drop(tx);
        assert!(rx.is_terminated(), "cancelled: a select! skips it");
        assert_eq!(rx.fuse().now_or_never(), Some(Err(Canceled)));
    }
}
