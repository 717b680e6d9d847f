//! A board that holds a real incident, in Chromium: a long timeline laid out on its time
//! axis inside its region, regions that grow to their notes and push what lies below,
//! and a top bar that fits the window.

use hindsight_shared::NewNote;
use hindsight_tests::browser::{two_people, Meeting, Session, TEXT_OF};
use hindsight_tests::fixtures::{id, rect_of};
use hindsight_tests::node::peer;
use hindsight_tests::{eventually, YClient};
use serde_json::{json, Value};

/// Every region's and every note's rectangle in board coordinates (the world's own
/// pixels, whatever the camera), read from the styles the page draws them with:
/// `{regions: {key: [x, y, w, h]}, notes: {id: [x, y, w, h, region]}}`. A note someone is
/// editing or dragging keeps its box and is drawn moved by its `translate`, so that is
/// part of where it is.
const RECTS: &str = "
    const px = (v) => parseFloat(v) || 0;
    const shift = (n) => {
        const [x, y] = (n.style.translate || '0px 0px').split(' ');
        return [px(x), px(y ?? '0')];
    };
    const regions = {};
    for (const r of document.querySelectorAll('.region')) {
        regions[r.dataset.region] = [px(r.style.left), px(r.style.top), px(r.style.width), px(r.style.height)];
    }
    const notes = {};
    for (const n of document.querySelectorAll('.note')) {
        const [dx, dy] = shift(n);
        notes[n.dataset.noteId] = [px(n.style.left) + dx, px(n.style.top) + dy, px(n.style.width), px(n.style.height), n.dataset.region];
    }
    return {regions, notes};";

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn of(v: &Value) -> Rect {
        let n = |i: usize| v[i].as_f64().expect("a number");
        Rect {
            x: n(0),
            y: n(1),
            w: n(2),
            h: n(3),
        }
    }

    fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    fn inside(&self, o: &Rect) -> bool {
        self.x >= o.x
            && self.y >= o.y
            && self.x + self.w <= o.x + o.w
            && self.y + self.h <= o.y + o.h
    }
}

/// Regions and notes as one page draws them: `(regions, notes with their region)`.
async fn rects(session: &Session) -> (Vec<(String, Rect)>, Vec<(String, Rect, String)>) {
    let v = session.js(RECTS, vec![]).await;
    let regions = v["regions"]
        .as_object()
        .expect("regions")
        .iter()
        .map(|(k, r)| (k.clone(), Rect::of(r)))
        .collect();
    let notes = v["notes"]
        .as_object()
        .expect("notes")
        .iter()
        .map(|(k, n)| {
            let region = n[4].as_str().unwrap_or_default().to_owned();
            (k.clone(), Rect::of(n), region)
        })
        .collect();
    (regions, notes)
}

/// No note overlaps a region other than its own or another note, and every note lies
/// inside its region.
fn assert_laid_out(regions: &[(String, Rect)], notes: &[(String, Rect, String)]) {
    for (id, rect, region) in notes {
        let (_, own) = regions
            .iter()
            .find(|(k, _)| k == region)
            .unwrap_or_else(|| panic!("note {id} is in no region ({region:?})"));
        assert!(
            rect.inside(own),
            "note {id} {rect:?} is outside {region} {own:?}"
        );
        for (key, other) in regions.iter().filter(|(k, _)| k != region) {
            assert!(
                !rect.overlaps(other),
                "note {id} in {region} lies over {key}"
            );
        }
    }
    for (i, (a, ra, _)) in notes.iter().enumerate() {
        for (b, rb, _) in &notes[i + 1..] {
            assert!(!ra.overlaps(rb), "notes {a} and {b} overlap");
        }
    }
    for (i, (a, ra)) in regions.iter().enumerate() {
        for (b, rb) in &regions[i + 1..] {
            assert!(!ra.overlaps(rb), "regions {a} and {b} overlap");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_of_120_entries_runs_along_its_axis_inside_its_region() {
    let (meeting, ada) = Meeting::start("Ada").await;
    let board = meeting.board();
    // A stock Yjs client writes the incident log, every entry at one stored spot.
    peer(
        &meeting.server().ws_base(),
        &board.id,
        &board.edit_token,
        &["timeline", "e", "120"],
    )
    .await;
    ada.wait_js(
        "all 120 entries on Ada's page",
        "return document.querySelectorAll('.note[data-role=\"timeline\"]').length === 120;",
        vec![],
    )
    .await;
    ada.click("#fit").await;
    let (regions, notes) = rects(&ada).await;
    assert_eq!(notes.len(), 120);
    assert_laid_out(&regions, &notes);
    // The timeline grew to hold them; the regions below moved down with it.
    let timeline = regions.iter().find(|(k, _)| k == "timeline").unwrap().1;
    assert!(
        timeline.w > 2360.0,
        "the timeline grows to the right: {timeline:?}"
    );
    // Entries read left to right in time: lanes by kind, a label per lane.
    let lanes = ada
        .js(
            "return [...document.querySelectorAll('.lane-label')].map(l => l.dataset.lane);",
            vec![],
        )
        .await;
    assert_eq!(
        lanes,
        json!([
            "reported",
            "detected",
            "action",
            "communication",
            "resolved",
            "other"
        ])
    );
    let gaps = ada
        .js(
            "return document.querySelectorAll('.axis .gap').length;",
            vec![],
        )
        .await;
    assert!(
        gaps.as_u64() >= Some(4),
        "each hour's pause is squeezed and marked: {gaps}"
    );
    ada.click(".region[data-region=\"timeline\"] .region-title")
        .await;
    ada.screenshot("timeline-120.png").await;
    ada.close().await;
    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_notes_in_detect_grow_it_and_both_pages_agree() {
    let (meeting, ada, bo) = two_people().await;
    // Bo has notes in React and Next Steps before Detect fills up.
    let react = bo.add_note("react", "Runbook link in the alert").await;
    let action = bo.add_note("actions", "Add a canary stage").await;
    // Ada adds forty notes to Detect with its add button, far more than fit in it.
    ada.js(
        "const add = document.querySelector('.region[data-region=\"detect\"] .region-add');
         for (let i = 0; i < 40; i++) add.click();",
        vec![],
    )
    .await;
    for (who, page) in [("Ada", &ada), ("Bo", &bo)] {
        page.click("#fit").await;
        page.wait_js(
            &format!("42 notes on {who}'s page"),
            "return document.querySelectorAll('.note').length === 42;",
            vec![],
        )
        .await;
    }
    let (regions, notes) = rects(&ada).await;
    assert_laid_out(&regions, &notes);
    let rect = |key: &str| regions.iter().find(|(k, _)| k == key).unwrap().1;
    assert!(
        rect("detect").h > 900.0,
        "Detect grew: {:?}",
        rect("detect")
    );
    assert!(rect("actions").y >= rect("detect").y + rect("detect").h);
    let note = |id: &str| notes.iter().find(|(n, ..)| n == id).unwrap().1;
    assert!(
        note(&action).inside(&rect("actions")),
        "the action moved down with its region"
    );
    assert!(note(&react).inside(&rect("react")));
    // Both pages derive the same layout from the same notes.
    eventually("Bo's page draws what Ada's draws", || async {
        (rects(&bo).await == (regions.clone(), notes.clone())).then_some(())
    })
    .await;
    ada.screenshot("detect-40.png").await;
    bo.close().await;
    ada.close().await;
    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_top_bar_fits_the_window_with_the_actions_warning_showing() {
    let (meeting, ada) = Meeting::start("Ada").await;
    // An action with neither owner nor date, so the facts bar warns about it.
    let client = YClient::connect(&meeting.server().ws_base(), &meeting.board()).await;
    let actions = rect_of("actions");
    client.edit(|board, txn| {
        board.add_note(
            txn,
            &id("undecided"),
            NewNote::at(
                actions.x + 40.0,
                actions.y + 200.0,
                "Page the database team sooner",
            ),
        )
    });
    // Others on the board: their names take room in the top bar too.
    let bo = YClient::connect(&meeting.server().ws_base(), &meeting.board()).await;
    bo.announce(r##"{"user":{"name":"Bo Lindqvist","color":"#0891b2"}}"##);
    client.announce(r##"{"user":{"name":"Chidi Okafor","color":"#ca8a04"}}"##);
    ada.wait_js(
        "the others in the participants list",
        "return document.querySelectorAll('.participants li').length >= 3;",
        vec![],
    )
    .await;
    ada.wait_js(
        "the warning about the action",
        "return /still needs? an owner or a date/.test(document.querySelector('.factsbar')?.textContent ?? '');",
        vec![],
    )
    .await;
    for (w, h) in [(1024, 768), (1440, 900), (1920, 1080)] {
        ada.client
            .set_window_size(w, h)
            .await
            .expect("resize the window");
        let overflow = ada
            .wait_js(
                &format!("the page laid out at {w}×{h}"),
                "return window.innerWidth <= arguments[0] ? [...document.querySelectorAll('.topbar, .factsbar, .topbar-right, body')]
                     .map(e => ({ what: e.className || e.tagName, scroll: e.scrollWidth, client: e.clientWidth })) : null;",
                vec![json!(w)],
            )
            .await;
        for part in overflow.as_array().expect("parts") {
            assert!(
                part["scroll"].as_f64() <= part["client"].as_f64(),
                "{} overflows at {w}×{h}: {part}",
                part["what"]
            );
        }
        // Nothing sticks out of the window, and no control is squeezed out of sight:
        // the participants list shows at least the first person whole.
        let squeezed = ada
            .js(
                "const out = [...document.querySelectorAll('.topbar > *, .topbar-right > *, .factsbar > *')]
                     .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                     .map(e => e.className || e.id || e.tagName);
                 const list = document.querySelector('.participants');
                 const first = list?.querySelector('li');
                 if (first && list.clientWidth + 0.5 < first.getBoundingClientRect().width) out.push('participants');
                 return out;",
                vec![],
            )
            .await;
        assert_eq!(squeezed, json!([]), "cut off at {w}×{h}");
        // At Fit, the open facilitator panel covers no region.
        ada.click("#fit").await;
        let covered = ada
            .js(
                "const p = document.getElementById('facilitator-panel').getBoundingClientRect();
                 return [...document.querySelectorAll('.region')].filter(r => {
                     const b = r.getBoundingClientRect();
                     return b.left < p.right && p.left < b.right && b.top < p.bottom && p.top < b.bottom;
                 }).map(r => r.dataset.region);",
                vec![],
            )
            .await;
        assert_eq!(covered, json!([]), "the panel covers regions at {w}×{h}");
        ada.screenshot(&format!("topbar-{w}.png")).await;
    }
    // On a small screen Fit shows the current region (here the one at the centre of the
    // view) at a readable size, not the whole board.
    ada.client
        .set_window_size(600, 900)
        .await
        .expect("resize the window");
    ada.wait_js(
        "the small window",
        "return window.innerWidth <= 600;",
        vec![],
    )
    .await;
    ada.click("#fit").await;
    ada.wait_js(
        "Fit to show one region readably",
        "const zoom = parseFloat(document.querySelector('.zoom-level')?.textContent ?? '0') / 100;
         const v = document.querySelector('.viewport').getBoundingClientRect();
         return zoom >= 0.8 && [...document.querySelectorAll('.region')].some(e => {
             const r = e.getBoundingClientRect();
             return r.left >= v.left && r.top >= v.top && r.left < v.right && r.top < v.bottom;
         });",
        vec![],
    )
    .await;
    client.close();
    ada.close().await;
    meeting.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_incident_log_is_previewed_then_added_in_one_undo_step() {
    let (meeting, ada, bo) = two_people().await;
    ada.click("#import-timeline").await;
    let log = "2026-11-20 14:03 Alert fired on checkout latency\n\
               2026-11-20 14:05 Paged on-call\n\
               this line has no time\n\
               2026-11-20 14:20 Rolled back deploy 4411\n\
               2026-11-20 14:31 Resolved: error rate back to normal";
    // A paste into the dialog's field (focused when it opens).
    ada.wait_js(
        "the dialog's field has the focus",
        "return document.activeElement?.id === 'timeline-paste';",
        vec![],
    )
    .await;
    ada.js(
        "const field = document.getElementById('timeline-paste');
         field.value = arguments[0];
         field.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![json!(log)],
    )
    .await;
    let preview = ada
        .wait_js(
            "the preview of four entries and one unreadable line",
            "const rows = [...document.querySelectorAll('.paste-preview tbody tr')];
             const unread = document.querySelector('.paste-unread')?.textContent ?? '';
             return rows.length === 4 && unread.includes('Line 3')
                 ? rows.map(r => [r.dataset.line, r.querySelector('.paste-kind').textContent]) : null;",
            vec![],
        )
        .await;
    assert_eq!(
        preview[0],
        json!(["1", "Detected"]),
        "kinds are guessed: {preview}"
    );
    assert_eq!(preview[3], json!(["5", "Resolved"]));
    // Ada unticks the page, and adds the other three.
    ada.click(".paste-preview tr[data-line=\"2\"] input[type=checkbox]")
        .await;
    ada.wait_js(
        "the button counts three",
        "return document.getElementById('timeline-import').textContent.trim() === 'Add 3 entries';",
        vec![],
    )
    .await;
    ada.screenshot("timeline-import.png").await;
    ada.click("#timeline-import").await;
    let texts = format!(
        "return [...document.querySelectorAll('.note[data-role=\"timeline\"]')].map({TEXT_OF}).sort();"
    );
    let added = bo
        .wait_js(
            "the three entries on Bo's page",
            &format!("const t = (() => {{ {texts} }})(); return t.length === 3 ? t : null;"),
            vec![],
        )
        .await;
    assert_eq!(
        added,
        json!([
            "Alert fired on checkout latency",
            "Resolved: error rate back to normal",
            "Rolled back deploy 4411"
        ])
    );
    // One step undoes the whole import, for everyone.
    ada.click("#undo").await;
    bo.wait_js(
        "the import undone on Bo's page",
        "return document.querySelectorAll('.note[data-role=\"timeline\"]').length === 0;",
        vec![],
    )
    .await;
    bo.close().await;
    ada.close().await;
    meeting.end().await;
}
