//! Checking a board link: what the `?token=` of a WebSocket URL or export request grants
//! on a board (see `hindsight_shared::access` for the tokens themselves). The WebSocket
//! refuses with a close code, the HTTP API with a status; both come from here.

use std::sync::Arc;

use hindsight_shared::{close, Access, BoardId, Token, TokenError};

use crate::stats::{self, ErrorKind};
use crate::store::{self, Links, Store};

/// The query of a board link or WebSocket URL. Other parameters are ignored, so stock
/// `y-websocket` clients may add their own.
#[derive(serde::Deserialize)]
pub struct LinkQuery {
    pub token: Option<String>,
    /// On a WebSocket URL, the facilitator key of the page that holds it.
    pub facilitator: Option<String>,
}

/// Longest facilitator key worth hashing; the page's keys are 32 hex digits.
const MAX_KEY_CHARS: usize = 128;

impl LinkQuery {
    /// The hash of the facilitator key the URL carries (the key itself is not kept).
    pub fn facilitator_hash(&self) -> Option<String> {
        self.facilitator
            .as_deref()
            .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_CHARS)
            .map(hindsight_shared::facilitation::key_hash)
    }
}

/// Why a link grants nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has no token (?token=…)")]
    Missing,
    #[error("the link is not valid for this board")]
    Refused,
    #[error("the board's links could not be read")]
    Unavailable,
}

impl LinkError {
    /// The WebSocket close code and reason for this refusal.
    pub fn close(self) -> (u16, &'static str) {
        match self {
            LinkError::Missing => (close::TOKEN_MISSING, "link has no token"),
            LinkError::Refused => (close::TOKEN_REFUSED, "link not valid"),
            LinkError::Unavailable => (close::SERVER_ERROR, "board unavailable"),
        }
    }
}

/// What `token` grants on `board`. Checked before the board is loaded, so a wrong link
/// costs one small read; the token is parsed before the store is touched. A board that
/// does not exist refuses every token, exactly as one that exists refuses a wrong one.
pub async fn authorize(
    store: &Arc<dyn Store>,
    board: &BoardId,
    token: Option<&str>,
) -> Result<Access, LinkError> {
    let token = Token::parse(token).map_err(|e| match e {
        TokenError::Missing => LinkError::Missing,
        TokenError::Malformed => refused(),
    })?;
    let board = *board;
    match store::blocking(store, move |s| s.links(&board)).await {
        Ok(Links::Hashes(hashes)) => hashes.check(&token).ok_or_else(refused),
        // Answered as a wrong token is: otherwise trying ids with any token would tell
        // which boards exist.
        Ok(Links::NoBoard) => Err(refused()),
        Ok(Links::Unlinked) => {
            tracing::warn!("board has no links; `hindsight boards links ID` issues them");
            Err(refused())
        }
        Err(e) => {
            stats::error(ErrorKind::Storage);
            tracing::error!(error = %e, "cannot read the board's links");
            Err(LinkError::Unavailable)
        }
    }
}

fn refused() -> LinkError {
    stats::error(ErrorKind::Access);
    tracing::warn!("link refused");
    LinkError::Refused
}
