//! The page `lab replay --html` writes, opened in a real browser: headless
//! Chromium loads it with `#selftest`, the page clicks a log row and
//! writes what it found into the DOM (`<pre id="selftest">`), and
//! `--dump-dom` hands that back. Checked: no script error; lanes, arrows,
//! state strips and log rows drawn for a known seed of Raft; the click
//! moved the cursor to the row's time; the KV history of a planted
//! non-linearizable history shows its violating operation in red.
//!
//! `#[ignore]`d (it builds and runs the raft grader, and needs Chromium):
//! `.ci/run` runs it. Without Chromium it says it is skipped.

#![allow(clippy::disallowed_methods)] // a test driver: processes, files

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Chromium binary on PATH, if any.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lab-browser-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn lab(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .current_dir(root)
        .env_remove("LAB_SEED")
        .output()
        .expect("run the lab binary");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "lab {args:?} failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Opens `page` headless with `#selftest` and returns what the page wrote.
fn selftest(chromium: &Path, page: &Path) -> Value {
    let url = format!("file://{}#selftest", page.display());
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1400,1000",
            "--virtual-time-budget=10000",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom
        .find("<pre id=\"selftest\"")
        .and_then(|at| dom[at..].find('>').map(|end| at + end + 1))
        .unwrap_or_else(|| panic!("no #selftest in the page's DOM:\n{dom}"));
    let end = start + dom[start..].find("</pre>").expect("the end of #selftest");
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("#selftest is not JSON ({e}): {text}"))
}

fn check_no_errors(r: &Value) {
    assert_eq!(r["errors"], Value::Array(vec![]), "script errors: {r}");
    println!("first render {} ms: {r}", r["renderMs"]);
}

#[test]
#[ignore = "builds and runs the raft grader and needs Chromium: .ci/run runs it"]
fn the_page_of_a_raft_run_draws_and_its_log_moves_the_cursor() {
    let Some(chromium) = chromium() else {
        println!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let dir = scratch("raft");
    let page = dir.join("raft.html");
    let trace = dir.join("raft.jsonl");
    lab(&[
        "replay",
        "raft",
        "initial_election_3a",
        "--seed",
        "1",
        "--html",
        page.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let r = selftest(&chromium, &page);
    check_no_errors(&r);
    assert!(r["lanes"].as_u64().unwrap() >= 4, "lanes: {r}");
    assert!(r["arrows"].as_u64().unwrap() > 0, "arrows: {r}");
    assert!(r["states"].as_u64().unwrap() > 0, "state strips: {r}");
    assert!(r["logRows"].as_u64().unwrap() > 0, "log rows: {r}");
    assert_eq!(r["cursorMoved"], Value::Bool(true), "the click: {r}");
}

/// A history where client 2 reads "" after client 1's put of "1" to the
/// same key returned: not linearizable, the read is the violation.
const PLANTED: &str = r#"{"trace_version":3}
{"seq":0,"time":0,"node":0,"kind":"node_created","name":"tester"}
{"seq":1,"time":10,"node":0,"kind":"lab","topic":"kv_call","fields":{"op":0,"client":1,"input":"Put x 1"}}
{"seq":2,"time":2000000,"node":0,"kind":"lab","topic":"kv_return","fields":{"op":0,"output":"Done"}}
{"seq":3,"time":3000000,"node":0,"kind":"lab","topic":"kv_call","fields":{"op":1,"client":2,"input":"Get x"}}
{"seq":4,"time":4000000,"node":0,"kind":"lab","topic":"kv_return","fields":{"op":1,"output":"\"\""}}
{"seq":5,"time":5000000,"node":0,"kind":"lab","topic":"kv_call","fields":{"op":2,"client":1,"input":"Get y"}}
{"seq":6,"time":6000000,"node":0,"kind":"lab","topic":"kv_return","fields":{"op":2,"output":"\"\""}}
{"seq":7,"time":7000000,"node":0,"kind":"lab","topic":"kv_violation","fields":{"label":"key x","ops":"1","partition":"0 1","why":"stale read"}}
{"seq":8,"time":7000000,"node":0,"kind":"failure","message":"history is not linearizable"}
"#;

#[test]
#[ignore = "needs Chromium: .ci/run runs it"]
fn the_kv_history_shows_the_violating_operation() {
    let Some(chromium) = chromium() else {
        println!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let dir = scratch("kv");
    let trace = dir.join("planted.jsonl");
    std::fs::write(&trace, PLANTED).unwrap();
    let page = dir.join("planted.html");
    lab(&[
        "picture",
        trace.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    let r = selftest(&chromium, &page);
    check_no_errors(&r);
    assert_eq!(r["kvBars"], 3, "every operation is a bar: {r}");
    assert_eq!(r["kvBad"], 1, "the stale read, in red: {r}");
}
