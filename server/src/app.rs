//! HTTP surface: routes, handlers and their errors. Handlers are thin: they validate
//! input, then hand off to the store (board creation), the rooms (WebSockets) or the
//! built client's files.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use hindsight_shared::{close, schema, Board, BoardId};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::services::ServeDir;
use yrs::{ReadTxn, StateVector, Transact};

use crate::rooms::{JoinError, Rooms};
use crate::store::StoreError;
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

pub fn app(state: AppState) -> Router {
    let files = ServeDir::new(&state.assets);
    Router::new()
        .route("/", get(index))
        .route("/b/{id}", get(board_page))
        .route("/api/boards", post(create_board))
        .route("/ws/{id}", get(websocket))
        .fallback_service(files)
        .with_state(state)
}

/// One error type for the HTTP boundary: what the client did wrong, or a generic
/// message for server faults (details go to the log, not to the caller).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("internal server error")]
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "storage error");
        ApiError::Internal
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CreateBoard {
    title: Option<String>,
}

#[derive(Serialize)]
struct Created {
    id: String,
    url: String,
}

const MAX_TITLE_CHARS: usize = 200;
const DEFAULT_TITLE: &str = "Untitled postmortem";

async fn create_board(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let request: CreateBoard = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBoard::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let title = request.title.as_deref().map(str::trim).unwrap_or_default();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    let title = if title.is_empty() {
        DEFAULT_TITLE
    } else {
        title
    };

    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| {
        tracing::error!(error = %e, "no entropy for a board id");
        ApiError::Internal
    })?;
    let id = BoardId::from_random(random);
    let snapshot = initial_snapshot(title);
    let store = Arc::clone(state.rooms.store());
    tokio::task::spawn_blocking(move || store.create(&id, &snapshot))
        .await
        .map_err(|_| ApiError::Internal)??;
    tracing::info!(board = %id, "board created");
    let url = format!("{}/b/{id}", base_url(&state, &headers));
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: id.to_string(),
            url,
        }),
    ))
}

/// The stored form of a new board: its metadata and no notes.
fn initial_snapshot(title: &str) -> Vec<u8> {
    let doc = schema::new_doc(None);
    let board = Board::new(&doc);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    board.init(&mut doc.transact_mut(), title, now);
    let txn = doc.transact();
    txn.encode_state_as_update_v1(&StateVector::default())
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
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
