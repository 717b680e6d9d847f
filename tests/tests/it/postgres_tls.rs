//! The `hindsight` binary on a PostgreSQL that takes TLS connections only
//! (`OwnServer::start_tls`: `hostssl` in `pg_hba.conf`, a test CA): `sslmode=verify-full`
//! with that CA serves a board, and a plain connection or a wrong root fails the start
//! with a message that names the problem. On one that also asks for a client
//! certificate (`cert` in `pg_hba.conf`), `sslcert` and `sslkey` log the node in.

use std::path::Path;

use hindsight_shared::{NewNote, NoteColor};
use hindsight_tests::binary::{run, spawn, Spawned};
use hindsight_tests::fixtures::id;
use hindsight_tests::postgres::OwnServer;
use hindsight_tests::{create_board, YClient};

fn with_tls(database: &OwnServer, mode: &str, root: Option<&Path>) -> String {
    let mut url = format!("{}?sslmode={mode}", database.url());
    if let Some(root) = root {
        url += &format!("&sslrootcert={}", root.display());
    }
    url
}

/// Starts the binary on `url`, and has a client write a note and wait until it is
/// saved. The server runs until the returned handle drops.
async fn saves_a_note(url: &str, text: &str) -> (tempfile::TempDir, Spawned) {
    let dir = tempfile::tempdir().unwrap();
    let server = spawn(dir.path(), &["--database", url]).await;
    let board = create_board(server.addr).await;
    let client = YClient::connect(&format!("ws://{}/ws", server.addr), &board).await;
    client.track_saves();
    client.edit(|b, txn| {
        b.add_note(
            txn,
            &id("saved"),
            NewNote::at(10.0, 10.0, text)
                .color(NoteColor::Yellow)
                .created_at(1.0),
        )
    });
    client.wait_saved(client.sent_changes()).await;
    (dir, server)
}

/// A column of `pg_stat_ssl` for each of the server's connections: not this query's
/// own, which comes over the Unix socket.
fn of_the_servers_connections(database: &OwnServer, column: &str) -> Vec<String> {
    database.sql(&format!(
        "SELECT {column} FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE datname = 'hindsight' AND pid <> pg_backend_pid()"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_with_the_servers_ca_serves_a_board_over_tls() {
    let database = OwnServer::start_tls();
    let url = with_tls(&database, "verify-full", Some(&database.ca()));
    let _server = saves_a_note(&url, "sent over TLS").await;
    assert_ne!(
        database.sql("SELECT count(*) FROM updates"),
        ["0"],
        "the write landed"
    );
    let by_ssl = of_the_servers_connections(&database, "ssl");
    assert!(
        !by_ssl.is_empty() && by_ssl.iter().all(|ssl| ssl == "t"),
        "every connection of the server is TLS: {by_ssl:?}"
    );
}

/// Starts the binary on `url`, which must fail: its standard error.
async fn refused(url: &str) -> String {
    let out = run(["--addr", "127.0.0.1:0", "--database", url]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "started on {url}: {stderr}");
    assert!(out.stdout.is_empty(), "nothing served: {stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database postgres://postgres@"),
        "{stderr}"
    );
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_connection_or_a_wrong_root_fails_the_start_with_the_reason() {
    let database = OwnServer::start_tls();

    let plain = refused(&with_tls(&database, "disable", None)).await;
    assert!(
        plain.contains("no pg_hba.conf entry") && plain.contains("no encryption"),
        "the server's refusal of a plain connection: {plain}"
    );

    let wrong = refused(&with_tls(
        &database,
        "verify-full",
        Some(&database.other_ca()),
    ))
    .await;
    assert!(
        wrong.contains("TLS") && wrong.contains("invalid peer certificate: UnknownIssuer"),
        "a certificate from a CA not trusted: {wrong}"
    );

    let missing = database.ca().with_file_name("missing.pem");
    let unreadable = refused(&with_tls(&database, "verify-ca", Some(&missing))).await;
    assert!(
        unreadable.contains(&format!("sslrootcert {}: ", missing.display())),
        "{unreadable}"
    );

    // A host name the certificate does not name, on the server's address.
    let elsewhere = |mode: &str| {
        format!(
            "host=elsewhere.invalid hostaddr=127.0.0.1 port={} user=postgres dbname=hindsight \
             sslmode={mode} sslrootcert={}",
            database.port(),
            database.ca().display()
        )
    };
    let misnamed = refused(&elsewhere("verify-full")).await;
    assert!(
        misnamed.contains("invalid peer certificate: certificate not valid for name"),
        "{misnamed}"
    );

    // `verify-ca` checks the chain, not the name; `require` encrypts without checking
    // whose certificate it is.
    for ok in [elsewhere("verify-ca"), with_tls(&database, "require", None)] {
        let dir = tempfile::tempdir().unwrap();
        let server = spawn(dir.path(), &["--database", &ok]).await;
        create_board(server.addr).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_logs_in_where_the_database_asks_for_one() {
    let database = OwnServer::start_client_certificates();
    let verified = with_tls(&database, "verify-full", Some(&database.ca()));
    let identity = |cert: &Path, key: &Path| {
        format!(
            "{verified}&sslcert={}&sslkey={}",
            cert.display(),
            key.display()
        )
    };

    let without = refused(&verified).await;
    assert!(
        without.contains("connection requires a valid client certificate"),
        "the server's refusal of a connection without one: {without}"
    );
    // The server's key is a real key, but not the one the client certificate names.
    let mismatched = refused(&identity(&database.client_cert(), &database.server_key())).await;
    assert!(
        mismatched.contains(&format!(
            "sslkey {}: cannot be used with sslcert {}",
            database.server_key().display(),
            database.client_cert().display()
        )),
        "{mismatched}"
    );
    // The system's roots do not hold the test CA: proof they, and not a file named
    // "system", were asked.
    let system = refused(&format!("{}?sslrootcert=system", database.url())).await;
    assert!(
        system.contains("invalid peer certificate: UnknownIssuer")
            || system.contains("no trusted root certificates in the system's store"),
        "{system}"
    );

    let url = identity(&database.client_cert(), &database.client_key());
    let _server = saves_a_note(&url, "logged in by certificate").await;
    let logged_in = of_the_servers_connections(&database, "client_dn");
    assert!(
        !logged_in.is_empty() && logged_in.iter().all(|dn| dn == "/CN=postgres"),
        "every connection of the server showed the certificate: {logged_in:?}"
    );
}
