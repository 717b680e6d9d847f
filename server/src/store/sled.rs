//! The real store: boards in one sled tree.
//!
//! Keys: `S` + board id → `upto` (u64 BE) + snapshot; `U` + board id + seq (u64 BE) → one
//! update; `K` + board id → the link hashes; `V` + board id + time (u64 BE, UTC ms) → a
//! kept version (`history.rs`), and `v` + the same → its size (u64 BE), so listing the
//! history reads no document; `P` → the readiness probe's record. Snapshot
//! and update records share a tree so that compaction and deletion are single atomic
//! batches. Durable means flushed: sled otherwise writes to disk every 500 ms.

use std::path::Path;

use hindsight_shared::{AccessHashes, BoardId};

use super::{Links, Store, StoreError, StoredBoard};

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> StoreError {
        StoreError::backend(e)
    }
}

const SNAPSHOT: u8 = b'S';
const UPDATE: u8 = b'U';
const LINKS: u8 = b'K';
const VERSION: u8 = b'V';
const VERSION_SIZE: u8 = b'v';
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

/// A board's key with a big-endian number after it (an update's sequence number, a
/// version's time), so that sled's byte order is number order.
fn numbered_key(kind: u8, board: &BoardId, n: u64) -> [u8; 25] {
    let mut key = [0u8; 25];
    key[0] = kind;
    key[1..17].copy_from_slice(board.as_bytes());
    key[17..].copy_from_slice(&n.to_be_bytes());
    key
}

fn number_of(board: &BoardId, key: &[u8]) -> Result<u64, StoreError> {
    Ok(u64::from_be_bytes(
        key.get(17..25)
            .and_then(|k| k.try_into().ok())
            .ok_or(StoreError::Corrupt(*board))?,
    ))
}

fn update_key(board: &BoardId, seq: u64) -> [u8; 25] {
    numbered_key(UPDATE, board, seq)
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
    db: ::sled::Db,
    boards: ::sled::Tree,
}

impl SledStore {
    /// The board whose snapshot record is `value`, with the updates stored after it.
    fn load_from(&self, board: &BoardId, value: &[u8]) -> Result<StoredBoard, StoreError> {
        let (upto, snapshot) = parse_snapshot(board, value)?;
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
            let seq = number_of(board, &key)?;
            stored.updates.push(value.to_vec());
            stored.next_seq = seq + 1;
        }
        Ok(stored)
    }

    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        let db = ::sled::Config::new().path(dir).open()?;
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
        use ::sled::transaction::{ConflictableTransactionError, TransactionError};
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
        let set = set.map_err(|e: ::sled::transaction::TransactionError<()>| match e {
            ::sled::transaction::TransactionError::Storage(e) => StoreError::from(e),
            // The closure never aborts.
            ::sled::transaction::TransactionError::Abort(()) => {
                StoreError::backend("transaction aborted")
            }
        })?;
        if set {
            self.durable()?;
        }
        Ok(set)
    }

    /// Read while the board may be live (an online backup): a compaction between reading
    /// the snapshot and its updates would leave out the updates it folded in, so the
    /// snapshot is read again afterwards, and the read repeated if it moved on.
    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        loop {
            let Some(value) = self.boards.get(snapshot_key(board))? else {
                return Ok(None);
            };
            let stored = self.load_from(board, &value)?;
            let again = self.boards.get(snapshot_key(board))?;
            if again.as_deref() == Some(&value[..]) {
                return Ok(Some(stored));
            }
        }
    }

    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let mut batch = ::sled::Batch::default();
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
        let mut batch = ::sled::Batch::default();
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
                    .map_err(|_| StoreError::backend("malformed snapshot key"))?;
                Ok(BoardId::from_bytes(id))
            })
            .collect()
    }

    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        let existed = self.boards.contains_key(snapshot_key(board))?;
        let mut batch = ::sled::Batch::default();
        batch.remove(&snapshot_key(board)[..]);
        batch.remove(&links_key(board)[..]);
        for kind in [UPDATE, VERSION, VERSION_SIZE] {
            for entry in self
                .boards
                .range(numbered_key(kind, board, 0)..=numbered_key(kind, board, u64::MAX))
            {
                let (key, _) = entry?;
                batch.remove(key);
            }
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

    fn data_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    fn keep_version(&self, board: &BoardId, at: u64, state: &[u8]) -> Result<(), StoreError> {
        let mut batch = ::sled::Batch::default();
        batch.insert(&numbered_key(VERSION, board, at)[..], state);
        batch.insert(
            &numbered_key(VERSION_SIZE, board, at)[..],
            &(state.len() as u64).to_be_bytes()[..],
        );
        self.boards.apply_batch(batch)?;
        Ok(())
    }

    fn versions(&self, board: &BoardId) -> Result<Vec<(u64, u64)>, StoreError> {
        self.boards
            .range(
                numbered_key(VERSION_SIZE, board, 0)..=numbered_key(VERSION_SIZE, board, u64::MAX),
            )
            .map(|entry| {
                let (key, value) = entry?;
                let size: [u8; 8] = value[..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(*board))?;
                Ok((number_of(board, &key)?, u64::from_be_bytes(size)))
            })
            .collect()
    }

    fn version(&self, board: &BoardId, at: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .boards
            .get(numbered_key(VERSION, board, at))?
            .map(|v| v.to_vec()))
    }

    fn forget_versions(&self, board: &BoardId, ats: &[u64]) -> Result<(), StoreError> {
        let mut batch = ::sled::Batch::default();
        for &at in ats {
            batch.remove(&numbered_key(VERSION, board, at)[..]);
            batch.remove(&numbered_key(VERSION_SIZE, board, at)[..]);
        }
        self.boards.apply_batch(batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sled_load_skips_updates_left_by_an_interrupted_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let a = BoardId::from_random([7; 16]);
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
}
