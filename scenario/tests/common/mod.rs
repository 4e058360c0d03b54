//! What the scenario crate's test files share.
#![allow(dead_code)] // each test file uses some of it

/// The error `scenario::parse` gives for `src`; fails if it accepts it.
pub fn err(src: &str) -> String {
    match scenario::parse("bad.toml", src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e.message,
    }
}

/// Fails unless `msg` holds every one of `parts`.
pub fn has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{p:?} not in {msg:?}");
    }
}

/// `scenarios/NAME.toml` of the classroom library.
pub fn classroom(name: &str) -> scenario::Scenario {
    let f = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    scenario::load(&f).unwrap()
}

/// Runs `s` twice on its seed: it must pass, and the two runs must be the
/// same (trace hash, events, results). Returns the first run and its
/// report with the timeline.
pub fn passes_the_same_twice(s: &scenario::Scenario) -> (scenario::Outcome, String) {
    let a = scenario::run(s, s.seed);
    assert!(a.passed(), "{}", scenario::report(s, &a, true));
    let b = scenario::run(s, s.seed);
    assert_eq!(
        (a.trace_hash, a.events.len()),
        (b.trace_hash, b.events.len())
    );
    assert_eq!(a.results, b.results);
    let text = scenario::report(s, &a, true);
    (a, text)
}
