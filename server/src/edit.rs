//! Changing a live board from the server's side, as a member of its room: the HTTP API's
//! edits go through the room like any client's, so they are stored before anyone sees
//! them, reach every connected page, and keep every limit the room enforces.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hindsight_shared::{protocol, Access, BoardId};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use crate::rooms::{JoinError, Outgoing, Rooms};

/// How long an edit waits for the room to say it is stored.
const STORED_WITHIN: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Join(#[from] JoinError),
    /// The room closed the connection instead of storing the change (a limit, say).
    #[error("the board refused the change: {0}")]
    Refused(&'static str),
    #[error("the board's room closed before the change was stored")]
    Closed,
    #[error("the change was not stored within {STORED_WITHIN:?}")]
    Timeout,
}

/// Applies the Yjs `update` to `board` and returns once the room has stored it.
pub async fn apply(rooms: &Arc<Rooms>, board: BoardId, update: Vec<u8>) -> Result<(), EditError> {
    let mut member = rooms.join(board, Access::Edit).await?;
    let sent = async {
        member.send(Bytes::from(protocol::track_saves())).await?;
        let frame = Message::Sync(SyncMessage::Update(update)).encode_v1();
        member.send(Bytes::from(frame)).await
    };
    if sent.await.is_err() {
        return Err(EditError::Closed);
    }
    let stored = async {
        while let Some(out) = member.outbox.recv().await {
            match out {
                Outgoing::Frame(frame) => {
                    let saved = Message::decode_v1(&frame)
                        .ok()
                        .and_then(|m| protocol::read_saved(&m));
                    if saved.is_some_and(|n| n >= 1) {
                        return Ok(());
                    }
                }
                Outgoing::Close(_, reason) => return Err(EditError::Refused(reason)),
            }
        }
        Err(EditError::Closed)
    };
    let result = tokio::time::timeout(STORED_WITHIN, stored)
        .await
        .unwrap_or(Err(EditError::Timeout));
    member.leave().await;
    result
}
