//! Read-only mode in the browser: the creator's page offers both links; the read-only
//! link opens the board live, says it is read-only, offers no way to change anything,
//! and the viewer still shows up among the participants. Typing into a note does
//! nothing, here or anywhere else.

use hindsight_tests::browser::{Meeting, NOTE_BY_ID, TEXT_OF};
use hindsight_tests::TestBoard;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_link_shows_the_board_live_and_changes_nothing() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let edit_url = meeting.url.clone();
    let note = ada.add_note("detect", "Alert fired late").await;

    // Both links are on the page; the edit link is the one in the address bar.
    let links = ada
        .js(
            "return [document.querySelector('#copy-link')?.dataset.url,
                     document.querySelector('#copy-read-link')?.dataset.url];",
            vec![],
        )
        .await;
    assert_eq!(links[0], json!(edit_url), "{links}");
    let read_url = links[1].as_str().expect("a read-only link").to_owned();
    let board = TestBoard::from_url(&edit_url);
    assert_eq!(TestBoard::from_url(&read_url).read_token, board.read_token);
    assert!(TestBoard::from_url(&read_url).edit_token.is_empty());

    let vi = meeting.open(&read_url, "Viewer Vi").await;
    vi.wait_for_note_text("Vi", &note, "Alert fired late").await;
    let page = vi
        .js(
            "const shown = (css) => [...document.querySelectorAll(css)]
                 .some(el => el.offsetParent !== null);
             return {
                 badge: document.querySelector('#read-only-badge')?.textContent ?? null,
                 editLink: document.querySelector('#copy-link') !== null,
                 readLink: document.querySelector('#copy-read-link')?.dataset.url ?? null,
                 addButtons: shown('.region-add'),
                 deleteButtons: shown('.note-delete'),
                 voteButtons: shown('.note-vote'),
                 undo: shown('#undo'),
                 textReadOnly: [...document.querySelectorAll('.note-text')]
                     .every(t => t.tagName !== 'TEXTAREA' && t.getAttribute('aria-readonly') === 'true')
                     && document.querySelectorAll('.note-text').length > 0,
                 titleReadOnly: document.querySelector('.board-title').readOnly,
                 factsDisabled: document.querySelector('#fact-impact').disabled,
             };",
            vec![],
        )
        .await;
    assert_eq!(
        page,
        json!({
            "badge": "Read-only",
            "editLink": false,
            "readLink": read_url,
            "addButtons": false,
            "deleteButtons": false,
            "voteButtons": false,
            "undo": false,
            "textReadOnly": true,
            "titleReadOnly": true,
            "factsDisabled": true,
        }),
    );

    // The viewer is among the participants on Ada's page.
    ada.wait_js(
        "Ada to see the viewer",
        "return [...document.querySelectorAll('#participants li')]
             .some(li => li.title === 'Viewer Vi');",
        vec![],
    )
    .await;

    // Typing into the note does nothing; Ada's later edit still arrives, and the viewer
    // stays connected (the page never sent a change for the server to refuse).
    vi.click(&format!(".note[data-note-id=\"{note}\"] .note-text"))
        .await;
    vi.type_keys(" and nobody noticed").await;
    ada.edit_text(&note, "end").await;
    ada.type_keys(" (40 min)").await;
    vi.wait_for_note_text("Vi", &note, "Alert fired late (40 min)")
        .await;
    ada.wait_for_note_text("Ada", &note, "Alert fired late (40 min)")
        .await;
    let state = vi
        .js(
            &format!(
                "return [({TEXT_OF})(({NOTE_BY_ID})(arguments[0])),
                         document.querySelector('#connection').dataset.state];"
            ),
            vec![json!(note)],
        )
        .await;
    assert_eq!(state, json!(["Alert fired late (40 min)", "connected"]));
    vi.screenshot("read-only").await;
    meeting.end().await;
}
