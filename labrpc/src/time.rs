//! Virtual time.
//!
//! Guarantees:
//! - [`Instant::now`] is the simulation's clock: it starts at zero, never
//!   decreases, and does not move while any task is ready to run. Work done
//!   between two awaits takes no virtual time.
//! - [`sleep`] for `d` completes exactly when the clock reaches `now + d`
//!   (never earlier; tasks whose timers fire at the same instant run in an
//!   order drawn from the seeded RNG).
//! - A dropped [`Sleep`] leaves no timer behind.
//! - Durations are `std::time::Duration`; only the clock is virtual.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::ops::{Add, AddAssign, Sub};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use slab::Slab;

use crate::runtime;

/// A point in virtual time, in nanoseconds since the simulation started.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The simulation's current virtual time.
    pub fn now() -> Instant {
        Instant(runtime::with_sim(|sim| sim.now.get()))
    }

    /// Virtual time elapsed since `self`.
    pub fn elapsed(&self) -> Duration {
        Instant::now() - *self
    }

    /// `self - earlier`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// Nanoseconds since the start of the simulation.
    pub fn as_nanos(&self) -> u64 {
        self.0
    }

    /// The instant `nanos` nanoseconds after the start of the simulation.
    pub fn from_nanos(nanos: u64) -> Instant {
        Instant(nanos)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(nanos(d)))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0.saturating_sub(nanos(d)))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero, like `std::time::Instant` since Rust 1.60.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for Instant {
    /// Seconds with microsecond precision, e.g. `12.000345s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:06}s",
            self.0 / 1_000_000_000,
            (self.0 % 1_000_000_000) / 1000
        )
    }
}

/// Reads back what [`Display`](fmt::Display) writes (`12.000345s`): whole
/// seconds, then optionally a point and up to nine digits, then `s`. The
/// `lab` tool reads log lines and failure messages with it.
impl std::str::FromStr for Instant {
    type Err = ParseInstantError;

    fn from_str(s: &str) -> Result<Instant, ParseInstantError> {
        let bad = || ParseInstantError(s.to_string());
        let number = s.trim().strip_suffix('s').ok_or_else(bad)?;
        let (secs, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if secs.is_empty() || !digits(secs) || !digits(frac) || frac.len() > 9 {
            return Err(bad());
        }
        let frac_nanos = format!("{frac:0<9}").parse::<u64>().map_err(|_| bad())?;
        secs.parse::<u64>()
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .and_then(|n| n.checked_add(frac_nanos))
            .map(Instant)
            .ok_or_else(bad)
    }
}

/// A virtual time that is not written as `12.000345s`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseInstantError(String);

impl fmt::Display for ParseInstantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a virtual time like 12.000345s: {:?}", self.0)
    }
}

impl std::error::Error for ParseInstantError {}

/// The current virtual time; shorthand for [`Instant::now`].
pub fn now() -> Instant {
    Instant::now()
}

/// Identifies a registered timer: its slot, and its registration number
/// (which tells a live timer from a later one in the same slot).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: usize,
    seq: u64,
}

/// Whom a timer (or another wait of the simulator's own) wakes: the task
/// that registered it (no waker clone: no reference counting), a waker
/// some combinator made, or something of the simulator's own that happens
/// at that instant ([`fire_at`]).
#[derive(Clone)]
pub(crate) enum TimerWaker {
    Task(usize, u64),
    Other(Waker),
    Fire(Rc<dyn Fire>),
}

/// What happens at an instant without a task of its own: a message
/// arriving. It runs as the clock reaches the instant, in timer order, with
/// the wakes of the timers due then.
pub(crate) trait Fire {
    fn fire(self: Rc<Self>, sim: &runtime::Sim);
}

/// Has `target` fire when the clock reaches `deadline` (after now).
pub(crate) fn fire_at(sim: &runtime::Sim, deadline: Instant, target: Rc<dyn Fire>) {
    debug_assert!(deadline.0 > sim.now.get(), "fire_at: the instant has come");
    sim.timers
        .borrow_mut()
        .insert(deadline.0, TimerWaker::Fire(target));
}

impl TimerWaker {
    /// Who `waker` wakes.
    pub(crate) fn of(sim: &runtime::Sim, waker: &Waker) -> TimerWaker {
        match sim.polled_task(waker) {
            Some((key, id)) => TimerWaker::Task(key, id),
            None => TimerWaker::Other(waker.clone()),
        }
    }

    /// Whether `waker` wakes the same.
    pub(crate) fn wakes(&self, sim: &runtime::Sim, waker: &Waker) -> bool {
        match self {
            TimerWaker::Task(key, id) => sim.polled_task(waker) == Some((*key, *id)),
            TimerWaker::Other(w) => w.will_wake(waker),
            TimerWaker::Fire(_) => false,
        }
    }

    pub(crate) fn wake(self, sim: &runtime::Sim) {
        match self {
            TimerWaker::Task(key, id) => sim.wake_task(key, id),
            TimerWaker::Other(w) => w.wake(),
            TimerWaker::Fire(target) => target.fire(sim),
        }
    }
}

struct Timer {
    seq: u64,
    waker: TimerWaker,
}

/// Pending timers, due in order of (deadline, registration order).
///
/// A binary min-heap of `(deadline, seq, slot)` over a slab of wakers. A
/// cancelled timer leaves the slab at once and its heap entry stays, stale
/// (its slot no longer holds its `seq`), until it reaches the top and is
/// dropped, or the heap is compacted (when stale entries outnumber live
/// ones). The order is that of a sorted map keyed by `(deadline, seq)`:
/// which timer fires first never depends on how they are stored.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    slots: Slab<Timer>,
    next_seq: u64,
}

impl Timers {
    /// Whether the heap entry stands for a registered timer.
    fn live(&self, &(_, seq, slot): &(u64, u64, usize)) -> bool {
        self.slots.get(slot).is_some_and(|t| t.seq == seq)
    }

    /// The earliest deadline of a registered timer.
    pub fn next_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse(top)) = self.heap.peek() {
            if self.live(top) {
                return Some(top.0);
            }
            self.heap.pop();
        }
        None
    }

    /// Moves the wakers of every timer due at or before `deadline` to
    /// `due`, earliest first.
    pub fn take_due(&mut self, deadline: u64, due: &mut Vec<TimerWaker>) {
        while let Some(&Reverse(top)) = self.heap.peek()
            && top.0 <= deadline
        {
            self.heap.pop();
            if self.live(&top) {
                due.push(self.slots.remove(top.2).waker);
            }
        }
    }

    fn insert(&mut self, deadline: u64, waker: TimerWaker) -> TimerKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = self.slots.insert(Timer { seq, waker });
        self.heap.push(Reverse((deadline, seq, slot)));
        TimerKey { slot, seq }
    }

    fn get_mut(&mut self, key: TimerKey) -> Option<&mut TimerWaker> {
        self.slots
            .get_mut(key.slot)
            .filter(|t| t.seq == key.seq)
            .map(|t| &mut t.waker)
    }

    fn cancel(&mut self, key: TimerKey) {
        if self.get_mut(key).is_some() {
            self.slots.remove(key.slot);
            // Every live timer has one heap entry; the rest are stale.
            if self.heap.len() > 2 * self.slots.len() + 64 {
                let slots = &self.slots;
                self.heap.retain(|Reverse((_, seq, slot))| {
                    slots.get(*slot).is_some_and(|t| t.seq == *seq)
                });
            }
        }
    }
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    /// The timer registered at the last pending poll, if any.
    key: Option<TimerKey>,
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (the next poll registers a new timer).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take()
            && let Some(sim) = runtime::try_current()
        {
            sim.timers.borrow_mut().cancel(key);
        }
    }
}

impl Sleep {
    /// Registers the timer for `waker` (not the polled task: the
    /// simulator's own code waits on behalf of a task). Gives `waker` back
    /// if the deadline has come already.
    pub(crate) fn start_for(
        &mut self,
        sim: &runtime::Sim,
        waker: TimerWaker,
    ) -> Result<(), TimerWaker> {
        if sim.now.get() >= self.deadline.0 {
            return Err(waker);
        }
        self.cancel();
        self.key = Some(sim.timers.borrow_mut().insert(self.deadline.0, waker));
        Ok(())
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        runtime::with_sim(|sim| {
            if sim.now.get() >= self.deadline.0 {
                self.key = None;
                return Poll::Ready(());
            }
            let mut timers = sim.timers.borrow_mut();
            if let Some(key) = self.key
                && let Some(w) = timers.get_mut(key)
            {
                if !w.wakes(sim, cx.waker()) {
                    *w = TimerWaker::of(sim, cx.waker());
                }
                return Poll::Pending;
            }
            self.key = Some(timers.insert(self.deadline.0, TimerWaker::of(sim, cx.waker())));
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Completes when `d` of virtual time has passed.
pub fn sleep(d: Duration) -> Sleep {
    sleep_until(Instant::now() + d)
}

/// Completes when the virtual clock reaches `deadline` (at once if past).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(pub Duration);

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timed out after {:?} of virtual time", self.0)
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `d` of virtual time. If the future is ready at
/// the deadline's instant it wins: the future is polled before the timer.
pub async fn timeout<F: Future>(d: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = std::pin::pin!(future);
    let mut timer = sleep(d);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(d))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Ticks at a fixed period; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
}

impl Interval {
    /// Completes at the next tick and returns its scheduled instant. The
    /// first tick is immediate. Missed ticks are skipped, not bunched: after
    /// a long pause the next tick is one period after the late one.
    pub async fn tick(&mut self) -> Instant {
        let at = self.next;
        sleep_until(at).await;
        let now = Instant::now();
        self.next = if now >= at + self.period {
            now + self.period
        } else {
            at + self.period
        };
        at
    }

    /// The tick period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// A ticker whose first tick completes immediately, then every `period`.
///
/// # Panics
/// If `period` is zero.
pub fn interval(period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "labrpc::time::interval: period must be non-zero"
    );
    Interval {
        next: Instant::now(),
        period,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The heap gives timers in (deadline, registration) order, with any
    /// of them cancelled, like a sorted map would.
    #[test]
    fn timers_fire_in_deadline_then_registration_order() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut timers = Timers::default();
        let mut model = std::collections::BTreeMap::new();
        let mut keys = Vec::new();
        for _ in 0..5000 {
            if rng.random_bool(0.6) || keys.is_empty() {
                let d = rng.random_range(0..200u64);
                let key = timers.insert(d, TimerWaker::Other(Waker::noop().clone()));
                model.insert((d, key.seq), ());
                keys.push((d, key));
            } else if rng.random_bool(0.5) {
                let (d, key) = keys.swap_remove(rng.random_range(0..keys.len()));
                timers.cancel(key);
                timers.cancel(key); // twice: no effect
                model.remove(&(d, key.seq));
            } else {
                let deadline = rng.random_range(0..200u64);
                let mut due = Vec::new();
                timers.take_due(deadline, &mut due);
                let expect: Vec<_> = model.range(..(deadline + 1, 0)).map(|(k, _)| *k).collect();
                assert_eq!(due.len(), expect.len());
                for k in &expect {
                    model.remove(k);
                }
                keys.retain(|(d, _)| *d > deadline);
            }
            assert_eq!(timers.next_deadline(), model.keys().next().map(|k| k.0));
        }
    }
}
