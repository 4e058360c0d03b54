//! `log` output that says when (virtual time) and where (node).
//!
//! [`init`] installs an `env_logger` configured by `RUST_LOG` (nothing is
//! logged without it). Inside a simulation every line starts with the
//! virtual time and the node, e.g.
//! `   1.204113s n2 raft-1   DEBUG raft::vote: granted vote to 0 in term 3`.
//! Output goes through the test harness's capture, so a passing test stays
//! quiet and a failing one shows its log.

use std::io::Write;

use crate::runtime;

/// Installs the logger once per process; later calls do nothing.
pub fn init() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off"))
        .is_test(true)
        .format(|buf, record| match runtime::try_current() {
            Some(sim) => {
                let node = sim.current_node.get();
                let name = sim
                    .nodes
                    .try_borrow()
                    .ok()
                    .and_then(|n| n.name(node))
                    .unwrap_or_else(|| "?".into());
                writeln!(
                    buf,
                    "{:>12} {:<4} {:<10} {:<5} {}: {}",
                    crate::time::Instant::from_nanos(sim.now.get()).to_string(),
                    node.to_string(),
                    name,
                    record.level(),
                    record.target(),
                    record.args()
                )
            }
            None => writeln!(
                buf,
                "{:<5} {}: {}",
                record.level(),
                record.target(),
                record.args()
            ),
        })
        .try_init();
}
