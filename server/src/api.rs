//! The board API: create a board, import a backup as a new board, and export a board as
//! a Markdown postmortem or a JSON backup. Exports read what is durably stored, which is
//! everything anyone has seen (see the durability invariant in ARCHITECTURE.md).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hindsight_shared::export::{self, BoardExport};
use hindsight_shared::{schema, Board, BoardId};
use serde::{Deserialize, Serialize};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::app::AppState;
use crate::room::load_doc;
use crate::store::StoreError;

/// One error type for the HTTP boundary: what the client did wrong, or a generic
/// message for server faults (details go to the log, not to the caller).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no such board")]
    NotFound,
    #[error("internal server error")]
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
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
pub struct CreateBoard {
    title: Option<String>,
}

/// What creating or importing a board answers. The facilitator key is shown once, to
/// the creator; the board keeps only its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    id: String,
    url: String,
    facilitator_key: String,
}

const MAX_TITLE_CHARS: usize = 200;
const DEFAULT_TITLE: &str = "Untitled postmortem";

pub async fn create_board(
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    store_new_board(&state, &headers, |board, txn| {
        board.init(txn, title, now);
        Ok(())
    })
    .await
}

/// Restores a JSON backup as a new board; a backup that does not check out is refused
/// whole with the reason.
pub async fn import_board(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let data: BoardExport = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a board backup: {e}")))?;
    store_new_board(&state, &headers, |board, txn| {
        export::import(board, txn, &data).map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .await
}

/// Builds a new board's document with `fill`, gives it a facilitator key and stores it
/// under a fresh id.
async fn store_new_board(
    state: &AppState,
    headers: &HeaderMap,
    fill: impl FnOnce(&Board, &mut yrs::TransactionMut) -> Result<(), ApiError>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = BoardId::from_random(random()?);
    let facilitator_key = hex(&random::<16>()?);
    let doc = schema::new_doc(None);
    let board = Board::new(&doc);
    {
        let mut txn = doc.transact_mut();
        fill(&board, &mut txn)?;
        board.set_facilitator_key(&mut txn, &facilitator_key);
    }
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let store = Arc::clone(state.rooms.store());
    tokio::task::spawn_blocking(move || store.create(&id, &snapshot))
        .await
        .map_err(|_| ApiError::Internal)??;
    tracing::info!(board = %id, "board created");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: id.to_string(),
            url: format!("{}/b/{id}", base_url(state, headers)),
            facilitator_key,
        }),
    ))
}

pub async fn export_markdown(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (id, doc) = stored_doc(&state, &id).await?;
    let markdown = export::to_markdown(&Board::new(&doc), &doc.transact());
    Ok(download(
        "text/markdown; charset=utf-8",
        &format!("postmortem-{id}.md"),
        markdown,
    ))
}

pub async fn export_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (id, doc) = stored_doc(&state, &id).await?;
    let data = export::export(&Board::new(&doc), &doc.transact());
    let json = serde_json::to_string_pretty(&data).map_err(|_| ApiError::Internal)?;
    Ok(download(
        "application/json",
        &format!("board-{id}.json"),
        json,
    ))
}

/// The board as stored, rebuilt into a document.
async fn stored_doc(state: &AppState, id: &str) -> Result<(BoardId, Doc), ApiError> {
    let id: BoardId = id
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid board id: {e}")))?;
    let store = Arc::clone(state.rooms.store());
    let stored = tokio::task::spawn_blocking(move || store.load(&id))
        .await
        .map_err(|_| ApiError::Internal)??
        .ok_or(ApiError::NotFound)?;
    let doc = load_doc(&stored).map_err(|e| {
        tracing::error!(board = %id, error = %e, "stored board unreadable");
        ApiError::Internal
    })?;
    Ok((id, doc))
}

fn download(content_type: &'static str, filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn random<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no entropy");
        ApiError::Internal
    })?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
