// The network's random delays and losses follow their specified
// distributions (the constants of `labrpc::net`), measured over many
// samples with fixed seeds. Bounds are several standard deviations wide.

const N: usize = 4000;

/// Runs `N` concurrent calls from fresh ends (set up by `setup`); returns
/// each call's (duration in ms, outcome) and the handler runs.
/// (round trip in ms, outcome) of each call.
type Samples = Vec<(f64, Result<u64, RpcError>)>;

fn sample(seed: u64, setup: impl Fn() + 'static) -> (Samples, usize) {
    let out = Rc::new(RefCell::new((Vec::new(), 0)));
    let o = out.clone();
    let setup = Rc::new(setup);
    Builder::new()
        .seed(seed)
        .time_limit(Duration::from_secs(3600))
        .run(move || {
            let o = o.clone();
            let setup = setup.clone();
            async move {
                let (_, junk) = start_junk("s");
                setup();
                let mut handles = Vec::new();
                for i in 0..N as u64 {
                    let c = client("s");
                    handles.push(task::spawn(async move {
                        let t0 = Instant::now();
                        let r = c.record(&i).await;
                        (t0.elapsed().as_secs_f64() * 1000.0, r)
                    }));
                }
                let mut samples = Vec::new();
                for h in handles {
                    samples.push(h.await.unwrap());
                }
                *o.borrow_mut() = (samples, junk.seen.borrow().len());
            }
        });
    Rc::try_unwrap(out).ok().unwrap().into_inner()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[test]
fn reliable_latency_is_uniform_in_the_default_range() {
    let (samples, ran) = sample(1, || {});
    assert_eq!(ran, N);
    let rtts: Vec<f64> = samples
        .iter()
        .map(|(t, r)| (r.is_ok(), *t))
        .map(|(ok, t)| {
            assert!(ok);
            t
        })
        .collect();
    let (lo, hi) = (ms(*DEFAULT_LATENCY.start()), ms(*DEFAULT_LATENCY.end()));
    let m = mean(&rtts);
    assert!(
        (m - (lo + hi)).abs() < 0.05,
        "mean round trip {m} ms, want {}",
        lo + hi
    );
    assert!(
        rtts.iter()
            .all(|&t| t >= 2.0 * lo - 1e-9 && t <= 2.0 * hi + 1e-9)
    );
}

#[test]
fn unreliable_loses_requests_and_replies_at_the_specified_rate() {
    let (samples, ran) = sample(2, || network().set_reliable(false));
    let delivered = ran as f64 / N as f64;
    let ok = samples.iter().filter(|(_, r)| r.is_ok()).count() as f64 / N as f64;
    let p = 1.0 - UNRELIABLE_DROP;
    // sd of a proportion over 4000 samples is < 0.008; allow 4 sd.
    assert!(
        (delivered - p).abs() < 0.03,
        "requests delivered {delivered}, want {p}"
    );
    assert!(
        (ok - p * p).abs() < 0.03,
        "calls answered {ok}, want {}",
        p * p
    );
    // Replies are lost after the handler ran: some handlers ran for calls
    // that failed.
    assert!(ran > samples.iter().filter(|(_, r)| r.is_ok()).count());
    // Request jitter: uniform 0..27 ms on top of the link latencies.
    let rtts: Vec<f64> = samples
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(t, _)| *t)
        .collect();
    let lat = ms(*DEFAULT_LATENCY.start()) + ms(*DEFAULT_LATENCY.end());
    let m = mean(&rtts);
    let want = ms(UNRELIABLE_JITTER) / 2.0 + lat;
    assert!(
        (m - want).abs() < 0.8,
        "mean answered round trip {m} ms, want {want}"
    );
    let max = rtts.iter().cloned().fold(0.0, f64::max);
    assert!(max <= ms(UNRELIABLE_JITTER) + 2.0 * ms(*DEFAULT_LATENCY.end()));
    assert!(
        max > ms(UNRELIABLE_JITTER) - 1.0,
        "jitter reaches its top, max {max}"
    );
}

fn failure_delays(seed: u64, long: bool) -> Vec<f64> {
    let (samples, ran) = sample(seed, move || {
        network().set_long_delays(long);
        network().delete_server("s");
    });
    assert_eq!(ran, 0);
    samples
        .iter()
        .map(|(t, r)| {
            assert_eq!(r, &Err(RpcError::Unreachable));
            *t
        })
        .collect()
}

#[test]
fn undeliverable_calls_fail_after_a_uniform_delay() {
    let short = failure_delays(3, false);
    let (m, top) = (mean(&short), ms(SHORT_FAIL_DELAY));
    assert!(
        (m - top / 2.0).abs() < 3.0,
        "mean {m} ms, want {}",
        top / 2.0
    );
    assert!(short.iter().all(|&t| t < top));
    let long = failure_delays(4, true);
    let (m, top) = (mean(&long), ms(LONG_FAIL_DELAY));
    assert!(
        (m - top / 2.0).abs() < 200.0,
        "mean {m} ms, want {}",
        top / 2.0
    );
    assert!(long.iter().all(|&t| t < top));
    assert!(long.iter().any(|&t| t > top * 0.95));
}

#[test]
fn long_reordering_holds_back_two_thirds_of_replies() {
    let (samples, _) = sample(5, || network().set_long_reordering(true));
    let rtts: Vec<f64> = samples.iter().map(|(t, _)| *t).collect();
    let held: Vec<f64> = rtts
        .iter()
        .cloned()
        .filter(|&t| t >= ms(LONG_REORDER_MIN))
        .collect();
    let frac = held.len() as f64 / N as f64;
    assert!(
        (frac - LONG_REORDER_PROBABILITY).abs() < 0.03,
        "held back {frac}"
    );
    let top = ms(LONG_REORDER_MIN) + ms(LONG_REORDER_SPREAD) + 2.0 * ms(*DEFAULT_LATENCY.end());
    assert!(held.iter().all(|&t| t <= top));
    // U(0..U(0..S)) has mean S/4: skewed toward short delays.
    let extra = mean(&held) - ms(LONG_REORDER_MIN);
    let want = ms(LONG_REORDER_SPREAD) / 4.0;
    assert!(
        (extra - want).abs() < 40.0,
        "mean extra delay {extra} ms, want {want}"
    );
}

#[test]
fn a_lossy_link_loses_at_its_rate() {
    let (samples, ran) = sample(6, || {
        network().set_link(
            NodeId::TESTER,
            NodeId(1),
            Some(labrpc::LinkConfig {
                loss: 0.3,
                ..Default::default()
            }),
        )
    });
    let delivered = ran as f64 / N as f64;
    assert!((delivered - 0.7).abs() < 0.03, "delivered {delivered}");
    let ok = samples.iter().filter(|(_, r)| r.is_ok()).count();
    assert_eq!(ok, ran, "the reverse link is not lossy");
}
