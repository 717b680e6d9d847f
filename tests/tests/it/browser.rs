//! The board in real browsers: headless Chromium sessions, driven over WebDriver, against
//! a real server with the built client. Two people edit one board live; a third finds
//! everything after a restart.

use hindsight_tests::browser::{two_people, Session, NOTE_BY_ID};
use serde_json::json;

async fn position(session: &Session, id: &str) -> (f64, f64) {
    let v = session
        .js(
            &format!(
                "const n = ({NOTE_BY_ID})(arguments[0]); return n ? [Number(n.dataset.x), Number(n.dataset.y)] : null;"
            ),
            vec![json!(id)],
        )
        .await;
    let v: Option<(f64, f64)> = serde_json::from_value(v).unwrap();
    v.unwrap_or_else(|| panic!("note {id} not found"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_edit_one_board_and_it_survives_a_restart() {
    // Ada starts a board from the start page; Bo opens the shared link in another browser.
    let (mut meeting, ada, bo) = two_people().await;
    ada.wait_js(
        "Ada to see two participants",
        "return document.querySelectorAll('#participants li').length === 2;",
        vec![],
    )
    .await;

    // A note created and typed by Ada appears with its text for Bo.
    let note = ada
        .add_note("detect", "Checkout alerts fired 20 minutes late")
        .await;
    bo.wait_for_note_text("Bo", &note, "Checkout alerts fired 20 minutes late")
        .await;

    // Bo sees Ada's drag.
    let start = position(&ada, &note).await;
    ada.drag(
        &format!(".note[data-note-id=\"{note}\"] .note-bar"),
        180.0,
        90.0,
    )
    .await;
    let moved = ada
        .wait_js(
            "Ada's note to move",
            &format!("const n = ({NOTE_BY_ID})(arguments[0]); return n && Number(n.dataset.x) !== arguments[1] ? [Number(n.dataset.x), Number(n.dataset.y)] : null;"),
            vec![json!(note), json!(start.0)],
        )
        .await;
    let moved: (f64, f64) = serde_json::from_value(moved).unwrap();
    assert!(
        moved.0 > start.0 && moved.1 > start.1,
        "{start:?} -> {moved:?}"
    );
    bo.wait_js(
        "Bo to see the note where Ada dropped it",
        &format!("const n = ({NOTE_BY_ID})(arguments[0]); return n && Number(n.dataset.x) === arguments[1] && Number(n.dataset.y) === arguments[2];"),
        vec![json!(note), json!(moved.0), json!(moved.1)],
    )
    .await;

    // A board with notes in several regions, for the screenshot.
    let mut all = vec![(
        note.clone(),
        "Checkout alerts fired 20 minutes late".to_owned(),
    )];
    for (region, text) in [
        (
            "summary",
            "Checkout failed for 42 minutes; about 3% of orders were lost.",
        ),
        ("timeline", "14:03 first customer report via support chat"),
        ("react", "Paging rota was out of date"),
        ("prevent", "Canary config changes before fleet-wide rollout"),
        ("actions", "Add an alert on checkout error rate"),
    ] {
        let who = if region == "react" { &bo } else { &ada };
        all.push((who.add_note(region, text).await, text.to_owned()));
    }
    for (id, text) in &all {
        ada.wait_for_note_text("Ada", id, text).await;
        bo.wait_for_note_text("Bo", id, text).await;
    }
    ada.click("#fit").await;
    ada.screenshot("board.png").await;

    // Restart the server on the same data; a third person still sees everything.
    ada.close().await;
    bo.close().await;
    meeting.restart_server().await;
    let path = meeting.url.split_once("/b/").map(|(_, id)| id).unwrap();
    let url = format!("{}/b/{path}", meeting.server().http_base());
    let cy = meeting.open(&url, "Cy").await;
    for (id, text) in &all {
        cy.wait_for_note_text("Cy", id, text).await;
    }
    let after = position(&cy, &note).await;
    assert_eq!(after, moved, "the moved note kept its place");
    meeting.end().await;
}
