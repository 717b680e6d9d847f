//! Realistic board updates, encoded before a run so that sending costs the load generator
//! nothing: what the page sends when someone adds a note, drags one (x and y) or types a
//! character into it. Each script comes from its own Yrs document with its own client id,
//! so its updates depend only on each other and apply in order on any server.
//!
//! A receipt is matched to its send by the (client id, clock) the update starts at, which
//! survives every server's re-encoding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hindsight_shared::schema::{new_doc, NewNote};
use hindsight_shared::{Board, NoteId};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Transact, Update};

use crate::wire;

/// The messages one thin client sends, in order.
pub struct Script {
    pub client: u64,
    /// y-websocket sync update messages (not yet framed for a server).
    pub messages: Vec<Vec<u8>>,
    /// The client's clock after each message.
    pub ends: Vec<u32>,
}

/// A small deterministic generator, so every peer gets the same updates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The client id of script `index` (53-bit safe and never zero).
pub fn client_id(index: usize) -> u64 {
    1_000_000 + index as u64
}

/// The id of the `n`th note seeded by `client`.
pub fn seeded_id(client: u64, n: usize) -> NoteId {
    format!("s{client:x}n{n}").parse().expect("note id")
}

/// `count` updates as one person makes them: a note first, then mostly moves (a drag
/// sends many), some typing, and a new note every fiftieth update.
pub fn script(index: usize, count: usize) -> Script {
    let client = client_id(index);
    let doc = new_doc(Some(client));
    let board = Board::new(&doc);
    let captured: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = Arc::clone(&captured);
    // The observer lives as long as `doc`, this function; it only appends to `captured`.
    doc.observe_update_v1("bench-capture", move |_, event| {
        sink.lock().unwrap().push(event.update.clone())
    })
    .expect("observe a fresh document");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1));
    let mut note = add_note(&doc, &board, &mut rng, client, 0);
    let mut ends = vec![doc
        .transact()
        .state_vector()
        .get(&yrs::ClientID::new(client))];
    for n in 1..count {
        if n % 50 == 0 {
            note = add_note(&doc, &board, &mut rng, client, n);
        } else {
            let mut txn = doc.transact_mut();
            if n % 50 <= 9 {
                let text = board
                    .note_text(&txn, &note)
                    .map(|t| yrs::GetString::get_string(&t, &txn))
                    .unwrap_or_default();
                let letter = char::from(b'a' + rng.below(26) as u8);
                board.edit_text(&mut txn, &note, &format!("{text}{letter}"));
            } else {
                // Anywhere on the board but the timeline, whose entries are laid out on
                // its time axis rather than placed: a board of ideas.
                let (x, y) = loop {
                    let (x, y) = (rng.below(3000) as f64, rng.below(2000) as f64);
                    if !(x >= 700.0 && y < 560.0) {
                        break (x, y);
                    }
                };
                board.move_note(&mut txn, &note, x, y);
            }
        }
        ends.push(
            doc.transact()
                .state_vector()
                .get(&yrs::ClientID::new(client)),
        );
    }
    let messages = std::mem::take(&mut *captured.lock().unwrap())
        .into_iter()
        .map(wire::update_message)
        .collect::<Vec<_>>();
    assert_eq!(messages.len(), ends.len(), "one update per edit");
    Script {
        client,
        messages,
        ends,
    }
}

fn add_note(doc: &yrs::Doc, board: &Board, rng: &mut Rng, client: u64, n: usize) -> NoteId {
    let id: NoteId = format!("{client:x}n{n}").parse().expect("a valid note id");
    let (x, y) = (rng.below(3000) as f64, rng.below(2000) as f64);
    let note = NewNote::at(x, y, "What happened")
        .created_at(1_700_000_000_000.0 + n as f64)
        .by(format!("bench {client}"));
    board.add_note(&mut doc.transact_mut(), &id, note);
    id
}

/// Finds which script message an update carries, by the clock it starts at.
pub struct Index {
    by_start: HashMap<(u64, u32), (u32, u32)>,
}

impl Index {
    pub fn new(scripts: &[Script]) -> Index {
        let mut by_start = HashMap::new();
        for (s, script) in scripts.iter().enumerate() {
            let starts = std::iter::once(0).chain(script.ends.iter().copied());
            for (m, start) in starts.take(script.ends.len()).enumerate() {
                by_start.insert((script.client, start), (s as u32, m as u32));
            }
        }
        Index { by_start }
    }

    /// The (script, message) of the first script update that `update` carries for each
    /// client in it.
    pub fn find(&self, update: &[u8], mut found: impl FnMut(usize, usize)) {
        let Ok(update) = Update::decode_v1(update) else {
            return;
        };
        for (client, clock) in update.state_vector_lower().iter() {
            if let Some(&(s, m)) = self.by_start.get(&(client.get(), *clock)) {
                found(s as usize, m as usize);
            }
        }
    }
}

/// `count` notes in updates of at most `per_update`, for seeding big boards.
pub fn seed_notes(client: u64, count: usize, per_update: usize) -> Vec<Vec<u8>> {
    seed_into(&new_doc(Some(client)), count, per_update)
}

/// [`seed_notes`] into `doc`, which then holds the notes too: a peer that goes on to
/// change them (P6 moves one as a dragging person would).
pub fn seed_into(doc: &yrs::Doc, count: usize, per_update: usize) -> Vec<Vec<u8>> {
    let client = doc.client_id().get();
    let board = Board::new(doc);
    let mut rng = Rng(client);
    let mut out = Vec::new();
    let mut before = doc.transact().state_vector();
    let mut made = 0;
    while made < count {
        {
            let mut txn = doc.transact_mut();
            for _ in 0..per_update.min(count - made) {
                let id = seeded_id(client, made);
                // Over the regions below the timeline (Detect to Next Steps): a board of
                // ideas, whose timeline is its own, smaller set of entries.
                let (x, y) = (rng.below(3000) as f64, 600.0 + rng.below(1400) as f64);
                let text = format!("Seeded note {made}: the deploy paused at step {}", made % 7);
                let note = NewNote::at(x, y, text).created_at(1_700_000_000_000.0 + made as f64);
                board.add_note(&mut txn, &id, note);
                made += 1;
            }
        }
        let txn = doc.transact();
        out.push(wire::update_message(txn.encode_state_as_update_v1(&before)));
        before = txn.state_vector();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::{Message, SyncMessage};

    #[test]
    fn scripts_apply_in_order_and_are_found_by_their_end() {
        let script = script(3, 120);
        assert_eq!(script.messages.len(), 120);
        let index = Index::new(std::slice::from_ref(&script));
        let doc = new_doc(None);
        for (m, message) in script.messages.iter().enumerate() {
            let Ok(Message::Sync(SyncMessage::Update(update))) = Message::decode_v1(message) else {
                panic!("an update message");
            };
            let mut seen = Vec::new();
            index.find(&update, |s, m| seen.push((s, m)));
            assert_eq!(seen, vec![(0, m)]);
            let mut txn = doc.transact_mut();
            txn.apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
            assert!(
                txn.store().pending_update().is_none(),
                "message {m} applies"
            );
        }
        assert_eq!(Board::new(&doc).note_count(&doc.transact()), 3);
    }

    #[test]
    fn seeded_notes_add_up() {
        let doc = new_doc(None);
        for message in seed_notes(77, 250, 100) {
            let Ok(Message::Sync(SyncMessage::Update(update))) = Message::decode_v1(&message)
            else {
                panic!("an update message");
            };
            doc.transact_mut()
                .apply_update(Update::decode_v1(&update).unwrap())
                .unwrap();
        }
        assert_eq!(Board::new(&doc).note_count(&doc.transact()), 250);
    }
}
