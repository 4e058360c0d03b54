//! `lab handout`: the student's workspace, cut from the reference.
//!
//! ```text
//! lab handout OUT [--course 2026] [--labs raft,kvraft] [--force]
//!                                                 a student workspace in OUT
//! lab handout OUT --solution                      the same, with the reference in place
//! lab handout --check DIR                         no solution line anywhere in DIR
//! ```
//!
//! The source is the workspace around the current directory. Its root
//! `Cargo.toml` names the labs (`[workspace.metadata.handout] labs`); every
//! other member is framework and is copied as it is. Its
//! `[workspace.metadata.handout.courses]` names each course's labs (6.5840
//! of 2026: rsm and kvraft1 for Lab 4, shardkv1 for Lab 5; of 2024: kvraft and shardkv):
//! `--course YEAR` hands those out, `--labs` adds to them, and with
//! neither every lab is handed out.
//!
//! Guarantees:
//! - Nothing is written unless every marker of every selected lab is well
//!   formed (see [`markers`]), every lab has at least one block, and no
//!   framework file holds a marker; each problem is named with its file and
//!   line.
//! - A selected lab brings the labs it depends on (kvraft needs the
//!   student's raft); labs not selected are left out of the files, the
//!   workspace members, the README and CI.
//! - In a handout every block is replaced by its HANDOUT text; with
//!   `--solution` by its own lines. Everything else is the same in both, so
//!   the tests passing on the solution and failing fast on the handout is
//!   the round trip that keeps them from drifting apart.
//! - OUT must be empty or missing; `--force` replaces an earlier output of
//!   this command (recognised by its stamp file) and nothing else.

mod check;
pub mod markers;
pub mod source;
mod student;

use std::fs;
use std::path::{Path, PathBuf};

use crate::bail;
use crate::error::{EXIT_FAILED, EXIT_OK, Result};
use anyhow::Context as _;

pub use source::{Mode, OutFile, Source};

/// The file that marks a directory as this command's output.
pub const STAMP: &str = ".handout-stamp";

/// Arguments of `lab handout`.
#[derive(clap::Args, Debug)]
pub struct HandoutArgs {
    /// Where to write the handout (a new or empty directory).
    #[arg(value_name = "OUT", required_unless_present = "check")]
    out: Option<PathBuf>,
    /// The labs to hand out, comma-separated (default: all, or those of
    /// --course). The labs they depend on come along.
    #[arg(long, value_delimiter = ',', value_name = "LAB,...")]
    labs: Vec<String>,
    /// Hand out the labs of one course, as listed in the root Cargo.toml's
    /// [workspace.metadata.handout.courses]: 2026 (6.5840 of 2025/26:
    /// mapreduce, kvsrv, raft, rsm, kvraft1, shardkv1) or 2024 (mapreduce, kvsrv,
    /// raft, kvraft, shardkv). --labs adds more (e.g. paxos). Default: no
    /// course; without --labs either, every lab of every course.
    #[arg(long, value_name = "YEAR", conflicts_with = "check")]
    course: Option<String>,
    /// Replace OUT if it holds an earlier output of `lab handout`.
    #[arg(long)]
    force: bool,
    /// Write the reference solution instead (same files, blocks kept,
    /// markers removed): its tests must pass.
    #[arg(long, conflicts_with = "check")]
    solution: bool,
    /// Check DIR (a handout) instead: no line of any solution block and no
    /// marker may appear in any of its files.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "labs", "force"])]
    check: Option<PathBuf>,
    /// The reference workspace's Cargo.toml (default: found from the
    /// current directory).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

/// Runs `lab handout`.
pub fn handout(args: HandoutArgs) -> Result<u8> {
    let source = Source::load(args.manifest_path.as_deref())?;
    if let Some(dir) = &args.check {
        let problems = check::check(&source, dir)?;
        return Ok(if problems == 0 { EXIT_OK } else { EXIT_FAILED });
    }
    let out = args.out.expect("clap requires OUT without --check");
    let labs = source.select(args.course.as_deref(), &args.labs)?;
    let mut requested = args.labs.clone();
    if let Some(year) = &args.course {
        requested.extend(source.courses[year].iter().cloned());
    }
    let mode = if args.solution {
        Mode::Solution
    } else {
        Mode::Handout
    };
    let files = source.render(&labs, mode)?;
    let blocks = write_tree(&out, &files, args.force, &stamp_text(&labs, mode))?;
    let what = match mode {
        Mode::Handout => "handout",
        Mode::Solution => "solution",
    };
    let added: Vec<&str> = labs
        .iter()
        .filter(|l| !requested.is_empty() && !requested.contains(l))
        .map(String::as_str)
        .collect();
    crate::say!(
        "lab handout: wrote the {what} of {} to {} ({} files, {blocks} solution blocks {})",
        labs.join(", "),
        out.display(),
        files.len(),
        match mode {
            Mode::Handout => "replaced by stubs",
            Mode::Solution => "kept",
        }
    );
    if !added.is_empty() {
        crate::say!(
            "  (with {}: the selected labs depend on it)",
            added.join(", ")
        );
    }
    if mode == Mode::Handout {
        let first = &labs[0];
        crate::say!("next:");
        crate::say!(
            "  lab handout --check {}        # no solution line leaked",
            out.display()
        );
        crate::say!(
            "  cd {} && cargo test -p {first}   # every test fails: not implemented yet",
            out.display()
        );
    }
    Ok(EXIT_OK)
}

/// Writes `files` under `out` (see [`prepare_out`] for when `out` may hold
/// something already) and the stamp that marks it as ours; returns the
/// number of solution blocks in the files.
pub fn write_tree(out: &Path, files: &[OutFile], force: bool, stamp: &str) -> Result<usize> {
    prepare_out(out, force)?;
    let mut blocks = 0;
    for f in files {
        let path = out.join(&f.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&path, &f.bytes).with_context(|| format!("cannot write {}", path.display()))?;
        if f.executable {
            make_executable(&path)?;
        }
        blocks += f.blocks;
    }
    fs::write(out.join(STAMP), stamp)
        .with_context(|| format!("cannot write {}", out.join(STAMP).display()))?;
    Ok(blocks)
}

fn stamp_text(labs: &[String], mode: Mode) -> String {
    format!(
        "# Written by `lab handout`; `lab handout --force` may replace this directory.\nmode = \"{}\"\nlabs = [{}]\n",
        match mode {
            Mode::Handout => "handout",
            Mode::Solution => "solution",
        },
        labs.iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Makes sure OUT can be written: missing, empty, or (with `force`) an
/// earlier output of this command, which is then emptied.
fn prepare_out(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        if !out.is_dir() {
            bail!("{} exists and is not a directory", out.display());
        }
        let mut entries =
            fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?;
        if entries.next().is_some() {
            if !force {
                bail!(
                    "{} exists and is not empty: choose a new directory, or pass --force to \
                     replace an earlier handout there",
                    out.display()
                );
            }
            if !out.join(STAMP).is_file() {
                bail!(
                    "{} is not an earlier output of `lab handout` (no {STAMP} in it): --force \
                     replaces only those; choose a new or empty directory",
                    out.display()
                );
            }
            for entry in
                fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?
            {
                let entry = entry.with_context(|| format!("cannot read {}", out.display()))?;
                let p = entry.path();
                // Keep a build directory: rebuilding the handout reuses it.
                if entry.file_name() == "target" {
                    continue;
                }
                let removed = if p.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
                removed.with_context(|| format!("cannot remove {}", p.display()))?;
            }
        }
    }
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}
