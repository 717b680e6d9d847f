//! The Node interop peer (`tests/interop/peer.mjs`), built on stock `yjs` and
//! `y-websocket`: how tests find it and run it. Its packages are installed by
//! `cargo xtask test`; without them tests fail with instructions rather than skip.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hindsight_shared::BoardId;
use tokio::process::Command;

/// Longer than the peer's own overall deadline, so the peer reports its timeouts itself.
const PEER_TIMEOUT: Duration = Duration::from_secs(40);

/// Where `peer.mjs` and its `node_modules` are.
pub fn interop_dir() -> PathBuf {
    let dir = std::env::var_os("HINDSIGHT_INTEROP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("interop"));
    for package in ["yjs", "y-websocket", "ws"] {
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "the Node interop peer's packages are not installed in {}; run `cargo xtask test`, \
             or `npm ci` in that directory",
            dir.display()
        );
    }
    dir
}

/// Runs `node peer.mjs <ws_base> <board> <token> <args…>` to completion and returns its
/// stdout, failing the test with the peer's stderr if it fails.
pub async fn peer(ws_base: &str, board: &BoardId, token: &str, args: &[&str]) -> String {
    let output = run_peer(ws_base, board, token, args).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`node peer.mjs {args:?}` failed ({}):\n{stderr}",
        output.status
    );
    String::from_utf8(output.stdout).expect("the peer prints UTF-8")
}

/// Runs the peer expecting it to fail; returns what it wrote on stderr.
pub async fn failing_peer(ws_base: &str, board: &BoardId, token: &str, args: &[&str]) -> String {
    let output = run_peer(ws_base, board, token, args).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "`node peer.mjs {args:?}` should have failed: {output:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn run_peer(
    ws_base: &str,
    board: &BoardId,
    token: &str,
    args: &[&str],
) -> std::process::Output {
    let mut command = Command::new("node");
    command
        .arg("peer.mjs")
        .arg(ws_base)
        .arg(board.to_string())
        .arg(token)
        .args(args)
        .current_dir(interop_dir())
        // Dropped on timeout: the child must not outlive the test.
        .kill_on_drop(true);
    tokio::time::timeout(PEER_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("`node peer.mjs {args:?}` still running after {PEER_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("cannot run `node` (the interop tests need Node.js 20+): {e}"))
}
