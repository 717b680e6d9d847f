//! The real `hindsight` binary, for tests that need a separate process: crash recovery
//! under `kill -9`, starting from an empty directory, command-line administration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::DEADLINE;

/// The server binary: `HINDSIGHT_BIN` (set by `cargo xtask test`) or the debug build
/// beside this test's own executable.
pub fn server_binary() -> PathBuf {
    let path = std::env::var_os("HINDSIGHT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("hindsight")
        });
    assert!(
        path.exists(),
        "server binary {} not found; run `cargo build -p hindsight-server` or `cargo xtask test`",
        path.display()
    );
    path
}

/// Runs the binary to completion (an admin command, or a start that must fail), with no
/// data directory or database from the environment: only what `args` say.
pub async fn run<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(server_binary())
        .args(args)
        .env_remove("HINDSIGHT_DATA_DIR")
        .env_remove("HINDSIGHT_DATABASE")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(DEADLINE, output)
        .await
        .expect("hindsight finished in time")
        .expect("run hindsight")
}

/// A running binary, its address and everything it has logged so far.
pub struct Spawned {
    /// Killed when dropped.
    pub child: Child,
    pub addr: SocketAddr,
    /// Everything the server logged (its standard error) so far.
    pub log: Arc<Mutex<String>>,
}

/// Starts the binary in `cwd` on a free port with `args`, and waits for its banner.
pub async fn spawn(cwd: &Path, args: &[&str]) -> Spawned {
    let mut child = Command::new(server_binary())
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .current_dir(cwd)
        .env_remove("HINDSIGHT_ASSETS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start hindsight");
    let log = Arc::new(Mutex::new(String::new()));
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = Arc::clone(&log);
    // Collects the log until the process exits, so the pipe never fills.
    tokio::spawn(async move {
        while let Ok(Some(line)) = errors.next_line().await {
            let mut log = sink.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Hindsight is running at http://") {
                return url
                    .trim_end_matches('/')
                    .parse()
                    .expect("address in banner");
            }
        }
        panic!("server exited before printing its address");
    })
    .await
    .expect("server banner");
    // Keeps draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Spawned { child, addr, log }
}
