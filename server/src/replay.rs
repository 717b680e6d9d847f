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

    /// Panics unless what was persisted is the room's document, the room keeps nothing
    /// aside that no store holds (yrs' pending blocks), and the room's own state loads.
    pub fn check(&self) {
        assert!(
            !self.room.holds_pending(),
            "the room keeps blocks aside that are stored nowhere"
        );
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

/// Replays presence from [`CONNECTIONS`] connections into a room and checks what the
/// room relays and keeps: every relayed entry belongs to a participant its sender
/// announced first (nobody moves, renames or withdraws someone else), every state is a
/// JSON object (or `null`, leaving) within the size limit, no connection holds more than
/// [`MAX_PRESENCE_CLIENTS`] participants, and what a joiner is given holds only such
/// states. The `presence` fuzz target drives it; the room's unit tests replay findings.
///
/// Input, repeated: `[connection][op]`, then for op 0 a presence update
/// (`[entries]`, each `[client][clock][length][JSON bytes]`), for op 1 the connection
/// leaving and joining again, for op 2 someone joining to look.
pub fn replay_presence(mut input: &[u8]) {
    use std::collections::HashMap;
    use std::sync::Arc;
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    use yrs::sync::Message;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;

    let limit = crate::limits::DEFAULT_MAX_PRESENCE_BYTES;
    let mut room = Room::load(&fresh_board()).expect("a fresh board loads");
    for conn in 0..CONNECTIONS {
        room.join(conn, Access::Edit);
    }
    // Who announced each participant, as the room must see it.
    let mut owner: HashMap<ClientID, ConnId> = HashMap::new();
    let mut next_observer = CONNECTIONS;
    let check_states = |update: &AwarenessUpdate, what: &str| {
        for (client, entry) in &update.clients {
            assert!(
                entry.json.len() <= limit,
                "{what}: {client}'s state is over the limit"
            );
            if &*entry.json != "null" {
                let value: serde_json::Value = serde_json::from_str(&entry.json)
                    .unwrap_or_else(|e| panic!("{what}: {client}'s state is not JSON: {e}"));
                assert!(
                    value.is_object(),
                    "{what}: {client}'s state is not an object"
                );
            }
        }
    };
    let presence_in = |frames: &[bytes::Bytes]| -> Vec<AwarenessUpdate> {
        frames
            .iter()
            .filter_map(|f| match Message::decode_v1(f) {
                Ok(Message::Awareness(update)) => Some(update),
                _ => None,
            })
            .collect()
    };
    let take = |input: &mut &[u8]| -> Option<u8> {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        Some(b)
    };
    while let (Some(conn), Some(op)) = (take(&mut input), take(&mut input)) {
        let conn = u64::from(conn) % CONNECTIONS;
        match op % 3 {
            0 => {
                let mut update = AwarenessUpdate {
                    clients: HashMap::new(),
                };
                for _ in 0..take(&mut input).unwrap_or(0) % 7 {
                    let (Some(client), Some(clock), Some(len)) =
                        (take(&mut input), take(&mut input), take(&mut input))
                    else {
                        break;
                    };
                    let len = usize::from(len).min(input.len());
                    let (json, rest) = input.split_at(len);
                    input = rest;
                    update.clients.insert(
                        ClientID::new(u64::from(client % 8)),
                        AwarenessUpdateEntry {
                            clock: u32::from(clock),
                            json: Arc::from(String::from_utf8_lossy(json).as_ref()),
                        },
                    );
                }
                let frame = Message::Awareness(update).encode_v1();
                let Ok(out) = room.receive(conn, &frame) else {
                    continue;
                };
                for relayed in presence_in(&out.broadcast) {
                    check_states(&relayed, "relayed");
                    for (client, entry) in &relayed.clients {
                        let first = *owner.entry(*client).or_insert(conn);
                        assert_eq!(
                            first, conn,
                            "connection {conn} changed {client}, announced by {first}"
                        );
                        // Leaving gives the participant up: anyone may announce it next.
                        if &*entry.json == "null" {
                            owner.remove(client);
                        }
                    }
                }
                let held = owner.values().filter(|c| **c == conn).count();
                assert!(
                    held <= crate::limits::MAX_PRESENCE_CLIENTS,
                    "connection {conn} holds {held} participants"
                );
            }
            1 => {
                room.leave(conn);
                owner.retain(|_, c| *c != conn);
                room.join(conn, Access::Edit);
            }
            _ => {
                let greeting = room.join(next_observer, Access::Read);
                for update in presence_in(&greeting) {
                    check_states(&update, "a joiner's greeting");
                }
                room.leave(next_observer);
                next_observer += 1;
            }
        }
    }
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
