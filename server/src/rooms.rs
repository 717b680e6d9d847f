//! The live rooms: one task per active board that owns its [`Room`], loads it from the
//! store on first join, persists every change before delivering anything, and unloads
//! the board once nobody has been connected for a while.
//!
//! Ownership: the registry maps board ids to the command channel of each room task. A
//! room task owns its `Room` exclusively, so the document needs no lock. It stops when
//! it has been idle for `idle` (after writing a snapshot), when the store fails, when an
//! operator deletes its board (`Rooms::administer`), or on shutdown; all room tasks are spawned on the server's `TaskTracker`, so shutdown waits
//! for their last flush.
//!
//! Several nodes on one database (`Store::watch` is `Some`): a node-level task hears
//! which boards other nodes appended to and tells the rooms loaded here
//! (`Command::Remote`); a room then reads what it lacks (`Store::changes_since`),
//! applies it and relays it at once (it is durable already). It also catches up every
//! [`CATCH_UP_EVERY`] while it has members, and whenever its own write conflicts with
//! another node's, after which it writes again under the next free numbers; nothing of
//! the batch is delivered before that write commits. Presence goes between nodes the
//! same way (`Command::Presence`, `Store::publish_presence`), best effort and unstored.
//!
//! Rooms report what they do to `/metrics` (`stats.rs`): boards loaded, updates stored and
//! relayed, persist latency, and errors by kind.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use bytes::Bytes;
use hindsight_shared::{close, Access, AccessHashes, BoardId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use yrs::StateVector;

use crate::commit::GroupCommit;
use crate::history::{self, HistoryConfig};
use crate::limits::Limits;
use crate::room::{ConnId, Grew, ProtocolError, Room};
use crate::seats::{Seat, Seats};
use crate::stats::{self, ErrorKind};
use crate::store::{self, Appended, Heard, Links, Store, StoreError};

/// Tunables for room tasks.
#[derive(Clone, Debug)]
pub struct RoomConfig {
    /// How long a room with no connections stays loaded.
    pub idle: Duration,
    /// Fold the update log into a snapshot once it holds this many updates…
    pub compact_every: u64,
    /// …whose bytes add up to at least this share of the snapshot's size.
    pub compact_growth: f64,
    /// Messages queued for one connection before it is disconnected as too slow.
    pub outbox: usize,
    /// Bytes of frames queued for one connection before it is disconnected as too slow
    /// (a frame bigger than this still goes to a connection with nothing queued).
    pub outbox_bytes: usize,
    /// Commands queued for one room before senders wait.
    pub queue: usize,
    /// Document size, notes and connections per board (the others are not the rooms').
    pub limits: Limits,
    /// How often versions of a board are kept, and for how long.
    pub history: HistoryConfig,
    /// On a busy board, the least time between the starts of two batches: a batch that
    /// would start sooner waits out the rest, taking in what arrives meanwhile. Zero
    /// stores and relays every message as soon as the previous batch is done.
    pub batch_window: Duration,
}

/// Seconds a board stays loaded after its last connection leaves (`--room-idle-secs`).
pub const DEFAULT_IDLE_SECS: u64 = 30;
/// Updates stored before they are folded into a snapshot (`--compact-every`).
pub const DEFAULT_COMPACT_EVERY: u64 = 500;
/// Size of the updates since the last snapshot, as a percentage of the snapshot's, below
/// which a board is not compacted whatever their number (`--compact-growth-percent`).
pub const DEFAULT_COMPACT_GROWTH_PERCENT: u32 = 50;
/// Messages queued for one connection before it is dropped as too slow
/// (`--outbox-messages`).
pub const DEFAULT_OUTBOX_MESSAGES: usize = 1024;
/// Bytes queued for one connection before it is dropped as too slow (`--outbox-bytes`):
/// room for a board's whole state twice over at the default document limit.
pub const DEFAULT_OUTBOX_BYTES: usize = 64 * 1024 * 1024;
/// Commands queued for one room before senders wait (`--room-queue`).
pub const DEFAULT_ROOM_QUEUE: usize = 256;
/// Most commands a room applies before it stores them and delivers: enough to share one
/// flush among many writers, few enough that the first of them does not wait long.
pub const MAX_BATCH: usize = 256;
/// Milliseconds of [`RoomConfig::batch_window`] (`--batch-window-ms`). Every batch
/// costs one flush, and a write to every member's socket, whatever it holds; at a
/// meeting's busiest (dozens of people typing and dragging at once) this makes each of
/// those carry several updates instead of one, for at most this much added latency,
/// far below what anyone sees on a board. A board with a message now and then never
/// waits: its previous batch is long past.
pub const DEFAULT_BATCH_WINDOW_MS: u64 = 3;
/// How often a room with members looks for what other nodes stored, in case a
/// notification was missed (several nodes on one database).
pub const CATCH_UP_EVERY: Duration = Duration::from_secs(2);
/// Writes of one batch refused because other nodes took their numbers, before the room
/// gives up: each refusal means another node's write went in, so this is contention no
/// board sees in a meeting.
const MAX_CONFLICTS: usize = 100;
/// No connection: the sender of what came from another node, so it goes to everyone.
const NOBODY: ConnId = 0;

impl Default for RoomConfig {
    fn default() -> RoomConfig {
        RoomConfig {
            idle: Duration::from_secs(DEFAULT_IDLE_SECS),
            compact_every: DEFAULT_COMPACT_EVERY,
            compact_growth: f64::from(DEFAULT_COMPACT_GROWTH_PERCENT) / 100.0,
            outbox: DEFAULT_OUTBOX_MESSAGES,
            outbox_bytes: DEFAULT_OUTBOX_BYTES,
            queue: DEFAULT_ROOM_QUEUE,
            limits: Limits::default(),
            history: HistoryConfig::default(),
            batch_window: Duration::from_millis(DEFAULT_BATCH_WINDOW_MS),
        }
    }
}

/// What a room sends to one connection.
#[derive(Debug)]
pub enum Outgoing {
    Frame(Bytes),
    /// Close the socket with this code and reason; nothing follows.
    Close(u16, &'static str),
}

/// Why a connection could not join.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("no such board")]
    NotFound,
    #[error("the board could not be loaded: {0}")]
    Unavailable(String),
    #[error("the board has as many connections as it accepts")]
    Full,
}

/// The room a connection belongs to has stopped (unloaded, shutting down or failed);
/// the connection should close and the client reconnect.
#[derive(Debug, thiserror::Error)]
#[error("the board's room has closed")]
pub struct RoomClosed;

/// A connection's membership in a room. Dropping it without `leave` is fine: the room
/// notices the closed outbox at its next delivery.
pub struct Membership {
    pub conn: ConnId,
    room: mpsc::Sender<Command>,
    /// Frames from the room; closed by the room when it drops this connection.
    pub outbox: mpsc::Receiver<Outgoing>,
    /// Bytes of the frames in `outbox` or being sent: the connection takes a frame's
    /// length off once it has sent it ([`Membership::sent`]).
    queued: Arc<AtomicUsize>,
    /// Cancelled by the room when this connection must go at once: it fell behind and its
    /// outbox is full, so no close message could be queued.
    pub kicked: CancellationToken,
    /// The connection's seat on the board, counted by every node (several nodes on one
    /// database), given back with the membership.
    _seat: Option<Seat>,
}

impl Membership {
    /// Hands a frame to the room, waiting while its queue is full. Fails only if the
    /// room is gone.
    pub async fn send(&self, frame: Bytes) -> Result<(), RoomClosed> {
        self.room
            .send(Command::Frame {
                conn: self.conn,
                frame,
            })
            .await
            .map_err(|_| RoomClosed)
    }

    /// Says that a frame of `len` bytes, taken from the outbox, has been sent.
    pub fn sent(&self, len: usize) {
        self.queued.fetch_sub(len, Ordering::Relaxed);
    }

    pub async fn leave(self) {
        let _ = self.room.send(Command::Leave { conn: self.conn }).await;
    }
}

enum Command {
    Join {
        conn: ConnId,
        access: Access,
        /// The hash of the facilitator key the connection presented, if any.
        facilitator: Option<String>,
        outbox: mpsc::Sender<Outgoing>,
        queued: Arc<AtomicUsize>,
        kicked: CancellationToken,
        joined: oneshot::Sender<Result<(), JoinError>>,
    },
    Frame {
        conn: ConnId,
        frame: Bytes,
    },
    Leave {
        conn: ConnId,
    },
    /// An operator's change to the board as a whole, made by the room so that nobody
    /// keeps working on a board that is gone or through links that no longer hold.
    Admin {
        op: AdminOp,
        done: oneshot::Sender<Result<bool, StoreError>>,
    },
    /// Another node stored the board's updates below `upto`: these, when they came with
    /// the notice.
    Remote {
        upto: u64,
        updates: Option<Vec<Vec<u8>>>,
    },
    /// An operator deleted the board, or replaced its links, through another node.
    Elsewhere(Elsewhere),
    /// The timer of a room whose board other nodes serve too: it catches up, in case a
    /// notification was missed, and withdraws presence the other nodes stopped renewing.
    Tick,
    /// Presence changed on another node serving the board (an awareness message).
    Presence {
        message: Bytes,
    },
}

/// What an operator does to a live board (`online.rs`).
#[derive(Clone, Copy, Debug)]
pub enum AdminOp {
    /// Deletes the board with its history; everyone connected is told it is gone.
    Delete,
    /// Replaces the board's links; everyone connected came in through the old ones, so
    /// they are disconnected and can come back only with the new.
    Relink(AccessHashes),
}

impl AdminOp {
    /// Performs the operation on the store; whether the board existed.
    fn apply(self, store: &dyn Store, board: &BoardId) -> Result<bool, StoreError> {
        match self {
            AdminOp::Delete => store.delete(board),
            AdminOp::Relink(links) => store.set_links(board, &links),
        }
    }
}

/// What an operator did to a board through another node ([`Heard::Deleted`],
/// [`Heard::Relinked`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elsewhere {
    Deleted,
    Relinked,
    /// Notices of either may have been missed (`Heard::Missed`).
    Missed,
}

struct Entry {
    commands: mpsc::Sender<Command>,
    generation: u64,
}

/// The registry of loaded rooms.
pub struct Rooms {
    store: Arc<dyn Store>,
    /// The flusher every room's writes share.
    commit: GroupCommit,
    config: RoomConfig,
    /// Other nodes write these boards too (`Store::watch`): rooms catch up with them.
    shared: bool,
    /// Seats on boards, when the store counts them for every node (`seats.rs`).
    seats: Option<Arc<Seats>>,
    /// Held only to look up or replace an entry, never across an await.
    live: Mutex<HashMap<BoardId, Entry>>,
    next_id: AtomicU64,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Rooms {
    pub fn new(
        store: Arc<dyn Store>,
        config: RoomConfig,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Arc<Rooms> {
        let watch = store.watch();
        let rooms = Arc::new(Rooms {
            commit: GroupCommit::default(),
            seats: Seats::start(&store, &tracker, shutdown.clone()),
            store,
            config,
            shared: watch.is_some(),
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            tracker: tracker.clone(),
            shutdown: shutdown.clone(),
        });
        if let Some(appended) = watch {
            tracker.spawn(relay_appended(Arc::downgrade(&rooms), appended, shutdown));
        }
        rooms
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Number of boards currently loaded.
    pub fn loaded(&self) -> usize {
        self.live.lock().expect("rooms lock").len()
    }

    /// Joins the room of `board`, loading it if needed, with what the connection's link
    /// grants (checked by the caller).
    pub async fn join(
        self: &Arc<Self>,
        board: BoardId,
        access: Access,
    ) -> Result<Membership, JoinError> {
        self.join_with(board, access, None).await
    }

    /// [`Rooms::join`] for a connection that presented a facilitator key (its hash): it
    /// may change the facilitator's part of the board while that is the board's key.
    pub async fn join_with(
        self: &Arc<Self>,
        board: BoardId,
        access: Access,
        facilitator: Option<String>,
    ) -> Result<Membership, JoinError> {
        let conn = self.next_id.fetch_add(1, Ordering::Relaxed);
        // With several nodes, the board's connections on all of them count; the room
        // still checks its own below, which is all there is on one node.
        let max = self.config.limits.max_connections_per_board;
        let mut seat = match &self.seats {
            None => None,
            Some(seats) => match seats.take(board, conn, max).await {
                Ok(Some(seat)) => Some(seat),
                Ok(None) => {
                    stats::error(ErrorKind::Limit);
                    return Err(JoinError::Full);
                }
                Err(e) => return Err(JoinError::Unavailable(e.to_string())),
            },
        };
        // A room that is unloading refuses joins by closing its channel; the retry then
        // finds the entry gone and starts a fresh room. Two attempts always suffice unless
        // the board keeps failing to load, which the second attempt reports.
        let mut last = JoinError::Unavailable("room kept closing".into());
        for _ in 0..3 {
            let (commands, generation) = self.room_for(board);
            let (tx, outbox) = mpsc::channel(self.config.outbox);
            let queued = Arc::new(AtomicUsize::new(0));
            let kicked = CancellationToken::new();
            let (joined, answer) = oneshot::channel();
            let sent = commands
                .send(Command::Join {
                    conn,
                    access,
                    facilitator: facilitator.clone(),
                    outbox: tx,
                    queued: queued.clone(),
                    kicked: kicked.clone(),
                    joined,
                })
                .await;
            match (sent, answer.await) {
                (Ok(()), Ok(Ok(()))) => {
                    return Ok(Membership {
                        conn,
                        room: commands,
                        outbox,
                        queued,
                        kicked,
                        _seat: seat.take(),
                    })
                }
                (Ok(()), Ok(Err(e))) => return Err(e),
                _ => {
                    self.forget(board, generation);
                    last = JoinError::Unavailable("room closed while joining".into());
                }
            }
        }
        Err(last)
    }

    /// Deletes or relinks `board` through its room (loading it if needed), so that its
    /// connections end with it; whether the board existed. A board that fails to load
    /// is still deleted or relinked in the store.
    pub async fn administer(
        self: &Arc<Self>,
        board: BoardId,
        op: AdminOp,
    ) -> Result<bool, StoreError> {
        // As for joins: a room that is unloading drops the command, and the next attempt
        // finds a fresh room.
        for _ in 0..3 {
            let (commands, generation) = self.room_for(board);
            let (done, answer) = oneshot::channel();
            if commands.send(Command::Admin { op, done }).await.is_ok() {
                if let Ok(result) = answer.await {
                    return result;
                }
            }
            self.forget(board, generation);
        }
        Err(StoreError::backend("the board's room kept closing"))
    }

    fn room_for(self: &Arc<Self>, board: BoardId) -> (mpsc::Sender<Command>, u64) {
        let mut live = self.live.lock().expect("rooms lock");
        if let Some(entry) = live.get(&board) {
            if !entry.commands.is_closed() {
                return (entry.commands.clone(), entry.generation);
            }
        }
        let generation = self.next_id.fetch_add(1, Ordering::Relaxed);
        // Bounded: a flood of frames waits for the room instead of growing memory.
        let (commands, rx) = mpsc::channel(self.config.queue);
        live.insert(
            board,
            Entry {
                commands: commands.clone(),
                generation,
            },
        );
        let rooms = Arc::clone(self);
        self.tracker
            .spawn(async move { RoomTask::run(rooms, board, generation, rx).await });
        (commands, generation)
    }

    /// Removes the registry entry of a room that has stopped, if it is still that room's.
    fn forget(&self, board: BoardId, generation: u64) {
        let mut live = self.live.lock().expect("rooms lock");
        if live.get(&board).is_some_and(|e| e.generation == generation) {
            live.remove(&board);
        }
    }

    /// Tells the room of the board, if it is loaded here, what another node did to it.
    /// A room whose queue is full is busy and not told of updates or presence: its next
    /// catch-up (on its timer, or when its write conflicts) finds the updates anyway,
    /// and presence is refreshed by the next message of the same participant. An
    /// operator's deletion or relink is rare and has no such second chance (nobody may
    /// go on through links that were replaced), so it waits for room in the queue; so
    /// does the word that such notices may have been missed, which goes to every room.
    fn remote(&self, heard: Heard) {
        let live = self.live.lock().expect("rooms lock");
        let (board, command) = match heard {
            Heard::Missed => {
                for entry in live.values() {
                    self.surely_tell(&entry.commands, Command::Elsewhere(Elsewhere::Missed));
                }
                return;
            }
            Heard::Deleted { board } => (board, Command::Elsewhere(Elsewhere::Deleted)),
            Heard::Relinked { board } => (board, Command::Elsewhere(Elsewhere::Relinked)),
            Heard::Appended(Appended {
                board,
                upto,
                updates,
            }) => (board, Command::Remote { upto, updates }),
            Heard::Presence { board, message } => (
                board,
                Command::Presence {
                    message: Bytes::from(message),
                },
            ),
        };
        let Some(entry) = live.get(&board) else {
            return;
        };
        if let Command::Elsewhere(_) = command {
            self.surely_tell(&entry.commands, command);
        } else {
            let _ = entry.commands.try_send(command);
        }
    }

    /// Sends `command` to a room even when its queue is full, from a task of its own, so
    /// that what the node hears is never held up by one busy room.
    fn surely_tell(&self, commands: &mpsc::Sender<Command>, command: Command) {
        let commands = commands.clone();
        self.tracker.spawn(async move {
            let _ = commands.send(command).await;
        });
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        store::blocking(&self.store, f).await
    }
}

/// The node-level task that passes other nodes' writes to the rooms loaded here. Owned
/// by the server's tracker; it stops on shutdown, when the registry is gone, or when the
/// store stops watching, and its end drops the receiver, which stops the store's
/// listener.
async fn relay_appended(
    rooms: Weak<Rooms>,
    mut appended: mpsc::UnboundedReceiver<Heard>,
    shutdown: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = appended.recv() => next,
        };
        let (Some(next), Some(rooms)) = (next, rooms.upgrade()) else {
            return;
        };
        rooms.remote(next);
    }
}

struct Member {
    outbox: mpsc::Sender<Outgoing>,
    /// Bytes queued for it (see `Membership::queued`).
    queued: Arc<AtomicUsize>,
    kicked: CancellationToken,
}

impl Member {
    /// Queues a frame unless the connection already holds `max_bytes` (and something:
    /// a frame bigger than that still goes to an empty queue) or its outbox is full;
    /// `false` means it has stopped reading.
    fn offer(&self, frame: Bytes, max_bytes: usize) -> bool {
        let len = frame.len();
        let queued = self.queued.load(Ordering::Relaxed);
        if queued > 0 && queued + len > max_bytes {
            return false;
        }
        // Counted before it is queued: the connection may send it, and count it off,
        // before `try_send` returns.
        self.queued.fetch_add(len, Ordering::Relaxed);
        if self.outbox.try_send(Outgoing::Frame(frame)).is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Queues a close after whatever the connection still has to send; if the queue is
    /// full (the peer stopped reading), cuts the connection at once instead.
    fn close(&self, code: u16, reason: &'static str) {
        if self.outbox.try_send(Outgoing::Close(code, reason)).is_err() {
            self.kicked.cancel();
        }
    }
}

/// A loaded board's update log: the updates after its snapshot, their bytes, and the
/// snapshot's.
struct Log {
    updates: u64,
    bytes: u64,
    snapshot: u64,
}

/// The task that owns one loaded board.
struct RoomTask {
    rooms: Arc<Rooms>,
    board: BoardId,
    room: Room,
    members: HashMap<ConnId, Member>,
    /// Sequence number of the next update to store.
    next_seq: u64,
    /// Updates stored since the last snapshot, and their bytes.
    since_snapshot: u64,
    since_snapshot_bytes: u64,
    /// The last snapshot's length in bytes.
    snapshot_bytes: u64,
    /// An update made yrs panic half-way: this document is not to be trusted, used or
    /// snapshotted; the room closes after the current batch and the board reloads.
    poisoned: bool,
    /// An operator deleted the board: the room ends without writing anything more.
    deleted: bool,
    /// The board's links as the room last read them, on a store other nodes share:
    /// everyone here came in through these. `None` where nobody else can change them,
    /// or where they could not be read.
    links: Option<Links>,
    /// When the newest version of the board was kept (`history.rs`), and what the
    /// document held then, if this room kept it.
    newest_version: Option<u64>,
    kept_state: Option<StateVector>,
    /// The snapshot being written, if one is: compaction runs beside the room, which
    /// goes on storing and relaying meanwhile (see [`RoomTask::compact`]).
    compacting: Option<tokio::task::JoinHandle<Result<(), StoreError>>>,
}

/// Messages to deliver once the batch they belong to is durable.
#[derive(Default)]
struct Deliveries {
    to: Vec<(ConnId, Bytes)>,
    /// For everyone but the sender; the flag marks document updates (for the metrics),
    /// as opposed to presence.
    all_but: Vec<(ConnId, Bytes, bool)>,
}

impl RoomTask {
    async fn run(
        rooms: Arc<Rooms>,
        board: BoardId,
        generation: u64,
        mut commands: mpsc::Receiver<Command>,
    ) {
        let loaded = match rooms.blocking(move |s| s.load(&board)).await {
            Ok(Some(stored)) => Room::load(&stored)
                .map(|room| {
                    let room = room.with_limits(rooms.config.limits.document());
                    let log = Log {
                        updates: stored.updates.len() as u64,
                        bytes: stored.updates.iter().map(|u| u.len() as u64).sum(),
                        snapshot: stored.snapshot.len() as u64,
                    };
                    (room, stored.next_seq, log)
                })
                .map_err(|e| JoinError::Unavailable(e.to_string())),
            Ok(None) => Err(JoinError::NotFound),
            Err(e) => Err(JoinError::Unavailable(e.to_string())),
        };
        let newest_version = rooms
            .blocking(move |s| s.versions(&board))
            .await
            .ok()
            .and_then(|v| v.last().map(|(at, _)| *at));
        // Only another node's relink can change them behind this room's back, so only a
        // shared store's rooms need to know them (see `RoomTask::recheck_links`).
        let links = if rooms.shared {
            rooms.blocking(move |s| s.links(&board)).await.ok()
        } else {
            None
        };
        let (room, next_seq, log) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                if !matches!(e, JoinError::NotFound) {
                    stats::error(ErrorKind::Load);
                    tracing::error!(%board, error = %e, "board failed to load");
                }
                rooms.forget(board, generation);
                commands.close();
                while let Some(cmd) = commands.recv().await {
                    match cmd {
                        Command::Join { joined, .. } => {
                            let _ = joined.send(Err(match &e {
                                JoinError::NotFound => JoinError::NotFound,
                                JoinError::Full => JoinError::Full,
                                JoinError::Unavailable(m) => JoinError::Unavailable(m.clone()),
                            }));
                        }
                        // Nobody is connected to a board that does not load; what is
                        // stored of it can still go or be relinked.
                        Command::Admin { op, done } => {
                            let _ = done.send(rooms.blocking(move |s| op.apply(s, &board)).await);
                        }
                        Command::Frame { .. }
                        | Command::Leave { .. }
                        | Command::Remote { .. }
                        | Command::Elsewhere(_)
                        | Command::Tick
                        | Command::Presence { .. } => {}
                    }
                }
                return;
            }
        };
        tracing::debug!(%board, "room loaded");
        // Decremented below, wherever `serve` ends.
        metrics::gauge!(stats::BOARDS_LOADED).increment(1.0);
        let mut task = RoomTask {
            rooms: Arc::clone(&rooms),
            board,
            room,
            members: HashMap::new(),
            next_seq,
            since_snapshot: log.updates,
            since_snapshot_bytes: log.bytes,
            snapshot_bytes: log.snapshot,
            poisoned: false,
            deleted: false,
            links,
            newest_version,
            kept_state: None,
            compacting: None,
        };
        let reason = task.serve(&mut commands).await;
        // The last snapshot is written while this room is still registered, so joiners
        // queue behind it; once the room is closed below they retry against a fresh room,
        // which loads the snapshot. No load ever races with this write.
        // Neither a board that failed to store nor a poisoned document is snapshotted:
        // the stored updates are the truth.
        let written = task.compacted().await;
        if let Err(e) = &written {
            stats::error(ErrorKind::Storage);
            tracing::warn!(%board, error = %e, "a snapshot failed; the update log is kept");
        }
        if reason.0 != close::SERVER_ERROR
            && !task.poisoned
            && !task.deleted
            && task.since_snapshot > 0
        {
            if let Err(e) = task.compact_now().await {
                stats::error(ErrorKind::Storage);
                tracing::warn!(%board, error = %e, "snapshot on unload failed; the update log is kept");
            }
        }
        rooms.forget(board, generation);
        commands.close();
        for member in task.members.values() {
            member.close(reason.0, reason.1);
        }
        while commands.recv().await.is_some() {}
        metrics::gauge!(stats::BOARDS_LOADED).decrement(1.0);
        tracing::debug!(%board, "room unloaded");
    }

    /// Serves commands until the room should stop; returns the close code and reason for
    /// whoever is still connected.
    async fn serve(&mut self, commands: &mut mpsc::Receiver<Command>) -> (u16, &'static str) {
        let shutdown = self.rooms.shutdown.clone();
        let idle = self.rooms.config.idle;
        let mut catch_up = tokio::time::interval(CATCH_UP_EVERY);
        catch_up.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let shared = self.rooms.shared;
        let window = self.rooms.config.batch_window;
        // When the last batch started, while batches come closer than the window.
        let mut previous_batch: Option<Instant> = None;
        loop {
            // In this order: shutting down ends the room whatever is queued, and a queued
            // command (a join, say) always goes before the idle timer, so an empty room
            // never unloads with someone waiting to join it.
            let first = tokio::select! {
                biased;
                _ = shutdown.cancelled() => return (close::GOING_AWAY, "server shutting down"),
                cmd = commands.recv() => match cmd {
                    Some(cmd) => cmd,
                    None => return (close::GOING_AWAY, "room closed"),
                },
                _ = catch_up.tick(), if shared && !self.members.is_empty() => Command::Tick,
                _ = tokio::time::sleep(idle), if self.members.is_empty() => {
                    return (close::GOING_AWAY, "room unloaded");
                }
            };
            // Group commit: take everything already queued, apply it all, then store it
            // with one flush. On a busy board a client's message first waits out the
            // batch window; anything else (a join, what another node stored) goes at once.
            let waits = matches!(first, Command::Frame { .. });
            let mut batch = vec![first];
            let window_ends = previous_batch.map(|at| at + window).filter(|_| waits);
            if let Some(until) = window_ends.filter(|&until| Instant::now() < until) {
                while batch.len() < MAX_BATCH {
                    tokio::select! {
                        biased;
                        _ = shutdown.cancelled() => break,
                        cmd = commands.recv() => match cmd {
                            // Another node's updates are durable already; they wait for
                            // nothing.
                            Some(cmd @ Command::Remote { .. }) => {
                                batch.push(cmd);
                                break;
                            }
                            Some(cmd) => batch.push(cmd),
                            None => break,
                        },
                        () = tokio::time::sleep_until(until) => break,
                    }
                }
            }
            previous_batch = Some(Instant::now());
            while batch.len() < MAX_BATCH {
                match commands.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.handle_batch(batch).await {
                stats::error(ErrorKind::Storage);
                tracing::error!(board = %self.board, error = %e, "storing updates failed; closing the room");
                return (close::SERVER_ERROR, "storage failure");
            }
            // What this batch stored before the poisoned update is durable and was
            // delivered (a batch refused for a limit stored nothing); everyone
            // reconnects to the board as stored.
            if self.poisoned {
                return (close::GOING_AWAY, "board reloading");
            }
            if self.deleted {
                return (close::BOARD_NOT_FOUND, "board deleted");
            }
        }
    }

    async fn handle_batch(&mut self, batch: Vec<Command>) -> Result<(), StoreError> {
        // The board as it stands before this batch's changes, when a version is due.
        if batch.iter().any(|c| matches!(c, Command::Frame { .. })) && !self.poisoned {
            self.keep_version_if_due().await;
        }
        let mut updates = Vec::new();
        let mut out = Deliveries::default();
        // What other nodes stored, durable already: delivered before this batch's write.
        let mut theirs = Deliveries::default();
        let mut admin = Vec::new();
        let mut behind = false;
        let mut recheck = false;
        let mut grew = Grew::default();
        for cmd in batch {
            match cmd {
                Command::Join {
                    conn,
                    access,
                    facilitator,
                    outbox,
                    queued,
                    kicked,
                    joined,
                } => {
                    if self.members.len() >= self.rooms.config.limits.max_connections_per_board {
                        stats::error(ErrorKind::Limit);
                        let _ = joined.send(Err(JoinError::Full));
                        continue;
                    }
                    if joined.send(Ok(())).is_err() {
                        continue;
                    }
                    for frame in self.room.join(conn, access) {
                        out.to.push((conn, frame));
                    }
                    if let Some(hash) = facilitator {
                        self.room.prove_facilitator(conn, hash);
                    }
                    self.members.insert(
                        conn,
                        Member {
                            outbox,
                            queued,
                            kicked,
                        },
                    );
                }
                Command::Frame { conn, frame } => {
                    // After a poisoned update, nothing more is applied to this document;
                    // unacknowledged frames are not lost, as clients resend what the
                    // reloaded board lacks when they sync again.
                    if !self.members.contains_key(&conn) || self.poisoned {
                        continue;
                    }
                    let (notes, facilitated) = (self.room.note_count(), self.room.facilitated());
                    match self.room.receive(conn, &frame) {
                        Ok(outcome) => {
                            let is_update = outcome.update.is_some();
                            grew.bytes |= is_update;
                            grew.notes |= self.room.note_count() > notes;
                            grew.facilitated |= self.room.facilitated() > facilitated;
                            updates.extend(outcome.update);
                            out.to.extend(outcome.reply.into_iter().map(|f| (conn, f)));
                            out.all_but.extend(
                                outcome.broadcast.into_iter().map(|f| (conn, f, is_update)),
                            );
                            if let Some(e) = outcome.refused {
                                self.refuse(conn, &e, &mut out);
                            }
                        }
                        Err(e) => self.refuse(conn, &e, &mut out),
                    }
                }
                Command::Leave { conn } => {
                    self.drop_member(conn, close::GOING_AWAY, "left", &mut out);
                }
                Command::Admin { op, done } => admin.push((op, done)),
                Command::Remote { upto, updates } => {
                    // Applied from the notice when they follow what this room holds;
                    // otherwise read from the store below.
                    let first = upto.saturating_sub(updates.as_ref().map_or(0, |u| u.len() as u64));
                    match updates {
                        Some(updates) if first <= self.next_seq && !behind => {
                            // Those this room already holds are skipped.
                            let skip = usize::try_from(self.next_seq - first)
                                .map_or(updates.len(), |s| s.min(updates.len()));
                            self.apply_theirs(None, &updates[skip..], upto, &mut theirs);
                        }
                        _ => behind |= upto > self.next_seq,
                    }
                }
                Command::Presence { message } => {
                    let now = Instant::now().into_std();
                    if let Some(frame) = self.room.apply_remote_presence(&message, now) {
                        out.all_but.push((NOBODY, frame, false));
                    }
                }
                Command::Tick => {
                    behind = true;
                    if let Some(frame) = self.room.expire_remote_presence(Instant::now().into_std())
                    {
                        out.all_but.push((NOBODY, frame, false));
                    }
                }
                Command::Elsewhere(Elsewhere::Deleted) => {
                    tracing::info!(board = %self.board, "board deleted through another node");
                    // `run` closes every member once this batch is done.
                    self.deleted = true;
                }
                Command::Elsewhere(Elsewhere::Relinked | Elsewhere::Missed) => recheck = true,
            }
        }
        if recheck {
            self.recheck_links(&mut out).await;
        }
        // Before this batch's write, which would only conflict with what is missing. What
        // other nodes stored is durable already, so it goes out now rather than after
        // this batch's own write.
        if behind {
            if let Err(e) = self.catch_up(&mut theirs).await {
                stats::error(ErrorKind::Storage);
                tracing::warn!(board = %self.board, error = %e, "could not read other nodes' updates; trying again later");
            }
        }
        if !self.deleted {
            self.deliver(theirs);
        }
        let mut stored = true;
        if !updates.is_empty() && !self.deleted {
            stored = self.persist(updates, grew, &mut out).await?;
        }
        // Deleted through another node: nothing of this batch was stored, so nothing of it
        // is delivered; `serve` tells everyone the board is gone.
        if self.deleted {
            return Ok(());
        }
        // Refused for a limit that other nodes' changes brought the board past: nothing
        // of it was stored either, so nothing of it is delivered, and everyone reconnects
        // to the board as stored (`poisoned`), where each change they send again is
        // checked on what the board holds. An operator's command still runs.
        if stored {
            self.publish_presence(&out);
            self.deliver(out);
        }
        // After the batch's own changes are stored and delivered, as if the operator's
        // command had come last.
        for (op, done) in admin {
            self.administer(op, done).await;
        }
        if self.deleted {
            return Ok(());
        }
        // A poisoned document is never snapshotted: it may lack updates whose numbers
        // it has passed.
        if self.compaction_due() && !self.poisoned {
            self.compact().await?;
        }
        Ok(())
    }

    /// Stores the batch's updates and waits until they are durable. When another node took
    /// their numbers first, catches up (relaying what it stored, into `out`) and writes
    /// again after it; a board deleted through another node meanwhile stores nothing
    /// (`deleted` says so, and the caller delivers nothing). `false` when nothing was
    /// stored because the batch, which `grew` the document, would with what other nodes
    /// stored take the board past a limit, or changed the facilitator's part under a key
    /// another node has since handed over: the room is then `poisoned`, since its
    /// document holds changes that are not stored.
    async fn persist(
        &mut self,
        updates: Vec<Vec<u8>>,
        grew: Grew,
        out: &mut Deliveries,
    ) -> Result<bool, StoreError> {
        let (board, count) = (self.board, updates.len() as u64);
        let started = std::time::Instant::now();
        let updates = Arc::new(updates);
        let mut conflicts = 0;
        // The facilitator's part was changed under this key; another node's hand-over,
        // stored before this batch, would make those changes someone else's to make.
        let key = grew.facilitated.then(|| self.room.facilitator_key());
        loop {
            // A write that goes in proves the room held everything stored before it, so
            // this is the stored board's check, not just this room's.
            let handed_over = key
                .as_ref()
                .filter(|&key| *key != self.room.facilitator_key())
                .map(|_| ProtocolError::FacilitatorOnly);
            if let Some(e) = self.room.past_limits(grew).or(handed_over) {
                stats::error(ErrorKind::Limit);
                tracing::info!(%board, error = %e, "with other nodes' changes this batch is refused; reloading the board");
                self.poisoned = true;
                return Ok(false);
            }
            let (first, batch) = (self.next_seq, Arc::clone(&updates));
            match self
                .rooms
                .blocking(move |s| s.write(&board, first, &batch))
                .await
            {
                Ok(()) => break,
                Err(StoreError::Conflict(_)) if conflicts < MAX_CONFLICTS => {
                    conflicts += 1;
                    tracing::debug!(%board, first, "another node took these numbers; catching up");
                    self.catch_up(out).await?;
                    if self.deleted {
                        return Ok(true);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        self.rooms.commit.durable(&self.rooms.store).await?;
        metrics::histogram!(stats::PERSIST_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::counter!(stats::UPDATES_RECEIVED).increment(count);
        self.next_seq += count;
        self.since_snapshot += count;
        self.since_snapshot_bytes += updates.iter().map(|u| u.len() as u64).sum::<u64>();
        Ok(true)
    }

    /// Reads the board's links again, after another node replaced them or after such
    /// notices may have been missed. If they are not the ones this room's members came
    /// in through, everyone is disconnected: they come back through the new links, or
    /// not at all. A read that fails changes nothing until the next notice.
    async fn recheck_links(&mut self, out: &mut Deliveries) {
        let board = self.board;
        let now = match self.rooms.blocking(move |s| s.links(&board)).await {
            Ok(links) => links,
            Err(e) => {
                stats::error(ErrorKind::Storage);
                tracing::warn!(%board, error = %e, "could not read the board's links again");
                return;
            }
        };
        if now == Links::NoBoard {
            tracing::info!(%board, "board deleted through another node");
            self.deleted = true;
        } else if self.links != Some(now) {
            tracing::info!(%board, "links replaced through another node");
            self.drop_everyone(close::TOKEN_REFUSED, "links replaced", out);
        }
        self.links = Some(now);
    }

    /// Applies what other nodes stored after `next_seq` and relays it to every member (it
    /// is durable already). A board gone from the store was deleted through another node.
    /// A stored update that breaks the document poisons it: nothing more is applied, the
    /// numbers still advance (so the batch's own valid updates can be stored after them)
    /// and the board reloads after the batch.
    async fn catch_up(&mut self, out: &mut Deliveries) -> Result<(), StoreError> {
        let (board, seq) = (self.board, self.next_seq);
        let Some(changes) = self
            .rooms
            .blocking(move |s| s.changes_since(&board, seq))
            .await?
        else {
            tracing::info!(%board, "board deleted through another node");
            self.deleted = true;
            return Ok(());
        };
        self.apply_theirs(
            changes.snapshot.as_deref(),
            &changes.updates,
            changes.next_seq,
            out,
        );
        Ok(())
    }

    /// Applies what another node stored (a snapshot first, if any, then updates), which
    /// brings the room up to `next_seq`, and relays what it added to every member. An
    /// update that breaks the document poisons it: nothing more is applied, the numbers
    /// still advance.
    fn apply_theirs(
        &mut self,
        snapshot: Option<&[u8]>,
        updates: &[Vec<u8>],
        next_seq: u64,
        out: &mut Deliveries,
    ) {
        for bytes in snapshot
            .into_iter()
            .chain(updates.iter().map(Vec::as_slice))
        {
            if self.poisoned {
                break;
            }
            match self.room.apply_stored(bytes) {
                Ok(Some(frame)) => out.all_but.push((NOBODY, frame, true)),
                Ok(None) => {}
                Err(e) => {
                    stats::error(ErrorKind::Storage);
                    tracing::error!(board = %self.board, error = %e, "another node's update breaks the document; reloading the board");
                    self.poisoned = true;
                }
            }
        }
        self.since_snapshot += next_seq.saturating_sub(self.next_seq);
        self.since_snapshot_bytes += updates.iter().map(|u| u.len() as u64).sum::<u64>();
        self.next_seq = self.next_seq.max(next_seq);
    }

    /// Passes the presence of this node's connections in `out` (announcements and the
    /// withdrawals of those who left) to the other nodes, without waiting: presence is
    /// best effort, and never holds up the board. What came from other nodes is not
    /// passed back.
    fn publish_presence(&self, out: &Deliveries) {
        if !self.rooms.shared {
            return;
        }
        let messages: Vec<Bytes> = out
            .all_but
            .iter()
            .filter(|(sender, _, is_update)| !is_update && *sender != NOBODY)
            .map(|(_, frame, _)| frame.clone())
            .collect();
        if messages.is_empty() {
            return;
        }
        let (rooms, board) = (Arc::clone(&self.rooms), self.board);
        // Tracked, so shutdown waits for it; it ends when its few notifications are sent.
        self.rooms.tracker.spawn(async move {
            let sent = rooms
                .blocking(move |s| {
                    messages
                        .iter()
                        .try_for_each(|m| s.publish_presence(&board, m))
                })
                .await;
            if let Err(e) = sent {
                tracing::debug!(%board, error = %e, "presence not passed to the other nodes");
            }
        });
    }

    /// Keeps the board as it is now as a version, if one is due and it changed since the
    /// last this room kept, and forgets the versions that have aged out. Failing only
    /// costs a version: the board itself is not at stake.
    async fn keep_version_if_due(&mut self) {
        let config = self.rooms.config.history;
        let now = history::now_ms();
        if !config.due(self.newest_version, now) {
            return;
        }
        let state_vector = self.room.state_vector();
        if self.kept_state.as_ref() == Some(&state_vector) {
            return;
        }
        let (board, state) = (self.board, self.room.encode_state());
        let kept = self
            .rooms
            .blocking(move |s| {
                s.keep_version(&board, now, &state)?;
                let kept: Vec<u64> = s.versions(&board)?.into_iter().map(|(at, _)| at).collect();
                s.forget_versions(&board, &config.to_forget(&kept, now))
            })
            .await;
        match kept {
            Ok(()) => {
                self.newest_version = Some(now);
                self.kept_state = Some(state_vector);
            }
            Err(e) => {
                stats::error(ErrorKind::Storage);
                tracing::warn!(%board, error = %e, "could not keep a version of the board");
            }
        }
    }

    async fn administer(&mut self, op: AdminOp, done: oneshot::Sender<Result<bool, StoreError>>) {
        if self.deleted {
            let _ = done.send(Ok(false));
            return;
        }
        // A snapshot written after a deletion would bring the board back.
        if let Err(e) = self.compacted().await {
            stats::error(ErrorKind::Storage);
            tracing::warn!(board = %self.board, error = %e, "a snapshot failed; the update log is kept");
        }
        let board = self.board;
        let result = self.rooms.blocking(move |s| op.apply(s, &board)).await;
        if let Ok(true) = result {
            match op {
                AdminOp::Delete => {
                    tracing::info!(%board, "board deleted by an operator");
                    // `run` closes every member with the code `serve` returns.
                    self.deleted = true;
                }
                AdminOp::Relink(links) => {
                    tracing::info!(%board, "links replaced by an operator");
                    if self.links.is_some() {
                        self.links = Some(Links::Hashes(links));
                    }
                    self.drop_everyone(
                        close::TOKEN_REFUSED,
                        "links replaced",
                        &mut Deliveries::default(),
                    );
                }
            }
        }
        let _ = done.send(result);
    }

    /// Starts writing a snapshot of the board as it stands, unless the last one is still
    /// being written. The room does not wait for it: a snapshot is the whole board, and
    /// writing it (a large value, and a flush or commit of its own) stalled every
    /// member's updates for as long as it took. Nothing depends on it being written
    /// soon — the stored updates rebuild the same board — except an operator's command
    /// and the room's end, which wait for it first ([`RoomTask::compacted`]); an error
    /// surfaces at the next batch, as a failed write would.
    async fn compact(&mut self) -> Result<(), StoreError> {
        if self.compacting.as_ref().is_some_and(|c| !c.is_finished()) {
            return Ok(());
        }
        // Finished, if there is one, so this returns at once.
        self.compacted().await?;
        let Some((snapshot, upto)) = self.snapshot() else {
            return Ok(());
        };
        let (store, board) = (Arc::clone(&self.rooms.store), self.board);
        self.compacting = Some(tokio::spawn(async move {
            store::blocking(&store, move |s| s.compact(&board, &snapshot, upto)).await
        }));
        Ok(())
    }

    /// Writes a snapshot of the board as it stands and waits until it is stored.
    async fn compact_now(&mut self) -> Result<(), StoreError> {
        self.compacted().await?;
        let Some((snapshot, upto)) = self.snapshot() else {
            return Ok(());
        };
        let board = self.board;
        self.rooms
            .blocking(move |s| s.compact(&board, &snapshot, upto))
            .await
    }

    /// Waits for the snapshot being written, if one is.
    async fn compacted(&mut self) -> Result<(), StoreError> {
        match self.compacting.take() {
            Some(running) => running.await.map_err(StoreError::backend)?,
            None => Ok(()),
        }
    }

    /// The board encoded as one update and the number of the first update it does not
    /// cover, counting the updates since the last snapshot from zero again.
    fn snapshot(&mut self) -> Option<(Vec<u8>, u64)> {
        self.since_snapshot = 0;
        self.since_snapshot_bytes = 0;
        let snapshot = self.room.snapshot();
        match &snapshot {
            Some(s) => self.snapshot_bytes = s.len() as u64,
            // The stored updates still rebuild the board; try again after more of them.
            None => stats::error(ErrorKind::Storage),
        }
        snapshot.map(|s| (s, self.next_seq))
    }

    /// Whether the updates since the last snapshot are enough to fold into a new one:
    /// at least `compact_every` of them, adding up to at least `compact_growth` of the
    /// snapshot's size. Writing a snapshot costs the whole board; a large board's
    /// small edits would otherwise have it rewritten every few seconds of a busy
    /// meeting, each time a stall for every room sharing the disk or the database. With
    /// both, what a load replays stays a fraction of the board, and compaction costs
    /// stay in proportion to what was written.
    fn compaction_due(&self) -> bool {
        let config = &self.rooms.config;
        self.since_snapshot >= config.compact_every
            && self.since_snapshot_bytes as f64
                >= self.snapshot_bytes as f64 * config.compact_growth
    }

    /// Closes a connection whose message was refused, with the error's close code.
    fn refuse(&mut self, conn: ConnId, e: &ProtocolError, out: &mut Deliveries) {
        stats::error(match e {
            ProtocolError::TooLarge(_)
            | ProtocolError::TooManyNotes(_)
            | ProtocolError::Presence(_)
            | ProtocolError::FieldTooLong(_)
            | ProtocolError::StringTooLong(_) => ErrorKind::Limit,
            ProtocolError::ReadOnly => ErrorKind::Access,
            _ => ErrorKind::Protocol,
        });
        if matches!(e, ProtocolError::Poisoned(_)) {
            tracing::error!(board = %self.board, conn, error = %e, "document broken by an update; reloading the board");
        }
        if e.needs_reload() {
            self.poisoned = true;
        }
        tracing::info!(board = %self.board, conn, error = %e, "closing connection");
        let (code, reason) = e.close();
        self.drop_member(conn, code, reason, out);
    }

    /// Ends every connection with `code`: they came in through links that no longer hold.
    fn drop_everyone(&mut self, code: u16, reason: &'static str, out: &mut Deliveries) {
        let conns: Vec<ConnId> = self.members.keys().copied().collect();
        for conn in conns {
            self.drop_member(conn, code, reason, out);
        }
    }

    fn drop_member(&mut self, conn: ConnId, code: u16, reason: &'static str, out: &mut Deliveries) {
        if let Some(member) = self.members.remove(&conn) {
            member.close(code, reason);
        }
        if let Some(gone) = self.room.leave(conn) {
            out.all_but.push((conn, gone, false));
        }
    }

    /// Delivers what a durable batch produced. A connection whose outbox is full has
    /// stopped reading; it is disconnected rather than allowed to hold memory.
    fn deliver(&mut self, out: Deliveries) {
        let max = self.rooms.config.outbox_bytes;
        let mut slow = Vec::new();
        for (conn, frame) in out.to {
            if let Some(m) = self.members.get(&conn) {
                if !m.offer(frame, max) {
                    slow.push(conn);
                }
            }
        }
        let mut updates_sent = 0;
        for (sender, frame, is_update) in out.all_but {
            for (&conn, m) in &self.members {
                if conn == sender {
                    continue;
                }
                if !m.offer(frame.clone(), max) {
                    slow.push(conn);
                } else if is_update {
                    updates_sent += 1;
                }
            }
        }
        metrics::counter!(stats::UPDATES_BROADCAST).increment(updates_sent);
        slow.sort_unstable();
        slow.dedup();
        for conn in slow {
            stats::error(ErrorKind::SlowClient);
            let mut out = Deliveries::default();
            self.drop_member(conn, close::TOO_SLOW, "too slow", &mut out);
            // Presence withdrawals for a dropped connection go out on a best-effort basis.
            for (sender, frame, _) in out.all_but {
                for (&c, m) in &self.members {
                    if c != sender {
                        let _ = m.offer(frame.clone(), max);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use hindsight_shared::schema::new_doc;
    use hindsight_shared::{Board, NewNote, Template};
    use yrs::sync::{Message, SyncMessage};
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::Transact;

    use super::*;
    use crate::boards;
    use crate::store::MemStore;

    /// A board that gets one long note, then five short ones, each in a batch of its own;
    /// after edit `n` the store must come to hold `left_after(n)` updates (a snapshot is
    /// written beside the room) before the next edit is sent, or the test fails.
    async fn edit_and_expect(compact_growth: f64, left_after: fn(usize) -> usize) {
        let store: Arc<dyn Store> = Arc::new(MemStore::default());
        let board = boards::create_blank(store.as_ref(), "Incident", 1.0, Template::postmortem())
            .unwrap()
            .id;
        let config = RoomConfig {
            compact_every: 1,
            compact_growth,
            batch_window: Duration::ZERO,
            ..RoomConfig::default()
        };
        let rooms = Rooms::new(
            Arc::clone(&store),
            config,
            TaskTracker::new(),
            CancellationToken::new(),
        );
        let writer = rooms.join(board, Access::Edit).await.unwrap();
        let mut reader = rooms.join(board, Access::Edit).await.unwrap();
        let doc = new_doc(Some(7));
        let notes = Board::new(&doc);
        let mut relayed = 0;
        for n in 0..6 {
            let text = if n == 0 { "x".repeat(4000) } else { "y".into() };
            let update = {
                let mut txn = doc.transact_mut();
                notes.add_note(
                    &mut txn,
                    &format!("n{n}").parse().unwrap(),
                    NewNote::at(10.0, 10.0, &text).created_at(1.0),
                );
                Message::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1()
            };
            writer.send(update.into()).await.unwrap();
            // Relayed, so stored: the next one is a batch of its own.
            while relayed <= n {
                let frame = tokio::time::timeout(Duration::from_secs(5), reader.outbox.recv())
                    .await
                    .expect("the update is relayed")
                    .expect("the room is open");
                if let Outgoing::Frame(bytes) = frame {
                    if matches!(
                        Message::decode_v1(&bytes),
                        Ok(Message::Sync(SyncMessage::Update(_)))
                    ) {
                        relayed += 1;
                    }
                }
            }
            // Waited for, and then a moment more for the task that wrote it to end: a
            // room skips compacting while a snapshot is still being written, and on a
            // busy machine the next edit would otherwise often find one.
            let want = left_after(n);
            let stored = || store.load(&board).unwrap().unwrap().updates.len();
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while stored() != want {
                assert!(
                    std::time::Instant::now() < deadline,
                    "after edit {n}: {} updates stored, not {want}",
                    stored()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(stored(), want, "after edit {n}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_board_is_compacted_once_its_updates_add_up_to_a_share_of_it() {
        // The long note outweighs the blank board, so it is folded in; five short notes
        // are far from half of what the board then weighs, so they stay as updates.
        edit_and_expect(0.5, |n| n).await;
        // By count alone, every edit is folded in as it comes.
        edit_and_expect(0.0, |_| 0).await;
    }
}
