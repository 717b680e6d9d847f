//! Anonymous writing, checked where it matters: in the shared document. Notes written in
//! the browser after the facilitator turns anonymity on carry no author field at all, as
//! a stock Yjs client reading the board sees it.

use hindsight_tests::browser::Meeting;
use hindsight_tests::node::peer;
use hindsight_tests::{TestBoard, TestServer, DEADLINE};
use serde_json::Value;

/// The note as the Node peer (plain `yjs` + `y-websocket`) reads it.
async fn read_with_stock_yjs(server: &TestServer, board: &TestBoard, note: &str) -> Value {
    let timeout = DEADLINE.as_millis().to_string();
    let out = peer(
        &server.ws_base(),
        &board.id,
        &board.read_token,
        &["read", note, &timeout],
    )
    .await;
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("peer printed {out:?}: {e}"))
}

fn keys(note: &Value) -> Vec<&str> {
    note["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_written_after_anonymity_is_on_have_no_author_field() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let board = meeting.board();
    let named = ada.add_note("detect", "Written before anonymity").await;

    // The facilitator turns anonymous writing on.
    ada.click("#anonymous-toggle").await;
    let bo = meeting.join("Bo").await;
    bo.wait_js(
        "Bo to see the board is anonymous",
        "return !!document.querySelector('#anonymous-badge');",
        vec![],
    )
    .await;
    let anonymous = bo.add_note("react", "Written after anonymity").await;

    let server = meeting.server();
    let before = read_with_stock_yjs(server, &board, &named).await;
    assert_eq!(before["author"], "Ada", "{before}");
    assert!(keys(&before).contains(&"author"));
    let after = read_with_stock_yjs(server, &board, &anonymous).await;
    assert_eq!(after["text"], "Written after anonymity");
    assert!(
        !keys(&after).contains(&"author"),
        "anonymous note has an author field: {after}"
    );
    let shown = bo
        .js(
            "return document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`).textContent;",
            vec![Value::from(anonymous.clone())],
        )
        .await;
    assert!(
        !shown.as_str().unwrap().contains("Bo"),
        "the page names nobody: {shown}"
    );

    meeting.end().await;
}
