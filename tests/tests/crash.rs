//! Durability against the real `hindsight` binary: whatever another client has seen
//! survives `kill -9`, because the server flushes to sled before it broadcasts.

use hindsight_shared::region::RegionId;
use hindsight_shared::{NewNote, NoteColor, NoteId};
use hindsight_tests::binary::spawn;
use hindsight_tests::{eventually, http, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_client_has_seen_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut server = spawn(dir.path(), &["--data-dir", data]).await;
    let addr = server.addr;
    let (status, body) = http(addr, "POST", "/api/boards", "").await;
    assert_eq!(status, 201);
    let board = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ws = format!("ws://{addr}/ws");
    let writer = YClient::connect(&ws, &board).await;
    let watcher = YClient::connect(&ws, &board).await;

    let rect = RegionId::QuickFix.region().rect;
    let ids: Vec<NoteId> = (0..25).map(|i| format!("n{i}").parse().unwrap()).collect();
    for (i, id) in ids.iter().enumerate() {
        writer.edit(|b, txn| {
            b.add_note(
                txn,
                id,
                NewNote {
                    x: rect.x + (i % 5) as f64 * 110.0,
                    y: rect.y + (i / 5) as f64 * 150.0,
                    text: format!("workaround {i}"),
                    color: NoteColor::Orange,
                    created_at: i as f64,
                    author: None,
                },
            )
        });
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
