//! Live editing at any board size, in real browsers: what someone types is never lost to
//! a change someone else makes, a change to one note re-runs nothing of any other note
//! (counted by the page itself with `?debug=counters`), and a long note opens and takes
//! typing.

use std::time::Duration;

use fantoccini::key::Key;

use hindsight_shared::NoteColor;
use hindsight_tests::browser::{
    drag_actions_at, two_people, Meeting, Session, NOTE_BY_ID, TEXT_OF,
};
use hindsight_tests::fixtures::{id, note_at, note_in, rect_of};
use hindsight_tests::{YClient, DEADLINE};
use serde_json::{json, Value};

/// The value of the field matched by `css`, and whether it has the focus.
async fn field(session: &Session, css: &str) -> (String, bool) {
    let v = session
        .js(
            "const el = document.querySelector(arguments[0]);
             return [el?.value ?? null, document.activeElement === el];",
            vec![json!(css)],
        )
        .await;
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_bool().unwrap_or(false),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_survives_what_others_change_meanwhile() {
    let (meeting, ada, bo) = two_people().await;
    let action = ada.add_note("actions", "Alert on checkout p99").await;
    let idea = ada.add_note("detect", "Synthetic checks").await;
    bo.wait_for_note_text("Bo", &idea, "Synthetic checks").await;
    let in_note = |note: &str, css: &str| format!(".note[data-note-id=\"{note}\"] {css}");
    let owner = in_note(&action, "input.note-owner");

    // Ada types an owner and stays in the field.
    ada.place_caret(&owner, "end").await;
    ada.type_keys("Ada Lov").await;
    // Meanwhile Bo sets that action's due date and adds to the other note.
    bo.set_field(&in_note(&action, "input.note-due"), "2026-12-24")
        .await;
    bo.edit_text(&idea, "end").await;
    bo.type_keys(" every minute").await;
    ada.wait_js(
        "Ada to see Bo's due date and text",
        &format!(
            "const n = ({NOTE_BY_ID})(arguments[0]), i = ({NOTE_BY_ID})(arguments[1]);
             return n?.querySelector('input.note-due')?.value === '2026-12-24'
                 && ({TEXT_OF})(i) === 'Synthetic checks every minute';"
        ),
        vec![json!(action), json!(idea)],
    )
    .await;
    assert_eq!(
        field(&ada, &owner).await,
        ("Ada Lov".to_owned(), true),
        "what Ada typed is still there, and so is her caret"
    );
    ada.type_keys("elace").await;
    ada.js("document.activeElement.blur();", vec![]).await;
    bo.wait_js(
        "Bo to see the owner Ada typed",
        "return document.querySelector(arguments[0])?.value === 'Ada Lovelace';",
        vec![json!(owner)],
    )
    .await;

    // The same for the impact while Bo renames the board.
    ada.place_caret("#fact-impact", "end").await;
    ada.type_keys("Checkouts failed").await;
    bo.place_caret(".board-title", "end").await;
    bo.type_keys("Checkout outage").await;
    bo.js("document.activeElement.blur();", vec![]).await;
    ada.wait_js(
        "Ada to see Bo's title",
        "return document.querySelector('.board-title')?.value === 'Checkout outage';",
        vec![],
    )
    .await;
    assert_eq!(
        field(&ada, "#fact-impact").await,
        ("Checkouts failed".to_owned(), true),
        "the impact Ada is typing survives the new title"
    );
    ada.type_keys(" for 12 minutes").await;
    ada.js("document.activeElement.blur();", vec![]).await;
    bo.wait_js(
        "Bo to see the impact Ada typed",
        "return document.querySelector('#fact-impact')?.value === 'Checkouts failed for 12 minutes';",
        vec![],
    )
    .await;
    meeting.end().await;
}

/// The page's counters of reactive work per note (see `client/src/debug.rs`), once they
/// have stopped moving: a change is over when nothing is counted for a while.
async fn settled_counts(session: &Session) -> Value {
    let read = || session.js("return window.__hindsightCounts ?? null;", vec![]);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut last = read().await;
    loop {
        // Quiet for a while: culling runs 150 ms after the view settles.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = read().await;
        if now == last && now.is_object() {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page's counters never settled: {now}"
        );
        last = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_cursor_or_drag_reruns_nothing_of_other_notes() {
    let (meeting, bo) = Meeting::start("Bo").await;
    let board = meeting.board();
    let writer = YClient::connect(&meeting.server().ws_base(), &board).await;
    let regions = ["detect", "react", "prevent"];
    writer.edit(|b, txn| {
        for i in 0..24 {
            let spot = (
                20.0 + (i % 2) as f64 * 260.0,
                140.0 + (i / 6) as f64 * 170.0,
            );
            let note = note_at(regions[i % 3], spot, format!("note {i}"));
            b.add_note(txn, &id(&format!("n{i}")), note);
        }
    });
    let notes_shown = "return document.querySelectorAll('.note').length === 24;";
    bo.wait_js("Bo to see every note", notes_shown, vec![])
        .await;
    let cy = meeting
        .open(&format!("{}&debug=counters", meeting.url), "Cy")
        .await;
    cy.wait_js("Cy to see every note", notes_shown, vec![])
        .await;
    let before = settled_counts(&cy).await;
    assert_eq!(
        before.as_object().map(|o| o.len()),
        Some(24),
        "every note counts: {before}"
    );

    // Bo's cursor wanders over the canvas: Cy's page draws it and touches no note.
    bo.wander(".viewport", 300.0, 150.0).await;
    cy.wait_js(
        "Cy to see Bo's cursor",
        "return document.querySelectorAll('.cursor').length === 1;",
        vec![],
    )
    .await;
    assert_eq!(
        settled_counts(&cy).await,
        before,
        "a moving cursor re-ran work of some note"
    );

    // Bo drags one note: on Cy's page, that note alone re-runs anything.
    let dragged = "n4";
    let x_before = cy
        .js(
            &format!("return ({NOTE_BY_ID})(arguments[0]).dataset.x;"),
            vec![json!(dragged)],
        )
        .await;
    bo.drag(
        &format!(".note[data-note-id=\"{dragged}\"] .note-bar"),
        60.0,
        40.0,
    )
    .await;
    cy.wait_js(
        "Cy to see the note move",
        &format!("return ({NOTE_BY_ID})(arguments[0]).dataset.x !== arguments[1];"),
        vec![json!(dragged), x_before],
    )
    .await;
    let after = settled_counts(&cy).await;
    for (note, counts) in after.as_object().expect("counts by note") {
        if note == dragged {
            assert_ne!(counts, &before[note], "the dragged note redraws");
            assert!(
                counts["rect"].as_f64() > before[note]["rect"].as_f64(),
                "{counts}"
            );
        } else {
            assert_eq!(
                counts, &before[note],
                "dragging {dragged} re-ran work of {note}"
            );
        }
    }
    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_note_opens_and_takes_typing() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let board = meeting.board();
    let writer = YClient::connect(&meeting.server().ws_base(), &board).await;
    // 4,000 characters, the most a note holds, written by a stock-client-like peer.
    let long: String = "Pager fired for checkout p99; "
        .chars()
        .cycle()
        .take(4000)
        .collect();
    writer.edit(|b, txn| b.add_note(txn, &id("long"), note_in("detect", long.clone())));
    ada.wait_for_note_text("Ada", "long", &long).await;

    // Ada replaces the last words, key by key, within the limit.
    let text = ".note[data-note-id=\"long\"] textarea.note-text";
    ada.edit_text("long", "end").await;
    let backspace = char::from(fantoccini::key::Key::Backspace);
    for _ in 0..12 {
        ada.press(&[backspace]).await;
    }
    ada.type_keys("Then paged.").await;
    let expected = format!("{}Then paged.", &long[..long.len() - 12]);
    writer
        .wait_until("Ada's typing to reach the board", |b, txn| {
            b.note(txn, &id("long")).is_some_and(|n| n.text == expected)
        })
        .await;
    assert_eq!(field(&ada, text).await, (expected, true));
    meeting.end().await;
}

/// Where the page draws note `arguments[0]` on screen (`__hindsightNoteRects`, under
/// `debug=`), as `[left, top, width, height]` in the viewport, or null.
const SCREEN_RECT: &str =
    "const n = window.__hindsightNoteRects().find(n => n.id === arguments[0]);
     return n ? [n.left, n.top, n.width, n.height] : null;";

/// A function of a viewport point: the colour `[r, g, b, a]` of the overview's canvas
/// there.
const CANVAS_PIXEL: &str = "(px, py) => {
    const c = document.querySelector('canvas.overview');
    const r = c.getBoundingClientRect();
    const x = Math.floor((px - r.left) * c.width / r.width);
    const y = Math.floor((py - r.top) * c.height / r.height);
    return [...c.getContext('2d').getImageData(x, y, 1, 1).data];
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_board_is_an_overview_when_zoomed_out_and_culls_what_is_far_away() {
    let (meeting, _ada) = Meeting::start("Ada").await;
    let board = meeting.board();
    let writer = YClient::connect(&meeting.server().ws_base(), &board).await;
    // 320 notes: a grid over Detect, and one far from it in Next Steps.
    writer.edit(|b, txn| {
        for i in 0..319 {
            let spot = (
                10.0 + (i % 16) as f64 * 35.0,
                120.0 + (i / 16) as f64 * 38.0,
            );
            b.add_note(
                txn,
                &id(&format!("g{i}")),
                note_at("detect", spot, format!("grid {i}")),
            );
        }
        let mut far = note_at("actions", (2900.0, 60.0), "far away");
        far.color = NoteColor::Blue;
        b.add_note(txn, &id("far"), far);
    });
    // Bo (no facilitator panel: Fit centres the whole board) counts where notes are drawn.
    let bo = meeting
        .open(&format!("{}&debug=counters", meeting.url), "Bo")
        .await;
    bo.wait_js(
        "Bo to have every note, as the overview",
        "const w = document.querySelector('.world');
         return Number(w?.dataset.notes) === 320 && w.classList.contains('far');",
        vec![],
    )
    .await;
    // Fitted, the board is too small to read: its notes are drawn on one canvas, not as
    // an element each, each in its colour where the page says it is.
    bo.wait_js(
        "the notes to leave the page for the canvas",
        "return document.querySelectorAll('.note').length === 0;",
        vec![],
    )
    .await;
    let rect = bo.js(SCREEN_RECT, vec![json!("far")]).await;
    let at = |fx: f64, fy: f64| {
        let v = |i: usize| rect[i].as_f64().expect("the far note's rectangle");
        (v(0) + v(2) * fx, v(1) + v(3) * fy)
    };
    // Low on the note, clear of its words; the blue of `.note[data-color="blue"]`.
    let (px, py) = at(0.5, 0.85);
    let blue = json!([0xcf, 0xe8, 0xff, 255]);
    let pixel_at = format!("return ({CANVAS_PIXEL})(arguments[0], arguments[1]);");
    bo.wait_js(
        "the canvas to draw the far note in its colour",
        &format!(
            "const p = ({CANVAS_PIXEL})(arguments[0], arguments[1]);
                  return p.join() === '207,232,255,255';"
        ),
        vec![json!(px), json!(py)],
    )
    .await;

    // A press on a drawn note grabs it: it becomes an element, selected, and moves.
    let (cx, cy) = at(0.5, 0.5);
    bo.client
        .perform_actions(drag_actions_at(
            (cx, cy),
            (-60.0, 0.0),
            10,
            Duration::from_millis(30),
        ))
        .await
        .expect("drag the far note");
    bo.wait_js(
        "the far note to be an element, selected",
        "return document.querySelector('.note[data-note-id=\"far\"]')?.classList.contains('selected');",
        vec![],
    )
    .await;
    let stored = rect_of("actions").x + 2900.0;
    writer
        .wait_until("the far note to move to the left", |b, txn| {
            b.note(txn, &id("far"))
                .is_some_and(|n| n.x < stored - 100.0)
        })
        .await;
    // Where it was (its right edge, which the move uncovered), the canvas shows the
    // region again, not a stale copy of the note.
    let (ox, oy) = at(0.9, 0.85);
    let after = bo.js(&pixel_at, vec![json!(ox), json!(oy)]).await;
    assert_ne!(after, blue, "a stale drawing of the moved note");

    // Zoomed in, notes are drawn in full, and those far from the view are not in the page
    // at all once it settles, unless selected.
    for _ in 0..9 {
        bo.click(".zoom-controls button[aria-label=\"Zoom in\"]")
            .await;
    }
    let culled =
        |id: &str| format!("return !document.querySelector('.note[data-note-id=\"{id}\"]');");
    bo.wait_js(
        "the zoomed-in view to be drawn in full",
        "return !document.querySelector('.world').classList.contains('far')
             && document.querySelector('canvas.overview').width === 0;",
        vec![],
    )
    .await;
    // Notes far from the view are left out once it settles; the selected one is not.
    bo.wait_js(
        "notes far from the view to be culled",
        &culled("g0"),
        vec![],
    )
    .await;
    assert_eq!(bo.js(&culled("far"), vec![]).await, json!(false));
    // The notes near the view mount in chunks over the frames after it settles.
    bo.wait_js(
        "the notes near the view to be drawn",
        "const n = document.querySelectorAll('.note').length; return n > 1 ? n : null;",
        vec![],
    )
    .await;
    let drawn = bo
        .js("return document.querySelectorAll('.note').length;", vec![])
        .await;
    assert!(
        drawn.as_u64().is_some_and(|n| n > 1 && n < 320),
        "some notes are drawn, not all: {drawn}"
    );
    bo.press(&[char::from(fantoccini::key::Key::Escape)]).await;
    bo.wait_js(
        "the far note to be culled once it is not selected",
        &culled("far"),
        vec![],
    )
    .await;
    meeting.end().await;
}

/// A function of a note id: the size the page draws that note at, `[w, h]` in canvas
/// pixels, or null.
const DRAWN_SIZE: &str = "(id) => {
    const n = document.querySelector(`.note[data-note-id=\"${id}\"]`);
    return n ? [parseFloat(n.style.width), parseFloat(n.style.height)] : null;
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_resized_by_its_corner_is_seen_by_others_and_undone_in_one_step() {
    let (meeting, ada, bo) = two_people().await;
    let note = ada.add_note("detect", "Resize me").await;
    bo.wait_for_note_text("Bo", &note, "Resize me").await;
    let size_of = format!("return ({DRAWN_SIZE})(arguments[0]);");
    assert_eq!(ada.js(&size_of, vec![json!(note)]).await, json!([200, 140]));

    ada.drag(
        &format!(".note[data-note-id=\"{note}\"] .note-resize"),
        90.0,
        45.0,
    )
    .await;
    let mine = ada.js(&size_of, vec![json!(note)]).await;
    let (w, h) = (
        mine[0].as_f64().unwrap_or(0.0),
        mine[1].as_f64().unwrap_or(0.0),
    );
    assert!(w > 220.0 && h > 150.0, "Ada's note did not grow: {mine}");
    bo.wait_js(
        "Bo to see the note at Ada's new size",
        &format!("return ({DRAWN_SIZE})(arguments[0])?.join() === arguments[1].join();"),
        vec![json!(note), mine.clone()],
    )
    .await;

    // The whole resize is one step: one undo puts the size back, for both. (Leaving the
    // note's text first: in a text field, Ctrl+Z is the browser's own text undo.)
    ada.click("#fit").await;
    ada.press(&[char::from(Key::Control), 'z']).await;
    for (who, page) in [("Ada", &ada), ("Bo", &bo)] {
        page.wait_js(
            &format!("{who} to see the original size again"),
            &format!("return ({DRAWN_SIZE})(arguments[0])?.join() === '200,140';"),
            vec![json!(note)],
        )
        .await;
    }
    bo.close().await;
    ada.close().await;
    meeting.end().await;
}
