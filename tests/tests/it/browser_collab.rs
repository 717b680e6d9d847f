//! Working together in real browsers when it gets hard: two people typing in one note at
//! the same moment; an edit made while the server is down that survives a reload and
//! reaches everyone once the server is back, with the page honest about what is saved;
//! one person's undo over a selection, which leaves the other's edits alone; and a note
//! moved by someone else, which redraws that note and touches no other.

use fantoccini::key::Key;
use hindsight_tests::browser::{two_people, Session, NOTE_BY_ID};
use serde_json::json;

fn bar(id: &str) -> String {
    format!(".note[data-note-id=\"{id}\"] .note-bar")
}

/// Where note `id` is drawn, or `None` once it is gone.
async fn x_of(session: &Session, id: &str) -> Option<f64> {
    session
        .js(
            &format!(
                "const n = ({NOTE_BY_ID})(arguments[0]); return n ? Number(n.dataset.x) : null;"
            ),
            vec![json!(id)],
        )
        .await
        .as_f64()
}

async fn wait_x(session: &Session, who: &str, id: &str, x: Option<f64>) {
    hindsight_tests::eventually(&format!("{who} to see note {id} at x {x:?}"), || async {
        (x_of(session, id).await == x).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_typing_in_one_note_at_once_both_keep_every_character() {
    let (meeting, ada, bo) = two_people().await;

    let note = ada.add_note("detect", "Pager went off.").await;
    bo.wait_for_note_text("Bo", &note, "Pager went off.").await;

    // Ada types at the end of the note while Bo types at its start, at the same time:
    // each one's caret has to follow the other's edits for both texts to come out whole.
    ada.edit_text(&note, "end").await;
    bo.edit_text(&note, "start").await;
    let ada_words = " Ada: alpha bravo charlie delta echo foxtrot golf hotel";
    let bo_words = "Bo: one two three four five six seven eight. ";
    tokio::join!(ada.type_keys(ada_words), bo.type_keys(bo_words));

    let expected = format!("{bo_words}Pager went off.{ada_words}");
    ada.wait_for_note_text("Ada", &note, &expected).await;
    bo.wait_for_note_text("Bo", &note, &expected).await;

    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_edit_survives_a_reload_and_reaches_others_when_the_server_returns() {
    let (mut meeting, ada, bo) = two_people().await;

    let note = ada.add_note("react", "Rolled back").await;
    bo.wait_for_note_text("Bo", &note, "Rolled back").await;
    ada.wait_save_state("saved", "All changes saved").await;
    // The page caches itself for offline use once it has a moment to spare.
    ada.wait_js(
        "Ada's page to be cached for offline use",
        "caches.open('hindsight-shell-v1').then((c) => c.match(location.pathname))
             .then((hit) => { window.__shellCached = !!hit; });
         return window.__shellCached === true;",
        vec![],
    )
    .await;

    // The server goes away; both pages notice and keep working.
    meeting.stop_server().await;
    for (who, session) in [("Ada", &ada), ("Bo", &bo)] {
        session
            .wait_js(
                &format!("{who} to notice the server is gone"),
                "return document.querySelector('#connection')?.dataset.state === 'offline';",
                vec![],
            )
            .await;
    }
    ada.edit_text(&note, "end").await;
    ada.type_keys(" the deploy at 14:02").await;
    let edited = "Rolled back the deploy at 14:02";
    ada.wait_for_note_text("Ada", &note, edited).await;
    let pending = ada.wait_save_state("offline", "not yet saved").await;
    assert!(pending.starts_with("Offline — "), "{pending}");

    // A reload while offline loses nothing: the page comes from the service worker and
    // the board from the copy in browser storage.
    ada.goto(&meeting.url).await;
    ada.wait_for_note_text("Ada after the reload", &note, edited)
        .await;
    ada.wait_save_state("offline", "not yet saved").await;

    // The server comes back where it was; both pages reconnect on their own, Ada's edit
    // reaches Bo, and only then does Ada's page say it is saved.
    meeting.restart_server().await;
    bo.wait_for_note_text("Bo after the restart", &note, edited)
        .await;
    ada.wait_save_state("saved", "All changes saved").await;

    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_over_a_selection_reverts_only_my_own_changes() {
    let (meeting, ada, bo) = two_people().await;

    let first = ada.add_note("detect", "Disk filled up").await;
    let second = ada.add_note("detect", "No alert on disk usage").await;
    bo.wait_for_note_text("Bo", &second, "No alert on disk usage")
        .await;
    let x1 = x_of(&ada, &first).await.expect("first note");
    let x2 = x_of(&ada, &second).await.expect("second note");

    // Ada selects both notes and nudges them right together.
    ada.shift_click(&bar(&first)).await;
    ada.shift_click(&bar(&second)).await;
    ada.wait_js(
        "both notes to be selected",
        "return document.querySelectorAll('.note.selected').length === 2;",
        vec![],
    )
    .await;
    ada.press(&[char::from(Key::Right)]).await;
    wait_x(&bo, "Bo", &first, Some(x1 + 10.0)).await;
    wait_x(&bo, "Bo", &second, Some(x2 + 10.0)).await;

    // Bo adds to the first note's text; Ada then deletes the selection.
    bo.edit_text(&first, "end").await;
    bo.type_keys(" at 03:10").await;
    ada.wait_for_note_text("Ada", &first, "Disk filled up at 03:10")
        .await;
    ada.press(&[char::from(Key::Delete)]).await;
    wait_x(&bo, "Bo", &first, None).await;
    wait_x(&bo, "Bo", &second, None).await;

    // Undo brings both notes back in one step, for everyone.
    ada.click("#undo").await;
    wait_x(&bo, "Bo", &first, Some(x1 + 10.0)).await;
    wait_x(&bo, "Bo", &second, Some(x2 + 10.0)).await;

    // Undoing again (from the keyboard) takes back Ada's nudge but not Bo's words.
    ada.press(&[char::from(Key::Control), 'z']).await;
    wait_x(&bo, "Bo", &first, Some(x1)).await;
    wait_x(&bo, "Bo", &second, Some(x2)).await;
    bo.wait_for_note_text("Bo", &first, "Disk filled up at 03:10")
        .await;
    ada.wait_for_note_text("Ada", &first, "Disk filled up at 03:10")
        .await;

    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rubber_band_selection_moves_together_and_undoes_in_one_step() {
    let (meeting, ada, bo) = two_people().await;

    let first = ada.add_note("detect", "Queue backed up").await;
    let second = ada.add_note("detect", "Workers starved").await;
    bo.wait_for_note_text("Bo", &second, "Workers starved")
        .await;
    let (x1, x2) = (x_of(&ada, &first).await, x_of(&ada, &second).await);

    // Shift-dragging on empty canvas, from low in Detect up past its top-left corner,
    // draws a band over both notes.
    ada.shift_drag(
        ".region[data-region=\"detect\"]",
        (70.0, 110.0),
        -170.0,
        -250.0,
    )
    .await;
    ada.wait_js(
        "the band to select both notes",
        "return document.querySelectorAll('.note.selected').length === 2;",
        vec![],
    )
    .await;

    // Dragging one selected note moves both; Bo sees them travel the same distance.
    ada.drag(&bar(&first), 60.0, 40.0).await;
    let moved = bo
        .wait_js(
            "Bo to see both notes moved",
            &format!(
                "const f = ({NOTE_BY_ID})(arguments[0]), s = ({NOTE_BY_ID})(arguments[1]);
                 const d1 = Number(f.dataset.x) - arguments[2], d2 = Number(s.dataset.x) - arguments[3];
                 return d1 > 0 && d1 === d2 ? d1 : null;"
            ),
            vec![json!(first), json!(second), json!(x1), json!(x2)],
        )
        .await;
    assert!(moved.as_f64().unwrap() > 100.0, "moved by {moved}");

    // The whole drag is one step: one undo puts both back.
    ada.press(&[char::from(Key::Control), 'z']).await;
    wait_x(&bo, "Bo", &first, x1).await;
    wait_x(&bo, "Bo", &second, x2).await;

    meeting.end().await;
}

/// Watches Bo's canvas: marks every note element present now, and records any note
/// element added or removed, and any change inside a note other than `arguments[0]`.
/// Changes to that note are counted, to show that the watch sees them.
const WATCH_OTHER_NOTES: &str = "
    const moved = arguments[0];
    window.__noteMutations = [];
    window.__movedNoteMutations = 0;
    document.querySelectorAll('.note').forEach(n => { n.__kept = true; });
    new MutationObserver(records => {
        for (const r of records) {
            const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
            const note = el?.closest('.note');
            const notes = [...r.addedNodes, ...r.removedNodes]
                .filter(n => n.nodeType === 1 && (n.matches('.note') || n.querySelector('.note')));
            if (notes.length > 0) {
                window.__noteMutations.push(`${r.type}: note elements added or removed`);
            } else if (note && note.dataset.noteId !== moved) {
                window.__noteMutations.push(`${r.type} ${r.attributeName ?? ''} in note ${note.dataset.noteId}`);
            } else if (note) {
                window.__movedNoteMutations += 1;
            }
        }
    }).observe(document.querySelector('.world'),
        { subtree: true, childList: true, attributes: true, characterData: true });";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_moved_by_someone_else_redraws_that_note_alone() {
    let (meeting, ada, bo) = two_people().await;

    let written = [
        ("detect", "Pager went off."),
        ("react", "Rolled back the deploy."),
        ("prevent", "Canary the config change."),
    ];
    let mut notes = Vec::new();
    for (region, text) in written {
        notes.push(ada.add_note(region, text).await);
    }
    for (note, (_, text)) in notes.iter().zip(written) {
        bo.wait_for_note_text("Bo", note, text).await;
    }
    // Ada leaves the note she typed in last, so that her presence changes only the note
    // she drags.
    ada.js("document.activeElement?.blur();", vec![]).await;
    bo.wait_js(
        "Bo to see nobody editing",
        "return document.querySelectorAll('.note.busy').length === 0;",
        vec![],
    )
    .await;
    let moved = &notes[0];
    bo.js(WATCH_OTHER_NOTES, vec![json!(moved)]).await;

    let before = x_of(&bo, moved).await;
    ada.drag(&bar(moved), 60.0, 0.0).await;
    let x = x_of(&ada, moved).await;
    assert_ne!(x, before, "Ada's drag moved the note");
    wait_x(&bo, "Bo", moved, x).await;

    let seen = bo
        .js(
            "return {
                 count: document.querySelectorAll('.note').length,
                 kept: [...document.querySelectorAll('.note')].every(n => n.__kept === true),
                 mutations: window.__noteMutations,
                 moved: window.__movedNoteMutations,
             };",
            vec![],
        )
        .await;
    assert!(
        seen["moved"].as_u64() > Some(0),
        "the moved note was redrawn: {seen}"
    );
    assert_eq!(seen["count"], json!(3), "{seen}");
    assert_eq!(
        seen["kept"],
        json!(true),
        "every note keeps its element: {seen}"
    );
    assert_eq!(
        seen["mutations"],
        json!([]),
        "nothing changed in the notes that did not move"
    );

    meeting.end().await;
}
