//! When storage fails: the clients of the board that could not be saved are told so
//! (1011, "The server could not save the board."), nothing unsaved is acknowledged, other
//! boards keep working, and what was already stored is intact after a restart.

use std::sync::Arc;

use hindsight_server::store::testing::{Calls, Faulty};
use hindsight_server::{SledStore, Store};
use hindsight_shared::close;
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::{TestServer, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_is_reported_and_other_boards_and_stored_data_are_unharmed() {
    let dir = tempfile::tempdir().unwrap();
    // A sled store whose writes to one chosen board fail, as a full or broken disk would.
    let store = Arc::new(Faulty::new(SledStore::open(dir.path()).unwrap()));
    let server = TestServer::start_on(
        TestServer::config(dir.path()),
        Arc::clone(&store) as Arc<dyn Store>,
    )
    .await;
    let (broken, healthy) = (server.create_board().await, server.create_board().await);
    let ws = server.ws_base();
    let writer = YClient::connect(&ws, &broken).await;
    let watcher = YClient::connect(&ws, &broken).await;
    let other = YClient::connect(&ws, &healthy).await;
    writer.track_saves();
    writer.edit(|b, txn| b.add_note(txn, &id("kept"), note_in("prevent", "stored before")));
    writer.wait_saved(writer.sent_changes()).await;
    let saved_before = writer.saved();

    store.fail(Calls::WritesTo(broken.id));
    writer.edit(|b, txn| b.add_note(txn, &id("lost"), note_in("prevent", "never stored")));
    for who in [&writer, &watcher] {
        let closed = who.wait_closed().await;
        assert_eq!(closed.code, Some(close::SERVER_ERROR), "{closed:?}");
        assert_eq!(
            close::describe(close::SERVER_ERROR),
            "The server could not save the board."
        );
    }
    assert_eq!(
        writer.saved(),
        saved_before,
        "the failed change was not acknowledged"
    );
    assert!(
        watcher.notes().iter().all(|n| n.id != id("lost")),
        "nobody saw the unsaved change"
    );

    // Another board on the same server and store keeps working.
    other.edit(|b, txn| b.add_note(txn, &id("elsewhere"), note_in("prevent", "fine")));
    let second = YClient::connect(&ws, &healthy).await;
    second
        .wait_until("the healthy board's note", |b, txn| {
            b.note(txn, &id("elsewhere")).is_some()
        })
        .await;

    // After a restart on the same directory, the broken board has what was stored.
    drop((writer, watcher, other, second));
    server.stop().await;
    drop(store);
    let server = TestServer::start(dir.path()).await;
    let ws = server.ws_base();
    let after = YClient::connect(&ws, &broken).await;
    let notes: Vec<_> = after.notes().into_iter().map(|n| n.id).collect();
    assert_eq!(notes, [id("kept")]);
    let after = YClient::connect(&ws, &healthy).await;
    assert!(after.notes().iter().any(|n| n.id == id("elsewhere")));
    server.stop().await;
}
