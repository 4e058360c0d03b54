//! The `lab` command line, end to end, on the fixture lab of
//! `tests/fixture.rs`: argument errors are messages with exit code 2 (never
//! a panic), the JSON summary parses, and a failing seed that `lab grade`
//! reports fails again, the same way, when replayed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lab(args: &[&str], envs: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lab"));
    cmd.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LAB_CLI_FIXTURE_FAIL")
        .env_remove("LAB_SEED")
        .env_remove("NO_COLOR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the lab binary");
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked") && !o.stdout.contains("lab: thread"),
        "the tool panicked:\n{}",
        o.stderr
    );
    o
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn usage_error(o: &Out, needle: &str) {
    assert_eq!(o.code, 2, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains(needle), "no {needle:?} in:\n{}", o.stderr);
}

#[test]
fn an_unknown_lab_is_named_with_the_labs_there_are() {
    let o = lab(&["grade", "no_such_lab"], &[]);
    usage_error(&o, "unknown lab \"no_such_lab\"");
    assert!(o.stderr.contains("labrpc"), "{}", o.stderr);
    let o = lab(&["replay", "no_such_lab", "x", "--seed", "1"], &[]);
    usage_error(&o, "unknown lab \"no_such_lab\"");
    let o = lab(&["grade", "labcodec"], &[]);
    usage_error(&o, "not a lab");
}

#[test]
fn an_unknown_test_or_an_empty_filter_is_an_error() {
    let o = lab(&["replay", "lab", "no_such_test", "--seed", "1"], &[]);
    usage_error(&o, "unknown test \"no_such_test\" in lab lab");
    let o = lab(&["replay", "lab", "flaky", "--seed", "1"], &[]);
    usage_error(&o, "did you mean: fixture_flaky");
    let o = lab(&["grade", "lab", "--test", "no_such_filter"], &[]);
    usage_error(&o, "no tests matched --test no_such_filter");
    assert!(o.stderr.contains("lab fixture_flaky"), "{}", o.stderr);
}

#[test]
fn bad_numbers_are_usage_errors() {
    for args in [
        &["replay", "lab", "fixture_flaky", "--seed", "abc"][..],
        &["replay", "lab", "fixture_flaky", "--seed", "-1"],
        &[
            "replay",
            "lab",
            "fixture_flaky",
            "--seed",
            "18446744073709551616",
        ],
        &["replay", "lab", "fixture_flaky"],
        &["grade", "lab", "--seeds", "0"],
        &["grade", "lab", "--jobs", "0"],
        &["grade", "lab", "--timeout", "-3"],
        &["logs", "/nonexistent/trace.jsonl"],
        &["picture", "/nonexistent/trace.jsonl"],
        &["frobnicate"],
    ] {
        let o = lab(args, &[]);
        assert_eq!(o.code, 2, "{args:?}: {}{}", o.stdout, o.stderr);
        assert!(!o.stderr.trim().is_empty(), "{args:?} gave no message");
    }
    let o = lab(&["replay", "lab", "fixture_flaky", "--seed", "abc"], &[]);
    assert!(o.stderr.contains("invalid value 'abc'"), "{}", o.stderr);
    let dir = scratch("bad-trace");
    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"time\":1,\"node\":0,\"kind\":\"heal\"}\nnot a trace\n",
    )
    .unwrap();
    let o = lab(&["picture", bad.to_str().unwrap()], &[]);
    usage_error(&o, "bad.jsonl:2: not a trace event");
}

/// A small trace, as LAB_TRACE writes it.
fn write_trace(dir: &Path) -> PathBuf {
    let trace = dir.join("t.jsonl");
    std::fs::write(
        &trace,
        [
            r#"{"seq":0,"time":0,"node":1,"kind":"node_created","name":"a"}"#,
            r#"{"seq":1,"time":10,"node":1,"kind":"send","rpc":1,"end":"e","server":"s","to":0,"method":"m.x","bytes":3}"#,
            r#"{"seq":2,"time":20,"node":1,"kind":"drop","rpc":1,"leg":"request","reason":"unreliable"}"#,
            r#"{"seq":3,"time":30,"node":1,"kind":"a_kind_from_the_future"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    trace
}

#[test]
fn the_picture_takes_its_file_as_html_or_as_the_old_o() {
    let dir = scratch("picture-options");
    let trace = write_trace(&dir);
    for (flag, name) in [
        ("--html", "a.html"),
        ("-o", "b.html"),
        ("--output", "c.html"),
    ] {
        let html = dir.join(name);
        let o = lab(
            &[
                "picture",
                trace.to_str().unwrap(),
                flag,
                html.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(o.code, 0, "{flag}: {}", o.stderr);
        assert!(
            std::fs::read_to_string(&html)
                .unwrap()
                .contains("\"unreliable\"")
        );
    }
    let o = lab(&["picture", "--help"], &[]);
    assert!(o.stdout.contains("--html <FILE>"), "{}", o.stdout);
    assert!(!o.stdout.contains("--output"), "the old spelling is hidden");
}

/// Runs `lab ARGS` with its stdout closed before it writes a line, as in
/// `lab ARGS | head -0`; returns the exit code and stderr.
fn lab_into_a_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LAB_CLI_FIXTURE_FAIL")
        .env_remove("LAB_SEED")
        .stdout(writer)
        .output()
        .expect("run the lab binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let dir = scratch("pipe");
    let trace = write_trace(&dir);
    let html = dir.join("t.html");
    let runs = dir.join("runs");
    for args in [
        &["list"][..],
        &["list", "lab"],
        &["logs", trace.to_str().unwrap()],
        &[
            "picture",
            trace.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[
            "grade",
            "lab",
            "--test",
            "fixture_steady",
            "--seeds",
            "2",
            "--no-progress",
            "--out",
            runs.to_str().unwrap(),
        ],
        &[
            "replay",
            "lab",
            "fixture_steady",
            "--seed",
            "1",
            "--log",
            "off",
        ],
        &["--help"],
    ] {
        let (code, err) = lab_into_a_closed_pipe(args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(code, Some(0), "{args:?}: {err}");
    }
}

#[test]
fn a_failing_seed_is_reported_kept_and_reproduced() {
    let dir = scratch("grade");
    let fail = [("LAB_CLI_FIXTURE_FAIL", "1")];
    let o = lab(
        &[
            "grade",
            "lab",
            "--test",
            "fixture_",
            "--seeds",
            "8",
            "--jobs",
            "2",
            "--no-progress",
            "--out",
            dir.to_str().unwrap(),
        ],
        &fail,
    );
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    // Two tests: the ignored `fixture_ignored` is neither run nor counted.
    assert!(o.stdout.contains("grade 1/2"), "{}", o.stdout);
    assert!(!o.stdout.contains("fixture_ignored"), "{}", o.stdout);

    // The summary parses and agrees with the table.
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["version"], 1);
    assert_eq!(s["passed"], false);
    assert_eq!(s["seeds"]["count"], 8);
    assert_eq!(s["runs"], 16);
    let labs = s["labs"].as_array().unwrap();
    assert_eq!(labs.len(), 1);
    assert_eq!(labs[0]["grade"], "1/2");
    let results = labs[0]["results"].as_array().unwrap();
    let flaky = results
        .iter()
        .find(|r| r["test"] == "fixture_flaky")
        .unwrap();
    let steady = results
        .iter()
        .find(|r| r["test"] == "fixture_steady")
        .unwrap();
    assert_eq!(steady["failures"], 0);
    assert_eq!(steady["virtual_mean_s"], 1.5);
    assert!(flaky["rpcs_mean"].as_f64().unwrap() > 0.0, "{flaky}");
    let failures = s["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    assert_eq!(failures.len() as u64, flaky["failures"].as_u64().unwrap());

    for f in failures {
        let seed = f["seed"].as_u64().unwrap();
        assert_eq!(f["test"], "fixture_flaky");
        assert_eq!(f["reproduced"], true, "{f}");
        assert_eq!(
            f["reproduce"],
            format!(
                "LAB_SEED={seed} LAB_TRACE_VERSION=3 cargo test -p lab --release -- fixture_flaky --exact"
            )
        );
        assert!(o.stdout.contains(f["reproduce"].as_str().unwrap()));
        // Only failing runs keep a log, and it has the failure with its logs.
        let log = std::fs::read_to_string(f["log"].as_str().unwrap()).unwrap();
        assert!(log.contains("fixture: seeded failure"), "{log}");
        assert!(log.contains("DEBUG event: [leader]"), "{log}");

        // Replaying the seed fails the same way.
        let trace = dir.join(format!("replay-{seed}.jsonl"));
        let r = lab(
            &[
                "replay",
                "lab",
                "fixture_flaky",
                "--seed",
                &seed.to_string(),
                "--trace",
                trace.to_str().unwrap(),
            ],
            &fail,
        );
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        let at = format!("{:.6}s", f["virtual_s"].as_f64().unwrap());
        assert!(
            r.stdout.contains(&format!("result:    FAILED at {at}")),
            "{}",
            r.stdout
        );
    }
    let logs = std::fs::read_dir(dir.join("lab")).unwrap().count();
    assert_eq!(logs, failures.len(), "only failing runs keep logs");

    // One seed, one run: a process per seed fails on the same seeds, at the
    // same virtual times, as the batches above.
    let single = scratch("grade-single");
    let o1 = lab(
        &[
            "grade",
            "lab",
            "--test",
            "fixture_flaky",
            "--seeds",
            "8",
            "--batch",
            "1",
            "--no-progress",
            "--log",
            "off",
            "--out",
            single.to_str().unwrap(),
        ],
        &fail,
    );
    assert_eq!(o1.code, 1, "{}\n{}", o1.stdout, o1.stderr);
    let s1: Value =
        serde_json::from_str(&std::fs::read_to_string(single.join("summary.json")).unwrap())
            .unwrap();
    let key = |fs: &Value| -> Vec<(u64, String)> {
        fs.as_array()
            .unwrap()
            .iter()
            .map(|f| (f["seed"].as_u64().unwrap(), f["virtual_s"].to_string()))
            .collect()
    };
    assert_eq!(key(&s1["failures"]), key(&s["failures"]));

    // So does the cargo command the report prints.
    let seed = failures[0]["seed"].as_u64().unwrap();
    let reproduce = failures[0]["reproduce"].as_str().unwrap();
    let cargo_dir = Path::new(env!("CARGO")).parent().unwrap();
    let path = format!(
        "{}:{}",
        cargo_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", reproduce])
        .env("PATH", path)
        .env("LAB_CLI_FIXTURE_FAIL", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains(&format!("seed:         {seed}\n")), "{text}");
}

#[test]
fn a_passing_grade_exits_zero_and_a_replay_draws_its_picture() {
    let dir = scratch("pass");
    let o = lab(
        &[
            "grade",
            "lab",
            "--test",
            "fixture_steady",
            "--exact",
            "--seeds",
            "3",
            "--no-progress",
            "--out",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["passed"], true);
    assert_eq!(s["failures"].as_array().unwrap().len(), 0);
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "no logs kept"
    );

    let trace = dir.join("t.jsonl");
    let html = dir.join("t.html");
    let r = lab(
        &[
            "replay",
            "lab",
            "fixture_flaky",
            "--seed",
            "3",
            "--trace",
            trace.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("result:    passed"), "{}", r.stdout);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("\"lanes\":[[0,\"tester\"],[1,\"server-1\"]"));
    assert!(page.contains("\"partition\""), "partitions are marked");

    // The same trace with a cap of 10 events says it was cut.
    let capped = dir.join("capped.html");
    let p = lab(
        &[
            "picture",
            trace.to_str().unwrap(),
            "--html",
            capped.to_str().unwrap(),
            "--max-events",
            "10",
        ],
        &[],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(
        std::fs::read_to_string(&capped)
            .unwrap()
            .contains("Cut: only the first 10 of")
    );

    // And as columns, filtered by topic.
    let l = lab(
        &[
            "logs",
            trace.to_str().unwrap(),
            "--no-color",
            "--width",
            "120",
        ],
        &[],
    );
    assert_eq!(l.code, 0, "{}", l.stderr);
    assert!(
        l.stdout.lines().next().unwrap().contains("n1 server-1"),
        "{}",
        l.stdout
    );
    assert!(l.stdout.contains("SEND →n1 ping.ping"), "{}", l.stdout);
    assert!(!l.stdout.contains('\x1b'), "no colours when asked");
    let l = lab(
        &["logs", trace.to_str().unwrap(), "--topics", "leader,term"],
        &[],
    );
    let body: Vec<&str> = l.stdout.lines().skip(2).collect();
    assert_eq!(body.len(), 2, "{}", l.stdout);
    assert!(
        body[0].contains("LEADER server-1 leads term 1"),
        "{}",
        l.stdout
    );
}

#[test]
fn logs_read_stdin_even_when_it_is_not_utf8() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["logs", "-", "--no-color"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the lab binary");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"a plain line\n\xff\xfe binary\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("a plain line") && text.contains("binary"),
        "{text}"
    );
}

#[test]
fn shards_merge_into_the_grade_of_all_their_seeds() {
    let dir = scratch("shards");
    let fail = [("LAB_CLI_FIXTURE_FAIL", "1")];
    let grade = |out: &str, extra: &[&str]| {
        let out = dir.join(out);
        let mut args = vec![
            "grade",
            "lab",
            "--test",
            "fixture_",
            "--seeds",
            "8",
            "--log",
            "off",
            "--no-progress",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = lab(&args, &fail);
        assert!([0, 1].contains(&o.code), "{}\n{}", o.stdout, o.stderr);
        o
    };
    let summary = |path: PathBuf| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let whole = grade("whole", &[]);
    assert_eq!(
        whole.code, 1,
        "seeds 1..=8 have a failure:\n{}",
        whole.stdout
    );
    let first = grade("s1", &["--shard", "1/2"]);
    assert!(
        first.stdout.contains("shard 1/2: seeds 1..=4 of 1..=8"),
        "{}",
        first.stdout
    );
    grade("s2", &["--shard", "2/2"]);
    let merged = dir.join("merged.json");
    let s1 = dir.join("s1");
    let s2 = dir.join("s2/summary.json");
    let o = lab(
        &[
            "grade",
            "merge",
            s1.to_str().unwrap(),
            s2.to_str().unwrap(),
            "--json",
            merged.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        o.code, 1,
        "a failed run fails the merge too:\n{}\n{}",
        o.stdout, o.stderr
    );
    let (whole, merged) = (summary(dir.join("whole/summary.json")), summary(merged));
    assert_eq!(merged["merged_from"], 2);
    for key in ["seeds", "runs", "failed_runs", "passed"] {
        assert_eq!(whole[key], merged[key], "{key}");
    }
    let seeds = |s: &Value| -> Vec<Value> {
        s["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["seed"].clone())
            .collect()
    };
    assert_eq!(seeds(&whole), seeds(&merged));
    assert_eq!(whole["labs"][0]["grade"], merged["labs"][0]["grade"]);

    // One shard alone is not the grade.
    let o = lab(&["grade", "merge", s1.to_str().unwrap()], &[]);
    usage_error(&o, "shard 2/2 missing");
}
