//! `cargo xtask crash [--cycles N] [--seed S] [--compact-every K]`: the random-kill crash
//! test at length. Builds the server binary, then runs the `crash` binary of the tests
//! crate (`tests/src/bin/crash.rs`, logic in `tests/support/chaos.rs`), which prints its
//! seed and what it checked. `cargo xtask test` runs a few cycles of the same logic as an
//! ordinary test (`tests/tests/it/crash.rs`).

use crate::cmd::{self, Result};
use crate::workspace::Workspace;

pub fn crash(ws: &Workspace, args: Vec<String>) -> Result {
    // The binary embeds whatever client `dist` holds; the crash test does not need one.
    cmd::run(
        cmd::cargo()
            .args(["build", "-p", "hindsight-server", "--bin", "hindsight"])
            .current_dir(&ws.root),
    )?;
    cmd::run(
        cmd::cargo()
            .args(["run", "-p", "hindsight-tests", "--bin", "crash", "--"])
            .args(&args)
            .env(
                "HINDSIGHT_BIN",
                ws.target_dir().join("debug").join("hindsight"),
            )
            .current_dir(&ws.root),
    )
}
