//! `cargo xtask fuzz [--seconds N]`: runs each cargo-fuzz target (`fuzz/fuzz_targets`) for
//! N seconds (default 60), starting from the committed seed corpus in
//! `fuzz/corpus/<target>`. New inputs go to a scratch corpus under the target directory,
//! so the committed seeds only change by hand. Installs cargo-fuzz (crates.io) once; the
//! targets build on the nightly toolchain, without a sanitizer (our code is safe Rust;
//! the targets look for panics and broken invariants, and run faster that way).

use std::process::Command;

use crate::cmd::{self, Result};
use crate::workspace::Workspace;

pub const TARGETS: [&str; 4] = ["decode", "receive", "presence", "import"];
/// How `cargo xtask test` names the step that fuzzes each of [`TARGETS`].
pub const STEP_NAMES: [&str; 4] = [
    "fuzz decode",
    "fuzz receive",
    "fuzz presence",
    "fuzz import",
];

/// How long `cargo xtask test` fuzzes each target: enough to replay the seed corpus and
/// explore around it, short enough for every run.
pub const SHORT_RUN_SECONDS: u64 = 15;

pub fn fuzz(ws: &Workspace, args: Vec<String>) -> Result {
    let seconds = match args.as_slice() {
        [] => 60,
        [flag, n] if flag == "--seconds" => n
            .parse::<u64>()
            .map_err(|_| format!("--seconds takes a whole number, not `{n}`"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".into()),
    };
    ensure_tools()?;
    for target in TARGETS {
        println!("==> fuzzing `{target}` for {seconds} s");
        cmd::run(&mut run(ws, target, seconds)?)?;
    }
    Ok(())
}

/// The command that fuzzes `target` for `seconds` from the committed seeds. New inputs go
/// to a scratch corpus in the target directory; a finding fails the command and is saved
/// under `fuzz/artifacts/`.
pub fn run(ws: &Workspace, target: &str, seconds: u64) -> Result<Command> {
    let fuzz_dir = ws.root.join("fuzz");
    let scratch = ws.target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("create {}: {e}", scratch.display()))?;
    let mut command = cmd::cmd("cargo");
    command
        .args(["+nightly", "fuzz", "run", "-O", "-s", "none", target])
        .arg(&scratch)
        .arg(fuzz_dir.join("corpus").join(target))
        .args(["--", &format!("-max_total_time={seconds}")])
        .env("CARGO_TARGET_DIR", ws.target_dir().join("fuzz"))
        .current_dir(&fuzz_dir);
    Ok(command)
}

/// The nightly toolchain (which cargo-fuzz needs; it cannot be downloaded here) and
/// cargo-fuzz itself, installed from crates.io on first use.
pub fn ensure_tools() -> Result {
    let nightly = cmd::stdout_of(cmd::cmd("rustup").args(["toolchain", "list"]))
        .is_some_and(|list| list.lines().any(|t| t.starts_with("nightly")));
    if !nightly {
        return Err(
            "fuzzing needs the nightly toolchain: `rustup toolchain install nightly`".into(),
        );
    }
    ensure_cargo_fuzz()
}

fn ensure_cargo_fuzz() -> Result {
    let installed = cmd::find("cargo-fuzz").is_some()
        || cmd::cargo_bin_dir().is_some_and(|d| cmd::is_executable(&d.join("cargo-fuzz")));
    if installed {
        return Ok(());
    }
    println!("cargo-fuzz: installing (cargo install, a few minutes)");
    cmd::run(cmd::cargo().args(["install", "cargo-fuzz", "--locked"]))
}
