//! Hostile input against a real server over real WebSockets: a client that goes over a
//! limit (document size, notes, message rate, connections, message size) is closed with
//! a code the page can explain, the board keeps exactly what it had, and everyone else
//! keeps working. A client that stops reading is disconnected without holding up others.

use futures_util::StreamExt;
use hindsight_server::Config;
use hindsight_shared::close;
use hindsight_shared::schema::META;
use hindsight_tests::fixtures::{id, note_in, presence};
use hindsight_tests::{TestServer, YClient, DEADLINE};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::{Map, Transact};

async fn server_with(tweak: impl FnOnce(&mut Config)) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), tweak).await;
    (dir, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_past_the_limit_closes_that_connection_and_is_not_stored() {
    let (_dir, server) = server_with(|c| c.max_notes = 3).await;
    let board = server.create_board().await;
    let writer = YClient::connect(&server.ws_base(), &board).await;
    let watcher = YClient::connect(&server.ws_base(), &board).await;
    writer.track_saves();
    for i in 0..3 {
        writer.edit(|b, txn| b.add_note(txn, &id(&format!("n{i}")), note_in("detect", "fine")));
    }
    writer.wait_saved(writer.sent_changes()).await;

    writer.edit(|b, txn| b.add_note(txn, &id("n3"), note_in("detect", "one too many")));
    let closed = writer.wait_closed().await;
    assert_eq!(closed.code, Some(close::TOO_MANY_NOTES), "{closed:?}");
    assert!(!close::is_retryable(close::TOO_MANY_NOTES));

    // The others keep the board as it was and can still edit it (once the watcher has
    // the notes: the acknowledgement to the writer does not wait for the watcher).
    watcher
        .wait_until("the three notes", |b, txn| b.note_count(txn) == 3)
        .await;
    watcher.edit(|b, txn| b.edit_text(txn, &id("n0"), "edited at the limit"));
    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_until("the edit, and no fourth note", |b, txn| {
        b.note(txn, &id("n0"))
            .is_some_and(|n| n.text == "edited at the limit")
    })
    .await;
    assert_eq!(late.notes().len(), 3);
    assert!(watcher.closed().is_none(), "only the offender is closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_past_the_size_limit_closes_that_connection_and_is_not_stored() {
    let (_dir, server) = server_with(|c| c.max_document_bytes = 4096).await;
    let board = server.create_board().await;
    let writer = YClient::connect(&server.ws_base(), &board).await;
    writer.edit(|b, txn| b.add_note(txn, &id("small"), note_in("detect", "fits")));
    writer.edit(|b, txn| b.add_note(txn, &id("big"), note_in("detect", "x".repeat(4000))));
    let closed = writer.wait_closed().await;
    assert_eq!(closed.code, Some(close::BOARD_TOO_LARGE), "{closed:?}");

    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_until("the small note", |b, txn| {
        b.note(txn, &id("small")).is_some()
    })
    .await;
    assert!(
        late.notes().iter().all(|n| n.id != id("big")),
        "the refused note is not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_messages_is_cut_off_and_others_are_unaffected() {
    let (_dir, server) = server_with(|c| {
        c.messages_per_sec = 1;
        c.message_burst = 10;
    })
    .await;
    let board = server.create_board().await;
    let flooder = YClient::connect(&server.ws_base(), &board).await;
    let calm = YClient::connect(&server.ws_base(), &board).await;
    for i in 0..50 {
        flooder.edit(|b, txn| b.add_note(txn, &id(&format!("f{i}")), note_in("detect", "spam")));
    }
    let closed = flooder.wait_closed().await;
    assert_eq!(closed.code, Some(close::RATE_LIMITED), "{closed:?}");
    assert!(close::is_retryable(close::RATE_LIMITED));

    calm.edit(|b, txn| b.add_note(txn, &id("calm"), note_in("detect", "still here")));
    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_until("the calm client's note", |b, txn| {
        b.note(txn, &id("calm")).is_some()
    })
    .await;
    assert!(
        late.notes().len() < 50,
        "the flood was cut off before it all got in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_limited_per_board_and_in_total() {
    let (_dir, server) = server_with(|c| {
        c.max_board_connections = 2;
        c.max_connections = 3;
    })
    .await;
    let (x, y) = (server.create_board().await, server.create_board().await);
    let ws = server.ws_base();
    let _a = YClient::connect(&ws, &x).await;
    let _b = YClient::connect(&ws, &x).await;
    let refused = YClient::connect_unsynced(&format!("{ws}/{x}{}", x.edit_query())).await;
    let closed = refused.wait_closed().await;
    assert_eq!(closed.code, Some(close::TOO_MANY_CONNECTIONS), "{closed:?}");
    assert_eq!(closed.reason, "board full");

    // Another board still has room, until the server as a whole is full.
    let _c = YClient::connect(&ws, &y).await;
    let refused = YClient::connect_unsynced(&format!("{ws}/{y}{}", y.edit_query())).await;
    let closed = refused.wait_closed().await;
    assert_eq!(closed.code, Some(close::TOO_MANY_CONNECTIONS), "{closed:?}");
    assert_eq!(closed.reason, "server full");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_limit_closes_the_connection() {
    let (_dir, server) = server_with(|c| c.max_message_bytes = 1024).await;
    let board = server.create_board().await;
    let big = YClient::connect(&server.ws_base(), &board).await;
    big.edit(|b, txn| b.add_note(txn, &id("big"), note_in("detect", "y".repeat(2000))));
    // The WebSocket layer refuses the frame and drops the socket (the client sees 1006):
    // it cannot be read far enough to answer it with a close code.
    big.wait_closed().await;

    let late = YClient::connect(&server.ws_base(), &board).await;
    assert!(late.notes().is_empty(), "nothing of the big message stored");
}

/// One client never reads while another writes far more than its outbox and the socket
/// buffers hold: it is disconnected, and a reading client gets every update.
/// A client that never reads, while a writer sends `updates` big updates under the
/// server limits `tweak` sets: it must be cut off before it is sent everything, and the
/// others must get every update.
/// The string in each value a silent-client test writes: 4 KiB, within a field's limit.
const PIECE: usize = 4096;

async fn a_silent_client_is_cut_off(tweak: impl FnOnce(&mut Config), updates: usize, chunk: usize) {
    let (_dir, server) = server_with(|c| {
        c.messages_per_sec = 1_000_000;
        c.message_burst = 1_000_000;
        c.max_document_bytes = 1 << 30;
        tweak(c);
    })
    .await;
    let board = server.create_board().await;
    let ws = server.ws_base();
    // Connected, then never polled again: its frames pile up in the socket buffers.
    let (mut silent, _) =
        tokio_tungstenite::connect_async(format!("{ws}/{board}{}", board.edit_query()))
            .await
            .expect("connect");
    let writer = YClient::connect(&ws, &board).await;
    let reader = YClient::connect(&ws, &board).await;

    // Plain values in the board's `meta` map, many per update (each string within the
    // longest a field may be): big updates without many messages. The writer waits for
    // the reader after each one, so the reader's outbox never holds more than one while
    // the silent client's grows.
    let scratch = writer.doc.get_or_insert_map(META);
    let seen = reader.doc.get_or_insert_map(META);
    let before = seen.len(&reader.doc.transact()) as usize;
    for i in 0..updates {
        {
            let mut txn = writer.doc.transact_mut();
            for j in 0..chunk / PIECE {
                scratch.insert(&mut txn, format!("k{i}-{j}"), "z".repeat(PIECE));
            }
        }
        reader
            .wait_until("the reader has every update so far", |_, txn| {
                seen.len(txn) as usize == before + (i + 1) * (chunk / PIECE)
            })
            .await;
    }

    // The silent client now reads what it was sent: the stream must end (it was cut
    // off) before it delivers every update.
    let frames = tokio::time::timeout(DEADLINE, async {
        let mut frames = 0;
        while let Some(Ok(message)) = silent.next().await {
            if matches!(message, WsMessage::Binary(_)) {
                frames += 1;
            }
        }
        frames
    })
    .await
    .expect("the silent client was disconnected");
    assert!(
        frames < updates,
        "the silent client was cut off, not served everything ({frames} frames)"
    );
    assert!(writer.closed().is_none() && reader.closed().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_and_others_get_everything() {
    a_silent_client_is_cut_off(|c| c.outbox_messages = 16, 100, 256 * 1024).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_holds_at_most_its_outbox_bytes() {
    // Room for every message by count: only the byte bound can cut it off. 120 updates
    // of 256 KiB are 30 MiB, more than the socket buffers and the 4 MiB outbox hold.
    a_silent_client_is_cut_off(
        |c| {
            c.outbox_messages = 100_000;
            c.outbox_bytes = 4 * 1024 * 1024;
        },
        120,
        256 * 1024,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_ones_own_bounded_and_readable_or_the_connection_is_closed() {
    let (_dir, server) = server_with(|_| {}).await;
    let board = server.create_board().await;
    let ada = YClient::connect(&server.ws_base(), &board).await;
    let mallory = YClient::connect(&server.ws_base(), &board).await;
    let watcher = YClient::connect(&server.ws_base(), &board).await;
    ada.send_raw(presence(&[(4242, r#"{"user":{"name":"Ada"}}"#)]));
    watcher.wait_presence("Ada").await;

    // Mallory renames Ada, then announces herself: only her own arrives, and Ada stays.
    mallory.send_raw(presence(&[(4242, r#"{"user":{"name":"Impostor"}}"#)]));
    mallory.send_raw(presence(&[(77, r#"{"user":{"name":"Mallory"}}"#)]));
    watcher.wait_presence("Mallory").await;
    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_presence("Ada").await;
    late.wait_presence("Mallory").await;
    assert!(
        !watcher.presence_seen("Impostor") && !late.presence_seen("Impostor"),
        "someone else's presence was overwritten"
    );

    // A thousand ghosts in one message close the connection, and none is relayed.
    let ghosts: Vec<_> = (1000..2000)
        .map(|id| (id, r#"{"user":{"name":"Ghost"}}"#))
        .collect();
    mallory.send_raw(presence(&ghosts));
    let closed = mallory.wait_closed().await;
    assert_eq!(closed.code, Some(close::PRESENCE_REFUSED), "{closed:?}");
    assert!(!close::is_retryable(close::PRESENCE_REFUSED));

    // So does a state a stock Yjs client could not read, and one over the size limit.
    for bad in [
        "not json".to_owned(),
        format!(r#"{{"user":{{"name":"{}"}}}}"#, "x".repeat(9000)),
    ] {
        let offender = YClient::connect(&server.ws_base(), &board).await;
        offender.send_raw(presence(&[(5150, &bad)]));
        let closed = offender.wait_closed().await;
        assert_eq!(closed.code, Some(close::PRESENCE_REFUSED), "{closed:?}");
    }
    let joiner = YClient::connect(&server.ws_base(), &board).await;
    joiner.wait_presence("Ada").await;
    assert!(!joiner.presence_seen("Ghost") && !joiner.presence_seen("not json"));
    assert!(ada.closed().is_none() && watcher.closed().is_none());
}

/// A backup of `notes` notes, each saying `text` and its number.
fn backup_of(notes: usize, text: &str) -> String {
    let notes: Vec<_> = (0..notes)
        .map(|i| {
            serde_json::json!({
                "id": format!("n{i}"), "text": format!("{text} {i}"), "x": 20.0 * i as f64,
                "y": 700.0, "w": 200.0, "h": 140.0, "color": "yellow", "createdAt": i as f64,
            })
        })
        .collect();
    serde_json::json!({
        "format": "hindsight-board", "version": 1, "title": "Imported", "createdAt": 1.0,
        "voteBudget": 5, "notes": notes,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_held_to_the_live_size_limit() {
    let (_dir, server) = server_with(|c| c.max_document_bytes = 64 * 1024).await;
    let long = "x".repeat(3_000);
    // Within every field limit, but 40 such notes make a board past the size limit.
    let (status, body) = hindsight_tests::http(
        server.addr(),
        "POST",
        "/api/boards/import",
        &backup_of(40, &long),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 65536"), "{body}");
    let (status, body) = hindsight_tests::http(
        server.addr(),
        "POST",
        "/api/boards/import",
        &backup_of(10, &long),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_is_held_to_the_live_note_limit() {
    let (_dir, server) = server_with(|c| c.max_notes = 3).await;
    let backup = |notes: usize| backup_of(notes, "idea");
    let (status, body) =
        hindsight_tests::http(server.addr(), "POST", "/api/boards/import", &backup(3)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        hindsight_tests::http(server.addr(), "POST", "/api/boards/import", &backup(4)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 3"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_headers_is_cut_off_and_open_sockets_are_not() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_dir, server) = server_with(|c| c.header_timeout_secs = 1).await;
    let board = server.create_board().await;
    let idle = YClient::connect(&server.ws_base(), &board).await;
    // Half a request, then nothing (slowloris).
    let mut slow = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: hindsight\r\nX-Wait: ")
        .await
        .unwrap();
    let cut = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let mut buf = [0u8; 512];
        while let Ok(n) = slow.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    assert!(
        cut.is_ok(),
        "a connection sending half its headers is open after 5 s"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // Others are served, and a WebSocket idle for longer than that is still there.
    let (status, _) = hindsight_tests::http(server.addr(), "GET", "/healthz", "").await;
    assert_eq!(status, 200);
    let writer = YClient::connect(&server.ws_base(), &board).await;
    writer.edit(|b, txn| b.add_note(txn, &id("later"), note_in("detect", "after the wait")));
    idle.wait_until("the note, on the idle socket", |b, txn| {
        b.note(txn, &id("later")).is_some()
    })
    .await;
    assert!(idle.closed().is_none());
}

/// The note `key`'s own map, as a stock client reaches it: no schema helper, no clamp.
fn raw_note(b: &hindsight_shared::Board, txn: &yrs::TransactionMut, key: &str) -> yrs::MapRef {
    match b.notes_map().get(txn, key) {
        Some(yrs::Out::YMap(map)) => map,
        other => panic!("note {key} is {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_over_their_limits_are_refused_live_as_on_import() {
    let (_dir, server) = server_with(|_| {}).await;
    let board = server.create_board().await;
    let setup = YClient::connect(&server.ws_base(), &board).await;
    setup.track_saves();
    setup.edit(|b, txn| {
        b.add_note(txn, &id("n"), note_in("actions", "Page sooner"));
        b.set_title(txn, "Checkout outage");
    });
    setup.wait_saved(setup.sent_changes()).await;
    let watcher = YClient::connect(&server.ws_base(), &board).await;
    let huge = "x".repeat(100_000);
    type Write<'a> = Box<dyn Fn(&hindsight_shared::Board, &mut yrs::TransactionMut) + 'a>;
    let refused = |writes: Vec<(&'static str, Write<'static>)>| {
        let (server, board) = (&server, &board);
        async move {
            for (what, write) in writes {
                let writer = YClient::connect(&server.ws_base(), board).await;
                writer
                    .wait_until("the note", |b, txn| b.note(txn, &id("n")).is_some())
                    .await;
                writer.edit(|b, txn| write(b, txn));
                let closed = writer.wait_closed().await;
                assert_eq!(
                    closed.code,
                    Some(close::FIELD_TOO_LONG),
                    "{what}: {closed:?}"
                );
            }
        }
    };
    // Each written the way a stock Yjs client can: straight into the document. A string
    // longer than any field is refused before it is applied: nobody else notices.
    let (a, b, c) = (huge.clone(), huge.clone(), huge.clone());
    refused(vec![
        (
            "a 100k-character note text",
            Box::new(move |bd, txn| {
                let text = bd.note_text(txn, &id("n")).expect("the note's text");
                yrs::Text::insert(&text, txn, 0, &a);
            }),
        ),
        (
            "a 100k-character title",
            Box::new(move |bd, txn| {
                bd.meta_map().insert(txn, "title", b.as_str());
            }),
        ),
        (
            "a 100k-character owner",
            Box::new(move |bd, txn| {
                raw_note(bd, txn, id("n").as_str()).insert(txn, "owner", c.as_str());
            }),
        ),
    ])
    .await;
    watcher.edit(|b, txn| b.edit_text(txn, &id("n"), "Page the database team sooner"));
    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_until("the ordinary edit", |b, txn| {
        b.note(txn, &id("n"))
            .is_some_and(|n| n.text == "Page the database team sooner")
    })
    .await;
    assert!(watcher.closed().is_none(), "only the offenders are closed");

    // What only the result shows (a title of 300 characters, votes past the budget or
    // from too many people) is checked once applied; the room then reloads the board
    // from what is stored, so the change is nowhere, and pages reconnect.
    refused(vec![
        (
            "a 300-character title",
            Box::new(|bd, txn| {
                bd.meta_map().insert(txn, "title", "t".repeat(300));
            }),
        ),
        (
            "a vote count of a billion",
            Box::new(|bd, txn| {
                let note = raw_note(bd, txn, id("n").as_str());
                let votes = note.insert(txn, "votes", yrs::MapPrelim::default());
                votes.insert(txn, "voter", 1e9);
            }),
        ),
        (
            "2,000 voters on one note",
            Box::new(|bd, txn| {
                let note = raw_note(bd, txn, id("n").as_str());
                let votes = note.insert(txn, "votes", yrs::MapPrelim::default());
                for i in 0..2000 {
                    votes.insert(txn, format!("voter-{i}"), 1.0);
                }
            }),
        ),
    ])
    .await;
    let late = YClient::connect(&server.ws_base(), &board).await;
    late.wait_until("the board as it was", |b, txn| {
        b.note(txn, &id("n"))
            .is_some_and(|n| n.text == "Page the database team sooner")
    })
    .await;
    late.edit(|b, txn| {
        let n = b.note(txn, &id("n")).unwrap();
        assert!(n.owner.is_none() && n.votes.is_empty(), "{n:?}");
        assert_eq!(b.title(txn), "Checkout outage");
    });

    // The same limits on import: the backup of such a board would be refused whole.
    let with = |field: &str| {
        let mut note = serde_json::json!({
            "id": "n", "text": "t", "x": 0.0, "y": 700.0, "w": 200.0, "h": 140.0,
            "color": "yellow", "createdAt": 1.0,
        });
        let mut board = serde_json::json!({
            "format": "hindsight-board", "version": 1, "title": "T", "createdAt": 1.0,
            "voteBudget": 5,
        });
        match field {
            "title" => board["title"] = huge.clone().into(),
            "severity" => board["severity"] = huge.clone().into(),
            other => note[other] = huge.clone().into(),
        }
        board["notes"] = serde_json::json!([note]);
        board.to_string()
    };
    for field in ["text", "owner", "author", "title", "severity"] {
        let (status, body) =
            hindsight_tests::http(server.addr(), "POST", "/api/boards/import", &with(field)).await;
        assert_eq!(status, 400, "{field}: {body}");
        assert!(body.contains("longer than"), "{field}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_new_boards_get_429_and_a_full_store_refuses_new_boards_only() {
    let (_dir, server) = server_with(|c| c.creates_per_minute = 5).await;
    let backup = serde_json::json!({
        "format": "hindsight-board", "version": 1, "title": "Imported", "createdAt": 1.0,
        "voteBudget": 5, "notes": [],
    })
    .to_string();
    // Creates and imports share one budget per address.
    for i in 0..5 {
        let path = if i % 2 == 0 {
            "/api/boards"
        } else {
            "/api/boards/import"
        };
        let body = if i % 2 == 0 { "{}" } else { backup.as_str() };
        let (status, body) = hindsight_tests::http(server.addr(), "POST", path, body).await;
        assert_eq!(status, 201, "creation {i}: {body}");
    }
    for (path, body) in [
        ("/api/boards", "{}"),
        ("/api/boards/import", backup.as_str()),
    ] {
        let (status, headers, body) =
            hindsight_tests::http_with_headers(server.addr(), "POST", path, body).await;
        assert_eq!(status, 429, "{path}: {body}");
        let wait: u64 = headers
            .iter()
            .find(|(name, _)| name == "retry-after")
            .and_then(|(_, v)| v.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=60).contains(&wait), "retry after {wait}");
    }

    // A data budget already spent: no new board, but an existing one stays editable.
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |_| {}).await;
    let board = server.create_board().await;
    server.stop().await;
    let server = TestServer::start_with(dir.path(), |c| c.max_data_bytes = Some(1)).await;
    let (status, body) = hindsight_tests::http(server.addr(), "POST", "/api/boards", "{}").await;
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("full"), "{body}");
    let (status, _) =
        hindsight_tests::http(server.addr(), "POST", "/api/boards/import", &backup).await;
    assert_eq!(status, 507);
    let writer = YClient::connect(&server.ws_base(), &board).await;
    writer.track_saves();
    writer.edit(|b, txn| b.add_note(txn, &id("n"), note_in("detect", "still editable")));
    writer.wait_saved(writer.sent_changes()).await;
    assert!(writer.closed().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget_of_new_boards() {
    let post = |addr, forwarded: &'static str| async move {
        hindsight_tests::http::request(
            addr,
            "POST",
            "/api/boards",
            &[("x-forwarded-for", forwarded)],
            "{}",
        )
        .await
        .status
    };
    // The tests' requests come from 127.0.0.1, here the proxy.
    let (_dir, server) = server_with(|c| {
        c.creates_per_minute = 2;
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    for _ in 0..2 {
        assert_eq!(post(server.addr(), "198.51.100.1").await, 201);
    }
    assert_eq!(
        post(server.addr(), "198.51.100.1").await,
        429,
        "Ann's budget is spent"
    );
    // A client cannot pass for another by writing the header itself: the proxy appends
    // the address it saw, and only that last hop counts.
    assert_eq!(
        post(server.addr(), "198.51.100.2, 198.51.100.1").await,
        429,
        "still Ann"
    );
    assert_eq!(
        post(server.addr(), "198.51.100.2").await,
        201,
        "Bo has his own"
    );

    // Without trusted proxies the header means nothing: everyone here is 127.0.0.1.
    let (_dir, server) = server_with(|c| c.creates_per_minute = 2).await;
    assert_eq!(post(server.addr(), "198.51.100.1").await, 201);
    assert_eq!(post(server.addr(), "198.51.100.2").await, 201);
    assert_eq!(post(server.addr(), "198.51.100.3").await, 429);
}
