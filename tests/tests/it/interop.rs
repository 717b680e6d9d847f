//! Interoperability with the stock Yjs stack: a Node peer using plain `yjs` and
//! `y-websocket` (`tests/interop/peer.mjs`) and a Rust client share a board through a real
//! server, in both directions. This is the promise made to third-party clients: the board
//! is an ordinary Y.Doc behind an ordinary y-websocket endpoint.
//!
//! The Node packages are installed by `cargo xtask test`; without them these tests fail
//! with instructions rather than skip.

use hindsight_shared::NoteColor;
use hindsight_tests::fixtures::{id, note_at, rect_of};
use hindsight_tests::node::{failing_peer, peer};
use hindsight_tests::{TestServer, YClient, DEADLINE};
use serde_json::Value;

#[tokio::test]
async fn a_note_written_by_a_stock_yjs_peer_reaches_a_rust_client() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path()).await;
    let board = server.create_board().await;
    // Connected before the peer writes, so the note arrives as a live broadcast.
    let client = YClient::connect(&server.ws_base(), &board).await;

    let text = "Pager fired 40 min after the first 5xx 🔥";
    let out = peer(
        &server.ws_base(),
        &board.id,
        &board.edit_token,
        &["write", "node-note-1", text],
    )
    .await;
    assert_eq!(out.trim(), r#"{"ok":true}"#);

    let id = id("node-note-1");
    client
        .wait_until("the Node peer's note", |board, txn| {
            board.note(txn, &id).is_some_and(|n| !n.text.is_empty())
        })
        .await;
    let note = client
        .notes()
        .into_iter()
        .find(|n| n.id == id)
        .expect("note present");
    assert_eq!(note.text, text);
    assert_eq!(
        (note.x, note.y, note.w, note.h),
        (40.0, 640.0, 200.0, 140.0)
    );
    assert_eq!(note.region, Some("detect".into()));
    assert_eq!(note.color, NoteColor::Blue);
    assert_eq!(note.author.as_deref(), Some("yjs-peer"));
    assert!(
        note.created_at > 1.6e12,
        "createdAt in ms: {}",
        note.created_at
    );

    client.close();
    server.stop().await;
}

#[tokio::test]
async fn a_note_written_by_a_rust_client_reaches_a_stock_yjs_peer() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path()).await;
    let board = server.create_board().await;
    let client = YClient::connect(&server.ws_base(), &board).await;

    let detect = rect_of("detect");
    let id = id("rust-note-1");
    let note = note_at(
        "detect",
        (100.0, 200.0),
        "Dashboards had no p99 panel — naïve averages hid it",
    );
    let note = note
        .color(NoteColor::Green)
        .created_at(1_700_000_000_000.0)
        .by("Grace");
    client.edit(|board, txn| board.add_note(txn, &id, note));

    // The read-only link is enough to read, passed as stock `y-websocket` `params`.
    let timeout_ms = DEADLINE.as_millis().to_string();
    let out = peer(
        &server.ws_base(),
        &board.id,
        &board.read_token,
        &["read", id.as_str(), &timeout_ms],
    )
    .await;
    let note: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("the peer printed {out:?}, not one JSON note: {e}"));
    // JavaScript prints 100.0 as 100, so numbers are compared as numbers, not as JSON.
    let number = |key: &str| {
        note[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is not a number in {note}"))
    };
    let string = |key: &str| note[key].as_str().map(str::to_owned);
    assert_eq!(string("id").as_deref(), Some("rust-note-1"));
    assert_eq!(
        string("text").as_deref(),
        Some("Dashboards had no p99 panel — naïve averages hid it")
    );
    assert_eq!(
        [number("x"), number("y"), number("w"), number("h")],
        [detect.x + 100.0, detect.y + 200.0, 200.0, 140.0]
    );
    assert_eq!(string("color").as_deref(), Some("green"));
    assert_eq!(string("region").as_deref(), Some("detect"));
    assert_eq!(number("createdAt"), 1_700_000_000_000.0);
    assert_eq!(string("author").as_deref(), Some("Grace"));

    client.close();
    server.stop().await;
}

#[tokio::test]
async fn a_stock_yjs_peer_with_the_read_only_link_cannot_write() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start(data.path()).await;
    let board = server.create_board().await;

    let stderr = failing_peer(
        &server.ws_base(),
        &board.id,
        &board.read_token,
        &["write", "node-sneaky", "not allowed"],
    )
    .await;
    assert!(
        stderr.contains("4405 read-only link"),
        "the peer is told why: {stderr}"
    );
    let client = YClient::connect(&server.ws_base(), &board).await;
    assert!(client.notes().is_empty(), "nothing was stored");
    client.close();
    server.stop().await;
}
