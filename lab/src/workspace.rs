//! Discovery: which labs the workspace has, and which tests they grade with.
//!
//! Guarantees:
//! - A **lab** is a workspace package that uses `labrpc` (or is `labrpc`)
//!   and has integration tests (`tests/*.rs`, cargo's `test` targets): the
//!   grader lives in `tests/`, the student's code in `src/`. Unit tests in
//!   `src/` are not graded.
//! - `lab` itself is a lab only when named explicitly, and then only its
//!   `tests/fixture.rs` (a fixture for the tool's own tests); `lab grade`
//!   with no names grades every other lab.
//! - The test binaries are built once, in release, by one
//!   `cargo test --release --no-run` for all selected labs; after that no
//!   cargo process runs per test.
//! - Ignored tests (`#[ignore]`) are left out.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, TargetKind};

use crate::bail;
use crate::error::Result;
use anyhow::{Context as _, anyhow};

/// The package that holds the tool's own fixture tests.
pub const SELF_PACKAGE: &str = "lab";
/// The scenario runner (framework, not a lab: `lab scenario` runs it).
pub const SCENARIO_PACKAGE: &str = "scenario";
/// Its only graded target: the fixture (its other targets test the tool).
pub const SELF_FIXTURE_TARGET: &str = "fixture";

/// A workspace package, as far as grading cares.
#[derive(Debug, Clone)]
pub struct Package {
    /// The package name (`cargo test -p NAME`).
    pub name: String,
    /// The directory of its Cargo.toml; tests run with it as working
    /// directory, as under `cargo test`.
    pub dir: PathBuf,
    /// Names of its integration-test targets.
    pub test_targets: Vec<String>,
    /// Whether it depends on labrpc (or is labrpc).
    pub uses_labrpc: bool,
    /// Its version (for `CARGO_PKG_VERSION`).
    pub version: String,
}

impl Package {
    fn is_lab(&self) -> bool {
        self.uses_labrpc && !self.test_targets.is_empty()
    }
}

impl TestCase {
    /// Whether `name` names this test: its libtest name, or the last part
    /// of it (`backup_3b` for `part_3b::backup_3b`).
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name
            || self
                .name
                .rsplit_once("::")
                .is_some_and(|(_, last)| last == name)
    }
}

/// The cargo workspace the tool works on.
#[derive(Debug)]
pub struct Workspace {
    /// Its root directory (where `lab-runs/` goes).
    pub root: PathBuf,
    manifest_path: Option<PathBuf>,
    /// cargo's `--target-dir` for the build, if not its default.
    pub target_dir: Option<PathBuf>,
    packages: Vec<Package>,
}

/// One graded test: a libtest test in a lab's integration-test binary.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The lab (package) name.
    pub lab: String,
    /// The integration-test target (file name under `tests/`).
    pub target: String,
    /// The libtest name, as `--exact` wants it.
    pub name: String,
    /// The built test binary.
    pub binary: PathBuf,
    /// The package directory (working directory of the run).
    pub dir: PathBuf,
    /// The package version.
    pub version: String,
}

pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Workspace {
    /// Reads the workspace with `cargo metadata --no-deps`, from the current
    /// directory or `manifest_path`.
    pub fn load(manifest_path: Option<&Path>) -> Result<Workspace> {
        let mut cmd = cargo_metadata::MetadataCommand::new();
        cmd.no_deps();
        if let Some(p) = manifest_path {
            cmd.manifest_path(p);
        }
        let meta = cmd.exec().map_err(|e| {
            anyhow!(
                "`cargo metadata` failed; run lab inside the distlab workspace or pass \
                 --manifest-path:\n{}",
                e.to_string().trim_end()
            )
        })?;
        let packages = meta
            .packages
            .into_iter()
            .map(|p| Package {
                uses_labrpc: p.name == "labrpc"
                    || p.dependencies.iter().any(|d| d.name == "labrpc"),
                test_targets: p
                    .targets
                    .iter()
                    .filter(|t| t.is_kind(TargetKind::Test))
                    .map(|t| t.name.clone())
                    .collect(),
                dir: p
                    .manifest_path
                    .parent()
                    .map(|d| d.as_std_path().to_path_buf())
                    .unwrap_or_default(),
                name: p.name.to_string(),
                version: p.version.to_string(),
            })
            .collect();
        Ok(Workspace {
            root: meta.workspace_root.into_std_path_buf(),
            manifest_path: manifest_path.map(Path::to_path_buf),
            target_dir: None,
            packages,
        })
    }

    /// The manifest given with --manifest-path, if any.
    pub fn manifest_path(&self) -> Option<&Path> {
        self.manifest_path.as_deref()
    }

    /// The labs graded by default: every lab but the tool's own fixture.
    pub fn labs(&self) -> Vec<&Package> {
        self.packages
            .iter()
            .filter(|p| p.is_lab() && p.name != SELF_PACKAGE && p.name != SCENARIO_PACKAGE)
            .collect()
    }

    fn lab_names(&self) -> String {
        let names: Vec<&str> = self.labs().iter().map(|p| p.name.as_str()).collect();
        if names.is_empty() {
            "none yet".into()
        } else {
            names.join(", ")
        }
    }

    /// The labs named by the user, in the order given (duplicates removed),
    /// or every default lab when `names` is empty.
    ///
    /// Fails with a message listing the labs when a name is not a lab.
    pub fn select(&self, names: &[String]) -> Result<Vec<Package>> {
        if names.is_empty() {
            let labs: Vec<Package> = self.labs().into_iter().cloned().collect();
            if labs.is_empty() {
                bail!("this workspace has no labs (packages that use labrpc and have tests/)");
            }
            return Ok(labs);
        }
        let mut out: Vec<Package> = Vec::new();
        for name in names {
            let Some(p) = self.packages.iter().find(|p| &p.name == name) else {
                bail!(
                    "unknown lab {name:?}; the labs of this workspace are: {}",
                    self.lab_names()
                );
            };
            if !p.is_lab() {
                bail!(
                    "{name:?} is a package of this workspace but not a lab (a lab uses labrpc \
                     and has tests/); the labs are: {}",
                    self.lab_names()
                );
            }
            if !out.iter().any(|o| o.name == p.name) {
                out.push(p.clone());
            }
        }
        Ok(out)
    }

    /// Builds the test binaries of `labs` in release (one cargo command,
    /// its progress on stderr) and lists their tests, ignored ones left out.
    ///
    /// `quiet` passes `--quiet` to cargo. Fails if the build fails or a
    /// binary cannot list its tests.
    pub fn build_and_list(&self, labs: &[Package], quiet: bool) -> Result<Vec<TestCase>> {
        let mut cmd = cargo();
        cmd.args([
            "test",
            "--release",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
        if quiet {
            cmd.arg("--quiet");
        }
        if let Some(p) = &self.manifest_path {
            cmd.arg("--manifest-path").arg(p);
        }
        if let Some(dir) = &self.target_dir {
            cmd.arg("--target-dir").arg(dir);
        }
        for lab in labs {
            cmd.args(["-p", &lab.name]);
        }
        let out = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| "cannot run `cargo test --no-run`")?;
        if !out.status.success() {
            let names: Vec<&str> = labs.iter().map(|l| l.name.as_str()).collect();
            bail!(
                "building the tests of {} failed (cargo's messages are above)",
                names.join(", ")
            );
        }
        let mut binaries: Vec<(Package, String, PathBuf)> = Vec::new();
        for message in Message::parse_stream(out.stdout.as_slice()).flatten() {
            let Message::CompilerArtifact(a) = message else {
                continue;
            };
            let Some(exe) = a.executable else { continue };
            if !a.profile.test || !a.target.is_kind(TargetKind::Test) {
                continue;
            }
            let Some(lab) = labs.iter().find(|l| {
                a.manifest_path.parent().map(|d| d.as_std_path()) == Some(l.dir.as_path())
            }) else {
                continue;
            };
            if lab.name == SELF_PACKAGE && a.target.name != SELF_FIXTURE_TARGET {
                continue;
            }
            let exe = exe.into_std_path_buf();
            if !binaries.iter().any(|b| b.2 == exe) {
                binaries.push((lab.clone(), a.target.name, exe));
            }
        }
        // Labs in the order asked for, targets by name.
        binaries.sort_by_key(|(lab, target, _)| {
            let i = labs.iter().position(|l| l.name == lab.name);
            (i, target.clone())
        });
        let mut tests = Vec::new();
        for (lab, target, exe) in binaries {
            let all = list_tests(&exe, &lab.dir, false)?;
            let ignored = list_tests(&exe, &lab.dir, true)?;
            for name in all.into_iter().filter(|n| !ignored.contains(n)) {
                tests.push(TestCase {
                    lab: lab.name.clone(),
                    target: target.clone(),
                    name,
                    binary: exe.clone(),
                    dir: lab.dir.clone(),
                    version: lab.version.clone(),
                });
            }
        }
        Ok(tests)
    }
}

/// The tests a libtest binary reports with `--list --format terse`.
fn list_tests(exe: &Path, dir: &Path, ignored: bool) -> Result<Vec<String>> {
    let mut cmd = Command::new(exe);
    cmd.args(["--list", "--format", "terse"]).current_dir(dir);
    if ignored {
        cmd.arg("--ignored");
    }
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "{} --list failed:\n{}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

/// Picks the tests whose name contains one of `filters` (all tests when
/// there are none); with `exact`, whose name equals one.
pub fn filter_tests(tests: Vec<TestCase>, filters: &[String], exact: bool) -> Vec<TestCase> {
    if filters.is_empty() {
        return tests;
    }
    tests
        .into_iter()
        .filter(|t| {
            filters.iter().any(|f| {
                if exact {
                    t.is_named(f)
                } else {
                    t.name.contains(f.as_str())
                }
            })
        })
        .collect()
}
