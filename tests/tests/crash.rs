//! Durability against the real `hindsight` binary: whatever another client has seen
//! survives `kill -9`, because the server flushes to sled before it broadcasts.

use std::path::PathBuf;
use std::process::Stdio;

use hindsight_shared::region::RegionId;
use hindsight_shared::{NewNote, NoteColor, NoteId};
use hindsight_tests::{eventually, http, YClient};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The server binary: `HINDSIGHT_BIN` (set by `cargo xtask test`) or the debug build
/// beside this test's own executable.
fn server_binary() -> PathBuf {
    let path = std::env::var_os("HINDSIGHT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("hindsight")
        });
    assert!(
        path.exists(),
        "server binary {} not found; run `cargo build -p hindsight-server` or `cargo xtask test`",
        path.display()
    );
    path
}

/// Starts the binary on a free port and returns it with its address.
async fn spawn_server(data_dir: &std::path::Path) -> (Child, std::net::SocketAddr) {
    let mut child = Command::new(server_binary())
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start hindsight");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(hindsight_tests::DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Hindsight is running at http://") {
                return url
                    .trim_end_matches('/')
                    .parse()
                    .expect("address in banner");
            }
        }
        panic!("server exited before printing its address");
    })
    .await
    .expect("server banner");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_client_has_seen_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = spawn_server(dir.path()).await;
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
    server.kill().await.unwrap();
    drop((writer, watcher));

    let (_server, addr) = spawn_server(dir.path()).await;
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
