// The lock: 2B on a reliable network (6.5840's TestReliableBasic,
// TestReliableNested, TestOneClientReliable, TestManyClientsReliable) and
// 2D on an unreliable one (TestOneClientUnreliable,
// TestManyClientsUnreliable).
//
// Mutual exclusion is checked through a shared key, "l0", that a client
// writes only while it holds the lock: whoever acquires must find it
// empty, and its versioned Puts to it must never be refused.

/// How long the lock workloads run (6.5840's NSEC).
const NSEC: Duration = Duration::from_secs(2);
/// Clients of the many-clients tests (6.5840's NCLNT).
const NCLNT: usize = 10;
/// The key written only under the lock.
const SHARED: &str = "l0";
/// How long an acquire of a free lock may take before the test calls it
/// stuck.
const ACQUIRE_BOUND: Duration = Duration::from_secs(5);

/// Acquires `lock`, failing the test if that takes longer than
/// [`ACQUIRE_BOUND`] (the lock is free, so it must not).
async fn acquire_free(lock: &Lock<TestClerk>, what: &str) {
    if timeout(ACQUIRE_BOUND, lock.acquire()).await.is_err() {
        panic!(
            "acquire of {what} did not return within {ACQUIRE_BOUND:?}, although nobody else held it"
        );
    }
}

/// Releases `lock`, failing the test if that takes longer than
/// [`ACQUIRE_BOUND`].
async fn release(lock: &Lock<TestClerk>, what: &str) {
    if timeout(ACQUIRE_BOUND, lock.release()).await.is_err() {
        panic!("release of {what} did not return within {ACQUIRE_BOUND:?}");
    }
}

/// One Acquire and Release; a second client waits while the first holds
/// the lock and gets it once released.
#[test]
fn reliable_basic_2b() {
    run_test(|| async {
        let h = Harness::new(true);
        let stats = Stats::begin(format!("Test (2B): basic lock {}", net_name(true)), 1);
        let name = rand_value(12);
        let a = Lock::new(Rc::new(h.make_clerk()), &name);
        acquire_free(&a, "a free lock").await;
        release(&a, "a held lock").await;
        acquire_free(&a, "a lock just released by the same client").await;

        let b = Rc::new(Lock::new(Rc::new(h.make_clerk()), &name));
        let b2 = b.clone();
        let waiter = task::spawn(async move { b2.acquire().await });
        sleep(Duration::from_millis(500)).await;
        assert!(
            !waiter.is_finished(),
            "a second client acquired the lock while the first held it"
        );
        release(&a, "a held lock").await;
        if timeout(ACQUIRE_BOUND, waiter).await.is_err() {
            panic!(
                "a client waiting for the lock did not get it within {ACQUIRE_BOUND:?} of its release"
            );
        }
        release(&b, "the second client's lock").await;
        stats.end(h.ops());
    });
}

/// Two locks of different names are independent: one client holds both,
/// in every order.
#[test]
fn reliable_nested_2b() {
    run_test(|| async {
        let h = Harness::new(true);
        let stats = Stats::begin(format!("Test (2B): nested locks {}", net_name(true)), 1);
        let ck = Rc::new(h.make_clerk());
        let (name_a, name_b) = (rand_value(12), rand_value(12));
        let a = Lock::new(ck.clone(), &name_a);
        let b = Lock::new(ck.clone(), &name_b);
        acquire_free(&a, "lock A").await;
        acquire_free(
            &b,
            "lock B while holding A (locks of different names are independent)",
        )
        .await;
        release(&b, "lock B").await;
        release(&a, "lock A").await;
        acquire_free(&b, "lock B").await;
        acquire_free(&a, "lock A while holding B").await;
        release(&a, "lock A").await;
        acquire_free(&a, "lock A again while holding B").await;
        release(&b, "lock B while holding A").await;
        release(&a, "lock A").await;
        // Both are free again: another client takes them.
        let ck2 = Rc::new(h.make_clerk());
        let a2 = Lock::new(ck2.clone(), &name_a);
        let b2 = Lock::new(ck2, &name_b);
        acquire_free(&b2, "lock B by another client after the first released it").await;
        acquire_free(&a2, "lock A by another client after the first released it").await;
        release(&a2, "lock A").await;
        release(&b2, "lock B").await;
        stats.end(h.ops());
    });
}

/// 6.5840's lock worker: take two locks together once, then until told to
/// stop: acquire lock 1; the shared key must be empty; write this client's
/// name to it; wait 10 ms; empty it; release. Returns the acquisitions (in
/// `ok`).
async fn lock_client(
    me: usize,
    ck: Rc<TestClerk>,
    names: Rc<(String, String)>,
    done: Rc<Cell<bool>>,
) -> ClientResult {
    let l1 = Lock::new(ck.clone(), &names.0);
    let l2 = Lock::new(ck.clone(), &names.1);
    l1.acquire().await;
    l2.acquire().await;
    l1.release().await;
    l2.release().await;
    // Create the shared key; whoever is first wins.
    let _ = ck.put(SHARED, "", 0).await;
    let mut acquired = 0;
    while !done.get() {
        l1.acquire().await;
        acquired += 1;
        let ver = match ck.get(SHARED).await {
            Ok((v, ver)) if v.is_empty() => ver,
            Ok((v, ver)) => panic!(
                "client {me} acquired the lock but the shared key holds {v:?} (version {ver}): \
                 client {v} holds the lock too"
            ),
            Err(e) => panic!("client {me}: Get({SHARED:?}) returned {e}"),
        };
        let me_s = me.to_string();
        match ck.put(SHARED, &me_s, ver).await {
            Ok(()) | Err(KvError::Maybe) => {}
            Err(e) => panic!(
                "client {me} holds the lock, yet its Put({SHARED:?}, {me_s:?}, {ver}) returned {e}: \
                 either another client wrote the key (so it held the lock too) or the clerk \
                 returned {e} for a retried Put (a retry refused with ErrVersion is ErrMaybe)"
            ),
        }
        sleep(Duration::from_millis(10)).await;
        match ck.put(SHARED, "", ver + 1).await {
            Ok(()) | Err(KvError::Maybe) => {}
            Err(e) => panic!(
                "client {me} holds the lock, yet its Put({SHARED:?}, \"\", {}) returned {e}: \
                 either another client wrote the key (so it held the lock too) or the clerk \
                 returned {e} for a retried Put (a retry refused with ErrVersion is ErrMaybe)",
                ver + 1
            ),
        }
        l1.release().await;
    }
    ClientResult {
        ok: acquired,
        maybe: 0,
    }
}

fn run_clients(part: &'static str, n: usize, reliable: bool) {
    run_clients_for(part, n, reliable, NSEC);
}

fn run_clients_for(part: &'static str, n: usize, reliable: bool, duration: Duration) {
    run_test(move || async move {
        let h = Harness::new(reliable);
        let what = if n == 1 {
            "1 client".to_string()
        } else {
            format!("{n} clients")
        };
        let stats = Stats::begin(
            format!(
                "Test ({part}): {what} sharing a lock {}",
                net_name(reliable)
            ),
            1,
        );
        let names = Rc::new((rand_value(12), rand_value(12)));
        let results = spawn_clients_and_wait(&h, n, duration, |me, ck, done| {
            lock_client(me, ck, names.clone(), done)
        })
        .await;
        let acquired: u64 = results.iter().map(|r| r.ok).sum();
        assert!(acquired > 0, "no client ever acquired the lock");
        h.check_linearizable();
        stats.end(h.ops());
        println!("  {acquired} acquisitions by {n} clients");
    });
}

#[test]
fn one_client_reliable_2b() {
    run_clients("2B", 1, true);
}

#[test]
fn many_clients_reliable_2b() {
    run_clients("2B", NCLNT, true);
}

#[test]
fn one_client_unreliable_2d() {
    run_clients("2D", 1, false);
}

#[test]
fn many_clients_unreliable_2d() {
    run_clients("2D", NCLNT, false);
}

/// Ours: the many-clients workload for 10 s. A lock that takes a `Maybe`
/// answer to its acquiring Put for success, without reading the key back,
/// goes wrong only when that Put lost a race while its first attempt was
/// lost; 2 s give a handful of such races, 10 s enough to catch it on
/// practically every seed.
#[test]
fn many_clients_unreliable_long_2d() {
    run_clients_for("2D", NCLNT, false, 5 * NSEC);
}
