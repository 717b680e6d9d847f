//! Hindsight's one extension to the y-websocket protocol: save acknowledgements.
//!
//! A client that wants to know when its changes are durable says so once per connection
//! with `TRACK_SAVES`. The server answers `SAVED n` at once and again after each batch it
//! has flushed to disk: the first `n` document messages (sync step 2 and updates) that
//! this connection sent are stored. Both use message types outside the standard range
//! (0–3) in yrs' framing of custom messages: the type, then a length-prefixed payload.
//! On the wire that is `[100, 0]` and `[101, len, varuint n]`. Stock Yjs clients never
//! send `TRACK_SAVES`, so they are never sent `SAVED`.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;

/// Client → server: please acknowledge what you store of mine.
pub const TRACK_SAVES: u8 = 100;
/// Server → client: the count of your document messages that are durable.
pub const SAVED: u8 = 101;

pub fn track_saves() -> Vec<u8> {
    Message::Custom(TRACK_SAVES, Vec::new()).encode_v1()
}

pub fn saved(count: u64) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.write_var(count);
    Message::Custom(SAVED, payload).encode_v1()
}

/// The count in a `SAVED` message, if `message` is one.
pub fn read_saved(message: &Message) -> Option<u64> {
    match message {
        Message::Custom(SAVED, payload) => Cursor::new(payload).read_var().ok(),
        _ => None,
    }
}

/// Whether a message carries document changes, and so counts towards `SAVED`.
pub fn is_document_change(message: &Message) -> bool {
    matches!(
        message,
        Message::Sync(SyncMessage::SyncStep2(_) | SyncMessage::Update(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;

    #[test]
    fn saved_round_trips_and_other_messages_are_not_saved() {
        for n in [0, 1, 127, 128, 1 << 40] {
            let msg = Message::decode_v1(&saved(n)).unwrap();
            assert_eq!(read_saved(&msg), Some(n));
        }
        let track = Message::decode_v1(&track_saves()).unwrap();
        assert_eq!(track, Message::Custom(TRACK_SAVES, vec![]));
        assert_eq!(read_saved(&track), None);
        assert!(is_document_change(&Message::Sync(SyncMessage::Update(
            vec![0, 0]
        ))));
        assert!(!is_document_change(&Message::AwarenessQuery));
    }

    #[test]
    fn the_framing_on_the_wire_is_yrs_custom_messages() {
        assert_eq!(track_saves(), [100, 0]);
        assert_eq!(saved(5), [101, 1, 5]);
        // 300 as a varuint is two bytes, 0xAC 0x02, so the payload length is 2.
        assert_eq!(saved(300), [101, 2, 0xac, 0x02]);
    }
}
