//! Boards made from templates through the public API: every built-in, a custom template
//! document, the refusals that name the wrong field, and a backup that keeps its layout.
//! A stock Yjs client reads a new board's regions from the document alone.

use std::time::Duration;

use hindsight_shared::template::builtins;
use hindsight_shared::{NewNote, Role, Template};
use hindsight_tests::fixtures::id;
use hindsight_tests::node::peer;
use hindsight_tests::{http, markdown_export, TestBoard, TestServer, YClient};
use serde_json::{json, Value};

/// The error a refused creation answers, asserting it was a 400.
async fn refused(server: &TestServer, body: &Value) -> String {
    let (status, answer) = http(server.addr(), "POST", "/api/boards", &body.to_string()).await;
    assert_eq!(status, 400, "{answer}");
    let json: Value = serde_json::from_str(&answer).unwrap();
    json["error"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_built_in_template_makes_a_board_carrying_its_regions() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    for template in builtins() {
        let board = server
            .create_board_with(&json!({ "template": template.key }))
            .await;
        let client = YClient::connect(&server.ws_base(), &board).await;
        let stored = client.edit(|b, txn| b.template(txn));
        assert_eq!(&stored, template, "{}", template.key);
        client.close();
    }
    // No template at all: the postmortem.
    let board = server
        .create_board_with(&json!({ "title": "Outage" }))
        .await;
    let client = YClient::connect(&server.ws_base(), &board).await;
    assert_eq!(client.edit(|b, txn| b.template(txn).key), "postmortem");
    client.close();
    server.stop().await;
}

/// A template of the kind "Save as template" writes, changed as a team would change it.
fn custom() -> Value {
    let mut t: Value =
        serde_json::from_str(&Template::builtin("start-stop-continue").unwrap().to_json()).unwrap();
    t["key"] = "team-retro".into();
    t["title"] = "Team retro".into();
    t["regions"][0]["title"] = "Try".into();
    t["regions"][0]["question"] = "What should we try next sprint?".into();
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_template_document_makes_a_board_and_survives_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server
        .create_board_with(&json!({ "title": "Sprint 9", "template": custom() }))
        .await;
    let client = YClient::connect(&server.ws_base(), &board).await;
    client.track_saves();
    let template = client.edit(|b, txn| b.template(txn));
    assert_eq!(template.key, "team-retro");
    assert_eq!(template.regions[0].title, "Try");
    let actions = template.with_role(Role::Actions).unwrap().rect;
    client.edit(|b, txn| {
        b.add_note(
            txn,
            &id("act"),
            NewNote::at(
                actions.x + 20.0,
                actions.y + 100.0,
                "Pair on the flaky test",
            ),
        );
        b.set_owner(txn, &id("act"), "Ada");
    });
    client.wait_saved(client.sent_changes()).await;

    let (status, backup) = http(
        server.addr(),
        "GET",
        &format!("/api/boards/{board}/export.json{}", board.read_query()),
        "",
    )
    .await;
    assert_eq!(status, 200, "{backup}");
    let (status, answer) = http(server.addr(), "POST", "/api/boards/import", &backup).await;
    assert_eq!(status, 201, "{answer}");
    let copy = TestBoard::from_answer(&answer);
    let restored = YClient::connect(&server.ws_base(), &copy).await;
    assert_eq!(restored.edit(|b, txn| b.template(txn)), template);
    let note = restored.edit(|b, txn| b.note(txn, &id("act"))).unwrap();
    assert_eq!(note.role, Some(Role::Actions));

    // The Markdown follows the custom regions.
    let md = markdown_export(server.addr(), &copy).await;
    let headings: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(headings, ["Try", "Stop", "Continue", "Actions"], "{md}");
    assert!(md.contains("| Pair on the flaky test | Ada |"), "{md}");
    client.close();
    restored.close();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_templates_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;

    let mut overlapping = custom();
    overlapping["regions"][1]["rect"] = overlapping["regions"][0]["rect"].clone();
    let e = refused(&server, &json!({ "template": overlapping })).await;
    assert_eq!(e, "template.regions[1].rect: overlaps regions[0]");

    let mut crowded = custom();
    let one = crowded["regions"][0].clone();
    crowded["regions"] = (0..25)
        .map(|i| {
            let mut r = one.clone();
            r["key"] = format!("r{i}").into();
            r["step"] = (i + 1).into();
            r["rect"] = json!({ "x": (i % 5) * 400, "y": (i / 5) * 400, "w": 360, "h": 360 });
            r
        })
        .collect::<Vec<_>>()
        .into();
    let e = refused(&server, &json!({ "template": crowded })).await;
    assert!(e.starts_with("template.regions: 25 regions"), "{e}");

    let mut untitled = custom();
    untitled.as_object_mut().unwrap().remove("title");
    let e = refused(&server, &json!({ "template": untitled })).await;
    assert!(e.starts_with("template: missing field `title`"), "{e}");

    let mut unknown_role = custom();
    unknown_role["regions"][2]["role"] = "boss".into();
    let e = refused(&server, &json!({ "template": unknown_role })).await;
    assert!(
        e.starts_with("template.regions[2].role: unknown variant `boss`"),
        "{e}"
    );

    let e = refused(&server, &json!({ "template": "nope" })).await;
    assert!(
        e.starts_with("template: no built-in template \"nope\""),
        "{e}"
    );
    let e = refused(&server, &json!({ "template": 7 })).await;
    assert!(e.starts_with("template:"), "{e}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_yjs_peer_reads_the_regions_from_the_document_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let board = server
        .create_board_with(&json!({ "template": "what-so-what-now-what" }))
        .await;
    let timeout = Duration::from_secs(15).as_millis().to_string();
    let out = peer(
        &server.ws_base(),
        &board.id,
        &board.read_token,
        &["layout", "-", &timeout],
    )
    .await;
    let seen: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("the peer printed {out:?}, not one JSON layout: {e}"));
    assert_eq!(seen["template"]["key"], "what-so-what-now-what");
    let expected = Template::builtin("what-so-what-now-what").unwrap();
    let regions = seen["regions"].as_array().unwrap();
    assert_eq!(regions.len(), expected.regions.len());
    for (got, want) in regions.iter().zip(&expected.regions) {
        assert_eq!(got["key"], want.key.as_str());
        assert_eq!(got["title"], want.title.as_str());
        assert_eq!(got["question"], want.question.as_str());
        assert_eq!(got["x"].as_f64(), Some(want.rect.x));
        assert_eq!(got["w"].as_f64(), Some(want.rect.w));
        assert_eq!(got["step"].as_f64(), Some(f64::from(want.step)));
        assert_eq!(got["role"].as_str(), want.role.map(|r| r.as_str()));
    }
    server.stop().await;
}
