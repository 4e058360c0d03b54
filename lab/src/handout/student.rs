//! The files a handout gets anew: the student's README and CI script.

/// The handout's README, for the labs given as (crate, title).
pub fn readme(labs: &[(String, String)]) -> String {
    let mut s = String::new();
    s.push_str(
        "# distlab: your labs\n\n\
         Distributed-systems labs in Rust, in the style of MIT 6.5840 (6.824), on a\n\
         deterministic simulated network: one seed fixes a whole run — every message drop,\n\
         delay, partition, crash and timer — so a failing test replays exactly.\n\n\
         ```sh\n\
         cargo build --workspace --all-targets     # everything builds as handed out\n\
         cargo test --workspace --release          # and every lab test fails: that is your work\n\
         ```\n\n\
         ## The labs\n\n\
         Each lab's page says what to build, part by part, which files are yours, the API the\n\
         grader uses, and hints.\n\n\
         | lab | page |\n| --- | --- |\n",
    );
    for (name, title) in labs {
        s.push_str(&format!(
            "| {title} | [`{name}/README.md`]({name}/README.md) |\n"
        ));
    }
    let first = labs.first().map_or("raft", |(n, _)| n.as_str());
    s.push_str(&format!(
        "\n## Grading yourself\n\n\
         The grader of a lab is its `tests/` directory; test names end with their part.\n\n\
         ```sh\n\
         cargo test -p {first}                       # the whole lab\n\
         cargo test -p raft 3a                       # one part (raft, if you have it)\n\
         LAB_SEED=7 cargo test -p {first} -- NAME --exact   # one test, one seed\n\
         cargo run --release -p lab -- grade {first} --seeds 100   # many seeds in parallel\n\
         cargo run --release -p lab -- replay {first} NAME --seed 7 --html run.html   # a failing seed, with a picture\n\
         ```\n\n\
         A failing test prints its seed, the virtual time, the node and the command that\n\
         replays it. A stub you have not written yet fails at once with\n\
         `not implemented yet: <lab> <part> — <file>`.\n\n\
         `cargo test` runs the tests in the dev profile (your code optimised a little, built\n\
         incrementally: the fastest edit-to-result loop); add `--release` for speed on long runs.\n\n\
         ## The rules\n\n\
         - Write your code in the files your lab's page calls yours. Do not change the\n\
           framework (`labcodec`, `labrpc`, `labtest`, `linearizability`, `lab`, any\n\
           `src/framework/`) or the graders (`tests/`): the course grades your files with its own\n\
           copies of those.\n\
         - Code that runs in the simulation must be deterministic: use `labrpc::time` (virtual\n\
           time), `labrpc::task::spawn` (not `std::thread`), `labrpc::rand` (seeded), and\n\
           `BTreeMap`/`Vec` where iteration order matters (not `HashMap`). `clippy.toml` flags the\n\
           rest; `LAB_DETERMINISM=1 cargo test -p LAB` runs each seed twice and compares.\n\
         - `.ci/run` checks formatting, lints and tests, as the course's CI will.\n\n\
         ## The framework\n\n\
         - `docs/` explains the simulator (its network, its numbers), determinism, and the\n\
           history format of the linearizability checker.\n\
         - `cargo doc --open -p labrpc` is the API reference of the simulator.\n"
    ));
    s
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
