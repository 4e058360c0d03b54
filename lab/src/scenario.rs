//! `lab scenario FILE`: runs a scenario file with the workspace's
//! `scenario` binary, then draws its picture.
//!
//! The simulation needs the labs (raft, kvraft, shardkv1), and `lab` must build
//! without them (a handout may leave them out), so the runner is a binary
//! of its own, the `scenario` package, built here on demand
//! (`cargo build --release -p scenario`, once; then incremental) and run
//! with the arguments. This command adds the picture: the run's trace,
//! drawn as `lab picture` does, with the scenario's steps marked on the
//! time axis; for kvraft and shardkv1 the history view is written beside
//! it (`FILE-history.html`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::Message;

use crate::bail;
use crate::error::{EXIT_OK, Result};
use crate::picture;
use crate::workspace::{SCENARIO_PACKAGE, Workspace, cargo};
use anyhow::Context as _;

/// Arguments of `lab scenario`.
#[derive(clap::Args, Debug)]
pub struct ScenarioArgs {
    /// The scenario file (TOML; see docs/scenarios.md and scenarios/).
    pub file: PathBuf,
    /// The seed (default: the file's `seed`).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Run N seeds from --seed and report how often each expectation held.
    #[arg(long, short = 'n', value_name = "N", conflicts_with_all = ["html", "trace"])]
    pub seeds: Option<u64>,
    /// Write the space-time picture (HTML) here, with the steps drawn on
    /// it; for kvraft and shardkv1 also the history view, as
    /// FILE-history.html (FILE without its .html).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the trace (JSON lines) here.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// The workspace's Cargo.toml (default: found from the current
    /// directory).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
}

/// Builds the scenario runner; returns its path.
fn build(ws: &Workspace) -> Result<PathBuf> {
    build_bin(ws, SCENARIO_PACKAGE)
}

/// Builds binary `bin` of the scenario package (`scenario`, or `fuzz` for
/// `lab fuzz`); returns its path.
pub fn build_bin(ws: &Workspace, bin: &str) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "--quiet",
        "--message-format=json-render-diagnostics",
        "-p",
        SCENARIO_PACKAGE,
        "--bin",
        bin,
    ]);
    if let Some(p) = ws.manifest_path() {
        cmd.arg("--manifest-path").arg(p);
    }
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| "cannot run `cargo build -p scenario`")?;
    if !out.status.success() {
        bail!("building the scenario package's `{bin}` failed (cargo's messages are above)");
    }
    for message in Message::parse_stream(out.stdout.as_slice()).flatten() {
        if let Message::CompilerArtifact(a) = message
            && a.target.name == bin
            && let Some(exe) = a.executable
        {
            return Ok(exe.into_std_path_buf());
        }
    }
    bail!("cargo built the scenario package but named no `{bin}` executable")
}

/// Runs `lab scenario`.
pub fn scenario(args: ScenarioArgs) -> Result<u8> {
    if !args.file.is_file() {
        bail!("{}: no such scenario file", args.file.display());
    }
    let ws = Workspace::load(args.manifest_path.as_deref())?;
    let exe = build(&ws)?;
    let trace = match (&args.trace, &args.html) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(h)) => Some(h.with_extension("trace.jsonl")),
        (None, None) => None,
    };
    let mut cmd = Command::new(&exe);
    cmd.arg(&args.file);
    if let Some(s) = args.seed {
        cmd.arg("--seed").arg(s.to_string());
    }
    if let Some(n) = args.seeds {
        cmd.arg("--seeds").arg(n.to_string());
    }
    if let Some(t) = &trace {
        cmd.arg("--trace").arg(t);
    }
    let history = args.html.as_ref().map(|h| history_path(h));
    if let Some(h) = &history {
        cmd.arg("--history").arg(h);
    }
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    let code = status.code().unwrap_or(2) as u8;
    if code == 2 {
        // A bad file: the runner said why.
        return Ok(code);
    }
    if let (Some(html), Some(trace)) = (&args.html, &trace) {
        let events = crate::trace::read(trace)?;
        let title = args
            .file
            .file_name()
            .map_or_else(|| "scenario".into(), |n| n.to_string_lossy().into_owned());
        let window = picture::Window {
            from: None,
            to: None,
            max_events: picture::DEFAULT_MAX_EVENTS,
        };
        let summary = picture::write(html, &title, &events, &window, &picture::Run::default())?;
        crate::say!("picture: {} ({summary})", html.display());
        if args.trace.is_none() {
            let _ = std::fs::remove_file(trace);
        }
    }
    Ok(if code == 0 { EXIT_OK } else { code })
}

/// `OUT.html` -> `OUT-history.html`.
fn history_path(html: &Path) -> PathBuf {
    let stem = html
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
    html.with_file_name(format!("{stem}-history.html"))
}
