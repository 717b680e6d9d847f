//! Durable storage of boards: a snapshot plus the updates that came after it.
//!
//! The store knows nothing about Yjs; it keeps opaque byte strings in order. A board is
//! a snapshot (covering every update with a sequence number below `upto`) and a run of
//! updates numbered from `upto` on. Loading = snapshot + later updates. Compaction swaps
//! a new snapshot in and drops the updates it covers in one atomic batch, so a crash at
//! any point leaves either the old or the new state, never a board that fails to load.
//!
//! Every method that changes what is stored is durable on return, except
//! [`Store::write`]: it only queues the batch, which a later [`Store::flush`] makes
//! durable, so that many rooms can share one flush (`commit.rs`). Callers acknowledge and
//! broadcast only after that flush.
//!
//! Several nodes may share one store ([`PgStore`]): then [`Store::watch`] tells a node
//! which boards the others appended to, and [`Store::changes_since`] reads what they
//! appended. The stores only this process writes answer `None` and never change under it.
//!
//! [`SledStore`] (`sled.rs`) is the embedded store and the default; [`PgStore`]
//! (`postgres.rs`) keeps boards in PostgreSQL (`--database`), for several nodes on one
//! database; [`MemStore`] (`mem.rs`) keeps boards in memory for tests of the room
//! machinery; [`testing::Faulty`] wraps any of them to make writes and flushes fail or
//! wait, for tests of what happens when storage breaks, and [`testing::contract`] is the
//! test every store passes.

mod mem;
mod postgres;
mod sled;
pub mod testing;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use hindsight_shared::{AccessHashes, BoardId};

pub use self::mem::MemStore;
pub use self::postgres::{
    Batch, DatabaseUrl, NewerSchema, PgStore, MAX_CONNECTIONS, SCHEMA_VERSION,
};
pub use self::sled::SledStore;

/// The error of the storage engine underneath, kept whole as the source of
/// [`StoreError::Backend`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("board already exists")]
    AlreadyExists,
    #[error("stored record for board {0} is malformed")]
    Corrupt(BoardId),
    /// Another writer of the board already stored an update under one of the batch's
    /// sequence numbers (several nodes on one database); nothing of the batch was stored.
    #[error("board {0} already has an update with one of these sequence numbers")]
    Conflict(BoardId),
    /// The engine failed. The message repeats the engine's own, because logs and the
    /// command line print an error's `Display` alone; the error itself stays reachable
    /// through `source()`.
    #[error("storage failed: {0}")]
    Backend(#[source] BackendError),
}

impl StoreError {
    pub fn backend(e: impl Into<BackendError>) -> StoreError {
        StoreError::Backend(e.into())
    }
}

/// Everything stored for one board.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredBoard {
    pub snapshot: Vec<u8>,
    /// Updates after the snapshot, in the order they were appended.
    pub updates: Vec<Vec<u8>>,
    /// The sequence number the next appended update must carry.
    pub next_seq: u64,
}

/// What a board holds from a sequence number on: what a node that applied the updates
/// below it lacks (several nodes on one database).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// The stored snapshot, when another node compacted away some of the updates asked
    /// for; applying a whole state to a document that holds most of it is harmless.
    pub snapshot: Option<Vec<u8>>,
    /// The updates from the number asked for (or from the snapshot's `upto`) on, in order.
    pub updates: Vec<Vec<u8>>,
    /// The sequence number the next appended update must carry.
    pub next_seq: u64,
}

impl Changes {
    /// What of a whole board is numbered `seq` and up.
    pub fn of(stored: StoredBoard, seq: u64) -> Changes {
        let upto = stored.next_seq - stored.updates.len() as u64;
        if seq < upto {
            return Changes {
                snapshot: Some(stored.snapshot),
                updates: stored.updates,
                next_seq: stored.next_seq,
            };
        }
        let skip = usize::try_from(seq - upto).unwrap_or(usize::MAX);
        Changes {
            snapshot: None,
            updates: stored.updates.into_iter().skip(skip).collect(),
            next_seq: stored.next_seq.max(seq),
        }
    }
}

/// Another node stored updates of `board`, numbered below `upto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub board: BoardId,
    pub upto: u64,
    /// The updates themselves, numbered up to `upto`, when they were small enough to
    /// come with the notice: a node that holds everything before them applies them
    /// without reading the store.
    pub updates: Option<Vec<Vec<u8>>>,
}

/// What [`Store::watch`] reports of the other nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Appended(Appended),
    /// Presence changed on a board there: a y-protocols awareness message, never stored.
    Presence {
        board: BoardId,
        message: Vec<u8>,
    },
    /// An operator replaced the board's links there: those connected here may have come
    /// in through the old ones.
    Relinked {
        board: BoardId,
    },
    /// An operator deleted the board there.
    Deleted {
        board: BoardId,
    },
    /// The store stopped hearing for a while (its connection broke and is open again):
    /// any of the above may have been missed meanwhile.
    Missed,
}

/// What the store holds about a board's links (see `hindsight_shared::access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// There is no such board.
    NoBoard,
    /// The board exists but has no links: restored from a backup made before boards had
    /// them. `hindsight boards links ID` issues a pair.
    Unlinked,
    Hashes(AccessHashes),
}

/// Storage for boards. Methods block (the engines do file I/O); async callers run them
/// through [`blocking`].
pub trait Store: Send + Sync + 'static {
    /// Stores a brand-new board with the hashes of its links, atomically. Durable on
    /// return.
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError>;
    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError>;
    /// The board's link hashes, read on every connection before it joins.
    fn links(&self, board: &BoardId) -> Result<Links, StoreError>;
    /// Replaces a board's links (the old ones stop working); returns whether the board
    /// exists, and stores nothing if it does not. Durable on return.
    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError>;
    /// Writes updates numbered `first_seq`, `first_seq + 1`, … in one atomic batch,
    /// without waiting for the disk: they are durable once a later [`Store::flush`]
    /// returns. Rooms write this way and share flushes (`commit.rs`).
    fn write(&self, board: &BoardId, first_seq: u64, updates: &[Vec<u8>])
        -> Result<(), StoreError>;
    /// [`Store::write`], then [`Store::flush`]. Durable on return.
    fn append(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        self.write(board, first_seq, updates)?;
        self.flush()
    }
    /// Replaces the snapshot by one that covers every update numbered below `upto`, and
    /// drops those updates, atomically. Durable on return.
    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError>;
    /// Makes every write that returned before this call durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Whether every write is durable when it returns already, so that [`Store::flush`]
    /// has nothing to do and need not be asked for (PostgreSQL commits each write).
    fn durable_on_write(&self) -> bool {
        false
    }
    /// Every stored board, in id order.
    fn list(&self) -> Result<Vec<BoardId>, StoreError>;
    /// Removes a board with all its updates, atomically; returns whether it existed.
    /// Durable on return.
    fn delete(&self, board: &BoardId) -> Result<bool, StoreError>;
    /// Proves the store takes durable writes (for readiness checks) by writing and
    /// flushing a record no board reads.
    fn probe(&self) -> Result<(), StoreError>;
    /// Bytes the store takes on disk (or in memory), for `--max-data-bytes`.
    fn data_bytes(&self) -> Result<u64, StoreError>;
    /// Keeps `state` (the whole document as one update) as the board's version at `at`
    /// (UTC ms), replacing one kept at the same ms; the board's history (`history.rs`).
    /// Written as [`Store::write`] writes: durable once a later flush returns.
    fn keep_version(&self, board: &BoardId, at: u64, state: &[u8]) -> Result<(), StoreError>;
    /// The versions kept of a board, oldest first: when, and their size in bytes.
    fn versions(&self, board: &BoardId) -> Result<Vec<(u64, u64)>, StoreError>;
    /// One kept version of a board.
    fn version(&self, board: &BoardId, at: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes the versions kept at `ats`.
    fn forget_versions(&self, board: &BoardId, ats: &[u64]) -> Result<(), StoreError>;
    /// What `board` holds from update `seq` on (see [`Changes`]), as of one moment;
    /// `None` if there is no such board (any more).
    fn changes_since(&self, board: &BoardId, seq: u64) -> Result<Option<Changes>, StoreError> {
        Ok(self.load(board)?.map(|stored| Changes::of(stored, seq)))
    }
    /// `Some` when other processes write these boards too: a stream of what they append,
    /// fed until the receiver is dropped. It may miss some (a lost connection), so it
    /// says when to look, not what is there. `None` (the default): only this process
    /// writes the store, and a board changes only through its room here.
    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Heard>> {
        None
    }
    /// Passes a presence message (y-protocols awareness) of `board` to the other nodes
    /// that watch, at most once and not durably; one too large for the channel is
    /// dropped. The default has nobody to pass it to.
    fn publish_presence(&self, _board: &BoardId, _message: &[u8]) -> Result<(), StoreError> {
        Ok(())
    }
    /// `Some` when several nodes share the budgets that bound what clients may make the
    /// deployment hold (connections per board, new boards per address): those must count
    /// every node's, or each node behind a load balancer would allow them once more.
    /// `None` (the default): this process's own count is the whole count (`seats.rs`,
    /// `limits::CreationLimit`).
    fn budgets(&self) -> Option<&dyn Budgets> {
        None
    }
}

/// Budgets counted in the store, for every node on it together ([`Store::budgets`]).
/// Nothing here is durable or needs to be: a budget that starts afresh after the
/// database restarts only forgets who came in before.
pub trait Budgets: Send + Sync {
    /// Takes a seat for connection `conn` of this node on `board` if the board has fewer
    /// than `max` seats taken on all nodes together; `false`: it is full. Seats a node
    /// stopped renewing for [`SEAT_EXPIRES`] (it died) no longer count.
    fn take_seat(&self, board: &BoardId, conn: u64, max: usize) -> Result<bool, StoreError>;
    /// Gives back this node's seats for these connections.
    fn release_seats(&self, conns: &[u64]) -> Result<(), StoreError>;
    /// Says that this node still holds these seats (taking them again if they expired
    /// meanwhile), and forgets what expired long ago on every node.
    fn renew(&self, held: &[(u64, BoardId)]) -> Result<(), StoreError>;
    /// Takes one new board from `address`'s budget of `per_minute` a minute (all at once
    /// if it likes), shared by every node; `Err(seconds)` until there is one again.
    fn take_creation(
        &self,
        address: std::net::IpAddr,
        per_minute: u32,
    ) -> Result<Result<(), u64>, StoreError>;
}

/// How long a seat counts without being renewed: a node renews its seats every third of
/// this, so only a node that died (or lost the database that long) loses them, and its
/// clients, reconnecting to the others, find their seats free again after at most this.
pub const SEAT_EXPIRES: std::time::Duration = std::time::Duration::from_secs(15);

/// Where the boards are kept: `--database`, or else the embedded store in `--data-dir`.
#[derive(Debug, Clone)]
pub enum Location {
    Dir(PathBuf),
    Database(DatabaseUrl),
}

impl Location {
    /// Opens the store; a data directory is created if missing, a database's schema
    /// created or migrated.
    pub fn open(&self) -> Result<Arc<dyn Store>, OpenError> {
        Ok(match self {
            Location::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                    dir: dir.clone(),
                    source,
                })?;
                Arc::new(SledStore::open(dir).map_err(|source| OpenError::Dir {
                    dir: dir.clone(),
                    source,
                })?)
            }
            Location::Database(url) => {
                Arc::new(PgStore::open(url).map_err(|source| OpenError::Database {
                    url: url.clone(),
                    source,
                })?)
            }
        })
    }
}

/// Why the store could not be opened at start, in one line.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create data directory {}: {source}", dir.display())]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database in {}: {source}", dir.display())]
    Dir { dir: PathBuf, source: StoreError },
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: DatabaseUrl,
        source: StoreError,
    },
}

impl fmt::Display for Location {
    /// `data directory ./data`, `database postgres://host:5432/db` (never a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "data directory {}", dir.display()),
            Location::Database(url) => write!(f, "database {url}"),
        }
    }
}

/// Runs `f` against `store` on tokio's blocking pool, so a slow disk never stalls the
/// async workers. A task that panicked or was cancelled comes back as a storage error.
pub async fn blocking<T, E>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Store) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| E::from(StoreError::backend(e)))?
}

/// Runs `f` on the store's shared budgets on tokio's blocking pool, as [`blocking`] does;
/// `None` if the store keeps none ([`Store::budgets`]).
pub async fn on_budgets<T: Send + 'static>(
    store: &Arc<dyn Store>,
    f: impl FnOnce(&dyn Budgets) -> Result<T, StoreError> + Send + 'static,
) -> Result<Option<T>, StoreError> {
    blocking(store, |s| s.budgets().map(f).transpose()).await
}

#[cfg(test)]
mod tests {
    use super::testing::{self, Calls, Faulty};
    use super::*;

    pub(crate) fn board(n: u8) -> BoardId {
        BoardId::from_random([n; 16])
    }

    fn links(n: u8) -> AccessHashes {
        AccessHashes::for_edit_token(&hindsight_shared::Token::edit_from_random([n; 16]))
    }

    #[test]
    fn mem_store_keeps_the_contract() {
        testing::contract(&MemStore::default());
    }

    #[test]
    fn a_faulty_store_without_faults_keeps_the_contract() {
        testing::contract(&Faulty::new(MemStore::default()));
    }

    #[test]
    fn sled_store_keeps_the_contract_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            testing::contract(&store);
            store.append(&board(1), 3, &[b"after".to_vec()]).unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        let loaded = store.load(&board(1)).unwrap().unwrap();
        assert_eq!(loaded.snapshot, b"snap3");
        assert_eq!(loaded.updates, [b"after".to_vec()]);
        assert_eq!(loaded.next_seq, 4);
        assert_eq!(store.links(&board(1)).unwrap(), Links::Hashes(links(1)));
    }

    #[test]
    fn changes_since_a_number_are_the_later_updates_or_the_snapshot_too() {
        let store = MemStore::default();
        let a = board(2);
        store.create(&a, b"s0", None).unwrap();
        store
            .append(&a, 0, &[b"u0".to_vec(), b"u1".to_vec(), b"u2".to_vec()])
            .unwrap();
        let changes = store.changes_since(&a, 1).unwrap().unwrap();
        assert_eq!(changes.snapshot, None);
        assert_eq!(changes.updates, [b"u1".to_vec(), b"u2".to_vec()]);
        assert_eq!(changes.next_seq, 3);
        store.compact(&a, b"s2", 2).unwrap();
        let changes = store.changes_since(&a, 1).unwrap().unwrap();
        assert_eq!(
            changes.snapshot.as_deref(),
            Some(&b"s2"[..]),
            "u1 is in it now"
        );
        assert_eq!(changes.updates, [b"u2".to_vec()]);
        let current = store.changes_since(&a, 3).unwrap().unwrap();
        assert_eq!((current.updates.len(), current.next_seq), (0, 3));
        assert!(store.changes_since(&board(99), 0).unwrap().is_none());
        assert!(store.watch().is_none(), "only this process writes it");
    }

    #[test]
    fn a_store_failing_writes_refuses_them_and_keeps_its_data() {
        let store = Faulty::new(MemStore::default());
        let a = board(3);
        store.create(&a, b"s", None).unwrap();
        store.fail(Calls::Writes);
        assert!(store.append(&a, 0, &[b"x".to_vec()]).is_err());
        assert!(store.probe().is_err(), "not ready while writes fail");
        assert!(store.delete(&a).is_err());
        assert!(
            matches!(store.set_links(&a, &links(1)), Err(StoreError::Backend(_))),
            "an injected failure looks like the engine's"
        );
        store.heal();
        assert!(store.load(&a).unwrap().unwrap().updates.is_empty());
        assert_eq!(store.links(&a).unwrap(), Links::Unlinked);
    }

    #[test]
    fn a_store_failing_one_board_keeps_the_others_writable() {
        let store = Faulty::new(MemStore::default());
        let (a, b) = (board(4), board(5));
        store.create(&a, b"a", None).unwrap();
        store.create(&b, b"b", None).unwrap();
        store.fail(Calls::WritesTo(a));
        assert!(store.write(&a, 0, &[b"x".to_vec()]).is_err());
        assert!(store.compact(&a, b"a2", 0).is_err());
        store.append(&b, 0, &[b"y".to_vec()]).unwrap();
        store.flush().unwrap();
        store.probe().unwrap();
        assert_eq!(store.load(&a).unwrap().unwrap().snapshot, b"a");
        assert_eq!(store.load(&b).unwrap().unwrap().updates, [b"y".to_vec()]);
    }

    #[test]
    fn a_failing_flush_fails_appends_but_not_writes() {
        let store = Faulty::new(MemStore::default());
        let a = board(6);
        store.create(&a, b"a", None).unwrap();
        store.fail(Calls::Flushes);
        store.write(&a, 0, &[b"x".to_vec()]).unwrap();
        assert!(store.flush().is_err());
        assert!(store.append(&a, 1, &[b"y".to_vec()]).is_err());
        assert_eq!(store.flushes(), 2, "append flushes through the wrapper");
    }

    #[test]
    fn held_writes_wait_for_their_gate_and_go_on_when_it_is_dropped() {
        let store = Arc::new(Faulty::new(MemStore::default()));
        let a = board(7);
        store.create(&a, b"a", None).unwrap();
        let gate = store.hold(Calls::WritesTo(a));
        let writer = std::thread::spawn({
            let store = Arc::clone(&store);
            move || store.append(&a, 0, &[b"x".to_vec()])
        });
        while store.waiting() == 0 {
            std::thread::yield_now();
        }
        assert!(store.load(&a).unwrap().unwrap().updates.is_empty());
        drop(gate);
        writer.join().unwrap().unwrap();
        assert_eq!(store.waiting(), 0);
        assert_eq!(store.load(&a).unwrap().unwrap().updates, [b"x".to_vec()]);
    }
}
