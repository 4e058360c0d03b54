//! `lab grade merge`: one grade from the summaries of several.
//!
//! A course spreads a grade over machines with `lab grade --shard K/N` (the
//! same `--seeds` and `--first-seed` everywhere); each writes its own
//! `summary.json`. This reads them back and prints the table the whole grade
//! would have printed, and writes its summary.
//!
//! Guarantees:
//! - The summaries must cover one run of consecutive seeds exactly once:
//!   every shard of the same `--shard K/N` grade present once, or (without
//!   `--shard`) seed ranges that join end to end. A missing shard, a gap or
//!   an overlap is an error naming it, never a quietly smaller grade.
//! - They must grade the same tests; a test graded in one and not another is
//!   an error naming it.
//! - Counts add up; means are weighted by runs; the standard deviation of
//!   wall times is the pooled one; `wall_s` is the longest (the shards ran
//!   side by side) and `jobs` the sum.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::bail;
use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use crate::report::{self, FailureSummary, LabSummary, Seeds, Summary, TestSummary};
use anyhow::{Context as _, anyhow};

/// Arguments of `lab grade merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// The summaries: `summary.json` files, or the `--out` directories of
    /// the grades (their `summary.json` is read).
    #[arg(required = true, value_name = "SUMMARY")]
    pub summaries: Vec<PathBuf>,
    /// Where to write the merged summary (the same format).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Runs `lab grade merge`; returns the exit code.
pub fn merge(args: MergeArgs) -> Result<u8> {
    let mut parts = Vec::new();
    for path in &args.summaries {
        parts.push((path.clone(), read(path)?));
    }
    let merged = merge_summaries(parts)?;
    report::print(&merged);
    if let Some(path) = &args.json {
        report::write_json(&merged, path)?;
        crate::say!("summary: {}", report::short_path(path).display());
    }
    Ok(if merged.passed { EXIT_OK } else { EXIT_FAILED })
}

fn read(path: &Path) -> Result<Summary> {
    let file = if path.is_dir() {
        path.join("summary.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "cannot read {} (give the summary.json of a `lab grade`, or its --out directory)",
            file.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a `lab grade` summary: {e}", file.display()))
}

/// The last seed of `s`, inclusive.
fn last(s: &Seeds) -> u64 {
    (s.first + s.count as u64).saturating_sub(1)
}

/// Checks that the summaries cover one run of seeds once; returns it.
fn covered_seeds(parts: &[(PathBuf, Summary)]) -> Result<Seeds> {
    let sharded: Vec<_> = parts.iter().filter_map(|(_, s)| s.shard.as_ref()).collect();
    if let Some(first) = sharded.first() {
        if sharded.len() != parts.len()
            || sharded
                .iter()
                .any(|s| s.of != first.of || s.all != first.all)
        {
            bail!(
                "these summaries are not shards of one grade: every one must come from \
                 `lab grade --shard K/{}` with the same --seeds and --first-seed",
                first.of
            );
        }
        let have: BTreeSet<u64> = sharded.iter().map(|s| s.index).collect();
        if have.len() != sharded.len() {
            bail!(
                "a shard is given twice: each of 1..={} must appear once",
                first.of
            );
        }
        let missing: Vec<String> = (1..=first.of)
            .filter(|k| !have.contains(k))
            .map(|k| format!("{k}/{}", first.of))
            .collect();
        if !missing.is_empty() {
            bail!(
                "shard {} missing: merge every shard of the grade",
                missing.join(", ")
            );
        }
    }
    let mut ranges: Vec<(&Path, &Seeds)> =
        parts.iter().map(|(p, s)| (p.as_path(), &s.seeds)).collect();
    ranges.sort_by_key(|(_, s)| s.first);
    for pair in ranges.windows(2) {
        let ((pa, a), (pb, b)) = (pair[0], pair[1]);
        if a.first + a.count as u64 != b.first {
            let how = if a.first + (a.count as u64) > b.first {
                "overlap"
            } else {
                "leave a gap"
            };
            bail!(
                "seeds {}..={} ({}) and {}..={} ({}) {how}: the summaries must cover one run \
                 of consecutive seeds, each seed once",
                a.first,
                last(a),
                pa.display(),
                b.first,
                last(b),
                pb.display()
            );
        }
    }
    Ok(Seeds {
        first: ranges[0].1.first,
        count: parts.iter().map(|(_, s)| s.seeds.count).sum(),
    })
}

/// The (lab, test) pairs a summary grades.
fn tests_of(s: &Summary) -> BTreeSet<(String, String)> {
    s.labs
        .iter()
        .flat_map(|l| l.results.iter().map(|r| (l.lab.clone(), r.test.clone())))
        .collect()
}

/// One summary of several (see the module's guarantees).
pub fn merge_summaries(parts: Vec<(PathBuf, Summary)>) -> Result<Summary> {
    if parts.is_empty() {
        bail!("nothing to merge");
    }
    let seeds = covered_seeds(&parts)?;
    let tests = tests_of(&parts[0].1);
    for (path, s) in &parts[1..] {
        let other = tests_of(s);
        if let Some((lab, test)) = tests.symmetric_difference(&other).next() {
            bail!(
                "{} and {} do not grade the same tests ({lab} {test} is in one only): merge \
                 grades of the same labs and --test filters",
                parts[0].0.display(),
                path.display()
            );
        }
    }
    let summaries: Vec<Summary> = parts.into_iter().map(|(_, s)| s).collect();
    let labs = merge_labs(&summaries);
    let mut failures: Vec<FailureSummary> =
        summaries.iter().flat_map(|s| s.failures.clone()).collect();
    failures.sort_by(|a, b| (&a.lab, &a.test, a.seed).cmp(&(&b.lab, &b.test, b.seed)));
    let jobs: usize = summaries.iter().map(|s| s.jobs).sum();
    let wall_s = summaries.iter().map(|s| s.wall_s).fold(0.0, f64::max);
    let busy_s: f64 = summaries
        .iter()
        .map(|s| s.busy * s.jobs as f64 * s.wall_s)
        .sum();
    let runs: usize = summaries.iter().map(|s| s.runs).sum();
    Ok(Summary {
        version: 1,
        passed: failures.is_empty(),
        seeds,
        shard: None,
        merged_from: Some(summaries.len()),
        jobs,
        wall_s,
        runs,
        failed_runs: failures.len(),
        busy: if wall_s > 0.0 && jobs > 0 {
            busy_s / (wall_s * jobs as f64)
        } else {
            0.0
        },
        overhead_ms_mean: weighted(summaries.iter().map(|s| (s.overhead_ms_mean, s.runs))),
        out_dir: summaries[0].out_dir.clone(),
        labs,
        failures,
    })
}

fn merge_labs(summaries: &[Summary]) -> Vec<LabSummary> {
    let mut labs = summaries[0].labs.clone();
    for lab in &mut labs {
        for result in &mut lab.results {
            let same: Vec<&TestSummary> = summaries
                .iter()
                .flat_map(|s| s.labs.iter().filter(|l| l.lab == lab.lab))
                .flat_map(|l| l.results.iter().filter(|r| r.test == result.test))
                .collect();
            *result = merge_test(&same);
        }
        lab.tests = lab.results.len();
        lab.tests_passed = lab.results.iter().filter(|r| r.failures == 0).count();
        lab.grade = format!("{}/{}", lab.tests_passed, lab.tests);
    }
    labs
}

/// The mean of `(value, weight)` pairs that have a value.
fn weighted(xs: impl Iterator<Item = (Option<f64>, usize)>) -> Option<f64> {
    let (sum, n) = xs
        .filter_map(|(v, n)| v.map(|v| (v * n as f64, n)))
        .fold((0.0, 0usize), |(s, k), (v, n)| (s + v, k + n));
    (n > 0).then(|| sum / n as f64)
}

fn merge_test(parts: &[&TestSummary]) -> TestSummary {
    let runs: usize = parts.iter().map(|t| t.runs).sum();
    let mean_of =
        |f: fn(&TestSummary) -> Option<f64>| weighted(parts.iter().map(|t| (f(t), t.runs)));
    let wall_mean_s = mean_of(|t| Some(t.wall_mean_s)).unwrap_or(0.0);
    // Pooled: the sum of squares of every part, about the overall mean.
    let squares: f64 = parts
        .iter()
        .map(|t| {
            let n = t.runs as f64;
            (n - 1.0).max(0.0) * t.wall_sd_s.powi(2) + n * t.wall_mean_s.powi(2)
        })
        .sum();
    let wall_sd_s = if runs > 1 {
        ((squares - runs as f64 * wall_mean_s.powi(2)) / (runs - 1) as f64)
            .max(0.0)
            .sqrt()
    } else {
        0.0
    };
    let mut failing_seeds: Vec<u64> = parts
        .iter()
        .flat_map(|t| t.failing_seeds.iter().copied())
        .collect();
    failing_seeds.sort_unstable();
    TestSummary {
        test: parts[0].test.clone(),
        target: parts[0].target.clone(),
        runs,
        failures: parts.iter().map(|t| t.failures).sum(),
        failing_seeds,
        wall_mean_s,
        wall_sd_s,
        virtual_mean_s: mean_of(|t| t.virtual_mean_s),
        rpcs_mean: mean_of(|t| t.rpcs_mean),
        bytes_mean: mean_of(|t| t.bytes_mean),
        ops_mean: mean_of(|t| t.ops_mean),
        peers: parts.iter().filter_map(|t| t.peers).max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ShardOf;

    fn test(runs: usize, mean: f64, sd: f64, failing: &[u64]) -> TestSummary {
        TestSummary {
            test: "t_1a".into(),
            target: "grader".into(),
            runs,
            failures: failing.len(),
            failing_seeds: failing.to_vec(),
            wall_mean_s: mean,
            wall_sd_s: sd,
            virtual_mean_s: Some(mean * 10.0),
            rpcs_mean: None,
            bytes_mean: None,
            ops_mean: None,
            peers: Some(3),
        }
    }

    fn summary(first: u64, count: usize, shard: Option<(u64, u64)>, t: TestSummary) -> Summary {
        Summary {
            version: 1,
            passed: t.failures == 0,
            seeds: Seeds { first, count },
            shard: shard.map(|(index, of)| ShardOf {
                index,
                of,
                all: Seeds { first: 1, count: 4 },
            }),
            merged_from: None,
            jobs: 2,
            wall_s: count as f64,
            runs: t.runs,
            failed_runs: t.failures,
            busy: 0.5,
            overhead_ms_mean: Some(2.0),
            out_dir: PathBuf::from("x"),
            labs: vec![LabSummary {
                lab: "raft".into(),
                tests_passed: usize::from(t.failures == 0),
                tests: 1,
                grade: String::new(),
                results: vec![t],
            }],
            failures: Vec::new(),
        }
    }

    #[test]
    fn shards_add_up_and_the_pooled_sd_is_the_whole_ones() {
        // Wall times {1, 3} and {5, 7}: the whole is {1, 3, 5, 7}.
        let sd = 2f64.sqrt();
        let a = summary(1, 2, Some((1, 2)), test(2, 2.0, sd, &[]));
        let b = summary(3, 2, Some((2, 2)), test(2, 6.0, sd, &[4]));
        let m = merge_summaries(vec![("b".into(), b), ("a".into(), a)]).unwrap();
        assert_eq!(m.seeds, Seeds { first: 1, count: 4 });
        assert_eq!((m.runs, m.jobs, m.merged_from), (4, 4, Some(2)));
        let r = &m.labs[0].results[0];
        assert_eq!(
            (r.runs, r.failures, r.failing_seeds.clone()),
            (4, 1, vec![4])
        );
        assert_eq!(r.wall_mean_s, 4.0);
        let whole_sd = f64::sqrt((9.0 + 1.0 + 1.0 + 9.0) / 3.0);
        assert!((r.wall_sd_s - whole_sd).abs() < 1e-9, "{}", r.wall_sd_s);
        assert_eq!(r.virtual_mean_s, Some(40.0));
        assert_eq!(m.labs[0].grade, "0/1");
    }

    #[test]
    fn a_missing_shard_an_overlap_or_other_tests_are_errors() {
        let a = || summary(1, 2, Some((1, 2)), test(2, 1.0, 0.0, &[]));
        let err = |parts| merge_summaries(parts).unwrap_err().to_string();
        assert!(err(vec![("a".into(), a())]).contains("shard 2/2 missing"));
        assert!(err(vec![("a".into(), a()), ("b".into(), a())]).contains("given twice"));
        let late = summary(4, 2, None, test(2, 1.0, 0.0, &[]));
        let early = summary(1, 2, None, test(2, 1.0, 0.0, &[]));
        assert!(err(vec![("e".into(), early), ("l".into(), late)]).contains("leave a gap"));
        let overlap = summary(2, 2, None, test(2, 1.0, 0.0, &[]));
        let early = summary(1, 2, None, test(2, 1.0, 0.0, &[]));
        assert!(err(vec![("e".into(), early), ("o".into(), overlap)]).contains("overlap"));
        let mut other = test(2, 1.0, 0.0, &[]);
        other.test = "u_1a".into();
        let early = summary(1, 2, None, test(2, 1.0, 0.0, &[]));
        let next = summary(3, 2, None, other);
        assert!(err(vec![("e".into(), early), ("n".into(), next)]).contains("is in one only"));
    }
}
