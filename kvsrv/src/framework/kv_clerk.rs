//! The clerk interface: what the lock (and any application) may use.

use crate::Clerk;
use crate::framework::rpc::{KvError, Version};

/// A key/value clerk: the two operations of the service, with the clerk's
/// guarantees (see [`Clerk`]). [`crate::Lock`] is written against this
/// trait, so it works over any clerk that offers it.
///
/// Everything runs on the simulation's single thread, so the futures need
/// not be `Send`.
#[allow(async_fn_in_trait)]
pub trait KvClerk {
    /// The value and version of `key`, or [`KvError::NoKey`].
    async fn get(&self, key: &str) -> Result<(String, Version), KvError>;
    /// Writes `value` to `key` if its version is `version`; `Ok(())`,
    /// [`KvError::Version`], [`KvError::NoKey`] or [`KvError::Maybe`].
    async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError>;
}

impl KvClerk for Clerk {
    async fn get(&self, key: &str) -> Result<(String, Version), KvError> {
        Clerk::get(self, key).await
    }

    async fn put(&self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        Clerk::put(self, key, value, version).await
    }
}
