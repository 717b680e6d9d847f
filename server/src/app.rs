//! HTTP surface: the routes, the pages and the WebSocket upgrade. Handlers are thin:
//! they validate input, then hand off to the board API (`api.rs`), the rooms
//! (WebSockets) or the built client's files.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use hindsight_shared::{close, BoardId};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::services::ServeDir;

use crate::api::{self, ApiError};
use crate::rooms::{JoinError, Rooms};
use crate::ws;

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub rooms: Arc<Rooms>,
    pub assets: PathBuf,
    pub public_url: Option<String>,
    pub max_message_bytes: usize,
    /// Cancelled when the server begins shutting down; WebSocket tasks listen to it.
    pub shutdown: CancellationToken,
    /// Tracks WebSocket tasks so shutdown can wait for them.
    pub tracker: TaskTracker,
}

/// Largest backup `POST /api/boards/import` accepts.
const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

pub fn app(state: AppState) -> Router {
    let files = ServeDir::new(&state.assets);
    Router::new()
        .route("/", get(index))
        .route("/b/{id}", get(board_page))
        .route("/api/boards", post(api::create_board))
        .route(
            "/api/boards/import",
            post(api::import_board).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/api/boards/{id}/export.md", get(api::export_markdown))
        .route("/api/boards/{id}/export.json", get(api::export_json))
        .route("/ws/{id}", get(websocket))
        .fallback_service(files)
        .with_state(state)
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
    match tokio::fs::read(state.assets.join("index.html")).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(assets = %state.assets.display(), error = %e, "web client not found");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The web client is not built. Run `cargo xtask run`, or pass --assets DIR.",
            )
                .into_response()
        }
    }
}

async fn websocket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let tracker = state.tracker.clone();
    upgrade
        .max_message_size(state.max_message_bytes)
        .on_upgrade(move |socket| tracker.track_future(connect(state, id, socket)))
}

/// Joins the board's room and serves the socket; a bad or unknown board id is answered
/// with a close code the page can explain.
async fn connect(state: AppState, id: String, socket: WebSocket) {
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
    match state.rooms.join(board).await {
        Ok(member) => ws::serve(sink, stream, member, state.shutdown.clone()).await,
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
