//! A sequence of frames from three connections into one room, the way `rooms.rs` drives
//! it (reloading the board when an update poisons the room). Besides never panicking:
//! the deltas the room hands out for storage, applied to the board it started from, must
//! load and reach the same state as the room's document (what is persisted is the
//! document), the room's own state must load, and the read-only connection changes
//! nothing.
//!
//! Input: repeated `[connection byte][length: u16 LE][frame]`.
#![no_main]

use hindsight_fuzz::{board, quiet_panics};
use hindsight_server::room::{load_doc, ProtocolError, Room};
use hindsight_server::store::StoredBoard;
use hindsight_shared::Access;
use libfuzzer_sys::fuzz_target;
use yrs::{Doc, ReadTxn, Transact};

/// A document's state vector without clients at clock 0: a pending update (one whose
/// predecessors never came) leaves such an entry in the live document, which means
/// the same as no entry.
fn clocks(doc: &Doc) -> std::collections::BTreeMap<String, u32> {
    doc.transact()
        .state_vector()
        .iter()
        .filter(|(_, &clock)| clock > 0)
        .map(|(client, &clock)| (format!("{client:?}"), clock))
        .collect()
}

const READ_ONLY: u64 = 2;

/// The room as `rooms.rs` loads it from what is stored: the seed board and the deltas
/// persisted since. Connection 2 holds a read-only link: nothing it sends may change the
/// board.
fn load(start: &StoredBoard, stored: &[Vec<u8>]) -> Room {
    let mut room = Room::load(&StoredBoard {
        snapshot: start.snapshot.clone(),
        updates: stored.to_vec(),
        next_seq: 0,
    })
    .expect("what the room persisted loads");
    for conn in 0..3 {
        room.join(conn, if conn == READ_ONLY { Access::Read } else { Access::Edit });
    }
    room
}

fuzz_target!(
    init: quiet_panics(),
    |data: &[u8]| {
        let start = board();
        let mut stored = Vec::new();
        let mut room = load(&start, &stored);
        let mut rest = data;
        while rest.len() >= 3 {
            let conn = u64::from(rest[0] % 3);
            let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
            let frame = &rest[3..3 + len];
            rest = &rest[3 + len..];
            match room.receive(conn, frame) {
                Ok(outcome) => {
                    assert!(
                        conn != READ_ONLY || outcome.update.is_none(),
                        "a read-only connection changed the board"
                    );
                    stored.extend(outcome.update);
                }
                // A poisoned room is given up and the board reloaded from storage.
                Err(ProtocolError::Poisoned(_)) => room = load(&start, &stored),
                Err(_) => {}
            }
        }
        let persisted = load_doc(&StoredBoard {
            snapshot: start.snapshot,
            updates: stored,
            next_seq: 0,
        })
        .expect("what the room persisted loads");
        let own = load_doc(&StoredBoard {
            snapshot: room.encode_state(),
            ..Default::default()
        })
        .expect("the room's state loads");
        assert_eq!(
            clocks(&persisted),
            clocks(&own),
            "what was persisted is the document"
        );
    }
);
