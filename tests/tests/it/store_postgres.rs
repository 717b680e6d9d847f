//! The PostgreSQL store against a real PostgreSQL (`support/postgres.rs`, a database per
//! test): the store contract every store keeps, the schema the binary migrates, what
//! several writers of one board meet, and the `hindsight` binary serving from it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hindsight_server::store::testing;
use hindsight_server::store::{Appended, Batch, Heard, NewerSchema, SCHEMA_VERSION};
use hindsight_server::{DatabaseUrl, PgStore, Store, StoreError};
use hindsight_shared::{AccessHashes, BoardId, NewNote, NoteColor, Token};
use hindsight_tests::binary::{server_binary, spawn};
use hindsight_tests::fixtures::id;
use hindsight_tests::http::get;
use hindsight_tests::postgres::database;
use hindsight_tests::{create_board, YClient, DEADLINE};
use postgres::{Client, NoTls};
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::UnboundedReceiver;

fn open(url: &str) -> Result<PgStore, StoreError> {
    PgStore::open(&url.parse::<DatabaseUrl>().unwrap())
}

/// A plain connection for looking into (or breaking) what the store wrote.
fn sql(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap()
}

fn board(n: u8) -> BoardId {
    BoardId::from_random([n; 16])
}

#[test]
fn the_postgres_store_keeps_the_contract_and_survives_reopen() {
    let url = database();
    {
        let store = open(&url).unwrap();
        testing::contract(&store);
        store.write(&board(1), 3, &[b"after".to_vec()]).unwrap();
        // No flush: a write is committed before it returns.
    }
    let store = open(&url).unwrap();
    let loaded = store.load(&board(1)).unwrap().unwrap();
    assert_eq!(loaded.snapshot, b"snap3");
    assert_eq!(loaded.updates, [b"after".to_vec()]);
    assert_eq!(loaded.next_seq, 4);
    assert!(store.data_bytes().unwrap() > 0);
}

#[test]
fn the_schema_is_migrated_once_kept_on_restart_and_a_newer_one_is_refused() {
    let url = database();
    let version = |db: &mut Client| -> Vec<i32> {
        db.query("SELECT version FROM hindsight_schema", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let store = open(&url).unwrap();
    let mut db = sql(&url);
    assert_eq!(
        version(&mut db),
        [SCHEMA_VERSION],
        "one row, the binary's version"
    );
    store.create(&board(1), b"kept", None).unwrap();
    drop(store);

    let store = open(&url).expect("a second start finds the schema in place");
    assert_eq!(version(&mut db), [SCHEMA_VERSION]);
    assert_eq!(store.load(&board(1)).unwrap().unwrap().snapshot, b"kept");
    drop(store);

    db.execute("UPDATE hindsight_schema SET version = version + 1", &[])
        .unwrap();
    let refused = open(&url).err().expect("a newer schema is refused");
    let message = refused.to_string();
    assert!(
        message.contains(&format!("version {}", SCHEMA_VERSION + 1)) && message.contains("newer"),
        "{message}"
    );
    let StoreError::Backend(source) = refused else {
        panic!("{message}")
    };
    assert_eq!(
        source.downcast_ref::<NewerSchema>().map(|e| e.found),
        Some(SCHEMA_VERSION + 1)
    );
    assert_eq!(
        version(&mut db),
        [SCHEMA_VERSION + 1],
        "the refusal leaves the database alone"
    );

    // A database of the first version, with a board, takes the later migrations.
    db.batch_execute("DROP TABLE seats, creations; UPDATE hindsight_schema SET version = 1")
        .unwrap();
    let store = open(&url).expect("an older schema is migrated");
    assert_eq!(version(&mut db), [SCHEMA_VERSION]);
    assert_eq!(store.load(&board(1)).unwrap().unwrap().snapshot, b"kept");
    let seats = store.budgets().expect("budgets on PostgreSQL");
    assert!(seats.take_seat(&board(1), 1, 1).unwrap());
}

/// Seats on a board and new boards per address are counted for every node on the
/// database together, exactly even when nodes take the last ones at once.
#[test]
fn budgets_are_counted_for_every_node_together() {
    let url = database();
    let (one, two) = (open(&url).unwrap(), open(&url).unwrap());
    let (a, b) = (one.budgets().unwrap(), two.budgets().unwrap());
    let x = board(1);
    assert!(a.take_seat(&x, 1, 3).unwrap());
    assert!(a.take_seat(&x, 2, 3).unwrap());
    assert!(
        b.take_seat(&x, 1, 3).unwrap(),
        "connection numbers are per node"
    );
    assert!(
        !b.take_seat(&x, 2, 3).unwrap(),
        "three seats on two nodes: full"
    );
    assert!(
        b.take_seat(&board(2), 2, 3).unwrap(),
        "another board has its own"
    );
    a.release_seats(&[1]).unwrap();
    assert!(b.take_seat(&x, 3, 3).unwrap(), "a seat given back is free");
    assert!(!a.take_seat(&x, 4, 3).unwrap());

    // Seats nobody renews (their node died) stop counting; renewing keeps them.
    let mut db = sql(&url);
    db.execute("UPDATE seats SET renewed = now() - interval '1 hour'", &[])
        .unwrap();
    assert!(a.take_seat(&x, 5, 3).unwrap());
    b.renew(&[(1, x), (3, x)]).unwrap();
    assert!(!a.take_seat(&x, 6, 3).unwrap(), "a's 5 and b's 1 and 3");
    let kept = db
        .query_one("SELECT count(*) FROM seats", &[])
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(kept, 3, "renewing forgets seats long expired");

    // Many connections on both nodes at once take exactly the seats there are.
    let y = board(3);
    let taken: usize = std::thread::scope(|s| {
        let takers: Vec<_> = (0..16u64)
            .map(|n| {
                let store = if n % 2 == 0 { &one } else { &two };
                s.spawn(move || store.budgets().unwrap().take_seat(&y, 100 + n, 5).unwrap())
            })
            .collect();
        takers
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&t| t)
            .count()
    });
    assert_eq!(taken, 5);

    let ann: std::net::IpAddr = "198.51.100.7".parse().unwrap();
    for store in [a, b, a] {
        assert_eq!(store.take_creation(ann, 3).unwrap(), Ok(()));
    }
    let wait = b.take_creation(ann, 3).unwrap().unwrap_err();
    assert!((1..=20).contains(&wait), "one a minute / 3: {wait} s");
    assert!(a.take_creation(ann, 3).unwrap().is_err(), "on either node");
    let bo = "2001:db8::1".parse().unwrap();
    assert_eq!(a.take_creation(bo, 3).unwrap(), Ok(()), "Bo has his own");
}

#[test]
fn two_writers_of_one_board_cannot_take_one_sequence_number() {
    let url = database();
    let (one, two) = (open(&url).unwrap(), open(&url).unwrap());
    let a = board(1);
    one.create(&a, b"s", None).unwrap();
    one.append(&a, 0, &[b"one's 0".to_vec()]).unwrap();
    assert!(matches!(
        two.append(&a, 0, &[b"two's 0".to_vec()]),
        Err(StoreError::Conflict(b)) if b == a
    ));
    one.append(&a, 1, &[b"one's 1".to_vec(), b"one's 2".to_vec()])
        .unwrap();
    assert!(
        matches!(
            two.append(&a, 2, &[b"two's 2".to_vec(), b"two's 3".to_vec()]),
            Err(StoreError::Conflict(_))
        ),
        "a batch overlapping by one is refused whole"
    );
    let loaded = two.load(&a).unwrap().unwrap();
    assert_eq!(
        loaded.updates,
        [
            b"one's 0".to_vec(),
            b"one's 1".to_vec(),
            b"one's 2".to_vec()
        ]
    );
    assert_eq!(loaded.next_seq, 3);
    assert!(
        two.write(&board(9), 0, &[b"x".to_vec()]).is_err(),
        "no update is stored for a board that does not exist"
    );
}

/// Rooms' writes that come together are stored in one transaction; each board's batch
/// still goes in whole or not at all, and a conflict on one board costs the others
/// nothing.
#[test]
fn writes_stored_together_are_each_whole_or_refused_alone() {
    let url = database();
    let (one, two) = (open(&url).unwrap(), open(&url).unwrap());
    let mut rx = two.watch().expect("a shared store says what others write");
    let (fresh, taken, overlapped, gone) = (board(1), board(2), board(3), board(4));
    for b in [fresh, taken, overlapped] {
        one.create(&b, b"s", None).unwrap();
    }
    two.append(&taken, 0, &[b"two's 0".to_vec()]).unwrap();
    two.append(&overlapped, 0, &[b"two's 0".to_vec(), b"two's 1".to_vec()])
        .unwrap();
    let batch = |board: BoardId, first_seq: u64, updates: &[&str]| Batch {
        board,
        first_seq,
        updates: updates.iter().map(|u| u.as_bytes().to_vec()).collect(),
    };
    let results = one.write_all(&[
        batch(fresh, 0, &["one's 0", "one's 1"]),
        batch(taken, 0, &["one's 0"]),
        // Its first number is taken, the two after it are free.
        batch(overlapped, 1, &["one's 1", "one's 2", "one's 3"]),
        batch(gone, 0, &["nowhere"]),
    ]);
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(StoreError::Conflict(b)) if b == taken));
    assert!(matches!(results[2], Err(StoreError::Conflict(b)) if b == overlapped));
    assert!(
        matches!(&results[3], Err(StoreError::Backend(e)) if e.to_string().contains("no board")),
        "{:?}",
        results[3]
    );
    let updates = |b: BoardId| -> Vec<String> {
        let loaded = two.load(&b).unwrap().unwrap();
        loaded
            .updates
            .iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect()
    };
    assert_eq!(updates(fresh), ["one's 0", "one's 1"]);
    assert_eq!(updates(taken), ["two's 0"]);
    assert_eq!(
        updates(overlapped),
        ["two's 0", "two's 1"],
        "nothing of a batch that overlapped is left"
    );
    assert_eq!(two.load(&gone).unwrap(), None);
    // Only what was stored is announced.
    let mut announced = Vec::new();
    while let Some(appended) = heard(&mut rx, Duration::from_millis(500)) {
        announced.push(appended);
    }
    assert!(
        announced.iter().all(|a| a.board == fresh) && announced.iter().any(|a| a.upto == 2),
        "{announced:?}"
    );

    // Many rooms at once, through `write`, each on its own thread: all stored, in order.
    let boards: Vec<BoardId> = (10..40).map(board).collect();
    for b in &boards {
        one.create(b, b"s", None).unwrap();
    }
    std::thread::scope(|s| {
        for b in &boards {
            let one = &one;
            s.spawn(move || {
                for seq in 0..20 {
                    one.write(b, seq, &[seq.to_string().into_bytes()]).unwrap();
                }
            });
        }
    });
    for b in &boards {
        let stored: Vec<String> = updates(*b);
        let wanted: Vec<String> = (0..20).map(|n: u64| n.to_string()).collect();
        assert_eq!(stored, wanted, "board {b}");
    }
}

/// Snapshots name the sequence number they cover up to; a load that read the snapshot
/// and the updates at different moments would miss the updates a compaction folded in
/// between (or see them twice).
#[test]
fn a_load_while_another_node_compacts_never_misses_an_update() {
    const UPDATES: u64 = 200;
    let url = database();
    let (reader, compactor) = (open(&url).unwrap(), open(&url).unwrap());
    let a = board(1);
    reader.create(&a, b"0", None).unwrap();
    let updates: Vec<Vec<u8>> = (0..UPDATES).map(|s| s.to_string().into_bytes()).collect();
    reader.append(&a, 0, &updates).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let compacting = std::thread::spawn({
        let done = Arc::clone(&done);
        move || {
            for upto in 1..=UPDATES {
                compactor
                    .compact(&a, upto.to_string().as_bytes(), upto)
                    .unwrap();
            }
            done.store(true, Ordering::SeqCst);
        }
    });
    let mut loads = 0;
    while !done.load(Ordering::SeqCst) || loads == 0 {
        let loaded = reader.load(&a).unwrap().unwrap();
        let upto: u64 = String::from_utf8(loaded.snapshot).unwrap().parse().unwrap();
        let expected: Vec<Vec<u8>> = (upto..UPDATES)
            .map(|s| s.to_string().into_bytes())
            .collect();
        assert_eq!(loaded.updates, expected, "after a snapshot up to {upto}");
        assert_eq!(loaded.next_seq, UPDATES);
        loads += 1;
    }
    compacting.join().unwrap();
}

/// The next report from another node that `pick` takes, waiting up to `within`.
fn next_heard<T>(
    rx: &mut UnboundedReceiver<Heard>,
    within: Duration,
    pick: impl Fn(Heard) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        match rx.try_recv() {
            Ok(heard) => {
                if let Some(picked) = pick(heard) {
                    return Some(picked);
                }
            }
            Err(TryRecvError::Empty) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(_) => return None,
        }
    }
}

/// The next write another node reports, waiting up to `within`.
fn heard(rx: &mut UnboundedReceiver<Heard>, within: Duration) -> Option<Appended> {
    next_heard(rx, within, |heard| match heard {
        Heard::Appended(appended) => Some(appended),
        _ => None,
    })
}

/// The next deletion or relink another node reports, waiting up to `within`.
fn heard_operator(rx: &mut UnboundedReceiver<Heard>, within: Duration) -> Option<Heard> {
    next_heard(rx, within, |heard| {
        matches!(heard, Heard::Relinked { .. } | Heard::Deleted { .. }).then_some(heard)
    })
}

/// An operator's relink or deletion through one node is heard by the others (whose
/// connections came in through the old links), once it is committed and only if the
/// board was there; a node does not hear its own.
#[test]
fn a_relink_or_deletion_is_heard_by_the_other_nodes() {
    let url = database();
    let (one, two) = (open(&url).unwrap(), open(&url).unwrap());
    let mut rx = two.watch().expect("a shared store says what others do");
    let a = board(7);
    one.create(&a, b"s", None).unwrap();
    // The listener starts on a thread of its own: append until it hears.
    let mut seq = 0;
    while heard(&mut rx, Duration::from_millis(200)).is_none() {
        one.append(&a, seq, &[b"u".to_vec()]).unwrap();
        seq += 1;
        assert!(seq < 50, "the listener never heard a write");
    }
    let links = AccessHashes::for_edit_token(&Token::edit_from_random([9; 16]));
    assert!(two.set_links(&a, &links).unwrap());
    assert!(one.set_links(&a, &links).unwrap());
    assert_eq!(
        heard_operator(&mut rx, DEADLINE),
        Some(Heard::Relinked { board: a }),
        "one's relink, not two's own"
    );
    assert!(!one.set_links(&board(8), &links).unwrap(), "no such board");
    assert!(!one.delete(&board(8)).unwrap(), "no such board");
    assert!(one.delete(&a).unwrap());
    assert_eq!(
        heard_operator(&mut rx, DEADLINE),
        Some(Heard::Deleted { board: a }),
        "nothing for the boards that were not there"
    );
}

/// A node hears what another appends (never its own writes), reads what it lacks from
/// its own next number, with the snapshot when another node compacted part of that, and
/// cannot write where a compaction already dropped the updates.
#[test]
fn a_node_hears_what_another_appends_and_catches_up_from_where_it_stands() {
    let url = database();
    let (one, two) = (open(&url).unwrap(), open(&url).unwrap());
    let mut rx = two.watch().expect("a shared store says what others write");
    let a = board(1);
    one.create(&a, b"s", None).unwrap();
    // The listener starts on a thread of its own: append until it hears.
    let mut seq = 0;
    loop {
        one.append(&a, seq, &[b"one's".to_vec()]).unwrap();
        seq += 1;
        if let Some(appended) = heard(&mut rx, Duration::from_millis(200)) {
            assert_eq!(
                appended,
                Appended {
                    board: a,
                    upto: seq,
                    updates: Some(vec![b"one's".to_vec()]),
                }
            );
            break;
        }
        assert!(seq < 50, "the listener never heard a write");
    }
    while heard(&mut rx, Duration::from_millis(100)).is_some() {}

    two.append(&a, seq, &[b"two's".to_vec()]).unwrap();
    one.append(
        &a,
        seq + 1,
        &[b"one's last".to_vec(), b"one's very last".to_vec()],
    )
    .unwrap();
    assert_eq!(
        heard(&mut rx, DEADLINE),
        Some(Appended {
            board: a,
            upto: seq + 3,
            updates: Some(vec![b"one's last".to_vec(), b"one's very last".to_vec()]),
        }),
        "its own write is not reported; small updates come with the notice"
    );
    let changes = two.changes_since(&a, seq + 1).unwrap().unwrap();
    assert_eq!(changes.snapshot, None);
    assert_eq!(
        changes.updates,
        [b"one's last".to_vec(), b"one's very last".to_vec()]
    );
    assert_eq!(changes.next_seq, seq + 3);

    // A compaction leaves the newest updates it folded in: a node a little behind
    // catches up without the snapshot, and loading still starts from it.
    one.compact(&a, b"snapshot", seq + 2).unwrap();
    let changes = two.changes_since(&a, seq + 1).unwrap().unwrap();
    assert_eq!(changes.snapshot, None);
    assert_eq!(
        changes.updates,
        [b"one's last".to_vec(), b"one's very last".to_vec()]
    );
    assert_eq!(changes.next_seq, seq + 3);
    let loaded = two.load(&a).unwrap().unwrap();
    assert_eq!(
        (loaded.snapshot.as_slice(), loaded.updates.as_slice()),
        (&b"snapshot"[..], &[b"one's very last".to_vec()][..])
    );
    // One that keeps none: the node behind needs the snapshot.
    let tight = open(&url).unwrap().keeping_after_compaction(0);
    tight.compact(&a, b"snapshot 2", seq + 2).unwrap();
    let changes = two.changes_since(&a, seq + 1).unwrap().unwrap();
    assert_eq!(changes.snapshot.as_deref(), Some(&b"snapshot 2"[..]));
    assert_eq!(changes.updates, [b"one's very last".to_vec()]);
    assert_eq!(changes.next_seq, seq + 3);
    assert!(
        matches!(
            two.append(&a, seq + 1, &[b"late".to_vec()]),
            Err(StoreError::Conflict(_))
        ),
        "a number below the snapshot's is taken, though its update is gone"
    );
    assert!(two.changes_since(&board(9), 0).unwrap().is_none());
}

#[test]
fn a_compaction_while_another_node_compacts_the_board_is_skipped() {
    let url = database();
    let store = open(&url).unwrap();
    let a = board(1);
    store.create(&a, b"s", None).unwrap();
    store.append(&a, 0, &[b"u0".to_vec()]).unwrap();
    let mut other = sql(&url);
    // The lock a compaction of the board holds: its id's first eight bytes.
    let key = i64::from_be_bytes([1; 8]);
    other
        .execute("SELECT pg_advisory_lock($1)", &[&key])
        .unwrap();
    store.compact(&a, b"s1", 1).unwrap();
    let loaded = store.load(&a).unwrap().unwrap();
    assert_eq!(
        (loaded.snapshot.as_slice(), loaded.updates.len()),
        (&b"s"[..], 1),
        "skipped, not waited for"
    );
    other
        .execute("SELECT pg_advisory_unlock($1)", &[&key])
        .unwrap();
    store.compact(&a, b"s1", 1).unwrap();
    let loaded = store.load(&a).unwrap().unwrap();
    assert_eq!(
        (loaded.snapshot.as_slice(), loaded.updates.len()),
        (&b"s1"[..], 0)
    );
}

#[test]
fn bad_stored_data_is_corrupt_not_a_panic() {
    let url = database();
    let store = open(&url).unwrap();
    let a = board(1);
    store.create(&a, b"s", None).unwrap();
    store.keep_version(&a, 1_000, b"v").unwrap();
    let mut db = sql(&url);
    db.batch_execute(
        "ALTER TABLE boards DROP CONSTRAINT boards_upto_check;
         UPDATE boards SET links = '\\x0102', upto = -1;
         UPDATE versions SET bytes = -5;",
    )
    .unwrap();
    let corrupt = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Corrupt(b)) if b == a);
    assert!(
        corrupt(store.links(&a).map(drop)),
        "links of the wrong length"
    );
    assert!(corrupt(store.load(&a).map(drop)), "a negative upto");
    assert!(corrupt(store.versions(&a).map(drop)), "a negative size");
}

#[test]
fn an_unreachable_database_is_a_backend_error_with_the_engines_message() {
    let refused = open("postgres://postgres@127.0.0.1:1/nothing")
        .err()
        .unwrap();
    assert!(matches!(refused, StoreError::Backend(_)), "{refused}");
    assert!(
        refused
            .to_string()
            .contains("error connecting to server: Connection refused"),
        "the engine's message: {refused}"
    );
}

#[test]
fn the_binary_refuses_an_unreachable_database_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(server_binary())
        .args(["--addr", "127.0.0.1:0"])
        .args(["--database", "postgres://hs:s3cret@127.0.0.1:1/boards"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing served");
    assert!(
        stderr.starts_with("error: cannot open the database postgres://hs@127.0.0.1:1/boards: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_on_postgres_keeps_saved_notes_across_kill_9_and_stops_cleanly() {
    let url = database();
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn(dir.path(), &["--database", &url]).await;
    let board = create_board(server.addr).await;
    let client = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;
    client.track_saves();
    let note = id("kept-in-postgres");
    client.edit(|b, txn| {
        b.add_note(
            txn,
            &note,
            NewNote::at(10.0, 10.0, "saved before the kill")
                .color(NoteColor::Green)
                .created_at(1.0),
        )
    });
    client.wait_saved(client.sent_changes()).await;
    // The write went through the group commit, which says how many batches it carried;
    // there was no flush to ask for, and none is counted.
    let metrics = String::from_utf8(get(server.addr, "/metrics", &[]).await.body).unwrap();
    let count = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
            .trim()
            .to_owned()
    };
    assert_ne!(count("hindsight_write_group_size_count"), "0", "{metrics}");
    assert_eq!(count("hindsight_flush_group_size_count"), "0", "{metrics}");
    server.child.kill().await.unwrap();
    drop(client);

    let mut restarted = spawn(dir.path(), &["--database", &url]).await;
    let after = YClient::connect(&format!("ws://{}/ws", restarted.addr), &board).await;
    after
        .wait_until("the saved note after a restart", |b, txn| {
            b.note(txn, &note)
                .is_some_and(|n| n.text == "saved before the kill")
        })
        .await;
    drop(after);
    assert!(
        !dir.path().join("data").exists(),
        "no embedded database beside it"
    );

    // A clean stop closes the store's connections from the shutting-down runtime.
    let pid = restarted.child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let exit = tokio::time::timeout(DEADLINE, restarted.child.wait())
        .await
        .expect("exit after SIGTERM")
        .unwrap();
    assert!(
        exit.success(),
        "exit status {exit}; log:\n{}",
        restarted.log.lock().unwrap()
    );
}
