//! Bad scenario files: a clear error naming the file, the line and the
//! field — never a panic, never a hang.

mod common;
use common::{err, has};

use std::time::Duration;

const GOOD: &str = r#"lab = "raft"

[cluster]
peers = 3

[[step]]
at = 1.0
crash = "follower"

[[expect]]
leader = "all"
within = 2.0
"#;

#[test]
fn the_good_file_is_accepted() {
    let s = scenario::parse("good.toml", GOOD).unwrap();
    assert_eq!(s.peers, 3);
    assert_eq!(s.steps.len(), 1);
}

#[test]
fn an_unknown_field() {
    let m = err(&GOOD.replace("crash = \"follower\"", "crash = \"follower\"\ncrahs = 1"));
    has(&m, &["bad.toml:9:", "unknown field `crahs`", "[[step]]"]);
    let m = err(&GOOD.replace("peers = 3", "peers = 3\nnodes = 3"));
    has(&m, &["bad.toml:5:", "unknown field `nodes`", "cluster"]);
}

#[test]
fn a_negative_time() {
    let m = err(&GOOD.replace("at = 1.0", "at = -1.0"));
    has(
        &m,
        &["bad.toml:7:", "field `step[1].at`", "-1 is not a time"],
    );
}

#[test]
fn a_node_out_of_range() {
    let m = err(&GOOD.replace("crash = \"follower\"", "crash = 7"));
    has(
        &m,
        &[
            "bad.toml:8:",
            "field `step[1].crash`",
            "peer 7 is out of range",
            "3 peers",
        ],
    );
    let m = err(&GOOD.replace("crash = \"follower\"", "crash = -1"));
    has(&m, &["bad.toml:8:", "peer -1 is out of range"]);
}

#[test]
fn a_word_that_is_not_a_role() {
    let m = err(&GOOD.replace("crash = \"follower\"", "crash = \"leder\""));
    has(
        &m,
        &[
            "bad.toml:8:",
            "field `step[1].crash`",
            "\"leder\" is not a role",
        ],
    );
}

#[test]
fn a_role_that_does_not_resolve_when_the_step_runs() {
    // Every peer is down: there is no leader to crash at 3 s.
    let src = GOOD.replace(
        "crash = \"follower\"",
        "crash = \"all\"\n\n[[step]]\nat = 3.0\ncrash = \"leader\"",
    );
    let s = scenario::parse("bad.toml", &src).unwrap();
    let o = scenario::run(&s, 3);
    let e = o.error.expect("the run stops");
    has(
        &e,
        &[
            "bad.toml:12:",
            "field `step[2].crash`",
            "role \"leader\" does not resolve",
            "at 3.000s",
            "seed 3",
        ],
    );
    // And "minority" without a partition.
    let src = GOOD.replace("crash = \"follower\"", "isolate = \"minority\"");
    let s = scenario::parse("bad.toml", &src).unwrap();
    let e = scenario::run(&s, 1).error.expect("the run stops");
    has(&e, &["bad.toml:8:", "no partition is in effect"]);
}

#[test]
fn a_lab_that_does_not_exist() {
    let m = err(&GOOD.replace("lab = \"raft\"", "lab = \"zab\""));
    has(
        &m,
        &[
            "bad.toml:1:",
            "field `lab`",
            "no lab \"zab\"",
            "raft or kvraft",
        ],
    );
}

#[test]
fn more_mistakes_are_named_too() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "crash = \"follower\"",
            "crash = \"follower\"\nheal = true",
            &[
                "bad.toml:9:",
                "field `step[1].heal`",
                "a step has one action, this one has `crash` and `heal`",
            ],
        ),
        (
            "leader = \"all\"",
            "leader = \"all\"\nterm_at_most = 3",
            &[
                "bad.toml:12:",
                "field `expect[1].term_at_most`",
                "an expectation checks one thing, this one `leader` and `term_at_most`",
            ],
        ),
        (
            "crash = \"follower\"",
            "by_ms = 3",
            &["bad.toml:6:", "field `step[1]`", "a step needs one action"],
        ),
        (
            "crash = \"follower\"",
            "drop = \"raft.appendEntries\"",
            &["bad.toml:8:", "not an RPC method"],
        ),
        (
            "crash = \"follower\"",
            "start = \"A\"\nby_ms = 3",
            &["bad.toml:9:", "`by_ms` does not go with `start`"],
        ),
        (
            "crash = \"follower\"",
            "crash = \"L\"",
            &["bad.toml:8:", "\"L\" is not a role"],
        ),
        (
            "leader = \"all\"",
            "linearizable = true",
            &["bad.toml:11:", "not for lab = \"raft\""],
        ),
        (
            "peers = 3",
            "peers = 0",
            &["bad.toml:4:", "field `cluster.peers`"],
        ),
        (
            "at = 1.0",
            "at = 1e9",
            &["bad.toml:7:", "past the longest scenario"],
        ),
        (
            "at = 1.0",
            "at = \"soon\"",
            &["bad.toml:7:", "invalid type"],
        ),
        ("peers = 3", "peers = 3\n[cluster]", &["bad.toml:"]),
    ];
    for (from, to, want) in cases {
        let m = err(&GOOD.replace(from, to));
        has(&m, want);
    }
    assert!(
        scenario::parse("bad.toml", "")
            .unwrap_err()
            .message
            .contains("missing field `lab`")
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // wall time of a check, outside the simulation
fn no_input_hangs() {
    // A long scenario is bounded by the 600 s cap and runs in virtual time.
    let src = GOOD.replace("[[expect]]", "[[expect]]\nat = 599.0");
    let s = scenario::parse("long.toml", &src).unwrap();
    let t = std::time::Instant::now();
    let _ = scenario::run(&s, 1);
    assert!(t.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_repeat_needs_every_and_times_and_expands_in_time_order() {
    let src = GOOD.replace("crash = \"follower\"", "crash = \"follower\"\nevery = 0.5");
    has(
        &err(&src),
        &["bad.toml:", "step[1].every", "`every` needs `times`"],
    );
    let src = GOOD.replace(
        "crash = \"follower\"",
        "crash = \"follower\"\nevery = 0.5\ntimes = 0",
    );
    has(&err(&src), &["step[1].times", "1 to 1000 times"]);
    let src = GOOD.replace(
        "crash = \"follower\"",
        "crash = \"follower\"\nevery = 0.5\ntimes = 3",
    ) + "\n[[step]]\nat = 1.2\nheal = true\n";
    let s = scenario::parse("good.toml", &src).unwrap();
    let at: Vec<(usize, u128)> = s
        .steps
        .iter()
        .map(|s| (s.number, s.at.as_millis()))
        .collect();
    assert_eq!(at, [(1, 1000), (2, 1200), (1, 1500), (1, 2000)]);
}

#[test]
fn a_generated_fuzz_plan_is_a_valid_scenario() {
    for seed in 1..200 {
        for lab in [scenario::Lab::Raft, scenario::Lab::Kvraft] {
            let p = scenario::fuzz::plan(lab, seed);
            let s = p.scenario().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(s.skip_unresolved && s.monitors);
            assert_eq!(
                p,
                scenario::fuzz::plan(lab, seed),
                "a plan depends on its seed only"
            );
        }
    }
}
