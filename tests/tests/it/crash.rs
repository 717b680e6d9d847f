//! Durability against the real `hindsight` binary: whatever another client has seen
//! survives `kill -9`, because the server flushes to sled before it broadcasts.

use hindsight_shared::{NewNote, NoteColor, NoteId};
use hindsight_tests::binary::spawn;
use hindsight_tests::fixtures::{id, rect_of};
use hindsight_tests::{create_board, eventually, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_client_has_seen_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = spawn(dir.path(), &["--data-dir", data]).await;
    let addr = server.addr;
    let board = create_board(addr).await;
    let ws = format!("ws://{addr}/ws");
    let writer = YClient::connect(&ws, &board).await;
    let watcher = YClient::connect(&ws, &board).await;

    let rect = rect_of("quick-fix");
    let ids: Vec<NoteId> = (0..25).map(|i| id(&format!("n{i}"))).collect();
    for (i, id) in ids.iter().enumerate() {
        // Five to a row across Quick fix, in the order written.
        let (x, y) = (
            rect.x + (i % 5) as f64 * 110.0,
            rect.y + (i / 5) as f64 * 150.0,
        );
        let note = NewNote::at(x, y, format!("workaround {i}"))
            .color(NoteColor::Orange)
            .created_at(i as f64);
        writer.edit(|b, txn| b.add_note(txn, id, note));
    }
    watcher
        .wait_until("the watcher sees every note", |b, txn| {
            b.note_count(txn) == 25
        })
        .await;
    // No clean shutdown: SIGKILL the moment the watcher has seen everything.
    server.child.kill().await.unwrap();
    drop((writer, watcher));

    let restarted = spawn(dir.path(), &["--data-dir", data]).await;
    let addr = restarted.addr;
    let reader = eventually("the restarted server to accept", || async {
        tokio::net::TcpStream::connect(addr).await.ok()
    })
    .await;
    drop(reader);
    let after = YClient::connect(&format!("ws://{addr}/ws"), &board).await;
    after
        .wait_until("every note after kill -9", |b, txn| {
            ids.iter().enumerate().all(|(i, id)| {
                b.note(txn, id)
                    .is_some_and(|n| n.text == format!("workaround {i}"))
            })
        })
        .await;
}

/// SIGTERM (what systemd and Docker send) stops the server cleanly: connected clients are
/// told "going away" (1001, so they reconnect), the process exits 0, and what they wrote
/// is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_says_going_away_exits_cleanly_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = spawn(dir.path(), &["--data-dir", data]).await;
    let board = create_board(server.addr).await;
    let client = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;
    client.track_saves();
    let id = id("before-term");
    let note = NewNote::at(10.0, 10.0, "written before SIGTERM")
        .color(NoteColor::Blue)
        .created_at(1.0);
    client.edit(|b, txn| b.add_note(txn, &id, note));
    client.wait_saved(client.sent_changes()).await;

    let pid = server.child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let closed = client.wait_closed().await;
    assert_eq!(
        closed.code,
        Some(hindsight_shared::close::GOING_AWAY),
        "{closed:?}"
    );
    let exit = tokio::time::timeout(hindsight_tests::DEADLINE, server.child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap();
    assert!(
        exit.success(),
        "exit status {exit}; log:\n{}",
        server.log.lock().unwrap()
    );

    let restarted = spawn(dir.path(), &["--data-dir", data]).await;
    let after = YClient::connect(&format!("ws://{}/ws", restarted.addr), &board).await;
    let text = after
        .notes()
        .into_iter()
        .find(|n| n.id == id)
        .map(|n| n.text);
    assert_eq!(text.as_deref(), Some("written before SIGTERM"));
}

/// A few cycles of random SIGKILLs with compaction after every update (the xtask runs
/// many: `cargo xtask crash --cycles N`). The seed is printed for replaying a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_kills_lose_nothing_seen_or_acknowledged() {
    let plan = hindsight_tests::chaos::Plan::new(3, hindsight_tests::chaos::fresh_seed());
    println!("seed {}", plan.seed);
    let report = hindsight_tests::chaos::run(&plan).await;
    println!("{report:?}");
    assert_eq!(report.cycles, 3);
    assert!(
        report.required > 0,
        "the kills came after something was seen"
    );
}
