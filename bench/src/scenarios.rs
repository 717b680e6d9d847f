//! The server scenarios P1–P4, each against one kind of server that it starts (fresh)
//! and stops itself. They return figures; whether a target is met is the report's job.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hindsight_shared::Board;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::updates::decoder::Decode;
use yrs::{Transact, Update};

use crate::load::{self, Load};
use crate::peers::{self, Kind, Server, Setup};
use crate::updates;
use crate::wire::{self, Room};

/// How big the scenarios are.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub quick: bool,
    pub runs: usize,
    pub p1_clients: usize,
    pub p1_secs: u64,
    pub p2_step_secs: u64,
    pub p3_boards: usize,
    pub p3_connections: usize,
    pub big_notes: usize,
}

impl Size {
    pub fn full() -> Size {
        Size {
            quick: false,
            runs: 3,
            p1_clients: 50,
            p1_secs: 60,
            p2_step_secs: 3,
            p3_boards: 100,
            p3_connections: 1000,
            big_notes: 10_000,
        }
    }

    pub fn quick() -> Size {
        Size {
            quick: true,
            runs: 1,
            p1_clients: 20,
            p1_secs: 5,
            p2_step_secs: 1,
            p3_boards: 20,
            p3_connections: 200,
            big_notes: 2_000,
        }
    }
}

/// P1's updates per second per client.
const P1_RATE: f64 = 10.0;

#[derive(Clone, Debug)]
pub struct FanOut {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub delivered: f64,
    /// The server's CPU time (user and system) over the load, divided by the updates it
    /// relayed: independent of how fast the load generator is. Every node's, for
    /// several.
    pub cpu_us_per_update: f64,
    /// The same for PostgreSQL's processes, for a server on PostgreSQL.
    pub database_cpu_us_per_update: Option<f64>,
    /// p99 of the receipts on another node than the sender's, for several nodes.
    pub cross_node_p99_ms: Option<f64>,
}

/// P1: many clients on one board, each sending at 10 updates/s; fan-out latency.
pub async fn p1(kind: Kind, setup: &Setup, size: Size) -> Result<FanOut, String> {
    let mut runs = Vec::new();
    for run in 0..size.runs {
        let mut server = Server::start(kind, setup).await?;
        let room = server.room().await?;
        let cpu_before = server.cpu_time();
        let database_before = kind.on_postgres().then(peers::postgres_cpu_time);
        let outcome = load::drive(&Load {
            rooms: vec![room],
            clients_per_room: size.p1_clients,
            rate: P1_RATE,
            per_client: (P1_RATE as u64 * size.p1_secs) as usize,
            first_script: run * 10_000,
            syncs: kind.is_crdt(),
        })
        .await;
        let cpu_used = cpu_before
            .zip(server.cpu_time())
            .map(|(b, a)| a.saturating_sub(b));
        let database_used = database_before.map(|b| peers::postgres_cpu_time().saturating_sub(b));
        let alive = server.alive();
        let log = server.log_tail();
        server.stop().await;
        let outcome = outcome?;
        if !alive {
            return Err(format!("the server died: {log}"));
        }
        outcome
            .converged
            .as_ref()
            .map_err(|e| format!("replicas did not converge: {e}"))?;
        if outcome.dropped > 0 {
            return Err(format!("{} connections were dropped", outcome.dropped));
        }
        let per_update = |cpu: Duration| cpu.as_micros() as f64 / outcome.sent.max(1) as f64;
        runs.push(FanOut {
            database_cpu_us_per_update: database_used.map(per_update),
            cross_node_p99_ms: outcome.cross_node_ms(99.0),
            p50_ms: outcome.percentile_ms(50.0).ok_or("nothing received")?,
            p99_ms: outcome.percentile_ms(99.0).ok_or("nothing received")?,
            p999_ms: outcome.percentile_ms(99.9).ok_or("nothing received")?,
            delivered: outcome.delivered(),
            cpu_us_per_update: cpu_used
                .filter(|_| outcome.sent > 0)
                .map(per_update)
                .ok_or("the server's CPU time could not be read")?,
        });
    }
    Ok(FanOut {
        p50_ms: median(runs.iter().map(|r| r.p50_ms)),
        p99_ms: median(runs.iter().map(|r| r.p99_ms)),
        p999_ms: median(runs.iter().map(|r| r.p999_ms)),
        delivered: median(runs.iter().map(|r| r.delivered)),
        cpu_us_per_update: median(runs.iter().map(|r| r.cpu_us_per_update)),
        database_cpu_us_per_update: median_of_some(
            runs.iter().map(|r| r.database_cpu_us_per_update),
        ),
        cross_node_p99_ms: median_of_some(runs.iter().map(|r| r.cross_node_p99_ms)),
    })
}

#[derive(Clone, Debug)]
pub struct Sustained {
    /// The highest offered rate every update of which was delivered in time, updates/s.
    pub rate: f64,
    /// Why the ramp stopped above it.
    pub limit: String,
}

/// Offered rates of the ramp, updates per second across all writers.
const RAMP: &[f64] = &[
    250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 32000.0,
];
/// A step is sustained when this share of the fan-out arrived…
const RAMP_DELIVERED: f64 = 0.99;
/// …and its 99th percentile latency stayed under this.
const RAMP_P99_MS: f64 = 1000.0;

/// P2: an open-loop ramp of writers on `boards` boards (`writers` each); the highest
/// rate sustained. Writers receive each other's updates, as people on a board do.
pub async fn p2(
    kind: Kind,
    setup: &Setup,
    size: Size,
    boards: usize,
    writers: usize,
) -> Result<Sustained, String> {
    let mut runs = Vec::new();
    for _ in 0..size.runs {
        runs.push(ramp(kind, setup, size, boards, writers).await?);
    }
    runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    Ok(runs[runs.len() / 2].clone())
}

async fn ramp(
    kind: Kind,
    setup: &Setup,
    size: Size,
    boards: usize,
    writers: usize,
) -> Result<Sustained, String> {
    let mut server = Server::start(kind, setup).await?;
    let mut rooms = Vec::with_capacity(boards);
    for _ in 0..boards {
        rooms.push(server.room().await?);
    }
    let clients = boards * writers;
    let mut best = 0.0;
    let mut limit = format!(
        "sustained the top step ({} updates/s)",
        RAMP[RAMP.len() - 1]
    );
    for (step, &rate) in RAMP.iter().enumerate() {
        let per_client_rate = rate / clients as f64;
        let outcome = load::drive(&Load {
            rooms: rooms.clone(),
            clients_per_room: writers,
            rate: per_client_rate,
            per_client: (per_client_rate * size.p2_step_secs as f64).ceil() as usize,
            first_script: (step + 1) * 100_000,
            syncs: kind.is_crdt(),
        })
        .await;
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                limit = format!("at {rate}/s: {e}");
                break;
            }
        };
        let p99 = outcome.percentile_ms(99.0).unwrap_or(f64::INFINITY);
        let generator_late = outcome.late_sends as f64 > 0.01 * outcome.sent as f64;
        if outcome.dropped > 0 {
            limit = format!(
                "at {rate}/s the server closed {} connections",
                outcome.dropped
            );
            break;
        }
        if outcome.delivered() < RAMP_DELIVERED || p99 > RAMP_P99_MS {
            limit = format!(
                "at {rate}/s: {:.1}% delivered, p99 {p99:.0} ms{}",
                outcome.delivered() * 100.0,
                if generator_late {
                    " (the load generator was late too)"
                } else {
                    ""
                }
            );
            break;
        }
        if generator_late {
            limit = format!(
                "the load generator fell behind at {rate}/s; the server kept up (p99 {p99:.0} ms)"
            );
            break;
        }
        if let Err(e) = &outcome.converged {
            limit = format!("at {rate}/s replicas did not converge: {e}");
            break;
        }
        best = rate;
    }
    if !server.alive() {
        limit = format!("{limit}; the server died: {}", server.log_tail());
    }
    server.stop().await;
    Ok(Sustained { rate: best, limit })
}

#[derive(Clone, Debug)]
pub struct Memory {
    pub per_connection_kib: f64,
    pub per_board_kib: f64,
    /// The board with `big_notes` notes; `None` when the server holds no documents.
    pub big_board_mib: Option<f64>,
}

/// P3: resident memory of idle connections, idle boards and one big board.
pub async fn p3(kind: Kind, setup: &Setup, size: Size) -> Result<Memory, String> {
    let mut runs = Vec::new();
    for _ in 0..size.runs {
        runs.push(memory(kind, setup, size).await?);
    }
    Ok(Memory {
        per_connection_kib: median(runs.iter().map(|r| r.per_connection_kib)),
        per_board_kib: median(runs.iter().map(|r| r.per_board_kib)),
        big_board_mib: runs[0]
            .big_board_mib
            .map(|_| median(runs.iter().map(|r| r.big_board_mib.unwrap_or(f64::NAN)))),
    })
}

/// Memory settles (allocators, Node's collector) before it is read.
async fn settled_rss(server: &Server) -> Result<f64, String> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server
        .rss_kib()
        .map(|k| k as f64)
        .ok_or_else(|| "cannot read the server's memory".into())
}

async fn memory(kind: Kind, setup: &Setup, size: Size) -> Result<Memory, String> {
    let mut server = Server::start(kind, setup).await?;
    let mut rooms = Vec::new();
    for _ in 0..size.p3_boards {
        rooms.push(server.room().await?);
    }
    let syncs = kind.is_crdt();
    let open = |room: Room| async move {
        let (mut sink, mut stream) = room.connect().await?;
        if syncs {
            wire::wait_step2(&room, &mut sink, &mut stream).await?;
        }
        Ok::<_, String>((sink, stream))
    };
    // Connections stay open (held here) until the end of the measurement.
    let mut held = Vec::new();
    let base = settled_rss(&server).await?;
    for room in &rooms {
        held.push(open(room.clone()).await?);
    }
    let with_boards = settled_rss(&server).await?;
    let more = size.p3_connections - size.p3_boards;
    for i in 0..more {
        held.push(open(rooms[i % rooms.len()].clone()).await?);
    }
    let with_connections = settled_rss(&server).await?;
    let per_connection = (with_connections - with_boards) / more as f64;
    let per_board = (with_boards - base) / size.p3_boards as f64 - per_connection;

    let big_board_mib = if kind.is_crdt() {
        let room = server.room().await?;
        let before = settled_rss(&server).await?;
        let kept = seed(&room, size.big_notes).await?;
        let after = settled_rss(&server).await?;
        drop(kept);
        Some((after - before) / 1024.0)
    } else {
        None
    };
    drop(held);
    server.stop().await;
    Ok(Memory {
        per_connection_kib: per_connection,
        per_board_kib: per_board,
        big_board_mib,
    })
}

/// A seeding client's open socket: a board some servers unload when its last client
/// leaves. Dropping it closes the socket.
struct Seeded {
    _sink: wire::Sink,
    /// Reads (and discards) what the server sends, so it never finds the client slow.
    drain: tokio::task::JoinHandle<()>,
}

impl Drop for Seeded {
    fn drop(&mut self) {
        self.drain.abort();
    }
}

/// Writes `notes` notes into `room` in updates of 100 and checks, with a second client,
/// that the server holds them all.
async fn seed(room: &Room, notes: usize) -> Result<Seeded, String> {
    use futures_util::SinkExt;
    let (mut sink, mut stream) = room.connect().await?;
    wire::wait_step2(room, &mut sink, &mut stream).await?;
    for message in updates::seed_notes(7_000_000 + notes as u64, notes, 100) {
        sink.send(WsMessage::Binary(room.frame(&message).into()))
            .await
            .map_err(|e| format!("seed: {e}"))?;
    }
    let drain = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let seeded = Seeded { _sink: sink, drain };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, count) = open_and_count(room).await?;
        if count >= notes {
            return Ok(seeded);
        }
        if Instant::now() > deadline {
            return Err(format!("the server holds {count} of {notes} seeded notes"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Connects, waits for sync step 2, and counts the notes in it; the time that took.
async fn open_and_count(room: &Room) -> Result<(Duration, usize), String> {
    open_until(room, 0).await
}

/// Connects and waits for sync step 2, then, if it holds fewer than `notes` notes, for
/// the updates that complete the board (y-websocket answers before it has loaded a
/// stored document, and sends the stored state after). Returns the time from connecting
/// to the arrival of the message that completed the board, and the notes then held.
async fn open_until(room: &Room, notes: usize) -> Result<(Duration, usize), String> {
    let started = Instant::now();
    let (mut sink, mut stream) = room.connect().await?;
    let update = wire::wait_step2(room, &mut sink, &mut stream).await?;
    let mut took = started.elapsed();
    let doc = hindsight_shared::schema::new_doc(None);
    let board = Board::new(&doc);
    let apply = |update: &[u8]| -> Result<usize, String> {
        let update = Update::decode_v1(update).map_err(|e| format!("bad update: {e}"))?;
        doc.transact_mut()
            .apply_update(update)
            .map_err(|e| format!("update does not apply: {e}"))?;
        Ok(board.note_count(&doc.transact()) as usize)
    };
    let mut count = apply(&update)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count < notes {
        let frame = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(WsMessage::Binary(bytes)))) => bytes,
            Ok(Some(Ok(_))) => continue,
            Ok(_) | Err(_) => break,
        };
        let arrived = started.elapsed();
        let Some(message) = room.unframe(&frame) else {
            continue;
        };
        if let wire::Incoming::Update(u) | wire::Incoming::Step2(u) = wire::decode(message) {
            count = apply(&u)?;
            took = arrived;
        }
    }
    Ok((took, count))
}

/// P4: connect → sync step 2 of a stored board with `big_notes` notes, on a server
/// started cold for each open.
pub async fn p4(kind: Kind, setup: &Setup, size: Size) -> Result<f64, String> {
    let mut server = Server::start(kind, setup).await?;
    let room = server.room().await?;
    drop(seed(&room, size.big_notes).await?);
    // Debounced stores (Hocuspocus, y-sweet) write a few seconds after the last change.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut times = Vec::new();
    for _ in 0..size.runs {
        server.restart().await?;
        let (took, count) = open_until(&room, size.big_notes).await?;
        if count != size.big_notes {
            server.stop().await;
            return Err(format!(
                "after a restart the board has {count} of {} notes",
                size.big_notes
            ));
        }
        times.push(took.as_secs_f64() * 1000.0);
    }
    server.stop().await;
    Ok(median(times.into_iter()))
}

pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The median of the figures present, or `None` if no run had one.
fn median_of_some(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = values.flatten().collect();
    (!present.is_empty()).then(|| median(present.into_iter()))
}
