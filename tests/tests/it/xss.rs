//! Note text, names and facts are always rendered as text. Markup written into a board
//! by one person must never become elements, let alone run, in anyone's page.

use hindsight_tests::browser::Meeting;
use serde_json::json;

const PAYLOADS: [&str; 3] = [
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<script>window.__pwned = 'script'</script>",
    "\"><svg onload=\"window.__pwned = 'svg'\"></svg>",
];

/// Display names are at most 40 characters, so these are shorter.
const NAMES: [&str; 2] = [
    "<img src=x onerror=__pwned=1>",
    "<b onmouseover=__pwned=2>Bo</b>",
];

/// Whether anything written into the board became markup: a payload ran, or produced an
/// element the page itself never makes.
const INJECTED: &str = "return window.__pwned !== undefined
    || document.querySelector('img[src=\"x\"], [onload], [onerror], [onmouseover], .note script') !== null;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_notes_names_and_facts_stays_text() {
    let (meeting, ada) = Meeting::start(NAMES[0]).await;
    let mut notes = Vec::new();
    for (payload, region) in PAYLOADS.iter().zip(["summary", "detect", "react"]) {
        notes.push(ada.add_note(region, payload).await);
    }
    ada.js(
        "const impact = document.querySelector('#fact-impact');
         impact.value = arguments[0];
         impact.dispatchEvent(new Event('input', { bubbles: true }));
         impact.dispatchEvent(new Event('change', { bubbles: true }));",
        vec![json!(PAYLOADS[1])],
    )
    .await;

    // Bo receives all of it through the board and renders it.
    let bo = meeting.join(NAMES[1]).await;
    for (id, payload) in notes.iter().zip(PAYLOADS) {
        bo.wait_for_note_text("Bo", id, payload).await;
    }
    bo.wait_js(
        "Bo to see the impact as text",
        "return document.querySelector('#fact-impact')?.value === arguments[0];",
        vec![json!(PAYLOADS[1])],
    )
    .await;
    bo.wait_js(
        "Bo to list Ada by her name, as text",
        "return [...document.querySelectorAll('#participants li')]
             .some(li => li.textContent.includes(arguments[0]));",
        vec![json!(NAMES[0])],
    )
    .await;
    for (who, session) in [("Ada", &ada), ("Bo", &bo)] {
        let injected = session.js(INJECTED, vec![]).await;
        assert_eq!(injected, json!(false), "markup became live in {who}'s page");
    }
    meeting.end().await;
}
