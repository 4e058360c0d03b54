//! `lab = "gfs"`: its fields are checked like the others (file, line,
//! field), its classroom scenario runs the same twice, and a wrong
//! expectation fails naming its line and the seed.

mod common;
use common::{err, has};

const GOOD: &str = r#"lab = "gfs"

[cluster]
chunkservers = 4

[[client]]
file = "/log"
rate = 20
until = 2.0

[[step]]
at = 1.0
crash = "primary"

[[expect]]
appends_intact = true
"#;

#[test]
fn the_good_file_is_accepted() {
    let s = scenario::parse("good.toml", GOOD).unwrap();
    assert_eq!(s.lab, scenario::Lab::Gfs);
    assert_eq!(s.steps.len(), 1);
    assert_eq!(s.peers, 6, "master, 4 chunkservers, 1 client");
}

#[test]
fn bad_gfs_fields_name_the_line_and_field() {
    let m = err(&GOOD.replace("chunkservers = 4", "chunkservers = 2"));
    has(
        &m,
        &[
            "bad.toml:4:",
            "field `cluster.chunkservers`",
            "2 chunkservers",
            "3 (a chunk's replicas) to 8",
        ],
    );
    let m = err(&GOOD.replace("crash = \"primary\"", "crash = \"cs7\""));
    has(
        &m,
        &[
            "bad.toml:13:",
            "field `step[1].crash`",
            "\"cs7\" is not a node",
            "cs0..",
        ],
    );
    let m = err(&GOOD.replace("crash = \"primary\"", "crash = 2"));
    has(
        &m,
        &["bad.toml:13:", "2: name the nodes of this lab by name"],
    );
    let m = err(&GOOD.replace("crash = \"primary\"", "crash = \"client0\""));
    has(&m, &["bad.toml:13:", "clients do not crash here"]);
    let m = err(&GOOD.replace("appends_intact = true", "replicated = 4"));
    has(
        &m,
        &[
            "bad.toml:16:",
            "field `expect[1].replicated`",
            "4 replicas: 1 to 3",
        ],
    );
    let m = err(&GOOD.replace("appends_intact = true", "appends_intact = true\nleader = 0"));
    has(
        &m,
        &["bad.toml:17:", "unknown field `leader`", "appends_intact"],
    );
    let m = err(&GOOD.replace("rate = 20", "rate = 20\nkeys = [\"x\"]"));
    has(&m, &["bad.toml:9:", "unknown field `keys`", "[[client]]"]);
    let m = err(&GOOD.replace("file = \"/log\"", "file = \"/log\"\nops = \"get\""));
    has(
        &m,
        &[
            "bad.toml:8:",
            "field `client[1].ops`",
            "\"append\" or \"write\"",
        ],
    );
    let m = err(&GOOD.replace("crash = \"primary\"", "drop = \"raft.append_entries\""));
    has(
        &m,
        &[
            "field `step[1].drop`",
            "not an RPC method of gfs",
            "chunkserver.apply",
        ],
    );
}

#[test]
fn the_classroom_scenario_runs_the_same_twice() {
    let s = common::classroom("gfs-primary-crash-mid-append");
    let (_, text) = common::passes_the_same_twice(&s);
    has(
        &text,
        &[
            "1 master, 5 chunkservers, 2 clients",
            "bind P = {cs",
            "✖ cs",
            "client 0 append c0.",
            "duplicates",
            "PASSED",
        ],
    );
}

#[test]
fn a_wrong_expectation_fails_naming_its_line_and_the_seed() {
    let src = GOOD.replace(
        "appends_intact = true",
        "appends_intact = true\n\n[[expect]]\nacked_at_least = 1000",
    );
    let s = scenario::parse("t.toml", &src).unwrap();
    let o = scenario::run(&s, 5);
    assert!(!o.passed());
    assert_eq!(
        o.results[0].held,
        Some(true),
        "{}",
        scenario::report(&s, &o, true)
    );
    let text = scenario::report(&s, &o, false);
    has(
        &text,
        &[
            "expectation 2 failed (t.toml:19, field `expect[2].acked_at_least`) at 2.950s, seed 5",
            "operations acknowledged",
            "reproduce: lab scenario t.toml --seed 5",
        ],
    );
}

#[test]
fn a_step_or_expectation_with_two_things_is_refused() {
    let m = err(&GOOD.replace("crash = \"primary\"", "crash = \"primary\"\nheal = true"));
    has(
        &m,
        &[
            "field `step[1].heal`",
            "a step has one action, this one has `crash` and `heal`",
        ],
    );
    let m = err(&GOOD.replace(
        "appends_intact = true",
        "appends_intact = true\nprogress = true",
    ));
    has(
        &m,
        &[
            "field `expect[1].progress`",
            "an expectation checks one thing, this one `appends_intact` and `progress`",
        ],
    );
}
