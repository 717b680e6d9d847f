//! Board links through the public surface: creating a board answers an edit link and a
//! read-only link; a WebSocket without a valid token is refused before it joins; a
//! read-only connection sees the board live and shows its presence, and any change it
//! sends is refused (4405) without reaching the board, other clients or the disk.

use hindsight_shared::{close, Token};
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::{http, TestBoard, TestServer, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_links_never_come_from_the_requests_host_header() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let spoofed = [("host", "evil.example")];
    let reply =
        hindsight_tests::http::request(server.addr(), "POST", "/api/boards", &spoofed, "").await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert!(!reply.text().contains("evil"), "{}", reply.text());
    server.stop().await;

    // With --public-url, links are absolute, on it.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.public_url = Some("https://hindsight.example/".into())
    })
    .await;
    let reply =
        hindsight_tests::http::request(server.addr(), "POST", "/api/boards", &spoofed, "").await;
    let json: serde_json::Value = serde_json::from_str(&reply.text()).unwrap();
    let board = TestBoard::from_answer(&reply.text());
    assert_eq!(
        json["editUrl"],
        format!(
            "https://hindsight.example/b/{board}?token={}",
            board.edit_token
        )
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_board_answers_an_edit_link_and_a_read_only_link() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let (status, body) = http(server.addr(), "POST", "/api/boards", "").await;
    assert_eq!(status, 201, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let board = TestBoard::from_answer(&body);
    // Without --public-url, links are relative to wherever the request went.
    let base = format!("/b/{board}");
    assert_eq!(
        json["editUrl"],
        format!("{base}?token={}", board.edit_token)
    );
    assert_eq!(
        json["readUrl"],
        format!("{base}?token={}", board.read_token)
    );
    assert_eq!(json["url"], json["editUrl"], "the creator goes on editing");

    let edit = Token::parse(Some(&board.edit_token)).expect("a well-formed edit token");
    assert_eq!(edit.read_token().as_str(), board.read_token);
    assert_ne!(
        board.edit_token[2..],
        board.read_token[2..],
        "one link cannot be turned into the other by hand"
    );
    let other = server.create_board().await;
    assert_ne!(
        other.edit_token, board.edit_token,
        "every board has its own"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_without_a_valid_token_is_refused_before_it_joins() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    let other = server.create_board().await;
    let ws = server.ws_base();
    let relabelled = format!("?token=e-{}", &board.read_token[2..]);
    for (query, code) in [
        (String::new(), close::TOKEN_MISSING),
        ("?token=".to_owned(), close::TOKEN_REFUSED),
        ("?token=e-1234".to_owned(), close::TOKEN_REFUSED),
        ("?token=../../etc/passwd".to_owned(), close::TOKEN_REFUSED),
        (other.edit_query(), close::TOKEN_REFUSED),
        (other.read_query(), close::TOKEN_REFUSED),
        (relabelled, close::TOKEN_REFUSED),
    ] {
        let refused = YClient::connect_unsynced(&format!("{ws}/{board}{query}")).await;
        let closed = refused.wait_closed().await;
        assert_eq!(closed.code, Some(code), "{query:?}: {closed:?}");
        assert!(
            refused.notes().is_empty() && refused.title().is_empty(),
            "{query:?} received the board"
        );
    }
    // Parameters other than the token are ignored, as y-websocket apps may add some.
    let client = YClient::connect_unsynced(&format!(
        "{ws}/{board}?room=x&token={}&v=3",
        board.edit_token
    ))
    .await;
    client.track_saves();
    client.edit(|b, txn| b.add_note(txn, &id("with-params"), note_in("detect", "ok")));
    client.wait_saved(client.sent_changes()).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_link_sees_everything_shows_presence_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    let ws = server.ws_base();
    let writer = YClient::connect(&ws, &board).await;
    let first = id("written");
    writer.edit(|b, txn| b.add_note(txn, &first, note_in("detect", "by the editor")));

    let reader = YClient::connect_read_only(&ws, &board).await;
    reader
        .wait_until("the editor's note", |b, txn| b.note(txn, &first).is_some())
        .await;
    // Live changes reach it too.
    let second = id("live");
    writer.edit(|b, txn| b.add_note(txn, &second, note_in("detect", "while watching")));
    reader
        .wait_until("a live note", |b, txn| b.note(txn, &second).is_some())
        .await;
    // Its presence (name, cursor) reaches the others.
    reader.announce(r#"{"user":{"name":"Viewer Vi"}}"#);
    writer.wait_presence("Viewer Vi").await;

    // A change from it closes it with the read-only code; nobody receives the change.
    let sneaky = id("sneaky");
    reader.edit(|b, txn| b.add_note(txn, &sneaky, note_in("detect", "not allowed")));
    let closed = reader.wait_closed().await;
    assert_eq!(closed.code, Some(close::READ_ONLY), "{closed:?}");
    assert_eq!(closed.reason, "read-only link");

    // The editor's own next change arrives, so anything before it would have too.
    let third = id("after");
    writer.edit(|b, txn| b.add_note(txn, &third, note_in("detect", "after the refusal")));
    let watcher = YClient::connect(&ws, &board).await;
    watcher
        .wait_until("the editor's later note", |b, txn| {
            b.note(txn, &third).is_some()
        })
        .await;
    assert!(watcher.edit(|b, txn| b.note(txn, &sneaky).is_none()));
    assert!(writer.edit(|b, txn| b.note(txn, &sneaky).is_none()));
    drop((writer, watcher));
    server.stop().await;

    // Nor is it on disk.
    let server = TestServer::start(dir.path()).await;
    let after = YClient::connect_read_only(&server.ws_base(), &board).await;
    let ids: Vec<String> = after.notes().iter().map(|n| n.id.to_string()).collect();
    assert_eq!(after.notes().len(), 3, "{ids:?}");
    assert!(!ids.contains(&"sneaky".to_owned()), "{ids:?}");
    server.stop().await;
}
