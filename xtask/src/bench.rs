//! `cargo xtask bench [--quick] [-- BENCH ARGS]`: build Hindsight and its client in
//! release mode, install the servers it is compared with (npm packages in `bench/peers`,
//! y-sweet with `cargo install` into `bench/.tools`) and PostgreSQL, then run `hindsight-bench`, which
//! starts every server on 127.0.0.1, loads it and prints the table. Owns the
//! installation; the measuring is `bench/`'s.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::{self, Result};
use crate::run;
use crate::tools;
use crate::workspace::Workspace;

const Y_SWEET_VERSION: &str = "0.9.1";

pub fn bench(ws: &Workspace, args: Vec<String>) -> Result {
    let mut bench_args: Vec<String> = Vec::new();
    for arg in args.into_iter().filter(|a| a != "--") {
        bench_args.push(arg);
    }

    tools::ensure_build_tools(ws)?;
    let browser = tools::ensure_test_tools(ws)?;
    // Hindsight on PostgreSQL runs on a cluster the harness starts, as the tests' does.
    tools::postgresql()?;
    peer_packages(ws)?;
    // y-sweet takes many minutes to build; without it the table says why.
    let y_sweet = y_sweet(ws);

    let (hindsight, harness) = build_harness(ws)?;
    let mut run = cmd::cmd(harness);
    run.arg("run")
        .arg("--hindsight")
        .arg(&hindsight)
        .arg("--dist")
        .arg(ws.dist())
        .arg("--peers")
        .arg(peers_dir(ws))
        .arg("--chromium")
        .arg(&browser.chromium)
        .arg("--chromedriver")
        .arg(&browser.chromedriver);
    match y_sweet {
        Ok(path) => run.arg("--y-sweet").arg(path),
        Err(why) => run.arg("--y-sweet-unavailable").arg(why),
    };
    if let Some(bin) = tools::postgres_bin() {
        run.env("HINDSIGHT_PG_BIN", bin);
    }
    run.args(&bench_args).current_dir(&ws.root);
    cmd::run(&mut run)
}

fn peers_dir(ws: &Workspace) -> PathBuf {
    ws.root.join("bench").join("peers")
}

/// `npm ci` in `bench/peers` unless its packages are newer than its lock file.
fn peer_packages(ws: &Workspace) -> Result {
    let dir = peers_dir(ws);
    let lock = dir.join("package-lock.json");
    // npm writes this after a successful install; its age tells whether one is needed.
    let installed = dir.join("node_modules").join(".package-lock.json");
    if modified(&installed).is_some_and(|i| modified(&lock).is_some_and(|l| i >= l)) {
        println!("tool  {:<24} ok", "benchmark peers (npm)");
        return Ok(());
    }
    let npm = cmd::find("npm").ok_or(
        "the benchmark's Node peers need Node.js 20 and npm \
         (e.g. `apt-get install -y nodejs npm`)",
    )?;
    println!(
        "tool  {:<24} installing packages (npm ci; sqlite3 builds from source)",
        "benchmark peers (npm)"
    );
    cmd::run(
        cmd::cmd(npm)
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )
}

/// The y-sweet binary, installed once into `bench/.tools/y-sweet`, or why there is none.
fn y_sweet(ws: &Workspace) -> std::result::Result<PathBuf, String> {
    let root = ws.root.join("bench").join(".tools").join("y-sweet");
    let binary = root.join("bin").join("y-sweet");
    let installed_version = cmd::stdout_of(cmd::cmd(&binary).arg("version"));
    if installed_version.is_some_and(|v| v.contains(Y_SWEET_VERSION)) {
        println!("tool  {:<24} ok", "y-sweet");
        return Ok(binary);
    }
    println!(
        "tool  {:<24} installing {Y_SWEET_VERSION} (cargo install, many minutes)",
        "y-sweet"
    );
    let install = |locked: bool| {
        let mut command = cmd::cargo();
        command
            .args(["install", "y-sweet", "--version", Y_SWEET_VERSION, "--root"])
            .arg(&root);
        if locked {
            command.arg("--locked");
        }
        cmd::run(&mut command)
    };
    // The registry mirror can lack a version y-sweet's lock file names.
    install(true)
        .or_else(|e| {
            println!("{e}; retrying without --locked");
            install(false)
        })
        .map_err(|e| format!("y-sweet {Y_SWEET_VERSION} did not build: {e}"))?;
    if cmd::is_executable(&binary) {
        Ok(binary)
    } else {
        Err(format!(
            "cargo install finished but {} is missing",
            binary.display()
        ))
    }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Builds the release server (with its client) and the bench harness; returns both
/// binaries, for `bench` and `soak`.
pub fn build_harness(ws: &Workspace) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let hindsight = run::build_release(ws)?;
    cmd::run(
        cmd::cargo()
            .args(["build", "--release", "-p", "hindsight-bench"])
            .current_dir(&ws.root),
    )?;
    Ok((
        hindsight,
        ws.target_dir().join("release").join("hindsight-bench"),
    ))
}
