//! The wall-clock watchdog: notices a task that blocks the thread.
//!
//! A simulation cannot preempt a task that never returns from `poll` (an OS
//! sleep, a busy loop, a blocking channel). One background OS thread,
//! outside every simulation, watches each running simulation's poll counter.
//! When one poll lasts longer than the simulation's stall limit it prints a
//! warning to stderr at once (so a thread blocked forever still says where),
//! and marks the simulation, which fails as soon as the poll returns.
//!
//! The executor pays two relaxed atomic stores per poll for this.

// The watchdog runs outside every simulation, on real time and its own
// thread: the determinism lints do not apply here.
#![allow(clippy::disallowed_methods)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// What the watchdog knows about one simulation.
pub(crate) struct WatchState {
    /// Odd while a poll runs: `2 * poll + 1`; even between polls.
    phase: AtomicU64,
    /// Milliseconds of the stalled poll, once the limit was exceeded.
    stalled_ms: AtomicU64,
    /// The stall limit in milliseconds (0 = off).
    limit_ms: AtomicU64,
    /// Seed and description for the warning printed while still blocked.
    label: Mutex<String>,
}

const TICK: Duration = Duration::from_millis(20);

static REGISTRY: OnceLock<Mutex<Vec<Weak<WatchState>>>> = OnceLock::new();

impl WatchState {
    pub fn register() -> Arc<WatchState> {
        let state = Arc::new(WatchState {
            phase: AtomicU64::new(0),
            stalled_ms: AtomicU64::new(0),
            limit_ms: AtomicU64::new(0),
            label: Mutex::new(String::new()),
        });
        let registry = REGISTRY.get_or_init(|| {
            std::thread::Builder::new()
                .name("labrpc-watchdog".into())
                .spawn(watch_loop)
                .expect("cannot start the labrpc watchdog thread");
            Mutex::new(Vec::new())
        });
        registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&state));
        state
    }

    pub fn configure(&self, limit: Duration, label: String) {
        self.limit_ms
            .store(limit.as_millis().max(1) as u64, Ordering::Relaxed);
        *self.label.lock().unwrap_or_else(|e| e.into_inner()) = label;
    }

    #[inline]
    pub fn poll_started(&self, poll: u64) {
        self.phase.store(2 * poll + 1, Ordering::Relaxed);
    }

    #[inline]
    pub fn poll_finished(&self, poll: u64) {
        self.phase.store(2 * poll + 2, Ordering::Relaxed);
    }

    /// The stalled poll's wall milliseconds, if the limit was exceeded.
    #[inline]
    pub fn take_stall(&self) -> Option<u64> {
        match self.stalled_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(ms),
        }
    }
}

fn watch_loop() {
    // Per simulation: (phase seen, when first seen, warned).
    let mut seen: Vec<(Weak<WatchState>, u64, Instant, bool)> = Vec::new();
    loop {
        std::thread::sleep(TICK);
        let now = Instant::now();
        let live: Vec<Weak<WatchState>> = {
            let Some(reg) = REGISTRY.get() else { continue };
            let mut reg = reg.lock().unwrap_or_else(|e| e.into_inner());
            reg.retain(|w| w.strong_count() > 0);
            reg.clone()
        };
        seen.retain(|(w, ..)| w.strong_count() > 0);
        for w in live {
            let Some(state) = w.upgrade() else { continue };
            let phase = state.phase.load(Ordering::Relaxed);
            let entry = match seen.iter_mut().find(|(s, ..)| Weak::ptr_eq(s, &w)) {
                Some(e) => e,
                None => {
                    seen.push((w.clone(), phase, now, false));
                    continue;
                }
            };
            if entry.1 != phase || phase % 2 == 0 {
                *entry = (w.clone(), phase, now, false);
                continue;
            }
            let blocked = now.duration_since(entry.2);
            let limit = state.limit_ms.load(Ordering::Relaxed);
            if limit > 0 && blocked.as_millis() as u64 >= limit && !entry.3 {
                entry.3 = true;
                state
                    .stalled_ms
                    .store(blocked.as_millis().max(1) as u64, Ordering::Relaxed);
                let label = state
                    .label
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                eprintln!(
                    "labrpc watchdog: a task has blocked the simulation thread for {:.1} s of \
                     wall time (it must await instead of blocking: no std::thread::sleep, no \
                     blocking locks or channels, no endless loops without .await). {label}",
                    blocked.as_secs_f64()
                );
            }
        }
    }
}
