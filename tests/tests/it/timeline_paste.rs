//! A timeline pasted through `POST /api/boards/{id}/timeline`: the entries reach every
//! client on the board as timeline notes, lines that are not entries are answered, and
//! only the edit link may paste.

use hindsight_shared::timeline::EntryKind;
use hindsight_shared::timestamp::Date;
use hindsight_shared::Role;
use hindsight_tests::{http, TestBoard, TestServer, YClient};
use serde_json::{json, Value};

const PASTE: &str = "14:03 Checkout 5xx alert fired\n\
                     14:10 Rolled back the config push\n\
                     this line has no time\n\
                     14:52 Resolved, error rate back to normal\n";

async fn paste(server: &TestServer, board: &TestBoard, query: &str, body: &str) -> (u16, String) {
    http(
        server.addr(),
        "POST",
        &format!("/api/boards/{board}/timeline{query}"),
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_timeline_reaches_everyone_and_reports_what_it_could_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    let ada = YClient::connect(&server.ws_base(), &board).await;
    ada.edit(|b, txn| b.set_incident_date(txn, Some(Date::parse("2026-11-20").unwrap())));
    ada.track_saves();
    ada.wait_saved(ada.sent_changes()).await;

    let (status, body) = paste(&server, &board, &board.edit_query(), PASTE).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let added = answer["added"].as_array().unwrap();
    assert_eq!(added.len(), 3, "{answer}");
    assert_eq!(added[0]["text"], "Checkout 5xx alert fired");
    assert_eq!(added[0]["kind"], "detected");
    assert_eq!(added[1]["kind"], "action");
    assert_eq!(added[2]["kind"], "resolved");
    assert_eq!(
        answer["unparsed"],
        json!([{ "line": 3, "text": "this line has no time", "reason": answer["unparsed"][0]["reason"] }])
    );
    assert!(!answer["unparsed"][0]["reason"].as_str().unwrap().is_empty());

    // Ada, already on the board, sees the entries in her timeline, in time order.
    let ids: Vec<String> = added
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    ada.wait_until("the pasted entries", |b, txn| {
        ids.iter().all(|id| {
            b.note(txn, &id.parse().unwrap())
                .is_some_and(|n| n.role == Some(Role::Timeline) && n.time.is_some())
        })
    })
    .await;
    let (durations, kinds) = ada.edit(|b, txn| {
        let notes = b.notes(txn);
        let timeline = hindsight_shared::timeline::Timeline::of(&notes);
        let kinds: Vec<_> = timeline.timed.iter().map(|n| n.kind).collect();
        (timeline.durations(), kinds)
    });
    assert_eq!(
        kinds,
        [
            Some(EntryKind::Detected),
            Some(EntryKind::Action),
            Some(EntryKind::Resolved)
        ]
    );
    let durations = durations.expect("detected and resolved are on the timeline");
    assert_eq!(durations.to_resolve_ms, 49 * 60_000);
    ada.close();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_edit_link_pastes_and_bad_pastes_are_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;

    let (status, body) = paste(&server, &board, "", PASTE).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = paste(&server, &board, &board.read_query(), PASTE).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "{body}");

    let (status, body) = paste(
        &server,
        &board,
        &board.edit_query(),
        "no times here\nnor here",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("line 1"), "{body}");

    // A board without a timeline has nowhere to put one.
    let kanban = server
        .create_board_with(&json!({ "template": "kanban" }))
        .await;
    let (status, body) = paste(&server, &kanban, &kanban.edit_query(), "2026-11-20 14:03 x").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no timeline"), "{body}");

    // Nothing was added by any refused paste.
    let client = YClient::connect(&server.ws_base(), &board).await;
    assert_eq!(client.edit(|b, txn| b.note_count(txn)), 0);
    client.close();
    server.stop().await;
}
