//! `cargo xtask soak [--minutes N] [--database [--nodes N]]`: build the release server
//! and the benchmark harness as `cargo xtask bench` does (same target directory, same
//! profile), then run
//! `hindsight-bench soak`, which starts the server on 127.0.0.1 with a fresh data
//! directory, holds 2,000 WebSockets on 200 boards for N minutes (10 by default) and
//! prints what the server holds every ten seconds; with `--database`, on a PostgreSQL
//! cluster it starts (installed as `cargo xtask test` installs it), by as many nodes as
//! `--nodes` says. Owns the builds; the soak is `bench/`'s.

use crate::cmd::{self, Result};
use crate::tools;
use crate::workspace::Workspace;

pub fn soak(ws: &Workspace, args: Vec<String>) -> Result {
    let args: Vec<String> = args.into_iter().filter(|a| a != "--").collect();
    tools::ensure_build_tools(ws)?;
    // On PostgreSQL the harness starts a cluster of its own, as the tests do.
    let on_database = args.iter().any(|a| a == "--database");
    if on_database {
        tools::postgresql()?;
    }
    let (hindsight, harness) = crate::bench::build_harness(ws)?;
    let mut soak = cmd::cmd(harness);
    soak.arg("soak")
        .arg("--hindsight")
        .arg(&hindsight)
        .args(&args)
        .current_dir(&ws.root);
    if let Some(bin) = tools::postgres_bin().filter(|_| on_database) {
        soak.env("HINDSIGHT_PG_BIN", bin);
    }
    cmd::run(&mut soak)
}
