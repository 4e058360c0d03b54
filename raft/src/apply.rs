//! The applier: hands committed entries and installed snapshots to the
//! service, strictly in log order.

// SOLUTION BEGIN
use crate::ApplyMsg;
use crate::peer::Shared;

/// Sends every newly committed entry (or a pending snapshot, first) on the
/// apply channel. Exits when the service drops the receiver.
///
/// Guarantee: the service sees indices in strictly increasing order, each
/// exactly once, and a snapshot message is never followed by an entry it
/// covers.
pub async fn applier(shared: Shared) {
    let wake = shared.borrow().apply_wake.clone();
    loop {
        wake.notified().await;
        let (tx, msgs) = {
            let mut c = shared.borrow_mut();
            let mut msgs = Vec::new();
            if c.snapshot_pending {
                c.snapshot_pending = false;
                if c.log.base() > c.last_applied {
                    c.last_applied = c.log.base();
                    msgs.push(ApplyMsg::Snapshot {
                        index: c.log.base(),
                        term: c.log.base_term(),
                        data: c.snapshot.clone(),
                    });
                }
            }
            while c.last_applied < c.commit_index {
                let index = c.last_applied + 1;
                let entry = c
                    .log
                    .entry(index)
                    .expect("committed entries after the base are in the log");
                msgs.push(ApplyMsg::Command {
                    index,
                    term: entry.term,
                    command: entry.command.clone(),
                });
                c.last_applied = index;
            }
            c.check_invariants();
            (c.apply_tx.clone(), msgs)
        };
        for m in msgs {
            if tx.unbounded_send(m).is_err() {
                return;
            }
        }
    }
}
// SOLUTION END
// HANDOUT: // Your code here (3B): hand committed entries to the service on the apply
// HANDOUT: // channel, in order, each once; 3D: a snapshot from the leader first.
