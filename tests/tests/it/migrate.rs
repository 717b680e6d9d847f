//! Moving from the embedded store to PostgreSQL: `hindsight migrate` copies every board
//! of a data directory (documents, links, kept versions) into a real PostgreSQL
//! (`support/postgres.rs`) and checks the copy, and the same links then open the same
//! boards on a server running on the database.

use std::ffi::OsStr;

use hindsight_tests::binary::{run as hindsight, spawn};
use hindsight_tests::fixtures::{id, note_in};
use hindsight_tests::postgres::database;
use hindsight_tests::{create_board, YClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_directory_moves_to_postgres_with_its_links_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A version is kept before every burst of work a second apart.
    let mut server = spawn(
        dir.path(),
        &["--data-dir", "data", "--history-every-secs", "1"],
    )
    .await;
    let ws = format!("ws://{}/ws", server.addr);
    let boards = [
        create_board(server.addr).await,
        create_board(server.addr).await,
    ];
    for (n, board) in boards.iter().enumerate() {
        let client = YClient::connect(&ws, board).await;
        client.track_saves();
        for burst in 0..2 {
            client.edit(|b, txn| {
                let note = note_in("detect", format!("board {n}, burst {burst}"));
                b.add_note(txn, &id(&format!("b{n}n{burst}")), note);
            });
            client.wait_saved(client.sent_changes()).await;
            tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        }
    }
    server.child.kill().await.unwrap();

    let url = database();
    let migrate = |force: bool| {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("migrate"),
            OsStr::new("--from-data-dir"),
            data.as_os_str(),
            OsStr::new("--to-database"),
            OsStr::new(&url),
        ];
        if force {
            args.push(OsStr::new("--force"));
        }
        async move { hindsight(&args).await }
    };
    let done = migrate(false).await;
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(said.contains("copied 2 board(s)"), "{said}");
    assert!(said.contains("every board read back the same"), "{said}");
    let versions: usize = said
        .split(" and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        versions >= 2,
        "each board kept a version before its work: {said}"
    );

    // Into a database that holds boards only with --force, which replaces them.
    let again = migrate(false).await;
    assert!(!again.status.success());
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(refused.contains("already holds 2 boards"), "{refused}");
    assert!(refused.contains("--force"), "{refused}");
    assert!(migrate(true).await.status.success());

    // The same links open the same boards on a server on the database, history too.
    let server = spawn(dir.path(), &["--database", &url]).await;
    let ws = format!("ws://{}/ws", server.addr);
    for (n, board) in boards.iter().enumerate() {
        let client = YClient::connect(&ws, board).await;
        let mut texts: Vec<String> = client.notes().into_iter().map(|n| n.text).collect();
        texts.sort();
        assert_eq!(
            texts,
            [format!("board {n}, burst 0"), format!("board {n}, burst 1")]
        );
    }
    let listed = hindsight(&[
        OsStr::new("boards"),
        OsStr::new("list"),
        OsStr::new("--database"),
        OsStr::new(&url),
    ])
    .await;
    let listed = String::from_utf8_lossy(&listed.stdout);
    for board in &boards {
        assert!(listed.contains(&board.id.to_string()), "{listed}");
    }
}
