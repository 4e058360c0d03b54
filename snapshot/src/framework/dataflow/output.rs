//! The external output the sink commits to: a transactional store on a
//! node of its own (which never crashes). A commit is a checkpoint's
//! records; committing the same checkpoint twice is harmless (the second
//! is ignored), but with other records it is a bug the store remembers.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::framework::dataflow::{CheckpointId, Record};

/// One transaction: checkpoint `id`'s output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The checkpoint whose output this is.
    pub id: CheckpointId,
    /// The records.
    pub records: Vec<Record>,
}

labrpc::service! {
    /// The external output.
    pub service output {
        /// Commits a checkpoint's output (idempotent per id).
        fn commit(Commit) -> ();
    }
}

/// What has been committed, and any commit that contradicted an earlier one.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) committed: RefCell<BTreeMap<CheckpointId, Vec<Record>>>,
    pub(crate) conflicts: RefCell<Vec<String>>,
}

impl output::Service for Output {
    async fn commit(&self, c: Commit) {
        let mut committed = self.committed.borrow_mut();
        match committed.get(&c.id) {
            Some(old) if *old != c.records => self.conflicts.borrow_mut().push(format!(
                "checkpoint {} committed twice with different records ({} then {})",
                c.id,
                old.len(),
                c.records.len()
            )),
            Some(_) => {}
            None => {
                committed.insert(c.id, c.records);
            }
        }
    }
}
