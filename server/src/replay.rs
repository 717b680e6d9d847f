//! Replaying recorded frames into a room the way `rooms.rs` drives it, and checking the
//! invariant storage rests on: the deltas a room hands out for storage rebuild exactly
//! its document. The `receive` fuzz target and the room's unit tests (which replay every
//! fuzz finding) both go through here, so they check the same thing the same way.
//!
//! No I/O: "stored" is a vector of deltas, and "reloading" builds a new [`Room`] from
//! the starting board plus those deltas, as a room task does after a restart.

use std::collections::BTreeMap;

use hindsight_shared::schema::new_doc;
use hindsight_shared::{Access, Board};
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact};

use crate::room::{load_doc, ConnId, Room};
use crate::store::StoredBoard;

/// Connections in a replay: frames name one by their first byte, modulo this.
pub const CONNECTIONS: u64 = 3;

/// A freshly created board, as the store hands it to a room.
pub fn fresh_board() -> StoredBoard {
    let doc = new_doc(Some(1));
    Board::new(&doc).init(&mut doc.transact_mut(), "Fuzzing", 1.0);
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    StoredBoard {
        snapshot,
        ..Default::default()
    }
}

/// Splits a recording, `[connection byte][length: u16 LE][frame]` repeated, into
/// (connection, frame) pairs. A length past the end takes what is left; a tail shorter
/// than a header is ignored, so every byte string is a valid recording.
pub fn frames(mut rest: &[u8]) -> impl Iterator<Item = (ConnId, &[u8])> {
    std::iter::from_fn(move || {
        if rest.len() < 3 {
            return None;
        }
        let conn = u64::from(rest[0]) % CONNECTIONS;
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let frame = &rest[3..3 + len];
        rest = &rest[3 + len..];
        Some((conn, frame))
    })
}

/// A room being fed frames, with what it has handed out for storage so far.
pub struct Replay {
    start: StoredBoard,
    stored: Vec<Vec<u8>>,
    room: Room,
    read_only: Option<ConnId>,
}

impl Replay {
    /// A room on `start` with [`CONNECTIONS`] connections joined, all editing except
    /// `read_only`.
    pub fn new(start: StoredBoard, read_only: Option<ConnId>) -> Replay {
        let room = reload(&start, &[], read_only);
        Replay {
            start,
            stored: Vec::new(),
            room,
            read_only,
        }
    }

    /// Hands one frame to the room, keeps what it persists, and reloads the board from
    /// storage when the room gives up on a poisoned document, as `rooms.rs` does.
    ///
    /// Panics if the read-only connection changed the board.
    pub fn receive(&mut self, conn: ConnId, frame: &[u8]) {
        match self.room.receive(conn, frame) {
            Ok(outcome) => {
                assert!(
                    Some(conn) != self.read_only || outcome.update.is_none(),
                    "a read-only connection changed the board"
                );
                self.stored.extend(outcome.update);
            }
            Err(e) if e.needs_reload() => {
                self.room = reload(&self.start, &self.stored, self.read_only);
            }
            Err(_) => {}
        }
    }

    /// The document rebuilt from what was persisted.
    pub fn persisted(&self) -> Doc {
        load_doc(&self.stored_board()).expect("what the room persisted loads")
    }

    /// The room's own state, encoded as a snapshot would be.
    pub fn room_state(&self) -> Vec<u8> {
        self.room.encode_state()
    }

    /// Panics unless what was persisted is the room's document and the room's own state
    /// loads.
    pub fn check(&self) {
        let own = load_doc(&StoredBoard {
            snapshot: self.room_state(),
            ..Default::default()
        })
        .expect("the room's state loads");
        assert_eq!(
            clocks(&self.persisted()),
            clocks(&own),
            "what was persisted is the document"
        );
    }

    fn stored_board(&self) -> StoredBoard {
        StoredBoard {
            snapshot: self.start.snapshot.clone(),
            updates: self.stored.clone(),
            next_seq: 0,
        }
    }
}

/// Feeds a whole recording to a fresh board and checks it (see [`Replay::check`]).
pub fn replay(recording: &[u8], read_only: Option<ConnId>) -> Replay {
    let mut replay = Replay::new(fresh_board(), read_only);
    for (conn, frame) in frames(recording) {
        replay.receive(conn, frame);
    }
    replay.check();
    replay
}

/// The room as `rooms.rs` loads it from what is stored, with every connection joined.
fn reload(start: &StoredBoard, stored: &[Vec<u8>], read_only: Option<ConnId>) -> Room {
    let mut room = Room::load(&StoredBoard {
        snapshot: start.snapshot.clone(),
        updates: stored.to_vec(),
        next_seq: 0,
    })
    .expect("what the room persisted loads");
    for conn in 0..CONNECTIONS {
        let access = if Some(conn) == read_only {
            Access::Read
        } else {
            Access::Edit
        };
        room.join(conn, access);
    }
    room
}

/// A document's state vector without clients at clock 0: a pending update (one whose
/// predecessors never came) leaves such an entry in the live document, which means the
/// same as no entry.
fn clocks(doc: &Doc) -> BTreeMap<ClientID, u32> {
    doc.transact()
        .state_vector()
        .iter()
        .filter(|(_, &clock)| clock > 0)
        .map(|(&client, &clock)| (client, clock))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_splits_into_frames_and_tolerates_any_tail() {
        let recording = [4, 2, 0, 9, 9, 1, 5, 0, 7, 0];
        let frames: Vec<_> = frames(&recording).collect();
        assert_eq!(frames, [(1, &[9, 9][..]), (1, &[7, 0][..])]);
        assert_eq!(super::frames(&[0, 1]).count(), 0);
    }
}
