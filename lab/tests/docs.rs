//! Every shell command the docs show works as written.
//!
//! The docs are `README.md`, `docs/*.md`, every crate's `README.md` and the
//! README of a handout (as `lab handout` writes it). A command is a line of
//! a ```` ```sh ```` or ```` ```bash ```` block (a `\` at the end continues
//! it; `# ...` after it is a comment); ```` ```text ```` blocks show output
//! and are not run. Each command runs from the workspace root, as a reader
//! would type it, and must
//!
//! - exit 0, or the code its comment states (`# exit 1: the stale read`);
//! - if it is a `cargo test`, run at least one test: a filter that selects
//!   nothing makes libtest print `running 0 tests` and pass, which is how a
//!   documented "one test" command once ran nothing.
//!
//! Placeholders become real names: `TEST` the first test of the command's
//! lab (`lab list LAB`), `PART` that test's part. A few commands are made
//! cheaper (fewer seeds, a smaller benchmark) and a few are not run (they
//! install tools or run for hours); both lists are below, each with its
//! reason, and the test prints what it did with every command. A failure
//! names `file:line`, the command and why.
//!
//! The full run builds the dev profile and runs every suite once more
//! (several minutes): it is `#[ignore]`d and `.ci/run` runs it. The
//! checker itself is tested on a planted wrong command in the default run.

#![allow(clippy::disallowed_methods)] // a test driver: wall clock, threads, processes

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("lab is a workspace member")
        .to_path_buf()
}

/// The target directory this test was built in (`<target>/tmp` is
/// `CARGO_TARGET_TMPDIR`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .to_path_buf()
}

/// `--release` when this test was built in the release profile.
fn profile_flag() -> &'static str {
    let exe = std::env::current_exe().expect("the test binary");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name);
    if profile.is_some_and(|p| p == "release") {
        " --release"
    } else {
        ""
    }
}

/// One documented command.
#[derive(Clone, Debug, PartialEq)]
struct DocCommand {
    /// Where it is shown: `docs/instructors.md:21`.
    place: String,
    /// The command as shown, without its comment.
    text: String,
    /// The exit code its comment states (`# exit 1`), else 0.
    expect: i32,
}

/// The commands of the shell blocks of a markdown text.
fn extract(file: &str, markdown: &str) -> Vec<DocCommand> {
    let mut commands = Vec::new();
    let mut in_shell = false;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                in_shell = matches!(info.split_whitespace().next(), Some("sh" | "bash"));
            }
            Event::End(TagEnd::CodeBlock) => in_shell = false,
            Event::Text(text) if in_shell => {
                let first_line = markdown[..range.start].matches('\n').count() + 1;
                commands.extend(block_commands(file, first_line, &text));
            }
            _ => {}
        }
    }
    commands
}

/// The commands of one shell block whose first line is line `first` of
/// `file`. A line ending in `\` continues on the next; a `for`, `while`
/// or `if` runs to its `done` or `fi`.
fn block_commands(file: &str, first: usize, block: &str) -> Vec<DocCommand> {
    let mut commands = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in block.lines().enumerate() {
        let (code, comment) = split_comment(line);
        let code = code.trim();
        let (start, mut text) = pending.take().unwrap_or((first + i, String::new()));
        if let Some(head) = code.strip_suffix('\\') {
            text += head.trim();
            text.push(' ');
            pending = Some((start, text));
            continue;
        }
        let compound = ["for ", "while ", "if "]
            .iter()
            .any(|k| text.starts_with(k))
            || (text.is_empty()
                && ["for ", "while ", "if "]
                    .iter()
                    .any(|k| code.starts_with(k)));
        if compound && code != "done" && code != "fi" {
            text += code;
            text.push('\n');
            pending = Some((start, text));
            continue;
        }
        text += code;
        let text = text.trim().to_string();
        if text.is_empty() {
            continue;
        }
        let expect = comment
            .and_then(|c| c.trim().strip_prefix("exit "))
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        commands.push(DocCommand {
            place: format!("{file}:{start}"),
            text,
            expect,
        });
    }
    commands
}

/// Splits a shell line at its comment: a `#` at the start of a word,
/// outside quotes.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev.is_whitespace() => return (&line[..i], Some(&line[i + 1..])),
            _ => {}
        }
        prev = c;
    }
    (line, None)
}

/// What the test does with a command.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Runs this (instantiated, perhaps made cheaper) command line.
    Run(String),
    /// Does not run it, for this reason.
    Skip(&'static str),
}

/// Commands that are not run (those containing the first text), and why.
const NOT_RUN: &[(&str, &str)] = &[
    ("cargo install ", "installs a tool from the network"),
    (
        "cargo mutants",
        "a mutation run takes hours (docs/instructors-mutation.md has its figures)",
    ),
    ("$EDITOR", "opens an editor"),
    (
        "export ",
        "sets the environment of the lines after it (each line runs in a shell of its own)",
    ),
];

/// Where the handout's README is said to be.
const HANDOUT_PAGE: &str = "(handout) README.md";

/// The handout README's commands over the whole workspace: in this one
/// they would build and test everything once more in the dev profile.
const HANDOUT_WHOLE: &[&str] = &[
    "cargo build --workspace --all-targets",
    "cargo test --workspace",
];

/// How a command is made cheaper: (what it contains, what is appended or
/// replaced, why). Seeds and runs are cut by `cheaper` itself.
const BENCH_ARGS: &[(&str, &str)] = &[
    ("--bench wc_bench", "--mb 2 --runs 1 --workers 2"),
    ("--bench bench", "--only \"hot key\""),
];

/// The plan for `cmd`: skipped, or the line to run.
fn plan(cmd: &DocCommand, ci_lines: &[String], names: &dyn Fn(&str) -> Vec<String>) -> Plan {
    if let Some((_, why)) = NOT_RUN.iter().find(|(p, _)| cmd.text.contains(p)) {
        return Plan::Skip(why);
    }
    if ci_lines.contains(&cmd.text) {
        return Plan::Skip("a step of .ci/run, which runs it as it is");
    }
    if cmd.place.starts_with(HANDOUT_PAGE) && HANDOUT_WHOLE.contains(&cmd.text.as_str()) {
        return Plan::Skip(
            "builds or tests a whole handout, as the handout round trip (lab/tests/handout.rs) does",
        );
    }
    let mut text = instantiate(&cmd.text, names);
    text = cheaper(&text);
    let scratch = target_dir().join("docs-commands");
    text = text.replace("../", &format!("{}/", scratch.display()));
    let target = target_dir();
    if target != root().join("target") {
        text = text.replace("target/release/", &format!("{}/release/", target.display()));
    }
    Plan::Run(text)
}

/// Replaces `TEST` and `PART` with a real test of the command's lab and
/// its part.
fn instantiate(text: &str, names: &dyn Fn(&str) -> Vec<String>) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.iter().any(|w| *w == "TEST" || *w == "PART") {
        return text.to_string();
    }
    // `lab replay raft TEST` names its lab after the subcommand (the
    // `-p lab` before it is the tool's crate); `cargo test -p raft` after -p.
    let after = |key: &str| words.windows(2).find(|w| w[0] == key).map(|w| w[1]);
    let lab = after("replay")
        .or_else(|| after("grade"))
        .or_else(|| after("-p"))
        .expect("a command with TEST or PART names its lab");
    let test = names(lab)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("lab list {lab} names no test"));
    let part = test.rsplit('_').next().unwrap_or_default().to_string();
    words
        .iter()
        .map(|w| match *w {
            "TEST" => test.as_str(),
            "PART" => part.as_str(),
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Fewer seeds and runs (2), smaller benchmarks: the command is checked,
/// not measured.
fn cheaper(text: &str) -> String {
    let mut words: Vec<String> = text.split_whitespace().map(String::from).collect();
    for i in 0..words.len() {
        if words[i] == "--seeds" && i + 1 < words.len() {
            words[i + 1] = "2".into();
        }
        if words[i].starts_with("LAB_RUNS=") {
            words[i] = "LAB_RUNS=2".into();
        }
    }
    let mut text = words.join(" ");
    if let Some((_, args)) = BENCH_ARGS.iter().find(|(p, _)| text.contains(p))
        && !text.contains(" -- ")
    {
        text = format!("{text} -- {args}");
    }
    text
}

/// What running a command gave.
struct Ran {
    code: Option<i32>,
    output: String,
    took: Duration,
}

/// Runs `line` with `sh -c` from the workspace root, at most `limit`.
fn run(line: &str, limit: Duration) -> Ran {
    let started = Instant::now();
    let log = tempfile_path();
    let file = std::fs::File::create(&log).expect("a log file");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{line} 2>&1"))
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("LAB_SEED")
        .env_remove("LAB_RUNS")
        .env_remove("LAB_DETERMINISM")
        .env_remove("LAB_TRACE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(file)
        .spawn()
        .expect("sh runs");
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    let _ = std::fs::remove_file(&log);
    Ran {
        code,
        output,
        took: started.elapsed(),
    }
}

fn tempfile_path() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    target_dir().join(format!("docs-command-{}-{n}.log", std::process::id()))
}

/// The tests a `cargo test` ran, from libtest's `running N tests` lines.
fn tests_run(output: &str) -> usize {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("running "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .sum()
}

/// Why `ran` does not do what `cmd` says, if it does not.
fn verdict(cmd: &DocCommand, line: &str, ran: &Ran) -> Option<String> {
    let Some(code) = ran.code else {
        return Some(format!(
            "still running after {:.0} s",
            ran.took.as_secs_f64()
        ));
    };
    if code != cmd.expect {
        return Some(format!("exit {code}, expected {}", cmd.expect));
    }
    if line.contains("cargo test") && tests_run(&ran.output) == 0 {
        return Some("ran no test (libtest: running 0 tests)".into());
    }
    None
}

/// Untracked files (not ignored) of the workspace, so that what a command
/// writes into the tree (`--html backup.html`) is removed after it.
fn untracked() -> Vec<String> {
    let out = Command::new("git")
        .args(["ls-files", "--others", "--exclude-standard"])
        .current_dir(root())
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// Checks `commands`; returns the failures (`place: command: why`, with
/// the output's tail) and prints what it did with each.
fn check(commands: &[DocCommand], names: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap_or_default();
    let ci_lines: Vec<String> = ci.lines().map(|l| l.trim().to_string()).collect();
    let before = untracked();
    let mut failures = Vec::new();
    let mut page = "";
    for cmd in commands {
        // A reader of one page starts afresh: `../handout` is new on each.
        let this_page = cmd.place.rsplit_once(':').map_or("", |(f, _)| f);
        if this_page != page {
            page = this_page;
            let _ = std::fs::remove_dir_all(target_dir().join("docs-commands"));
        }
        let line = match plan(cmd, &ci_lines, names) {
            Plan::Skip(why) => {
                println!("{}: skipped ({why}): {}", cmd.place, cmd.text);
                continue;
            }
            Plan::Run(line) => line,
        };
        let ran = run(&line, Duration::from_secs(900));
        let shown = if line == cmd.text {
            String::new()
        } else {
            format!(" (as: {line})")
        };
        match verdict(cmd, &line, &ran) {
            None => println!(
                "{}: ok in {:.1} s: {}{shown}",
                cmd.place,
                ran.took.as_secs_f64(),
                cmd.text
            ),
            Some(why) => {
                let tail: Vec<&str> = ran.output.lines().rev().take(25).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                println!("{}: FAILED ({why}): {}{shown}", cmd.place, cmd.text);
                failures.push(format!(
                    "{}: {}{shown}\n  {why}\n  output (last lines):\n    {}",
                    cmd.place,
                    cmd.text,
                    tail.join("\n    ")
                ));
            }
        }
        // What the command wrote into the tree (`--html backup.html`):
        // new untracked files it names.
        for path in untracked() {
            if !before.contains(&path) && line.split_whitespace().any(|w| w == path) {
                let _ = std::fs::remove_file(root().join(&path));
            }
        }
    }
    failures
}

/// `lab list LAB`: the lab's tests, sorted.
fn lab_tests(lab: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["list", lab])
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("lab list runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect()
}

/// The markdown files whose commands are checked, relative to the root.
fn doc_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| {
            e.ok()?
                .path()
                .strip_prefix(&root)
                .ok()
                .map(Path::to_path_buf)
        })
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut readmes: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the root")
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let readme = dir.join("README.md");
            readme
                .is_file()
                .then(|| readme.strip_prefix(&root).ok().map(Path::to_path_buf))?
        })
        .collect();
    readmes.sort();
    files.extend(readmes);
    files
}

/// The README a handout gets, written by `lab handout` into a scratch
/// directory.
fn handout_readme() -> String {
    let dir = target_dir().join("docs-handout");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .arg("handout")
        .arg(&dir)
        .current_dir(root())
        .output()
        .expect("lab handout runs");
    assert!(
        out.status.success(),
        "lab handout: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("README.md")).expect("the handout's README")
}

/// The test counts a page states (`PASSED: raft 39/39`, `raft: 39 tests
/// passed`) that are not the lab's: `place: what`.
fn wrong_counts(file: &str, text: &str, names: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let stated = if let Some(rest) = line.strip_prefix("PASSED: ") {
            rest.split_once(' ').and_then(|(lab, n)| {
                let (a, b) = n.split_once('/')?;
                Some((lab, a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
            })
        } else if let Some((lab, rest)) = line.split_once(": ")
            && let Some(n) = rest
                .strip_suffix(" tests passed")
                .or_else(|| rest.split_once(" tests passed on all").map(|(n, _)| n))
        {
            n.parse::<usize>().ok().map(|n| (lab, n, n))
        } else {
            None
        };
        let Some((lab, a, b)) = stated else { continue };
        let real = names(lab).len();
        if a != real || b != real {
            wrong.push(format!(
                "{file}:{}: says {lab} has {b} tests; lab list {lab} lists {real}",
                i + 1
            ));
        }
    }
    wrong
}

#[test]
#[ignore = "runs every command the docs show (builds the dev profile too, several minutes): .ci/run runs it"]
fn every_documented_command_works() {
    let mut commands = Vec::new();
    let mut counts = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        commands.extend(extract(&file.display().to_string(), &text));
        counts.extend(wrong_counts(&file.display().to_string(), &text, &lab_tests));
    }
    assert!(
        counts.is_empty(),
        "test counts in the docs are wrong:\n{}",
        counts.join("\n")
    );
    // The handout's commands name the same crates and tests as this
    // workspace's, so they run here (in a handout the tests would fail:
    // nothing is implemented).
    commands.extend(extract(HANDOUT_PAGE, &handout_readme()));
    assert!(
        commands.len() > 50,
        "only {} commands found",
        commands.len()
    );
    let failures = check(&commands, &lab_tests);
    assert!(
        failures.is_empty(),
        "{} of {} documented commands do not work:\n\n{}",
        failures.len(),
        commands.len(),
        failures.join("\n\n")
    );
}

#[test]
fn commands_are_found_with_their_lines_comments_and_expected_codes() {
    let md = "# Title\n\ntext\n\n```sh\ncargo test -p raft 3a   # one part\n\
              lincheck --model kv x.jsonl  # exit 1: a stale read\n\
              cargo run -p lab -- grade raft \\\n  --seeds 100\n\n# a comment\n```\n\n\
              ```text\ncargo test -p nothing\n```\n";
    let found = extract("x.md", md);
    let want = [
        ("x.md:6", "cargo test -p raft 3a", 0),
        ("x.md:7", "lincheck --model kv x.jsonl", 1),
        ("x.md:8", "cargo run -p lab -- grade raft --seeds 100", 0),
    ];
    assert_eq!(found.len(), want.len(), "{found:?}");
    for (f, (place, text, expect)) in found.iter().zip(want) {
        assert_eq!(
            (f.place.as_str(), f.text.as_str(), f.expect),
            (place, text, expect)
        );
    }
    assert_eq!(
        split_comment("echo '#not' # yes"),
        ("echo '#not' ", Some(" yes"))
    );
    let loop_md = "```sh\nexport A=1\nfor p in a b; do\n  echo $p\ndone\necho after\n```\n";
    let found = extract("y.md", loop_md);
    let texts: Vec<&str> = found.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "export A=1",
            "for p in a b; do\necho $p\ndone",
            "echo after"
        ]
    );
    assert_eq!(found[1].place, "y.md:3");
}

#[test]
fn stated_test_counts_are_compared_with_the_lab() {
    let names = |lab: &str| match lab {
        "raft" => vec!["a_3a".to_string(), "b_3b".to_string()],
        _ => Vec::new(),
    };
    let page = "x\nraft: 2 tests passed on all 100 seeds (grade 2/2)\nPASSED: raft 2/2\n\
                PASSED: raft 31/31\n";
    assert_eq!(
        wrong_counts("p.md", page, &names),
        ["p.md:4: says raft has 31 tests; lab list raft lists 2"]
    );
}

#[test]
fn placeholders_become_real_names_and_long_runs_shorter() {
    let names = |lab: &str| {
        assert_eq!(lab, "raft");
        vec!["backup_3b".to_string(), "zzz_3c".to_string()]
    };
    let cmd = |text: &str| DocCommand {
        place: "x.md:1".into(),
        text: text.into(),
        expect: 0,
    };
    let run = |text: &str| plan(&cmd(text), &[], &names);
    assert_eq!(
        run("LAB_SEED=7 cargo test -p raft -- TEST --exact"),
        Plan::Run("LAB_SEED=7 cargo test -p raft -- backup_3b --exact".into())
    );
    assert_eq!(
        run("cargo run --release -p lab -- replay raft TEST --seed 7"),
        Plan::Run("cargo run --release -p lab -- replay raft backup_3b --seed 7".into())
    );
    assert_eq!(
        run("cargo test -p raft PART"),
        Plan::Run("cargo test -p raft 3b".into())
    );
    assert_eq!(
        run("LAB_RUNS=500 cargo run --release -p lab -- grade raft --seeds 1000"),
        Plan::Run("LAB_RUNS=2 cargo run --release -p lab -- grade raft --seeds 2".into())
    );
    assert_eq!(
        run("cargo install cargo-mutants --locked"),
        Plan::Skip("installs a tool from the network")
    );
    assert_eq!(
        plan(
            &cmd("cargo fmt --all --check"),
            &["cargo fmt --all --check".into()],
            &names
        ),
        Plan::Skip("a step of .ci/run, which runs it as it is")
    );
}

/// The checker on planted commands: a test filter that selects nothing
/// (the form that once passed while running nothing) and a wrong
/// subcommand are both reported with their place; a right one passes.
#[test]
fn a_planted_wrong_command_is_reported_with_its_place() {
    let profile = profile_flag();
    let md = format!(
        "```sh\ncargo test -p lab{profile} --test fixture -- no_such_test --exact\n\
         cargo run -q{profile} -p lab -- no-such-command\n\
         cargo test -p lab{profile} --test fixture -- fixture_steady --exact\n\
         cargo run -q{profile} -p lab -- no-such-command   # exit 2\n```\n"
    );
    let commands = extract("planted.md", &md);
    let failures = check(&commands, &|_| Vec::new());
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].starts_with(&format!(
            "planted.md:2: cargo test -p lab{profile} --test fixture -- no_such_test --exact\n  \
             ran no test"
        )),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].starts_with(&format!(
            "planted.md:3: cargo run -q{profile} -p lab -- no-such-command\n  exit 2, expected 0"
        )),
        "{}",
        failures[1]
    );
}
