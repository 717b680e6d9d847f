//! The load generator: thin clients that send pre-encoded updates on an open-loop
//! schedule and timestamp every receipt on one clock, and full clients (real Yrs replicas)
//! that check at the end that they converged on everything that was sent.
//!
//! A run owns its sockets and tasks; every task ends when every expected receipt has
//! arrived or at the run's deadline, whichever is first, so nothing outlives `drive`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hindsight_shared::Board;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Transact, Update};

use crate::updates::{self, Index, Script};
use crate::wire::{self, Incoming, Room};

/// What to run: `clients_per_room` thin clients in each room, each sending `per_client`
/// updates at `rate` updates per second (open loop: the schedule does not wait for the
/// server), with two full clients in the first room.
pub struct Load {
    pub rooms: Vec<Room>,
    pub clients_per_room: usize,
    pub rate: f64,
    pub per_client: usize,
    /// Distinguishes the client ids of successive runs on one server.
    pub first_script: usize,
    /// Whether the server answers sync step 1 (the null relay does not).
    pub syncs: bool,
}

#[derive(Debug)]
pub struct Outcome {
    /// Fan-out latency of every receipt, microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// The same for receipts on another node than the sender's (several nodes), sorted.
    pub cross_node_us: Vec<u32>,
    pub sent: u64,
    /// Receipts a lossless server would deliver: every update to every other client in
    /// its room.
    pub expected: u64,
    pub received: u64,
    /// Sends that were more than 100 ms behind their schedule (the generator could not
    /// keep up).
    pub late_sends: u64,
    /// Connections the server closed or that failed.
    pub dropped: usize,
    /// `Ok` when both full replicas hold every sent update and agree.
    pub converged: Result<(), String>,
}

impl Outcome {
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        percentile(&self.latencies_us, p).map(|us| f64::from(us) / 1000.0)
    }

    /// A percentile of the receipts that crossed between nodes; `None` on one node.
    pub fn cross_node_ms(&self, p: f64) -> Option<f64> {
        percentile(&self.cross_node_us, p).map(|us| f64::from(us) / 1000.0)
    }

    pub fn delivered(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.received as f64 / self.expected as f64
        }
    }
}

pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Send times of every script message, nanoseconds after `start` plus one (0 = unsent),
/// and running totals the run watches to end early.
struct Clock {
    start: Instant,
    sent: Vec<Vec<AtomicU64>>,
    sends: AtomicU64,
    receipts: AtomicU64,
}

impl Clock {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64 + 1
    }
}

/// How long receivers wait for stragglers after the last scheduled send, at most.
const GRACE: Duration = Duration::from_secs(3);

pub async fn drive(load: &Load) -> Result<Outcome, String> {
    let clients = load.rooms.len() * load.clients_per_room;
    let scripts: Vec<Script> = (0..clients)
        .map(|i| updates::script(load.first_script + i, load.per_client))
        .collect();
    let index = Arc::new(Index::new(&scripts));
    let ends: Vec<(u64, Vec<u32>)> = scripts.iter().map(|s| (s.client, s.ends.clone())).collect();
    let clock = Arc::new(Clock {
        start: Instant::now(),
        sent: scripts
            .iter()
            .map(|s| s.messages.iter().map(|_| AtomicU64::new(0)).collect())
            .collect(),
        sends: AtomicU64::new(0),
        receipts: AtomicU64::new(0),
    });

    // Full clients first, so they see everything from the start.
    let first = load.rooms.first().ok_or("no rooms")?.clone();
    // On several nodes, one on each of the first two.
    let mut full = Vec::new();
    for k in 0..2 {
        full.push(FullClient::connect(&first.on_node(k), load.syncs).await?);
    }

    let mut connections = Vec::with_capacity(clients);
    for (i, script) in scripts.into_iter().enumerate() {
        let room = load.rooms[i / load.clients_per_room].on_node(i);
        let (mut sink, mut stream) = room.connect().await?;
        if load.syncs {
            wire::wait_step2(&room, &mut sink, &mut stream).await?;
        }
        connections.push((i, room, script, sink, stream));
    }

    let period = Duration::from_secs_f64(1.0 / load.rate);
    let send_time = period * load.per_client as u32;
    let begin = Instant::now() + Duration::from_millis(200);
    let deadline = begin + send_time + GRACE;
    // Tells every client to stop: all receipts are in, or the deadline passed.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::with_capacity(clients);
    for (i, room, script, sink, stream) in connections {
        let same_room = (i / load.clients_per_room) * load.clients_per_room
            ..(i / load.clients_per_room + 1) * load.clients_per_room;
        // Spread the clients' first sends over one period.
        let offset = period.mul_f64(i as f64 / clients as f64);
        let clock = Arc::clone(&clock);
        let index = Arc::clone(&index);
        // Each client's task owns its socket; it ends when told to stop, at `deadline`,
        // or on a socket error.
        tasks.push(tokio::spawn(thin_client(ThinClient {
            me: i,
            nodes: room.node_count(),
            same_room,
            room,
            script,
            sink,
            stream,
            clock,
            index,
            begin: begin + offset,
            period,
            deadline,
            stop: stop_rx.clone(),
        })));
    }

    // Every update reaches the other clients of its room; stop once all have.
    let total = (clients * load.per_client) as u64;
    let fan_out = load.clients_per_room as u64 - 1;
    tokio::time::sleep_until(begin + send_time).await;
    while Instant::now() < deadline {
        let sends = clock.sends.load(Ordering::Relaxed);
        if sends == total && clock.receipts.load(Ordering::Relaxed) >= sends * fan_out {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);

    let mut outcome = Outcome {
        latencies_us: Vec::new(),
        cross_node_us: Vec::new(),
        sent: 0,
        expected: 0,
        received: 0,
        late_sends: 0,
        dropped: 0,
        converged: Ok(()),
    };
    for task in tasks {
        let result = task.await.map_err(|e| format!("client task: {e}"))?;
        outcome.sent += result.sent;
        outcome.received += result.latencies_us.len() as u64;
        outcome.late_sends += result.late;
        outcome.dropped += usize::from(result.dropped);
        outcome.latencies_us.extend(result.latencies_us);
        outcome.cross_node_us.extend(result.cross_node_us);
    }
    // Each message was due at every other client in its room.
    let sent_per_client: Vec<u64> = clock
        .sent
        .iter()
        .map(|s| s.iter().filter(|t| t.load(Ordering::Relaxed) > 0).count() as u64)
        .collect();
    outcome.expected = sent_per_client
        .iter()
        .map(|n| n * (load.clients_per_room as u64 - 1))
        .sum();
    outcome.latencies_us.sort_unstable();
    outcome.cross_node_us.sort_unstable();

    // The full clients have had the grace period too; all of the first room's updates
    // must be in both replicas.
    let wanted: Vec<(u64, u32)> = (0..load.clients_per_room.min(clients))
        .filter(|&i| sent_per_client[i] > 0)
        .map(|i| (ends[i].0, ends[i].1[sent_per_client[i] as usize - 1]))
        .collect();
    outcome.converged = converged(full, &wanted).await;
    Ok(outcome)
}

struct ThinClient {
    me: usize,
    /// Nodes the clients are spread over: client `i` is on node `i % nodes`.
    nodes: usize,
    same_room: std::ops::Range<usize>,
    room: Room,
    script: Script,
    sink: wire::Sink,
    stream: wire::Stream,
    clock: Arc<Clock>,
    index: Arc<Index>,
    begin: Instant,
    period: Duration,
    deadline: Instant,
    stop: tokio::sync::watch::Receiver<bool>,
}

#[derive(Default)]
struct ThinResult {
    sent: u64,
    late: u64,
    latencies_us: Vec<u32>,
    cross_node_us: Vec<u32>,
    dropped: bool,
}

async fn thin_client(c: ThinClient) -> ThinResult {
    let ThinClient {
        me,
        nodes,
        same_room,
        room,
        script,
        mut sink,
        mut stream,
        clock,
        index,
        begin,
        period,
        deadline,
        mut stop,
    } = c;
    let frames: Vec<WsMessage> = script
        .messages
        .iter()
        .map(|m| WsMessage::Binary(room.frame(m).into()))
        .collect();
    let mut result = ThinResult::default();
    let mut next = 0usize;
    let mut ticks = tokio::time::interval_at(begin, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = tokio::time::sleep_until(deadline);
    tokio::pin!(end);
    loop {
        tokio::select! {
            biased;
            () = &mut end => break,
            _ = stop.changed() => break,
            frame = stream.next() => {
                let bytes = match frame {
                    Some(Ok(WsMessage::Binary(b))) => b,
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                        result.dropped = true;
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                let now = clock.now_ns();
                let Some(message) = room.unframe(&bytes) else { continue };
                if let Incoming::Update(update) | Incoming::Step2(update) = wire::decode(message) {
                    index.find(&update, |s, m| {
                        if s == me || !same_room.contains(&s) {
                            return;
                        }
                        let sent = clock.sent[s][m].load(Ordering::Relaxed);
                        if sent > 0 && now > sent {
                            let us = ((now - sent) / 1000).min(u64::from(u32::MAX)) as u32;
                            result.latencies_us.push(us);
                            if s % nodes != me % nodes {
                                result.cross_node_us.push(us);
                            }
                            clock.receipts.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
            due = ticks.tick(), if next < frames.len() => {
                if due.elapsed() > Duration::from_millis(100) {
                    result.late += 1;
                }
                clock.sent[me][next].store(clock.now_ns(), Ordering::Relaxed);
                if sink.send(frames[next].clone()).await.is_err() {
                    result.dropped = true;
                    break;
                }
                next += 1;
                result.sent += 1;
                clock.sends.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let _ = sink.close().await;
    result
}

/// A real replica: applies everything the server sends.
struct FullClient {
    doc: yrs::Doc,
    task: tokio::task::JoinHandle<Result<(), String>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl FullClient {
    async fn connect(room: &Room, syncs: bool) -> Result<FullClient, String> {
        let doc = hindsight_shared::schema::new_doc(None);
        let (mut sink, mut stream) = room.connect().await?;
        if syncs {
            let update = wire::wait_step2(room, &mut sink, &mut stream).await?;
            apply(&doc, &update)?;
        }
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let replica = doc.clone();
        let room = room.clone();
        // Owns the socket until told to stop (after the run) or the server closes it.
        let task = tokio::spawn(async move {
            // Held so the socket stays whole; the server expects nothing from us.
            let _sink = sink;
            loop {
                tokio::select! {
                    _ = &mut stopped => return Ok(()),
                    frame = stream.next() => match frame {
                        Some(Ok(WsMessage::Binary(bytes))) => {
                            let Some(message) = room.unframe(&bytes) else { continue };
                            if let Incoming::Update(u) | Incoming::Step2(u) = wire::decode(message) {
                                apply(&replica, &u)?;
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(format!("full client: {e}")),
                        None => return Err("full client: connection ended".into()),
                    }
                }
            }
        });
        Ok(FullClient { doc, task, stop })
    }
}

fn apply(doc: &yrs::Doc, update: &[u8]) -> Result<(), String> {
    let update = Update::decode_v1(update).map_err(|e| format!("bad update from server: {e}"))?;
    doc.transact_mut()
        .apply_update(update)
        .map_err(|e| format!("update does not apply: {e}"))
}

/// Both replicas hold every `(client, clock)` in `wanted` and read the same notes.
async fn converged(full: Vec<FullClient>, wanted: &[(u64, u32)]) -> Result<(), String> {
    // The replicas may still be applying the last updates.
    let has_all = |doc: &yrs::Doc| {
        let sv = doc.transact().state_vector();
        wanted
            .iter()
            .all(|&(client, clock)| sv.get(&yrs::ClientID::new(client)) >= clock)
    };
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline && !full.iter().all(|c| has_all(&c.doc)) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut replicas = Vec::new();
    for client in full {
        let _ = client.stop.send(());
        client
            .task
            .await
            .map_err(|e| format!("full client task: {e}"))??;
        replicas.push(client.doc);
    }
    let mut notes = Vec::new();
    for (r, doc) in replicas.iter().enumerate() {
        let board = Board::new(doc);
        let txn = doc.transact();
        let sv = txn.state_vector();
        for &(client, clock) in wanted {
            let have = sv.get(&yrs::ClientID::new(client));
            if have < clock {
                return Err(format!(
                    "replica {} lacks updates of client {client}: has clock {have} of {clock}",
                    r + 1
                ));
            }
        }
        if txn.store().pending_update().is_some() {
            return Err(format!("replica {} has updates it cannot apply", r + 1));
        }
        notes.push(board.notes(&txn));
    }
    if notes[0] != notes[1] {
        return Err("the two replicas read different notes".into());
    }
    Ok(())
}
