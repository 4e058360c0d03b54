//! The files a handout gets anew: the student's README and CI script.

/// The README's text; `{LABS}` is the table of labs, `{LAB}` the lab the
/// examples use.
const README: &str = r#"# distlab: your labs

Distributed-systems labs in Rust, in the style of MIT 6.5840 (6.824), on a deterministic
simulated network: one seed fixes a whole run — every message drop, delay, partition, crash
and timer — so a failing test replays exactly.

```sh
cargo build --workspace --all-targets     # everything builds as handed out
cargo test --workspace                    # and every lab's grader fails: that is your work
```

## The labs

Each lab's page says what to build, part by part, which files are yours, the API the grader
uses, and hints.

| lab | page |
| --- | --- |
{LABS}
## Grading yourself

A lab's grader is its `tests/grader/`; test names end with their part.

```sh
cargo test -p {LAB}                                 # the whole lab
cargo test -p {LAB} PART                            # one part, e.g. 3a for raft
LAB_SEED=7 cargo test -p {LAB} -- TEST --exact      # one test, one seed
RUST_LOG=debug LAB_SEED=7 cargo test -p {LAB} -- TEST --exact --nocapture
cargo run --release -p lab -- grade {LAB} --seeds 100          # many seeds, in parallel
cargo run --release -p lab -- replay {LAB} TEST --seed 7       # one seed: logs, trace, picture
```

A failing test prints its seed, the virtual time, the node and the command that replays
it. A stub you have not written yet fails at once with
`not implemented yet: <lab> <part> — <file>`.

`cargo test` builds in the dev profile: your code optimised a little and compiled
incrementally, so a change is tested within seconds. Add `--release` for long runs of many
seeds (`LAB_RUNS=100`).

## The rules

- Write your code in the files your lab's page calls yours. Do not change the framework
  (`labcodec`, `labrpc`, `labtest`, `linearizability`, `lab`, any `src/framework/`) or the
  graders (`tests/`): your files are graded with the course's copies of those.
- Code that runs in the simulation must be deterministic: `labrpc::time` (virtual time),
  `labrpc::task::spawn` (not `std::thread`), `labrpc::rand` (seeded), and `BTreeMap` or
  `Vec` where order matters (not `HashMap`). `clippy.toml` flags the rest, and
  `LAB_DETERMINISM=1 cargo test -p LAB` runs each seed twice and compares the runs.
- `.ci/run` checks formatting, lints and tests, as the course's CI will.

## The framework

- `docs/simulator.md`: the simulator — tasks, virtual time, nodes, the network and its
  numbers, how failures are reported.
- `docs/determinism.md`: the rules above, and how they are checked.
- `docs/history-format.md`: the histories the linearizability checker reads.
- `cargo doc --open -p labrpc`: the simulator's API.
"#;

/// The handout's README, for the labs given as (crate, title).
pub fn readme(labs: &[(String, String)]) -> String {
    let table: String = labs
        .iter()
        .map(|(name, title)| format!("| {title} | [`{name}/README.md`]({name}/README.md) |\n"))
        .collect();
    let example = labs
        .iter()
        .map(|(n, _)| n.as_str())
        .find(|&n| n == "raft")
        .or_else(|| labs.first().map(|(n, _)| n.as_str()))
        .unwrap_or("raft");
    README.replace("{LABS}", &table).replace("{LAB}", example)
}

/// The handout's CI script: formatting, lints, tests.
pub fn ci() -> String {
    "#!/usr/bin/env bash\n\
     # Formatting, lints (with the determinism lints of clippy.toml), then every test.\n\
     set -euo pipefail\n\
     cd \"$(dirname \"$0\")/..\"\n\
     cargo fmt --all --check\n\
     cargo clippy --workspace --all-targets -- -D warnings\n\
     cargo test --workspace --release\n"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_the_labs_and_uses_raft_for_examples_when_it_can() {
        let labs = [
            ("kvsrv".to_string(), "Lab 2: kvsrv".to_string()),
            ("raft".to_string(), "Lab 3: Raft".to_string()),
        ];
        let r = readme(&labs);
        assert!(r.contains("| Lab 2: kvsrv | [`kvsrv/README.md`](kvsrv/README.md) |\n| Lab 3"));
        assert!(r.contains("cargo test -p raft -- TEST"));
        assert!(!r.contains("{LAB"), "{r}");
        let r = readme(&labs[..1]);
        assert!(r.contains("cargo test -p kvsrv "));
    }
}
