//! `LAB_HTML=DIR`: a failing run writes its page. The trace (with the
//! failure at its end) goes to `DIR/<test>-<seed>.jsonl`, and the `lab`
//! tool draws it to `DIR/<test>-<seed>.html` (`lab picture`): the `lab`
//! binary built beside the test binary (`target/<profile>/lab`), else the
//! one on `PATH`. Without either, the message says how to draw it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::trace::Event;

/// Writes the trace of a failed run to `dir` and draws its page; prints
/// where they are (or why not). Never panics: the run's failure matters
/// more.
pub(crate) fn write(dir: &str, test: &str, seed: u64, events: &[Event]) {
    let stem = format!("{test}-{seed}");
    let dir = Path::new(dir);
    let trace = dir.join(format!("{stem}.jsonl"));
    let html = dir.join(format!("{stem}.html"));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&trace)?);
        crate::trace::write_json_lines(events, &mut w)?;
        std::io::Write::flush(&mut w)
    });
    if let Err(e) = written {
        eprintln!("labrpc: LAB_HTML: cannot write {}: {e}", trace.display());
        return;
    }
    let drawn = lab_binary().map(|lab| {
        Command::new(lab)
            .arg("picture")
            .arg(&trace)
            .arg("--html")
            .arg(&html)
            .output()
    });
    match drawn {
        Some(Ok(out)) if out.status.success() => {
            eprintln!("labrpc: the page of this failure: {}", html.display());
        }
        _ => eprintln!(
            "labrpc: the trace of this failure: {}; draw its page with \
             `cargo run -p lab --release -- picture {}`",
            trace.display(),
            trace.display()
        ),
    }
}

/// The `lab` tool: beside the test binary (`target/<profile>/deps/x` ->
/// `target/<profile>/lab`), else on `PATH`.
fn lab_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let beside = exe.parent()?.parent()?.join("lab");
    if beside.is_file() {
        return Some(beside);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("lab"))
        .find(|p| p.is_file())
}
