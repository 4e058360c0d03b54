// Part 3D: log compaction (6.824's TestSnapshotBasic3D ...
// TestSnapshotInit3D). Every test uses the snapshotting applier.

/// What each round of [`snapcommon`] does to its victim, and on which
/// network: 6.824's `snapcommon(t, name, disconnect, reliable, crash)`
/// booleans, named.
#[derive(Clone, Copy, Debug)]
struct Faults {
    /// Disconnect the victim, then reconnect it.
    disconnect: bool,
    /// A reliable network (else lossy, and duplicating).
    reliable: bool,
    /// Crash the victim, then restart it.
    crash: bool,
}

/// 30 iterations of: fault a victim, feed the leader 5-14 commands, check
/// the log stays small, heal the victim (which then usually needs
/// InstallSnapshot), agree with everyone.
async fn snapcommon(name: &str, faults: Faults) {
    let Faults {
        disconnect,
        reliable,
        crash,
    } = faults;
    let iters = 30;
    let n = 3;
    let cfg = Config::with(
        n,
        Options {
            unreliable: !reliable,
            snapshot: true,
        },
    );
    cfg.begin(name);
    cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
    let mut leader1 = cfg.check_one_leader().await;
    for i in 0..iters {
        let mut victim = (leader1 + 1) % n;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % n;
            victim = leader1;
        }
        if disconnect {
            cfg.disconnect(victim);
            cfg.one(cmd(rand_cmd()), n - 1, Retry::Yes).await;
        }
        if crash {
            cfg.crash1(victim);
            cfg.one(cmd(rand_cmd()), n - 1, Retry::Yes).await;
        }
        // Perhaps send enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + labrpc::rand::gen_range(0..SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            cfg.start(sender, cmd(rand_cmd()));
        }
        // Let the applier threads catch up with the Start()'s.
        if !disconnect && !crash {
            // Make sure all followers have caught up, so that an
            // InstallSnapshot RPC isn't required for TestSnapshotBasic3D().
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        } else {
            cfg.one(cmd(rand_cmd()), n - 1, Retry::Yes).await;
        }
        let size = cfg.log_size();
        assert!(size < MAX_LOG_SIZE, "log size too large: {size} bytes");
        if disconnect {
            // Reconnect a follower, who may be behind and need to receive
            // a snapshot to catch up.
            cfg.connect(victim);
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
            leader1 = cfg.check_one_leader().await;
        }
        if crash {
            cfg.start1(victim);
            cfg.connect(victim);
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
            leader1 = cfg.check_one_leader().await;
        }
    }
    cfg.end();
}

#[test]
fn snapshot_basic_3d() {
    run_test(|| {
        snapcommon(
            "Test (3D): snapshots basic",
            Faults {
                disconnect: false,
                reliable: true,
                crash: false,
            },
        )
    });
}

#[test]
fn snapshot_install_3d() {
    run_test(|| {
        snapcommon(
            "Test (3D): install snapshots (disconnect)",
            Faults {
                disconnect: true,
                reliable: true,
                crash: false,
            },
        )
    });
}

#[test]
fn snapshot_install_unreliable_3d() {
    run_test(|| {
        snapcommon(
            "Test (3D): install snapshots (disconnect+unreliable)",
            Faults {
                disconnect: true,
                reliable: false,
                crash: false,
            },
        )
    });
}

#[test]
fn snapshot_install_crash_3d() {
    run_test(|| {
        snapcommon(
            "Test (3D): install snapshots (crash)",
            Faults {
                disconnect: false,
                reliable: true,
                crash: true,
            },
        )
    });
}

#[test]
fn snapshot_install_uncrash_3d() {
    run_test(|| {
        snapcommon(
            "Test (3D): install snapshots (unreliable+crash)",
            Faults {
                disconnect: false,
                reliable: false,
                crash: true,
            },
        )
    });
}

/// Crash and restart all servers: committed state must never be lost.
#[test]
fn snapshot_all_crash_3d() {
    run_test(|| async {
        let n = 3;
        let iters = 5;
        let cfg = Config::with(
            n,
            Options {
                snapshot: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3D): crash and restart all servers");
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        for _ in 0..iters {
            // Perhaps enough to get a snapshot.
            let nn = SNAPSHOT_INTERVAL / 2 + labrpc::rand::gen_range(0..SNAPSHOT_INTERVAL);
            for _ in 0..nn {
                cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
            }
            let index1 = cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
            cfg.crash_restart_all();
            let index2 = cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
            assert!(index2 > index1, "index decreased from {index1} to {index2}");
        }
        cfg.end();
    });
}

/// Raft must reload its snapshot at start, so that later saves keep it.
#[test]
fn snapshot_init_3d() {
    run_test(|| async {
        let n = 3;
        let cfg = Config::with(
            n,
            Options {
                snapshot: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3D): snapshot initialization after crash");
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        // Enough ops to make a snapshot.
        let nn = SNAPSHOT_INTERVAL + 1;
        for _ in 0..nn {
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        }
        // Crash and restart all: each reads its snapshot.
        cfg.crash_restart_all();
        // A single op, so the Raft state is saved without a new snapshot.
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        // Crash and restart all again: the snapshot must still be there.
        cfg.crash_restart_all();
        // Does the new leader have the right snapshot?
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        cfg.end();
    });
}

/// Old messages arrive after a follower has a snapshot: an AppendEntries
/// sent before the leader's snapshot (its entries start below the
/// follower's snapshot and reach past it), and an InstallSnapshot older
/// than the follower's own later snapshot. Then the follower crashes and
/// restarts: it must come back from the newer snapshot, with the log that
/// goes with it, and catch up. (Not in 6.824; our addition.)
#[test]
fn late_messages_after_snapshot_3d() {
    run_test(|| async {
        let n = 3;
        let net = network();
        let cfg = Config::with(
            n,
            Options {
                snapshot: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3D): old AppendEntries and InstallSnapshot after a snapshot");
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        let l = cfg.check_one_leader().await;
        let f = (l + 1) % n;
        let to_f = |method: &str| {
            Filter::new()
                .method(method)
                .from(cfg.node(l))
                .to(cfg.node(f))
                .leg(Leg::Request)
        };
        // F hears nothing of 30 new entries: the leader's AppendEntries to
        // F are held, and so is its first InstallSnapshot.
        let appends = net.hold(to_f(method::append_entries));
        let snapshots = net.hold_first(to_f(method::install_snapshot), 1);
        for _ in 0..30 {
            cfg.start(l, cmd(rand_cmd()))
                .expect("leader refused Start()");
        }
        // The leader snapshots; a later InstallSnapshot gets through.
        for _ in 0..1000 {
            if cfg.last_applied(f) >= SNAPSHOT_INTERVAL {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert!(
            cfg.last_applied(f) >= SNAPSHOT_INTERVAL,
            "follower {f} did not catch up within 10 s, though the leader had a snapshot \
             for it (is InstallSnapshot sent when nextIndex is at or below the snapshot?)"
        );
        // The first AppendEntries, from before the snapshot, arrives now;
        // the later ones wait, and new ones pass.
        net.release(appends, 1);
        sleep(Duration::from_millis(50)).await;
        net.stop_holding(appends);
        // F must really hold what it said it stored: the leader goes on
        // from there.
        let index = cfg.one(cmd(rand_cmd()), n - 1, Retry::Yes).await;
        for _ in 0..300 {
            if cfg.n_committed(index).0 == n {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            cfg.n_committed(index).0,
            n,
            "follower {f} did not apply index {index} within 3 s of an old AppendEntries \
             (sent before the leader's snapshot, with entries from below the follower's \
             snapshot to past it): a follower must store the entries past its snapshot \
             before it answers success, or the leader believes it has them"
        );
        // F takes a snapshot of its own past the held InstallSnapshot's.
        for _ in 0..2 * SNAPSHOT_INTERVAL {
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        }
        // The other held AppendEntries (from just after F installed the
        // snapshot) arrive, all of their entries now inside F's snapshot;
        // then the old InstallSnapshot; F crashes right after.
        net.remove_hold(appends);
        sleep(Duration::from_millis(20)).await;
        net.remove_hold(snapshots);
        sleep(Duration::from_millis(20)).await;
        cfg.crash1(f);
        cfg.start1(f);
        cfg.connect(f);
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        cfg.end();
    });
}

/// Snapshot() ignores an index at or below the current snapshot, and one
/// not yet applied (as its documentation says); the peers then crash and
/// restart from what they saved. (Not in 6.824; our addition.)
#[test]
fn snapshot_arguments_3d() {
    run_test(|| async {
        let n = 3;
        let cfg = Config::with(
            n,
            Options {
                snapshot: true,
                ..Options::default()
            },
        );
        cfg.begin("Test (3D): Snapshot() ignores old and unapplied indices");
        for _ in 0..2 * SNAPSHOT_INTERVAL + 5 {
            cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        }
        // Every peer has a snapshot at 19 by now; offer one at 9, and one
        // at 19 again.
        for i in 0..n {
            let raft = cfg.raft(i).expect("running");
            for index in [SNAPSHOT_INTERVAL - 1, 2 * SNAPSHOT_INTERVAL - 1] {
                let old = cfg.service_snapshot(i, index);
                node::enter(cfg.node(i), || raft.snapshot(index, old));
            }
        }
        // Entries the leader cannot commit: a snapshot through them is
        // ignored.
        let leader = cfg.check_one_leader().await;
        for i in (0..n).filter(|&i| i != leader) {
            cfg.disconnect(i);
        }
        let mut last = 0;
        for _ in 0..5 {
            last = cfg
                .start(leader, cmd(rand_cmd()))
                .expect("leader refused Start()")
                .0;
        }
        sleep(Duration::from_millis(100)).await;
        let raft = cfg.raft(leader).expect("running");
        let early = cfg.service_snapshot(leader, last);
        node::enter(cfg.node(leader), || raft.snapshot(last, early));
        sleep(Duration::from_millis(100)).await;
        // Everyone restarts from what it saved.
        cfg.crash_restart_all();
        cfg.one(cmd(rand_cmd()), n, Retry::Yes).await;
        cfg.end();
    });
}
