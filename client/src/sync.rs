//! The sync protocol of the page, free of the browser: y-websocket sync and awareness
//! frames in and out, save acknowledgements, awareness hygiene, presence as the page
//! shows it, and the reconnect backoff. Pure functions and small state machines that
//! take and return bytes and values, so they are tested natively; `provider.rs` is the
//! thin browser adapter that owns the socket and calls them.

use std::collections::{BTreeMap, BTreeSet};

use hindsight_shared::presence::{Point, Presence};
use hindsight_shared::{protocol, NoteId};
use yrs::sync::{Awareness, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact, Update};

/// Transaction origin of updates that came from the server, so they are not echoed back.
pub const REMOTE: &str = "hindsight-remote";
/// A remote state not renewed for this long belongs to someone who is gone.
pub const STALE_AFTER_MS: u64 = 30_000;
const BACKOFF_START_MS: f64 = 250.0;
const BACKOFF_MAX_MS: f64 = 10_000.0;

#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
    Offline,
    /// The server refused the board for good; the text says why.
    Closed(&'static str),
}

impl Connection {
    /// The value of `#connection[data-state]`.
    pub fn state(&self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Connected => "connected",
            Connection::Offline => "offline",
            Connection::Closed(_) => "closed",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Connection::Connecting => "Connecting…",
            Connection::Connected => "Live",
            Connection::Offline => "Offline — reconnecting",
            Connection::Closed(reason) => reason,
        }
    }
}

#[derive(Debug)]
pub struct ProtocolError(String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to do after one incoming frame.
#[derive(Debug, Default)]
pub struct Outcome {
    pub replies: Vec<Vec<u8>>,
    pub awareness_changed: bool,
    /// We answered the server's sync step 1: the first reply is our sync step 2, which
    /// carries everything of ours the server lacks.
    pub answered_step1: bool,
    /// The server's save acknowledgement, if this frame was one.
    pub saved: Option<u64>,
    /// The server refused us, with this reason (y-protocols' auth message).
    pub denied: Option<String>,
    /// This frame was the server's sync step 2: the document now holds the board.
    pub step2: bool,
}

/// Applies an update from the server, as a remote change.
fn apply_remote(awareness: &Awareness, bytes: &[u8]) -> Result<(), ProtocolError> {
    let update = Update::decode_v1(bytes).map_err(|e| ProtocolError(format!("bad update: {e}")))?;
    awareness
        .doc()
        .transact_mut_with(REMOTE)
        .apply_update(update)
        .map_err(|e| ProtocolError(format!("update does not apply: {e}")))
}

/// The frames a client sends when a connection opens: its state vector, so the server
/// sends what it misses, and its own awareness state, if it has one.
pub fn greeting(awareness: &Awareness) -> Vec<Vec<u8>> {
    let sv = awareness.doc().transact().state_vector();
    let mut frames = vec![Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()];
    frames.extend(own_awareness_frame(awareness));
    frames
}

/// The frame that announces our own awareness state (or its removal, once cleared).
pub fn own_awareness_frame(awareness: &Awareness) -> Option<Vec<u8>> {
    let update = awareness
        .update_with_clients([awareness.client_id()])
        .ok()?;
    Some(Message::Awareness(update).encode_v1())
}

/// The frame that carries a local document update.
pub fn update_frame(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// Applies one frame from the server and says what to send back.
///
/// Besides the standard messages, it reads save acknowledgements; other message types
/// (the server may add its own, numbered 100 and up) are ignored. Malformed known messages
/// are errors; the caller drops the connection and a fresh sync repairs whatever was
/// missed.
pub fn handle_frame(awareness: &mut Awareness, frame: &[u8]) -> Result<Outcome, ProtocolError> {
    match leading_var_uint(frame) {
        Some(0..=3) => {}
        Some(t) if t == u64::from(protocol::SAVED) => {
            let saved = Message::decode_v1(frame)
                .ok()
                .and_then(|m| protocol::read_saved(&m))
                .ok_or_else(|| ProtocolError("bad save acknowledgement".into()))?;
            return Ok(Outcome {
                saved: Some(saved),
                ..Outcome::default()
            });
        }
        Some(_) => return Ok(Outcome::default()),
        None => return Err(ProtocolError("empty or truncated frame".into())),
    }
    let message =
        Message::decode_v1(frame).map_err(|e| ProtocolError(format!("bad message: {e}")))?;
    let mut outcome = Outcome::default();
    match message {
        Message::Sync(SyncMessage::SyncStep1(sv)) => {
            let update = awareness.doc().transact().encode_state_as_update_v1(&sv);
            outcome
                .replies
                .push(Message::Sync(SyncMessage::SyncStep2(update)).encode_v1());
            outcome.answered_step1 = true;
        }
        Message::Sync(SyncMessage::SyncStep2(bytes)) => {
            apply_remote(awareness, &bytes)?;
            outcome.step2 = true;
        }
        Message::Sync(SyncMessage::Update(bytes)) => apply_remote(awareness, &bytes)?,
        Message::Awareness(update) => {
            awareness
                .apply_update(update)
                .map_err(|e| ProtocolError(format!("bad awareness update: {e}")))?;
            outcome.awareness_changed = true;
        }
        Message::AwarenessQuery => {
            if let Ok(update) = awareness.update() {
                outcome.replies.push(Message::Awareness(update).encode_v1());
            }
        }
        Message::Auth(Some(reason)) => outcome.denied = Some(reason),
        Message::Auth(None) | Message::Custom(..) => {}
    }
    Ok(outcome)
}

/// The lib0 varUint at the start of a frame: the message type.
fn leading_var_uint(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().take(9).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Forgets remote participants whose state was not renewed in time (they closed the lid
/// or lost the network without saying goodbye). Returns whether anyone was dropped.
pub fn expire_stale(awareness: &mut Awareness, now_ms: u64) -> bool {
    let me = awareness.client_id();
    let stale: Vec<_> = awareness
        .iter()
        .filter(|(id, state)| {
            *id != me
                && state.data.is_some()
                && now_ms.saturating_sub(state.last_updated) > STALE_AFTER_MS
        })
        .map(|(id, _)| id)
        .collect();
    for id in &stale {
        awareness.remove_state(*id);
    }
    !stale.is_empty()
}

/// One participant in the list: who, in which colour. Cursors and what they edit are
/// kept apart (see [`PresenceViews`]), so a moving cursor never reaches the list.
#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    pub client_id: u64,
    pub name: String,
    pub color: String,
    pub me: bool,
}

/// Someone else's cursor on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteCursor {
    pub client_id: u64,
    pub name: String,
    pub color: String,
    pub at: Point,
}

/// What the page shows of everyone's presence, derived once per awareness change and
/// split by how often each part changes: the participant list when people come, go or
/// rename; the cursors many times a second; who edits which note when someone starts or
/// stops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PresenceViews {
    /// Everyone with a readable state, ourselves first, then by client id.
    pub participants: Vec<Participant>,
    /// Other people's cursors, by client id.
    pub cursors: Vec<RemoteCursor>,
    /// The colour of someone else editing each note (the first by client id, if several).
    pub editors: BTreeMap<NoteId, String>,
    /// The notes someone else is dragging.
    pub moving: BTreeSet<NoteId>,
}

/// Reads everyone's presence out of the awareness.
pub fn presence_views(awareness: &Awareness) -> PresenceViews {
    let me = awareness.client_id();
    let mut states: Vec<(u64, bool, Presence)> = awareness
        .iter()
        .filter_map(|(id, state)| {
            let presence = serde_json::from_str::<Presence>(state.data.as_deref()?).ok()?;
            Some((id.get(), id == me, presence))
        })
        .collect();
    states.sort_by_key(|(id, me, _)| (!*me, *id));
    let mut views = PresenceViews::default();
    for (client_id, me, presence) in states {
        let Presence {
            user,
            cursor,
            editing,
            moving,
        } = presence;
        if !me {
            if let Some(at) = cursor {
                views.cursors.push(RemoteCursor {
                    client_id,
                    name: user.name.clone(),
                    color: user.color.clone(),
                    at,
                });
            }
            if let Some(note) = editing.and_then(|n| n.parse::<NoteId>().ok()) {
                views
                    .editors
                    .entry(note)
                    .or_insert_with(|| user.color.clone());
            }
            if let Some(note) = moving.and_then(|n| n.parse::<NoteId>().ok()) {
                views.moving.insert(note);
            }
        }
        views.participants.push(Participant {
            client_id,
            name: user.name,
            color: user.color,
            me,
        });
    }
    views
}

/// Which of our changes the server has stored, on one connection and across them.
///
/// Every document message we send on a socket (our sync step 2, each update) is counted;
/// the server's `SAVED n` says its first `n` are durable. Everything local is stored once
/// an acknowledgement covers all we sent after our sync step 2 went out (the step 2
/// carries whatever earlier sockets or a reload left unsent). `pending` counts local
/// changes not yet known to be stored, and is what the save indicator shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Saves {
    /// Document messages sent on the current socket.
    sent: u64,
    /// Our sync step 2 went out on the current socket.
    synced: bool,
    /// Local changes not yet acknowledged as stored.
    pub pending: u64,
}

impl Saves {
    /// Starts from `pending` changes that may not be stored (restored from the browser).
    pub fn new(pending: u64) -> Saves {
        Saves {
            pending,
            ..Saves::default()
        }
    }

    /// A new socket: nothing sent on it yet.
    pub fn connected(&mut self) {
        self.sent = 0;
        self.synced = false;
    }

    /// A local change was made (whether or not it could be sent now).
    pub fn changed(&mut self) {
        self.pending += 1;
    }

    /// A document message went out; `step2` when it was our answer to sync step 1.
    pub fn sent(&mut self, step2: bool) {
        self.sent += 1;
        if step2 {
            self.synced = true;
        }
    }

    /// Whether a document message goes out now; `step2` when it is our answer to the
    /// server's sync step 1. A change made before that answer is held back for it to
    /// carry: it may build on others the server has not had yet (made offline, or sent to
    /// a node that died), and alone it would be refused as out of step
    /// (`close::OUT_OF_STEP`).
    pub fn sends(&self, step2: bool) -> bool {
        step2 || self.synced
    }

    /// The server stored our first `saved` document messages on this socket. Returns
    /// whether that made everything local stored.
    pub fn acknowledged(&mut self, saved: u64) -> bool {
        if self.synced && saved >= self.sent && self.pending != 0 {
            self.pending = 0;
            return true;
        }
        false
    }
}

/// The delay before reconnect attempt `attempt` (0-based): doubling from 250 ms up to
/// 10 s, with up to half of it random so a restarted server is not hit by everyone at once.
pub fn backoff_ms(attempt: u32, jitter: f64) -> f64 {
    let base = (BACKOFF_START_MS * 2f64.powi(attempt.min(16) as i32)).min(BACKOFF_MAX_MS);
    base * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hindsight_shared::presence::{Point, PresenceUser};
    use hindsight_shared::schema::{new_doc, Board, NewNote};
    use hindsight_shared::{close, NoteColor};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use yrs::Origin;
    use yrs::StateVector;

    fn awareness(client: u64) -> Awareness {
        Awareness::with_clock(new_doc(Some(client)), || 1_000)
    }

    fn presence(name: &str) -> Presence {
        Presence {
            user: PresenceUser {
                name: name.into(),
                color: "#e11d48".into(),
            },
            cursor: Some(Point { x: 1.0, y: 2.0 }),
            editing: None,
            moving: None,
        }
    }

    /// Delivers frames back and forth until both sides are quiet.
    fn exchange(a: &mut Awareness, b: &mut Awareness) {
        let mut to_b = greeting(a);
        let mut to_a = greeting(b);
        while !to_a.is_empty() || !to_b.is_empty() {
            let mut next_to_a = vec![];
            for f in to_b.drain(..) {
                next_to_a.extend(handle_frame(b, &f).unwrap().replies);
            }
            let mut next_to_b = vec![];
            for f in to_a.drain(..) {
                next_to_b.extend(handle_frame(a, &f).unwrap().replies);
            }
            to_a = next_to_a;
            to_b = next_to_b;
        }
    }

    fn add_note(a: &Awareness, id: &str, text: &str) {
        let board = Board::new(a.doc());
        board.add_note(
            &mut a.doc().transact_mut(),
            &id.parse().unwrap(),
            NewNote::at(10.0, 10.0, text)
                .color(NoteColor::Green)
                .created_at(1.0)
                .by("Ada"),
        );
    }

    #[test]
    fn two_replicas_converge_and_see_each_other() {
        let mut a = awareness(1);
        let mut b = awareness(2);
        add_note(&a, "n1", "from a");
        add_note(&b, "n2", "from b");
        a.set_local_state(presence("Ada")).unwrap();
        b.set_local_state(presence("Bo")).unwrap();
        exchange(&mut a, &mut b);
        for side in [&a, &b] {
            let notes = Board::new(side.doc()).notes(&side.doc().transact());
            let texts: Vec<_> = notes.iter().map(|n| n.text.as_str()).collect();
            assert_eq!(texts.len(), 2);
            assert!(texts.contains(&"from a") && texts.contains(&"from b"));
        }
        let seen: Vec<_> = presence_views(&a)
            .participants
            .into_iter()
            .map(|p| (p.name, p.me))
            .collect();
        assert_eq!(seen, [("Ada".to_string(), true), ("Bo".to_string(), false)]);
    }

    #[test]
    fn remote_updates_carry_the_remote_origin() {
        let mut a = awareness(1);
        let b = awareness(2);
        let echoed = Arc::new(AtomicU64::new(0));
        let counter = echoed.clone();
        let remote = Origin::from(REMOTE);
        a.doc()
            .observe_update_v1("t", move |txn, _| {
                if txn.origin() != Some(&remote) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap();
        add_note(&b, "n1", "hi");
        let update = b
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        handle_frame(&mut a, &update_frame(update)).unwrap();
        assert_eq!(
            echoed.load(Ordering::SeqCst),
            0,
            "a remote update is not sent back"
        );
        add_note(&a, "n2", "local");
        assert_eq!(echoed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn unknown_types_are_ignored_and_garbage_is_an_error() {
        let mut a = awareness(1);
        // A custom type 100 message and a two-byte varUint type (200).
        for frame in [&[100u8, 3, 1, 2, 3][..], &[0xc8, 0x01, 0][..]] {
            let outcome = handle_frame(&mut a, frame).unwrap();
            assert!(outcome.replies.is_empty() && !outcome.awareness_changed);
        }
        assert!(handle_frame(&mut a, &[]).is_err());
        assert!(handle_frame(&mut a, &[0x80]).is_err());
        // A sync update whose payload is not an update.
        assert!(handle_frame(&mut a, &[0, 2, 3, 0xff, 0xff, 0xff]).is_err());
        // The awareness query is answered with everyone's state.
        a.set_local_state(presence("Ada")).unwrap();
        let outcome = handle_frame(&mut a, &[3]).unwrap();
        assert_eq!(outcome.replies.len(), 1);
    }

    #[test]
    fn save_acknowledgements_are_read_and_step1_is_answered_with_step2() {
        let mut a = awareness(1);
        let outcome = handle_frame(&mut a, &protocol::saved(300)).unwrap();
        assert_eq!(outcome.saved, Some(300));
        assert!(outcome.replies.is_empty() && !outcome.answered_step1);
        // A SAVED without its count is malformed.
        assert!(handle_frame(&mut a, &[protocol::SAVED, 0]).is_err());

        let b = awareness(2);
        let outcome = handle_frame(&mut a, &greeting(&b)[0]).unwrap();
        assert!(outcome.answered_step1 && outcome.saved.is_none());
        assert_eq!(outcome.replies.len(), 1);
    }

    #[test]
    fn stale_remote_states_expire_but_ours_stays() {
        let clock = Arc::new(AtomicU64::new(1_000));
        let c = clock.clone();
        let mut a = Awareness::with_clock(new_doc(Some(1)), move || c.load(Ordering::SeqCst));
        let mut b = awareness(2);
        a.set_local_state(presence("Ada")).unwrap();
        b.set_local_state(presence("Bo")).unwrap();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        assert_eq!(presence_views(&a).participants.len(), 2);
        assert!(!expire_stale(&mut a, 1_000 + STALE_AFTER_MS));
        assert!(expire_stale(&mut a, 1_001 + STALE_AFTER_MS));
        let left: Vec<_> = presence_views(&a)
            .participants
            .into_iter()
            .map(|p| p.me)
            .collect();
        assert_eq!(left, [true]);
    }

    #[test]
    fn leaving_sends_a_null_state() {
        let mut a = awareness(1);
        let mut b = awareness(2);
        b.set_local_state(presence("Bo")).unwrap();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        assert_eq!(presence_views(&a).participants.len(), 1);
        b.clean_local_state();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        assert!(presence_views(&a).participants.is_empty());
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter() {
        assert_eq!(backoff_ms(0, 1.0), 250.0);
        assert_eq!(backoff_ms(1, 1.0), 500.0);
        assert_eq!(backoff_ms(3, 1.0), 2_000.0);
        assert_eq!(backoff_ms(10, 1.0), 10_000.0);
        assert_eq!(backoff_ms(u32::MAX, 1.0), 10_000.0);
        assert_eq!(backoff_ms(0, 0.0), 125.0);
    }

    #[test]
    fn connection_states_have_texts() {
        assert_eq!(Connection::Offline.state(), "offline");
        let closed = Connection::Closed(close::describe(close::BOARD_NOT_FOUND));
        assert_eq!(closed.state(), "closed");
        assert_eq!(closed.label(), "There is no board at this link.");
    }

    #[test]
    fn presence_is_split_into_list_cursors_and_editors() {
        let mut a = awareness(1);
        let mut b = awareness(2);
        let mut c = awareness(3);
        a.set_local_state(Presence {
            editing: Some("n1".into()),
            moving: None,
            ..presence("Ada")
        })
        .unwrap();
        b.set_local_state(Presence {
            editing: Some("n1".into()),
            moving: None,
            ..presence("Bo")
        })
        .unwrap();
        c.set_local_state(Presence {
            cursor: None,
            editing: Some("n2".into()),
            moving: None,
            user: PresenceUser {
                name: "Cy".into(),
                color: "#16a34a".into(),
            },
        })
        .unwrap();
        for other in [&b, &c] {
            handle_frame(&mut a, &own_awareness_frame(other).unwrap()).unwrap();
        }
        let views = presence_views(&a);
        let names: Vec<_> = views.participants.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Ada", "Bo", "Cy"]);
        // Our own cursor and editing are not shown to us.
        let cursors: Vec<_> = views.cursors.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cursors, ["Bo"]);
        let n1: NoteId = "n1".parse().unwrap();
        let n2: NoteId = "n2".parse().unwrap();
        assert_eq!(
            views.editors,
            [(n1, "#e11d48".to_owned()), (n2, "#16a34a".to_owned())].into()
        );
        // A cursor that moved changes the cursors and nothing else.
        b.set_local_state(Presence {
            cursor: Some(Point { x: 50.0, y: 60.0 }),
            editing: Some("n1".into()),
            moving: None,
            ..presence("Bo")
        })
        .unwrap();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        let moved = presence_views(&a);
        assert_eq!(moved.participants, views.participants);
        assert_eq!(moved.editors, views.editors);
        assert_ne!(moved.cursors, views.cursors);
    }

    #[test]
    fn saved_only_once_an_acknowledgement_covers_everything_after_step2() {
        let mut saves = Saves::new(2);
        saves.connected();
        // An acknowledgement before our sync step 2 went out says nothing about the
        // changes that step 2 carries.
        assert!(!saves.acknowledged(0));
        saves.sent(true);
        saves.changed();
        saves.sent(false);
        assert!(!saves.acknowledged(1), "one of two messages stored");
        assert_eq!(saves.pending, 3);
        assert!(saves.acknowledged(2));
        assert_eq!(saves.pending, 0);
        // A new socket starts counting again.
        saves.changed();
        saves.connected();
        assert!(!saves.acknowledged(5), "nothing of this socket's was sent");
        saves.sent(true);
        assert!(saves.acknowledged(1));
    }

    #[test]
    fn changes_wait_for_our_sync_step2_on_each_socket() {
        let mut saves = Saves::new(0);
        saves.connected();
        assert!(!saves.sends(false), "held back for step 2 to carry");
        assert!(saves.sends(true));
        saves.sent(true);
        assert!(saves.sends(false));
        saves.connected();
        assert!(!saves.sends(false), "a new socket waits for its own step 2");
    }
}
