//! lab = "shardkv1": bad fields give clear errors; the classroom example
//! meets its expectations deterministically; a wrong expectation fails
//! naming its line and the seed.

mod common;
use common::{err, has};

const GOOD: &str = r#"lab = "shardkv1"

[cluster]
groups = 2

[[client]]
keys = ["a", "b", "c"]
ops = "put"
rate = 10
from = 0.3
until = 2.0

[[step]]
at = 1.0
join = 2

[[expect]]
config_num = 2

[[expect]]
members = [1, 2]

[[expect]]
linearizable = true
"#;

fn example() -> scenario::Scenario {
    common::classroom("shardkv1-controller-crash")
}

#[test]
fn the_good_file_is_accepted_and_holds() {
    let s = scenario::parse("good.toml", GOOD).unwrap();
    assert_eq!(s.lab, scenario::Lab::Shardkv1);
    let spec = s.shardkv1.as_ref().unwrap();
    assert_eq!((spec.groups, spec.joined.clone()), (2, vec![1]));
    let o = scenario::run(&s, 3);
    assert!(o.passed(), "{}", scenario::report(&s, &o, true));
}

#[test]
fn bad_shardkv1_fields_are_named() {
    let m = err(&GOOD.replace("join = 2", "join = 3"));
    has(
        &m,
        &[
            "bad.toml:15:",
            "field `step[1].join`",
            "gid 3 is out of range: the cluster has groups 1 to 2",
        ],
    );
    let m = err(&GOOD.replace("groups = 2", "peers = 3"));
    has(
        &m,
        &["bad.toml:4:", "in [cluster]", "unknown field `peers`"],
    );
    let m = err(&GOOD.replace("groups = 2", "groups = 9"));
    has(&m, &["field `cluster.groups`", "1 to 6 shard groups"]);
    let m = err(&GOOD.replace("join = 2", "crash = \"kvsrv\""));
    has(
        &m,
        &[
            "bad.toml:15:",
            "field `step[1].crash`",
            "kvsrv cannot crash",
            "partition or isolate it instead",
        ],
    );
    let m = err(&GOOD.replace("join = 2", "isolate = \"g3.0\""));
    has(
        &m,
        &["field `step[1].isolate`", "the cluster has groups g1 to g2"],
    );
    let m = err(&GOOD.replace("join = 2", "isolate = \"leader\""));
    has(&m, &["\"leader\" is not a node", "gG.leader"]);
    let m = err(&GOOD.replace("ops = \"put\"", "ops = \"append\""));
    has(&m, &["bad.toml:8:", "field `client[1].ops`", "no Append"]);
    let m = err(&GOOD.replace("join = 2", "ctrler_crash_on = \"shardgrp.get\"\ncount = 2"));
    has(
        &m,
        &[
            "field `step[1].ctrler_crash_on`",
            "shardgrp.freeze_shard, shardgrp.install_shard",
        ],
    );
    let m = err(&GOOD.replace("join = 2", "join = 2\ncount = 2"));
    has(
        &m,
        &["field `step[1].count`", "`count` does not go with `join`"],
    );
    let m = err(&GOOD.replace("config_num = 2", "leader = \"g1\""));
    has(&m, &["in [[expect]]", "unknown field `leader`"]);
    let m = err(&GOOD.replace("config_num = 2", "shard = 12\nowner = 1"));
    has(&m, &["field `expect[1].shard`", "shards are 0 to 11"]);
    let m = err(&GOOD.replace("config_num = 2", "shard = 3"));
    has(&m, &["`shard` needs `owner`"]);
}

#[test]
fn the_controller_crash_example_is_deterministic() {
    let s = example();
    let (a, text) = common::passes_the_same_twice(&s);
    has(
        &text,
        &[
            "ctrler 0 will crash when reply 2 of shardgrp.freeze_shard reaches it",
            "✖ ctrler-0 crashed",
            "carried out its shardgrp.freeze_shard (reply 2), the reply is lost",
            "ctrler 1: init_controller returned; configuration 2",
            "★ g1.",
            "client 0 put(\"k0\"",
            "PASSED",
        ],
    );
    assert!(!a.versioned_history.is_empty());
}

#[test]
fn a_wrong_expectation_fails_naming_line_and_seed() {
    let s = example();
    let src = std::fs::read_to_string(&s.file)
        .unwrap()
        .replace("config_num = 3", "config_num = 4");
    let line = 1 + src.lines().position(|l| l == "config_num = 4").unwrap();
    let s = scenario::parse("wrong.toml", &src).unwrap();
    let o = scenario::run(&s, 7);
    assert!(!o.passed());
    let text = scenario::report(&s, &o, false);
    has(
        &text,
        &[
            &format!(
                "expectation 4 failed (wrong.toml:{line}, field `expect[4].config_num`) at 5.0"
            ),
            "seed 7",
            "configuration 3 [",
            "reproduce: lab scenario wrong.toml --seed 7",
            "FAILED: 7 of 8 expectations held",
        ],
    );
}

#[test]
fn a_step_on_a_crashed_controller_stops_the_run_with_its_line() {
    let src = GOOD.replace(
        "[[step]]\nat = 1.0\njoin = 2",
        "[[step]]\nat = 0.5\ncrash = \"ctrler\"\n\n[[step]]\nat = 1.0\njoin = 2",
    );
    let s = scenario::parse("t.toml", &src).unwrap();
    let o = scenario::run(&s, 1);
    let err = o.error.clone().unwrap_or_default();
    has(
        &err,
        &[
            "t.toml:19: field `step[2].join`",
            "ctrler 0 is down",
            "seed 1",
        ],
    );
}

#[test]
fn seeds_report_lists_shardkv1_expectations() {
    let s = scenario::parse("good.toml", GOOD).unwrap();
    let outcomes: Vec<_> = (1..=2).map(|k| scenario::run(&s, k)).collect();
    let text = scenario::seeds_report(&s, &outcomes);
    has(
        &text,
        &[
            "2/2 (100%)  expectation 1 (line 18): at the end: the current configuration is number 2",
            "2 of 2 runs met every expectation",
        ],
    );
}

#[test]
fn history_checks_hold_on_an_unreliable_network() {
    let s = example();
    let src = std::fs::read_to_string(&s.file)
        .unwrap()
        .replace("joined = [1]", "joined = [1]\nreliable = false");
    let s = scenario::parse("unreliable.toml", &src).unwrap();
    for seed in 1..=4 {
        let o = scenario::run(&s, seed);
        for r in o
            .results
            .iter()
            .filter(|r| r.field.ends_with("linearizable") || r.field.ends_with("keys_intact"))
        {
            assert_eq!(r.held, Some(true), "seed {seed}: {r:?}");
        }
    }
}
