//! `cargo xtask`: the only entry point a developer or CI needs. This file owns the command
//! line and nothing else; each subcommand lives in its own module.
//!
//! The crate depends on std alone so that `cargo xtask` compiles in seconds on a fresh
//! machine, before anything else has been built.

mod bench;
mod cmd;
mod crash;
mod fuzz;
mod lockfile;
mod run;
mod soak;
mod test;
mod tools;
mod workspace;

use std::process::ExitCode;

use workspace::Workspace;

const USAGE: &str = "\
cargo xtask: build, run and test Hindsight

USAGE:
    cargo xtask run [-- SERVER ARGS]
        Build the client (trunk) and the server in release mode, then start the server.
        SERVER ARGS are passed on, e.g. `cargo xtask run -- --addr 0.0.0.0:8080`.
        The server runs in the repository root, so its default ./data lands there.
    cargo xtask test
        Everything CI checks, in order, stopping at the first failure: rustfmt, clippy
        (host and wasm32), the release client build, every test in the workspace, and a
        short run (15 s) of each fuzz target.
    cargo xtask crash [--cycles N] [--seed S] [--compact-every K]
        Kill the real server with SIGKILL at random moments while clients write (50
        cycles by default), restart it each time, and check that nothing another client
        saw or that was acknowledged as saved was lost. Prints the seed to replay a run.
    cargo xtask fuzz [--seconds N]
        Run each fuzz target (fuzz/fuzz_targets: the message decoder, the update-apply
        path) for N seconds (60 by default) from the committed seed corpus. Installs
        cargo-fuzz once; needs the nightly toolchain.
    cargo xtask bench [--quick] [--runs N] [--only P1,P2,…] [--servers hindsight,relay,…]
        Build Hindsight in release mode, install the servers it is compared with (npm
        packages in bench/peers, y-sweet into bench/.tools) and PostgreSQL, start each on
        127.0.0.1 (Hindsight also on PostgreSQL, one node and two), drive them with the
        same load generator and print one table of figures and targets. --quick shortens
        every scenario (a minute or two after the builds). See BENCHMARKS.md.
    cargo xtask soak [--minutes N] [--database [--nodes N]]
        Build the release server, start it on 127.0.0.1 with a fresh data directory, keep
        2,000 WebSockets on 200 boards (most idle, some typing, some dragging) for N
        minutes (10 by default), print its memory, open files and fan-out latency every
        10 s and a summary; fails if the server drops a connection or dies. --database
        runs it on a fresh PostgreSQL instead, with --nodes N nodes sharing the boards.
    cargo xtask tools
        Only make sure the toolchain is installed (both commands above do this first).
    cargo xtask help
        Print this message.

Missing tools are installed on first use: the wasm32 target (rustup), Trunk 0.21 and
wasm-bindgen-cli (cargo install), and for tests Chromium and ChromeDriver (apt-get) and
the Node interop peer's packages (npm ci).
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let ws = Workspace::locate();

    let result = match command.as_deref() {
        Some("run") => run::run(&ws, rest),
        Some("test") if rest.is_empty() => test::test(&ws),
        Some("crash") => crash::crash(&ws, rest),
        Some("fuzz") => fuzz::fuzz(&ws, rest),
        Some("bench") => bench::bench(&ws, rest),
        Some("soak") => soak::soak(&ws, rest),
        Some("tools") if rest.is_empty() => tools::ensure_build_tools(&ws)
            .and_then(|()| tools::ensure_test_tools(&ws))
            .map(|_| ()),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!(
            "unknown command `{}`; see `cargo xtask help`",
            std::iter::once(other.to_owned())
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ")
        )),
    };

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nerror: {message}");
            ExitCode::FAILURE
        }
    }
}
