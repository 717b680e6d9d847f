//! The board API beyond creation: Markdown and JSON exports of what clients wrote, and a
//! JSON backup restored as a new board, all through HTTP against a real server.

use hindsight_tests::fixtures::{id, seed_incident};
use hindsight_tests::{http, markdown_export, TestBoard, TestServer, YClient};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_show_what_clients_wrote_and_a_backup_restores_identically() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (board, key) = server.create_facilitated("Payments outage").await;
    assert_eq!(key.len(), 32);

    let ada = YClient::connect(&server.ws_base(), &board).await;
    assert!(
        ada.edit(|b, txn| b.is_facilitator(txn, &key)),
        "the creator's key is the board's"
    );
    assert!(!ada.edit(|b, txn| b.is_facilitator(txn, "guess")));
    ada.edit(seed_incident);
    // A second client seeing everything means the server has stored it.
    let watcher = YClient::connect(&server.ws_base(), &board).await;
    watcher
        .wait_until("all notes", |b, txn| {
            b.note(txn, &id("act")).is_some_and(|n| n.due.is_some())
        })
        .await;

    let md = markdown_export(server.addr(), &board).await;
    assert!(md.starts_with("# Payments outage\n"), "{md}");
    assert!(md.contains("| Severity | SEV1 |"), "{md}");
    assert!(
        md.contains("| 09:41:05 | Reported | Payments 5xx begin |"),
        "{md}"
    );
    assert!(
        md.contains("- Alert on 5xx | per region (1 vote) — Ada → action"),
        "{md}"
    );
    assert!(
        md.contains("| Alert on 5xx \\| per region | Bo | 2026-12-04 | 0 | Alert on 5xx \\| per region (Detect) |"),
        "{md}"
    );

    let (status, first) = http(
        server.addr(),
        "GET",
        &format!("/api/boards/{board}/export.json{}", board.edit_query()),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = http(server.addr(), "POST", "/api/boards/import", &first).await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let copy = TestBoard::from_answer(&body);
    assert_ne!(copy.id, board.id);
    assert_ne!(
        copy.edit_token, board.edit_token,
        "a restored board has its own links"
    );
    let new_key = created["facilitatorKey"].as_str().unwrap();
    assert_ne!(new_key, key, "a restored board gets its own facilitator");
    let (status, second) = http(
        server.addr(),
        "GET",
        &format!("/api/boards/{copy}/export.json{}", copy.read_query()),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&second).unwrap(),
        serde_json::from_str::<Value>(&first).unwrap(),
        "export → import → export is identical in content"
    );
    let restored = YClient::connect(&server.ws_base(), &copy).await;
    assert!(restored.edit(|b, txn| b.is_facilitator(txn, new_key)));
    assert_eq!(restored.notes(), watcher.notes());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_export_and_import_requests_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let unknown = "ab".repeat(16);
    let token = format!("?token=e-{}", "0".repeat(32));
    // A board that does not exist answers as one that refuses the token: nobody learns
    // which ids exist by trying them.
    let existing = server.create_board().await;
    for path in [
        format!("/api/boards/{unknown}/export.md{token}"),
        format!("/api/boards/{unknown}/export.json{token}"),
    ] {
        let (status, body) = http(server.addr(), "GET", &path, "").await;
        let (known_status, known_body) = http(
            server.addr(),
            "GET",
            &path.replace(&unknown, &existing.to_string()),
            "",
        )
        .await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!((status, body), (known_status, known_body), "{path}");
    }
    // A board's export needs one of its links.
    let (board, _) = server.create_facilitated("Payments outage").await;
    let other = server.create_board().await;
    for (query, expected) in [
        (String::new(), 401),
        ("?token=".to_owned(), 403),
        (format!("?token={}", other.edit_token), 403),
        (format!("?token={}", other.read_token), 403),
        (format!("?token=e-{}", &board.read_token[2..]), 403),
        (board.read_query(), 200),
    ] {
        let path = format!("/api/boards/{board}/export.md{query}");
        let (status, body) = http(server.addr(), "GET", &path, "").await;
        assert_eq!(status, expected, "{path}: {body}");
    }
    let (status, _) = http(server.addr(), "GET", "/api/boards/NOPE/export.md", "").await;
    assert_eq!(status, 400);

    for (body, says) in [
        ("not json", "not a board backup"),
        (
            r#"{"format":"trello","version":1,"title":"x","createdAt":0,"voteBudget":5,"notes":[]}"#,
            "not a Hindsight board export",
        ),
        (
            r#"{"format":"hindsight-board","version":1,"title":"x","createdAt":0,"voteBudget":5,
                "notes":[{"id":"a b","text":"","x":0,"y":0,"w":200,"h":140,"color":"yellow","createdAt":0}]}"#,
            "note 0",
        ),
    ] {
        let (status, answer) = http(server.addr(), "POST", "/api/boards/import", body).await;
        assert_eq!(status, 400, "{answer}");
        let error = serde_json::from_str::<Value>(&answer).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(says), "{error:?} should mention {says:?}");
    }
    server.stop().await;
}
