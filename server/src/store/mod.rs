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
//! [`SledStore`] (`sled.rs`) is the real store; [`MemStore`] (`mem.rs`) keeps boards in
//! memory for tests of the room machinery; [`testing::Faulty`] wraps either to make
//! writes and flushes fail or wait, for tests of what happens when storage breaks.

mod mem;
mod sled;
pub mod testing;

use std::sync::Arc;

use hindsight_shared::{AccessHashes, BoardId};

pub use self::mem::MemStore;
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

#[cfg(test)]
mod tests {
    use super::testing::{Calls, Faulty};
    use super::*;

    pub(crate) fn board(n: u8) -> BoardId {
        BoardId::from_random([n; 16])
    }

    fn links(n: u8) -> AccessHashes {
        AccessHashes::for_edit_token(&hindsight_shared::Token::edit_from_random([n; 16]))
    }

    /// The contract every store must keep, run against every implementation.
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

        // Versions: kept per board, listed oldest first, read back, forgotten.
        store.keep_version(&a, 2_000, b"at two").unwrap();
        store.keep_version(&a, 1_000, b"at one").unwrap();
        store.keep_version(&a, 3_000, b"at three!").unwrap();
        store.keep_version(&b, 1_000, b"b's").unwrap();
        store.flush().unwrap();
        assert_eq!(
            store.versions(&a).unwrap(),
            [(1_000, 6), (2_000, 6), (3_000, 9)]
        );
        assert_eq!(
            store.version(&a, 3_000).unwrap().as_deref(),
            Some(&b"at three!"[..])
        );
        assert_eq!(store.version(&a, 4_000).unwrap(), None);
        store.forget_versions(&a, &[1_000, 3_000]).unwrap();
        assert_eq!(store.versions(&a).unwrap(), [(2_000, 6)]);
        assert_eq!(store.versions(&b).unwrap(), [(1_000, 3)]);

        // Listing is in id order; deleting takes the updates and versions along.
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
        assert!(
            store.versions(&b).unwrap().is_empty(),
            "no version of it either"
        );
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
    fn a_faulty_store_without_faults_keeps_the_contract() {
        contract(&Faulty::new(MemStore::default()));
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
