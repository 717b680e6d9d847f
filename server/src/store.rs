//! Durable storage of boards: a snapshot plus the updates that came after it.
//!
//! The store knows nothing about Yjs; it keeps opaque byte strings in order. A board is
//! a snapshot (covering every update with a sequence number below `upto`) and a run of
//! updates numbered from `upto` on. Loading = snapshot + later updates. Compaction swaps
//! a new snapshot in and drops the updates it covers in one atomic batch, so a crash at
//! any point leaves either the old or the new state, never a board that fails to load.
//!
//! Every write method returns only once the data is durable: callers acknowledge and
//! broadcast on the strength of that.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use hindsight_shared::{AccessHashes, BoardId};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("board already exists")]
    AlreadyExists,
    #[error("stored record for board {0} is malformed")]
    Corrupt(BoardId),
    #[error("storage failed: {0}")]
    Backend(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Backend(e.to_string())
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

/// Storage for boards. Methods block (sled does I/O); async callers run them on the
/// blocking pool.
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
    /// Every stored board, in id order.
    fn list(&self) -> Result<Vec<BoardId>, StoreError>;
    /// Removes a board with all its updates, atomically; returns whether it existed.
    /// Durable on return.
    fn delete(&self, board: &BoardId) -> Result<bool, StoreError>;
    /// Proves the store takes durable writes (for readiness checks) by writing and
    /// flushing a record no board reads.
    fn probe(&self) -> Result<(), StoreError>;
}

const SNAPSHOT: u8 = b'S';
const UPDATE: u8 = b'U';
const LINKS: u8 = b'K';
/// The readiness probe's record; one key, overwritten each time.
const PROBE: &[u8] = b"P";

fn snapshot_key(board: &BoardId) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = SNAPSHOT;
    key[1..].copy_from_slice(board.as_bytes());
    key
}

fn links_key(board: &BoardId) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = LINKS;
    key[1..].copy_from_slice(board.as_bytes());
    key
}

fn update_key(board: &BoardId, seq: u64) -> [u8; 25] {
    let mut key = [0u8; 25];
    key[0] = UPDATE;
    key[1..17].copy_from_slice(board.as_bytes());
    // Big-endian so that sled's byte order is sequence order.
    key[17..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The snapshot record: `upto` as 8 big-endian bytes, then the encoded document.
fn snapshot_value(snapshot: &[u8], upto: u64) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + snapshot.len());
    value.extend_from_slice(&upto.to_be_bytes());
    value.extend_from_slice(snapshot);
    value
}

fn parse_snapshot(board: &BoardId, value: &[u8]) -> Result<(u64, Vec<u8>), StoreError> {
    if value.len() < 8 {
        return Err(StoreError::Corrupt(*board));
    }
    let (upto, doc) = value.split_at(8);
    Ok((
        u64::from_be_bytes(upto.try_into().expect("8 bytes")),
        doc.to_vec(),
    ))
}

/// The real store: one sled tree holding snapshot and update records side by side, so
/// that compaction is a single atomic batch.
pub struct SledStore {
    db: sled::Db,
    boards: sled::Tree,
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = sled::Config::new().path(dir).open()?;
        let boards = db.open_tree("boards")?;
        Ok(SledStore { db, boards })
    }

    fn durable(&self) -> Result<(), StoreError> {
        self.boards.flush()?;
        Ok(())
    }
}

impl Store for SledStore {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        // One transaction, so a board is never stored without its links (it would refuse
        // every connection) nor an existing board's links overwritten.
        let created = self.boards.transaction(|tx| {
            if tx.get(snapshot_key(board))?.is_some() {
                return Err(ConflictableTransactionError::Abort(()));
            }
            tx.insert(&snapshot_key(board)[..], snapshot_value(snapshot, 0))?;
            match links {
                Some(links) => tx.insert(&links_key(board)[..], &links.to_bytes()[..])?,
                None => tx.remove(&links_key(board)[..])?,
            };
            Ok(())
        });
        match created {
            Ok(()) => self.durable(),
            Err(TransactionError::Abort(())) => Err(StoreError::AlreadyExists),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }

    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        match self.boards.get(links_key(board))? {
            Some(value) => AccessHashes::from_bytes(&value)
                .map(Links::Hashes)
                .ok_or(StoreError::Corrupt(*board)),
            None if self.boards.contains_key(snapshot_key(board))? => Ok(Links::Unlinked),
            None => Ok(Links::NoBoard),
        }
    }

    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        let set = self.boards.transaction(|tx| {
            if tx.get(snapshot_key(board))?.is_none() {
                return Ok(false);
            }
            tx.insert(&links_key(board)[..], &links.to_bytes()[..])?;
            Ok(true)
        });
        let set = set.map_err(|e: sled::transaction::TransactionError<()>| match e {
            sled::transaction::TransactionError::Storage(e) => StoreError::from(e),
            sled::transaction::TransactionError::Abort(()) => {
                StoreError::Backend("transaction aborted".into())
            }
        })?;
        if set {
            self.durable()?;
        }
        Ok(set)
    }

    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        let Some(value) = self.boards.get(snapshot_key(board))? else {
            return Ok(None);
        };
        let (upto, snapshot) = parse_snapshot(board, &value)?;
        let mut stored = StoredBoard {
            snapshot,
            updates: Vec::new(),
            next_seq: upto,
        };
        // Updates below `upto` are folded into the snapshot; any left by an interrupted
        // compaction are skipped by starting the range at `upto`.
        for entry in self
            .boards
            .range(update_key(board, upto)..=update_key(board, u64::MAX))
        {
            let (key, value) = entry?;
            let seq = u64::from_be_bytes(
                key[17..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(*board))?,
            );
            stored.updates.push(value.to_vec());
            stored.next_seq = seq + 1;
        }
        Ok(Some(stored))
    }

    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (i, update) in updates.iter().enumerate() {
            batch.insert(
                &update_key(board, first_seq + i as u64)[..],
                update.as_slice(),
            );
        }
        self.boards.apply_batch(batch)?;
        Ok(())
    }

    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(&snapshot_key(board)[..], snapshot_value(snapshot, upto));
        for entry in self
            .boards
            .range(update_key(board, 0)..update_key(board, upto))
        {
            let (key, _) = entry?;
            batch.remove(key);
        }
        self.boards.apply_batch(batch)?;
        self.durable()
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        self.boards
            .scan_prefix([SNAPSHOT])
            .map(|entry| {
                let (key, _) = entry?;
                let id: [u8; 16] = key[1..]
                    .try_into()
                    .map_err(|_| StoreError::Backend("malformed snapshot key".into()))?;
                Ok(BoardId::from_bytes(id))
            })
            .collect()
    }

    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        let existed = self.boards.contains_key(snapshot_key(board))?;
        let mut batch = sled::Batch::default();
        batch.remove(&snapshot_key(board)[..]);
        batch.remove(&links_key(board)[..]);
        for entry in self
            .boards
            .range(update_key(board, 0)..=update_key(board, u64::MAX))
        {
            let (key, _) = entry?;
            batch.remove(key);
        }
        self.boards.apply_batch(batch)?;
        self.durable()?;
        Ok(existed)
    }

    fn probe(&self) -> Result<(), StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.boards.insert(PROBE, &now.to_be_bytes())?;
        self.durable()
    }
}

/// An in-memory store for tests of the room machinery. It can be told to fail, to
/// exercise the "storage is broken" paths.
#[derive(Default)]
pub struct MemStore {
    boards: Mutex<HashMap<BoardId, MemBoard>>,
    failing: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct MemBoard {
    snapshot: Vec<u8>,
    upto: u64,
    updates: BTreeMap<u64, Vec<u8>>,
    links: Option<AccessHashes>,
}

impl MemStore {
    /// While set, every write fails as a full disk would.
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::Backend("simulated write failure".into()))
        } else {
            Ok(())
        }
    }
}

impl Store for MemStore {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut boards = self.boards.lock().expect("store lock");
        if boards.contains_key(board) {
            return Err(StoreError::AlreadyExists);
        }
        boards.insert(
            *board,
            MemBoard {
                snapshot: snapshot.to_vec(),
                links: links.copied(),
                ..MemBoard::default()
            },
        );
        Ok(())
    }

    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(match boards.get(board) {
            None => Links::NoBoard,
            Some(MemBoard { links: None, .. }) => Links::Unlinked,
            Some(MemBoard {
                links: Some(links), ..
            }) => Links::Hashes(*links),
        })
    }

    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        self.check()?;
        let mut boards = self.boards.lock().expect("store lock");
        Ok(boards
            .get_mut(board)
            .map(|b| b.links = Some(*links))
            .is_some())
    }

    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        Ok(boards.get(board).map(|b| StoredBoard {
            snapshot: b.snapshot.clone(),
            updates: b.updates.values().cloned().collect(),
            next_seq: b.updates.keys().last().map_or(b.upto, |s| s + 1),
        }))
    }

    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut boards = self.boards.lock().expect("store lock");
        let b = boards.entry(*board).or_default();
        for (i, u) in updates.iter().enumerate() {
            b.updates.insert(first_seq + i as u64, u.clone());
        }
        Ok(())
    }

    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        self.check()?;
        let mut boards = self.boards.lock().expect("store lock");
        let b = boards.entry(*board).or_default();
        b.snapshot = snapshot.to_vec();
        b.upto = upto;
        b.updates = b.updates.split_off(&upto);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.check()
    }

    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        let boards = self.boards.lock().expect("store lock");
        let mut ids: Vec<BoardId> = boards.keys().copied().collect();
        ids.sort_by_key(|id| *id.as_bytes());
        Ok(ids)
    }

    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        self.check()?;
        Ok(self
            .boards
            .lock()
            .expect("store lock")
            .remove(board)
            .is_some())
    }

    fn probe(&self) -> Result<(), StoreError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(n: u8) -> BoardId {
        BoardId::from_random([n; 16])
    }

    fn links(n: u8) -> AccessHashes {
        AccessHashes::for_edit_token(&hindsight_shared::Token::edit_from_random([n; 16]))
    }

    /// The contract every store must keep, run against both implementations.
    fn contract(store: &dyn Store) {
        let a = board(1);
        let b = board(2);
        assert!(store.load(&a).unwrap().is_none());
        assert_eq!(store.links(&a).unwrap(), Links::NoBoard);
        assert!(
            !store.set_links(&a, &links(1)).unwrap(),
            "no links without a board"
        );
        assert_eq!(store.links(&a).unwrap(), Links::NoBoard);
        store.create(&a, b"snap0", Some(&links(1))).unwrap();
        assert_eq!(store.links(&a).unwrap(), Links::Hashes(links(1)));
        store.create(&b, b"other", None).unwrap();
        assert!(matches!(
            store.create(&a, b"again", Some(&links(9))),
            Err(StoreError::AlreadyExists)
        ));
        assert_eq!(
            store.links(&a).unwrap(),
            Links::Hashes(links(1)),
            "a refused create leaves the links alone"
        );
        assert_eq!(store.links(&b).unwrap(), Links::Unlinked);
        assert!(store.set_links(&b, &links(2)).unwrap());
        assert_eq!(store.links(&b).unwrap(), Links::Hashes(links(2)));
        assert!(
            store.set_links(&b, &links(3)).unwrap(),
            "links can be replaced"
        );
        assert_eq!(store.links(&b).unwrap(), Links::Hashes(links(3)));
        store
            .append(&a, 0, &[b"u0".to_vec(), b"u1".to_vec()])
            .unwrap();
        store.append(&a, 2, &[b"u2".to_vec()]).unwrap();
        let loaded = store.load(&a).unwrap().unwrap();
        assert_eq!(loaded.snapshot, b"snap0");
        assert_eq!(
            loaded.updates,
            [b"u0".to_vec(), b"u1".to_vec(), b"u2".to_vec()]
        );
        assert_eq!(loaded.next_seq, 3);

        store.compact(&a, b"snap2", 2).unwrap();
        let loaded = store.load(&a).unwrap().unwrap();
        assert_eq!(loaded.snapshot, b"snap2");
        assert_eq!(loaded.updates, [b"u2".to_vec()]);
        assert_eq!(loaded.next_seq, 3);

        store.compact(&a, b"snap3", 3).unwrap();
        let loaded = store.load(&a).unwrap().unwrap();
        assert!(loaded.updates.is_empty());
        assert_eq!(
            loaded.next_seq, 3,
            "numbering continues after a full compaction"
        );

        // Other boards are untouched.
        let other = store.load(&b).unwrap().unwrap();
        assert_eq!(other.snapshot, b"other");
        assert!(other.updates.is_empty());

        // Listing is in id order; deleting takes the updates along.
        assert_eq!(store.list().unwrap(), [a, b]);
        store.append(&b, 0, &[b"b0".to_vec()]).unwrap();
        assert!(store.delete(&b).unwrap());
        assert!(!store.delete(&b).unwrap(), "a second delete finds nothing");
        assert!(store.load(&b).unwrap().is_none());
        assert_eq!(
            store.links(&b).unwrap(),
            Links::NoBoard,
            "links go with the board"
        );
        assert_eq!(store.list().unwrap(), [a]);
        store.create(&b, b"fresh", None).unwrap();
        let fresh = store.load(&b).unwrap().unwrap();
        assert!(
            fresh.updates.is_empty(),
            "no update of the deleted board survives"
        );
        assert_eq!(fresh.next_seq, 0);
        assert_eq!(
            store.links(&b).unwrap(),
            Links::Unlinked,
            "no old links either"
        );
        assert_eq!(store.load(&a).unwrap().unwrap().snapshot, b"snap3");
        store.probe().unwrap();
        assert_eq!(store.list().unwrap(), [a, b], "the probe is not a board");
    }

    #[test]
    fn mem_store_keeps_the_contract() {
        contract(&MemStore::default());
    }

    #[test]
    fn sled_store_keeps_the_contract_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            contract(&store);
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
    fn sled_load_skips_updates_left_by_an_interrupted_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let a = board(7);
        store.create(&a, b"s", None).unwrap();
        store
            .append(&a, 0, &[b"old".to_vec(), b"new".to_vec()])
            .unwrap();
        // A snapshot covering seq 0 written without removing the update, as if the
        // process died between the two (they are one batch, but loading must not rely on it).
        store
            .boards
            .insert(snapshot_key(&a), snapshot_value(b"s+old", 1))
            .unwrap();
        let loaded = store.load(&a).unwrap().unwrap();
        assert_eq!(loaded.snapshot, b"s+old");
        assert_eq!(loaded.updates, [b"new".to_vec()]);
    }

    #[test]
    fn failing_mem_store_refuses_writes_and_keeps_data() {
        let store = MemStore::default();
        let a = board(3);
        store.create(&a, b"s", None).unwrap();
        store.set_failing(true);
        assert!(store.append(&a, 0, &[b"x".to_vec()]).is_err());
        assert!(store.probe().is_err(), "not ready while writes fail");
        assert!(store.delete(&a).is_err());
        store.set_failing(false);
        assert!(store.load(&a).unwrap().unwrap().updates.is_empty());
    }
}
