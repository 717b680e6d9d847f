//! `cargo xtask crash [--cycles N] [--seed S] [--compact-every K] [--database]`: the
//! random-kill crash test at length (with `--database`: two nodes on a PostgreSQL the run
//! starts itself, one of them killed each cycle). Builds the server binary, then runs the `crash` binary of the tests
//! crate (`tests/src/bin/crash.rs`, logic in `tests/support/chaos.rs`), which prints its
//! seed and what it checked. `cargo xtask test` runs a few cycles of the same logic as an
//! ordinary test (`tests/tests/it/crash.rs`).

use crate::cmd::{self, Result};
use crate::tools;
use crate::workspace::Workspace;

pub fn crash(ws: &Workspace, args: Vec<String>) -> Result {
    let mut run = cmd::cargo();
    if args.iter().any(|a| a == "--database") {
        tools::postgresql()?;
        if let Some(bin) = tools::postgres_bin() {
            run.env("HINDSIGHT_PG_BIN", bin);
        }
    }
    // The binary embeds whatever client `dist` holds; the crash test does not need one.
    cmd::run(
        cmd::cargo()
            .args(["build", "-p", "hindsight-server", "--bin", "hindsight"])
            .current_dir(&ws.root),
    )?;
    cmd::run(
        run.args(["run", "-p", "hindsight-tests", "--bin", "crash", "--"])
            .args(&args)
            .env(
                "HINDSIGHT_BIN",
                ws.target_dir().join("debug").join("hindsight"),
            )
            .current_dir(&ws.root),
    )
}
