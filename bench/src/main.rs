//! `hindsight-bench`: the benchmark behind `cargo xtask bench`, which builds everything
//! and passes the paths here. Starts each server on 127.0.0.1, drives it with the same
//! load generator, and prints one table. Also the null relay (`hindsight-bench relay`)
//! and the soak behind `cargo xtask soak` (`hindsight-bench soak`, `soak.rs`).
//!
//! Progress goes to stderr, the table (and every line of the soak) to stdout. Nothing
//! here asserts a timing.

mod client;
mod load;
mod peers;
mod relay;
mod report;
mod scenarios;
mod soak;
mod updates;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use peers::{Kind, Setup};
use report::Results;
use scenarios::Size;

const USAGE: &str = "\
usage: hindsight-bench run --hindsight BIN --dist DIR --peers DIR
                           [--y-sweet BIN | --y-sweet-unavailable REASON]
                           [--chromium BIN --chromedriver BIN] [--quick] [--runs N]
                           [--only P1,P2,P3,P4,P5,P6] [--servers NAME,NAME…]
                           [--p6-notes N,N…]
       hindsight-bench relay ADDR";

struct Options {
    setup: Setup,
    dist: PathBuf,
    browser: Option<client::Browser>,
    size: Size,
    only: Vec<String>,
    /// The servers to run (`Kind::key`), or all of them.
    servers: Vec<Kind>,
    /// The board sizes P6 drags across and watches.
    p6_notes: Vec<usize>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("relay") if args.len() == 2 => runtime(None).block_on(async {
            match relay::serve(&args[1]).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("relay: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
        Some("soak") => match soak::parse(&args[1..]) {
            Ok(options) => runtime(None).block_on(async {
                tokio::select! {
                    code = soak::run(options) => code,
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("interrupted; stopping the server");
                        ExitCode::FAILURE
                    }
                }
            }),
            Err(e) => {
                eprintln!("{e}\nusage: {}", soak::USAGE);
                ExitCode::FAILURE
            }
        },
        Some("run") => match parse(&args[1..]) {
            Ok(options) => {
                let pinned = pin_self(&options.setup);
                runtime(pinned.then_some(1)).block_on(async {
                    tokio::select! {
                        code = run(options) => code,
                        _ = tokio::signal::ctrl_c() => {
                            eprintln!("interrupted; stopping every server");
                            ExitCode::FAILURE
                        }
                    }
                })
            }
            Err(e) => {
                eprintln!("{e}\n{USAGE}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("{USAGE}\n       {}", soak::USAGE);
            ExitCode::FAILURE
        }
    }
}

fn runtime(workers: Option<usize>) -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder.enable_all().build().expect("a tokio runtime")
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut hindsight = None;
    let mut dist: Option<PathBuf> = None;
    let mut node_peers = None;
    let mut y_sweet = Err("not built".to_owned());
    let (mut chromium, mut chromedriver) = (None, None);
    let mut size = Size::full();
    let mut runs = None;
    let mut only = Vec::new();
    let mut servers = Vec::new();
    let mut p6_notes = vec![2000, 5000];
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--hindsight" => hindsight = Some(absolute(value()?)?),
            "--dist" => dist = Some(absolute(value()?)?),
            "--peers" => node_peers = Some(absolute(value()?)?),
            "--y-sweet" => y_sweet = Ok(absolute(value()?)?),
            "--y-sweet-unavailable" => y_sweet = Err(value()?),
            "--chromium" => chromium = Some(value()?),
            "--chromedriver" => chromedriver = Some(value()?),
            "--quick" => size = Size::quick(),
            "--runs" => {
                runs = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--runs takes a number".to_owned())?,
                )
            }
            "--p6-notes" => {
                p6_notes = value()?
                    .split(',')
                    .map(|n| n.trim().parse())
                    .collect::<Result<_, _>>()
                    .map_err(|_| "--p6-notes takes numbers, as in 2000,5000".to_owned())?
            }
            "--only" => {
                only = value()?
                    .split(',')
                    .map(|s| s.trim().to_ascii_uppercase())
                    .collect()
            }
            "--servers" => {
                servers = value()?
                    .split(',')
                    .map(|s| {
                        Kind::ALL
                            .into_iter()
                            .find(|k| k.key() == s.trim())
                            .ok_or_else(|| {
                                let keys: Vec<&str> = Kind::ALL.iter().map(|k| k.key()).collect();
                                format!("--servers: no server {s}; there are {}", keys.join(", "))
                            })
                    })
                    .collect::<Result<_, _>>()?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if let Some(runs) = runs {
        size.runs = std::cmp::max(1, runs);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = std::path::Path::new("/usr/bin/taskset").exists();
    Ok(Options {
        setup: Setup {
            hindsight: hindsight.ok_or("--hindsight is required")?,
            dist: dist.clone().ok_or("--dist is required")?,
            node_peers: node_peers.ok_or("--peers is required")?,
            y_sweet,
            relay: std::env::current_exe().map_err(|e| format!("own path: {e}"))?,
            server_core: (taskset && cores >= 2).then_some(0),
        },
        dist: dist.ok_or("--dist is required")?,
        browser: chromium
            .zip(chromedriver)
            .map(|(chromium, chromedriver)| client::Browser {
                chromium,
                chromedriver,
            }),
        size,
        only,
        servers,
        p6_notes,
    })
}

/// Servers run in other directories, so every path given is made absolute.
fn absolute(path: String) -> Result<PathBuf, String> {
    std::fs::canonicalize(&path).map_err(|e| format!("{path}: {e}"))
}

/// Pins this process (the load generator) to core 1 when the servers get core 0.
fn pin_self(setup: &Setup) -> bool {
    setup.server_core.is_some()
        && std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

async fn run(options: Options) -> ExitCode {
    let started = Instant::now();
    let size = options.size;
    let wanted = |p: &str| options.only.is_empty() || options.only.iter().any(|o| o == p);
    let mut all = Vec::new();
    for kind in Kind::ALL {
        if !options.servers.is_empty() && !options.servers.contains(&kind) {
            continue;
        }
        let mut results = Results::new(kind);
        if kind == Kind::YSweet {
            if let Err(why) = &options.setup.y_sweet {
                results.unavailable = Some(why.clone());
                all.push(results);
                continue;
            }
        }
        let setup = &options.setup;
        let name = kind.name();
        if wanted("P1") {
            eprintln!("[{}] {name}: P1 fan-out", clock(started));
            results.p1 = Some(scenarios::p1(kind, setup, size).await);
        }
        if wanted("P2") {
            eprintln!("[{}] {name}: P2 ramp, 1 board", clock(started));
            results.p2_one = Some(scenarios::p2(kind, setup, size, 1, 10).await);
            eprintln!("[{}] {name}: P2 ramp, 100 boards", clock(started));
            results.p2_many = Some(scenarios::p2(kind, setup, size, 100, 2).await);
        }
        // On PostgreSQL the questions are throughput and latency across nodes; memory and
        // cold opens are the sled server's figures.
        if wanted("P3") && !kind.on_postgres() {
            eprintln!("[{}] {name}: P3 memory", clock(started));
            results.p3 = Some(scenarios::p3(kind, setup, size).await);
        }
        if wanted("P4") && kind.persists() && !kind.on_postgres() {
            eprintln!("[{}] {name}: P4 cold open", clock(started));
            results.p4 = Some(scenarios::p4(kind, setup, size).await);
        }
        if kind == Kind::Hindsight {
            if wanted("P5") {
                results.p5 = Some(client::p5(&options.dist));
            }
            if wanted("P6") {
                eprintln!("[{}] {name}: P6 the page in Chromium", clock(started));
                results.p6 = Some(match &options.browser {
                    Some(browser) => client::p6(setup, browser, &options.p6_notes).await,
                    None => Err("no Chromium given (--chromium, --chromedriver)".into()),
                });
            }
        }
        all.push(results);
    }
    let heading = format!(
        "Hindsight benchmark, {} run{}: P1 {} clients × 10 upd/s for {} s; P2 ramp steps of \
         {} s; P3 {} idle connections on {} boards and a {}-note board; P4 a {}-note board; \
         medians of {} run{} (took {}).",
        if size.quick { "QUICK" } else { "full" },
        if size.quick {
            " (shortened, figures are indicative only)"
        } else {
            ""
        },
        size.p1_clients,
        size.p1_secs,
        size.p2_step_secs,
        size.p3_connections,
        size.p3_boards,
        size.big_notes,
        size.big_notes,
        size.runs,
        if size.runs == 1 { "" } else { "s" },
        clock(started),
    );
    println!("{}", report::table(&all, &heading));
    print!("{}", report::details(&all));
    ExitCode::SUCCESS
}

fn clock(started: Instant) -> String {
    let s = started.elapsed().as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}
