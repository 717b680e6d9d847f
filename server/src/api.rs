//! The board API: create a board, import a backup as a new board, and export a board as
//! a Markdown postmortem or a JSON backup. Exports read what is durably stored, which is
//! everything anyone has seen (see the durability invariant in ARCHITECTURE.md).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hindsight_shared::export::{self, BoardExport};
use hindsight_shared::template::builtins;
use hindsight_shared::{paste, schema, Access, Board, BoardId, NoteId, Role, Template};
use serde::{Deserialize, Serialize};
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::app::AppState;
use crate::boards::{self, BoardError, NewBoard};
use crate::edit::{self, EditError};
use crate::links::{self, LinkError, LinkQuery};
use crate::stats::{self, ErrorKind};
use crate::store::{self, Store};

/// One error type for the HTTP boundary: what the client did wrong, or a generic
/// message for server faults (details go to the log, not to the caller).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("no such board")]
    NotFound,
    #[error("{0}")]
    Unauthorized(LinkError),
    #[error("{0}")]
    Forbidden(LinkError),
    /// The link is valid but only for reading, and the request writes.
    #[error("the read-only link cannot change the board")]
    ReadOnly,
    /// The request is the facilitator's to make, and did not carry the board's
    /// facilitator key (`X-Hindsight-Facilitator`).
    #[error("only the board's facilitator can do that")]
    NotFacilitator,
    #[error("internal server error")]
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::ReadOnly | ApiError::NotFacilitator => {
                StatusCode::FORBIDDEN
            }
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> ApiError {
        match e {
            LinkError::Missing => ApiError::Unauthorized(e),
            LinkError::Refused => ApiError::Forbidden(e),
            LinkError::Unavailable => ApiError::Internal,
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        BoardError::Store(e).into()
    }
}

impl From<BoardError> for ApiError {
    fn from(e: BoardError) -> ApiError {
        match e {
            BoardError::Import(e) => ApiError::BadRequest(e.to_string()),
            BoardError::TooLarge(..) => ApiError::BadRequest(e.to_string()),
            BoardError::Store(_) | BoardError::Unreadable(..) => {
                stats::error(ErrorKind::Storage);
                tracing::error!(error = %e, "storage error");
                ApiError::Internal
            }
            BoardError::Entropy(_) => {
                tracing::error!(error = %e, "cannot make a board");
                ApiError::Internal
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateBoard {
    title: Option<String>,
    /// A built-in template's key, or a whole template document; the postmortem if absent.
    template: Option<serde_json::Value>,
}

/// The template a new board asks for, checked: an unknown key or a template that breaks
/// a rule is refused naming the field.
fn chosen_template(choice: Option<&serde_json::Value>) -> Result<Template, ApiError> {
    match choice {
        None | Some(serde_json::Value::Null) => Ok(Template::postmortem().clone()),
        Some(serde_json::Value::String(key)) => Template::builtin(key).cloned().ok_or_else(|| {
            let keys: Vec<_> = builtins().iter().map(|t| t.key.as_str()).collect();
            ApiError::BadRequest(format!(
                "template: no built-in template {key:?}; one of {}",
                keys.join(", ")
            ))
        }),
        Some(document @ serde_json::Value::Object(_)) => {
            Template::parse(document.to_string().as_bytes()).map_err(|e| {
                let field = if e.field == "template" {
                    e.field
                } else {
                    format!("template.{}", e.field)
                };
                ApiError::BadRequest(format!("{field}: {}", e.problem))
            })
        }
        Some(_) => Err(ApiError::BadRequest(
            "template: a built-in template's key or a template document".into(),
        )),
    }
}

/// What creating or importing a board answers: its two links (`url` is the edit link,
/// where the creator goes next), the tokens alone for `y-websocket` clients' `params`,
/// and the facilitator key. Shown once, to the creator; the server keeps only hashes.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    id: String,
    url: String,
    edit_url: String,
    read_url: String,
    edit_token: String,
    read_token: String,
    facilitator_key: String,
}

const MAX_TITLE_CHARS: usize = 200;

pub async fn create_board(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let request: CreateBoard = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBoard::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    // No title: the board starts untitled, and the page shows a placeholder to type over.
    let title = request.title.as_deref().map(str::trim).unwrap_or_default();
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::BadRequest(format!(
            "title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    let title = title.to_owned();
    let template = chosen_template(request.template.as_ref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    store_new_board(&state, move |store| {
        boards::create_blank(store, &title, now, &template)
    })
    .await
}

/// Restores a JSON backup as a new board; a backup that does not check out is refused
/// whole with the reason.
pub async fn import_board(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let data: BoardExport = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a board backup: {e}")))?;
    // An import makes a live board, so it is held to what a live board may hold: a
    // backup past the note limit would make a board nobody could add a note to.
    let most = state.limits.max_notes;
    if data.notes.len() > most {
        return Err(ApiError::BadRequest(format!(
            "the backup holds {} notes; boards here hold at most {most}",
            data.notes.len()
        )));
    }
    let max_bytes = state.limits.max_document_bytes;
    store_new_board(&state, move |store| {
        boards::create_from_export(store, &data, max_bytes)
    })
    .await
}

/// Makes and stores a new board with `make` on the blocking pool, and answers with its
/// id, share link and facilitator key.
async fn store_new_board(
    state: &AppState,
    make: impl FnOnce(&dyn Store) -> Result<NewBoard, BoardError> + Send + 'static,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let made = store::blocking(state.rooms.store(), make).await?;
    let id = made.id;
    tracing::info!(board = %id, "board created");
    let base = base_url(state);
    let edit = made.edit_token;
    let read = edit.read_token();
    let edit_url = format!("{base}/b/{id}?token={}", edit.as_str());
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: id.to_string(),
            url: edit_url.clone(),
            edit_url,
            read_url: format!("{base}/b/{id}?token={}", read.as_str()),
            edit_token: edit.as_str().to_owned(),
            read_token: read.as_str().to_owned(),
            facilitator_key: made.facilitator_key,
        }),
    ))
}

/// Either link may export: whoever can see the board can take a copy.
pub async fn export_markdown(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let (id, doc) = stored_doc(&state, &id, link).await?;
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
    Query(link): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let (id, doc) = stored_doc(&state, &id, link).await?;
    let data = export::export(&Board::new(&doc), &doc.transact());
    let json = serde_json::to_string_pretty(&data).map_err(|e| {
        tracing::error!(board = %id, error = %e, "cannot serialise the export");
        ApiError::Internal
    })?;
    Ok(download(
        "application/json",
        &format!("board-{id}.json"),
        json,
    ))
}

/// The board as stored, rebuilt into a document, once the link checks out.
/// What importing a pasted timeline did: the entries it added, and every line it could
/// not read, with the reason.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineImported {
    added: Vec<AddedEntry>,
    unparsed: Vec<paste::Unparsed>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddedEntry {
    id: String,
    line: usize,
    /// UTC milliseconds.
    time: i64,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

/// `POST /api/boards/{id}/timeline?token=<edit token>` with a pasted timeline as the body
/// (chat copy, log lines, CSV: see `hindsight_shared::paste`): adds its entries to the
/// board's timeline, live for everyone on the board, and answers what was added and what
/// could not be read. Nothing is added unless at least one line is an entry.
pub async fn import_timeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
    body: String,
) -> Result<Json<TimelineImported>, ApiError> {
    // Refused before the board is read: a read-only link costs one small read.
    let (board_id, access) = authorized(&state, &id, link).await?;
    if access != Access::Edit {
        return Err(ApiError::ReadOnly);
    }
    let doc = read_stored(&state, board_id).await?;
    let (ctx, template, anonymous) = {
        let board = Board::new(&doc);
        let txn = doc.transact();
        (
            board.time_context(&txn),
            board.template(&txn),
            board.anonymous(&txn),
        )
    };
    let timeline = template
        .with_role(Role::Timeline)
        .ok_or_else(|| ApiError::BadRequest("this board has no timeline".into()))?;
    let parsed = paste::parse(&body, ctx);
    if parsed.entries.is_empty() {
        let reasons: Vec<String> = parsed
            .unparsed
            .iter()
            .take(5)
            .map(|u| format!("line {}: {}", u.line, u.reason))
            .collect();
        return Err(ApiError::BadRequest(if reasons.is_empty() {
            "the body holds no timeline entries".into()
        } else {
            format!("no line is a timeline entry ({})", reasons.join("; "))
        }));
    }
    let ids = parsed
        .entries
        .iter()
        .map(|_| boards::random::<8>().map(NoteId::from_random))
        .collect::<Result<Vec<_>, _>>()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64);
    // The entries are written into a document of their own; as an update to the board's
    // root `notes` map they merge into the board like any client's new notes.
    let writer = schema::new_doc(None);
    paste::add_entries(
        &Board::new(&writer),
        &mut writer.transact_mut(),
        timeline,
        &parsed.entries,
        &ids,
        anonymous,
        now,
    );
    let update = writer
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    edit::apply(&state.rooms, board_id, update)
        .await
        .map_err(|e| match e {
            EditError::Refused(reason) => {
                ApiError::BadRequest(format!("the board refused the entries: {reason}"))
            }
            e => {
                tracing::error!(board = %board_id, error = %e, "cannot add a pasted timeline");
                ApiError::Internal
            }
        })?;
    tracing::info!(board = %board_id, added = ids.len(), "timeline pasted");
    Ok(Json(TimelineImported {
        added: parsed
            .entries
            .into_iter()
            .zip(ids)
            .map(|(e, id)| AddedEntry {
                id: id.to_string(),
                line: e.line,
                time: e.time.utc_ms,
                text: e.text,
                kind: e.kind.map(|k| k.as_str()),
            })
            .collect(),
        unparsed: parsed.unparsed,
    }))
}

/// The header a request carries the facilitator key in (headers stay out of logs and
/// out of browser history, where a query string would not).
pub const FACILITATOR_HEADER: &str = "x-hindsight-facilitator";

/// A kept version of a board, as `GET …/history` lists it.
#[derive(Serialize)]
pub struct Version {
    /// When it was kept, UTC ms; what `…/history/{at}/restore` takes.
    pub at: u64,
    pub notes: usize,
    pub bytes: u64,
}

/// What a restore did.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreAnswer {
    pub restored: u64,
    pub written: usize,
    pub removed: usize,
    /// The version kept of the board as it was just before, to undo the restore with.
    pub kept_before: u64,
}

/// The board, checked to be asked for with its edit link and its facilitator key; and
/// the board's document as stored.
async fn as_facilitator(
    state: &AppState,
    id: &str,
    link: LinkQuery,
    headers: &HeaderMap,
) -> Result<(BoardId, Doc), ApiError> {
    let (board_id, access) = authorized(state, id, link).await?;
    if access != Access::Edit {
        return Err(ApiError::ReadOnly);
    }
    let doc = read_stored(state, board_id).await?;
    let key = headers
        .get(FACILITATOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let allowed = {
        let board = Board::new(&doc);
        let txn = doc.transact();
        // A board made without a facilitator is anyone's with the edit link.
        board.facilitator_key_hash(&txn).is_none() || board.is_facilitator(&txn, key)
    };
    if !allowed {
        stats::error(ErrorKind::Access);
        return Err(ApiError::NotFacilitator);
    }
    Ok((board_id, doc))
}

/// `GET /api/boards/{id}/history?token=<edit token>`, with the facilitator key in
/// `X-Hindsight-Facilitator`: the versions kept of the board (`history.rs`), newest
/// first, each with its note count.
pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<Version>>, ApiError> {
    let (board_id, _) = as_facilitator(&state, &id, link, &headers).await?;
    let versions = store::blocking(state.rooms.store(), move |s| {
        let mut listed = Vec::new();
        for (at, bytes) in s.versions(&board_id)?.into_iter().rev() {
            let notes = s
                .version(&board_id, at)?
                .and_then(|state| doc_of(&state).ok())
                .map_or(0, |doc| {
                    Board::new(&doc).note_count(&doc.transact()) as usize
                });
            listed.push(Version { at, notes, bytes });
        }
        Ok::<_, crate::store::StoreError>(listed)
    })
    .await?;
    Ok(Json(versions))
}

/// `POST /api/boards/{id}/history/{at}/restore?token=<edit token>`, with the facilitator
/// key in `X-Hindsight-Facilitator`: brings the board back to its version kept at `at`
/// (`export::restore`), live for everyone, after keeping the board as it is now as a
/// version of its own, so the restore can be undone the same way.
pub async fn restore_version(
    State(state): State<AppState>,
    Path((id, at)): Path<(String, u64)>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
) -> Result<Json<RestoreAnswer>, ApiError> {
    let (board_id, doc) = as_facilitator(&state, &id, link, &headers).await?;
    let old = store::blocking(state.rooms.store(), move |s| s.version(&board_id, at))
        .await?
        .ok_or(ApiError::NotFound)?;
    let old = doc_of(&old).map_err(|e| {
        tracing::error!(board = %board_id, at, error = %e, "a kept version does not load");
        ApiError::Internal
    })?;
    let old = export::export(&Board::new(&old), &old.transact());
    // The board as it is, kept first.
    let now = crate::history::now_ms().max(at + 1);
    let current = doc.transact().encode_diff_v1(&StateVector::default());
    store::blocking(state.rooms.store(), move |s| {
        s.keep_version(&board_id, now, &current)?;
        s.flush()
    })
    .await?;
    // The restore as a change to the board as stored, sent through its room.
    let board = Board::new(&doc);
    let before = doc.transact().state_vector();
    let done = export::restore(&board, &mut doc.transact_mut(), &old)
        .map_err(|e| ApiError::BadRequest(format!("the version cannot be restored: {e}")))?;
    let update = doc.transact().encode_diff_v1(&before);
    if done != Default::default() {
        edit::apply(&state.rooms, board_id, update)
            .await
            .map_err(|e| match e {
                EditError::Refused(reason) => {
                    ApiError::BadRequest(format!("the board refused the restore: {reason}"))
                }
                e => {
                    tracing::error!(board = %board_id, error = %e, "cannot restore a version");
                    ApiError::Internal
                }
            })?;
    }
    tracing::info!(board = %board_id, at, written = done.written, removed = done.removed, "version restored");
    Ok(Json(RestoreAnswer {
        restored: at,
        written: done.written,
        removed: done.removed,
        kept_before: now,
    }))
}

/// A document from one stored update (a kept version).
fn doc_of(state: &[u8]) -> Result<Doc, String> {
    use yrs::updates::decoder::Decode;
    let doc = schema::new_doc(None);
    let update = yrs::Update::decode_v1(state).map_err(|e| e.to_string())?;
    doc.transact_mut()
        .apply_update(update)
        .map_err(|e| e.to_string())?;
    Ok(doc)
}

/// The board named by the path and what the link grants on it.
async fn authorized(
    state: &AppState,
    id: &str,
    link: LinkQuery,
) -> Result<(BoardId, Access), ApiError> {
    let id: BoardId = id
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid board id: {e}")))?;
    let access = links::authorize(state.rooms.store(), &id, link.token.as_deref()).await?;
    Ok((id, access))
}

/// The board as stored now.
async fn read_stored(state: &AppState, id: BoardId) -> Result<Doc, ApiError> {
    store::blocking(state.rooms.store(), move |s| boards::read(s, &id))
        .await?
        .ok_or(ApiError::NotFound)
}

/// The board, if the link grants anything on it.
async fn stored_doc(
    state: &AppState,
    id: &str,
    link: LinkQuery,
) -> Result<(BoardId, Doc), ApiError> {
    let (id, _) = authorized(state, id, link).await?;
    Ok((id, read_stored(state, id).await?))
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

/// What share links start with: `--public-url`, else nothing, so they are relative to
/// wherever the request was sent. Never the request's `Host`, which whoever sends the
/// request chooses: links built from it would point wherever they liked.
pub fn base_url(state: &AppState) -> String {
    state
        .public_url
        .as_deref()
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_default()
}
