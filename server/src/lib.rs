//! The Hindsight server: an axum app that serves the web client, creates boards, and
//! syncs each board's Yrs document over WebSockets, storing every change in sled before
//! anyone else sees it.
//!
//! [`start`] runs the server on a listener and returns a handle whose
//! [`Running::shutdown`] stops accepting, closes sockets with "going away", lets every
//! room write its last snapshot and flushes the store. The binary's other commands
//! (offline board administration, backups) are in [`cli`], [`admin`] and [`backup`].

pub mod admin;
pub mod api;
pub mod app;
pub mod assets;
pub mod backup;
pub mod boards;
pub mod cli;
pub mod commit;
pub mod config;
pub mod edit;
pub mod guard;
pub mod health;
pub mod history;
pub mod limits;
pub mod links;
pub mod logging;
pub mod online;
pub mod proxies;
pub mod remote;
pub mod replay;
pub mod room;
pub mod rooms;
pub mod seats;
pub mod security;
pub mod stats;
pub mod store;
pub mod vocabulary;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use app::{app, AppState};
pub use config::Config;
pub use store::{DatabaseUrl, Location, MemStore, PgStore, SledStore, Store, StoreError};

/// A server that is accepting connections.
pub struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    http: JoinHandle<std::io::Result<()>>,
    store: Arc<dyn Store>,
}

/// Starts serving on `listener` with `store`.
pub fn start(
    config: &Config,
    store: Arc<dyn Store>,
    listener: TcpListener,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    // Metrics are recorded from here on; installing is a no-op after the first server.
    stats::handle();
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let rooms = rooms::Rooms::new(
        Arc::clone(&store),
        config.rooms(),
        tracker.clone(),
        shutdown.clone(),
    );
    let state = AppState {
        rooms,
        assets: assets::Assets::new(config.assets.clone()),
        public_url: config.public_url.clone(),
        websocket_origins: config.websocket_origins().map(Into::into),
        max_message_bytes: config.max_message_bytes,
        max_import_bytes: config.max_import_bytes,
        limits: config.limits(),
        connections: Arc::new(tokio::sync::Semaphore::new(config.max_connections)),
        shutdown: shutdown.clone(),
        tracker: tracker.clone(),
        creations: Arc::new(limits::CreationLimit::new(config.creates_per_minute)),
        trusted_proxies: Arc::new(proxies::TrustedProxies::new(config.trusted_proxies.clone())),
        max_data_bytes: config.max_data_bytes,
        admin_token: config.admin_token().map_err(std::io::Error::other)?,
    };
    let router = app(state);
    let stop = shutdown.clone();
    // The HTTP server task; it ends once shutdown is signalled and open HTTP requests
    // finish (WebSockets are tracked separately, by `tracker`).
    // Small frames go out at once: with Nagle's algorithm a broadcast written while an
    // earlier one is unacknowledged waits for the peer's delayed ACK (up to 40 ms).
    let header_timeout = std::time::Duration::from_secs(config.header_timeout_secs);
    let http = tokio::spawn(serve_http(listener, router, header_timeout, stop));
    Ok(Running {
        addr,
        shutdown,
        tracker,
        http,
        store,
    })
}

/// Serves HTTP/1 (and WebSocket upgrades) on `listener` until `stop`, then lets open
/// requests finish. What `axum::serve` does, plus a limit on how long a client may take
/// to send a request's headers: without it, a client that opens connections and trickles
/// bytes (slowloris) holds each open for as long as it likes.
async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: std::time::Duration,
    stop: CancellationToken,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        // Small frames go out at once: with Nagle's algorithm a broadcast written while an
        // earlier one is unacknowledged waits for the peer's delayed ACK (up to 40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        // The peer's address, for limits per client (`ConnectInfo`, as `axum::serve`
        // would give it).
        let with_peer = tower::ServiceExt::map_request(
            router.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(with_peer);
        let stop = stop.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

impl Running {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits until everything is stored.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        match self.http.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
            Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
        }
        self.tracker.close();
        self.tracker.wait().await;
        let store = self.store;
        let flushed = tokio::task::spawn_blocking(move || store.flush()).await;
        match flushed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "final flush failed"),
            Err(e) => tracing::error!(error = %e, "final flush task failed"),
        }
    }
}
