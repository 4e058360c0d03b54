//! `lab handout --check DIR`: does any line of the reference's solution
//! blocks, or any marker, appear in DIR?
//!
//! A solution line counts when, trimmed, it is at least
//! [`MIN_SECRET_LEN`] characters long with [`MIN_SECRET_ALNUM`] letters or
//! digits, and
//! appears nowhere in the reference outside a block (a line the handout
//! shows anyway, like `let mut c = shared.borrow_mut();` in a grader, gives
//! nothing away). Every text file of DIR is read, docs and READMEs
//! included: a doc comment or an example that quotes the solution is a
//! leak too.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use super::markers;
use super::source::{Source, walk};
use crate::bail;
use crate::error::Result;
use anyhow::Context as _;

/// Shorter solution lines are too common to mean anything.
pub const MIN_SECRET_LEN: usize = 10;
/// So are lines with fewer letters and digits (`})).await;`).
pub const MIN_SECRET_ALNUM: usize = 6;

/// Checks DIR; prints every problem and a summary; returns how many
/// problems it found.
pub fn check(source: &Source, dir: &Path) -> Result<usize> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let secrets = secret_lines(source);
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    let mut problems = 0;
    let mut checked = 0;
    for rel in &files {
        let path = dir.join(rel);
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        checked += 1;
        for (i, line) in text.lines().enumerate() {
            if markers::is_marker_line(line) {
                crate::say!(
                    "{}:{}: a solution marker: `{}`",
                    path.display(),
                    i + 1,
                    line.trim()
                );
                problems += 1;
            } else if let Some(from) = secrets.get(line.trim()) {
                crate::say!(
                    "{}:{}: a line of the solution ({from}): `{}`",
                    path.display(),
                    i + 1,
                    line.trim()
                );
                problems += 1;
            }
        }
    }
    let blocks: usize = source
        .files
        .iter()
        .filter_map(|f| f.parsed.as_ref())
        .map(|p| p.blocks().count())
        .sum();
    if problems == 0 {
        crate::say!(
            "lab handout --check: {checked} files of {} hold none of the {} solution lines \
             ({blocks} blocks in the labs {}); markers well formed",
            dir.display(),
            secrets.len(),
            source.labs.join(", ")
        );
    } else {
        crate::say!(
            "lab handout --check: {problems} problems in {} ({checked} files checked against {} \
             solution lines)",
            dir.display(),
            secrets.len()
        );
    }
    Ok(problems)
}

/// Every telling solution line, trimmed, with where it comes from.
fn secret_lines(source: &Source) -> BTreeMap<String, String> {
    let mut public = BTreeSet::new();
    let mut solution = BTreeMap::new();
    for f in &source.files {
        match &f.parsed {
            Some(p) => {
                for (_, l) in p.outside() {
                    public.insert(l.trim().to_string());
                }
                for b in p.blocks() {
                    for l in &b.handout {
                        public.insert(l.trim().to_string());
                    }
                    for (n, l) in &b.solution {
                        solution
                            .entry(l.trim().to_string())
                            .or_insert_with(|| format!("{}:{n}", f.rel));
                    }
                }
            }
            None => {
                if let Ok(text) = std::str::from_utf8(&f.bytes) {
                    for l in text.lines() {
                        public.insert(l.trim().to_string());
                    }
                }
            }
        }
    }
    solution.retain(|l, _| telling(l) && !public.contains(l));
    solution
}

/// Whether a trimmed line says enough to count as a leak.
fn telling(line: &str) -> bool {
    line.chars().count() >= MIN_SECRET_LEN
        && line.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_SECRET_ALNUM
}

#[cfg(test)]
mod tests {
    use super::telling;

    #[test]
    fn short_and_punctuation_lines_tell_nothing() {
        assert!(!telling("}"));
        assert!(!telling("x += 1;"));
        assert!(!telling("})).await;"));
        assert!(!telling("Ok(()) => {}"));
        assert!(!telling("// ----------"));
        assert!(telling("c.commit_to(majority);"));
    }
}
