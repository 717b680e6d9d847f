//! Accessibility, audited by axe-core (the npm package, injected over WebDriver) with the
//! WCAG 2.0, 2.1 and 2.2 A and AA rules: the start page, a board holding notes of every
//! kind on the canvas and as a list, and the same board opened read-only, each at a
//! desktop's 1440×900 and a phone's 390×844. Each audit prints what it found; any
//! critical or serious violation fails the test. The list view's own workings (every
//! drag as a menu or a button, the live region) have a test of their own.

use hindsight_shared::NoteColor;
use hindsight_tests::browser::{Meeting, Session};
use hindsight_tests::fixtures::{id, note_at, note_in, seed_incident};
use hindsight_tests::node::interop_dir;
use hindsight_tests::YClient;
use serde_json::{json, Value};

const DESKTOP: (u32, u32) = (1440, 900);
const PHONE: (u32, u32) = (390, 844);

/// Runs axe on the page as it is and returns its violations (rule, impact, how many
/// elements, the first few of them). Rules in `skip` are left out.
async fn audit(session: &Session, skip: &[&str]) -> Vec<Value> {
    let loaded = session
        .js("return typeof window.axe === 'object';", vec![])
        .await;
    if loaded != Value::Bool(true) {
        let source =
            std::fs::read_to_string(interop_dir().join("node_modules/axe-core/axe.min.js"))
                .expect("axe-core is installed in tests/interop (npm ci)");
        session.js(&source, vec![]).await;
    }
    session
        .js(
            "window.__axe = null;
             axe.run(document, {
                 runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] },
                 resultTypes: ['violations'],
                 rules: Object.fromEntries(arguments[0].map((id) => [id, { enabled: false }])),
             }).then((r) => {
                 window.__axe = r.violations.map((v) => ({
                     id: v.id, impact: v.impact, count: v.nodes.length,
                     targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join('')),
                 }));
             }, (e) => { window.__axe = [{ id: 'axe-error', impact: 'critical', count: 1, targets: [String(e)] }]; });
             return true;",
            vec![json!(skip)],
        )
        .await;
    let found = session
        .wait_js("axe's audit", "return window.__axe;", vec![])
        .await;
    found.as_array().cloned().unwrap_or_default()
}

/// Audits the page, prints the counts by impact and every violation, and returns the
/// ones that are critical or serious, described.
async fn check(session: &Session, page: &str, skip: &[&str], failures: &mut Vec<String>) {
    let violations = audit(session, skip).await;
    let count = |impact: &str| {
        violations
            .iter()
            .filter(|v| v["impact"] == impact)
            .map(|v| v["count"].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    println!(
        "axe {page}: {} critical, {} serious, {} moderate, {} minor",
        count("critical"),
        count("serious"),
        count("moderate"),
        count("minor")
    );
    for v in &violations {
        println!(
            "  {} ({}, {}): {}",
            v["id"], v["impact"], v["count"], v["targets"]
        );
        if v["impact"] == "critical" || v["impact"] == "serious" {
            failures.push(format!(
                "{page}: {} ({}) {}",
                v["id"], v["impact"], v["targets"]
            ));
        }
    }
}

/// The canvas as it opened (at Fit, on a desktop the whole board as a map), then at a
/// region, at the readable zoom: every rule at both.
async fn check_canvas(session: &Session, page: &str, failures: &mut Vec<String>) {
    check(session, &format!("{page}, canvas as opened"), &[], failures).await;
    session
        .screenshot(&format!("a11y/{}.png", page.replace(' ', "-")))
        .await;
    choose(session, "#go-to-region", "detect").await;
    session
        .wait_js(
            "the canvas at Detect, readable",
            "return parseFloat(document.querySelector('.zoom-level').textContent) >= 80;",
            vec![],
        )
        .await;
    check(
        session,
        &format!("{page}, canvas at a region"),
        &[],
        failures,
    )
    .await;
    session
        .screenshot(&format!("a11y/{}-region.png", page.replace(' ', "-")))
        .await;
}

async fn resize(session: &Session, (w, h): (u32, u32)) {
    session
        .client
        .set_window_size(w, h)
        .await
        .expect("set the window size");
}

/// Notes of every kind: a timed timeline entry with its kind, an idea with a vote that
/// became an action with an owner and a due date, an action still missing both, and
/// notes of other colours in other regions.
async fn seed(meeting: &Meeting) -> YClient {
    let client = YClient::connect(&meeting.server().ws_base(), &meeting.board()).await;
    client.edit(|b, txn| {
        seed_incident(b, txn);
        b.add_note(txn, &id("t2"), note_in("timeline", "Rolled back").by("Bo"));
        b.add_note(
            txn,
            &id("undecided"),
            note_in("actions", "Page the database team sooner").by("Cy"),
        );
        b.add_note(
            txn,
            &id("blue"),
            note_in("react", "Status page updated late")
                .by("Bo")
                .color(NoteColor::Blue),
        );
        b.add_note(
            txn,
            &id("pink"),
            note_in("prevent", "Load test the checkout path").color(NoteColor::Pink),
        );
    });
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_at_desktop_and_phone_sizes() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let _peer = seed(&meeting).await;
    ada.wait_js(
        "the seeded notes",
        "return document.querySelectorAll('.note').length >= 7;",
        vec![],
    )
    .await;
    let read_url = ada
        .js(
            "return document.querySelector('#copy-read-link').dataset.url;",
            vec![],
        )
        .await
        .as_str()
        .expect("a read-only link")
        .to_owned();
    let mut failures = Vec::new();

    for (size, name) in [(DESKTOP, "1440x900"), (PHONE, "390x844")] {
        resize(&ada, size).await;
        ada.goto(&meeting.server().http_base()).await;
        ada.wait_js(
            "the start page",
            "return document.querySelector('#new-board');",
            vec![],
        )
        .await;
        check(&ada, &format!("start page {name}"), &[], &mut failures).await;
        ada.screenshot(&format!("a11y/start-{name}.png")).await;

        ada.goto(&meeting.url).await;
        ada.wait_js(
            "the board",
            "return document.querySelector('#connection')?.dataset.state === 'connected';",
            vec![],
        )
        .await;
        ada.click("#view-board").await;
        // On a phone the canvas shows one region at a time, so only its notes.
        ada.wait_js(
            "the canvas with its regions",
            "return document.querySelectorAll('.region').length >= 8
                 && (innerWidth < 700 || document.querySelectorAll('.note').length >= 7);",
            vec![],
        )
        .await;
        check_canvas(&ada, &format!("board {name}"), &mut failures).await;

        ada.click("#view-list").await;
        ada.wait_js(
            "the list view",
            "return document.querySelectorAll('.list-card').length >= 7;",
            vec![],
        )
        .await;
        check(&ada, &format!("list view {name}"), &[], &mut failures).await;
        // Everything in the top bar and the facts row is on screen, nothing scrolls
        // sideways.
        let off_screen = ada
            .js(
                "return [...document.querySelectorAll('.topbar button, .topbar input, .topbar a, .factsbar button, .factsbar a, .factsbar input, .factsbar select')]
                     .filter((el) => el.offsetParent !== null)
                     .filter((el) => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth + 1; })
                     .map((el) => el.id || el.className || el.tagName);",
                vec![],
            )
            .await;
        assert_eq!(off_screen, serde_json::json!([]), "{name}: off screen");
        ada.screenshot(&format!("a11y/list-{name}.png")).await;
    }

    let vi = meeting.open(&read_url, "Viewer Vi").await;
    for (size, name) in [(DESKTOP, "1440x900"), (PHONE, "390x844")] {
        resize(&vi, size).await;
        vi.goto(&read_url).await;
        vi.wait_js(
            "the read-only board",
            "return document.querySelector('#read-only-badge')
                 && (document.querySelectorAll('.list-card').length >= 7
                     || document.querySelectorAll('.region').length >= 8);",
            vec![],
        )
        .await;
        if vi
            .js("return !!document.querySelector('#list-view');", vec![])
            .await
            == json!(true)
        {
            check(
                &vi,
                &format!("read-only board (list) {name}"),
                &[],
                &mut failures,
            )
            .await;
        } else {
            check_canvas(&vi, &format!("read-only board {name}"), &mut failures).await;
        }
    }

    assert!(
        failures.is_empty(),
        "critical or serious violations:\n{}",
        failures.join("\n")
    );
    meeting.end().await;
}

/// Picks `value` in the `<select>` matched by `css`, as a person choosing from it does.
async fn choose(session: &Session, css: &str, value: &str) {
    session
        .js(
            "const el = document.querySelector(arguments[0]);
             el.focus();
             el.value = arguments[1];
             el.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
            vec![json!(css), json!(value)],
        )
        .await;
}

/// The note whose new card has its text field focused, once it has.
async fn focused_card(session: &Session) -> String {
    session
        .wait_js(
            "the new card, its text field focused",
            "const t = document.activeElement;
             return t?.tagName === 'TEXTAREA' ? t.closest('.list-card')?.dataset.noteId : null;",
            vec![],
        )
        .await
        .as_str()
        .expect("a note id")
        .to_owned()
}

/// Adds a card to `region` of the list with its "+ Note" button; returns the note's id.
async fn add_card(session: &Session, region: &str) -> String {
    session
        .click(&format!(".list-region[data-region=\"{region}\"] .list-add"))
        .await;
    focused_card(session).await
}

fn card(id: &str) -> String {
    format!(".list-card[data-note-id=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_view_does_everything_without_dragging_and_says_what_others_do() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let bo = meeting.join("Bo").await;
    for page in [&ada, &bo] {
        page.js(LISTEN_TO_ANNOUNCER, vec![]).await;
    }
    ada.click("#view-list").await;

    // Add a note to Detect and write it, without a pointer on the canvas.
    let id = add_card(&ada, "detect").await;
    ada.type_keys("Checkout alerts fired late").await;
    bo.wait_for_note_text("Bo", &id, "Checkout alerts fired late")
        .await;
    // Bo hears of the note once; nobody hears of the typing, Ada not of her own note.
    bo.wait_js(
        "the announcement of Ada's note on Bo's page",
        "return window.said.length > 0;",
        vec![],
    )
    .await;
    ada.type_keys(", twelve minutes after the errors").await;
    tokio::time::sleep(std::time::Duration::from_millis(2 * 2000 + 500)).await;
    assert_eq!(
        bo.js("return window.said;", vec![]).await,
        json!(["Ada added a note in Detect."])
    );
    assert_eq!(ada.js("return window.said;", vec![]).await, json!([]));
    let name = ada
        .js(
            "return document.querySelector(arguments[0] + ' .list-card-body').getAttribute('aria-label');",
            vec![json!(card(&id))],
        )
        .await;
    assert_eq!(
        name,
        json!("Sticky note in Detect by Ada, 0 votes: Checkout alerts fired late,…")
    );

    // Move it to React through its menu: Bo's canvas has it there.
    choose(&ada, &format!("{} .list-move", card(&id)), "react").await;
    bo.wait_js(
        "Bo to see the note in React",
        "return document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`)?.dataset.region === 'react';",
        vec![json!(id)],
    )
    .await;
    ada.wait_js(
        "Ada's card under React",
        "return !!document.querySelector(`.list-region[data-region=\"react\"] .list-card[data-note-id=\"${arguments[0]}\"]`);",
        vec![json!(id)],
    )
    .await;

    // Promote it: a new action in Next Steps, linked back to the idea, which stays.
    ada.click(&format!("{} .list-promote", card(&id))).await;
    let action = ada
        .wait_js(
            "the action card",
            "const c = document.querySelector('.list-region[data-region=\"actions\"] .list-card');
             return c ? c.dataset.noteId : null;",
            vec![],
        )
        .await
        .as_str()
        .expect("an action id")
        .to_owned();
    bo.wait_js(
        "Bo to see the action linked to the idea",
        "const a = document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`);
         const idea = document.querySelector(`.note[data-note-id=\"${arguments[1]}\"]`);
         return a?.dataset.role === 'actions' && idea?.classList.contains('promoted');",
        vec![json!(action), json!(id)],
    )
    .await;
    assert!(
        ada.js(
            "return !document.querySelector(arguments[0] + ' .list-promote');",
            vec![json!(card(&id))]
        )
        .await
            == json!(true),
        "an idea that is an action offers no second promotion"
    );

    // What Bo does is said on Ada's page, summarised.
    bo.add_note("detect", "Synthetic checks missed it").await;
    ada.wait_js(
        "the announcement of Bo's note",
        "return document.querySelector('#announcer')?.textContent === 'Bo added a note in Detect.';",
        vec![],
    )
    .await;

    // Deleting a card puts the focus on its neighbour, and undo brings it back.
    ada.click(&format!("{} .list-delete", card(&id))).await;
    ada.wait_js(
        "the card gone and the focus on a card or an add button",
        "const gone = !document.querySelector(arguments[0]);
         const f = document.activeElement;
         return gone && !!f && (f.classList.contains('list-card-body') || f.classList.contains('list-add'));",
        vec![json!(card(&id))],
    )
    .await;
    ada.click("#undo").await;
    ada.wait_js(
        "the card back",
        "return !!document.querySelector(arguments[0]);",
        vec![json!(card(&id))],
    )
    .await;

    // The choice of view is remembered by this browser.
    ada.goto(&meeting.url).await;
    ada.wait_js(
        "the list again after a reload",
        "return document.querySelector('#view-list')?.getAttribute('aria-pressed') === 'true'
             && !!document.querySelector('#list-view');",
        vec![],
    )
    .await;
    meeting.end().await;
}

/// Keeps what the page's live region says, in `window.said`.
const LISTEN_TO_ANNOUNCER: &str = "window.said = [];
     const live = document.querySelector('#announcer');
     new MutationObserver(() => { if (live.textContent) window.said.push(live.textContent); })
         .observe(live, { childList: true, characterData: true, subtree: true });
     return true;";

const TAB: char = '\u{E004}';
const ESCAPE: char = '\u{E00C}';

/// What has the focus: its id, else its class.
const FOCUSED: &str = "const a = document.activeElement;
     return a === document.body || !a ? 'body' : (a.id || a.className);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_always_has_a_place_and_the_view_follows_it() {
    let (meeting, ada) = Meeting::start("Ada").await;
    // Joining puts the focus on the board, not on the page's body.
    let focused = ada
        .wait_js(
            "the focus on the board after joining",
            "const a = document.activeElement;
             return a && a !== document.body && !!a.closest('.board') ? (a.className || a.id) : null;",
            vec![],
        )
        .await;
    assert!(
        focused.as_str().is_some_and(|c| c.contains("region-title")),
        "{focused}"
    );

    // The name prompt is modal: Tab goes round its own controls.
    ada.click(".me-name").await;
    ada.wait_js(
        "the prompt's field focused",
        "return document.activeElement?.id === 'name-input';",
        vec![],
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        ada.press(&[TAB]).await;
        seen.push(ada.js(FOCUSED, vec![]).await);
    }
    assert_eq!(
        seen.last(),
        Some(&json!("name-input")),
        "Tab left the dialog: {seen:?}"
    );
    ada.press(&[ESCAPE]).await;
    ada.click(".modal .button.ghost").await;

    // Escape leaves a note's text but keeps the focus on that note.
    let note = ada.add_note("detect", "Checkout alerts fired late").await;
    ada.press(&[ESCAPE]).await;
    ada.wait_js(
        "the focus still on the note",
        "const a = document.activeElement;
         return a?.closest('.note')?.dataset.noteId === arguments[0] && a.tagName !== 'TEXTAREA';",
        vec![json!(note)],
    )
    .await;

    // So is the timeline's import dialog: however often Tab is pressed, the focus stays
    // inside it, and Escape closes it.
    ada.click("#import-timeline").await;
    ada.wait_js(
        "the import dialog",
        "return !!document.querySelector('.modal.wide');",
        vec![],
    )
    .await;
    for i in 0..12 {
        ada.press(&[TAB]).await;
        let inside = ada
            .js(
                "return !!document.activeElement?.closest('.modal.wide');",
                vec![],
            )
            .await;
        assert_eq!(inside, json!(true), "Tab {i} left the import dialog");
    }
    ada.press(&[ESCAPE]).await;
    ada.wait_js(
        "the dialog closed",
        "return !document.querySelector('.modal.wide');",
        vec![],
    )
    .await;

    // Zoomed in on one region, focusing something far away brings it into view.
    choose(&ada, "#go-to-region", "summary").await;
    ada.wait_js(
        "the view at Summary",
        "return parseFloat(document.querySelector('.zoom-level').textContent) >= 80;",
        vec![],
    )
    .await;
    let far = ".region[data-region=\"actions\"] .region-title";
    let outside = ada
        .js(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();
             const v = document.querySelector('.viewport').getBoundingClientRect();
             return r.bottom > v.bottom || r.right > v.right || r.top < v.top || r.left < v.left;",
            vec![json!(far)],
        )
        .await;
    assert_eq!(outside, json!(true), "Next Steps starts out of view");
    ada.js(
        "document.querySelector(arguments[0]).focus(); return true;",
        vec![json!(far)],
    )
    .await;
    ada.wait_js(
        "the focused title in view",
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();
         const v = document.querySelector('.viewport').getBoundingClientRect();
         return r.top >= v.top && r.bottom <= v.bottom && r.left >= v.left && r.right <= v.right;",
        vec![json!(far)],
    )
    .await;
    ada.screenshot("a11y/focus-followed.png").await;
    meeting.end().await;
}

const ENTER: char = '\u{E007}';
const SHIFT: char = '\u{E008}';

/// Presses Tab (Shift+Tab when `back`) until the focused element matches `css`, at most
/// `most` times; returns how many presses it took.
async fn tab_to(session: &Session, css: &str, back: bool, most: usize) -> usize {
    for presses in 1..=most {
        if back {
            session.press(&[SHIFT, TAB]).await;
        } else {
            session.press(&[TAB]).await;
        }
        let here = session
            .js(
                "return !!document.activeElement?.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await;
        if here == json!(true) {
            return presses;
        }
    }
    let at = session.js(FOCUSED, vec![]).await;
    panic!("{most} presses of Tab did not reach {css}; the focus is on {at}");
}

/// The note whose card (or whose control) has the focus, if one has.
const FOCUSED_CARD: &str =
    "return document.activeElement?.closest('.list-card')?.dataset.noteId ?? null;";

/// Whether the focus is on a card itself (not inside it) and which.
const ON_CARD: &str = "const a = document.activeElement;
     return a?.classList.contains('list-card-body') ? a.closest('.list-card').dataset.noteId : null;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_postmortem_by_keyboard_alone() {
    let (meeting, bo) = Meeting::start("Bo").await;
    // Two notes in React already, to go from one to the next.
    let client = YClient::connect(&meeting.server().ws_base(), &meeting.board()).await;
    client.edit(|b, txn| {
        b.add_note(txn, &id("r1"), note_in("react", "Paged the wrong team"));
        b.add_note(
            txn,
            &id("r2"),
            note_at("react", (20.0, 260.0), "Rollback took 20 minutes"),
        );
    });

    // Ada opens the shared link; from here on, only keys.
    let ada = meeting.visit(&meeting.url).await;
    ada.wait_js(
        "the name prompt focused",
        "return document.activeElement?.id === 'name-input';",
        vec![],
    )
    .await;
    ada.type_keys("Ada").await;
    ada.press(&[ENTER]).await;
    ada.wait_js(
        "the board live and focused",
        "return document.querySelector('#connection')?.dataset.state === 'connected'
             && !!document.activeElement?.closest('.board');",
        vec![],
    )
    .await;

    // On the canvas a note is one Tab stop: the next note is one press away.
    tab_to(&ada, ".note-content", false, 60).await;
    let first = ada
        .js(
            "return document.activeElement.closest('.note').dataset.noteId;",
            vec![],
        )
        .await;
    ada.press(&[TAB]).await;
    let next = ada
        .js(
            "const a = document.activeElement;
             return a?.classList.contains('note-content') ? a.closest('.note').dataset.noteId : null;",
            vec![],
        )
        .await;
    assert!(
        next.is_string() && next != first,
        "one Tab goes from note {first} to another note, not to {next}"
    );

    // The list: back up to the view switch.
    tab_to(&ada, "#view-list", true, 60).await;
    ada.press(&[ENTER]).await;
    ada.wait_js(
        "the list view",
        "return document.querySelectorAll('.list-region').length === 8;",
        vec![],
    )
    .await;

    // In React, from one card to the next: one press from the card, two from inside it.
    tab_to(
        &ada,
        ".list-region[data-region=\"react\"] .list-card-body",
        false,
        60,
    )
    .await;
    let r1 = ada.js(ON_CARD, vec![]).await;
    ada.press(&[TAB]).await;
    let r2 = ada.js(ON_CARD, vec![]).await;
    assert!(
        r2.is_string() && r2 != r1,
        "one Tab from card {r1} reaches the next card: {r2}"
    );
    ada.press(&[SHIFT, TAB]).await;
    assert_eq!(ada.js(ON_CARD, vec![]).await, r1);
    ada.press(&[ENTER]).await;
    let inside = ada.js(FOCUSED, vec![]).await;
    assert!(
        inside.as_str().is_some_and(|c| c.contains("note-text")),
        "Enter goes into the note, to its text: {inside}"
    );
    ada.press(&[TAB]).await;
    assert_eq!(
        ada.js(FOCUSED_CARD, vec![]).await,
        r1,
        "Tab goes round the note's own controls"
    );
    let mut presses = 0;
    for key in [ESCAPE, TAB] {
        ada.press(&[key]).await;
        presses += 1;
        if ada.js(ON_CARD, vec![]).await == r2 {
            break;
        }
    }
    assert_eq!(ada.js(ON_CARD, vec![]).await, r2);
    assert!(presses <= 2, "{presses} presses to reach the next note");

    // Add a note in Detect and write it.
    tab_to(
        &ada,
        ".list-region[data-region=\"detect\"] .list-add",
        true,
        60,
    )
    .await;
    ada.press(&[ENTER]).await;
    let idea = focused_card(&ada).await;
    ada.type_keys("Checkout alerts fired late").await;
    bo.wait_for_note_text("Bo", &idea, "Checkout alerts fired late")
        .await;
    ada.press(&[ESCAPE]).await;
    assert_eq!(
        ada.js(ON_CARD, vec![]).await,
        json!(idea),
        "Escape leaves the text, on its card"
    );

    // Move it to Prevent with its menu, choosing by the region's first letter.
    ada.press(&[ENTER]).await;
    tab_to(&ada, ".list-move", false, 12).await;
    ada.type_keys("P").await;
    ada.wait_js(
        "the card in Prevent, focused",
        "const a = document.activeElement;
         return a?.classList.contains('list-card-body')
             && a.closest('.list-region')?.dataset.region === 'prevent'
             && a.closest('.list-card').dataset.noteId === arguments[0];",
        vec![json!(idea)],
    )
    .await;
    bo.wait_js(
        "Bo to see the note in Prevent",
        "return document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`)?.dataset.region === 'prevent';",
        vec![json!(idea)],
    )
    .await;

    // Make it an action: the focus goes to the action, which says where it came from.
    ada.press(&[ENTER]).await;
    tab_to(&ada, ".list-promote", false, 12).await;
    ada.press(&[ENTER]).await;
    let action = ada
        .wait_js(
            "the new action focused",
            "const a = document.activeElement;
             return a?.classList.contains('list-card-body')
                 && a.closest('.list-region')?.dataset.region === 'actions'
                 ? a.closest('.list-card').dataset.noteId : null;",
            vec![],
        )
        .await;
    let action = action.as_str().expect("an action id").to_owned();
    let links = ada
        .js(
            "return [document.querySelector(arguments[0] + ' .note-source')?.textContent,
                     document.querySelector(arguments[1] + ' .note-action-link')?.textContent];",
            vec![json!(card(&action)), json!(card(&idea))],
        )
        .await;
    assert_eq!(
        links,
        json!(["From: Checkout alerts fired late", "→ Action"])
    );

    // Its owner and due date, and a vote.
    ada.press(&[ENTER]).await;
    tab_to(&ada, ".note-owner", false, 12).await;
    ada.type_keys("Ada").await;
    tab_to(&ada, ".note-due", false, 4).await;
    ada.type_keys("12152026").await;
    tab_to(&ada, ".note-vote", false, 12).await;
    ada.press(&[ENTER]).await;
    bo.wait_js(
        "Bo to see the action's owner, due date and vote",
        "const n = document.querySelector(`.note[data-note-id=\"${arguments[0]}\"]`);
         return n?.querySelector('.note-owner')?.value === 'Ada'
             && n.querySelector('.note-due')?.value === '2026-12-15'
             && n.querySelector('.note-votes')?.textContent === '1';",
        vec![json!(action)],
    )
    .await;

    // A fact in the header.
    ada.press(&[ESCAPE]).await;
    tab_to(&ada, "#fact-impact", true, 80).await;
    ada.type_keys("Checkout failed for 40 minutes").await;
    ada.press(&[TAB]).await;
    bo.wait_js(
        "Bo to see the impact",
        "return document.querySelector('#fact-impact')?.value === 'Checkout failed for 40 minutes';",
        vec![],
    )
    .await;

    // And the Markdown export, from its link.
    tab_to(&ada, "#export-md", false, 12).await;
    ada.press(&[ENTER]).await;
    let href = ada
        .js("return document.activeElement.href;", vec![])
        .await
        .as_str()
        .expect("the export's address")
        .to_owned();
    let path = &href[href.find("/api/").expect("an API address")..];
    let reply = hindsight_tests::http::get(meeting.server().addr(), path, &[]).await;
    let markdown = reply.text();
    for expected in [
        "Checkout failed for 40 minutes",
        "Checkout alerts fired late",
        "Ada",
        "2026-12-15",
    ] {
        assert!(
            markdown.contains(expected),
            "the export holds {expected:?}:\n{markdown}"
        );
    }
    resize(&ada, DESKTOP).await;
    ada.screenshot("list-view.png").await;
    drop(client);
    meeting.end().await;
}

/// What on the page reaches past the window's sides, or makes a box scroll sideways:
/// each as its id or class.
const OVERFLOWS: &str = "const name = (el) => el.id || el.className || el.tagName;
     const wide = document.documentElement.scrollWidth > innerWidth ? ['the page'] : [];
     for (const el of document.querySelectorAll('body *')) {
         if (el.offsetParent === null) continue;
         const r = el.getBoundingClientRect();
         if (r.width > 0 && (r.right > innerWidth + 1 || r.left < -1)) wide.push(name(el));
         const x = getComputedStyle(el).overflowX;
         if ((x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1) wide.push(name(el) + ' scrolls sideways');
     }
     return wide;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_shared_link_is_a_list_to_take_part_in() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let _peer = seed(&meeting).await;
    // Bo opens the link Ada shared, on a phone.
    let bo = meeting.visit(&meeting.url).await;
    resize(&bo, PHONE).await;
    bo.goto(&meeting.url).await;
    bo.join_as("Bo").await;
    bo.wait_js(
        "the list, every region in it",
        "return !!document.querySelector('#list-view')
             && document.querySelectorAll('.list-region').length === 8
             && document.querySelectorAll('.list-card').length >= 7;",
        vec![],
    )
    .await;
    assert_eq!(
        bo.js(OVERFLOWS, vec![]).await,
        json!([]),
        "the list fits the phone"
    );
    // The facts fold away on a phone, so the notes get the screen; one button brings
    // the facts and the downloads back, and folds them again.
    let header = bo
        .js(
            "return document.querySelector('.factsbar').getBoundingClientRect().bottom / innerHeight;",
            vec![],
        )
        .await;
    assert!(
        header.as_f64().unwrap() < 0.3,
        "the top bar and the facts take {header} of the height"
    );
    let folded = "return document.querySelector('#fact-date')?.offsetParent === null
                      && document.querySelector('#facts-toggle').getAttribute('aria-expanded') === 'false';";
    assert_eq!(bo.js(folded, vec![]).await, json!(true), "folded at first");
    bo.click("#facts-toggle").await;
    bo.wait_js(
        "the facts unfolded",
        "return document.querySelector('#fact-date')?.offsetParent !== null
             && document.querySelector('#export-md')?.offsetParent !== null
             && document.querySelector('#facts-toggle').getAttribute('aria-expanded') === 'true';",
        vec![],
    )
    .await;
    assert_eq!(
        bo.js(OVERFLOWS, vec![]).await,
        json!([]),
        "unfolded, the facts fit the phone"
    );
    bo.screenshot("facts-phone.png").await;
    bo.click("#facts-toggle").await;
    bo.wait_js("the facts folded again", folded, vec![]).await;

    // A note, and a vote on it: Ada sees both.
    let note = add_card(&bo, "react").await;
    bo.type_keys("The runbook was out of date").await;
    bo.click(&format!("{} .note-vote", card(&note))).await;
    // (Ada reads the list too: the canvas draws only the notes near her view.)
    ada.click("#view-list").await;
    ada.wait_js(
        "Ada to see Bo's note with its vote",
        "const n = document.querySelector(`.list-card[data-note-id=\"${arguments[0]}\"]`);
         return n?.querySelector('.note-votes')?.textContent === '1'
             && n.textContent.includes('The runbook was out of date');",
        vec![json!(note)],
    )
    .await;

    // The top bar is two rows: the title with the share menu's button, then the view,
    // undo and the state. The links wait in the menu.
    let rows = bo
        .js(
            "const top = (css) => Math.round(document.querySelector(css).getBoundingClientRect().top);
             const bar = document.querySelector('.topbar').getBoundingClientRect();
             return { title: top('.board-title'), share: top('#share-toggle'), view: top('.view-switch'),
                      height: bar.height, linkShown: document.querySelector('#copy-link').offsetParent !== null };",
            vec![],
        )
        .await;
    assert!(
        (rows["title"].as_f64().unwrap() - rows["share"].as_f64().unwrap()).abs() <= 4.0
            && rows["view"].as_f64() > rows["title"].as_f64()
            && rows["height"].as_f64().unwrap() < 100.0
            && rows["linkShown"] == json!(false),
        "the top bar on a phone: {rows}"
    );
    // The edit link, copied from the share menu, which opens over the page.
    bo.click("#share-toggle").await;
    bo.wait_js(
        "the share menu open",
        "return document.querySelector('#share-toggle').getAttribute('aria-expanded') === 'true'
             && document.querySelector('#copy-link').offsetParent !== null
             && document.querySelector('#copy-read-link').offsetParent !== null;",
        vec![],
    )
    .await;
    bo.click("#copy-link").await;
    bo.wait_js(
        "the link copied",
        "return document.querySelector('#copy-link')?.textContent === 'Copied';",
        vec![],
    )
    .await;
    assert_eq!(
        bo.js(OVERFLOWS, vec![]).await,
        json!([]),
        "nothing reaches off the side"
    );
    bo.js("window.scrollTo(0, 0); return true;", vec![]).await;
    bo.screenshot("share-phone.png").await;
    // Escape folds the menu and gives the focus back to its button.
    bo.press(&[ESCAPE]).await;
    bo.wait_js(
        "the share menu folded by Escape",
        "return document.querySelector('#share-toggle').getAttribute('aria-expanded') === 'false'
             && document.querySelector('#copy-link').offsetParent === null
             && document.activeElement?.id === 'share-toggle';",
        vec![],
    )
    .await;
    // So does a press anywhere else.
    bo.click("#share-toggle").await;
    bo.wait_js(
        "the share menu open again",
        "return document.querySelector('#copy-link').offsetParent !== null;",
        vec![],
    )
    .await;
    bo.click(".board-title").await;
    bo.wait_js(
        "the share menu folded by a press elsewhere",
        "return document.querySelector('#copy-link').offsetParent === null;",
        vec![],
    )
    .await;
    bo.js(
        "document.activeElement?.blur(); window.scrollTo(0, 0); return true;",
        vec![],
    )
    .await;
    bo.screenshot("list-view-phone.png").await;
    meeting.end().await;
}
