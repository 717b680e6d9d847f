//! HTTP surface: the routes, the pages and the WebSocket upgrade. Handlers are thin:
//! they validate input, then hand off to the board API (`api.rs`), the rooms
//! (WebSockets), the health and metrics endpoints (`health.rs`) or the built client's
//! files (`assets.rs`). Everything but the WebSocket is compressed when the client
//! accepts it.

use std::sync::Arc;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use futures_util::StreamExt;
use hindsight_shared::{close, BoardId};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::compression::CompressionLayer;
use tracing::Instrument;

use crate::api::{self, ApiError};
use crate::assets::Assets;
use crate::health;
use crate::limits::{CreationLimit, Limits, Rates};
use crate::links::{self, LinkQuery};
use crate::online;
use crate::proxies::TrustedProxies;
use crate::rooms::{JoinError, Rooms};
use crate::security;
use crate::stats::{self, ErrorKind};
use crate::ws;

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub rooms: Arc<Rooms>,
    pub assets: Assets,
    pub public_url: Option<String>,
    /// Origins whose pages may open WebSockets; `None` allows any (see
    /// `Config::websocket_origins`).
    pub websocket_origins: Option<Arc<[String]>>,
    pub max_message_bytes: usize,
    pub max_import_bytes: usize,
    pub limits: Limits,
    /// One permit per open board WebSocket (`--max-connections`); each connection task
    /// holds its permit until it ends.
    pub connections: Arc<Semaphore>,
    /// Cancelled when the server begins shutting down; WebSocket tasks listen to it.
    pub shutdown: CancellationToken,
    /// Tracks WebSocket tasks so shutdown can wait for them.
    pub tracker: TaskTracker,
    /// Boards each client address may still create or import (`--creates-per-minute`).
    pub creations: Arc<CreationLimit>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    pub trusted_proxies: Arc<TrustedProxies>,
    /// New boards are refused once the store is this large (`--max-data-bytes`).
    pub max_data_bytes: Option<u64>,
    /// The SHA-256 of the admin token (`--admin-token-file`); no admin API without it.
    pub admin_token: Option<[u8; 32]>,
}

pub fn app(state: AppState) -> Router {
    let own_pages_only = || axum::middleware::from_fn_with_state(state.clone(), same_origin_only);
    let new_boards = || axum::middleware::from_fn_with_state(state.clone(), new_board_limits);
    let compressed = Router::new()
        .route("/", get(index))
        .route("/b/{id}", get(board_page))
        .route(
            "/api/boards",
            post(api::create_board)
                .layer(new_boards())
                .layer(own_pages_only()),
        )
        .route(
            "/api/boards/import",
            post(api::import_board)
                .layer(DefaultBodyLimit::max(state.max_import_bytes))
                .layer(new_boards())
                .layer(own_pages_only()),
        )
        .route("/api/boards/{id}/export.md", get(api::export_markdown))
        .route("/api/boards/{id}/export.json", get(api::export_json))
        .route(
            "/api/boards/{id}/timeline",
            post(api::import_timeline).layer(own_pages_only()),
        )
        .route("/api/admin/boards", get(online::list))
        .route("/api/admin/backup", get(online::backup))
        .route("/api/admin/boards/{id}/export", get(online::export))
        .route("/api/admin/boards/{id}/links", post(online::relink))
        .route("/api/admin/boards/{id}", delete(online::delete))
        .route("/api/boards/{id}/history", get(api::history))
        .route(
            "/api/boards/{id}/history/{at}/restore",
            post(api::restore_version).layer(own_pages_only()),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(static_file)
        .layer(CompressionLayer::new());
    // Added after the layer, so upgrades are not wrapped by compression.
    compressed
        .route("/ws/{id}", get(websocket))
        .layer(axum::middleware::map_response(security::common_headers))
        .with_state(state)
}

async fn static_file(State(state): State<AppState>, request: Request) -> Response {
    state.assets.serve(request).await
}

async fn index(State(state): State<AppState>) -> Response {
    client_page(&state).await
}

async fn board_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    if let Err(e) = id.parse::<BoardId>() {
        return ApiError::BadRequest(format!("invalid board id: {e}")).into_response();
    }
    client_page(&state).await
}

/// The client's `index.html`. It is never cached, so a new release is picked up at once;
/// the files it names carry content hashes and can be cached.
async fn client_page(state: &AppState) -> Response {
    match state.assets.index_html().await {
        Some(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            [(
                header::CONTENT_SECURITY_POLICY,
                security::content_security_policy(&html),
            )],
            html,
        )
            .into_response(),
        None => {
            tracing::error!(assets = %state.assets.describe(), "web client not found");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The web client is not built: build it before the server (`cargo xtask run`), \
                 or pass --assets DIR.",
            )
                .into_response()
        }
    }
}

async fn websocket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(refused) = check_origin(&state, &headers) {
        return refused;
    }
    let tracker = state.tracker.clone();
    // One span per connection: its board and, once joined, its connection id. Never
    // anything from the query string or headers, which may carry secrets.
    let span = tracing::info_span!(
        "conn",
        board = %id.parse::<BoardId>().map_or("invalid".into(), |b| b.to_string()),
        conn = tracing::field::Empty,
    );
    upgrade
        .max_message_size(state.max_message_bytes)
        // tungstenite reserves 128 KiB per socket by default; most boards' frames are a
        // few hundred bytes, and the buffer still grows for the rare large one.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let facilitator = link.facilitator_hash();
            tracker
                .track_future(connect(state, id, link.token, facilitator, socket).instrument(span))
        })
}

/// What each WebSocket reserves for reading (see `websocket`).
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Refuses a WebSocket upgrade from a browser page of another origin when origins are
/// configured, so a foreign site cannot join boards with its visitors' browsers. Clients
/// that send no `Origin` (not browsers) are let through.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let allowed = state.websocket_origins.as_ref()?;
    let origin = headers.get(header::ORIGIN)?;
    let ok = origin
        .to_str()
        .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)));
    if ok {
        return None;
    }
    stats::error(ErrorKind::Origin);
    tracing::warn!(origin = ?origin, "WebSocket from a foreign origin refused");
    Some((StatusCode::FORBIDDEN, "origin not allowed").into_response())
}

/// Refuses a write to the API from a page of another origin: otherwise a plain form or a
/// `no-cors` fetch on any site a participant visits could create or import boards
/// through their browser. Browsers name the page's origin in `Origin` on every
/// cross-origin POST (and mark it `Sec-Fetch-Site: cross-site`); a request with neither
/// is not a browser's (curl, scripts) and goes through. The allowed origins are the
/// configured ones (`--public-url`, `--allowed-origins`), else the one the request was
/// sent to (its `Host`), which is where this server's own pages come from.
async fn same_origin_only(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let allowed = |origin: &str| match state.websocket_origins.as_ref() {
        Some(allowed) => allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| {
                ["http://", "https://"].iter().any(|scheme| {
                    origin
                        .strip_prefix(scheme)
                        .is_some_and(|o| o.eq_ignore_ascii_case(host))
                })
            }),
    };
    let refused = match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        Some(Ok(origin)) => !allowed(origin),
        Some(Err(_)) => true,
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes() == b"cross-site"),
    };
    if refused {
        stats::error(ErrorKind::Origin);
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "API write from a foreign page refused");
        return (
            StatusCode::FORBIDDEN,
            "requests from other sites are refused",
        )
            .into_response();
    }
    next.run(request).await
}

/// Takes one new board from `ip`'s budget: the one the store keeps for every node when
/// several share it (each node would allow it once more behind a load balancer), else
/// this node's own. `Err(seconds)` while it is spent.
async fn take_creation(
    state: &AppState,
    ip: std::net::IpAddr,
) -> Result<Result<(), u64>, crate::store::StoreError> {
    // One node: its own count, without a trip to the blocking pool.
    if state.rooms.store().budgets().is_none() {
        return Ok(state.creations.take(ip));
    }
    let per_minute = state.creations.per_minute();
    let shared = crate::store::on_budgets(state.rooms.store(), move |b| {
        b.take_creation(ip, per_minute)
    })
    .await?;
    Ok(shared.unwrap_or_else(|| state.creations.take(ip)))
}

/// What stands before a new board (a create or an import): the client address's budget
/// of creations (429 with `Retry-After` past it) and the data budget (507 once the store
/// holds `--max-data-bytes`; existing boards stay editable). The address is the TCP
/// peer's: behind a reverse proxy every client shares the proxy's.
async fn new_board_limits(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| {
            let forwarded = request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok());
            state.trusted_proxies.client(c.0.ip(), forwarded)
        });
    let taken = match peer {
        Some(ip) => take_creation(&state, ip).await,
        None => Ok(Ok(())),
    };
    let taken = match taken {
        Ok(taken) => taken,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the budget of new boards");
            return ApiError::Internal.into_response();
        }
    };
    if let Err(wait) = taken {
        stats::error(ErrorKind::Limit);
        tracing::warn!(peer = ?peer, "board creations over the rate refused");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.to_string())],
            axum::Json(serde_json::json!({
                "error": format!("too many new boards from this address; try again in {wait} s")
            })),
        )
            .into_response();
    }
    if let Some(budget) = state.max_data_bytes {
        let used = crate::store::blocking(state.rooms.store(), |s| s.data_bytes()).await;
        match used {
            Ok(used) if used >= budget => {
                stats::error(ErrorKind::Limit);
                tracing::warn!(used, budget, "data budget reached; new board refused");
                return (
                    StatusCode::INSUFFICIENT_STORAGE,
                    axum::Json(serde_json::json!({
                        "error": "this server's storage for boards is full; existing boards stay editable"
                    })),
                )
                    .into_response();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the store's size");
                return ApiError::Internal.into_response();
            }
        }
    }
    next.run(request).await
}

/// Joins the board's room and serves the socket; a bad or unknown board id, or a link
/// that grants nothing, is answered with a close code the page can explain.
///
/// The refusals happen after the upgrade, as close codes, because a browser page cannot
/// see why an upgrade failed.
async fn connect(
    state: AppState,
    id: String,
    token: Option<String>,
    facilitator: Option<String>,
    socket: WebSocket,
) {
    let (mut sink, mut stream) = socket.split();
    let board = match id.parse::<BoardId>() {
        Ok(board) => board,
        Err(_) => {
            return ws::close_with(
                &mut sink,
                &mut stream,
                close::INVALID_BOARD_ID,
                "invalid board id",
            )
            .await
        }
    };
    let access = match links::authorize(state.rooms.store(), &board, token.as_deref()).await {
        Ok(access) => access,
        Err(refused) => {
            let (code, reason) = refused.close();
            return ws::close_with(&mut sink, &mut stream, code, reason).await;
        }
    };
    // Held while this connection is served; taken before the room is touched, and given
    // back before a refused connection's closing handshake.
    let Ok(permit) = Arc::clone(&state.connections).try_acquire_owned() else {
        stats::error(ErrorKind::Limit);
        tracing::warn!("connection limit reached");
        return ws::close_with(
            &mut sink,
            &mut stream,
            close::TOO_MANY_CONNECTIONS,
            "server full",
        )
        .await;
    };
    let joined = state.rooms.join_with(board, access, facilitator).await;
    // A refused connection gives its permit back before its closing handshake.
    let permit = joined.is_ok().then_some(permit);
    match joined {
        Ok(member) => {
            tracing::Span::current().record("conn", member.conn);
            let rate = Rates::new(&state.limits);
            ws::serve(sink, stream, member, rate, state.shutdown.clone()).await;
            drop(permit);
        }
        Err(JoinError::Full) => {
            tracing::warn!(%board, "board connection limit reached");
            ws::close_with(
                &mut sink,
                &mut stream,
                close::TOO_MANY_CONNECTIONS,
                "board full",
            )
            .await
        }
        Err(JoinError::NotFound) => {
            ws::close_with(
                &mut sink,
                &mut stream,
                close::BOARD_NOT_FOUND,
                "board not found",
            )
            .await
        }
        Err(JoinError::Unavailable(e)) => {
            tracing::error!(%board, error = %e, "board unavailable");
            ws::close_with(
                &mut sink,
                &mut stream,
                close::SERVER_ERROR,
                "board unavailable",
            )
            .await
        }
    }
}
