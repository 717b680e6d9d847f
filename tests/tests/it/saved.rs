//! Honest "saved": the server acknowledges a client's changes only once they are in
//! sled. A store that holds every write at a gate shows that no acknowledgement leaves
//! while the write is pending, and that when it arrives the change is on disk.

use std::sync::Arc;

use hindsight_server::store::testing::{Calls, Faulty};
use hindsight_server::{SledStore, Store};
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::{eventually, TestServer, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_is_acknowledged_only_after_the_update_is_in_sled() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Faulty::new(SledStore::open(dir.path()).unwrap()));
    let server = TestServer::start_on(TestServer::config(dir.path()), store.clone()).await;
    let board = server.create_board().await;
    let client = YClient::connect(&server.ws_base(), &board).await;
    client.track_saves();
    // Whatever the initial sync sent is acknowledged first.
    client.wait_saved(client.sent_changes()).await;

    // Every write waits until the gate is dropped (which a failing assertion does too).
    let gate = store.hold(Calls::Writes);
    let id = id("pending");
    client.edit(|b, txn| b.add_note(txn, &id, note_in("summary", "on disk first")));
    let expected = client.sent_changes();
    eventually("the server to be writing the update", || async {
        (store.waiting() > 0).then_some(())
    })
    .await;
    assert!(
        client.saved() < expected,
        "acknowledged while the write is still pending"
    );
    let stored = |store: &SledStore| {
        let stored = store.load(&board.id).unwrap().unwrap();
        hindsight_server::room::load_doc(&stored).map(|doc| {
            let b = hindsight_shared::Board::new(&doc);
            let txn = yrs::Transact::transact(&doc);
            b.note(&txn, &id).is_some()
        })
    };
    assert!(!stored(store.inner()).unwrap(), "not in sled yet");

    drop(gate);
    client.wait_saved(expected).await;
    assert!(
        stored(store.inner()).unwrap(),
        "acknowledged, so it must be in sled"
    );
    server.stop().await;
}
