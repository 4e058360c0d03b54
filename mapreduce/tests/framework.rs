//! The framework's own tests: job validation, the runner's errors, the
//! sequential reference. They pass with or without the student's code
//! (the grader is `tests/grader`).

use std::path::Path;
use std::process::Command;

use mapreduce::apps::Indexer;
use mapreduce::real::run_sequential;
use mapreduce::{JobSpec, MrError};

/// The bundled inputs, sorted.
fn inputs() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(Path::new("data"))
        .expect("run the tests through cargo (from the crate directory)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

/// A fresh directory for one run (removed when dropped).
fn job_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mr-framework-")
        .tempdir()
        .expect("cannot create a temporary directory")
}

/// Runs the real runner's binary; returns (exit code, stderr).
fn runner(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapreduce"))
        .args(args)
        .output()
        .expect("the runner starts");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_inputs_is_a_clear_error() {
    let err = JobSpec::new(vec![]).unwrap_err();
    assert!(matches!(err, MrError::NoInputs), "{err:?}");
    assert!(err.to_string().contains("no input files"), "{err}");
}

#[test]
fn unreadable_input_is_a_clear_error() {
    let missing = "data/no-such-file.txt".to_string();
    let err = JobSpec::new(vec![inputs()[0].clone(), missing.clone()]).unwrap_err();
    match &err {
        MrError::UnreadableInput { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected UnreadableInput, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("cannot read input file \"data/no-such-file.txt\""),
        "{msg}"
    );

    let err = JobSpec::new(vec!["data".to_string()]).unwrap_err();
    assert!(matches!(err, MrError::UnreadableInput { .. }), "{err:?}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn zero_reduce_tasks_is_a_clear_error() {
    let err = JobSpec::new(inputs())
        .unwrap()
        .with_n_reduce(0)
        .unwrap_err();
    assert!(matches!(err, MrError::NoReduceTasks), "{err:?}");
}

#[test]
fn runner_reports_bad_inputs() {
    let dir = job_dir();
    let d = dir.path().to_str().unwrap();
    let (code, err) = runner(&["wc", "-q", "--dir", d]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("mapreduce: error: no input files"), "{err}");

    let (code, err) = runner(&["wc", "-q", "--dir", d, "data/no-such-file.txt"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("cannot read input file \"data/no-such-file.txt\""),
        "{err}"
    );
    assert_eq!(
        mapreduce::files::list_dir(dir.path()).unwrap(),
        Vec::<String>::new(),
        "a job that cannot start writes nothing"
    );
}

#[test]
fn sequential_run_writes_the_reference() {
    let dir = job_dir();
    let input = inputs()[..2].to_vec();
    let spec = JobSpec::new(input.clone()).unwrap();
    let report = run_sequential::<Indexer>(&spec, dir.path()).unwrap();
    let out = mapreduce::files::sorted_output(dir.path()).unwrap();
    assert_eq!(report.keys, out.len());
    // The indexer's lines: a word, how many inputs hold it, which.
    let both = format!("2 {},{}", input[0], input[1]);
    let the = out
        .iter()
        .find(|l| l.starts_with("the "))
        .expect("\"the\" is indexed");
    assert_eq!(the, &format!("the {both}"));
}
