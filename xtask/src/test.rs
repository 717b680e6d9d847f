//! `cargo xtask test`: everything CI checks, as one ordered list of steps that stops at the
//! first failure and ends with a summary. What the steps are is in [`steps`]; how they run
//! is in [`test`].

use std::process::Command;
use std::time::{Duration, Instant};

use crate::cmd::{self, Result};
use crate::fuzz;
use crate::tools::{self, Browser};
use crate::workspace::Workspace;

struct Step {
    name: &'static str,
    /// What to do when the step fails, beyond reading its output.
    hint: &'static str,
    command: Command,
    /// The step runs libtest binaries, whose results are added up for the summary.
    runs_tests: bool,
}

fn steps(ws: &Workspace, browser: &Browser) -> Result<Vec<Step>> {
    let cargo = |args: &[&str]| {
        let mut command = cmd::cargo();
        command.args(args).current_dir(&ws.root);
        command
    };
    let mut trunk = cmd::cmd("trunk");
    trunk.args(["build", "--release"]).current_dir(&ws.root);
    // The binary embeds the client (server/build.rs), so it is built after Trunk, from
    // the default `dist` the tests use too. No step sets `HINDSIGHT_DIST`: the build
    // script reruns when that variable changes, so setting it here but not in a plain
    // `cargo build` would make the two rebuild the server each time they alternate.
    let server = cargo(&["build", "-p", "hindsight-server", "--bin", "hindsight"]);
    let mut tests = cargo(&["test", "--workspace"]);
    tests
        .env(
            "HINDSIGHT_BIN",
            ws.target_dir().join("debug").join("hindsight"),
        )
        .env("CHROMEDRIVER", &browser.chromedriver)
        .env("CHROMIUM", &browser.chromium)
        .env("HINDSIGHT_INTEROP_DIR", ws.interop());
    if let Some(bin) = tools::postgres_bin() {
        tests.env("HINDSIGHT_PG_BIN", bin);
    }
    let fuzzing = fuzz::TARGETS
        .into_iter()
        .zip(fuzz::STEP_NAMES)
        .map(|(target, name)| {
            Ok(Step {
                name,
                hint: FUZZ_HINT,
                command: fuzz::run(ws, target, fuzz::SHORT_RUN_SECONDS)?,
                runs_tests: false,
            })
        })
        .collect::<Result<Vec<Step>>>()?;

    Ok([
        Step {
            name: "rustfmt",
            hint: "run `cargo fmt --all` to fix the formatting",
            command: cargo(&["fmt", "--all", "--", "--check"]),
            runs_tests: false,
        },
        Step {
            name: "clippy",
            hint: "fix the warnings above; CI treats every clippy warning as an error",
            command: cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
            runs_tests: false,
        },
        Step {
            name: "clippy (wasm32)",
            hint: "fix the client warnings above, as the browser build sees them",
            command: cargo(&[
                "clippy",
                "-p",
                "hindsight-client",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ]),
            runs_tests: false,
        },
        Step {
            name: "client build",
            hint: "`trunk build --release` must succeed; see Trunk.toml and index.html",
            command: trunk,
            runs_tests: false,
        },
        Step {
            name: "server binary",
            hint: "the crash and operations tests run the real `hindsight` binary; it must build",
            command: server,
            runs_tests: false,
        },
        Step {
            name: "tests",
            hint: "rerun one failing test with `cargo test -p <crate> --test <target> <name>` \
                   (the end-to-end tests are one target, `it`: `--test it sync::`)",
            command: tests,
            runs_tests: true,
        },
    ]
    .into_iter()
    .chain(fuzzing)
    .collect())
}

const FUZZ_HINT: &str = "the input that failed is in fuzz/artifacts/; replay it with \
    `cd fuzz && cargo +nightly fuzz run -O -s none TARGET FILE` (FUZZ_PANICS=1 prints why), \
    and add it to fuzz/corpus/TARGET once fixed";

enum Outcome {
    Passed(Duration),
    Failed(Duration),
    Skipped,
}

pub fn test(ws: &Workspace) -> Result {
    let started = Instant::now();
    tools::ensure_build_tools(ws)?;
    let browser = tools::ensure_test_tools(ws)?;
    fuzz::ensure_tools()?;

    let mut steps = steps(ws, &browser)?;
    let count = steps.len();
    let mut outcomes = Vec::with_capacity(count);
    let mut tally = Tally::default();
    let mut failure = None;
    for (i, step) in steps.iter_mut().enumerate() {
        if failure.is_some() {
            outcomes.push(Outcome::Skipped);
            continue;
        }
        println!("\n==> [{}/{count}] {}", i + 1, step.name);
        let step_started = Instant::now();
        let result = if step.runs_tests {
            cmd::run_capturing(&mut step.command).map(|out| tally.add(&out))
        } else {
            cmd::run(&mut step.command)
        };
        let took = step_started.elapsed();
        match result {
            Ok(()) => {
                println!("==> {} passed in {}", step.name, cmd::elapsed(took));
                outcomes.push(Outcome::Passed(took));
            }
            Err(e) => {
                println!("==> {} FAILED after {}", step.name, cmd::elapsed(took));
                outcomes.push(Outcome::Failed(took));
                failure = Some(format!("step `{}` failed: {e}\n{}", step.name, step.hint));
            }
        }
    }

    println!("\nsummary:");
    for (step, outcome) in steps.iter().zip(&outcomes) {
        let (label, took) = match outcome {
            Outcome::Passed(d) => ("ok", cmd::elapsed(*d)),
            Outcome::Failed(d) => ("FAILED", cmd::elapsed(*d)),
            Outcome::Skipped => ("skipped", String::new()),
        };
        println!("  {label:<8} {:<16} {took:>8}", step.name);
    }
    println!("  total {:>33}", cmd::elapsed(started.elapsed()));
    if tally.binaries > 0 {
        println!(
            "  tests: {} passed, {} failed, {} ignored, in {} test binaries",
            tally.passed, tally.failed, tally.ignored, tally.binaries
        );
    }
    failure.map_or(Ok(()), Err)
}

/// The sum of libtest's `test result:` lines.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
    binaries: u64,
}

impl Tally {
    /// Adds every `test result: ok. 3 passed; 0 failed; 1 ignored; …` line of `output`.
    fn add(&mut self, output: &str) {
        for line in output.lines() {
            let Some(result) = line.trim().strip_prefix("test result: ") else {
                continue;
            };
            self.binaries += 1;
            for part in result.split(['.', ';']) {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(what)) = (words.next(), words.next()) {
                    let Ok(n) = n.parse::<u64>() else { continue };
                    match what {
                        "passed" => self.passed += n,
                        "failed" => self.failed += n,
                        "ignored" => self.ignored += n,
                        _ => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_results_are_added_up() {
        let mut tally = Tally::default();
        tally.add(
            "running 2 tests\ntest a ... ok\n\
             test result: ok. 46 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.07s\n\
             test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n\
             a line about a test result: that is not one\n",
        );
        assert_eq!(
            tally,
            Tally {
                passed: 49,
                failed: 2,
                ignored: 1,
                binaries: 2
            }
        );
    }
}
