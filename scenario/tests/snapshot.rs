//! `lab = "snapshot"`: its fields are checked like the others (file,
//! line, field), its classroom scenario runs the same twice, and a wrong
//! expectation fails naming its line and the seed.

mod common;
use common::{err, has};

const JOB: &str = r#"lab = "snapshot"

[job]
records = 100

[[step]]
at = 0.1
crash = "sink"
mid_checkpoint = true

[[expect]]
same_output = true
within = 1.0
"#;

const PROCS: &str = r#"lab = "snapshot"

[cluster]
processes = 3

[[step]]
at = 0.1
snapshot = "p1"

[[expect]]
conservation = true
"#;

#[test]
fn the_good_files_are_accepted() {
    let s = scenario::parse("job.toml", JOB).unwrap();
    assert_eq!(s.lab, scenario::Lab::Snapshot);
    assert_eq!(
        s.peers, 7,
        "2 sources, 3 operators, the sink, the coordinator"
    );
    let s = scenario::parse("procs.toml", PROCS).unwrap();
    assert_eq!(s.peers, 3);
}

#[test]
fn bad_snapshot_fields_name_the_line_and_field() {
    let m = err(&JOB.replace("records = 100", "records = 0"));
    has(&m, &["bad.toml:4:", "field `job.records`", "0: 1 to 5000"]);
    let m = err(&JOB.replace("crash = \"sink\"", "crash = \"sinc\""));
    has(
        &m,
        &[
            "bad.toml:8:",
            "field `step[1].crash`",
            "\"sinc\" is not a node",
            "coordinator",
        ],
    );
    let m = err(&JOB.replace(
        "crash = \"sink\"\nmid_checkpoint = true",
        "restart = \"sink\"",
    ));
    has(
        &m,
        &["bad.toml:8:", "the job manager restarts the job by itself"],
    );
    let m = err(&JOB.replace("same_output = true", "conservation = true"));
    has(
        &m,
        &[
            "bad.toml:12:",
            "field `expect[1].conservation`",
            "a file with [cluster]",
        ],
    );
    let m = err(&JOB.replace("same_output = true", "same_output = false"));
    has(&m, &["bad.toml:12:", "write `same_output = true`"]);
    let m = err(&JOB.replace("records = 100", "records = 100\ntopology = \"ring\""));
    has(&m, &["bad.toml:5:", "unknown field `topology`", "[job]"]);
    let m = err(&PROCS.replace("snapshot = \"p1\"", "snapshot = \"p3\""));
    has(
        &m,
        &[
            "bad.toml:8:",
            "field `step[1].snapshot`",
            "\"p3\" is not a node",
            "p0..",
        ],
    );
    let m = err(&PROCS.replace("snapshot = \"p1\"", "crash = \"p1\""));
    has(&m, &["bad.toml:8:", "processes do not crash here"]);
    let m = err(&PROCS.replace("snapshot = \"p1\"", "crash = \"p1\"\nmid_checkpoint = true"));
    has(&m, &["bad.toml:8:", "processes do not crash here"]);
    let m = err(&PROCS.replace("processes = 3", "processes = 3\n\n[job]"));
    has(&m, &["either [cluster]", "or [job]"]);
}

#[test]
fn the_classroom_scenario_runs_the_same_twice() {
    let s = common::classroom("snapshot-crash-during-checkpoint");
    let (_, text) = common::passes_the_same_twice(&s);
    has(
        &text,
        &[
            "2 sources, 3 operators",
            "crash {coordinator} mid-checkpoint",
            "✖ sink crashed",
            "↻ coordinator restarted",
            "PASSED",
        ],
    );
}

#[test]
fn a_wrong_expectation_fails_naming_its_line_and_the_seed() {
    let src = PROCS.replace(
        "conservation = true",
        "conservation = true\n\n[[expect]]\nat = 0.1\nwithin = 0.1\ncomplete = true\n\n\
         [[step]]\nat = 0.05\nslow = [\"p0\", \"p1\"]\nlatency_ms = 300",
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
            "expectation 2 failed (t.toml:16, field `expect[2].complete`)",
            "seed 5",
            "have not finished their part",
            "reproduce: lab scenario t.toml --seed 5",
        ],
    );
}
