//! Helpers for end-to-end tests: a real server on a loopback port with a real sled
//! directory, a real Yjs client over a real WebSocket, and condition waits with deadlines
//! (tests never sleep to wait for something).

pub mod binary;
pub mod browser;
pub mod chaos;
pub mod fixtures;
pub mod http;
pub mod node;
pub mod postgres;

pub use http::{http, http_with_headers};

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hindsight_server::{Config, Running, SledStore};
use hindsight_shared::{protocol, Board, BoardId, NoteData};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, Transact, Transaction, TransactionMut, Update};

/// How long any wait in a test may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// Waits until `check` returns `Some`, re-evaluating whenever `changed` fires or every
/// 50 ms, and panics naming `what` after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The built web client, if the caller built it (`cargo xtask test` does).
pub fn dist_dir() -> PathBuf {
    std::env::var_os("HINDSIGHT_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist"))
}

/// A real Hindsight server running in this process on 127.0.0.1 with a sled directory.
pub struct TestServer {
    running: Running,
    pub data_dir: PathBuf,
}

impl TestServer {
    pub async fn start(data_dir: &Path) -> TestServer {
        TestServer::start_with(data_dir, |_| {}).await
    }

    /// Starts with configuration adjusted by `tweak` (defaults otherwise).
    pub async fn start_with(data_dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
        // The documented defaults, whatever fields the configuration grows.
        let mut config = TestServer::config(data_dir);
        tweak(&mut config);
        let store = Arc::new(SledStore::open(&config.data_dir).expect("open sled"));
        TestServer::start_on(config, store).await
    }

    /// Starts on the PostgreSQL database at `url` rather than sled, with configuration
    /// adjusted by `tweak`. Each call is a node of its own: several on one `url` serve
    /// the same boards, as separate processes would.
    pub async fn start_on_database(
        data_dir: &Path,
        url: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let mut config = TestServer::config(data_dir);
        tweak(&mut config);
        let url: hindsight_server::DatabaseUrl = url.parse().expect("a database URL");
        // Its client runs a runtime of its own, which may not start on an async worker.
        let store = tokio::task::spawn_blocking(move || hindsight_server::PgStore::open(&url))
            .await
            .unwrap()
            .expect("open the database");
        TestServer::start_on(config, Arc::new(store)).await
    }

    /// Starts with the given configuration and store, for tests that watch or break
    /// storage.
    pub async fn start_on(config: Config, store: Arc<dyn hindsight_server::Store>) -> TestServer {
        let data_dir = config.data_dir.clone();
        let listener = TcpListener::bind(config.addr).await.expect("bind");
        let running = hindsight_server::start(&config, store, listener).expect("start");
        TestServer { running, data_dir }
    }

    /// The configuration `start` uses, for `start_on`.
    pub fn config(data_dir: &Path) -> Config {
        let mut config = Config::try_parse_from(["hindsight"]).expect("default configuration");
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir.to_owned();
        config.assets = Some(dist_dir());
        config
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    pub fn http_base(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The base URL a `y-websocket` provider takes; the board id is appended to it.
    pub fn ws_base(&self) -> String {
        format!("ws://{}/ws", self.addr())
    }

    /// Creates a board through the public API.
    pub async fn create_board(&self) -> TestBoard {
        create_board(self.addr()).await
    }

    /// Creates a board titled `title` through the public API; returns it and the
    /// facilitator key the answer carries (only its creator ever sees it).
    pub async fn create_facilitated(&self, title: &str) -> (TestBoard, String) {
        let body = serde_json::json!({ "title": title }).to_string();
        let (status, answer) = http(self.addr(), "POST", "/api/boards", &body).await;
        assert_eq!(status, 201, "create board: {answer}");
        let json: serde_json::Value = serde_json::from_str(&answer).expect("JSON answer");
        let key = json["facilitatorKey"]
            .as_str()
            .expect("a facilitator key")
            .to_owned();
        (TestBoard::from_answer(&answer), key)
    }

    /// Creates a board with the `POST /api/boards` body `body` (a title, a template).
    pub async fn create_board_with(&self, body: &serde_json::Value) -> TestBoard {
        let (status, answer) = http(self.addr(), "POST", "/api/boards", &body.to_string()).await;
        assert_eq!(status, 201, "create board {body}: {answer}");
        TestBoard::from_answer(&answer)
    }

    /// The page of `board`, opened with its edit link.
    pub fn page(&self, board: &TestBoard) -> String {
        format!("{}/b/{board}{}", self.http_base(), board.edit_query())
    }

    /// Stops the server cleanly; the data directory is closed when this returns.
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

/// The board's Markdown export, fetched with its read-only link from the server at
/// `addr`; panics unless the server answers 200.
pub async fn markdown_export(addr: SocketAddr, board: &TestBoard) -> String {
    let path = format!("/api/boards/{board}/export.md{}", board.read_query());
    let (status, md) = http(addr, "GET", &path, "").await;
    assert_eq!(status, 200, "the read-only link may export: {md}");
    md
}

/// Creates a board through the public API of the server at `addr`.
pub async fn create_board(addr: SocketAddr) -> TestBoard {
    let (status, body) = http(addr, "POST", "/api/boards", "").await;
    assert_eq!(status, 201, "create board: {body}");
    TestBoard::from_answer(&body)
}

/// A board and its two links, as creating or importing it answered. Displays as its id.
#[derive(Clone, Debug)]
pub struct TestBoard {
    pub id: BoardId,
    pub edit_token: String,
    pub read_token: String,
}

impl TestBoard {
    /// Reads the JSON answer of `POST /api/boards` or `/api/boards/import`.
    pub fn from_answer(body: &str) -> TestBoard {
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON answer");
        let field = |name: &str| {
            json[name]
                .as_str()
                .unwrap_or_else(|| panic!("`{name}` in {body}"))
                .to_owned()
        };
        TestBoard {
            id: field("id").parse().expect("valid board id"),
            edit_token: field("editToken"),
            read_token: field("readToken"),
        }
    }

    /// Reads a board page's URL, `…/b/{id}?token=…`, as the page shows it. With an edit
    /// link both tokens are known (the read token derives from it); with a read-only
    /// link the edit token is left empty.
    pub fn from_url(url: &str) -> TestBoard {
        let (_, rest) = url
            .split_once("/b/")
            .unwrap_or_else(|| panic!("{url} is not a board URL"));
        let (id, query) = rest.split_once("?token=").unwrap_or((rest, ""));
        let token = hindsight_shared::Token::parse(Some(query.split('&').next().unwrap_or("")))
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let edit = match token.claims() {
            hindsight_shared::Access::Edit => token.as_str().to_owned(),
            hindsight_shared::Access::Read => String::new(),
        };
        TestBoard {
            id: id.parse().unwrap_or_else(|e| panic!("{url}: {e}")),
            edit_token: edit,
            read_token: token.read_token().as_str().to_owned(),
        }
    }

    /// The query string of the edit link, `?token=…`.
    pub fn edit_query(&self) -> String {
        format!("?token={}", self.edit_token)
    }

    /// The query string of the read-only link.
    pub fn read_query(&self) -> String {
        format!("?token={}", self.read_token)
    }
}

impl std::fmt::Display for TestBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.id.fmt(f)
    }
}

/// How a WebSocket ended, as the client saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Closed {
    pub code: Option<u16>,
    pub reason: String,
}

/// A Yjs client written with yrs and tokio-tungstenite, speaking the same protocol as the
/// browser and `y-websocket`.
pub struct YClient {
    pub doc: Doc,
    pub board: Board,
    outgoing: mpsc::UnboundedSender<WsMessage>,
    /// Bumped after every message from the server is applied.
    changes: watch::Receiver<u64>,
    closed: watch::Receiver<Option<Closed>>,
    /// The latest `SAVED` count from the server (see `track_saves`).
    saved: watch::Receiver<u64>,
    /// Document messages sent so far, which is what `SAVED` counts.
    sent_changes: Arc<std::sync::atomic::AtomicU64>,
    /// Every presence state (awareness JSON) received, in order.
    presence: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Transaction origin of changes that came from the server, so they are not sent back.
const REMOTE: &str = "remote";

impl YClient {
    /// Connects with the board's edit link and waits until the initial sync with the
    /// server is complete.
    pub async fn connect(ws_base: &str, board: &TestBoard) -> YClient {
        YClient::connect_with(ws_base, board, &board.edit_query()).await
    }

    /// Connects with the board's edit link and the facilitator key `key`, as the
    /// facilitator's page does, and waits until it holds the board.
    pub async fn connect_facilitating(ws_base: &str, board: &TestBoard, key: &str) -> YClient {
        let query = format!("{}&facilitator={key}", board.edit_query());
        YClient::connect_with(ws_base, board, &query).await
    }

    /// Connects with the board's read-only link and waits until it holds the board.
    pub async fn connect_read_only(ws_base: &str, board: &TestBoard) -> YClient {
        YClient::connect_with(ws_base, board, &board.read_query()).await
    }

    async fn connect_with(ws_base: &str, board: &TestBoard, query: &str) -> YClient {
        let client = YClient::connect_unsynced(&format!("{ws_base}/{board}{query}")).await;
        let mut changes = client.changes.clone();
        tokio::time::timeout(DEADLINE, async {
            while !client.has_synced() {
                if changes.changed().await.is_err() {
                    panic!("connection closed before sync: {:?}", client.closed());
                }
            }
        })
        .await
        .expect("initial sync within the deadline");
        client
    }

    /// Connects again as a page does after losing its connection: a new connection that
    /// holds this client's document and sends the server whatever it lacks (the page's
    /// own changes it was never told were saved). It asks for acknowledgements first, as
    /// the page does, so `wait_saved(sent_changes())` waits for those changes.
    pub async fn reconnect(&self, ws_base: &str, board: &TestBoard) -> YClient {
        use yrs::updates::decoder::Decode;
        let again = YClient::connect(ws_base, board).await;
        again.track_saves();
        let missing = self
            .doc
            .transact()
            .encode_diff_v1(&again.doc.transact().state_vector());
        let update = yrs::Update::decode_v1(&missing).expect("our own state decodes");
        // A local transaction: the observer sends it as this client's change.
        again
            .doc
            .transact_mut()
            .apply_update(update)
            .expect("our own state applies");
        again
    }

    /// Connects to a full WebSocket URL without waiting for anything.
    pub async fn connect_unsynced(url: &str) -> YClient {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        let (mut sink, mut stream) = socket.split();
        let doc = hindsight_shared::schema::new_doc(None);
        let board = Board::new(&doc);
        let (outgoing, mut to_send) = mpsc::unbounded_channel::<WsMessage>();
        let (changed_tx, changes) = watch::channel(0u64);
        let (closed_tx, closed) = watch::channel(None);
        let (saved_tx, saved) = watch::channel(0u64);
        let sent_changes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let presence = Arc::new(std::sync::Mutex::new(Vec::new()));

        // Writer: owns the sink; ends when the client is dropped or the socket fails.
        tokio::spawn(async move {
            while let Some(msg) = to_send.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });

        // Local changes are sent as sync updates.
        let tx = outgoing.clone();
        let counter = Arc::clone(&sent_changes);
        doc.observe_update_v1("send-local-changes", move |txn: &TransactionMut, event| {
            let from_server = txn
                .origin()
                .is_some_and(|o| o.as_ref() == REMOTE.as_bytes());
            if !from_server {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let msg = Message::Sync(SyncMessage::Update(event.update.clone()));
                let _ = tx.send(WsMessage::Binary(msg.encode_v1().into()));
            }
        })
        .expect("observe updates");

        // Hello: our state vector, so the server sends what we lack.
        let sv = doc.transact().state_vector();
        let hello = Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1();
        let _ = outgoing.send(WsMessage::Binary(hello.into()));

        // Reader: applies what the server sends; ends when the socket closes.
        let reader_doc = doc.clone();
        let tx = outgoing.clone();
        let counter = Arc::clone(&sent_changes);
        let seen_presence = Arc::clone(&presence);
        tokio::spawn(async move {
            let mut seen = 0u64;
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(WsMessage::Binary(bytes)) => {
                        let message = Message::decode_v1(&bytes).ok();
                        if let Some(n) = message.as_ref().and_then(protocol::read_saved) {
                            let _ = saved_tx.send(n);
                        }
                        if let Some(Message::Awareness(update)) = &message {
                            let mut presence = seen_presence.lock().unwrap();
                            presence.extend(update.clients.values().map(|e| e.json.to_string()));
                        }
                        if let Some(reply) = apply_server_message(&reader_doc, &bytes) {
                            // Our sync step 2 is a document message too.
                            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let _ = tx.send(WsMessage::Binary(reply.into()));
                        }
                        seen += 1;
                        let _ = changed_tx.send(seen);
                    }
                    Ok(WsMessage::Close(frame)) => {
                        // Complete the closing handshake, as browsers do.
                        let _ = tx.send(WsMessage::Close(None));
                        let _ = closed_tx.send(Some(Closed {
                            code: frame.as_ref().map(|f| u16::from(f.code)),
                            reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                        }));
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let _ = closed_tx.send(Some(Closed {
                code: None,
                reason: "connection dropped".into(),
            }));
        });

        YClient {
            doc,
            board,
            outgoing,
            changes,
            closed,
            saved,
            sent_changes,
            presence,
        }
    }

    /// Announces a presence state (awareness JSON, e.g. `{"user":{"name":"Ada"}}`).
    pub fn announce(&self, state: &str) {
        let mut awareness = yrs::sync::Awareness::new(hindsight_shared::schema::new_doc(None));
        awareness.set_local_state_raw(state);
        let update = awareness.update().expect("presence update");
        self.send_raw(Message::Awareness(update).encode_v1());
    }

    /// Whether a presence state containing `fragment` has arrived so far.
    pub fn presence_seen(&self, fragment: &str) -> bool {
        self.presence
            .lock()
            .unwrap()
            .iter()
            .any(|p| p.contains(fragment))
    }

    /// Waits until a presence state containing `fragment` has arrived.
    pub async fn wait_presence(&self, fragment: &str) {
        let seen = || {
            self.presence
                .lock()
                .unwrap()
                .iter()
                .any(|p| p.contains(fragment))
        };
        let mut changes = self.changes.clone();
        tokio::time::timeout(DEADLINE, async {
            while !seen() {
                if changes.changed().await.is_err() {
                    panic!("closed before presence {fragment:?} arrived");
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("presence {fragment:?} within the deadline"));
    }

    /// Asks the server to acknowledge our document messages once they are durable.
    pub fn track_saves(&self) {
        self.send_raw(protocol::track_saves());
    }

    /// Document messages this client has sent (updates and sync step 2).
    pub fn sent_changes(&self) -> u64 {
        self.sent_changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The server's latest acknowledgement: how many of our document messages are stored.
    pub fn saved(&self) -> u64 {
        *self.saved.borrow()
    }

    /// Waits until the server has acknowledged at least `count` document messages.
    pub async fn wait_saved(&self, count: u64) {
        let mut saved = self.saved.clone();
        tokio::time::timeout(DEADLINE, saved.wait_for(|n| *n >= count))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {count} saved; got {}", self.saved()))
            .expect("connection open");
    }

    /// Every board is created with its creation time, so seeing it means the server's
    /// sync step 2 has arrived.
    pub fn has_synced(&self) -> bool {
        self.board.created_at(&self.doc.transact()).is_some()
    }

    /// Makes a local change; it is sent to the server as soon as the closure returns.
    pub fn edit<R>(&self, f: impl FnOnce(&Board, &mut TransactionMut) -> R) -> R {
        let mut txn = self.doc.transact_mut();
        f(&self.board, &mut txn)
    }

    /// Waits until `check` holds on this replica.
    pub async fn wait_until(&self, what: &str, check: impl Fn(&Board, &Transaction) -> bool) {
        let mut changes = self.changes.clone();
        let outcome = tokio::time::timeout(DEADLINE, async {
            loop {
                if check(&self.board, &self.doc.transact()) {
                    return;
                }
                if changes.changed().await.is_err() {
                    // The reader is gone; one last look, then give up.
                    assert!(
                        check(&self.board, &self.doc.transact()),
                        "connection closed"
                    );
                    return;
                }
            }
        })
        .await;
        if outcome.is_err() {
            panic!("timed out waiting for: {what}; notes: {:?}", self.notes());
        }
    }

    pub fn title(&self) -> String {
        self.board.title(&self.doc.transact())
    }

    pub fn notes(&self) -> Vec<NoteData> {
        self.board.notes(&self.doc.transact())
    }

    /// Sends raw bytes as one binary frame (for protocol-abuse tests).
    pub fn send_raw(&self, bytes: Vec<u8>) {
        let _ = self.outgoing.send(WsMessage::Binary(bytes.into()));
    }

    /// Sends a text frame, which the protocol does not allow.
    pub fn send_text(&self, text: &str) {
        let _ = self.outgoing.send(WsMessage::Text(text.into()));
    }

    pub fn closed(&self) -> Option<Closed> {
        self.closed.borrow().clone()
    }

    /// Waits for the server to close the connection and returns how.
    pub async fn wait_closed(&self) -> Closed {
        let mut closed = self.closed.clone();
        tokio::time::timeout(DEADLINE, async {
            loop {
                if let Some(c) = closed.borrow().clone() {
                    return c;
                }
                if closed.changed().await.is_err() {
                    return Closed {
                        code: None,
                        reason: "reader gone".into(),
                    };
                }
            }
        })
        .await
        .expect("server closed the connection within the deadline")
    }

    /// Closes the connection politely.
    pub fn close(&self) {
        let _ = self.outgoing.send(WsMessage::Close(Some(
            tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            },
        )));
    }
}

/// Applies one server message to `doc`; returns the reply the protocol calls for.
fn apply_server_message(doc: &Doc, bytes: &[u8]) -> Option<Vec<u8>> {
    match Message::decode_v1(bytes).ok()? {
        Message::Sync(SyncMessage::SyncStep1(sv)) => {
            let update = doc.transact().encode_state_as_update_v1(&sv);
            Some(Message::Sync(SyncMessage::SyncStep2(update)).encode_v1())
        }
        Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) => {
            let update = Update::decode_v1(&u).expect("server sent a valid update");
            doc.transact_mut_with(REMOTE)
                .apply_update(update)
                .expect("server update applies");
            None
        }
        _ => None,
    }
}
