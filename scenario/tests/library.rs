//! The classroom library (`scenarios/*.toml`): every scenario parses, runs
//! with its own seed, meets every expectation, is deterministic (same seed,
//! same trace hash) and, in release, takes at most a second of wall time.

use std::path::{Path, PathBuf};

fn library() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_library_has_the_classroom_scenarios() {
    let names: Vec<String> = library()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "figure-8",
        "leader-in-minority",
        "split-vote",
        "one-way-link",
        "rejoin-higher-term",
        "all-crash-restart",
        "stale-read",
        "shardkv1-controller-crash",
        "shardkv1-partitioned-ctrler",
        "gfs-primary-crash-mid-append",
        "gfs-stale-replica",
        "snapshot-crash-during-checkpoint",
        "snapshot-slow-channel",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "scenarios/{want}.toml is missing"
        );
    }
    for f in library() {
        let s = scenario::load(&f).unwrap();
        assert!(
            s.description.len() > 200,
            "{}: each scenario says what it shows, in a paragraph",
            f.display()
        );
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // wall time of the run, outside it
fn every_scenario_meets_its_expectations_deterministically_within_a_second() {
    for f in library() {
        let s = scenario::load(&f).unwrap();
        let t = std::time::Instant::now();
        let o = scenario::run(&s, s.seed);
        let wall = t.elapsed();
        assert!(o.passed(), "{}", scenario::report(&s, &o, true));
        if !cfg!(debug_assertions) {
            assert!(
                wall.as_secs_f64() <= 1.0,
                "{} took {wall:?} of wall time (at most 1 s)",
                f.display()
            );
        }
        let again = scenario::run(&s, s.seed);
        assert_eq!(
            (o.trace_hash, o.events.len()),
            (again.trace_hash, again.events.len()),
            "{}: the same seed gave two different runs",
            f.display()
        );
        assert_eq!(o.results, again.results);
        println!("{}: {wall:?}, {} events", f.display(), o.events.len());
    }
}

#[test]
fn another_seed_is_another_run() {
    let f = library()
        .into_iter()
        .find(|p| p.ends_with("leader-in-minority.toml"))
        .unwrap();
    let s = scenario::load(&f).unwrap();
    let a = scenario::run(&s, 1);
    let b = scenario::run(&s, 2);
    assert_ne!(a.trace_hash, b.trace_hash);
}

#[test]
fn the_timeline_shows_steps_leaders_commits_and_clients() {
    let f = library()
        .into_iter()
        .find(|p| p.ends_with("leader-in-minority.toml"))
        .unwrap();
    let s = scenario::load(&f).unwrap();
    let o = scenario::run(&s, s.seed);
    let text = scenario::report(&s, &o, true);
    for want in [
        "▶ step 2 (line",
        "partition {",
        "★ peer",
        "commit ..=",
        "client 0 append",
        "✓",
        "PASSED",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
}

#[test]
fn a_failed_expectation_says_which_when_why_and_the_seed() {
    let src = r#"
lab = "raft"
[cluster]
peers = 3
[[step]]
at = 1.5
crash = "all"
[[expect]]
at = 2.0
within = 0.5
leader = "all"
"#;
    let s = scenario::parse("t.toml", src).unwrap();
    let o = scenario::run(&s, 5);
    assert!(!o.passed());
    let text = scenario::report(&s, &o, false);
    assert!(
        text.contains(
            "expectation 1 failed (t.toml:11, field `expect[1].leader`) at 2.500s, seed 5"
        ),
        "{text}"
    );
    assert!(text.contains("no peer of {0,1,2} leads"), "{text}");
    assert!(
        text.contains("reproduce: lab scenario t.toml --seed 5"),
        "{text}"
    );
}
