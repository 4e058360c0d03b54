//! The `lincheck` command: verdicts as exit codes, clear errors on bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lincheck-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn lincheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(args)
        .output()
        .expect("lincheck runs")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

const KV_OK: &str = r#"{"client": 0, "call": 0, "return": 10, "input": {"op": "put", "key": "x", "value": "a"}, "output": {}}
{"client": 1, "call": 5, "return": 15, "input": {"op": "get", "key": "x"}, "output": {"value": ""}}
{"client": 2, "call": 20, "return": null, "input": {"op": "append", "key": "x", "value": "b"}, "output": null}
"#;

const KV_STALE: &str = r#"{"client": 0, "call": 0, "return": 10, "input": {"op": "put", "key": "x", "value": "a"}, "output": {}}
{"client": 1, "call": 20, "return": 30, "input": {"op": "get", "key": "x"}, "output": {"value": ""}}
"#;

#[test]
fn linearizable_history_exits_0() {
    let file = temp_file("ok.jsonl", KV_OK);
    let out = lincheck(&["--model", "kv", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("linearizable: 3 operations in 1 partition"));
}

#[test]
fn violation_exits_1_and_writes_the_view() {
    let file = temp_file("stale.jsonl", KV_STALE);
    let html = file.with_extension("html");
    let out = lincheck(&[
        "--model",
        "kv",
        "--html",
        html.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("not linearizable"), "{stdout}");
    assert!(
        stdout.contains(r#"client 1 [20, 30]: get("x") -> """#),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
}

#[test]
fn timeout_exits_2() {
    let mut lines = String::new();
    for i in 0..40 {
        lines += &format!(
            "{{\"client\": {i}, \"call\": 0, \"return\": 1000, \"input\": {{\"op\": \"write\", \"value\": {i}}}, \"output\": {{}}}}\n"
        );
    }
    lines += r#"{"client": 99, "call": 2000, "return": 2001, "input": {"op": "read"}, "output": {"value": -1}}"#;
    let file = temp_file("hard.jsonl", &lines);
    let out = lincheck(&[
        "--model",
        "register",
        "--timeout",
        "0.2",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("unknown: 41 operations"), "{stdout}");
    assert!(
        stdout.contains("the search ran out of time (0.2 s)"),
        "{stdout}"
    );
}

/// 50 clients' 1,000 operations checked as one store: the search that ran
/// to 24 GB stops at the limit with "unknown" and what to try.
#[test]
fn the_memory_limit_gives_unknown_and_exits_2() {
    let h = crate::timeout::fifty_clients();
    let mut jsonl = Vec::new();
    linearizability::write_history(&linearizability::KvModel, &h, &mut jsonl).unwrap();
    let file = temp_file("fifty.jsonl", &String::from_utf8(jsonl).unwrap());
    let out = lincheck(&[
        "--model",
        "kv",
        "--no-partition",
        "--max-memory",
        "64MiB",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("the search reached its memory limit (64.0 MiB)"),
        "{stdout}"
    );
}

#[test]
fn a_bad_memory_limit_is_refused() {
    let file = temp_file("ok-mem.jsonl", KV_OK);
    for bad in ["lots", "0", "1.5 parsecs"] {
        let out = lincheck(&["--model", "kv", "--max-memory", bad, file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{bad}");
        assert!(
            text(&out.stderr).contains("--max-memory"),
            "{bad}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn cas_register_history_is_checked() {
    let file = temp_file(
        "cas.jsonl",
        r#"{"client": 0, "call": 0, "return": 1, "input": {"op": "read"}, "output": {"value": null}}
{"client": 0, "call": 2, "return": 3, "input": {"op": "cas", "from": 0, "to": 1}, "output": {"ok": true}}
"#,
    );
    let out = lincheck(&["--model", "cas-register", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a cas on an absent register fails"
    );
}

#[test]
fn bad_input_exits_3_naming_the_line() {
    let file = temp_file(
        "bad.jsonl",
        &format!("{KV_OK}\n{{\"client\": 0, \"call\": 1}}\n"),
    );
    let out = lincheck(&["--model", "kv", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl: line 5: missing field `return`"),
        "{stderr}"
    );

    let out = lincheck(&["--model", "kv", "/nonexistent/history.jsonl"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("cannot open"));

    let out = lincheck(&["--model", "queue", "x.jsonl"]);
    assert_eq!(out.status.code(), Some(3), "bad arguments are bad input");
    let out = lincheck(&["--model", "kv", "--timeout", "soon", "x.jsonl"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn help_exits_0() {
    let out = lincheck(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("Exit codes"));
}

/// Two keys, each with a stale read: the fast path explains one, `--all`
/// both; `--no-partition` checks the store as one partition.
const KV_TWO_STALE: &str = r#"{"client": 0, "call": 0, "return": 10, "input": {"op": "put", "key": "x", "value": "a"}, "output": {}}
{"client": 1, "call": 20, "return": 30, "input": {"op": "get", "key": "x"}, "output": {"value": ""}}
{"client": 0, "call": 40, "return": 50, "input": {"op": "put", "key": "y", "value": "b"}, "output": {}}
{"client": 1, "call": 60, "return": 70, "input": {"op": "get", "key": "y"}, "output": {"value": ""}}
{"client": 1, "call": 80, "return": 90, "input": {"op": "get", "key": "y"}, "output": {"value": "b"}}
"#;

#[test]
fn all_explains_every_partition_and_no_partition_checks_one() {
    let file = temp_file("two-stale.jsonl", KV_TWO_STALE);
    let path = file.to_str().unwrap();
    let out = lincheck(&["--model", "kv", path]);
    assert_eq!(out.status.code(), Some(1));
    let fast = text(&out.stdout);
    assert!(
        fast.starts_with(
            "not linearizable: 5 operations in 2 partitions, 1 not linearizable, 1 not checked"
        ),
        "{fast}"
    );
    let out = lincheck(&["--model", "kv", "--all", path]);
    assert_eq!(out.status.code(), Some(1));
    let all = text(&out.stdout);
    assert!(all.contains("2 not linearizable"), "{all}");
    assert!(
        all.contains(r#"key "x""#) && all.contains(r#"key "y""#),
        "{all}"
    );
    let out = lincheck(&["--model", "kv", "--no-partition", path]);
    assert_eq!(out.status.code(), Some(1));
    let whole = text(&out.stdout);
    assert!(whole.contains("in 1 partition,"), "{whole}");
    let ok = temp_file("ok-whole.jsonl", KV_OK);
    let out = lincheck(&["--model", "kv", "--no-partition", ok.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::Stdio;
    // Many violating keys with --all: more output than a pipe buffer.
    let mut lines = String::new();
    for k in 0..3000 {
        lines += &format!(
            "{{\"client\": 0, \"call\": {}, \"return\": {}, \"input\": {{\"op\": \"put\", \"key\": \"k{k}\", \"value\": \"a\"}}, \"output\": {{}}}}\n",
            4 * k,
            4 * k + 1
        );
        lines += &format!(
            "{{\"client\": 1, \"call\": {}, \"return\": {}, \"input\": {{\"op\": \"get\", \"key\": \"k{k}\"}}, \"output\": {{\"value\": \"\"}}}}\n",
            4 * k + 2,
            4 * k + 3
        );
    }
    let file = temp_file("many-stale.jsonl", &lines);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lincheck"))
        .args(["--model", "kv", "--all", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lincheck runs");
    // Read one line, like `head -1`, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    assert!(text(&first[..n]).starts_with("not linearizable"));
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
}
