//! A one-waiter wake-up flag between tasks of one node.
//!
//! ```
//! use labrpc::{notify::Notify, task};
//!
//! labrpc::Builder::new().seed(1).run(|| async {
//!     let wake = Notify::default();
//!     let waiter = task::spawn({
//!         let wake = wake.clone();
//!         async move { wake.notified().await }
//!     });
//!     wake.notify();
//!     wake.notify(); // coalesces with the first
//!     waiter.await.unwrap();
//! });
//! ```

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

#[derive(Default)]
struct State {
    notified: bool,
    waiter: Option<Waker>,
}

/// Wakes one waiting task. Notifications coalesce: any number of
/// `notify()` calls before the waiter runs wake it once.
#[derive(Clone, Default)]
pub struct Notify(Rc<RefCell<State>>);

impl Notify {
    /// Sets the flag and wakes the waiter, if any.
    pub fn notify(&self) {
        let mut s = self.0.borrow_mut();
        s.notified = true;
        if let Some(w) = s.waiter.take() {
            w.wake();
        }
    }

    /// Waits until the flag is set, then clears it.
    pub async fn notified(&self) {
        poll_fn(|cx| {
            let mut s = self.0.borrow_mut();
            if s.notified {
                s.notified = false;
                Poll::Ready(())
            } else {
                s.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
