//! The postmortem workflow in real browsers: the facilitator and a participant turn an
//! idea into an action, the participant gives it an owner and a date, the Markdown export
//! lists it, and the facilitator moves the meeting to a step everyone sees.

use hindsight_tests::browser::{two_people, Session, NOTE_BY_ID, TEXT_OF};
use hindsight_tests::markdown_export;
use serde_json::{json, Value};

const IDEA: &str = "Canary config changes before fleet-wide rollout";

/// The on-screen rectangle `[left, top, width, height]` of the element matched by `css`.
async fn screen_rect(session: &Session, css: &str) -> [f64; 4] {
    let v = session
        .wait_js(
            &format!("{css} on screen"),
            "const r = document.querySelector(arguments[0])?.getBoundingClientRect();
             return r ? [r.left, r.top, r.width, r.height] : null;",
            vec![json!(css)],
        )
        .await;
    serde_json::from_value(v).unwrap()
}

fn centre([left, top, w, h]: [f64; 4]) -> (f64, f64) {
    (left + w / 2.0, top + h / 2.0)
}

/// Waits until `session` shows the action note made from `idea_text` and returns its id.
async fn action_note(session: &Session, who: &str, text: &str) -> String {
    let id = session
        .wait_js(
            &format!("{who} to see an action with owner, due date and warning"),
            &format!(
                "const n = [...document.querySelectorAll('.note[data-region=\"actions\"]')]
                     .find(n => ({TEXT_OF})(n) === arguments[0]);
                 return n && n.querySelector('input.note-owner') && n.querySelector('input.note-due')
                     && n.querySelector('.note-warning') ? n.dataset.noteId : null;"
            ),
            vec![json!(text)],
        )
        .await;
    id.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idea_becomes_an_action_with_an_owner_and_a_date() {
    // Ada creates the board, so she facilitates; Bo joins from the link.
    let (meeting, ada, bo) = two_people().await;
    let board = meeting.board();
    ada.wait_js(
        "Ada to get the facilitator panel",
        "return !!document.querySelector('#facilitator-panel');",
        vec![],
    )
    .await;
    let bo_panel = bo
        .js(
            "return !!document.querySelector('#facilitator-panel');",
            vec![],
        )
        .await;
    assert_eq!(
        bo_panel,
        Value::Bool(false),
        "only the facilitator has the panel"
    );

    // Ada writes an idea in Prevent and drags it into Next Steps.
    let idea = ada.add_note("prevent", IDEA).await;
    bo.wait_for_note_text("Bo", &idea, IDEA).await;
    ada.click("#fit").await;
    let note = centre(screen_rect(&ada, &format!(".note[data-note-id=\"{idea}\"]")).await);
    let actions = centre(screen_rect(&ada, ".region[data-region=\"actions\"]").await);
    let prevent = screen_rect(&ada, ".region[data-region=\"prevent\"]").await;
    assert!(
        note.0 > prevent[0] && note.0 < prevent[0] + prevent[2],
        "the idea sits in Prevent"
    );
    ada.drag(
        &format!(".note[data-note-id=\"{idea}\"] .note-bar"),
        0.0,
        actions.1 - note.1,
    )
    .await;

    // Bo sees a new action with empty owner and date, and the idea still in Prevent.
    let action = action_note(&bo, "Bo", IDEA).await;
    assert_ne!(action, idea, "the action is a new note");
    bo.wait_js(
        "Bo to see the idea back in Prevent, marked as promoted",
        &format!(
            "const n = ({NOTE_BY_ID})(arguments[0]);
                  return n && n.dataset.region === 'prevent' && n.classList.contains('promoted')
                      && !!n.querySelector('.note-action-link');"
        ),
        vec![json!(idea)],
    )
    .await;
    let source = bo
        .js(
            &format!(
                "return ({NOTE_BY_ID})(arguments[0]).querySelector('.note-source')?.textContent;"
            ),
            vec![json!(action)],
        )
        .await;
    assert_eq!(
        source,
        json!(format!("From: {}", &IDEA[..40]).trim_end().to_owned() + "…")
    );

    // Bo gives it an owner and a due date; the warning goes away for both.
    let in_action = |field: &str| format!(".note[data-note-id=\"{action}\"] {field}");
    bo.type_into(&in_action("input.note-owner"), "Bo").await;
    bo.js(
        "document.querySelector(arguments[0]).blur();",
        vec![json!(in_action("input.note-owner"))],
    )
    .await;
    bo.set_field(&in_action("input.note-due"), "2026-12-04")
        .await;
    for (who, session) in [("Bo", &bo), ("Ada", &ada)] {
        session
            .wait_js(
                &format!("{who} to see the action complete"),
                &format!("const n = ({NOTE_BY_ID})(arguments[0]);
                          return n && !n.querySelector('.note-warning') && !n.classList.contains('incomplete')
                              && n.querySelector('input.note-owner').value === 'Bo'
                              && n.querySelector('input.note-due').value === '2026-12-04'
                              && document.querySelector('#action-count')?.textContent === 'The action has an owner and a date';"),
                vec![json!(action)],
            )
            .await;
    }

    // The Markdown export lists the action with its owner, date and source idea.
    let markdown = markdown_export(meeting.server().addr(), &board).await;
    let row = format!("| {IDEA} | Bo | 2026-12-04 | 0 | {IDEA} (Prevent) |");
    assert!(markdown.contains(&row), "no row {row:?} in:\n{markdown}");

    // Ada moves the meeting to step 3; Bo sees Detect highlighted.
    ada.click("button.step[data-step=\"3\"]").await;
    bo.wait_js(
        "Bo to see step 3 highlighted",
        "return document.querySelector('.region[data-region=\"detect\"]')?.classList.contains('current-step')
             && document.querySelector('#step-banner')?.textContent.includes('Detect');",
        vec![],
    )
    .await;

    // Bo spends a vote on the action; Ada sees it counted.
    bo.js(
        &format!("({NOTE_BY_ID})(arguments[0]).querySelector('button.note-vote').click();"),
        vec![json!(action)],
    )
    .await;
    bo.wait_js(
        "Bo to have one vote fewer",
        "return document.querySelector('#votes-left')?.textContent === '4 of 5 votes left';",
        vec![],
    )
    .await;
    ada.wait_js(
        "Ada to see Bo's vote",
        &format!("return ({NOTE_BY_ID})(arguments[0])?.querySelector('.note-votes')?.textContent === '1';"),
        vec![json!(action)],
    )
    .await;

    // A close look at the action, reached from the idea's badge.
    for _ in 0..5 {
        bo.click("button[aria-label=\"Zoom in\"]").await;
    }
    bo.js(
        &format!("({NOTE_BY_ID})(arguments[0]).querySelector('.note-action-link').click();"),
        vec![json!(idea)],
    )
    .await;
    bo.screenshot("workflow-action.png").await;

    ada.click("#fit").await;
    ada.screenshot("workflow.png").await;
    meeting.end().await;
}

/// The page's zoom, from its zoom indicator ("84%" is 0.84).
async fn zoom_of(session: &Session) -> f64 {
    let shown = session
        .js(
            "return document.querySelector('.zoom-level')?.textContent ?? '';",
            vec![],
        )
        .await;
    shown
        .as_str()
        .and_then(|s| s.trim_end_matches('%').parse::<f64>().ok())
        .map_or(f64::NAN, |p| p / 100.0)
}

/// Whether the region `key`'s top-left corner is on the page's canvas at a readable
/// zoom (80 % or more).
const REGION_IN_VIEW: &str = "const r = document.querySelector(`.region[data-region=\"${arguments[0]}\"]`).getBoundingClientRect();
     const v = document.querySelector('.viewport').getBoundingClientRect();
     const zoom = parseFloat(document.querySelector('.zoom-level')?.textContent ?? '0') / 100;
     return zoom >= 0.8 && r.left >= v.left && r.top >= v.top && r.left < v.right && r.top < v.bottom;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_title_takes_you_there_and_a_step_moves_those_who_follow() {
    let (meeting, ada, bo) = two_people().await;
    // Bo clicks Prevent's title: it is in view at a readable size.
    assert!(zoom_of(&bo).await < 0.8, "the board opens fitted");
    bo.click(".region[data-region=\"prevent\"] .region-title")
        .await;
    bo.wait_js(
        "Prevent in Bo's view",
        REGION_IN_VIEW,
        vec![json!("prevent")],
    )
    .await;
    assert!(zoom_of(&bo).await >= 0.8);

    // Ada facilitates with "follow me" on; her step to Next Steps moves Bo there.
    ada.wait_js(
        "Ada's facilitator panel",
        "return !!document.querySelector('#follow-toggle');",
        vec![],
    )
    .await;
    ada.click("#follow-toggle").await;
    ada.click("#facilitator-panel .step[data-step=\"8\"]").await;
    for (who, page) in [("Ada", &ada), ("Bo", &bo)] {
        page.wait_js(
            &format!("Next Steps in {who}'s view"),
            REGION_IN_VIEW,
            vec![json!("actions")],
        )
        .await;
    }
    assert!(zoom_of(&bo).await >= 0.8, "Bo follows at a readable size");
    bo.close().await;
    ada.close().await;
    meeting.end().await;
}
