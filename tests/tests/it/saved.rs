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

/// A change that builds on parts of the board the server does not hold (the page made
/// them offline, or sent them to a node that died before storing them) cannot be
/// integrated. yrs would keep it aside in memory until they came; the server drops it
/// instead and closes the page with a retryable code, acknowledging nothing, and the
/// page's reconnection carries it with what it builds on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_built_on_what_the_server_lacks_is_not_acknowledged_and_lands_on_reconnect() {
    use hindsight_shared::close;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{ReadTxn, Transact};

    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    let page = YClient::connect(&server.ws_base(), &board).await;
    page.track_saves();
    page.wait_saved(page.sent_changes()).await;
    let saved_before = page.saved();

    // Offline, on a copy of the page's replica: a note, then a move of it.
    let offline = hindsight_shared::schema::new_doc(None);
    let offline_board = hindsight_shared::Board::new(&offline);
    let state = page.edit(|_, txn| txn.encode_state_as_update_v1(&Default::default()));
    offline
        .transact_mut()
        .apply_update(yrs::Update::decode_v1(&state).unwrap())
        .unwrap();
    let n = id("offline");
    let added = {
        let mut txn = offline.transact_mut();
        offline_board.add_note(&mut txn, &n, note_in("summary", "made offline"));
        txn.encode_update_v1()
    };
    let moved = {
        let mut txn = offline.transact_mut();
        assert!(offline_board.move_note(&mut txn, &n, 900.0, 700.0));
        txn.encode_update_v1()
    };

    // Only the move reaches the server.
    page.send_raw(
        yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(moved.clone())).encode_v1(),
    );
    let closed = page.wait_closed().await;
    assert_eq!(closed.code, Some(close::OUT_OF_STEP), "{closed:?}");
    assert!(close::is_retryable(close::OUT_OF_STEP));
    assert_eq!(page.saved(), saved_before, "nothing more acknowledged");
    let fresh = YClient::connect(&server.ws_base(), &board).await;
    assert!(fresh.notes().iter().all(|note| note.id != n));

    // The page holds both (it made them) and reconnects: they land together.
    page.edit(|_, txn| {
        for update in [&added, &moved] {
            txn.apply_update(yrs::Update::decode_v1(update).unwrap())
                .unwrap();
        }
    });
    let again = page.reconnect(&server.ws_base(), &board).await;
    again.wait_saved(again.sent_changes()).await;
    fresh
        .wait_until("the moved note", |b, txn| {
            b.note(txn, &n)
                .is_some_and(|note| (note.x, note.y) == (900.0, 700.0))
        })
        .await;
    server.stop().await;
}
