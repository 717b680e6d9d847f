//! A database outage under a server on PostgreSQL (`support/postgres.rs`, a cluster of
//! the test's own, stopped at once as a crash or a cut network would): nothing unstored
//! is acknowledged, `/readyz` says the server is not ready, and once the database is
//! back the pages' pending changes land.

use hindsight_tests::binary::spawn;
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::http::get;
use hindsight_tests::postgres::OwnServer;
use hindsight_tests::{create_board, eventually, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_acknowledges_nothing_and_pending_changes_land_after_it() {
    let database = OwnServer::start();
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &["--database", &database.url()]).await;
    let ws = format!("ws://{}/ws", server.addr);
    let board = create_board(server.addr).await;
    let ada = YClient::connect(&ws, &board).await;
    ada.track_saves();
    ada.edit(|b, txn| b.add_note(txn, &id("before"), note_in("detect", "before the outage")));
    ada.wait_saved(ada.sent_changes()).await;
    assert_eq!(get(server.addr, "/readyz", &[]).await.status, 200);

    database.stop();
    eventually("/readyz to say the server is not ready", || async {
        (get(server.addr, "/readyz", &[]).await.status == 503).then_some(())
    })
    .await;
    let saved_before = ada.saved();
    ada.edit(|b, txn| b.add_note(txn, &id("during"), note_in("detect", "during the outage")));
    // The room cannot store the change: it closes rather than acknowledge it.
    let closed = ada.wait_closed().await;
    assert_eq!(
        closed.code,
        Some(hindsight_shared::close::SERVER_ERROR),
        "{closed:?}"
    );
    assert_eq!(
        ada.saved(),
        saved_before,
        "nothing unstored was acknowledged"
    );

    database.start_again();
    eventually("/readyz to say the server is ready again", || async {
        (get(server.addr, "/readyz", &[]).await.status == 200).then_some(())
    })
    .await;
    // Ada's page reconnects and sends what the server lacks: her note from the outage.
    let again = ada.reconnect(&ws, &board).await;
    again.wait_saved(again.sent_changes()).await;
    let bo = YClient::connect(&ws, &board).await;
    let mut texts: Vec<String> = bo.notes().into_iter().map(|n| n.text).collect();
    texts.sort();
    assert_eq!(texts, ["before the outage", "during the outage"]);
}
