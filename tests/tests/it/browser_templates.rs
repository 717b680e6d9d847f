//! Boards from templates in real browsers: a What? So What? Now What? board made from the
//! start page and run through its three phases and actions by two people, and every
//! built-in template's empty board, photographed for people to look at.

use hindsight_shared::template::builtins;
use hindsight_tests::browser::{Driver, Meeting};
use hindsight_tests::{markdown_export, TestBoard, TestServer};
use serde_json::{json, Value};

const PHASES: [&str; 4] = ["what", "so-what", "now-what", "actions"];

/// The regions the page draws, in order, by key.
const REGIONS: &str =
    "return [...document.querySelectorAll('.region')].map(r => r.dataset.region);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_what_so_what_now_what_board_runs_from_the_start_page_to_its_export() {
    let (meeting, ada) = Meeting::start_from(
        "Ada",
        ".template-card[data-template=\"what-so-what-now-what\"]",
    )
    .await;
    let board = meeting.board();
    ada.wait_js(
        "the three phases and actions",
        &format!("return (() => {{ {REGIONS} }})().join() === arguments[0].join();"),
        vec![json!(PHASES)],
    )
    .await;
    // Nothing of the postmortem: no incident facts, no timeline.
    let facts = ada
        .js(
            "const f = document.querySelector('#fact-severity');
             return f ? getComputedStyle(f).display !== 'none' && f.offsetParent !== null : false;",
            vec![],
        )
        .await;
    assert_eq!(facts, Value::Bool(false), "incident facts are not shown");

    let texts = [
        "The deploy took 40 minutes",
        "Nobody owned the pipeline",
        "Split the pipeline by service",
        "Write the pipeline owner's runbook",
    ];
    let mut ids = Vec::new();
    for (phase, text) in PHASES.iter().zip(texts) {
        ids.push(ada.add_note(phase, text).await);
    }
    let action = format!(".note[data-note-id=\"{}\"]", ids[3]);
    ada.wait_js(
        "the action's owner and date fields",
        "return !!document.querySelector(arguments[0] + ' input.note-owner');",
        vec![json!(action)],
    )
    .await;
    ada.type_into(&format!("{action} input.note-owner"), "Ada")
        .await;
    ada.set_field(&format!("{action} input.note-due"), "2026-12-18")
        .await;

    // The facilitator walks the board: three phases, then the actions.
    for step in 1..=4 {
        ada.click(&format!("#facilitator-panel .step[data-step=\"{step}\"]"))
            .await;
        let current = PHASES[step - 1];
        ada.wait_js(
            &format!("step {step} to highlight {current}"),
            "const r = document.querySelector(`.region[data-region=\"${arguments[0]}\"]`);
             const banner = document.querySelector('#step-banner')?.textContent ?? '';
             return r?.classList.contains('current-step') && banner.includes(`Step ${arguments[1]} of 4`);",
            vec![json!(current), json!(step)],
        )
        .await;
    }
    let steps = ada
        .js(
            "return document.querySelectorAll('#facilitator-panel .step').length;",
            vec![],
        )
        .await;
    assert_eq!(steps, json!(4));
    ada.screenshot("templates-what-so-what-now-what-in-use.png")
        .await;

    // Bo sees the same regions and what Ada wrote.
    let bo = meeting.join("Bo").await;
    let regions = bo
        .wait_js(
            "Bo to draw the board's regions",
            "const r = [...document.querySelectorAll('.region')].map(r => r.dataset.region);
             return r.length ? r : null;",
            vec![],
        )
        .await;
    assert_eq!(regions, json!(PHASES));
    for (id, text) in ids.iter().zip(texts) {
        bo.wait_for_note_text("Bo", id, text).await;
    }
    bo.wait_js(
        "Bo to see the action's owner",
        "return document.querySelector(arguments[0] + ' input.note-owner')?.value === 'Ada';",
        vec![json!(action)],
    )
    .await;

    // The Markdown export follows the three phases, then the actions.
    let md = eventually_markdown(meeting.server(), &board, "2026-12-18").await;
    let headings: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(
        headings,
        ["What?", "So What?", "Now What?", "Actions"],
        "{md}"
    );
    for text in &texts[..3] {
        assert!(md.contains(&format!("- {text}")), "{md}");
    }
    assert!(
        md.contains("| Write the pipeline owner's runbook | Ada | 2026-12-18 |"),
        "{md}"
    );
    bo.close().await;
    ada.close().await;
    meeting.end().await;
}

/// On a Kanban board: a column's limit changed on the board holds, and a column over
/// its limit is marked.
async fn limit_is_edited_and_crossing_it_shows(session: &hindsight_tests::browser::Session) {
    session
        .set_field(".region[data-region=\"review\"] .wip-limit", "1")
        .await;
    session.add_note("review", "Card one").await;
    session.add_note("review", "Card two").await;
    session
        .wait_js(
            "the review column to be over its limit",
            "const r = document.querySelector('.region[data-region=\"review\"]');
             return r.classList.contains('over-limit')
                 && r.querySelector('.wip-count').textContent === '2'
                 && r.querySelector('.wip').classList.contains('over');",
            vec![],
        )
        .await;
    session.screenshot("templates/kanban-over-limit.png").await;
}

/// The board's Markdown once it holds `expected` (writes reach the server shortly after
/// the page shows them).
async fn eventually_markdown(server: &TestServer, board: &TestBoard, expected: &str) -> String {
    for _ in 0..100 {
        let md = markdown_export(server.addr(), board).await;
        if md.contains(expected) {
            return md;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the export never showed {expected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_built_in_template_draws_its_empty_board() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let driver = Driver::start().await;
    let session = driver.session().await;
    session.goto(&format!("{}/", server.http_base())).await;
    let cards = session
        .wait_js(
            "the start page's templates",
            "const c = [...document.querySelectorAll('.template-card')].map(c => c.dataset.template);
             return c.length ? c : null;",
            vec![],
        )
        .await;
    let offered: Vec<&str> = builtins().iter().skip(1).map(|t| t.key.as_str()).collect();
    assert_eq!(cards, json!(offered));
    session.screenshot("templates/start-page.png").await;

    let mut named = false;
    for template in builtins() {
        let board = server
            .create_board_with(&json!({ "template": template.key }))
            .await;
        session.goto(&server.page(&board)).await;
        if !named {
            session.join_as("Ada").await;
            named = true;
        }
        let expected: Vec<&str> = template.regions.iter().map(|r| r.key.as_str()).collect();
        session
            .wait_js(
                &format!("the {} regions", template.key),
                "const r = [...document.querySelectorAll('.region')].map(r => r.dataset.region);
                 return r.join() === arguments[0].join()
                     && document.querySelector('#connection')?.dataset.state === 'connected';",
                vec![json!(expected)],
            )
            .await;
        // Kanban columns show their count against the limit.
        if template.regions.iter().any(|r| r.wip_limit.is_some()) {
            let limits = session
                .js(
                    "return [...document.querySelectorAll('.region .wip-limit')].map(i => i.value);",
                    vec![],
                )
                .await;
            let want: Vec<String> = template
                .regions
                .iter()
                .map(|r| r.wip_limit.map(|l| l.to_string()).unwrap_or_default())
                .collect();
            assert_eq!(limits, json!(want), "{}", template.key);
        }
        session
            .screenshot(&format!("templates/{}.png", template.key))
            .await;
        if template.key == "kanban" {
            limit_is_edited_and_crossing_it_shows(&session).await;
        }
    }
    session.close().await;
    drop(driver);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_template_file_starts_a_new_board_from_the_start_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let driver = Driver::start().await;
    let session = driver.session().await;

    // "Save as template" on a Sailboat board offers its regions as a file.
    let board = server
        .create_board_with(&json!({ "template": "sailboat" }))
        .await;
    session.goto(&server.page(&board)).await;
    session.join_as("Ada").await;
    let saved = session
        .wait_js(
            "the template file behind Save as template",
            "const a = document.querySelector('#save-template');
             if (!a || !a.href.startsWith('data:')) return null;
             return [a.download, decodeURIComponent(a.href.slice(a.href.indexOf(',') + 1))];",
            vec![],
        )
        .await;
    assert_eq!(saved[0], "sailboat-template.json");
    let mut file: Value = serde_json::from_str(saved[1].as_str().unwrap()).unwrap();
    assert_eq!(file["regions"].as_array().unwrap().len(), 5);
    assert!(file.get("notes").is_none(), "a template carries no notes");

    // A team renames a region and starts its next board from the file.
    file["title"] = "Our sailboat".into();
    file["regions"][0]["title"] = "Tailwind".into();
    let path = dir.path().join("our-sailboat.json");
    std::fs::write(&path, file.to_string()).unwrap();
    session.goto(&format!("{}/", server.http_base())).await;
    session
        .type_into("#template-file", path.to_str().unwrap())
        .await;
    session
        .wait_js(
            "the board made from the file",
            "return location.pathname.startsWith('/b/')
                 && document.querySelector('.region[data-region=\"wind\"] h2')?.textContent === 'Tailwind';",
            vec![],
        )
        .await;

    // A broken file is refused on the start page, naming the field.
    file["regions"][1]["rect"] = file["regions"][0]["rect"].clone();
    std::fs::write(&path, file.to_string()).unwrap();
    session.goto(&format!("{}/", server.http_base())).await;
    session
        .type_into("#template-file", path.to_str().unwrap())
        .await;
    let said = session
        .wait_js(
            "the start page's error",
            "return document.querySelector('#start-error')?.textContent ?? null;",
            vec![],
        )
        .await;
    assert!(
        said.as_str()
            .unwrap()
            .contains("regions[1].rect: overlaps regions[0]"),
        "{said}"
    );
    session.close().await;
    drop(driver);
    server.stop().await;
}
