//! `lab handout` end to end on this workspace: the handout of every lab
//! builds without warnings, passes `--check`, and every grader test of it
//! fails at once with a "not implemented yet" stub message; the solution
//! written the same way passes raft's and kvraft's graders (the round trip).
//! `lab autograde` grades a submission with only the student's files taken.
//!
//! The handout is built in a target directory of its own, seeded with hard
//! links to this build's registry dependencies, so only the workspace's
//! own crates compile again. (Not in this build's target directory itself:
//! cargo names a workspace member's artifacts by its path *relative* to the
//! workspace, so the handout's `raft` would overwrite this one's.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use serde_json::Value;

/// The reference workspace (this crate's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// This build's target directory (`CARGO_TARGET_TMPDIR` is `<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("handout-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run the lab binary")
}

/// The registry packages of the workspace (Cargo.lock entries with a
/// source), as crate names.
fn registry_crates() -> BTreeSet<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let mut crates = BTreeSet::new();
    for entry in lock.split("[[package]]") {
        let name = entry
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'));
        if let Some(name) = name
            && entry.lines().any(|l| l.starts_with("source = "))
        {
            crates.insert(name.replace('-', "_"));
        }
    }
    crates
}

/// A target directory for building a copy of this workspace at `name`:
/// this build's release artifacts of registry crates, hard-linked, and
/// nothing of the workspace's own crates.
fn seeded_target(name: &str) -> PathBuf {
    let dir = target_dir().join(format!("handout-target-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let release = dir.join("release");
    let linked = Command::new("cp")
        .arg("-al")
        .arg(target_dir().join("release"))
        .arg(&release)
        .status()
        .is_ok_and(|s| s.success());
    if !linked {
        let _ = std::fs::remove_dir_all(&release);
        return dir;
    }
    let keep = registry_crates();
    for sub in ["deps", ".fingerprint", "build"] {
        let Ok(entries) = std::fs::read_dir(release.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let stem = file.split('.').next().unwrap_or_default();
            let krate = stem.rsplit_once('-').map_or(stem, |(k, _)| k);
            let registry =
                keep.contains(krate) || krate.strip_prefix("lib").is_some_and(|k| keep.contains(k));
            if !registry {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    for sub in ["examples", "incremental", "tmp"] {
        let _ = std::fs::remove_dir_all(release.join(sub));
    }
    dir
}

/// `cargo ARGS` in `dir`, building into `target`.
#[allow(clippy::disallowed_methods)] // wall time of a build, only printed
fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Output {
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("LAB_SEED", "1")
        .env_remove("LAB_RUNS")
        .env_remove("LAB_DETERMINISM")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run cargo");
    println!(
        "cargo {} in {}: {:.1} s",
        args.join(" "),
        dir.display(),
        t0.elapsed().as_secs_f64()
    );
    out
}

/// The failing tests of a libtest run, each with its captured output.
fn failures(output: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            out.extend(current.take());
            current = Some((name.to_string(), String::new()));
        } else if line == "failures:" {
            out.extend(current.take());
        } else if let Some((_, text)) = &mut current {
            text.push_str(line);
            text.push('\n');
        }
    }
    out.extend(current);
    out
}

/// The labs the root Cargo.toml lists (`[workspace.metadata.handout] labs`).
fn workspace_labs() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    doc["workspace"]["metadata"]["handout"]["labs"]
        .as_array()
        .expect("[workspace.metadata.handout] labs")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
#[ignore = "slow (builds two more workspaces, ~4 min): .ci/run runs it with --ignored"]
fn a_handout_builds_fails_fast_and_leaks_nothing_and_its_solution_passes() {
    // The handout of every lab.
    let h = scratch("all");
    let o = lab(&["handout", h.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lab(&["handout", "--check", h.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("hold none of the"), "{}", text(&o));

    // It builds, with no warning at all.
    let target = seeded_target("all");
    let o = cargo(
        &h,
        &target,
        &["build", "--release", "--workspace", "--all-targets"],
    );
    assert!(
        o.status.success(),
        "the handout does not build:\n{}",
        text(&o)
    );
    let build = text(&o);
    assert!(
        !build.lines().any(|l| l.starts_with("warning")),
        "the handout builds with warnings:\n{build}"
    );

    // Every grader test fails, each with a stub's message.
    for lab_name in &workspace_labs() {
        let o = cargo(
            &h,
            &target,
            &[
                "test",
                "--release",
                "-p",
                lab_name,
                "--test",
                "grader",
                "--no-fail-fast",
            ],
        );
        let out = text(&o);
        assert!(
            !o.status.success(),
            "{lab_name}: the handout's grader passed:\n{out}"
        );
        assert!(
            !out.lines()
                .any(|l| l.starts_with("test ") && l.ends_with(" ... ok")),
            "{lab_name}: a grader test passes without the student's code:\n{out}"
        );
        let failed = failures(&out);
        assert!(failed.len() >= 5, "{lab_name}: too few failures:\n{out}");
        for (name, output) in &failed {
            assert!(
                output.contains("not implemented yet: "),
                "{lab_name}: {name} failed without a stub's message:\n{output}"
            );
        }
        println!(
            "{lab_name}: {} grader tests fail with a stub's message",
            failed.len()
        );
    }

    // The round trip: the same workspace with the reference in place passes.
    let s = scratch("solution");
    let o = lab(&[
        "handout",
        s.to_str().unwrap(),
        "--solution",
        "--labs",
        "kvraft,kvraft1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("with raft, rsm"), "{}", text(&o));
    assert!(
        !s.join("mapreduce").exists(),
        "a lab not selected was written"
    );
    let o = cargo(
        &s,
        &seeded_target("solution"),
        &[
            "test",
            "--release",
            "-p",
            "raft",
            "-p",
            "kvraft",
            "-p",
            "rsm",
            "-p",
            "kvraft1",
            "--test",
            "grader",
        ],
    );
    assert!(
        o.status.success(),
        "the solution fails its graders:\n{}",
        text(&o)
    );
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let out = scratch("bad");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = lab(&["handout", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("exists and is not empty"), "{}", text(&o));
    // --force replaces only an earlier handout, never other files.
    let o = lab(&["handout", out.to_str().unwrap(), "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not an earlier output"), "{}", text(&o));
    assert!(out.join("notes.txt").exists());

    let o = lab(&["handout", scratch("x").to_str().unwrap(), "--labs", "nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown lab \"nope\"; the labs are: mapreduce"),
        "{}",
        text(&o)
    );

    let o = lab(&["handout", "--check", "/no/such/dir"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is not a directory"), "{}", text(&o));
}

/// The lab directories of a handout (those with a README), sorted.
fn lab_dirs(h: &Path) -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(h)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("README.md").is_file())
        .filter(|e| e.path().join("tests/grader").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn a_course_selects_its_labs_and_labs_add_to_it() {
    // The current course: Lab 4 is rsm + kvraft1, and no 2024 lab comes.
    let h = scratch("course-2026");
    let o = lab(&["handout", h.to_str().unwrap(), "--course", "2026"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        lab_dirs(&h),
        ["kvraft1", "kvsrv", "mapreduce", "raft", "rsm", "shardkv1"],
        "{}",
        text(&o)
    );
    let manifest = std::fs::read_to_string(h.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\"rsm\", \"kvraft1\""), "{manifest}");
    assert!(!manifest.contains("\"kvraft\""), "{manifest}");
    let readme = std::fs::read_to_string(h.join("README.md")).unwrap();
    assert!(readme.contains("(rsm/README.md)"), "{readme}");
    assert!(!readme.contains("(shardkv/README.md)"), "{readme}");

    // The 2024 course: kvraft and shardkv, no rsm.
    let h = scratch("course-2024");
    let o = lab(&["handout", h.to_str().unwrap(), "--course", "2024"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        lab_dirs(&h),
        ["kvraft", "kvsrv", "mapreduce", "raft", "shardkv"],
        "{}",
        text(&o)
    );

    // --labs adds to a course (paxos is in no course).
    let h = scratch("course-paxos");
    let o = lab(&[
        "handout",
        h.to_str().unwrap(),
        "--course",
        "2026",
        "--labs",
        "paxos",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(lab_dirs(&h).contains(&"paxos".to_string()), "{}", text(&o));
    assert!(lab_dirs(&h).contains(&"rsm".to_string()), "{}", text(&o));

    // An unknown course is named, with the courses there are.
    let o = lab(&[
        "handout",
        scratch("course-x").to_str().unwrap(),
        "--course",
        "1999",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown course \"1999\"; the courses are: 2024, 2026"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_leaked_line_is_named_with_its_file_and_origin() {
    let h = scratch("leak");
    let o = lab(&["handout", h.to_str().unwrap(), "--labs", "raft"]);
    assert!(o.status.success(), "{}", text(&o));
    let notes = h.join("raft/NOTES.md");
    std::fs::write(
        &notes,
        "A hint that says too much:\n\n    let majority = matched[(matched.len() - 1) / 2];\n",
    )
    .unwrap();
    let o = lab(&["handout", "--check", h.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("raft/NOTES.md:3: a line of the solution (raft/src/peer.rs:"),
        "{out}"
    );
    // --force replaces an earlier handout.
    let o = lab(&["handout", h.to_str().unwrap(), "--labs", "raft", "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!notes.exists());
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let h = scratch("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["handout", h.to_str().unwrap(), "--labs", "raft"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the lab binary");
    // Like `lab handout OUT | head -0`: the reader is gone before a line is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// `lab autograde DIR --lab kvsrv` with this build's registry crates.
fn autograde(submission: &Path, results: &Path, work: &Path, target: &Path) -> (i32, Value) {
    let o = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["autograde", submission.to_str().unwrap(), "--lab", "kvsrv"])
        .args(["--seeds", "2", "--results", results.to_str().unwrap()])
        .args(["--work", work.to_str().unwrap()])
        .args(["--target-dir", target.to_str().unwrap()])
        .current_dir(root())
        .output()
        .expect("run the lab binary");
    let code = o.status.code().unwrap_or(-1);
    let json = std::fs::read_to_string(results)
        .unwrap_or_else(|e| panic!("no score file ({e}):\n{}", text(&o)));
    (code, serde_json::from_str(&json).unwrap())
}

#[test]
#[ignore = "slow (builds the kvsrv lab three times, ~2 min): .ci/run runs it with --ignored"]
fn autograde_takes_only_the_students_files() {
    let dir = scratch("autograde");
    let target = seeded_target("autograde");
    let work = dir.join("work");
    let tests = lab(&["list", "kvsrv"]);
    let count = text(&tests)
        .lines()
        .filter(|l| l.starts_with("kvsrv "))
        .count();
    assert!(count >= 10, "{}", text(&tests));

    // A full solution whose grader and framework were "improved": the
    // course's copies grade it, and every test scores.
    let good = dir.join("good");
    let o = lab(&[
        "handout",
        good.to_str().unwrap(),
        "--solution",
        "--labs",
        "kvsrv",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(good.join("kvsrv/tests/grader/main.rs"), "// no tests\n").unwrap();
    let (code, r) = autograde(&good, &dir.join("good.json"), &work, &target);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["score"], count as f64, "{r:#}");
    assert_eq!(r["tests"].as_array().unwrap().len(), count);
    let output = r["output"].as_str().unwrap();
    assert!(
        output.contains("the course's copies were used):\n  kvsrv/tests/grader/main.rs"),
        "{output}"
    );

    // The handout as it is, one file deleted: nothing scores, every test
    // says why and how to reproduce it.
    let stub = dir.join("stub");
    let o = lab(&["handout", stub.to_str().unwrap(), "--labs", "kvsrv"]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_file(stub.join("kvsrv/src/lock.rs")).unwrap();
    let (code, r) = autograde(&stub, &dir.join("stub.json"), &work, &target);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["score"], 0.0);
    assert_eq!(r["max_score"], count as f64);
    assert!(
        r["output"]
            .as_str()
            .unwrap()
            .contains("MISSING from the submission")
    );
    for t in r["tests"].as_array().unwrap() {
        let out = t["output"].as_str().unwrap();
        assert_eq!(t["status"], "failed");
        assert!(
            out.contains("not implemented yet") && out.contains("cargo test -p kvsrv"),
            "{out}"
        );
    }

    // Code that does not compile scores 0 on every test, with the error.
    std::fs::write(good.join("kvsrv/src/server.rs"), "fn broken( {\n").unwrap();
    let (code, r) = autograde(&good, &dir.join("bad.json"), &work, &target);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(
        (r["score"].as_f64(), r["max_score"].as_f64()),
        (Some(0.0), Some(count as f64))
    );
    let output = r["output"].as_str().unwrap();
    assert!(
        output.contains("DOES NOT BUILD") && output.contains("unclosed delimiter"),
        "{output}"
    );
}
