//! Honest "saved": the server acknowledges a client's changes only once they are in
//! sled. A store that holds every write at a gate shows that no acknowledgement leaves
//! while the write is pending, and that when it arrives the change is on disk.

use std::sync::{Arc, Condvar, Mutex};

use hindsight_server::store::Links;
use hindsight_server::{SledStore, Store, StoreError};
use hindsight_shared::region::RegionId;
use hindsight_shared::{AccessHashes, BoardId};
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::{eventually, TestServer, YClient};

/// A sled store whose appends wait until the test opens the gate.
struct GatedStore {
    inner: SledStore,
    /// (appends waiting, gate open); the condvar wakes both sides.
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl GatedStore {
    fn waiting(&self) -> usize {
        self.state.lock().unwrap().0
    }

    fn set_open(&self, open: bool) {
        self.state.lock().unwrap().1 = open;
        self.changed.notify_all();
    }
}

impl Store for GatedStore {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        self.inner.create(board, snapshot, links)
    }
    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        self.inner.links(board)
    }
    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        self.inner.set_links(board, links)
    }
    fn load(
        &self,
        board: &BoardId,
    ) -> Result<Option<hindsight_server::store::StoredBoard>, StoreError> {
        self.inner.load(board)
    }
    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        self.changed.notify_all();
        while !state.1 {
            state = self.changed.wait(state).unwrap();
        }
        state.0 -= 1;
        drop(state);
        self.inner.write(board, first_seq, updates)
    }
    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        self.inner.compact(board, snapshot, upto)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        self.inner.list()
    }
    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        self.inner.delete(board)
    }
    fn probe(&self) -> Result<(), StoreError> {
        self.inner.probe()
    }
}

/// Opens the gate when dropped, so that a failing assertion ends the test instead of
/// leaving the server blocked on a write forever.
struct OpenOnDrop(Arc<GatedStore>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.set_open(true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_is_acknowledged_only_after_the_update_is_in_sled() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(GatedStore {
        inner: SledStore::open(dir.path()).unwrap(),
        state: Mutex::new((0, true)),
        changed: Condvar::new(),
    });
    let _gate = OpenOnDrop(Arc::clone(&store));
    let server = TestServer::start_on(TestServer::config(dir.path()), store.clone()).await;
    let board = server.create_board().await;
    let client = YClient::connect(&server.ws_base(), &board).await;
    client.track_saves();
    // Whatever the initial sync sent is acknowledged first.
    client.wait_saved(client.sent_changes()).await;

    store.set_open(false);
    let id = id("pending");
    client.edit(|b, txn| b.add_note(txn, &id, note_in(RegionId::Summary, "on disk first")));
    let expected = client.sent_changes();
    eventually("the server to be writing the update", || async {
        (store.waiting() > 0).then_some(())
    })
    .await;
    assert!(
        client.saved() < expected,
        "acknowledged while the write is still pending"
    );
    let stored = |store: &GatedStore| {
        let stored = store.load(&board.id).unwrap().unwrap();
        hindsight_server::room::load_doc(&stored).map(|doc| {
            let b = hindsight_shared::Board::new(&doc);
            let txn = yrs::Transact::transact(&doc);
            b.note(&txn, &id).is_some()
        })
    };
    assert!(!stored(&store).unwrap(), "not in sled yet");

    store.set_open(true);
    client.wait_saved(expected).await;
    assert!(
        stored(&store).unwrap(),
        "acknowledged, so it must be in sled"
    );
    server.stop().await;
}
