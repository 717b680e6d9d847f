//! `cargo xtask fuzz [--seconds N]`: runs each cargo-fuzz target (`fuzz/fuzz_targets`) for
//! N seconds (default 60), starting from the committed seed corpus in
//! `fuzz/corpus/<target>`. New inputs go to a scratch corpus under the target directory,
//! so the committed seeds only change by hand. Installs cargo-fuzz (crates.io) once; the
//! targets build on the nightly toolchain, without a sanitizer (our code is safe Rust;
//! the targets look for panics and broken invariants, and run faster that way).

use crate::cmd::{self, Result};
use crate::workspace::Workspace;

const TARGETS: [&str; 2] = ["decode", "receive"];

pub fn fuzz(ws: &Workspace, args: Vec<String>) -> Result {
    let seconds = match args.as_slice() {
        [] => 60,
        [flag, n] if flag == "--seconds" => n
            .parse::<u64>()
            .map_err(|_| format!("--seconds takes a whole number, not `{n}`"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".into()),
    };
    ensure_cargo_fuzz()?;
    let fuzz_dir = ws.root.join("fuzz");
    for target in TARGETS {
        let scratch = ws.target_dir().join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("create {}: {e}", scratch.display()))?;
        let seeds = fuzz_dir.join("corpus").join(target);
        println!("==> fuzzing `{target}` for {seconds} s");
        cmd::run(
            cmd::cmd("cargo")
                .args(["+nightly", "fuzz", "run", "-O", "-s", "none", target])
                .arg(&scratch)
                .arg(&seeds)
                .args(["--", &format!("-max_total_time={seconds}")])
                .env("CARGO_TARGET_DIR", ws.target_dir().join("fuzz"))
                .current_dir(&fuzz_dir),
        )?;
    }
    Ok(())
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
