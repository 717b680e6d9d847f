//! A board's history over a real server and a real sled directory, and over two nodes on
//! one PostgreSQL database: versions are kept as the board is worked on, the facilitator
//! lists them and brings the board back to one after every note was deleted, live for
//! everyone, and the restore itself can be undone. Nobody else may list or restore.

use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::http::request;
use hindsight_tests::postgres::database;
use hindsight_tests::{TestBoard, TestServer, YClient};
use serde_json::Value;

/// `GET …/history` with the facilitator key `key` (or none): status and JSON.
async fn history(server: &TestServer, board: &TestBoard, key: Option<&str>) -> (u16, Value) {
    let path = format!("/api/boards/{}/history{}", board.id, board.edit_query());
    let headers: Vec<(&str, &str)> = key
        .map(|k| ("x-hindsight-facilitator", k))
        .into_iter()
        .collect();
    let reply = request(server.addr(), "GET", &path, &headers, "").await;
    let text = reply.text();
    (
        reply.status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn restore(server: &TestServer, board: &TestBoard, at: u64, key: &str) -> (u16, Value) {
    let path = format!(
        "/api/boards/{}/history/{at}/restore{}",
        board.id,
        board.edit_query()
    );
    let reply = request(
        server.addr(),
        "POST",
        &path,
        &[("x-hindsight-facilitator", key)],
        "",
    )
    .await;
    let text = reply.text();
    (
        reply.status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn texts(client: &YClient) -> Vec<String> {
    let mut texts: Vec<String> = client.notes().into_iter().map(|n| n.text).collect();
    texts.sort();
    texts
}

/// The notes of a board worked on through `work` come back through `api` (the same
/// server, or another node on the same database) after all of them were deleted, live
/// for a watcher on `work`, and the restore can itself be undone. Returns the board, its
/// facilitator key, and when the version with the notes was kept.
async fn bring_back_deleted_notes(work: &TestServer, api: &TestServer) -> (TestBoard, String, u64) {
    let (board, key) = work.create_facilitated("Outage").await;
    let ws = work.ws_base();

    let ada = YClient::connect(&ws, &board).await;
    ada.edit(|b, txn| {
        for (i, text) in WRITTEN.iter().enumerate() {
            b.add_note(txn, &id(&format!("n{i}")), note_in("detect", *text));
        }
    });
    let watcher = YClient::connect(&ws, &board).await;
    watcher
        .wait_until("the notes", |b, t| b.note_count(t) == 3)
        .await;

    // A moment later every note is deleted, in one change.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    ada.edit(|b, txn| {
        for i in 0..3 {
            b.delete_note(txn, &id(&format!("n{i}")));
        }
    });
    watcher
        .wait_until("every note gone", |b, t| b.note_count(t) == 0)
        .await;

    // Only the facilitator may see the history.
    assert_eq!(history(api, &board, None).await.0, 403);
    assert_eq!(history(api, &board, Some("not-the-key")).await.0, 403);
    let (status, versions) = history(api, &board, Some(&key)).await;
    assert_eq!(status, 200, "{versions}");
    let versions = versions.as_array().expect("a list").clone();
    let with_notes = versions
        .iter()
        .find(|v| v["notes"] == 3)
        .unwrap_or_else(|| panic!("a version with the three notes: {versions:?}"));
    let at = with_notes["at"].as_u64().unwrap();
    assert!(
        versions
            .windows(2)
            .all(|w| w[0]["at"].as_u64() > w[1]["at"].as_u64()),
        "newest first: {versions:?}"
    );

    // Restoring it brings them back, live.
    assert_eq!(restore(api, &board, at, "not-the-key").await.0, 403);
    let (status, done) = restore(api, &board, at, &key).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["written"].as_u64(), done["removed"].as_u64()),
        (Some(3), Some(0))
    );
    watcher
        .wait_until("the notes back", |b, t| b.note_count(t) == 3)
        .await;
    assert_eq!(texts(&watcher), WRITTEN.map(str::to_owned));
    assert!(ada.closed().is_none() && watcher.closed().is_none());

    // The board as it was just before is a version too: the restore can be undone.
    let before = done["keptBefore"].as_u64().unwrap();
    let (_, versions) = history(api, &board, Some(&key)).await;
    let kept = versions
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["at"].as_u64() == Some(before))
        .expect("the version kept before the restore");
    assert_eq!(kept["notes"], 0);
    let (status, undone) = restore(api, &board, before, &key).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(undone["removed"].as_u64(), Some(3));
    watcher
        .wait_until("the notes gone again", |b, t| b.note_count(t) == 0)
        .await;
    (board, key, at)
}

const WRITTEN: [&str; 3] = [
    "Alert fired late",
    "Paged the wrong team",
    "Rollback took 20 minutes",
];

/// After a restart, `server` still has the board's history and restores from it.
async fn history_kept(server: &TestServer, board: &TestBoard, key: &str, at: u64) {
    let (_, after) = history(server, board, Some(key)).await;
    assert!(after.as_array().unwrap().len() >= 3, "{after}");
    let (status, _) = restore(server, board, at, key).await;
    assert_eq!(status, 200);
    let reader = YClient::connect(&server.ws_base(), board).await;
    assert_eq!(texts(&reader), WRITTEN.map(str::to_owned));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_whose_notes_were_all_deleted_is_brought_back_from_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| c.history_every_secs = 1).await;
    let (board, key, at) = bring_back_deleted_notes(&server, &server).await;
    // The history is on disk: after a restart it is all there.
    server.stop().await;
    let server = TestServer::start(dir.path()).await;
    history_kept(&server, &board, &key, at).await;
}

/// On PostgreSQL with two nodes: the board is worked on through one, its history read
/// and restored through the other, and a node started afterwards has it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_on_postgres_is_brought_back_from_its_history_through_another_node() {
    let url = database();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let every_second = |c: &mut hindsight_server::Config| c.history_every_secs = 1;
    let one = TestServer::start_on_database(dirs[0].path(), &url, every_second).await;
    let two = TestServer::start_on_database(dirs[1].path(), &url, every_second).await;
    let (board, key, at) = bring_back_deleted_notes(&one, &two).await;
    one.stop().await;
    two.stop().await;
    let three = TestServer::start_on_database(dirs[0].path(), &url, |_| {}).await;
    history_kept(&three, &board, &key, at).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_facilitator_restores_a_version_from_the_page_and_everyone_sees_it() {
    use hindsight_tests::browser::Meeting;
    let (meeting, ada) =
        Meeting::start_configured("Ada", "#new-board", |c| c.history_every_secs = 1).await;
    let bo = meeting.join("Bo").await;
    let first = ada.add_note("detect", "Alert fired late").await;
    let second = ada.add_note("react", "Paged the wrong team").await;
    bo.wait_for_note_text("Bo", &second, "Paged the wrong team")
        .await;

    // A little later Bo deletes both, from the list.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    bo.click("#view-list").await;
    for id in [&first, &second] {
        bo.click(&format!(".list-card[data-note-id=\"{id}\"] .list-delete"))
            .await;
    }
    ada.wait_js(
        "both notes gone on Ada's page",
        "return document.querySelectorAll('.note').length === 0;",
        vec![],
    )
    .await;

    // Ada, facilitating, brings them back from the board's history.
    ada.click("#board-history").await;
    ada.wait_js(
        "the history listed",
        "return [...document.querySelectorAll('.version .version-notes')].some((n) => n.textContent === '2 notes');",
        vec![],
    )
    .await;
    ada.screenshot("board-history.png").await;
    ada.js(
        "const row = [...document.querySelectorAll('.version')].find((r) => r.querySelector('.version-notes').textContent === '2 notes');
         row.querySelector('.version-restore').click();
         return true;",
        vec![],
    )
    .await;
    ada.wait_for_note_text("Ada", &first, "Alert fired late")
        .await;
    ada.wait_for_note_text("Ada", &second, "Paged the wrong team")
        .await;
    bo.wait_js(
        "both cards back on Bo's list",
        "return arguments[0].every((id) => !!document.querySelector(`.list-card[data-note-id=\"${id}\"]`));",
        vec![serde_json::json!([first, second])],
    )
    .await;
    ada.wait_js(
        "the dialog closed, the focus back on its button",
        "return !document.querySelector('#history-title') && document.activeElement?.id === 'board-history';",
        vec![],
    )
    .await;

    // Bo, not facilitating, has no such button.
    assert_eq!(
        bo.js("return !!document.querySelector('#board-history');", vec![])
            .await,
        serde_json::json!(false)
    );
    meeting.end().await;
}
