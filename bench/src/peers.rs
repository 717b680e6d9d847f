//! The servers under test: how to start each one on 127.0.0.1 pinned to its own core,
//! how to make a room on it, how much memory it holds, and how it stops. Every process is
//! killed when its `Server` is dropped, so an error or Ctrl+C leaves nothing running.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::wire::{Framing, Room};

/// Where the things the benchmark starts live, as `cargo xtask bench` passes them.
#[derive(Clone, Debug)]
pub struct Setup {
    pub hindsight: PathBuf,
    /// The built web client Hindsight serves (`--dist`), whatever the binary embeds.
    pub dist: PathBuf,
    /// `bench/peers`, with `node_modules` installed.
    pub node_peers: PathBuf,
    /// The y-sweet binary, or why there is none.
    pub y_sweet: Result<PathBuf, String>,
    /// This program, which also is the null relay (`hindsight-bench relay`).
    pub relay: PathBuf,
    /// The core servers run on, when `taskset` can pin them.
    pub server_core: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Hindsight,
    /// Hindsight on PostgreSQL (`--database`), one node.
    HindsightPostgres,
    /// Two Hindsight nodes on one PostgreSQL, clients spread over both.
    HindsightPostgresPair,
    /// `@y/websocket-server`: the reference server, memory only.
    YWebsocketServer,
    /// `y-websocket`'s bundled server with y-leveldb persistence.
    YWebsocketLeveldb,
    Hocuspocus,
    YSweet,
    /// WebSocket fan-out with no CRDT and no storage: the floor.
    Relay,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Hindsight,
        Kind::HindsightPostgres,
        Kind::HindsightPostgresPair,
        Kind::YWebsocketServer,
        Kind::YWebsocketLeveldb,
        Kind::Hocuspocus,
        Kind::YSweet,
        Kind::Relay,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Hindsight => "Hindsight",
            Kind::HindsightPostgres => "Hindsight on PostgreSQL",
            Kind::HindsightPostgresPair => "Hindsight ×2 on PostgreSQL",
            Kind::YWebsocketServer => "@y/websocket-server",
            Kind::YWebsocketLeveldb => "y-websocket+leveldb",
            Kind::Hocuspocus => "Hocuspocus+sqlite",
            Kind::YSweet => "y-sweet",
            Kind::Relay => "null relay",
        }
    }

    /// Its name on the command line (`--servers`).
    pub fn key(self) -> &'static str {
        match self {
            Kind::Hindsight => "hindsight",
            Kind::HindsightPostgres => "hindsight-pg",
            Kind::HindsightPostgresPair => "hindsight-pg-2",
            Kind::YWebsocketServer => "y-websocket-server",
            Kind::YWebsocketLeveldb => "y-websocket-leveldb",
            Kind::Hocuspocus => "hocuspocus",
            Kind::YSweet => "y-sweet",
            Kind::Relay => "relay",
        }
    }

    pub fn is_node(self) -> bool {
        matches!(
            self,
            Kind::YWebsocketServer | Kind::YWebsocketLeveldb | Kind::Hocuspocus
        )
    }

    /// Whether it keeps documents across a restart.
    pub fn persists(self) -> bool {
        matches!(
            self,
            Kind::Hindsight
                | Kind::HindsightPostgres
                | Kind::HindsightPostgresPair
                | Kind::YWebsocketLeveldb
                | Kind::Hocuspocus
                | Kind::YSweet
        )
    }

    /// Whether it stores in PostgreSQL (a cluster the benchmark starts, see `Database`).
    pub fn on_postgres(self) -> bool {
        matches!(self, Kind::HindsightPostgres | Kind::HindsightPostgresPair)
    }

    /// How many processes serve one deployment.
    pub fn nodes(self) -> usize {
        match self {
            Kind::HindsightPostgresPair => 2,
            _ => 1,
        }
    }

    /// Whether it holds documents at all (the relay only forwards bytes).
    pub fn is_crdt(self) -> bool {
        self != Kind::Relay
    }
}

/// One running server (a process, or one per node) and its data directory.
pub struct Server {
    pub kind: Kind,
    /// The first node's address; the others' are in `nodes`.
    pub addr: SocketAddr,
    setup: Setup,
    child: Child,
    /// The nodes after the first, for a kind with several.
    nodes: Vec<Node>,
    /// The database the Hindsight nodes share, for a kind on PostgreSQL.
    database: Option<String>,
    data: tempfile::TempDir,
    /// Its output, for the error message when it dies.
    log: PathBuf,
    rooms_made: usize,
}

/// A node after the first of a deployment of several.
struct Node {
    addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

/// Hindsight's limits, raised where a scenario would hit them (see BENCHMARKS.md).
pub const HINDSIGHT_FLAGS: &[&str] = &[
    "--max-notes",
    "1000000",
    "--max-document-bytes",
    "1073741824",
    "--max-board-connections",
    "100000",
    "--max-connections",
    "1000000",
    "--messages-per-sec",
    "1000000",
    "--message-burst",
    "1000000",
    "--outbox-messages",
    "100000",
    "--creates-per-minute",
    "1000000",
];

impl Server {
    pub async fn start(kind: Kind, setup: &Setup) -> Result<Server, String> {
        let data = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let database = if kind.on_postgres() {
            Some(postgres_database(setup.server_core).await?)
        } else {
            None
        };
        let mut nodes = Vec::new();
        for n in 1..kind.nodes() {
            nodes.push(Node {
                addr: free_addr()?,
                child: spawn_placeholder()?,
                log: data.path().join(format!("node-{}.log", n + 1)),
            });
        }
        let mut server = Server {
            kind,
            addr: free_addr()?,
            setup: setup.clone(),
            child: spawn_placeholder()?,
            nodes,
            database,
            log: data.path().join("server.log"),
            data,
            rooms_made: 0,
        };
        server.launch().await?;
        Ok(server)
    }

    /// Starts the process (every node's) on the current addresses and data directory
    /// and waits until each accepts connections.
    async fn launch(&mut self) -> Result<(), String> {
        for n in 0..self.nodes.len() {
            let (addr, log) = (self.nodes[n].addr, self.nodes[n].log.clone());
            let mut command = self.hindsight(addr, &format!("store-{}", n + 2));
            let child = spawn(&mut command, &self.setup, &log, self.kind)?;
            self.nodes[n].child = child;
            wait_listening(addr, &mut self.nodes[n].child, &log, self.kind).await?;
        }
        let port = self.addr.port().to_string();
        let data = self.data.path().join("store");
        let mut command = self.pinned();
        match self.kind {
            Kind::Hindsight | Kind::HindsightPostgres | Kind::HindsightPostgresPair => {
                command = self.hindsight(self.addr, "store");
            }
            Kind::YWebsocketServer => {
                command
                    .arg("node")
                    .arg(self.node_module("@y/websocket-server/src/server.js"))
                    .env("HOST", "127.0.0.1")
                    .env("PORT", &port);
            }
            Kind::YWebsocketLeveldb => {
                command
                    .arg("node")
                    .arg(self.node_module("y-websocket/bin/server.cjs"))
                    .env("HOST", "127.0.0.1")
                    .env("PORT", &port)
                    .env("YPERSISTENCE", &data);
            }
            Kind::Hocuspocus => {
                command
                    .arg("node")
                    .arg(self.setup.node_peers.join("hocuspocus.mjs"))
                    .arg(&port)
                    .arg(self.data.path().join("hocuspocus.sqlite"));
            }
            Kind::YSweet => {
                let binary = self.setup.y_sweet.clone()?;
                command
                    .arg(binary)
                    .arg("serve")
                    .arg(&data)
                    .args(["--host", "127.0.0.1", "--port", &port])
                    // Checkpoints every second instead of every 10 s, so P4 finds the
                    // board stored without a long wait.
                    .args(["--checkpoint-freq-seconds", "1"]);
            }
            Kind::Relay => {
                command
                    .arg(&self.setup.relay)
                    .args(["relay", &self.addr.to_string()]);
            }
        }
        self.child = spawn(&mut command, &self.setup, &self.log, self.kind)?;
        wait_listening(self.addr, &mut self.child, &self.log, self.kind).await
    }

    /// A Hindsight node on `addr`: on the kind's database if it has one, else on sled in
    /// `store` (under the data directory), which a node on a database does not use.
    fn hindsight(&self, addr: SocketAddr, store: &str) -> Command {
        let mut command = self.pinned();
        command
            .arg(&self.setup.hindsight)
            .args(["--addr", &addr.to_string(), "--data-dir"])
            .arg(self.data.path().join(store))
            .args(HINDSIGHT_FLAGS)
            .arg("--assets")
            .arg(&self.setup.dist)
            .env("RUST_LOG", "warn");
        if let Some(url) = &self.database {
            command.args(["--database", url]);
        }
        command
    }

    fn node_module(&self, path: &str) -> PathBuf {
        self.setup.node_peers.join("node_modules").join(path)
    }

    /// `taskset -c CORE` in front of the program, when possible.
    fn pinned(&self) -> Command {
        match self.setup.server_core {
            Some(core) => {
                let mut command = Command::new("taskset");
                command.args(["-c", &core.to_string()]);
                command
            }
            None => Command::new("env"),
        }
    }

    /// The last lines the server printed (every node's).
    pub fn log_tail(&self) -> String {
        std::iter::once(&self.log)
            .chain(self.nodes.iter().map(|n| &n.log))
            .map(|log| log_tail(log))
            .collect::<Vec<_>>()
            .join(" || ")
    }

    /// Stops the process (SIGTERM, so stores flush) and starts it again on the same data.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.terminate().await;
        self.launch().await
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s; every node.
    async fn terminate(&mut self) {
        terminate(&mut self.child).await;
        for node in &mut self.nodes {
            terminate(&mut node.child).await;
        }
    }

    pub async fn stop(mut self) {
        self.terminate().await;
    }

    /// Whether the process (every node's) is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
            && self
                .nodes
                .iter_mut()
                .all(|n| matches!(n.child.try_wait(), Ok(None)))
    }

    /// Resident memory of the server process in KiB (`VmRSS`); the first node's.
    pub fn rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        rss_kib(pid)
    }

    /// CPU time the server has used so far, user and system (`/proc/PID/stat`), summed
    /// over its nodes; not the database's (see [`postgres_cpu_time`]).
    pub fn cpu_time(&self) -> Option<Duration> {
        let mut total = cpu_time(self.child.id()?)?;
        for node in &self.nodes {
            total += cpu_time(node.child.id()?)?;
        }
        Some(total)
    }

    /// A new room. Hindsight boards are made through its API; the others make rooms on
    /// first use.
    pub async fn room(&mut self) -> Result<Room, String> {
        self.rooms_made += 1;
        let name = format!("bench-{}", self.rooms_made);
        let base = format!("ws://{}", self.addr);
        Ok(match self.kind {
            Kind::Hindsight | Kind::HindsightPostgres | Kind::HindsightPostgresPair => {
                self.room_of(&create_board(self.addr).await?)
            }
            Kind::Hocuspocus => Room {
                url: format!("{base}/{name}"),
                framing: Framing::Hocuspocus { document: name },
                nodes: Vec::new(),
            },
            Kind::YSweet => Room {
                url: format!("{base}/d/{name}/ws/{name}"),
                framing: Framing::Plain,
                nodes: Vec::new(),
            },
            Kind::YWebsocketServer | Kind::YWebsocketLeveldb | Kind::Relay => Room {
                url: format!("{base}/{name}"),
                framing: Framing::Plain,
                nodes: Vec::new(),
            },
        })
    }

    /// The WebSocket room of a Hindsight board, with its edit token when it has one; on
    /// every node when there are several.
    pub fn room_of(&self, board: &Created) -> Room {
        let query = board
            .token
            .as_ref()
            .map(|t| format!("?token={t}"))
            .unwrap_or_default();
        let url = |addr: SocketAddr| format!("ws://{addr}/ws/{}{query}", board.id);
        let nodes = if self.nodes.is_empty() {
            Vec::new()
        } else {
            std::iter::once(self.addr)
                .chain(self.nodes.iter().map(|n| n.addr))
                .map(url)
                .collect()
        };
        Room {
            url: url(self.addr),
            framing: Framing::Plain,
            nodes,
        }
    }
}

/// Starts `command` with its output in `log`; killed when dropped.
fn spawn(command: &mut Command, setup: &Setup, log: &Path, kind: Kind) -> Result<Child, String> {
    let out = std::fs::File::create(log).map_err(|e| format!("log file: {e}"))?;
    let err = out.try_clone().map_err(|e| format!("log file: {e}"))?;
    command
        .current_dir(&setup.node_peers)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    command
        .spawn()
        .map_err(|e| format!("start {}: {e}", kind.name()))
}

/// Waits until `child` accepts connections on `addr`.
async fn wait_listening(
    addr: SocketAddr,
    child: &mut Child,
    log: &Path,
    kind: Kind,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{} exited ({status}) before listening: {}",
                kind.name(),
                log_tail(log)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("{} did not listen within 60 s", kind.name()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM, so stores flush, then SIGKILL if it has not exited within 10 s.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// The last lines of a log.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// A fresh database on the PostgreSQL this process starts once (the tests' harness,
/// `hindsight_tests::postgres`: `initdb` into a temporary directory, fsync and
/// synchronous commit on, stopped when the benchmark exits). Its processes are moved to
/// the servers' core, so the database competes with the nodes, not with the load.
async fn postgres_database(core: Option<usize>) -> Result<String, String> {
    let url = tokio::task::spawn_blocking(hindsight_tests::postgres::database)
        .await
        .map_err(|e| format!("start PostgreSQL: {e}"))?;
    if let Some(core) = core {
        for pid in postgres_pids() {
            let _ = Command::new("taskset")
                .args(["-a", "-p", "-c", &core.to_string(), &pid.to_string()])
                .stdout(Stdio::null())
                .status()
                .await;
        }
    }
    Ok(url)
}

/// Every process named `postgres` (the cluster's server processes: on this benchmark's
/// machine, only the one it started).
pub fn postgres_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == "postgres")
        })
        .collect()
}

/// CPU time PostgreSQL's processes have used so far (those running now).
pub fn postgres_cpu_time() -> Duration {
    postgres_pids().into_iter().filter_map(cpu_time).sum()
}

/// Resident memory of process `pid` in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User plus system CPU time of process `pid` (its own threads, not children).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; fields 14 and 15
    // (utime, stime) are the 12th and 13th after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_sec = u64::try_from(per_sec).ok().filter(|&t| t > 0)?;
    Some(Duration::from_micros(ticks * 1_000_000 / per_sec))
}

fn free_addr() -> Result<SocketAddr, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

/// A finished process to hold the place of the server's until it starts.
fn spawn_placeholder() -> Result<Child, String> {
    Command::new("true")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start `true`: {e}"))
}

/// A board made through Hindsight's API.
pub struct Created {
    pub id: String,
    /// The edit token, once the server hands them out.
    pub token: Option<String>,
    /// The page to edit it (`editUrl`, else `url`), absolute or from the root.
    pub page: Option<String>,
}

impl Created {
    /// The absolute URL of the board's page on the server at `addr`.
    pub fn page(&self, addr: SocketAddr) -> String {
        match &self.page {
            Some(p) if p.starts_with("http") => p.clone(),
            Some(p) => format!("http://{addr}{p}"),
            None => format!("http://{addr}/b/{}", self.id),
        }
    }
}

/// `POST /api/boards`: the board's id, and its edit token when the server hands one out.
pub async fn create_board(addr: SocketAddr) -> Result<Created, String> {
    let reply = hindsight_tests::http::send(addr, "POST", "/api/boards", &[], "").await?;
    let (status, body) = (reply.status, reply.text());
    if status != 201 {
        return Err(format!("create board: HTTP {status}: {body}"));
    }
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("create board answer: {e}"))?;
    let text = |key: &str| json[key].as_str().map(str::to_owned);
    Ok(Created {
        id: text("id").ok_or("create board answer has no id")?,
        token: text("editToken"),
        page: text("editUrl").or_else(|| text("url")),
    })
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn cpu_time_reads_this_process_and_grows_with_work() {
        let pid = std::process::id();
        let before = cpu_time(pid).expect("our own stat");
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = cpu_time(pid).expect("our own stat");
        assert!(
            after >= before + Duration::from_millis(100),
            "{before:?} → {after:?}"
        );
    }
}
