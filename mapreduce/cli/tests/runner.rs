//! The `mapreduce` command end to end: its errors and its job directory.
//! They pass with or without the student's code (the real runner over the
//! student's coordinator and worker is graded in `mapreduce/tests/grader`).

use std::process::Command;

use mapreduce::files::{list_dir, sorted_output};

/// One of the lab's bundled inputs (tests run in `mapreduce/cli`).
const INPUT: &str = "../data/pg-grimm.txt";

/// A fresh directory for one run (removed when dropped).
fn job_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary directory")
}

/// Runs the command; returns (exit code, stdout, stderr).
fn mapreduce(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapreduce"))
        .args(args)
        .output()
        .expect("the command starts");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_inputs_are_reported_and_write_nothing() {
    let dir = job_dir();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = mapreduce(&["wc", "-q", "--dir", d]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("mapreduce: error: no input files"), "{err}");

    let (code, _, err) = mapreduce(&["wc", "-q", "--dir", d, "data/no-such-file.txt"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot read input file \"data/no-such-file.txt\""),
        "{err}"
    );
    assert_eq!(
        list_dir(dir.path()).unwrap(),
        Vec::<String>::new(),
        "a job that cannot start writes nothing"
    );

    let (code, _, err) = mapreduce(&["wc", "--workers", "0", "x"]);
    assert_eq!(code, 2, "a command-line error: {err}");
    let (code, _, err) = mapreduce(&["no_such_app", "x"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_directory_with_an_earlier_job_is_refused_then_cleaned() {
    let dir = job_dir();
    std::fs::write(dir.path().join("mr-out-3"), "old 1\n").unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = mapreduce(&["wc", "-q", "--dir", d, INPUT]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already holds \"mr-out-3\""), "{err}");

    // The reference needs no student code: these tests pass on a handout.
    let (code, out, err) = mapreduce(&["wc", "--sequential", "--clean", "--dir", d, INPUT]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sequential reference"), "{out}");
    assert_eq!(list_dir(dir.path()).unwrap(), vec!["mr-out-0".to_string()]);
    let lines = sorted_output(dir.path()).unwrap();
    assert!(lines.iter().any(|l| l.starts_with("the ")), "{lines:?}");
}
