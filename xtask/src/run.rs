//! `cargo xtask run`: build the client and the server in release mode, then become the
//! server. Owns nothing once the server starts.

use std::path::PathBuf;
use std::process::Command;

use crate::cmd::{self, Result};
use crate::tools;
use crate::workspace::Workspace;

/// Builds the release client with Trunk, then the release server, which embeds it
/// (server/build.rs); returns the server binary. `cargo xtask bench` builds the same way.
pub fn build_release(ws: &Workspace) -> Result<PathBuf> {
    cmd::run(
        cmd::cmd("trunk")
            .args(["build", "--release"])
            .current_dir(&ws.root),
    )?;
    cmd::run(
        cmd::cargo()
            .args([
                "build",
                "--release",
                "-p",
                "hindsight-server",
                "--bin",
                "hindsight",
            ])
            .current_dir(&ws.root),
    )?;
    let binary = ws.target_dir().join("release").join("hindsight");
    if !cmd::is_executable(&binary) {
        return Err(format!(
            "the server was built but {} is missing",
            binary.display()
        ));
    }
    Ok(binary)
}

pub fn run(ws: &Workspace, mut server_args: Vec<String>) -> Result {
    // `cargo xtask run -- --addr …` arrives here as `-- --addr …`.
    if server_args.first().map(String::as_str) == Some("--") {
        server_args.remove(0);
    }
    tools::ensure_build_tools(ws)?;
    let binary = build_release(ws)?;
    let mut server = Command::new(&binary);
    server.args(&server_args).current_dir(&ws.root);
    println!("$ {}", cmd::display(&server));
    exec_server(server)
}

/// Replaces this process with the server, so Ctrl-C and signals reach it directly.
#[cfg(unix)]
fn exec_server(mut server: Command) -> Result {
    use std::os::unix::process::CommandExt;
    let error = server.exec();
    Err(format!("could not start the server: {error}"))
}

#[cfg(not(unix))]
fn exec_server(mut server: Command) -> Result {
    let status = server
        .status()
        .map_err(|e| format!("could not start the server: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server exited with {status}"))
    }
}
