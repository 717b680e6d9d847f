//! Operating Hindsight: the binary started from an empty directory serves the client it
//! embeds; health, readiness and metrics; logs; the offline admin commands (list, export,
//! import, delete, backup, restore) against a real data directory; configuration that is
//! refused before the server binds.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hindsight_shared::{NewNote, NoteColor};
use hindsight_tests::binary::{run as hindsight, server_binary, spawn};
use hindsight_tests::fixtures::{id, note_at};
use hindsight_tests::http::get;
use hindsight_tests::{create_board, eventually, http, TestBoard, TestServer, YClient, DEADLINE};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Runs an admin command against the running server at `url` (`--server`) with the admin
/// token in `token_file`.
async fn remote(url: &str, token_file: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    all.extend([
        OsStr::new("--server"),
        OsStr::new(url),
        OsStr::new("--admin-token-file"),
        token_file.as_os_str(),
    ]);
    hindsight(all).await
}

/// [`remote`] for a command that must succeed; returns its standard output.
async fn remote_ok(url: &str, token_file: &Path, args: &[&str]) -> String {
    let output = remote(url, token_file, args).await;
    assert!(
        output.status.success(),
        "hindsight {args:?} --server failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs an admin command against `data` that must succeed; returns its standard output.
async fn admin(data: &Path, args: &[&str]) -> String {
    let output = hindsight(
        args.iter()
            .map(OsStr::new)
            .chain([OsStr::new("--data-dir"), data.as_os_str()]),
    )
    .await;
    assert!(
        output.status.success(),
        "hindsight {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs an admin command against `data` that must fail; returns its standard error.
async fn admin_fails(data: &Path, args: &[&str]) -> String {
    let output = hindsight(
        args.iter()
            .map(OsStr::new)
            .chain([OsStr::new("--data-dir"), data.as_os_str()]),
    )
    .await;
    assert!(
        !output.status.success(),
        "hindsight {args:?} should have failed"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The value of an unlabelled metric in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
        .trim()
        .parse()
        .expect("a number")
}

/// Grace's notes in Prevent, one below the other in the order she wrote them.
fn note(slot: usize, text: &str) -> NewNote {
    note_at("prevent", (20.0, 20.0 + 150.0 * slot as f64), text)
        .color(NoteColor::Green)
        .created_at(1_795_180_000_000.0 + slot as f64)
        .by("Grace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_client_it_embeds_from_an_empty_directory() {
    let empty = tempfile::tempdir().unwrap();
    // No --assets, and nothing in the working directory: the client comes from the binary.
    let server = spawn(empty.path(), &["--data-dir", "data"]).await;
    let addr = server.addr;

    let index = get(addr, "/", &[]).await;
    assert_eq!(
        index.status, 200,
        "the start page is served (is the client built?)"
    );
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let board = get(
        addr,
        &format!("/b/{}", hindsight_shared::BoardId::from_random([7; 16])),
        &[],
    )
    .await;
    assert_eq!(board.status, 200);
    assert_eq!(
        board.body, index.body,
        "every page is the client's index.html"
    );
    assert_eq!(board.header("cache-control"), Some("no-cache"));

    // The files index.html names carry content hashes and are cached for good.
    let html = String::from_utf8(index.body).unwrap();
    let named: Vec<&str> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with('/') && (s.ends_with(".wasm") || s.ends_with(".js")))
        .collect();
    let wasm = named
        .iter()
        .find(|s| s.ends_with(".wasm"))
        .expect("a .wasm");
    let js = named.iter().find(|s| s.ends_with(".js")).expect("a .js");
    let module = get(addr, wasm, &[]).await;
    assert_eq!(module.status, 200, "{wasm}");
    assert_eq!(module.header("content-type"), Some("application/wasm"));
    assert_eq!(
        module.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(module.body.starts_with(b"\0asm"), "a WebAssembly module");
    let script = get(addr, js, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(script.status, 200, "{js}");
    assert!(script
        .header("content-type")
        .is_some_and(|t| t.contains("javascript")));
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(script.header("content-encoding"), Some("gzip"));

    assert_eq!(get(addr, "/no-such-file.js", &[]).await.status, 404);
    let entries: Vec<_> = std::fs::read_dir(empty.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["data"], "the binary needs nothing beside it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_move_when_a_client_edits() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let addr = server.addr();
    let healthz = get(addr, "/healthz", &[]).await;
    assert_eq!(
        (healthz.status, healthz.body.as_slice()),
        (200, &b"ok\n"[..])
    );
    let readyz = get(addr, "/readyz", &[]).await;
    assert_eq!(
        (readyz.status, readyz.body.as_slice()),
        (200, &b"ready\n"[..])
    );

    let scrape = || async {
        let reply = get(addr, "/metrics", &[]).await;
        assert_eq!(reply.status, 200);
        assert!(reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
        String::from_utf8(reply.body).unwrap()
    };
    let before = scrape().await;
    let counters = [
        "hindsight_updates_received_total",
        "hindsight_updates_broadcast_total",
        "hindsight_bytes_in_total",
        "hindsight_bytes_out_total",
        "hindsight_persist_seconds_count",
    ];

    let board = server.create_board().await;
    let writer = YClient::connect(&server.ws_base(), &board).await;
    let watcher = YClient::connect(&server.ws_base(), &board).await;
    let id = id("metered");
    writer.edit(|b, txn| b.add_note(txn, &id, note(0, "watch the disk")));
    watcher
        .wait_until("the watcher sees the note", |b, txn| {
            b.note(txn, &id).is_some()
        })
        .await;

    // Metrics are process-wide and other tests run beside this one: counters only grow.
    let during = scrape().await;
    for name in counters {
        assert!(
            metric(&during, name) > metric(&before, name),
            "{name} did not move:\n{during}"
        );
    }
    assert!(metric(&during, "hindsight_connections") >= 2.0, "{during}");
    assert!(
        metric(&during, "hindsight_boards_loaded") >= 1.0,
        "{during}"
    );
    assert!(during.contains("hindsight_persist_seconds_bucket{le=\"0.005\"}"));
    assert!(during.contains("hindsight_errors_total{kind=\"protocol\"}"));

    // A text frame is a protocol error; it is counted.
    let errors = |text: &str| metric(text, "hindsight_errors_total{kind=\"protocol\"}");
    let rude = YClient::connect(&server.ws_base(), &board).await;
    rude.send_text("hello?");
    rude.wait_closed().await;
    assert!(errors(&scrape().await) > errors(&during));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_a_span_per_connection_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &["--data-dir", "data", "--log-format", "json"]).await;
    let (status, body) = http(server.addr, "POST", "/api/boards", "").await;
    assert_eq!(status, 201);
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let board = TestBoard::from_answer(&body);
    let key = created["facilitatorKey"].as_str().unwrap().to_owned();
    let client = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;

    let connected = eventually("a log line for the connection", || async {
        let log = server.log.lock().unwrap().clone();
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["fields"]["message"] == "connected")
    })
    .await;
    assert_eq!(connected["span"]["name"], "conn");
    assert_eq!(connected["span"]["board"], board.to_string());
    assert!(connected["span"]["conn"].is_u64(), "{connected}");
    drop(client);
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "every line is JSON:\n{log}"
    );
    assert!(!log.contains(&key), "the facilitator key is never logged");
    assert!(
        !log.contains(&board.edit_token[2..]),
        "link tokens are never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_from_foreign_origins_are_refused_once_origins_are_configured() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(dir.path(), |c| {
        c.public_url = Some("https://hindsight.example".into());
        c.allowed_origins = vec!["http://localhost:8080".into()];
    })
    .await;
    let board = server.create_board().await;
    let url = format!("{}/{board}{}", server.ws_base(), board.edit_query());
    let connect = |origin: Option<&'static str>| {
        let mut request = url.clone().into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
    };
    for allowed in [
        Some("https://hindsight.example"),
        Some("http://localhost:8080"),
        None,
    ] {
        let (socket, _) = connect(allowed)
            .await
            .unwrap_or_else(|e| panic!("{allowed:?} must be let in: {e}"));
        drop(socket);
    }
    match connect(Some("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("a foreign origin must be refused, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_create_or_import_boards_through_a_visitors_browser() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path()).await;
    let addr = server.addr();
    let board = server.create_board().await;
    let backup = get(
        addr,
        &format!("/api/boards/{board}/export.json{}", board.edit_query()),
        &[],
    )
    .await
    .text();
    let timeline = format!("/api/boards/{board}/timeline{}", board.edit_query());
    let writes = [
        ("/api/boards", String::new()),
        ("/api/boards/import", backup),
        (
            timeline.as_str(),
            "2026-11-24T14:02:00Z Pager fired for checkout latency".to_owned(),
        ),
    ];
    // This server's own pages, and clients that are not browsers, may write.
    let own = format!("http://{addr}");
    for headers in [vec![("origin", own.as_str())], vec![]] {
        for (path, body) in &writes {
            let reply = http::request(addr, "POST", path, &headers, body).await;
            assert!(
                reply.status == 200 || reply.status == 201,
                "{path} from {headers:?}: {} {}",
                reply.status,
                reply.text()
            );
        }
    }
    // A form or a no-cors fetch on another site may not, whatever it claims to be.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![
            ("origin", "https://evil.example"),
            ("content-type", "text/plain"),
        ],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        for (path, body) in &writes {
            let reply = http::request(addr, "POST", path, &headers, body).await;
            assert_eq!(
                reply.status,
                403,
                "{path} from {headers:?}: {}",
                reply.text()
            );
        }
    }
    server.stop().await;
}

/// Three boards with content, one of them with more updates than a snapshot holds (so
/// the backup must fold stored updates in), written through a real server.
async fn make_boards(data: &Path) -> Vec<TestBoard> {
    let server = TestServer::start_with(data, |c| {
        c.compact_every = 4;
        c.compact_growth_percent = 0;
    })
    .await;
    let mut ids = Vec::new();
    for (i, title) in ["Payments outage", "DNS flap", "Empty"].iter().enumerate() {
        let body = format!(r#"{{"title":"{title}"}}"#);
        let (status, reply) = http(server.addr(), "POST", "/api/boards", &body).await;
        assert_eq!(status, 201, "{reply}");
        let board = TestBoard::from_answer(&reply);
        let notes = [7, 2, 0][i];
        if notes > 0 {
            let client = YClient::connect(&server.ws_base(), &board).await;
            for n in 0..notes {
                let note_id = id(&format!("n{n}"));
                client.edit(|b, txn| b.add_note(txn, &note_id, note(n, &format!("{title} {n}"))));
            }
            let check = YClient::connect(&server.ws_base(), &board).await;
            check
                .wait_until("every note is stored", |b, txn| {
                    b.note_count(txn) == notes as u32
                })
                .await;
        }
        ids.push(board);
    }
    server.stop().await;
    ids
}

/// Every board's JSON export, by id.
async fn exports(data: &Path, ids: &[TestBoard]) -> Vec<String> {
    let mut all = Vec::new();
    for id in ids {
        all.push(
            admin(
                data,
                &["boards", "export", &id.to_string(), "--format", "json"],
            )
            .await,
        );
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_every_board_identically_into_a_wiped_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ids = make_boards(&data).await;

    let listed = admin(&data, &["boards", "list"]).await;
    for id in &ids {
        assert!(listed.contains(&id.to_string()), "{listed}");
    }
    assert!(listed.contains("Payments outage") && listed.contains("DNS flap"));
    // Each board is listed with the template it was made from.
    assert!(
        listed.contains("TEMPLATE") && listed.contains("  postmortem  "),
        "{listed}"
    );
    let before = exports(&data, &ids).await;
    let markdown = admin(&data, &["boards", "export", &ids[0].to_string()]).await;
    assert!(markdown.contains("Payments outage 6"), "{markdown}");

    let file = dir.path().join("hindsight.backup");
    let said = admin(&data, &["backup", file.to_str().unwrap()]).await;
    assert!(said.contains("3 board(s)"), "{said}");
    std::fs::remove_dir_all(&data).unwrap();

    admin(&data, &["restore", file.to_str().unwrap()]).await;
    assert_eq!(
        exports(&data, &ids).await,
        before,
        "every board is identical"
    );
    assert_eq!(admin(&data, &["boards", "list"]).await, listed);
    // The links come back with the boards: the old ones still work.
    {
        let server = TestServer::start(&data).await;
        let writer = YClient::connect(&server.ws_base(), &ids[0]).await;
        let reader = YClient::connect_read_only(&server.ws_base(), &ids[1]).await;
        assert_eq!(writer.notes().len(), 7);
        assert_eq!(reader.notes().len(), 2);
        drop((writer, reader));
        server.stop().await;
    }

    // A data directory that holds boards is only overwritten on request.
    let refused = admin_fails(&data, &["restore", file.to_str().unwrap()]).await;
    assert!(refused.contains("already holds 3 boards"), "{refused}");
    assert!(refused.contains("--force"), "{refused}");
    admin(&data, &["restore", file.to_str().unwrap(), "--force"]).await;
    assert_eq!(exports(&data, &ids).await, before);

    // A damaged backup is refused whole, before anything is written.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let damaged = dir.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    let refused = admin_fails(&elsewhere, &["restore", damaged.to_str().unwrap()]).await;
    assert!(refused.contains("damaged or incomplete"), "{refused}");
    assert!(!elsewhere.exists(), "nothing was written");
    let export_json = dir.path().join("board.json");
    std::fs::write(&export_json, &before[0]).unwrap();
    let refused = admin_fails(&elsewhere, &["restore", export_json.to_str().unwrap()]).await;
    assert!(refused.contains("not a Hindsight backup"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boards_move_between_data_dirs_by_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ids = make_boards(&data).await;
    let original = ids[0].to_string();

    let file = dir.path().join("payments.json");
    admin(
        &data,
        &[
            "boards",
            "export",
            &original,
            "--format",
            "json",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .await;
    let other = dir.path().join("other");
    let said = admin(&other, &["boards", "import", file.to_str().unwrap()]).await;
    let field = |name: &str| {
        said.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no `{name}` in:\n{said}"))
            .trim()
            .to_owned()
    };
    let imported = TestBoard::from_url(&field("edit link:"));
    assert_eq!(imported.id.to_string(), field("board:"));
    assert_eq!(
        TestBoard::from_url(&field("read-only link:")).read_token,
        imported.read_token
    );
    let key = field("facilitator key:");
    assert_eq!(
        admin(
            &other,
            &[
                "boards",
                "export",
                &imported.to_string(),
                "--format",
                "json"
            ]
        )
        .await,
        std::fs::read_to_string(&file).unwrap(),
        "the imported board is the exported one"
    );

    // The printed link opens the board, and the key is its facilitator key.
    let server = TestServer::start(&other).await;
    let client = YClient::connect(&server.ws_base(), &imported).await;
    assert!(client.edit(|b, txn| b.is_facilitator(txn, &key)));
    drop(client);
    server.stop().await;

    // New links replace the old ones, which stop working.
    let said = admin(&other, &["boards", "links", &imported.id.to_string()]).await;
    let relinked = TestBoard::from_url(
        said.lines()
            .find_map(|l| l.strip_prefix("edit link:"))
            .unwrap_or_else(|| panic!("no edit link in:\n{said}"))
            .trim(),
    );
    assert_ne!(relinked.edit_token, imported.edit_token);
    let server = TestServer::start(&other).await;
    for old in [imported.edit_query(), imported.read_query()] {
        let refused =
            YClient::connect_unsynced(&format!("{}/{}{old}", server.ws_base(), imported)).await;
        assert_eq!(
            refused.wait_closed().await.code,
            Some(hindsight_shared::close::TOKEN_REFUSED)
        );
    }
    let client = YClient::connect(&server.ws_base(), &relinked).await;
    assert!(client.edit(|b, txn| b.is_facilitator(txn, &key)));
    drop(client);
    server.stop().await;
    let unknown = admin_fails(&other, &["boards", "links", &"ab".repeat(16)]).await;
    assert!(unknown.contains("there is no board"), "{unknown}");

    // Deleting is for good, and only for a board that exists.
    let said = admin(&data, &["boards", "delete", &original]).await;
    assert!(said.contains(&original), "{said}");
    let listed = admin(&data, &["boards", "list"]).await;
    assert!(!listed.contains(&original), "{listed}");
    assert!(listed.contains(&ids[1].to_string()), "{listed}");
    let gone = admin_fails(&data, &["boards", "export", &original]).await;
    assert!(gone.contains("there is no board"), "{gone}");
    let bad = admin_fails(&data, &["boards", "delete", "not-an-id"]).await;
    assert!(bad.contains("is not a board id"), "{bad}");
    let missing = admin_fails(&dir.path().join("typo"), &["boards", "list"]).await;
    assert!(missing.contains("there is no data directory"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_is_refused_with_a_clear_message_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let a_file = dir.path().join("a-file");
    std::fs::write(&a_file, "not a directory").unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    async fn check(args: &[&str], env: &[(&str, &str)], expected: &str) {
        let mut command = Command::new(server_binary());
        command
            .args(args)
            .env_remove("HINDSIGHT_DATA_DIR")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = tokio::time::timeout(DEADLINE, command.output())
            .await
            .unwrap_or_else(|_| panic!("{args:?} {env:?} must exit at once, not serve"))
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{args:?} {env:?} must fail");
        assert!(!stdout.contains("running"), "{args:?} started serving");
        assert!(
            stderr.contains(expected),
            "{args:?} {env:?}: expected {expected:?} in:\n{stderr}"
        );
        assert!(stderr.contains("error"), "{stderr}");
    }
    // A free port unless the case is about the address, so nothing could collide.
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let port = ["--addr", "127.0.0.1:0"]
            .into_iter()
            .filter(|_| !extra.contains(&"--addr"));
        port.chain(["--data-dir", data])
            .chain(extra.iter().copied())
            .collect()
    };
    check(
        &with(&["--addr", "somewhere"]),
        &[],
        "invalid value 'somewhere' for '--addr",
    )
    .await;
    check(
        &with(&["--public-url", "ftp://x.example"]),
        &[],
        "http:// or https://",
    )
    .await;
    check(
        &with(&["--allowed-origins", "https://a.example/path"]),
        &[],
        "is not an origin",
    )
    .await;
    check(
        &with(&["--max-message-bytes", "12"]),
        &[],
        "between 1024 and",
    )
    .await;
    check(&with(&["--compact-every", "0"]), &[], "--compact-every").await;
    check(&with(&["--log-format", "xml"]), &[], "--log-format").await;
    check(
        &with(&["--frobnicate"]),
        &[],
        "unexpected argument '--frobnicate'",
    )
    .await;
    check(
        &["--addr", "127.0.0.1:0", "--data-dir", data],
        &[("HINDSIGHT_ROOM_QUEUE", "none")],
        "--room-queue",
    )
    .await;
    check(
        &[
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            a_file.to_str().unwrap(),
        ],
        &[],
        "cannot create data directory",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_taken_while_people_write_restores_everything_they_saved() {
    let dir = tempfile::tempdir().unwrap();
    let token = "b4ckup-t0ken-for-operat0rs-0nly";
    std::fs::write(dir.path().join("admin-token"), format!("{token}\n")).unwrap();
    let server = spawn(
        dir.path(),
        &[
            "--data-dir",
            "data",
            "--log-format",
            "json",
            "--admin-token-file",
            "admin-token",
        ],
    )
    .await;
    let ws = format!("ws://{}/ws", server.addr);
    let boards = [
        create_board(server.addr).await,
        create_board(server.addr).await,
    ];

    // The admin API wants the token: none is 401, a wrong one 403.
    let backup_path = "/api/admin/backup";
    assert_eq!(get(server.addr, backup_path, &[]).await.status, 401);
    let wrong = [("authorization", "Bearer not-the-admin-token-at-all")];
    assert_eq!(get(server.addr, backup_path, &wrong).await.status, 403);
    assert_eq!(
        get(server.addr, "/api/admin/boards", &wrong).await.status,
        403
    );
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let listed: serde_json::Value =
        serde_json::from_str(&get(server.addr, "/api/admin/boards", &auth).await.text()).unwrap();
    let mut ids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut expected: Vec<String> = boards.iter().map(|b| b.id.to_string()).collect();
    expected.sort();
    assert_eq!(ids, expected);

    // Two people keep adding notes, one a change, each change acknowledged once stored.
    let stop = Arc::new(AtomicBool::new(false));
    let (mut writers, mut clients, mut before) = (Vec::new(), Vec::new(), Vec::new());
    for (who, board) in boards.iter().enumerate() {
        let client = Arc::new(YClient::connect(&ws, board).await);
        client.track_saves();
        // Its sync messages so far are counted too; the notes are the changes after.
        before.push(client.sent_changes());
        clients.push(Arc::clone(&client));
        let stop = Arc::clone(&stop);
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                client.edit(|b, txn| {
                    let note = note_at("detect", (10.0, 10.0), format!("note {n}"));
                    b.add_note(txn, &id(&format!("a{who}b{n:014}")), note);
                });
                n += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }));
    }
    eventually("both writers saving", || async {
        clients.iter().all(|c| c.saved() > 20).then_some(())
    })
    .await;

    // What each had acknowledged when the backup began must be in it; they go on
    // writing while it streams.
    let acknowledged: Vec<u64> = clients
        .iter()
        .zip(&before)
        .map(|(c, before)| c.saved().saturating_sub(*before))
        .collect();
    let backup = get(server.addr, backup_path, &auth).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(backup.status, 200, "{}", backup.text());
    let file = dir.path().join("online.backup");
    std::fs::write(&file, &backup.body).unwrap();

    // Restored into an empty directory, with the offline tool.
    let empty = dir.path().join("restored");
    admin(&empty, &["restore", file.to_str().unwrap()]).await;
    for (who, (board, saved)) in boards.iter().zip(&acknowledged).enumerate() {
        let json = admin(
            &empty,
            &[
                "boards",
                "export",
                &board.id.to_string(),
                "--format",
                "json",
            ],
        )
        .await;
        let export: serde_json::Value = serde_json::from_str(&json).unwrap();
        let held: std::collections::HashSet<&str> = export["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap())
            .collect();
        for n in 0..*saved {
            let note = format!("a{who}b{n:014}");
            assert!(
                held.contains(note.as_str()),
                "acknowledged note {note} is missing from the backup"
            );
        }
    }

    // The same from the command line, against the running server.
    let url = format!("http://{}", server.addr);
    let token_file = dir.path().join("admin-token");
    let listed = remote_ok(&url, &token_file, &["boards", "list"]).await;
    for board in &boards {
        assert!(listed.contains(&board.id.to_string()), "{listed}");
    }
    let second = dir.path().join("from-the-cli.backup");
    remote_ok(&url, &token_file, &["backup", second.to_str().unwrap()]).await;
    let elsewhere = dir.path().join("restored-again");
    admin(&elsewhere, &["restore", second.to_str().unwrap()]).await;
    let boards_there = admin(&elsewhere, &["boards", "list"]).await;
    for board in &boards {
        assert!(
            boards_there.contains(&board.id.to_string()),
            "{boards_there}"
        );
    }
    let wrong_file = dir.path().join("wrong-token");
    std::fs::write(&wrong_file, "not-the-admin-token-at-all").unwrap();
    let refused = remote(&url, &wrong_file, &["boards", "list"]).await;
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("403"), "{said}");

    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("online backup written"), "{log}");
    assert!(!log.contains(token), "the admin token is never logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_board_is_exported_relinked_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0perat0r-t0ken-for-live-b0ards";
    let token_file = dir.path().join("admin-token");
    std::fs::write(&token_file, token).unwrap();
    let server = spawn(
        dir.path(),
        &["--data-dir", "data", "--admin-token-file", "admin-token"],
    )
    .await;
    // Each command is run as an operator would: the binary, with --server.
    let ws = format!("ws://{}/ws", server.addr);
    let url = format!("http://{}", server.addr);
    let board = create_board(server.addr).await;
    let other = create_board(server.addr).await;
    let ada = YClient::connect(&ws, &board).await;
    ada.track_saves();
    ada.edit(|b, txn| b.add_note(txn, &id("said-live"), note(0, "seen while live")));
    ada.wait_saved(ada.sent_changes()).await;

    // Export, while Ada is on the board: what she saved is in it.
    let json = remote_ok(
        &url,
        &token_file,
        &[
            "boards",
            "export",
            &board.id.to_string(),
            "--format",
            "json",
        ],
    )
    .await;
    let export: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(json.contains("seen while live"), "{json}");
    assert_eq!(export["notes"].as_array().unwrap().len(), 1, "{json}");
    let markdown = dir.path().join("board.md");
    remote_ok(
        &url,
        &token_file,
        &[
            "boards",
            "export",
            &board.id.to_string(),
            "-o",
            markdown.to_str().unwrap(),
        ],
    )
    .await;
    let markdown = std::fs::read_to_string(markdown).unwrap();
    assert!(markdown.contains("seen while live"), "{markdown}");

    // New links: Ada, who came in through the old ones, is disconnected; the old link
    // no longer opens the board, the new one does, and nothing she saved is lost.
    let printed = remote_ok(
        &url,
        &token_file,
        &["boards", "links", &board.id.to_string()],
    )
    .await;
    let edit_link = printed
        .lines()
        .find_map(|l| l.strip_prefix("edit link: "))
        .unwrap_or_else(|| panic!("{printed}"));
    assert!(edit_link.starts_with(&url), "{edit_link}");
    let closed = ada.wait_closed().await;
    assert_eq!(closed.code, Some(hindsight_shared::close::TOKEN_REFUSED));
    let old = YClient::connect_unsynced(&format!("{ws}/{}{}", board.id, board.edit_query())).await;
    assert_eq!(
        old.wait_closed().await.code,
        Some(hindsight_shared::close::TOKEN_REFUSED)
    );
    let relinked = TestBoard::from_url(edit_link);
    let bo = YClient::connect(&ws, &relinked).await;
    assert_eq!(bo.notes().len(), 1, "the board kept its note");

    // Deletion: Bo, on the board, is told it is gone; the board is not listed, does not
    // open, and does not come back when its room would have unloaded; the other board
    // is untouched.
    remote_ok(
        &url,
        &token_file,
        &["boards", "delete", &board.id.to_string()],
    )
    .await;
    assert_eq!(
        bo.wait_closed().await.code,
        Some(hindsight_shared::close::BOARD_NOT_FOUND)
    );
    let listed = remote_ok(&url, &token_file, &["boards", "list"]).await;
    assert!(!listed.contains(&board.id.to_string()), "{listed}");
    assert!(listed.contains(&other.id.to_string()), "{listed}");
    let again =
        YClient::connect_unsynced(&format!("{ws}/{}{}", relinked.id, relinked.edit_query())).await;
    assert!(matches!(
        again.wait_closed().await.code,
        Some(hindsight_shared::close::TOKEN_REFUSED | hindsight_shared::close::BOARD_NOT_FOUND)
    ));
    let output = remote(
        &url,
        &token_file,
        &["boards", "delete", &board.id.to_string()],
    )
    .await;
    assert!(!output.status.success(), "a second delete finds no board");
    assert!(String::from_utf8_lossy(&output.stderr).contains("404"));
    let refused = remote(&url, &token_file, &["restore", "any.backup"]).await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop the server"));
    let mut server = server;
    server.child.kill().await.unwrap();
    let data = dir.path().join("data");
    let offline = admin(&data, &["boards", "list"]).await;
    assert!(!offline.contains(&board.id.to_string()), "{offline}");
}
