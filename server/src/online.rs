//! Administration over HTTP, while the server runs: the list of boards, a backup of all
//! of them, consistent while people write, in the same file format as the offline
//! `hindsight backup` (`backup.rs`), so `hindsight restore` reads either; and one board's
//! export, new links or deletion. New links and deletion go through the board's room
//! (`Rooms::administer`), which disconnects whoever is on it: after new links nobody keeps
//! working through the old ones, after a deletion nobody writes to a board that is gone.
//!
//! All of them need the admin token (`--admin-token-file`), sent as `Authorization: Bearer …`.
//! Without a configured token they do not exist (404); a missing token answers 401 and
//! a wrong one 403. Only the token's SHA-256 is kept, and requests are never logged with
//! their headers, so the token appears in no log.
//!
//! The backup streams: a blocking task reads one board at a time from the store and
//! writes the file through a small channel, so memory stays at about a board however
//! many there are. Every change acknowledged before the request arrived is in it:
//! rooms store a change before they acknowledge it, and the store's reads are
//! consistent with its compactions (`SledStore::load`).

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hindsight_shared::{export, AccessHashes, Board, BoardId, Token};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use yrs::Transact;

use crate::app::AppState;
use crate::backup::BackupWriter;
use crate::boards;
use crate::rooms::AdminOp;
use crate::stats::{self, ErrorKind};
use crate::store::{Links, Store};

/// Shortest admin token accepted from `--admin-token-file`.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The admin token's hash, read from its file: trimmed, at least [`MIN_TOKEN_CHARS`].
pub fn token_hash(contents: &str) -> Result<[u8; 32], String> {
    let token = contents.trim();
    if token.chars().count() < MIN_TOKEN_CHARS {
        return Err(format!(
            "the admin token must be at least {MIN_TOKEN_CHARS} characters"
        ));
    }
    Ok(Sha256::digest(token.as_bytes()).into())
}

/// Why an admin request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NotConfigured,
    Missing,
    Wrong,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            Refusal::NotConfigured => (
                StatusCode::NOT_FOUND,
                "the admin API is off: start the server with --admin-token-file",
            ),
            Refusal::Missing => (
                StatusCode::UNAUTHORIZED,
                "send the admin token as `Authorization: Bearer <token>`",
            ),
            Refusal::Wrong => (StatusCode::FORBIDDEN, "the admin token is not valid"),
        };
        (status, Json(serde_json::json!({ "error": error }))).into_response()
    }
}

/// Checks the request's bearer token against the configured one. Hashes are compared,
/// so the comparison's time says nothing about the token.
fn admitted(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = state.admin_token else {
        return Err(Refusal::NotConfigured);
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Refusal::Missing)?;
    let presented: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
    if presented != expected {
        stats::error(ErrorKind::Access);
        tracing::warn!("admin request with a wrong token");
        return Err(Refusal::Wrong);
    }
    Ok(())
}

/// One board as `GET /api/admin/boards` lists it.
#[derive(Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    pub id: String,
    pub title: String,
    pub notes: u32,
    /// The key of the template the board was made from.
    pub template: String,
    pub incident_date: Option<String>,
}

/// `GET /api/admin/boards`: every board, in id order, with its title, note count,
/// template and incident date.
pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = admitted(&state, &headers) {
        return refused.into_response();
    }
    let listed = crate::store::blocking(state.rooms.store(), |store| {
        let mut listed = Vec::new();
        for id in store.list()? {
            let Some(doc) = boards::read(store, &id)? else {
                continue;
            };
            let board = Board::new(&doc);
            let txn = doc.transact();
            let facts = board.facts(&txn);
            listed.push(Listed {
                id: id.to_string(),
                title: facts.shown_title().to_owned(),
                notes: board.note_count(&txn),
                template: board.template(&txn).key,
                incident_date: facts.date.map(|d| d.to_string()),
            });
        }
        Ok::<_, boards::BoardError>(listed)
    })
    .await;
    match listed {
        Ok(listed) => Json(listed).into_response(),
        Err(e) => {
            stats::error(ErrorKind::Storage);
            tracing::error!(error = %e, "cannot list the boards");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Why an admin request about one board failed.
pub enum Failure {
    Refused(Refusal),
    BadId(String),
    NoBoard(BoardId),
    /// Logged where it happened; the answer says only that it failed.
    Internal,
}

impl From<Refusal> for Failure {
    fn from(refused: Refusal) -> Failure {
        Failure::Refused(refused)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            Failure::Refused(refused) => return refused.into_response(),
            Failure::BadId(e) => (StatusCode::BAD_REQUEST, format!("invalid board id: {e}")),
            Failure::NoBoard(id) => (StatusCode::NOT_FOUND, format!("there is no board {id}")),
            Failure::Internal => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        (status, Json(serde_json::json!({ "error": error }))).into_response()
    }
}

/// Logs an operation that failed on the server's side.
fn failed(what: &str, e: &dyn std::fmt::Display) -> Failure {
    stats::error(ErrorKind::Storage);
    tracing::error!(error = %e, "{what}");
    Failure::Internal
}

/// The board named in an admin path, once the token checks out.
fn admitted_board(state: &AppState, headers: &HeaderMap, id: &str) -> Result<BoardId, Failure> {
    admitted(state, headers)?;
    id.parse()
        .map_err(|e: hindsight_shared::IdError| Failure::BadId(e.to_string()))
}

/// How `GET /api/admin/boards/{id}/export` writes the board.
#[derive(serde::Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    format: ExportFormat,
}

#[derive(serde::Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ExportFormat {
    #[default]
    Json,
    Md,
}

/// `GET /api/admin/boards/{id}/export?format=json|md`: the board as stored now, as the
/// board's own export links give it (`json` by default).
pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let id = admitted_board(&state, &headers, &id)?;
    let doc = crate::store::blocking(state.rooms.store(), move |s| boards::read(s, &id))
        .await
        .map_err(|e| failed("cannot read a board to export", &e))?
        .ok_or(Failure::NoBoard(id))?;
    let board = Board::new(&doc);
    let txn = doc.transact();
    let (content_type, body) = match query.format {
        ExportFormat::Json => (
            "application/json",
            serde_json::to_string_pretty(&export::export(&board, &txn))
                .map_err(|e| failed("cannot serialise an export", &e))?,
        ),
        ExportFormat::Md => (
            "text/markdown; charset=utf-8",
            export::to_markdown(&board, &txn),
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// What `POST /api/admin/boards/{id}/links` answers: the board's new links, shown once.
#[derive(Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relinked {
    pub edit_url: String,
    pub read_url: String,
}

/// `POST /api/admin/boards/{id}/links`: new edit and read-only links for the board; the
/// old ones stop working, and everyone connected through them is disconnected.
pub async fn relink(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Relinked>, Failure> {
    let id = admitted_board(&state, &headers, &id)?;
    let edit = Token::edit_from_random(
        boards::random().map_err(|e| failed("no randomness for new links", &e))?,
    );
    let links = AccessHashes::for_edit_token(&edit);
    let existed = state
        .rooms
        .administer(id, AdminOp::Relink(links))
        .await
        .map_err(|e| failed("cannot replace a board's links", &e))?;
    if !existed {
        return Err(Failure::NoBoard(id));
    }
    let base = crate::api::base_url(&state);
    Ok(Json(Relinked {
        edit_url: format!("{base}/b/{id}?token={}", edit.as_str()),
        read_url: format!("{base}/b/{id}?token={}", edit.read_token().as_str()),
    }))
}

/// `DELETE /api/admin/boards/{id}`: deletes the board and its history for good; whoever
/// is on it is told the board is gone (4404).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Failure> {
    let id = admitted_board(&state, &headers, &id)?;
    let existed = state
        .rooms
        .administer(id, AdminOp::Delete)
        .await
        .map_err(|e| failed("cannot delete a board", &e))?;
    if !existed {
        return Err(Failure::NoBoard(id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/backup`: a backup of every board (`backup.rs`'s format), streamed.
/// A failure half-way ends the stream early; the file then fails `hindsight restore`'s
/// checksum, so a cut-off backup can never be restored by mistake.
pub async fn backup(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = admitted(&state, &headers) {
        return refused.into_response();
    }
    let (tx, mut rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let store = std::sync::Arc::clone(state.rooms.store());
    tokio::task::spawn_blocking(move || {
        let written = write_backup(
            store.as_ref(),
            ChannelWriter {
                tx: tx.clone(),
                buf: Vec::new(),
            },
        );
        match written {
            Ok(count) => tracing::info!(boards = count, "online backup written"),
            Err(e) => {
                stats::error(ErrorKind::Storage);
                tracing::error!(error = %e, "online backup failed");
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|chunk| chunk.map(Ok::<_, io::Error>))
    });
    let name = format!("hindsight-{}.backup", crate::history::now_ms());
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Chunks of the backup waiting to be sent; with [`CHUNK`], what one backup holds in
/// memory beyond the board being read.
const CHUNKS_IN_FLIGHT: usize = 8;
const CHUNK: usize = 64 * 1024;

/// Writes every board of `store` as a backup into `out`; returns how many.
fn write_backup(store: &dyn Store, out: impl Write) -> Result<u64, boards::BoardError> {
    let mut writer = BackupWriter::new(out).map_err(io_error)?;
    for id in store.list()? {
        // A board deleted since the list was read is simply not in the backup.
        let Some(doc) = boards::read(store, &id)? else {
            continue;
        };
        let links = match store.links(&id)? {
            Links::Hashes(links) => Some(links),
            Links::Unlinked | Links::NoBoard => None,
        };
        writer
            .add(&id, links.as_ref(), &boards::encode(&doc))
            .map_err(io_error)?;
    }
    let (mut out, count) = writer.finish().map_err(io_error)?;
    out.flush().map_err(io_error)?;
    Ok(count)
}

fn io_error(e: io::Error) -> boards::BoardError {
    boards::BoardError::Store(crate::store::StoreError::backend(e))
}

/// A `Write` that sends what is written to the response in chunks of [`CHUNK`]. If the
/// client goes away the send fails, and so does the backup.
struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_are_refused_and_whitespace_is_not_part_of_one() {
        assert!(token_hash("too short").is_err());
        assert_eq!(
            token_hash("  0123456789abcdef\n").unwrap(),
            token_hash("0123456789abcdef").unwrap()
        );
    }

    #[test]
    fn a_backup_written_online_restores_every_board() {
        use crate::store::MemStore;
        let store = MemStore::default();
        let ids: Vec<_> = (1..=3u8)
            .map(|n| hindsight_shared::BoardId::from_random([n; 16]))
            .collect();
        for id in &ids {
            let doc = hindsight_shared::schema::new_doc(Some(1));
            Board::new(&doc).init(&mut doc.transact_mut(), &format!("board {id}"), 1.0);
            store.create(id, &boards::encode(&doc), None).unwrap();
        }
        let mut file = Vec::new();
        assert_eq!(write_backup(&store, &mut file).unwrap(), 3);
        let entries = crate::backup::read(&file).unwrap();
        assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    }
}
