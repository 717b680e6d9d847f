//! Fault injection for tests: [`Faulty`] wraps any store and makes chosen writes or
//! flushes fail, as a full or broken disk would, or wait at a gate until the test lets
//! them through, to look at the server while a write is pending.
//!
//! Reads (`load`, `links`, `list`) are never faulted: what is stored stays readable, so
//! a test can check that nothing unsaved was acknowledged. This is the only store double
//! the tests use; each test says which calls to break instead of writing its own wrapper.
//!
//! [`contract`] is the behaviour every store must show, as one test any implementation
//! can be run through (the server's unit tests, and `tests/` against PostgreSQL).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use hindsight_shared::{AccessHashes, BoardId};

use super::{Changes, Heard, Links, Store, StoreError, StoredBoard};

/// Which calls a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calls {
    /// Every call that changes what is stored (`create`, `set_links`, `write`, `compact`,
    /// `delete`, and the readiness `probe`), on any board.
    Writes,
    /// The calls that change one board.
    WritesTo(BoardId),
    /// `flush`, including the one inside `append`.
    Flushes,
}

impl Calls {
    /// Whether the fault covers a call of `kind` on `board` (`None`: no board, the probe
    /// and flushes).
    fn covers(self, kind: Kind, board: Option<&BoardId>) -> bool {
        match (self, kind) {
            (Calls::Writes, Kind::Write) => true,
            (Calls::WritesTo(b), Kind::Write) => board == Some(&b),
            (Calls::Flushes, Kind::Flush) => true,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Write,
    Flush,
}

#[derive(Default)]
struct Faults {
    failing: Vec<Calls>,
    /// Open gates, by the number their [`Gate`] carries.
    held: Vec<(u64, Calls)>,
    next_gate: u64,
    /// Calls waiting at a gate now.
    waiting: usize,
    /// Flushes started so far, held or not.
    flushes: usize,
}

/// A store whose writes and flushes fail or wait on command. Shared between the test and
/// the server under test (through an `Arc`); every hook takes effect at once for calls
/// that start afterwards, and a held call rechecks its gate whenever one closes.
pub struct Faulty<S> {
    inner: S,
    faults: Mutex<Faults>,
    /// Wakes held calls when a gate is dropped, and tests watching `waiting`.
    changed: Condvar,
}

/// Holds the calls it was made for until dropped. Dropping it on a failed assertion
/// releases them too, so a test never leaves a server blocked on a write.
pub struct Gate<S: Store> {
    store: Arc<Faulty<S>>,
    id: u64,
}

impl<S: Store> Drop for Gate<S> {
    fn drop(&mut self) {
        self.store.faults().held.retain(|(id, _)| *id != self.id);
        self.store.changed.notify_all();
    }
}

impl<S: Store> Faulty<S> {
    pub fn new(inner: S) -> Faulty<S> {
        Faulty {
            inner,
            faults: Mutex::new(Faults::default()),
            changed: Condvar::new(),
        }
    }

    /// The wrapped store, to look at what it holds without any fault.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Makes `calls` fail, as the engine would, until [`Faulty::heal`].
    pub fn fail(&self, calls: Calls) {
        self.faults().failing.push(calls);
    }

    /// Ends every failure; gates stay as they are.
    pub fn heal(&self) {
        self.faults().failing.clear();
    }

    /// Makes `calls` wait until the returned gate is dropped.
    pub fn hold(self: &Arc<Self>, calls: Calls) -> Gate<S> {
        let mut faults = self.faults();
        let id = faults.next_gate;
        faults.next_gate += 1;
        faults.held.push((id, calls));
        Gate {
            store: Arc::clone(self),
            id,
        }
    }

    /// How many calls wait at a gate now.
    pub fn waiting(&self) -> usize {
        self.faults().waiting
    }

    /// How many flushes have started, including any held at a gate now.
    pub fn flushes(&self) -> usize {
        self.faults().flushes
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        // A test that panicked while holding the lock has failed already; the faults
        // themselves are still consistent.
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits while a gate holds this call, then fails it if a fault says so.
    fn enter(&self, kind: Kind, board: Option<&BoardId>) -> Result<(), StoreError> {
        let mut faults = self.faults();
        if kind == Kind::Flush {
            faults.flushes += 1;
        }
        let held = |f: &Faults| f.held.iter().any(|(_, c)| c.covers(kind, board));
        if held(&faults) {
            faults.waiting += 1;
            self.changed.notify_all();
            while held(&faults) {
                faults = self.changed.wait(faults).unwrap_or_else(|e| e.into_inner());
            }
            faults.waiting -= 1;
            self.changed.notify_all();
        }
        if faults.failing.iter().any(|c| c.covers(kind, board)) {
            return Err(StoreError::backend("injected storage failure"));
        }
        Ok(())
    }
}

impl<S: Store> Store for Faulty<S> {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.create(board, snapshot, links)
    }

    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        self.inner.load(board)
    }

    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        self.inner.links(board)
    }

    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.set_links(board, links)
    }

    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.write(board, first_seq, updates)
    }

    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.compact(board, snapshot, upto)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.enter(Kind::Flush, None)?;
        self.inner.flush()
    }

    fn durable_on_write(&self) -> bool {
        self.inner.durable_on_write()
    }

    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        self.inner.list()
    }

    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.delete(board)
    }

    fn probe(&self) -> Result<(), StoreError> {
        self.enter(Kind::Write, None)?;
        self.inner.probe()
    }

    fn data_bytes(&self) -> Result<u64, StoreError> {
        self.inner.data_bytes()
    }

    fn keep_version(&self, board: &BoardId, at: u64, state: &[u8]) -> Result<(), StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.keep_version(board, at, state)
    }

    fn versions(&self, board: &BoardId) -> Result<Vec<(u64, u64)>, StoreError> {
        self.inner.versions(board)
    }

    fn version(&self, board: &BoardId, at: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.version(board, at)
    }

    fn forget_versions(&self, board: &BoardId, ats: &[u64]) -> Result<(), StoreError> {
        self.enter(Kind::Write, Some(board))?;
        self.inner.forget_versions(board, ats)
    }

    fn changes_since(&self, board: &BoardId, seq: u64) -> Result<Option<Changes>, StoreError> {
        self.inner.changes_since(board, seq)
    }

    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Heard>> {
        self.inner.watch()
    }

    fn publish_presence(&self, board: &BoardId, message: &[u8]) -> Result<(), StoreError> {
        self.inner.publish_presence(board, message)
    }

    fn budgets(&self) -> Option<&dyn super::Budgets> {
        self.inner.budgets()
    }
}

fn board(n: u8) -> BoardId {
    BoardId::from_random([n; 16])
}

fn links(n: u8) -> AccessHashes {
    AccessHashes::for_edit_token(&hindsight_shared::Token::edit_from_random([n; 16]))
}

/// The contract every store must keep, run against every implementation: the server's
/// unit tests run it on `MemStore`, `SledStore` and `Faulty`, the integration tests on
/// `PgStore` against a real PostgreSQL. `store` must hold no boards yet; the test uses
/// the boards numbered 1 and 2 (`BoardId::from_random([n; 16])`).
pub fn contract(store: &dyn Store) {
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
