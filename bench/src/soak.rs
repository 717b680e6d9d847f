//! `hindsight-bench soak`: many people on many boards for minutes on end, behind
//! `cargo xtask soak`. Starts the release server on 127.0.0.1 with a fresh data
//! directory, makes boards through its API and keeps thousands of WebSockets on them:
//! most idle (presence only, a heartbeat every few seconds), some typing into a note,
//! some dragging one. Every ten seconds it prints the server's memory and open files, the
//! connections still open, the updates sent and the fan-out latency; at the end a summary.
//!
//! Fan-out latency is matched, not embedded: each write is logged under the (client id,
//! clock) its update starts at, and a receipt is found by the clock it starts at, which
//! survives the server's re-encoding (as in `updates.rs`). The clients are thin (they
//! speak the sync and awareness protocol but keep no replica of the board), so the load
//! generator's own work stays small beside the server's.
//!
//! It fails (exit 1) if the server closes a connection, a connection cannot be made, the
//! server logs an error, dies, or does not stop cleanly on SIGTERM; it asserts no timing.
//! Linux only (`/proc`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hindsight_shared::presence::{cursor_color, Point, Presence, PresenceUser};
use hindsight_shared::schema::{new_doc, NewNote};
use hindsight_shared::{close, Board, NoteId};
use tokio::process::{Child, Command};
use tokio::sync::{watch, Semaphore};
use tokio::time::{interval_at, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::{Awareness, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact, Update};

use crate::peers;
use crate::wire::{self, Framing, Incoming, Room};

pub const USAGE: &str = "hindsight-bench soak --hindsight BIN [--minutes N | --seconds N] \
                         [--boards N] [--per-board N] [--database [--nodes N]]";

pub struct Options {
    hindsight: PathBuf,
    run_for: Duration,
    boards: usize,
    per_board: usize,
    /// On a fresh PostgreSQL database instead of sled.
    database: bool,
    /// Nodes serving every board (on the database); each board's connections take them
    /// in turn, as a round-robin load balancer hands them out.
    nodes: usize,
}

pub fn parse(args: &[String]) -> Result<Options, String> {
    let (mut hindsight, mut run_for) = (None, Duration::from_secs(10 * 60));
    let (mut boards, mut per_board) = (200, 10);
    let (mut database, mut nodes) = (false, 1);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = || -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{arg} takes a whole number above 0"))
        };
        match arg.as_str() {
            "--hindsight" => {
                hindsight = Some(PathBuf::from(
                    it.next().ok_or("--hindsight needs the server binary")?,
                ))
            }
            "--minutes" => run_for = Duration::from_secs(number()? * 60),
            "--seconds" => run_for = Duration::from_secs(number()?),
            "--boards" => boards = number()? as usize,
            "--per-board" => per_board = number()? as usize,
            "--database" => database = true,
            "--nodes" => nodes = number()? as usize,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if per_board < 2 {
        return Err("--per-board must be at least 2 (someone writes, someone watches)".into());
    }
    if nodes > 1 && !database {
        return Err("--nodes above 1 needs --database: several nodes share one database".into());
    }
    Ok(Options {
        hindsight: hindsight.ok_or("--hindsight is required")?,
        run_for,
        boards,
        per_board,
        database,
        nodes,
    })
}

/// How often the progress line is printed.
const REPORT_EVERY: Duration = Duration::from_secs(10);
/// How often every connection re-announces its presence, as y-websocket clients do.
const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long writes wait for their receipts before they count as undelivered.
const KEEP: Duration = Duration::from_secs(30);
/// After the last write, how long receipts may still arrive.
const GRACE: Duration = Duration::from_secs(2);
/// Connections being opened at once.
const OPENING: usize = 32;
/// Open files each process needs beyond its sockets (sled's files, the listener, stdio).
const FD_MARGIN: u64 = 1024;
/// The server's defaults for connections in total and per board (README, "Operating"):
/// raised only when the soak opens more.
const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
const DEFAULT_MAX_BOARD_CONNECTIONS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Idle,
    /// Types a character every 250 ms, starting over after 160.
    Typing,
    /// Drags its note in gestures: a position every 40 ms for 2 s, as the page writes
    /// while dragging, one gesture every 5 s; its presence says `moving` meanwhile.
    Dragging,
}

/// A drag gesture in ticks of [`Role::Dragging`]'s period: a cycle and its moves.
const DRAG_CYCLE: u64 = 125;
const DRAG_MOVES: u64 = 50;

/// What a writing person does on a tick of their timer.
enum Step {
    /// Sends an update; the clock it starts at if it carries new items.
    Write(Option<u32>, Vec<u8>),
    /// Announces their presence again (a drag begins or ends).
    Announce,
    Rest,
}

impl Role {
    /// Connection `k` of board `b`: someone types on every other board and someone drags
    /// on every fourth; everyone else only shows their presence. Some 900 updates a
    /// second on 200 boards, each to nine others: well below what the server handles on
    /// two cores beside the load generator (about 1,500; the latency climbs steeply
    /// near it), so that a trend in memory or latency means something.
    fn of(b: usize, k: usize) -> Role {
        match (k, b % 4) {
            (0, 0 | 2) => Role::Typing,
            (0, 1) => Role::Dragging,
            _ => Role::Idle,
        }
    }

    fn period(self) -> Option<Duration> {
        match self {
            Role::Idle => None,
            Role::Typing => Some(Duration::from_millis(250)),
            Role::Dragging => Some(Duration::from_millis(40)),
        }
    }
}

/// Where the run is: connections open (and announce themselves, but write nothing
/// until every one is open, so that each write has all its receivers), write and read,
/// then only read (so the last writes arrive), then close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Opening,
    Run,
    Quiet,
    Close,
}

pub async fn run(options: Options) -> ExitCode {
    match soak(&options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole soak; `Ok(passed)` once it ran to its end.
async fn soak(o: &Options) -> Result<bool, String> {
    let connections = o.boards * o.per_board;
    let fd_limit = raise_fd_limit(connections as u64 + FD_MARGIN)?;
    let mut server = Deployment::start(o, connections).await?;
    let roles: Vec<Role> = (0..connections)
        .map(|i| Role::of(i / o.per_board, i % o.per_board))
        .collect();
    let count = |r: Role| roles.iter().filter(|&&x| x == r).count();
    println!(
        "soak: {} boards × {} connections = {connections} ({} idle, {} typing, {} dragging) \
         for {} on {}{} (server pid {}, open-file limit {fd_limit})",
        o.boards,
        o.per_board,
        count(Role::Idle),
        count(Role::Typing),
        count(Role::Dragging),
        clock(o.run_for),
        server.addr(),
        match (&server.database, server.nodes.len()) {
            (None, _) => String::new(),
            (Some(_), 1) => " on PostgreSQL".to_string(),
            (Some(_), n) => format!(" and {} more nodes on one PostgreSQL", n - 1),
        },
        server.pids(),
    );
    let launch = server.sample();
    let connections_to =
        |server: &Deployment| server.database.as_deref().map_or(0, database_connections);
    let database_launch = connections_to(&server);
    let setup = Instant::now();

    let stats = Arc::new(Stats::new());
    let (phase_tx, phase) = watch::channel(Phase::Opening);
    let gate = Arc::new(Semaphore::new(OPENING));
    // Each connection's task owns its socket; it ends when the phase turns to `Close`, or
    // when the server closes the socket. Dropped at the end of `soak` at the latest.
    let mut tasks = tokio::task::JoinSet::new();
    let mut boards = Vec::with_capacity(o.boards);
    for b in 0..o.boards {
        let created = peers::create_board(server.addr()).await?;
        let token = created.token.ok_or("the API answered no editToken")?;
        let room = server.room(&format!("/ws/{}?token={token}", created.id));
        let ids = (0..o.per_board).map(|k| client_id(b * o.per_board + k));
        let writes = Arc::new(Writes::new(ids, o.per_board as u32 - 1));
        for k in 0..o.per_board {
            let i = b * o.per_board + k;
            tasks.spawn(connection(Conn {
                name: format!("board {} connection {}", b + 1, k + 1),
                client: client_id(i),
                role: roles[i],
                room: room.on_node(k),
                writes: Arc::clone(&writes),
                stats: Arc::clone(&stats),
                gate: Arc::clone(&gate),
                phase: phase.clone(),
            }));
        }
        boards.push(writes);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while stats.open.load(Relaxed) + (stats.errors.load(Relaxed) as usize) < connections {
        if Instant::now() > deadline || server.exited().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open = stats.open.load(Relaxed);
    println!(
        "soak: made {} boards and opened {open} of {connections} connections in {:.1} s \
         (after launch: {})",
        o.boards,
        setup.elapsed().as_secs_f64(),
        server
            .each(|n| {
                let (rss, fds) = n.sample();
                format!("RSS {}, {fds} open files", mib(rss))
            })
            .join("; "),
    );
    if open < connections {
        stats.show_problems();
        return Err(format!(
            "only {open} of {connections} connections opened; the server's log ends: {}",
            server.log_tail()
        ));
    }

    // The soak proper, from the moment every connection is open.
    let t0 = Instant::now();
    let base = stats.snapshot();
    let _ = phase_tx.send(Phase::Run);
    let first = server.sample();
    let mut rss: Vec<Extremes> = first.iter().map(|s| Extremes::new(s.0)).collect();
    let mut fds: Vec<Extremes> = first.iter().map(|s| Extremes::new(s.1)).collect();
    let mut backends = Extremes::new(connections_to(&server) as u64);
    let (mut last, mut max_us) = (base.clone(), 0u64);
    let mut tick = interval_at(t0 + Duration::from_secs(1), Duration::from_secs(1));
    let mut next_report = t0 + REPORT_EVERY;
    let mut died = None;
    loop {
        tick.tick().await;
        let now_held = server.sample();
        see_all(&mut rss, &mut fds, &now_held);
        if server.database.is_some() {
            backends.see(connections_to(&server) as u64);
        }
        if let Some(status) = server.exited() {
            died = Some(status);
            break;
        }
        let now = Instant::now();
        let end = now >= t0 + o.run_for;
        if now >= next_report || end {
            let snap = stats.snapshot();
            let interval_max = stats.max_us.swap(0, Relaxed);
            max_us = max_us.max(interval_max);
            let lat = Latencies::between(&last, &snap, interval_max);
            let (r, f): (Vec<String>, Vec<String>) = now_held
                .iter()
                .map(|&(r, f)| (mib(r), f.to_string()))
                .unzip();
            let database = match server.database {
                Some(_) => format!("  pg connections {:>3}", connections_to(&server)),
                None => String::new(),
            };
            println!(
                "{:>6}  rss {:>10}  fds {:>5}{database}  open {:>5}/{connections}  \
                 updates {:>6}  presence {:>5}  fan-out ms {}",
                clock(now - t0),
                r.join(" + "),
                f.join(" + "),
                stats.open.load(Relaxed),
                snap.updates - last.updates,
                snap.presence - last.presence,
                lat.line(),
            );
            last = snap;
            next_report += REPORT_EVERY;
        }
        if end {
            break;
        }
    }
    let ran = t0.elapsed();

    // Quiet: the last writes arrive; then everything still waiting counts as undelivered.
    let _ = phase_tx.send(Phase::Quiet);
    tokio::time::sleep(GRACE).await;
    for writes in &boards {
        writes.settle(&stats);
    }
    let end = server.sample();
    see_all(&mut rss, &mut fds, &end);
    let snap = stats.snapshot();
    max_us = max_us.max(stats.max_us.swap(0, Relaxed));
    let whole = Latencies::between(&base, &snap, max_us);

    let _ = phase_tx.send(Phase::Close);
    let closing = Instant::now() + Duration::from_secs(15);
    while stats.open.load(Relaxed) > 0 && Instant::now() < closing {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The server lets go of each socket after its close handshake; give it a moment.
    let unsettled = |held: &[(u64, u64)]| held.iter().zip(&launch).any(|(h, l)| h.1 > l.1 + 16);
    let mut closed = server.sample();
    let settling = Instant::now() + Duration::from_secs(5);
    while died.is_none() && unsettled(&closed) && Instant::now() < settling {
        tokio::time::sleep(Duration::from_millis(100)).await;
        closed = server.sample();
    }
    let database_closed = connections_to(&server);
    tasks.shutdown().await;
    let stopped = match died {
        Some(status) => Err(format!(
            "DIED during the soak ({status}); its log ends: {}",
            server.log_tail()
        )),
        None => server.stop().await,
    };
    let (warnings, log_errors) = server.log_levels();

    let dropped = stats.dropped.load(Relaxed);
    let errors = stats.errors.load(Relaxed);
    let secs = ran.as_secs_f64().max(1e-9);
    let updates = snap.updates - base.updates;
    println!("\nsoak summary after {}:", clock(ran));
    for (i, node) in server.each(|_| String::new()).into_iter().enumerate() {
        let (rss, fds, end) = (&rss[i], &fds[i], end[i]);
        println!(
            "  server RSS      {node}start {}  peak {}  end {}  ({:+.1} MiB)",
            mib(rss.first),
            mib(rss.peak),
            mib(end.0),
            (end.0 as f64 - rss.first as f64) / 1024.0,
        );
        println!(
            "  server fds      {node}start {}  peak {}  end {}  (at launch {}, after every \
             connection closed {})",
            fds.first, fds.peak, end.1, launch[i].1, closed[i].1,
        );
    }
    if server.database.is_some() {
        println!(
            "  PostgreSQL      connections at launch {database_launch}, start {}, peak {}, \
             after every connection closed {database_closed}",
            backends.first, backends.peak,
        );
    }
    println!(
        "  updates sent    {updates} ({:.0}/s); presence {}",
        updates as f64 / secs,
        snap.presence - base.presence,
    );
    println!("  fan-out ms      {}", whole.line());
    println!(
        "  undelivered     {} (writes that had not reached every other connection of their \
         board {} s after they were sent, or by the end)",
        stats.undelivered.load(Relaxed),
        KEEP.as_secs(),
    );
    println!("  disconnects     {dropped} by the server; errors {errors}");
    println!(
        "  server log      {} warnings, {} errors",
        warnings.len(),
        log_errors.len()
    );
    for line in log_errors.iter().chain(&warnings).take(5) {
        println!("  logged          {line}");
    }
    match &stopped {
        Ok(how) => println!("  server          {how}"),
        Err(why) => println!("  server          {why}"),
    }
    stats.show_problems();
    let passed = dropped == 0 && errors == 0 && log_errors.is_empty() && stopped.is_ok();
    println!("soak: {}", if passed { "PASSED" } else { "FAILED" });
    Ok(passed)
}

/// The awareness and document client id of connection `i`: distinct, never zero.
fn client_id(i: usize) -> u64 {
    3_000_000 + i as u64
}

/// A delay within `period` that spreads the connections' timers evenly.
fn stagger(client: u64, period: Duration) -> Duration {
    period.mul_f64((client.wrapping_mul(0x9e37_79b9) % 1000) as f64 / 1000.0)
}

struct Conn {
    name: String,
    client: u64,
    role: Role,
    room: Room,
    writes: Arc<Writes>,
    stats: Arc<Stats>,
    gate: Arc<Semaphore>,
    phase: watch::Receiver<Phase>,
}

/// One WebSocket for the whole soak: sync, then presence and writes as its role says.
async fn connection(mut c: Conn) {
    let Ok(permit) = c.gate.acquire().await else {
        return;
    };
    let opened = match c.room.connect().await {
        Ok((mut sink, mut stream)) => wire::wait_step2(&c.room, &mut sink, &mut stream)
            .await
            .map(|_| (sink, stream)),
        Err(e) => Err(e),
    };
    drop(permit);
    let (mut sink, mut stream) = match opened {
        Ok(socket) => socket,
        Err(e) => return c.stats.problem(&c.stats.errors, format!("{}: {e}", c.name)),
    };
    c.stats.open.fetch_add(1, Relaxed);
    let ended = converse(&mut c, &mut sink, &mut stream).await;
    c.stats.open.fetch_sub(1, Relaxed);
    match ended {
        Ok(()) => {
            // Our close, then the server's answer to it.
            let _ = sink.close().await;
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while let Some(Ok(_)) = stream.next().await {}
            })
            .await;
        }
        Err(why) => c
            .stats
            .problem(&c.stats.dropped, format!("{}: {why}", c.name)),
    }
}

/// Runs until the phase turns to `Close` (`Ok`) or the connection is lost (`Err`, why).
async fn converse(
    c: &mut Conn,
    sink: &mut wire::Sink,
    stream: &mut wire::Stream,
) -> Result<(), String> {
    let mut me = Person::new(c.client, c.role);
    let now = Instant::now();
    let mut heartbeat = interval_at(now + stagger(c.client, HEARTBEAT), HEARTBEAT);
    let period = c.role.period().unwrap_or(HEARTBEAT);
    let mut writing = interval_at(now + stagger(c.client, period), period);
    writing.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let presence = me.presence()?;
    send(c, sink, presence).await?;
    c.stats.presence.fetch_add(1, Relaxed);
    let mut phase = Phase::Opening;
    loop {
        let writes = phase == Phase::Run && c.role != Role::Idle;
        tokio::select! {
            changed = c.phase.changed() => {
                phase = *c.phase.borrow();
                if changed.is_err() || phase == Phase::Close {
                    return Ok(());
                }
            }
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    let now = Instant::now();
                    if let Some(Incoming::Update(update)) = c.room.unframe(&bytes).map(wire::decode) {
                        c.writes.arrived(c.client, &update, now, &c.stats);
                    }
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return Err(match frame {
                        Some(f) => {
                            let code = u16::from(f.code);
                            format!("closed by the server: {code} {} ({})", close::describe(code), f.reason)
                        }
                        None => "closed by the server without a code".into(),
                    })
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("read: {e}")),
                None => return Err("the connection ended".into()),
            },
            _ = heartbeat.tick(), if phase != Phase::Quiet => {
                let presence = me.presence()?;
                send(c, sink, presence).await?;
                c.stats.presence.fetch_add(1, Relaxed);
            }
            _ = writing.tick(), if writes => match me.step() {
                Step::Write(start, message) => {
                    if let Some(start) = start {
                        c.writes.sent(c.client, start, &c.stats);
                    }
                    send(c, sink, message).await?;
                    c.stats.updates.fetch_add(1, Relaxed);
                }
                Step::Announce => {
                    let presence = me.presence()?;
                    send(c, sink, presence).await?;
                    c.stats.presence.fetch_add(1, Relaxed);
                }
                Step::Rest => {}
            },
        }
    }
}

async fn send(c: &Conn, sink: &mut wire::Sink, message: Vec<u8>) -> Result<(), String> {
    sink.send(WsMessage::Binary(c.room.frame(&message).into()))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// What one connection writes: its own note in its own document (so its updates depend
/// only on each other), and its presence.
struct Person {
    client: u64,
    role: Role,
    doc: yrs::Doc,
    board: Board,
    awareness: Awareness,
    note: NoteId,
    text: String,
    /// Writes so far.
    step: u64,
    /// Ticks of the writing timer so far.
    ticks: u64,
    /// In the middle of a drag gesture.
    moving: bool,
}

const PHRASE: &[u8] = b"checkout latency rose after the deploy, rolled back at 14:55 ";

impl Person {
    fn new(client: u64, role: Role) -> Person {
        let doc = new_doc(Some(client));
        let board = Board::new(&doc);
        Person {
            client,
            role,
            awareness: Awareness::new(doc.clone()),
            doc,
            board,
            note: format!("soak{client:x}").parse().expect("a valid note id"),
            text: String::new(),
            step: 0,
            ticks: 0,
            moving: false,
        }
    }

    fn clock(&self) -> u32 {
        let id = yrs::ClientID::new(self.client);
        self.doc.transact().state_vector().get(&id)
    }

    /// Where the note is at step `n`: circling below the timeline (whose notes are laid
    /// out rather than placed), each person around their own centre.
    fn place(&self, n: u64) -> (f64, f64) {
        let angle = n as f64 * 0.05 + self.client as f64;
        let (cx, cy) = (400.0 + (self.client % 5) as f64 * 500.0, 1100.0);
        (cx + 200.0 * angle.cos(), cy + 150.0 * angle.sin())
    }

    /// What to do on the next tick: write the note first; then type, or drag in gestures
    /// (announcing each start and end).
    fn step(&mut self) -> Step {
        self.ticks += 1;
        if self.role == Role::Dragging && self.ticks > 1 {
            match (self.ticks - 2) % DRAG_CYCLE {
                0 => self.moving = true,
                t if t <= DRAG_MOVES => {
                    let (start, message) = self.write();
                    return Step::Write(start, message);
                }
                t if t == DRAG_MOVES + 1 => self.moving = false,
                _ => return Step::Rest,
            }
            return Step::Announce;
        }
        let (start, message) = self.write();
        Step::Write(start, message)
    }

    /// The next write: first the person's note, then a keystroke or a drag step. Returns
    /// the clock the update starts at if it carries new items (starting a note's text
    /// over only deletes), and the sync message.
    fn write(&mut self) -> (Option<u32>, Vec<u8>) {
        self.step += 1;
        let start = self.clock();
        let update = {
            let mut txn = self.doc.transact_mut();
            if self.step == 1 {
                let (x, y) = self.place(0);
                let note = NewNote::at(x, y, "").by(format!("soak {}", self.client));
                self.board.add_note(&mut txn, &self.note, note);
            } else if self.role == Role::Dragging {
                let (x, y) = self.place(self.step);
                self.board.move_note(&mut txn, &self.note, x, y);
            } else {
                if self.text.len() >= 160 {
                    self.text.clear();
                } else {
                    self.text
                        .push(char::from(PHRASE[self.text.len() % PHRASE.len()]));
                }
                self.board.edit_text(&mut txn, &self.note, &self.text);
            }
            txn.encode_update_v1()
        };
        let carries = self.clock() > start;
        (carries.then_some(start), wire::update_message(update))
    }

    /// The awareness message announcing this person again (a heartbeat).
    fn presence(&mut self) -> Result<Vec<u8>, String> {
        let working = (self.role != Role::Idle).then(|| self.note.to_string());
        let (x, y) = self.place(self.step);
        let presence = Presence {
            user: PresenceUser {
                name: format!("soak {}", self.client),
                color: cursor_color(self.client).into(),
            },
            cursor: Some(Point { x, y }),
            editing: working.clone(),
            moving: working.filter(|_| self.moving),
        };
        self.awareness
            .set_local_state(&presence)
            .map_err(|e| format!("presence: {e}"))?;
        let update = self
            .awareness
            .update()
            .map_err(|e| format!("presence: {e}"))?;
        Ok(Message::Awareness(update).encode_v1())
    }
}

/// One write waiting for its receipts.
struct Sent {
    clock: u32,
    at: Instant,
    arrivals: u32,
}

/// The writes of one board's connections, each writer's in clock order, so that a
/// receipt finds its write by the clock its update starts at.
struct Writes {
    logs: HashMap<u64, Mutex<VecDeque<Sent>>>,
    /// How many connections each write should reach.
    receivers: u32,
}

impl Writes {
    fn new(clients: impl Iterator<Item = u64>, receivers: u32) -> Writes {
        Writes {
            logs: clients.map(|c| (c, Mutex::default())).collect(),
            receivers,
        }
    }

    /// `client` sends an update starting at `clock` now; writes older than [`KEEP`] are
    /// done with.
    fn sent(&self, client: u64, clock: u32, stats: &Stats) {
        let Some(log) = self.logs.get(&client) else {
            return;
        };
        let mut log = lock(log);
        let now = Instant::now();
        while log.front().is_some_and(|s| now - s.at > KEEP) {
            let done = log.pop_front().expect("a front");
            stats.undelivered.fetch_add(
                u64::from(self.receivers.saturating_sub(done.arrivals)),
                Relaxed,
            );
        }
        log.push_back(Sent {
            clock,
            at: now,
            arrivals: 0,
        });
    }

    /// Connection `me` received `update` at `now`: times the writes it carries.
    fn arrived(&self, me: u64, update: &[u8], now: Instant, stats: &Stats) {
        let Ok(update) = Update::decode_v1(update) else {
            return;
        };
        for (client, clock) in update.state_vector_lower().iter() {
            let client = client.get();
            let Some(log) = self.logs.get(&client).filter(|_| client != me) else {
                continue;
            };
            let mut log = lock(log);
            if let Ok(i) = log.binary_search_by_key(clock, |s| s.clock) {
                log[i].arrivals += 1;
                stats.latency(now - log[i].at);
            }
        }
    }

    /// Counts every write still short of a receipt as undelivered.
    fn settle(&self, stats: &Stats) {
        for log in self.logs.values() {
            for done in lock(log).drain(..) {
                stats.undelivered.fetch_add(
                    u64::from(self.receivers.saturating_sub(done.arrivals)),
                    Relaxed,
                );
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counters every connection adds to; the main task reads them.
struct Stats {
    open: AtomicUsize,
    updates: AtomicU64,
    presence: AtomicU64,
    latency: Vec<AtomicU64>,
    /// The longest fan-out since the last progress line, microseconds.
    max_us: AtomicU64,
    undelivered: AtomicU64,
    dropped: AtomicU64,
    errors: AtomicU64,
    /// The first few reasons for `dropped` and `errors`.
    problems: Mutex<Vec<String>>,
}

#[derive(Clone)]
struct Snapshot {
    updates: u64,
    presence: u64,
    latency: Vec<u64>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            open: AtomicUsize::new(0),
            updates: AtomicU64::new(0),
            presence: AtomicU64::new(0),
            latency: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_us: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            problems: Mutex::default(),
        }
    }

    fn latency(&self, d: Duration) {
        let us = (d.as_micros() as u64).min(u64::from(u32::MAX));
        self.latency[bucket(us)].fetch_add(1, Relaxed);
        self.max_us.fetch_max(us, Relaxed);
    }

    fn problem(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Relaxed);
        let mut problems = lock(&self.problems);
        if problems.len() < 20 {
            problems.push(what);
        }
    }

    fn show_problems(&self) {
        for p in lock(&self.problems).iter() {
            println!("  problem         {p}");
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            updates: self.updates.load(Relaxed),
            presence: self.presence.load(Relaxed),
            latency: self.latency.iter().map(|b| b.load(Relaxed)).collect(),
        }
    }
}

/// Latency buckets: exact below 128 µs, then 64 per power of two (within 1.6 %), up to
/// `u32::MAX` µs.
const BUCKETS: usize = 128 + (32 - 7) * 64;

fn bucket(us: u64) -> usize {
    if us < 128 {
        return us as usize;
    }
    let e = u64::from(63 - us.leading_zeros());
    let m = us >> (e - 6);
    (128 + (e - 7) * 64 + (m - 64)) as usize
}

/// The largest value bucket `i` holds.
fn bucket_top(i: usize) -> u64 {
    if i < 128 {
        return i as u64;
    }
    let j = i as u64 - 128;
    let (e, m) = (j / 64 + 7, j % 64 + 64);
    ((m + 1) << (e - 6)) - 1
}

/// The fan-out latencies between two snapshots.
struct Latencies {
    counts: Vec<u64>,
    max_us: u64,
}

impl Latencies {
    fn between(a: &Snapshot, b: &Snapshot, max_us: u64) -> Latencies {
        let counts = b
            .latency
            .iter()
            .zip(&a.latency)
            .map(|(b, a)| b - a)
            .collect();
        Latencies { counts, max_us }
    }

    fn percentile_us(&self, p: f64) -> Option<u64> {
        let n: u64 = self.counts.iter().sum();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        let i = self.counts.iter().position(|&c| {
            seen += c;
            seen >= rank
        })?;
        Some(bucket_top(i).min(self.max_us))
    }

    fn line(&self) -> String {
        let ms = |us: Option<u64>| us.map_or("-".into(), |us| format!("{:.2}", us as f64 / 1000.0));
        format!(
            "p50 {} p95 {} p99 {} max {} ({} receipts)",
            ms(self.percentile_us(50.0)),
            ms(self.percentile_us(95.0)),
            ms(self.percentile_us(99.0)),
            ms((self.counts.iter().sum::<u64>() > 0).then_some(self.max_us)),
            self.counts.iter().sum::<u64>(),
        )
    }
}

/// The first and the largest of a series of samples.
struct Extremes {
    first: u64,
    peak: u64,
}

impl Extremes {
    fn new(first: u64) -> Extremes {
        Extremes { first, peak: first }
    }

    fn see(&mut self, v: u64) {
        self.peak = self.peak.max(v);
    }
}

/// Raises this process's soft limit on open files to `need` if it is lower (the server,
/// started after, inherits it); fails if the hard limit does not allow it.
fn raise_fd_limit(need: u64) -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
    }
    if limit.rlim_cur >= need {
        return Ok(limit.rlim_cur);
    }
    if limit.rlim_max < need {
        return Err(format!(
            "the open-file limit is {} (hard limit {}) and the soak needs {need}, for its \
             own sockets and the server's; raise it in the shell first (`ulimit -n {need}`, \
             which may need root or `LimitNOFILE`/limits.conf), or soak fewer boards",
            limit.rlim_cur, limit.rlim_max
        ));
    }
    limit.rlim_cur = need;
    // SAFETY: setrlimit only reads the struct it is given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!(
            "setrlimit to {need} open files: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(need)
}

/// The servers under soak: one node on sled, or several on one PostgreSQL database.
struct Deployment {
    nodes: Vec<Hindsight>,
    /// The database the nodes share; its cluster stops when this process exits.
    database: Option<String>,
}

impl Deployment {
    async fn start(o: &Options, connections: usize) -> Result<Deployment, String> {
        let database = match o.database {
            // The tests' cluster: a fresh `initdb` on a free loopback port, `fsync` on.
            true => Some(
                tokio::task::spawn_blocking(hindsight_tests::postgres::database)
                    .await
                    .map_err(|e| format!("start PostgreSQL: {e}"))?,
            ),
            false => None,
        };
        // Each node may be handed every connection of a board, and a share of the rest.
        let per_node = connections.div_ceil(o.nodes);
        let mut nodes = Vec::with_capacity(o.nodes);
        for _ in 0..o.nodes {
            let node = Hindsight::start(&o.hindsight, per_node, o.per_board, database.as_deref());
            nodes.push(node.await?);
        }
        Ok(Deployment { nodes, database })
    }

    /// Where boards are made (any node would do).
    fn addr(&self) -> SocketAddr {
        self.nodes[0].addr
    }

    /// The board at `path` (`/ws/ID?token=…`) on every node, as clients reach it.
    fn room(&self, path: &str) -> Room {
        let urls: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("ws://{}{path}", n.addr))
            .collect();
        Room {
            url: urls[0].clone(),
            nodes: if urls.len() > 1 { urls } else { Vec::new() },
            framing: Framing::Plain,
        }
    }

    fn pids(&self) -> String {
        let pids: Vec<String> = self.nodes.iter().map(|n| n.pid.to_string()).collect();
        pids.join(", ")
    }

    /// Each node's resident memory (KiB) and open files.
    fn sample(&self) -> Vec<(u64, u64)> {
        self.nodes.iter().map(Hindsight::sample).collect()
    }

    /// The first node that exited, and how.
    fn exited(&mut self) -> Option<String> {
        self.nodes
            .iter_mut()
            .enumerate()
            .find_map(|(i, n)| Some(format!("node {} {}", i + 1, n.exited()?)))
    }

    fn log_tail(&self) -> String {
        self.each(|n| n.log_tail()).join(" || ")
    }

    /// The lines every node logged at WARN and at ERROR.
    fn log_levels(&self) -> (Vec<String>, Vec<String>) {
        let (mut warnings, mut errors) = (Vec::new(), Vec::new());
        for (i, node) in self.nodes.iter().enumerate() {
            let (w, e) = node.log_levels();
            let named = |line: String| match self.nodes.len() {
                1 => line,
                _ => format!("node {}: {line}", i + 1),
            };
            warnings.extend(w.into_iter().map(named));
            errors.extend(e.into_iter().map(named));
        }
        (warnings, errors)
    }

    /// SIGTERM to every node; how each went, or the first that did not stop cleanly.
    async fn stop(&mut self) -> Result<String, String> {
        let mut how = Vec::new();
        for node in &mut self.nodes {
            how.push(node.stop().await?);
        }
        how.dedup();
        Ok(how.join("; "))
    }

    /// `f` of each node, labelled with its number when there are several.
    fn each(&self, f: impl Fn(&Hindsight) -> String) -> Vec<String> {
        match self.nodes.len() {
            1 => vec![f(&self.nodes[0])],
            _ => self
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| format!("node {}: {}", i + 1, f(n)))
                .collect(),
        }
    }
}

/// Connections to the soak's database open now: PostgreSQL serves each with a process
/// of its own, titled `postgres: USER DATABASE HOST(PORT) STATE`, so connections a node
/// leaks show as a count that grows (and other clusters' processes are not counted).
fn database_connections(url: &str) -> usize {
    let Some(name) = url.rsplit('/').next().and_then(|n| n.split('?').next()) else {
        return 0;
    };
    let wanted = format!(" {name} ");
    peers::postgres_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|title| String::from_utf8_lossy(&title).contains(&wanted))
        })
        .count()
}

/// One server under soak: its process (killed if dropped) and its data directory.
struct Hindsight {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    data: tempfile::TempDir,
}

impl Hindsight {
    async fn start(
        binary: &PathBuf,
        connections: usize,
        per_board: usize,
        database: Option<&str>,
    ) -> Result<Hindsight, String> {
        let data = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?;
        let log = std::fs::File::create(data.path().join("server.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let mut command = Command::new(binary);
        command
            .args(["--addr", &addr.to_string(), "--data-dir"])
            .arg(data.path().join("store"))
            .args(["--creates-per-minute", "1000000"]);
        if let Some(url) = database {
            command.args(["--database", url]);
        }
        if connections > DEFAULT_MAX_CONNECTIONS {
            command.args(["--max-connections", &connections.to_string()]);
        }
        if per_board > DEFAULT_MAX_BOARD_CONNECTIONS {
            command.args(["--max-board-connections", &per_board.to_string()]);
        }
        let child = command
            .current_dir(data.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("start {}: {e}", binary.display()))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let mut server = Hindsight {
            child,
            pid,
            addr,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            if let Some(status) = server.exited() {
                return Err(format!(
                    "the server exited ({status}): {}",
                    server.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err("the server did not listen within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    /// Resident memory (KiB) and open files of the process, 0 when it is gone.
    fn sample(&self) -> (u64, u64) {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid)).map_or(0, |d| d.count());
        (peers::rss_kib(self.pid).unwrap_or(0), fds as u64)
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    /// The lines the server logged at WARN and at ERROR, without colours.
    fn log_levels(&self) -> (Vec<String>, Vec<String>) {
        let (mut warnings, mut errors) = (Vec::new(), Vec::new());
        for line in self.log().lines().map(plain) {
            // `TIME LEVEL target: message`
            match line.split_whitespace().nth(1) {
                Some("WARN") => warnings.push(line),
                Some("ERROR") => errors.push(line),
                _ => {}
            }
        }
        (warnings, errors)
    }

    /// SIGTERM, as an operator stops it, and how it went.
    async fn stop(&mut self) -> Result<String, String> {
        // SAFETY: kill only sends a signal, to our own child, which has not been reaped.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(format!("stopped by SIGTERM ({status})")),
            Ok(Ok(status)) => Err(format!(
                "exited with {status} on SIGTERM: {}",
                self.log_tail()
            )),
            Ok(Err(e)) => Err(format!("waiting for the server: {e}")),
            Err(_) => {
                let _ = self.child.kill().await;
                Err("did not stop within 30 s of SIGTERM; killed".into())
            }
        }
    }
}

/// Notes each node's memory and open files in `rss` and `fds`, node by node.
fn see_all(rss: &mut [Extremes], fds: &mut [Extremes], held: &[(u64, u64)]) {
    for ((r, f), &(rh, fh)) in rss.iter_mut().zip(fds.iter_mut()).zip(held) {
        r.see(rh);
        f.see(fh);
    }
}

/// `line` without its terminal colour sequences (`ESC [ … m`).
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}m{:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_within_two_percent() {
        for us in [
            0,
            1,
            127,
            128,
            129,
            1000,
            4321,
            65_535,
            1_000_000,
            u64::from(u32::MAX),
        ] {
            let i = bucket(us);
            assert!(i < BUCKETS, "{us} µs in bucket {i}");
            let top = bucket_top(i);
            assert!(
                top >= us && top as f64 <= us as f64 * 1.02 + 1.0,
                "{us} µs, top {top}"
            );
            assert!(
                i == 0 || bucket_top(i - 1) < us,
                "{us} µs belongs to an earlier bucket"
            );
        }
    }

    #[test]
    fn percentiles_come_from_the_counts_between_snapshots() {
        let stats = Stats::new();
        let before = stats.snapshot();
        for ms in 1..=100 {
            stats.latency(Duration::from_millis(ms));
        }
        let lat = Latencies::between(&before, &stats.snapshot(), stats.max_us.load(Relaxed));
        let ms = |p| lat.percentile_us(p).unwrap() as f64 / 1000.0;
        assert!((ms(50.0) - 50.0).abs() < 1.0, "p50 {}", ms(50.0));
        assert!((ms(99.0) - 99.0).abs() < 2.0, "p99 {}", ms(99.0));
        assert_eq!(lat.percentile_us(100.0), Some(100_000));
        let empty = Latencies::between(&before, &before, 0);
        assert_eq!(empty.percentile_us(50.0), None);
    }

    /// A write is found again in what a server relays: another replica's re-encoding of
    /// it, taken from that replica's document.
    #[test]
    fn receipts_find_their_writes_and_undelivered_ones_are_counted() {
        let stats = Stats::new();
        let (writer, reader) = (client_id(0), client_id(1));
        let writes = Writes::new([writer, reader].into_iter(), 1);
        let mut person = Person::new(writer, Role::Typing);
        let mut relayed = Vec::new();
        for _ in 0..4 {
            let (start, message) = person.write();
            writes.sent(writer, start.expect("a note, then characters"), &stats);
            relayed.push(message);
        }
        let server = new_doc(None);
        let mut arrivals = 0;
        for message in relayed {
            let Incoming::Update(update) = wire::decode(&message) else {
                panic!("an update message");
            };
            let before = server.transact().state_vector();
            server
                .transact_mut()
                .apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
            let delta = server.transact().encode_state_as_update_v1(&before);
            // Its own write does not count as a receipt for the writer.
            writes.arrived(writer, &delta, Instant::now(), &stats);
            if arrivals < 3 {
                writes.arrived(reader, &delta, Instant::now(), &stats);
                arrivals += 1;
            }
        }
        let counted: u64 = stats.snapshot().latency.iter().sum();
        assert_eq!(counted, 3);
        writes.settle(&stats);
        assert_eq!(stats.undelivered.load(Relaxed), 1);
    }

    #[test]
    fn log_lines_lose_their_colours() {
        let line = "\u{1b}[2m2026-12-01T23:22:12Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m x: slow";
        assert_eq!(plain(line), "2026-12-01T23:22:12Z  WARN x: slow");
        assert_eq!(plain(line).split_whitespace().nth(1), Some("WARN"));
    }

    #[test]
    fn options() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = parse(&args("--hindsight /bin/h")).unwrap();
        assert_eq!(
            (o.run_for, o.boards, o.per_board),
            (Duration::from_secs(600), 200, 10)
        );
        let o = parse(&args("--hindsight h --minutes 2 --boards 3 --per-board 4")).unwrap();
        assert_eq!(
            (o.run_for, o.boards, o.per_board),
            (Duration::from_secs(120), 3, 4)
        );
        assert!(parse(&args("--hindsight h --minutes 0")).is_err());
        assert!(parse(&args("--hindsight h --per-board 1")).is_err());
        assert!(parse(&args("--minutes 1")).is_err());
        let o = parse(&args("--hindsight h --database --nodes 2")).unwrap();
        assert_eq!((o.database, o.nodes), (true, 2));
        assert!(!parse(&args("--hindsight h")).unwrap().database);
        assert!(parse(&args("--hindsight h --nodes 2")).is_err());
    }
}
