//! Per-person undo at the CRDT level: an `UndoManager` that tracks only one replica's
//! own transactions reverts that person's changes and never anyone else's, even on the
//! same note. The browser uses the same mechanism (`client/src/history.rs`), with an
//! explicit local origin instead of the Rust client's "no origin".

use hindsight_shared::{NewNote, NoteColor};
use hindsight_tests::fixtures::id;
use hindsight_tests::{TestServer, YClient};
use yrs::{GetString, Text, UndoManager};

#[tokio::test]
async fn undo_reverts_only_my_own_changes_to_a_shared_note() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server.create_board().await;
    let ada = YClient::connect(&server.ws_base(), &board).await;
    let bo = YClient::connect(&server.ws_base(), &board).await;

    // Bo writes the note; Ada only edits it, so her history holds her edits alone.
    let id = id("shared");
    let note = NewNote::at(40.0, 700.0, "Alerts fired late")
        .color(NoteColor::Yellow)
        .created_at(1.0)
        .by("Bo");
    bo.edit(|b, txn| b.add_note(txn, &id, note));
    ada.wait_until("Ada to see Bo's note", |b, txn| b.note(txn, &id).is_some())
        .await;

    // Ada's history tracks transactions without an origin: hers. What the server sends
    // her carries the origin "remote" and is never recorded.
    let mut history = UndoManager::new();
    history.expand_scope(&ada.doc, ada.board.notes_map());

    // Ada appends to the text and recolours the note; Bo, having seen that, prefixes it.
    ada.edit(|b, txn| {
        let text = b.note_text(txn, &id).unwrap();
        let end = text.get_string(txn).encode_utf16().count() as u32;
        text.insert(txn, end, " by 20 minutes");
        b.set_color(txn, &id, NoteColor::Pink);
    });
    bo.wait_until("Bo to see Ada's edit", |b, txn| {
        b.note(txn, &id)
            .is_some_and(|n| n.text == "Alerts fired late by 20 minutes")
    })
    .await;
    bo.edit(|b, txn| b.note_text(txn, &id).unwrap().insert(txn, 0, "Checkout: "));
    let both = "Checkout: Alerts fired late by 20 minutes";
    ada.wait_until("Ada to see Bo's edit", |b, txn| {
        b.note(txn, &id).is_some_and(|n| n.text == both)
    })
    .await;
    assert!(history.can_undo(), "Ada's edit is in her history");

    // Ada undoes: her words and colour go, Bo's prefix stays, on both replicas.
    assert!(history.undo_blocking());
    let expected = "Checkout: Alerts fired late";
    for (who, client) in [("Ada", &ada), ("Bo", &bo)] {
        client
            .wait_until(
                &format!("{who} to see only Ada's change undone"),
                |b, txn| {
                    b.note(txn, &id)
                        .is_some_and(|n| n.text == expected && n.color == NoteColor::Yellow)
                },
            )
            .await;
    }
    assert!(!history.can_undo(), "Bo's changes were never Ada's to undo");

    // And redo brings Ada's change back without touching Bo's.
    assert!(history.redo_blocking());
    bo.wait_until("Bo to see Ada's change redone", |b, txn| {
        b.note(txn, &id)
            .is_some_and(|n| n.text == both && n.color == NoteColor::Pink)
    })
    .await;
    server.stop().await;
}
