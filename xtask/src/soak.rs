//! `cargo xtask soak [--minutes N]`: build the release server and the benchmark harness
//! as `cargo xtask bench` does (same target directory, same profile), then run
//! `hindsight-bench soak`, which starts the server on 127.0.0.1 with a fresh data
//! directory, holds 2,000 WebSockets on 200 boards for N minutes (10 by default) and
//! prints what the server holds every ten seconds. Owns the builds; the soak is `bench/`'s.

use crate::cmd::{self, Result};
use crate::tools;
use crate::workspace::Workspace;

pub fn soak(ws: &Workspace, args: Vec<String>) -> Result {
    let args: Vec<String> = args.into_iter().filter(|a| a != "--").collect();
    tools::ensure_build_tools(ws)?;
    let (hindsight, harness) = crate::bench::build_harness(ws)?;
    cmd::run(
        cmd::cmd(harness)
            .arg("soak")
            .arg("--hindsight")
            .arg(&hindsight)
            .args(&args)
            .current_dir(&ws.root),
    )
}
