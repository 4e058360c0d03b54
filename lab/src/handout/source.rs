//! The reference workspace: its labs, its framework, its files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use toml_edit::{Array, DocumentMut, Item, Value};

use super::markers::{self, Parsed};
use super::student;
use crate::bail;
use crate::error::Result;
use anyhow::{Context as _, anyhow};

/// Files of the reference that a handout never carries: the instructor's
/// pages, and what `lab handout` writes anew.
pub const NOT_HANDED_OUT: &[&str] = &[
    "README.md",
    ".ci/run",
    "docs/instructors.md",
    "docs/writing-a-lab.md",
    "docs/instructors-mutation.md",
    "docs/scenarios.md",
    "docs/fuzzing.md",
];

/// Workspace members that are instructor tooling, never handed out: the
/// scenario runner needs raft and kvraft, which a handout may leave out.
pub const MEMBERS_NOT_HANDED_OUT: &[&str] = &["scenario"];

/// Directories of the reference that a handout never carries: the tool's
/// own tests (they grade `lab`, not the student, and build a workspace of
/// their own), the instructors' notes on each lab, and the scenario
/// runner with its library (instructor tooling).
pub const DIRS_NOT_HANDED_OUT: &[&str] =
    &["lab/tests/", "docs/instructors/", "scenario/", "scenarios/"];

/// Directories never read (build output, run logs).
const SKIPPED_DIRS: &[&str] = &[".git", "target", "lab-runs", "mr-tmp"];

/// What to put in place of each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The HANDOUT text.
    Handout,
    /// The reference's own lines.
    Solution,
}

/// A file of the output.
pub struct OutFile {
    /// Relative to the output's root.
    pub path: PathBuf,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Whether to make it executable.
    pub executable: bool,
    /// Solution blocks in it.
    pub blocks: usize,
}

/// One file of the reference.
pub struct SourceFile {
    /// Relative to the workspace root, with `/` separators.
    pub rel: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// The crate directory it belongs to (first path component), if any.
    pub member: Option<String>,
    /// Parsed markers, for a `.rs` file of a lab.
    pub parsed: Option<Parsed>,
}

/// The reference workspace.
pub struct Source {
    /// Its root directory.
    pub root: PathBuf,
    /// The labs, in course order.
    pub labs: Vec<String>,
    /// Each lab's labs it depends on.
    deps: BTreeMap<String, BTreeSet<String>>,
    /// Each course's labs (`[workspace.metadata.handout.courses]`), by
    /// year.
    pub courses: BTreeMap<String, Vec<String>>,
    /// The workspace manifest.
    manifest: DocumentMut,
    /// Every file.
    pub files: Vec<SourceFile>,
}

/// The workspace's members and, of them, the labs
/// (`[workspace.metadata.handout] labs`).
fn members_and_labs(
    manifest: &DocumentMut,
    manifest_path: &Path,
) -> Result<(Vec<String>, Vec<String>)> {
    let members = string_array(manifest, &["workspace", "members"])
        .ok_or_else(|| anyhow!("{}: no [workspace] members", manifest_path.display()))?;
    let labs =
        string_array(manifest, &["workspace", "metadata", "handout", "labs"]).ok_or_else(|| {
            anyhow!(
                "{}: no `labs` in [workspace.metadata.handout]: name the lab crates there \
                 (every other member is framework)",
                manifest_path.display()
            )
        })?;
    if let Some(lab) = labs.iter().find(|l| !members.contains(l)) {
        bail!(
            "{}: lab {lab:?} of [workspace.metadata.handout] is not a workspace member",
            manifest_path.display()
        );
    }
    Ok((members, labs))
}

/// Reads one file of the workspace: a lab's Rust file with its markers
/// parsed; any other file checked to hold no marker. Problems go to
/// `problems`, each naming the file and line.
fn read_file(
    root: &Path,
    rel: String,
    members: &[String],
    labs: &[String],
    problems: &mut Vec<String>,
) -> Result<SourceFile> {
    let path = root.join(&rel);
    let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let member = rel
        .split_once('/')
        .map(|(m, _)| m.to_string())
        .filter(|m| members.contains(m));
    let is_lab = member.as_ref().is_some_and(|m| labs.contains(m));
    let mut parsed = None;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        if is_lab && rel.ends_with(".rs") {
            match markers::parse(text) {
                Ok(p) => parsed = Some(p),
                Err(e) => problems.push(format!("{rel}:{}: {}", e.line, e.message)),
            }
        } else if !NOT_HANDED_OUT.contains(&rel.as_str()) {
            for (i, line) in text.lines().enumerate() {
                if markers::is_marker_line(line) {
                    problems.push(format!(
                        "{rel}:{}: a solution marker outside a lab's Rust code \
                         (markers belong in the labs {})",
                        i + 1,
                        labs.join(", ")
                    ));
                }
            }
        }
    }
    Ok(SourceFile {
        rel,
        bytes,
        member,
        parsed,
    })
}

/// A problem for each lab without a single solution block (unless its
/// files already failed to parse).
fn labs_without_blocks(labs: &[String], files: &[SourceFile], problems: &[String]) -> Vec<String> {
    labs.iter()
        .filter(|lab| {
            let blocks: usize = files
                .iter()
                .filter(|f| f.member.as_deref() == Some(lab.as_str()))
                .filter_map(|f| f.parsed.as_ref())
                .map(|p| p.blocks().count())
                .sum();
            let unparsed = problems.iter().any(|p| p.starts_with(&format!("{lab}/")));
            blocks == 0 && !unparsed
        })
        .map(|lab| {
            format!(
                "{lab}: a lab without a single solution block (its whole code would be handed out)"
            )
        })
        .collect()
}

impl Source {
    /// Reads the workspace around the current directory (or the given
    /// manifest), and checks every marker. Fails, naming every problem's
    /// file and line, if any marker is misplaced.
    pub fn load(manifest_path: Option<&Path>) -> Result<Source> {
        let manifest_path = match manifest_path {
            Some(p) => p.to_path_buf(),
            None => find_workspace_manifest()?,
        };
        let root = manifest_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let text = fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        let manifest: DocumentMut = text
            .parse()
            .map_err(|e| anyhow!("{}: not valid TOML: {e}", manifest_path.display()))?;
        let (members, labs) = members_and_labs(&manifest, &manifest_path)?;
        let mut deps = BTreeMap::new();
        for lab in &labs {
            deps.insert(lab.clone(), lab_deps(&root, lab, &labs)?);
        }
        let courses = courses(&manifest);
        for (year, course) in &courses {
            if let Some(l) = course.iter().find(|l| !labs.contains(l)) {
                bail!(
                    "{}: course {year} of [workspace.metadata.handout.courses] names {l:?}, \
                     which is not one of the labs ({})",
                    manifest_path.display(),
                    labs.join(", ")
                );
            }
        }
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for rel in list_files(&root)? {
            files.push(read_file(&root, rel, &members, &labs, &mut problems)?);
        }
        problems.extend(labs_without_blocks(&labs, &files, &problems));
        if !problems.is_empty() {
            bail!(
                "the reference's markers are not well formed; nothing was written:\n  {}",
                problems.join("\n  ")
            );
        }
        Ok(Source {
            root,
            labs,
            deps,
            courses,
            manifest,
            files,
        })
    }

    /// The labs to hand out: those of `course` (if given) and the requested
    /// names (every lab if neither), with the labs they depend on, in
    /// course order.
    pub fn select(&self, course: Option<&str>, names: &[String]) -> Result<Vec<String>> {
        let mut names = names.to_vec();
        if let Some(year) = course {
            let Some(labs) = self.courses.get(year) else {
                bail!(
                    "unknown course {year:?}; the courses are: {}",
                    self.courses.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            names.extend(labs.iter().cloned());
        }
        if names.is_empty() {
            return Ok(self.labs.clone());
        }
        let mut want = BTreeSet::new();
        for n in &names {
            if !self.labs.contains(n) {
                bail!("unknown lab {n:?}; the labs are: {}", self.labs.join(", "));
            }
            let mut stack = vec![n.to_string()];
            while let Some(l) = stack.pop() {
                if want.insert(l.clone()) {
                    stack.extend(self.deps[&l].iter().cloned());
                }
            }
        }
        Ok(self
            .labs
            .iter()
            .filter(|l| want.contains(*l))
            .cloned()
            .collect())
    }

    /// Every file of the output for `labs`.
    pub fn render(&self, labs: &[String], mode: Mode) -> Result<Vec<OutFile>> {
        let left_out: Vec<&String> = self.labs.iter().filter(|l| !labs.contains(l)).collect();
        let mut out = Vec::new();
        for f in &self.files {
            if NOT_HANDED_OUT.contains(&f.rel.as_str())
                || DIRS_NOT_HANDED_OUT.iter().any(|d| f.rel.starts_with(d))
                || f.rel == super::STAMP
            {
                continue;
            }
            if f.member.as_ref().is_some_and(|m| left_out.contains(&m)) {
                continue;
            }
            let (bytes, blocks) = if f.rel == "Cargo.toml" {
                (self.manifest_for(labs).into_bytes(), 0)
            } else if let Some(p) = &f.parsed {
                let text = match mode {
                    Mode::Handout => p.handout(),
                    Mode::Solution => p.solution(),
                };
                (text.into_bytes(), p.blocks().count())
            } else {
                (f.bytes.clone(), 0)
            };
            out.push(OutFile {
                path: PathBuf::from(&f.rel),
                bytes,
                executable: is_executable(&self.root.join(&f.rel)),
                blocks,
            });
        }
        let titles: Vec<(String, String)> = labs
            .iter()
            .map(|l| (l.clone(), self.lab_title(l)))
            .collect();
        out.push(OutFile {
            path: PathBuf::from("README.md"),
            bytes: student::readme(&titles).into_bytes(),
            executable: false,
            blocks: 0,
        });
        out.push(OutFile {
            path: PathBuf::from(".ci/run"),
            bytes: student::ci().into_bytes(),
            executable: true,
            blocks: 0,
        });
        Ok(out)
    }

    /// The first heading of a lab's README (its title for students).
    fn lab_title(&self, lab: &str) -> String {
        let rel = format!("{lab}/README.md");
        self.files
            .iter()
            .find(|f| f.rel == rel)
            .and_then(|f| std::str::from_utf8(&f.bytes).ok())
            .and_then(|t| t.lines().find_map(|l| l.strip_prefix("# ")))
            .map_or_else(|| lab.to_string(), str::to_string)
    }

    /// The workspace manifest with only `labs` among the lab members. A
    /// member inside a lab's directory (`mapreduce/cli`) comes with its lab,
    /// as its files do.
    fn manifest_for(&self, labs: &[String]) -> String {
        let mut doc = self.manifest.clone();
        let keep = |v: &Value| {
            v.as_str().is_none_or(|s| {
                let dir = s.split('/').next().unwrap_or(s);
                !MEMBERS_NOT_HANDED_OUT.contains(&s)
                    && (!self.labs.iter().any(|l| l == dir) || labs.iter().any(|l| l == dir))
            })
        };
        let removed: Vec<String> = doc["workspace"]["members"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|v| !keep(v))
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(a) = doc["workspace"]["members"].as_array_mut() {
            a.retain(keep);
        }
        // A profile override of a member left out would make cargo warn
        // ("did not match any packages"): `[profile.release.package.scenario]`.
        // (Members whose package name is their directory's, as the tooling's.)
        if let Some(profiles) = doc.get_mut("profile").and_then(|p| p.as_table_like_mut()) {
            for (_, profile) in profiles.iter_mut() {
                if let Some(packages) = profile
                    .get_mut("package")
                    .and_then(|p| p.as_table_like_mut())
                {
                    for name in &removed {
                        packages.remove(name);
                    }
                }
            }
        }
        if let Some(a) = doc["workspace"]["metadata"]["handout"]["labs"].as_array_mut() {
            a.retain(keep);
        }
        if let Some(t) = doc["workspace"]["metadata"]["handout"]["courses"].as_table_like_mut() {
            for (_, course) in t.iter_mut() {
                if let Some(a) = course.as_array_mut() {
                    a.retain(keep);
                }
            }
        }
        doc.to_string()
    }
}

/// `[workspace.metadata.handout.courses]`: year -> its labs (none if the
/// table is missing).
fn courses(doc: &DocumentMut) -> BTreeMap<String, Vec<String>> {
    let table = doc
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("handout"))
        .and_then(|h| h.get("courses"))
        .and_then(Item::as_table_like);
    table
        .into_iter()
        .flat_map(|t| t.iter())
        .filter_map(|(year, labs)| {
            let labs = labs.as_array()?;
            Some((
                year.to_string(),
                labs.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            ))
        })
        .collect()
}

fn string_array(doc: &DocumentMut, path: &[&str]) -> Option<Vec<String>> {
    let mut item: &Item = doc.as_item();
    for key in path {
        item = item.get(key)?;
    }
    let a: &Array = item.as_array()?;
    Some(
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    )
}

/// The labs among `lab`'s dependencies and dev-dependencies.
fn lab_deps(root: &Path, lab: &str, labs: &[String]) -> Result<BTreeSet<String>> {
    let path = root.join(lab).join("Cargo.toml");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e| anyhow!("{}: not valid TOML: {e}", path.display()))?;
    let mut deps = BTreeSet::new();
    for table in ["dependencies", "dev-dependencies"] {
        if let Some(t) = doc.get(table).and_then(Item::as_table_like) {
            for (name, _) in t.iter() {
                if labs.iter().any(|l| l == name) && name != lab {
                    deps.insert(name.to_string());
                }
            }
        }
    }
    Ok(deps)
}

/// The nearest Cargo.toml with a `[workspace]` table, from the current
/// directory up.
fn find_workspace_manifest() -> Result<PathBuf> {
    let cwd = std::env::current_dir().with_context(|| "cannot read the current directory")?;
    for dir in cwd.ancestors() {
        let m = dir.join("Cargo.toml");
        if let Ok(text) = fs::read_to_string(&m)
            && text.lines().any(|l| l.trim() == "[workspace]")
        {
            return Ok(m);
        }
    }
    bail!(
        "no cargo workspace around {} (run lab handout inside the reference, or pass --manifest-path)",
        cwd.display()
    )
}

/// The workspace's files, relative to `root`: git's view (tracked and
/// untracked-but-not-ignored) when it is a git checkout, else every file
/// outside the skipped directories.
fn list_files(root: &Path) -> Result<Vec<String>> {
    if root.join(".git").exists() {
        let out = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root)
            .output();
        if let Ok(out) = out
            && out.status.success()
        {
            let mut files: Vec<String> = out
                .stdout
                .split(|&b| b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                // A deleted but still tracked file is not there to copy.
                .filter(|rel| root.join(rel).is_file())
                .collect();
            files.sort();
            files.dedup();
            return Ok(files);
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort();
    Ok(files)
}

/// Every file below `dir`, relative to `root`, outside the skipped
/// directories.
pub fn walk(root: &Path, dir: &Path, files: &mut Vec<String>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let ty = entry
            .file_type()
            .with_context(|| format!("cannot read {}", path.display()))?;
        if ty.is_dir() {
            if SKIPPED_DIRS.iter().any(|s| name == *s) {
                continue;
            }
            walk(root, &path, files)?;
        } else if ty.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            files.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}
