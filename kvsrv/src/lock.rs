//! A lock kept in the key/value server, built only on Get and Put.

use std::rc::Rc;

use crate::framework::KvClerk;
// SOLUTION BEGIN
use crate::framework::rpc::{KvError, Version};
use std::cell::Cell;
use std::time::Duration;

/// How long to wait before looking again at a lock someone else holds.
const POLL: Duration = Duration::from_millis(10);
// SOLUTION END
// HANDOUT:

/// A lock named `name`, shared by every client that makes a `Lock` of that
/// name on the same server. At most one of them holds it at a time; locks
/// of different names are independent. Clients never crash, so a holder
/// always releases.
pub struct Lock<C: KvClerk> {
    clerk: Rc<C>,
    name: String,
    // SOLUTION BEGIN
    /// This lock client's unique id: the key's value while it holds the
    /// lock ("" when nobody does).
    id: String,
    /// The key's version while this client holds the lock.
    held: Cell<Version>,
    // SOLUTION END
    // HANDOUT: // Your state here (2B).
}

impl<C: KvClerk> Lock<C> {
    /// A client of the lock `name`, keeping its state in the server through
    /// `clerk`. Creating it does not acquire it.
    pub fn new(clerk: Rc<C>, name: &str) -> Lock<C> {
        Lock {
            clerk,
            name: name.to_string(),
            // SOLUTION BEGIN
            id: (0..8)
                .map(|_| char::from(labrpc::rand::gen_range(b'a'..=b'z')))
                .collect(),
            held: Cell::new(0),
            // SOLUTION END
            // HANDOUT: // Initialize your state here (2B).
        }
    }

    /// Waits until this client holds the lock.
    pub async fn acquire(&self) {
        // SOLUTION BEGIN
        loop {
            let version = match self.clerk.get(&self.name).await {
                // An earlier Put of ours that answered ErrMaybe did land.
                Ok((holder, version)) if holder == self.id => {
                    self.held.set(version);
                    return;
                }
                Ok((holder, version)) if holder.is_empty() => version,
                Ok(_) => {
                    labrpc::time::sleep(POLL).await;
                    continue;
                }
                Err(_) => 0, // never created: create it, held by us
            };
            if self.clerk.put(&self.name, &self.id, version).await.is_ok() {
                self.held.set(version + 1);
                return;
            }
            // ErrMaybe: read the key back (next round). ErrVersion,
            // ErrNoKey: someone else got there first.
        }
        // SOLUTION END
        // HANDOUT: let _ = (&self.clerk, &self.name);
        // HANDOUT: labrpc::not_implemented!("kvsrv 2B (Lock::acquire)")
    }

    /// Releases the lock, which this client holds.
    pub async fn release(&self) {
        // SOLUTION BEGIN
        // Nobody else writes the key while we hold it, so the Put applies:
        // an ErrMaybe here means an earlier attempt did.
        let r = self.clerk.put(&self.name, "", self.held.get()).await;
        debug_assert!(
            matches!(r, Ok(()) | Err(KvError::Maybe)),
            "release of lock {:?}: {r:?}",
            self.name
        );
        // SOLUTION END
        // HANDOUT: let _ = (&self.clerk, &self.name);
        // HANDOUT: labrpc::not_implemented!("kvsrv 2B (Lock::release)")
    }
}
