//! The framework's own tests: job validation, the sequential reference.
//! They pass with or without the student's code (the grader is
//! `tests/grader`; the `mapreduce` command's tests are in `cli/tests`).

use std::path::Path;

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
