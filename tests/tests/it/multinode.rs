//! Several nodes, one board: real `hindsight` binaries on one PostgreSQL database
//! (`support/postgres.rs`), each with a data directory and port of its own, and clients
//! of one board spread over them. What one node stores reaches the clients of the others
//! through the database (LISTEN/NOTIFY, catch-up on conflicts and on a timer).

use std::sync::Arc;

use hindsight_server::store::testing::{Calls, Faulty};
use hindsight_server::PgStore;
use hindsight_shared::{close, NewNote};
use hindsight_tests::binary::{run, spawn, Spawned};
use hindsight_tests::fixtures::{id, presence, presence_at};
use hindsight_tests::node::peer;
use hindsight_tests::postgres::database;
use hindsight_tests::{create_board, eventually, TestBoard, TestServer, YClient, DEADLINE};
use serde_json::Value;

/// Notes written in all, spread over the clients.
const EDITS: usize = 1_000;
/// Clients writing, spread over the nodes in turn.
const WRITERS: usize = 6;

/// A node on the database at `url`, compacting often so that compactions by several
/// writers happen while they write.
async fn node(url: &str, dir: &tempfile::TempDir) -> Spawned {
    spawn(
        dir.path(),
        &[
            "--database",
            url,
            "--compact-every",
            "100",
            "--compact-growth-percent",
            "0",
        ],
    )
    .await
}

/// Two nodes ([`node`]) on the database at `url`, with the directories they run in.
async fn two_nodes(url: &str) -> ([tempfile::TempDir; 2], Spawned, Spawned) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let one = node(url, &dirs[0]).await;
    let two = node(url, &dirs[1]).await;
    (dirs, one, two)
}

fn ws(node: &Spawned) -> String {
    format!("ws://{}/ws", node.addr)
}

fn note_id(n: usize) -> String {
    format!("mn-{n:04}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_one_board_on_three_nodes_converge_and_a_stock_peer_reads_it_all() {
    let url = database();
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for dir in &dirs[..3] {
        nodes.push(node(&url, dir).await);
    }
    let board = create_board(nodes[0].addr).await;
    let mut clients = Vec::new();
    for i in 0..WRITERS {
        clients.push(YClient::connect(&ws(&nodes[i % nodes.len()]), &board).await);
    }

    // Every client sends its share at once, one message per note, so the nodes append
    // to the board side by side and take each other's sequence numbers.
    for (i, client) in clients.iter().enumerate() {
        client.track_saves();
        for n in (i..EDITS).step_by(WRITERS) {
            let text = format!("note {n} through node {}", i % nodes.len() + 1);
            client.edit(|b, txn| {
                b.add_note(
                    txn,
                    &id(&note_id(n)),
                    NewNote::at(n as f64, 10.0, text).created_at(1.0),
                )
            });
        }
    }
    for client in &clients {
        client.wait_saved(client.sent_changes()).await;
    }
    for (i, client) in clients.iter().enumerate() {
        client
            .wait_until(&format!("all {EDITS} notes at client {i}"), |b, txn| {
                b.note_count(txn) as usize == EDITS
            })
            .await;
    }

    // A node that was not running loads the board from the database alone, and the
    // stock Yjs peer reads it there.
    let fresh = node(&url, &dirs[3]).await;
    let reader = YClient::connect(&ws(&fresh), &board).await;
    assert_eq!(reader.notes().len(), EDITS, "what the database holds");
    let timeout_ms = DEADLINE.as_millis().to_string();
    let out = peer(
        &ws(&fresh),
        &board.id,
        &board.read_token,
        &["notes", "mn-", &timeout_ms],
    )
    .await;
    let read: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("the peer printed {out:?}, not JSON: {e}"));
    let expected: Vec<String> = (0..EDITS).map(note_id).collect();
    let ids: Vec<String> = read["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("no ids in {read}"))
        .iter()
        .map(|v| v.as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(ids, expected, "the stock peer reads every note");

    for node in nodes.iter().chain([&fresh]) {
        let log = node.log.lock().unwrap();
        assert!(!log.contains("ERROR"), "a node logged an error:\n{log}");
    }
}

/// A node killed while its clients write loses nothing it acknowledged: every note its
/// client was told is saved reaches the clients of the other node and a fresh node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_way_loses_nothing_it_acknowledged() {
    const CHUNK: usize = 20;
    let url = database();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let survivor = node(&url, &dirs[0]).await;
    let mut doomed = node(&url, &dirs[1]).await;
    let board = create_board(survivor.addr).await;
    let watcher = YClient::connect(&ws(&survivor), &board).await;
    let writer = YClient::connect(&ws(&doomed), &board).await;
    writer.track_saves();
    // What `SAVED` counts besides the notes: the sync messages of the connection's start.
    let before = writer.sent_changes();
    let add = |n: usize| {
        writer.edit(|b, txn| {
            b.add_note(
                txn,
                &id(&note_id(n)),
                NewNote::at(n as f64, 10.0, "written through the killed node").created_at(1.0),
            )
        })
    };
    for chunk in 0..5 {
        for n in chunk * CHUNK..(chunk + 1) * CHUNK {
            add(n);
        }
        writer.wait_saved(writer.sent_changes()).await;
    }
    // One more chunk in flight as the node dies: some of it may be stored, and only
    // what was acknowledged has to be.
    for n in 5 * CHUNK..6 * CHUNK {
        add(n);
    }
    doomed.child.kill().await.unwrap();
    writer.wait_closed().await;
    let saved = (writer.saved() - before) as usize;
    assert!(
        saved >= 5 * CHUNK,
        "notes acknowledged before the kill: {saved}"
    );

    let acknowledged = |b: &hindsight_shared::Board, txn: &yrs::Transaction| {
        (0..saved).all(|n| b.note(txn, &id(&note_id(n))).is_some())
    };
    watcher
        .wait_until("every acknowledged note on the other node", acknowledged)
        .await;
    let fresh = node(&url, &dirs[2]).await;
    let reader = YClient::connect(&ws(&fresh), &board).await;
    reader
        .wait_until("every acknowledged note on a fresh node", acknowledged)
        .await;
    drop(fresh);
}

/// Presence crosses nodes: who is on the board through one node shows to those on
/// another, live and to those who join later, and goes when they leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_announced_on_one_node_shows_on_another() {
    let url = database();
    let (_dirs, one, two) = two_nodes(&url).await;
    let board = create_board(one.addr).await;
    let there = YClient::connect(&ws(&two), &board).await;
    let here = YClient::connect(&ws(&one), &board).await;
    here.announce(r#"{"user":{"name":"Ada on node one"}}"#);
    there.wait_presence("Ada on node one").await;
    // Someone joining the other node later is greeted with who is there.
    let later = YClient::connect(&ws(&two), &board).await;
    later.wait_presence("Ada on node one").await;
    // Leaving withdraws her there too.
    assert!(!there.presence_seen("null"));
    here.close();
    there.wait_presence("null").await;
}

/// Nobody may rename, move or withdraw someone else, whichever node either of them is on:
/// a participant announced on node one is that node's on node two as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_on_another_node_cannot_change_a_participant() {
    let url = database();
    let (_dirs, one, two) = two_nodes(&url).await;
    let board = create_board(one.addr).await;
    let ada = YClient::connect(&ws(&one), &board).await;
    let watchers = [
        YClient::connect(&ws(&one), &board).await,
        YClient::connect(&ws(&two), &board).await,
    ];
    ada.send_raw(presence(&[(4242, r#"{"user":{"name":"Ada"}}"#)]));
    for watcher in &watchers {
        watcher.wait_presence("Ada").await;
    }

    // Through node two, Mallory renames Ada and withdraws her (later clocks, which a
    // stock client would take), then announces herself.
    let mallory = YClient::connect(&ws(&two), &board).await;
    mallory.wait_presence("Ada").await;
    mallory.send_raw(presence_at(2, &[(4242, r#"{"user":{"name":"Impostor"}}"#)]));
    mallory.send_raw(presence_at(3, &[(4242, "null")]));
    mallory.send_raw(presence(&[(77, r#"{"user":{"name":"Mallory"}}"#)]));
    for watcher in &watchers {
        watcher.wait_presence("Mallory").await;
    }
    let late = YClient::connect(&ws(&two), &board).await;
    late.wait_presence("Ada").await;
    late.wait_presence("Mallory").await;
    for watcher in watchers.iter().chain([&late]) {
        assert!(
            !watcher.presence_seen("Impostor") && !watcher.presence_seen("null"),
            "Ada's presence was changed through another node"
        );
    }
    assert!(
        mallory.closed().is_none(),
        "others' entries are left out, not refused"
    );
}

/// Each node checks a change against the board as it holds it. Two nodes that take
/// changes at the same moment, each within the note limit alone, must not together take
/// the stored board past it: the write that goes second finds, once it has the first,
/// that its own would pass the limit, stores nothing, and its node's clients reconnect
/// to the board as stored, where the change, sent again, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_taken_at_once_on_two_nodes_keep_the_boards_note_limit() {
    let url = database();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut nodes = Vec::new();
    for dir in &dirs {
        let args = ["--database", &url, "--max-notes", "10"];
        nodes.push(spawn(dir.path(), &args).await);
    }
    let board = create_board(nodes[0].addr).await;
    let writers = [
        YClient::connect(&ws(&nodes[0]), &board).await,
        YClient::connect(&ws(&nodes[1]), &board).await,
    ];
    for writer in &writers {
        writer.track_saves();
    }

    // Every write to a board's log waits while this holds the table, so both nodes take
    // their change on an empty board before either is stored.
    let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = {
        let url = url.clone();
        let (locked, release) = (locked.0, release.1);
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let mut txn = client.transaction().unwrap();
            txn.batch_execute("LOCK TABLE updates IN EXCLUSIVE MODE")
                .unwrap();
            locked.send(()).unwrap();
            let _ = release.recv();
            txn.rollback().unwrap();
        })
    };
    locked.1.recv().unwrap();
    for (w, writer) in writers.iter().enumerate() {
        writer.edit(|b, txn| {
            for n in 0..8 {
                let text = format!("idea {n} through node {}", w + 1);
                b.add_note(
                    txn,
                    &id(&format!("w{w}-{n}")),
                    NewNote::at(n as f64, 0.0, text),
                );
            }
        });
    }
    let waiting = "SELECT count(*) FROM pg_locks
                   WHERE NOT granted AND relation = 'updates'::regclass";
    let limit = std::time::Instant::now() + DEADLINE;
    while sql(&url, waiting).await != [2] {
        assert!(
            std::time::Instant::now() < limit,
            "both nodes wait to write"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    release.0.send(()).unwrap();
    holder.join().unwrap();

    // One is saved; the other is never told so, and its node reloads the board.
    let limit = std::time::Instant::now() + DEADLINE;
    let kept = loop {
        let saved = |w: &YClient| w.saved() == w.sent_changes();
        if let Some(kept) = (0..2).find(|&w| saved(&writers[w])) {
            break kept;
        }
        assert!(
            std::time::Instant::now() < limit,
            "neither change was saved"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let lost = 1 - kept;
    let closed = writers[lost].wait_closed().await;
    assert_eq!(closed.code, Some(close::GOING_AWAY), "{closed:?}");
    assert!(writers[lost].saved() < writers[lost].sent_changes());
    assert!(writers[kept].closed().is_none());

    // Both nodes serve the eight notes that were saved, and only those.
    let prefix = format!("idea 0 through node {}", kept + 1);
    for node in &nodes {
        let reader = YClient::connect(&ws(node), &board).await;
        let notes = reader.notes();
        assert_eq!(notes.len(), 8, "the board holds one change's notes");
        assert!(notes.iter().any(|n| n.text == prefix), "{prefix:?} kept");
    }
    // Sent again, the other change is refused for the limit, and still not stored.
    let again = writers[lost].reconnect(&ws(&nodes[lost]), &board).await;
    let closed = again.wait_closed().await;
    assert_eq!(closed.code, Some(close::TOO_MANY_NOTES), "{closed:?}");
    let reader = YClient::connect(&ws(&nodes[kept]), &board).await;
    assert_eq!(reader.notes().len(), 8);
}

/// A new connection to `board` through `node` if it is let in, `None` if it is refused
/// as full, waiting for whichever comes first.
async fn admitted(node: &Spawned, board: &TestBoard) -> Option<YClient> {
    let url = format!("{}/{board}{}", ws(node), board.edit_query());
    let client = YClient::connect_unsynced(&url).await;
    let limit = std::time::Instant::now() + DEADLINE;
    loop {
        if client.has_synced() {
            return Some(client);
        }
        if let Some(closed) = client.closed() {
            assert_eq!(closed.code, Some(close::TOO_MANY_CONNECTIONS), "{closed:?}");
            assert_eq!(closed.reason, "board full");
            return None;
        }
        assert!(
            std::time::Instant::now() < limit,
            "neither let in nor refused"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The budgets that bound what clients can make the deployment hold count every node's
/// share, or each node behind a round-robin balancer would allow them once more: a
/// board's connections (`--max-board-connections`), including a node's that died until
/// its seats expire, and an address's new boards (`--creates-per-minute`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boards_connections_and_an_addresss_new_boards_count_on_all_nodes_together() {
    let url = database();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut nodes = Vec::new();
    for dir in &dirs {
        let args = [
            "--database",
            &url,
            "--max-board-connections",
            "3",
            "--creates-per-minute",
            "3",
        ];
        nodes.push(spawn(dir.path(), &args).await);
    }
    let board = create_board(nodes[0].addr).await;
    let ada = YClient::connect(&ws(&nodes[0]), &board).await;
    let _bo = YClient::connect(&ws(&nodes[0]), &board).await;
    let _cy = YClient::connect(&ws(&nodes[1]), &board).await;
    assert!(
        admitted(&nodes[1], &board).await.is_none(),
        "three on two nodes fill it"
    );
    assert!(admitted(&nodes[0], &board).await.is_none());
    // A seat given back on one node is free on the other (once the node gave it back).
    ada.close();
    let limit = std::time::Instant::now() + DEADLINE;
    let dan = loop {
        if let Some(dan) = admitted(&nodes[1], &board).await {
            break dan;
        }
        assert!(
            std::time::Instant::now() < limit,
            "Ada's seat never came free"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(admitted(&nodes[1], &board).await.is_none(), "full again");

    // One board made above; two more through either node, then none.
    for node in [&nodes[1], &nodes[0]] {
        let (status, body) = hindsight_tests::http(node.addr, "POST", "/api/boards", "{}").await;
        assert_eq!(status, 201, "{body}");
    }
    for node in &nodes {
        let (status, body) = hindsight_tests::http(node.addr, "POST", "/api/boards", "{}").await;
        assert_eq!(status, 429, "{body}");
    }

    // A node that dies cannot give its seat back: it stops counting once it goes
    // unrenewed, and the node's client, failing over, gets in.
    let started = std::time::Instant::now();
    nodes.remove(0); // SIGKILL, with Bo's seat
    let limit = started + hindsight_server::store::SEAT_EXPIRES + DEADLINE;
    while admitted(&nodes[0], &board).await.is_none() {
        assert!(
            std::time::Instant::now() < limit,
            "the dead node's seats never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(dan.closed().is_none());
}

/// A node killed outright cannot withdraw its participants: the others do, once their
/// states go unrenewed for the y-protocols timeout, so nobody who is gone lingers on the
/// board or greets later joiners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_of_a_node_that_died_are_withdrawn_on_the_others() {
    let url = database();
    let (_dirs, one, two) = two_nodes(&url).await;
    let board = create_board(two.addr).await;
    let there = YClient::connect(&ws(&two), &board).await;
    let ada = YClient::connect(&ws(&one), &board).await;
    ada.announce(r#"{"user":{"name":"Ada on node one"}}"#);
    there.wait_presence("Ada on node one").await;
    drop(one); // SIGKILL: nothing is sent on her behalf
               // Ada's last renewal is at most 30 s old when node two's timer (every 2 s) finds it.
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(45);
    while !there.presence_seen("null") {
        assert!(
            std::time::Instant::now() < limit,
            "Ada was never withdrawn on node two"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let later = YClient::connect(&ws(&two), &board).await;
    later.announce(r#"{"user":{"name":"Bo"}}"#);
    there.wait_presence("Bo").await;
    assert!(
        !later.presence_seen("Ada on node one"),
        "a later joiner is not greeted with Ada"
    );
}

/// Runs `statement` on the database at `url` and returns the first column of each row.
async fn sql(url: &str, statement: &str) -> Vec<i64> {
    let (url, statement) = (url.to_owned(), statement.to_owned());
    // The blocking client may not run on an async worker.
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let rows = client.query(statement.as_str(), &[]).unwrap();
        rows.iter().map(|r| r.get(0)).collect()
    })
    .await
    .unwrap()
}

/// Breaks every node's LISTEN connection to the database at `url`, and waits until both
/// nodes are listening again.
async fn break_listeners(url: &str) {
    let listening = "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    assert_eq!(sql(url, listening).await, [2], "both nodes listen");
    sql(
        url,
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%') AS gone",
    )
    .await;
    let limit = std::time::Instant::now() + DEADLINE;
    while sql(url, listening).await != [2] {
        assert!(
            std::time::Instant::now() < limit,
            "the nodes never listened again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A relink whose notice a node never heard (its listening connection was broken) is
/// found when it listens again: its rooms read their links again, and disconnect those
/// who came in through the old ones. A break with nothing missed disconnects nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relink_missed_while_a_node_was_not_listening_is_found_when_it_listens_again() {
    let url = database();
    let (_dirs, one, two) = two_nodes(&url).await;
    let board = create_board(one.addr).await;
    let ada = YClient::connect(&ws(&two), &board).await;
    ada.track_saves();

    break_listeners(&url).await;
    // Time for node two's rooms to read their links again: they are unchanged.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ada.edit(|b, txn| b.add_note(txn, &id("after"), NewNote::at(1.0, 1.0, "still here")));
    ada.wait_saved(ada.sent_changes()).await;

    // New links written behind the nodes' backs, as if the notice had been lost.
    let links = hindsight_shared::AccessHashes::for_edit_token(
        &hindsight_shared::Token::edit_from_random([5; 16]),
    );
    let hex: String = links
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let id_hex: String = board
        .id
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let set = format!(
        "WITH set AS (UPDATE boards SET links = '\\x{hex}' WHERE id = '\\x{id_hex}' RETURNING 1)
         SELECT count(*) FROM set"
    );
    assert_eq!(sql(&url, &set).await, [1]);
    break_listeners(&url).await;
    assert_eq!(ada.wait_closed().await.code, Some(close::TOKEN_REFUSED));
    drop(one);
}

/// A board's facilitator key and its import and export hold whichever nodes they go
/// through: the guard on one node knows a key handed over through another, and an
/// export through one node holds what was saved through another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_key_an_import_and_an_export_work_through_any_node() {
    let url = database();
    let (_dirs, one, two) = two_nodes(&url).await;
    let body = serde_json::json!({ "title": "Checkout outage" }).to_string();
    let (status, answer) = hindsight_tests::http(one.addr, "POST", "/api/boards", &body).await;
    assert_eq!(status, 201, "{answer}");
    let board = TestBoard::from_answer(&answer);
    let json: Value = serde_json::from_str(&answer).unwrap();
    let key = json["facilitatorKey"].as_str().expect("a facilitator key");

    // The facilitator on node two sets the step; Bo on node one may not.
    let ada = YClient::connect_facilitating(&ws(&two), &board, key).await;
    let old = YClient::connect_facilitating(&ws(&one), &board, key).await;
    let bo = YClient::connect(&ws(&one), &board).await;
    ada.edit(|b, t| b.set_step(t, Some(3)));
    bo.wait_until("the step set on node two", |b, t| b.step(t) == Some(3))
        .await;
    bo.edit(|b, t| b.set_step(t, Some(1)));
    assert_eq!(bo.wait_closed().await.code, Some(close::FACILITATOR_ONLY));

    // Handed over through node two: the old key, on a connection to node one opened
    // before, no longer counts there; the new one does.
    let new_key = "feedc0de".repeat(4);
    ada.edit(|b, t| b.set_facilitator_key(t, &new_key));
    old.wait_until("the hand-over on node one", |b, t| {
        b.is_facilitator(t, &new_key)
    })
    .await;
    old.edit(|b, t| b.set_step(t, Some(1)));
    assert_eq!(old.wait_closed().await.code, Some(close::FACILITATOR_ONLY));
    let cy = YClient::connect_facilitating(&ws(&one), &board, &new_key).await;
    cy.edit(|b, t| b.set_step(t, Some(5)));
    ada.wait_until("the new facilitator's step", |b, t| b.step(t) == Some(5))
        .await;

    // Exported through node one, imported through node two, written to there and
    // exported through node one again.
    let path = format!("/api/boards/{board}/export.json{}", board.read_query());
    let (status, backup) = hindsight_tests::http(one.addr, "GET", &path, "").await;
    assert_eq!(status, 200, "{backup}");
    let (status, answer) =
        hindsight_tests::http(two.addr, "POST", "/api/boards/import", &backup).await;
    assert_eq!(status, 201, "{answer}");
    let copy = TestBoard::from_answer(&answer);
    let dee = YClient::connect(&ws(&two), &copy).await;
    dee.track_saves();
    dee.edit(|b, t| b.add_note(t, &id("late"), NewNote::at(1.0, 1.0, "written on node two")));
    dee.wait_saved(dee.sent_changes()).await;
    let markdown = hindsight_tests::markdown_export(one.addr, &copy).await;
    assert!(markdown.contains("Checkout outage"), "{markdown}");
    assert!(markdown.contains("written on node two"), "{markdown}");
}

/// A change to the facilitator's part made on one node under the board's key, while
/// the facilitator hands the board over through another node: if the hand-over is
/// stored first, the change is someone's who no longer holds the key, and is not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_under_a_key_handed_over_meanwhile_through_another_node_is_not_stored() {
    let url = database();
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let database: hindsight_server::DatabaseUrl = url.parse().unwrap();
    let held = tokio::task::spawn_blocking(move || PgStore::open(&database))
        .await
        .unwrap()
        .unwrap();
    let held = Arc::new(Faulty::new(held));
    let one = TestServer::start_on(TestServer::config(dirs[0].path()), held.clone()).await;
    let two = TestServer::start_on_database(dirs[1].path(), &url, |_| {}).await;
    let (board, key) = one.create_facilitated("Outage").await;
    let old = YClient::connect_facilitating(&one.ws_base(), &board, &key).await;
    let ada = YClient::connect_facilitating(&two.ws_base(), &board, &key).await;
    old.track_saves();
    ada.track_saves();

    // Node one takes a step change under the key as it stands, and waits to store it.
    let gate = held.hold(Calls::WritesTo(board.id));
    old.edit(|b, t| b.set_step(t, Some(1)));
    eventually("node one waiting to store the step", || async {
        (held.waiting() > 0).then_some(())
    })
    .await;
    // Meanwhile the facilitator hands the board over through node two.
    let new_key = "feedc0de".repeat(4);
    ada.edit(|b, t| b.set_facilitator_key(t, &new_key));
    ada.wait_saved(ada.sent_changes()).await;
    drop(gate);

    // Node one finds the hand-over before its write goes in: the step is never saved,
    // the board reloads, and sent again the step is refused.
    let closed = old.wait_closed().await;
    assert_eq!(closed.code, Some(close::GOING_AWAY), "{closed:?}");
    assert!(old.saved() < old.sent_changes());
    let again = old.reconnect(&one.ws_base(), &board).await;
    assert_eq!(
        again.wait_closed().await.code,
        Some(close::FACILITATOR_ONLY)
    );
    for node in [&one, &two] {
        let check = YClient::connect(&node.ws_base(), &board).await;
        let (step, handed_over) = check.edit(|b, t| (b.step(t), b.is_facilitator(t, &new_key)));
        assert_eq!(step, None, "the step is not stored");
        assert!(handed_over);
    }
    assert!(ada.closed().is_none());
}

/// Runs an operator's command against the running node `at` (`--server`), with the admin
/// token in `dir`; returns its standard output.
async fn operator(at: &Spawned, dir: &tempfile::TempDir, args: &[&str]) -> String {
    let url = format!("http://{}", at.addr);
    let token_file = dir.path().join("admin-token");
    let token_file = token_file.to_str().unwrap();
    let all = args
        .iter()
        .copied()
        .chain(["--server", &url, "--admin-token-file", token_file]);
    let output = run(all).await;
    assert!(
        output.status.success(),
        "hindsight {args:?} --server failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relink_or_deletion_through_one_node_ends_the_boards_connections_on_the_other() {
    let url = database();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for dir in &dirs {
        std::fs::write(
            dir.path().join("admin-token"),
            "0perat0r-t0ken-for-tw0-n0des",
        )
        .unwrap();
        let args = ["--database", &url, "--admin-token-file", "admin-token"];
        nodes.push(spawn(dir.path(), &args).await);
    }
    let (one, two) = (&nodes[0], &nodes[1]);
    let board = create_board(one.addr).await;
    let ada = YClient::connect(&ws(two), &board).await;
    ada.track_saves();
    ada.edit(|b, txn| b.add_note(txn, &id("kept"), NewNote::at(1.0, 1.0, "kept")));
    ada.wait_saved(ada.sent_changes()).await;

    // New links through node one: Ada, on node two through the old ones, is
    // disconnected there too, and the old link no longer opens the board on node two.
    let printed = operator(one, &dirs[0], &["boards", "links", &board.id.to_string()]).await;
    let edit_link = printed
        .lines()
        .find_map(|l| l.strip_prefix("edit link: "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert_eq!(ada.wait_closed().await.code, Some(close::TOKEN_REFUSED));
    let old = format!("{}/{}{}", ws(two), board.id, board.edit_query());
    let old = YClient::connect_unsynced(&old).await;
    assert_eq!(old.wait_closed().await.code, Some(close::TOKEN_REFUSED));
    let relinked = TestBoard::from_url(edit_link);
    let bo = YClient::connect(&ws(two), &relinked).await;
    assert_eq!(bo.notes().len(), 1, "the board kept its note");

    // Deleted through node one: Bo, on node two, is told it is gone.
    operator(one, &dirs[0], &["boards", "delete", &board.id.to_string()]).await;
    assert_eq!(bo.wait_closed().await.code, Some(close::BOARD_NOT_FOUND));
}
