//! Seeded randomness.
//!
//! Guarantees: every value comes from the simulation's single ChaCha8 RNG
//! (`rand_chacha::ChaCha8Rng::seed_from_u64(seed)`), the same stream that
//! drives scheduling and the network. One seed therefore gives the same
//! values on every machine and every run. ChaCha8's output is specified, so
//! a seed keeps its meaning across `rand` releases.

use rand::Rng;
use rand::distr::uniform::{SampleRange, SampleUniform};
use rand::distr::{Distribution, StandardUniform};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::runtime;

/// Runs `f` with the simulation's RNG, for anything the helpers below lack.
/// Do not call back into the simulation from `f`.
pub fn with_rng<R>(f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
    runtime::with_sim(|sim| f(&mut sim.rng.borrow_mut()))
}

/// A uniformly random value of `T` (e.g. `u64`, `bool`, `f64` in `[0, 1)`).
pub fn random<T>() -> T
where
    StandardUniform: Distribution<T>,
{
    with_rng(|r| r.random())
}

/// A uniform value in `range` (e.g. `0..10`, `1.0..=2.0`).
///
/// # Panics
/// If the range is empty.
pub fn gen_range<T: SampleUniform, R: SampleRange<T>>(range: R) -> T {
    with_rng(|r| r.random_range(range))
}

/// `true` with probability `p`.
///
/// # Panics
/// If `p` is not in `[0, 1]`.
pub fn gen_bool(p: f64) -> bool {
    with_rng(|r| r.random_bool(p))
}

/// Shuffles `slice` in place.
pub fn shuffle<T>(slice: &mut [T]) {
    with_rng(|r| slice.shuffle(r))
}

/// A uniformly chosen element, or `None` if `slice` is empty.
pub fn choose<T>(slice: &[T]) -> Option<&T> {
    if slice.is_empty() {
        None
    } else {
        Some(&slice[gen_range(0..slice.len())])
    }
}

/// The seed of the running simulation.
pub fn seed() -> u64 {
    runtime::current().seed
}
