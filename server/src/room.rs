//! The sync logic of one board, free of I/O: bytes from a connection go in, the messages
//! to send and the update to persist come out.
//!
//! A `Room` owns the board's document and the awareness (presence) of everyone in it. It
//! speaks the standard Yjs sync and awareness protocol through `yrs::sync`, so stock Yjs
//! clients work unchanged. It never sends anything itself: the caller persists
//! [`Outcome::update`] and only then delivers the messages, which is what makes "seen by
//! someone" imply "durable".

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use yrs::sync::{Awareness, AwarenessUpdate, Message, SyncMessage};
use yrs::types::{EntryChange, Event, PathSegment};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    ClientID, DeepObservable, Doc, Observable, ReadTxn, StateVector, Transact, TransactionMut,
    Update, WriteTxn,
};

use hindsight_shared::schema::new_doc;
use hindsight_shared::{close, export, protocol, Access, Board, NoteId, Template};

use crate::guard::Guarded;
use crate::limits::{DocumentLimits, MAX_PRESENCE_CLIENTS};
use crate::store::StoredBoard;
use crate::vocabulary;

/// Identifies one connection within the server.
pub type ConnId = u64;

/// The observer that keeps a room's note count.
/// How long a participant announced on another node is kept without being renewed: the
/// y-protocols timeout, which stock clients and ours renew well within (every 15 s). A
/// node that dies cannot withdraw its participants; this does, on every other node.
pub const REMOTE_PRESENCE_TIMEOUT: Duration = Duration::from_secs(30);

const NOTE_COUNTER: &str = "hindsight-note-count";
const FIELD_WATCH: &str = "hindsight-field-limits";
/// The longest string any field holds, in UTF-16 units: a note's text, whose limit is
/// `NOTE_MAX_CHARS` characters, each at most two units.
const LONGEST_STRING: usize = 2 * hindsight_shared::schema::NOTE_MAX_CHARS;

/// Why a connection's message was refused. The connection is closed; the board is not
/// touched.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("update rejected: {0}")]
    BadUpdate(String),
    #[error("the board would exceed {0} bytes")]
    TooLarge(usize),
    #[error("the board would exceed {0} notes")]
    TooManyNotes(usize),
    #[error("a read-only connection sent a change")]
    ReadOnly,
    /// Presence that is not a JSON object, too large, or for too many participants.
    #[error("presence refused: {0}")]
    Presence(String),
    /// The update made a note or a board field longer (or its votes larger) than the
    /// board's limits, the ones an import checks. The document holds it already, so, as
    /// for a poisoned one, the room is reloaded from storage (nothing of it was persisted
    /// or relayed).
    #[error("a field over its limit: {0}")]
    FieldTooLong(String),
    /// The update carries a string longer than any field of a board may be; refused
    /// before it was applied.
    #[error("a string of {0} characters")]
    StringTooLong(usize),
    /// The update reaches into the facilitator's part of the board (`guard.rs`) and its
    /// connection did not prove the facilitator key; refused before it was applied.
    #[error("only the facilitator may change that")]
    FacilitatorOnly,
    /// yrs panicked while integrating the update. The document may be half-changed, so
    /// the room must be reloaded from storage (nothing of it was persisted or relayed).
    #[error("the update broke the document: {0}")]
    Poisoned(String),
    /// Part of the update builds on blocks the board does not hold. yrs would keep that
    /// part aside until they came, in memory only; it is dropped instead (see
    /// [`Room::apply`]), and what did integrate is stored and relayed as usual.
    #[error("the change builds on parts of the board the server does not hold")]
    OutOfStep,
}

impl ProtocolError {
    /// The close code and reason the connection is closed with.
    pub fn close(&self) -> (u16, &'static str) {
        match self {
            ProtocolError::Malformed(_)
            | ProtocolError::BadUpdate(_)
            | ProtocolError::Poisoned(_) => (close::PROTOCOL_ERROR, "malformed message"),
            ProtocolError::TooLarge(_) => (close::BOARD_TOO_LARGE, "board size limit reached"),
            ProtocolError::TooManyNotes(_) => (close::TOO_MANY_NOTES, "note limit reached"),
            ProtocolError::ReadOnly => (close::READ_ONLY, "read-only link"),
            ProtocolError::FacilitatorOnly => (close::FACILITATOR_ONLY, "facilitator only"),
            ProtocolError::Presence(_) => (close::PRESENCE_REFUSED, "presence refused"),
            ProtocolError::OutOfStep => (close::OUT_OF_STEP, "out of step"),
            ProtocolError::FieldTooLong(_) | ProtocolError::StringTooLong(_) => {
                (close::FIELD_TOO_LONG, "field limit reached")
            }
        }
    }

    /// Whether the room's document holds the refused change and must be reloaded.
    pub fn needs_reload(&self) -> bool {
        matches!(
            self,
            ProtocolError::Poisoned(_) | ProtocolError::FieldTooLong(_)
        )
    }
}

/// Why a stored board could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("stored board is unreadable: {0}")]
pub struct LoadError(String);

/// Messages a room wants delivered, by recipient.
#[derive(Debug, Default)]
pub struct Outcome {
    /// For the connection that sent the message.
    pub reply: Vec<Bytes>,
    /// For every other connection in the room.
    pub broadcast: Vec<Bytes>,
    /// The document change the message caused, to persist before anything is delivered.
    pub update: Option<Vec<u8>>,
    /// The message was refused after part of it took effect: deliver and persist the rest
    /// of the outcome as usual, then close the sender with this error.
    pub refused: Option<ProtocolError>,
}

/// What a batch of changes taken from this node's connections did to the document, for
/// [`Room::past_limits`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Grew {
    /// A change added notes.
    pub notes: bool,
    /// A change added to the document (every change does: deleting is recorded too).
    pub bytes: bool,
    /// A change reached into the facilitator's part, allowed under the key the board
    /// had then.
    pub facilitated: bool,
}

/// What applying an update did to the document.
struct Applied {
    /// What it added (nothing when the server already had all of it).
    delta: Option<Vec<u8>>,
    /// Why it stopped part-way, if it did.
    failed: Option<ProtocolError>,
}

pub struct Room {
    awareness: Awareness,
    conns: HashMap<ConnId, Peer>,
    limits: DocumentLimits,
    /// The document's size in bytes: what the store held when loaded, plus every delta
    /// applied since. Deltas overlap a little with what they replace, so this
    /// overestimates, never under; `snapshot` makes it exact again.
    size: usize,
    /// Notes in the document: counted once when the board loads, then kept current by an
    /// observer of the `notes` map that adds the keys a transaction inserts and takes
    /// away those it removes, so no change walks the whole map.
    notes: Arc<AtomicI64>,
    /// The sync step 2 for a peer that has nothing yet (a page opening the board), kept
    /// until the document changes: a meeting's worth of people opening a board costs one
    /// encoding of it, not one each.
    full_state: Option<Bytes>,
    /// What the transaction being applied touched: notes by id, and whether the board's
    /// own fields. Filled by observers, checked against the limits, then cleared.
    touched: Arc<Mutex<Touched>>,
    /// The document's root types.
    board: Board,
    /// The board's template as the document holds it, read again whenever a
    /// transaction touches the board's own fields: reading it is most of what checking
    /// a note costs, and it changes only when a facilitator edits the board's layout.
    template: Template,
    /// The items of the facilitator's part of the board, by id.
    guarded: Guarded,
    /// Changes to the facilitator's part this room took from its connections, counted so
    /// that a batch can say whether it made one (`Grew::facilitated`).
    facilitated: u64,
    /// Participants announced on other nodes, with when each was last renewed.
    remote_presence: HashMap<ClientID, Instant>,
}

#[derive(Default)]
struct Touched {
    notes: HashSet<NoteId>,
    meta: bool,
}

/// What the room remembers about one connection.
struct Peer {
    /// What its link lets it do. Read-only peers get the document and presence, and may
    /// announce their own presence, but any change they send is refused.
    access: Access,
    /// Awareness client ids it announced, so that their presence can be withdrawn when
    /// the connection goes away.
    clients: HashSet<ClientID>,
    /// Whether it asked for save acknowledgements (`protocol::TRACK_SAVES`).
    tracks_saves: bool,
    /// Document messages received from it so far; what `protocol::SAVED` counts.
    changes: u64,
    /// The hash of the facilitator key it presented when it connected, if any. It may
    /// change the facilitator's part while that is the board's key (a hand-over ends it).
    proof: Option<String>,
}

impl Room {
    /// Rebuilds a board from what the store holds.
    /// Limits are the defaults until `with_limits`.
    pub fn load(stored: &StoredBoard) -> Result<Room, LoadError> {
        let doc = load_doc(stored)?;
        // The root types, looked up once: each lookup takes a transaction of its own.
        let board = Board::new(&doc);
        let template = board.template(&doc.transact());
        let mut room = Room {
            template,
            awareness: Awareness::new(doc),
            board,
            conns: HashMap::new(),
            limits: DocumentLimits::default(),
            // What is stored is an encoding of the document (overlapping a little), so
            // its length bounds the size from above without encoding it again: loading a
            // large board is the cold open people wait for.
            size: stored.snapshot.len() + stored.updates.iter().map(Vec::len).sum::<usize>(),
            notes: Arc::new(AtomicI64::new(0)),
            // A board stored as one snapshot (as every board is after it unloads) is
            // already encoded: the first page to open it gets those bytes.
            full_state: stored.updates.is_empty().then(|| {
                encode(Message::Sync(SyncMessage::SyncStep2(
                    stored.snapshot.clone(),
                )))
            }),
            touched: Arc::default(),
            guarded: Guarded::default(),
            facilitated: 0,
            remote_presence: HashMap::new(),
        };
        // Which items are the facilitator's, read from the stored encodings themselves
        // (checked when they were stored, so they read).
        for bytes in std::iter::once(&stored.snapshot).chain(&stored.updates) {
            match vocabulary::places(bytes) {
                Ok((_, places)) => room.guarded.record(&places),
                Err(e) => tracing::warn!(error = %e, "a stored update outside the vocabulary"),
            }
        }
        room.count_notes();
        room.watch_fields();
        Ok(room)
    }

    /// Sets the limits later updates are checked against. A board already over them stays
    /// loadable and editable, but cannot grow.
    pub fn with_limits(mut self, limits: DocumentLimits) -> Room {
        self.limits = limits;
        self
    }

    fn count_notes(&mut self) {
        let (doc, board) = (self.awareness.doc(), &self.board);
        let count = board.note_count(&doc.transact());
        self.notes.store(i64::from(count), Ordering::Relaxed);
        let notes = Arc::clone(&self.notes);
        board.notes_map().observe(NOTE_COUNTER, move |txn, event| {
            let delta: i64 = event
                .keys(txn)
                .values()
                .map(|change| match change {
                    EntryChange::Inserted(_) => 1,
                    EntryChange::Removed(_) => -1,
                    EntryChange::Updated(..) => 0,
                })
                .sum();
            notes.fetch_add(delta, Ordering::Relaxed);
        });
    }

    /// Records which notes, and whether the board's own fields, each transaction touches,
    /// so that only those are checked against the limits.
    fn watch_fields(&mut self) {
        let board = &self.board;
        let touched = Arc::clone(&self.touched);
        board
            .notes_map()
            .observe_deep(FIELD_WATCH, move |txn, events| {
                let mut touched = touched.lock().unwrap_or_else(|e| e.into_inner());
                for event in events.iter() {
                    match event.path().front() {
                        Some(PathSegment::Key(id)) => {
                            if let Ok(id) = id.parse() {
                                touched.notes.insert(id);
                            }
                        }
                        _ => {
                            if let Event::Map(e) = event {
                                touched
                                    .notes
                                    .extend(e.keys(txn).keys().filter_map(|k| k.parse().ok()));
                            }
                        }
                    }
                }
            });
        let touched = Arc::clone(&self.touched);
        board.meta_map().observe_deep(FIELD_WATCH, move |_, _| {
            touched.lock().unwrap_or_else(|e| e.into_inner()).meta = true;
        });
    }

    /// Checks what the last transaction touched against the limits an import checks.
    fn check_fields(&mut self) -> Result<(), ProtocolError> {
        let touched = self.take_touched();
        if touched.notes.is_empty() && !touched.meta {
            return Ok(());
        }
        let (board, txn) = (&self.board, self.awareness.doc().transact());
        for id in &touched.notes {
            export::check_stored_note(board, &txn, id, &self.template)
                .map_err(|e| ProtocolError::FieldTooLong(format!("note {id}: {e}")))?;
        }
        if touched.meta {
            export::check_stored_meta(board, &txn).map_err(ProtocolError::FieldTooLong)?;
        }
        Ok(())
    }

    /// What the last transaction touched, clearing it; reads the template again if the
    /// board's own fields were among it.
    fn take_touched(&mut self) -> Touched {
        let touched = std::mem::take(&mut *self.touched.lock().unwrap_or_else(|e| e.into_inner()));
        if touched.meta {
            self.template = self.board.template(&self.awareness.doc().transact());
        }
        touched
    }

    /// Notes in the document now.
    pub fn note_count(&self) -> usize {
        usize::try_from(self.notes.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The document's size in bytes, as checked against `--max-document-bytes`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Changes to the facilitator's part taken from this room's connections so far.
    pub fn facilitated(&self) -> u64 {
        self.facilitated
    }

    /// The hash of the board's facilitator key as the document holds it now.
    pub fn facilitator_key(&self) -> Option<String> {
        self.board
            .facilitator_key_hash(&self.awareness.doc().transact())
    }

    /// The limit the document is now past, given what a node's batch of changes did to it
    /// (`grew`), or `None`. Every change is checked before it is applied, against the
    /// document as this room holds it; with several nodes on one database another node
    /// may meanwhile have stored changes this room applies only afterwards (caught up
    /// before its write, or after that write conflicted), and the two together can pass
    /// a limit each kept alone. Asked again just before the batch is written, on the
    /// document the write would prove current, this keeps the stored board within its
    /// limits. As when checking a change: a board already past the note limit may still
    /// be edited as long as the batch adds no notes.
    pub fn past_limits(&self, grew: Grew) -> Option<ProtocolError> {
        if grew.bytes && self.size > self.limits.max_bytes {
            return Some(ProtocolError::TooLarge(self.limits.max_bytes));
        }
        if grew.notes && self.note_count() > self.limits.max_notes {
            return Some(ProtocolError::TooManyNotes(self.limits.max_notes));
        }
        None
    }

    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Registers a connection and returns what the server says first: its state vector
    /// (sync step 1), so the client answers with whatever the server lacks, and everyone's
    /// presence.
    ///
    /// A read-only peer is not asked for its state: it has nothing to contribute, and a
    /// stock client answers sync step 1 with its whole delete set, which it may not send.
    pub fn join(&mut self, conn: ConnId, access: Access) -> Vec<Bytes> {
        self.conns.insert(
            conn,
            Peer {
                access,
                clients: HashSet::new(),
                tracks_saves: false,
                changes: 0,
                proof: None,
            },
        );
        let mut greeting = Vec::new();
        if access == Access::Edit {
            let sv = self.awareness.doc().transact().state_vector();
            greeting.push(encode(Message::Sync(SyncMessage::SyncStep1(sv))));
        }
        if let Some(presence) = self.presence_of_everyone() {
            greeting.push(presence);
        }
        greeting
    }

    /// Records that connection `conn` presented the facilitator key whose hash is
    /// `key_hash` (checked against the board's whenever it changes the facilitator's
    /// part, so a key handed over since is worth nothing).
    pub fn prove_facilitator(&mut self, conn: ConnId, key_hash: String) {
        if let Some(peer) = self.conns.get_mut(&conn) {
            peer.proof = Some(key_hash);
        }
    }

    /// Whether `conn` may change the facilitator's part: it presented the board's key,
    /// or the board has none (made before boards had facilitators; anyone may then).
    fn may_facilitate(&self, conn: ConnId) -> bool {
        match self.facilitator_key() {
            None => true,
            Some(hash) => self
                .conns
                .get(&conn)
                .is_some_and(|peer| peer.proof.as_deref() == Some(hash.as_str())),
        }
    }

    /// Handles one binary frame from a connection.
    pub fn receive(&mut self, conn: ConnId, frame: &[u8]) -> Result<Outcome, ProtocolError> {
        let message = decode_message(frame)?;
        let mut out = Outcome::default();
        let counts = protocol::is_document_change(&message);
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                out.reply.push(self.sync_step2(&sv));
            }
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                if self.is_read_only(conn) {
                    // Only an update that changes nothing is tolerated.
                    if !decode_update(&update)?.0.is_empty() {
                        return Err(ProtocolError::ReadOnly);
                    }
                } else {
                    let applied = self.apply(conn, &update)?;
                    if let Some(delta) = applied.delta {
                        out.broadcast
                            .push(encode(Message::Sync(SyncMessage::Update(delta.clone()))));
                        out.update = Some(delta);
                    }
                    if applied.failed.is_some() {
                        // Not counted as saved: the sender's message was not taken whole.
                        out.refused = applied.failed;
                        return Ok(out);
                    }
                }
            }
            Message::Awareness(update) => {
                let update = self.admit_presence(conn, update)?;
                if update.clients.is_empty() {
                    return Ok(out);
                }
                self.track_presence(conn, &update);
                let relay = encode(Message::Awareness(update.clone()));
                self.awareness
                    .apply_update(update)
                    .map_err(|e| ProtocolError::Malformed(e.to_string()))?;
                out.broadcast.push(relay);
            }
            Message::AwarenessQuery => out.reply.extend(self.presence_of_everyone()),
            Message::Custom(protocol::TRACK_SAVES, _) => {
                if let Some(peer) = self.conns.get_mut(&conn) {
                    peer.tracks_saves = true;
                    // Where it stands now: what it sent before asking is stored too.
                    out.reply.push(Bytes::from(protocol::saved(peer.changes)));
                }
            }
            // Auth is for servers that delegate it to the protocol; we check capabilities
            // at the upgrade. Other custom messages are for extensions; ignoring them keeps
            // newer clients working.
            Message::Auth(_) | Message::Custom(..) => {}
        }
        if let Some(peer) = self.conns.get_mut(&conn).filter(|_| counts) {
            peer.changes += 1;
            // A reply, so it is delivered only once this batch is durable.
            if peer.tracks_saves {
                out.reply.push(Bytes::from(protocol::saved(peer.changes)));
            }
        }
        Ok(out)
    }

    fn is_read_only(&self, conn: ConnId) -> bool {
        self.conns
            .get(&conn)
            .is_none_or(|peer| peer.access == Access::Read)
    }

    /// Removes a connection; returns the presence update that withdraws its participants,
    /// for everyone else.
    pub fn leave(&mut self, conn: ConnId) -> Option<Bytes> {
        let clients = self.conns.remove(&conn)?.clients;
        if clients.is_empty() {
            return None;
        }
        for &client in &clients {
            self.awareness.remove_state(client);
        }
        let update = self.awareness.update_with_clients(clients).ok()?;
        Some(encode(Message::Awareness(update)))
    }

    /// The whole document as one update, for a snapshot; the size limit is measured
    /// against it from now on. `None` if the encoding does not read back as a board
    /// update: a snapshot replaces the updates it covers, so it must load for sure,
    /// and the update log is kept instead.
    pub fn snapshot(&mut self) -> Option<Vec<u8>> {
        let state = self.encode_state();
        if let Err(e) = vocabulary::check(&state) {
            tracing::error!(error = %e, "the board's state does not encode readably; not compacting");
            return None;
        }
        self.size = state.len();
        Some(state)
    }

    /// What the document holds, as a state vector: whether it changed since.
    pub fn state_vector(&self) -> StateVector {
        self.awareness.doc().transact().state_vector()
    }

    /// The whole document as one update.
    ///
    /// Only what is integrated: blocks still waiting for a missing predecessor (yrs'
    /// "pending" update) are left out, as they are from the persisted deltas, so a
    /// snapshot holds exactly what the stored updates would rebuild. It also keeps
    /// client bytes away from yrs' merging of pending data, which can panic on input
    /// it accepted earlier.
    pub fn encode_state(&self) -> Vec<u8> {
        self.awareness
            .doc()
            .transact()
            .encode_diff_v1(&StateVector::default())
    }

    /// Whether the document keeps aside blocks waiting for ones it lacks: never after a
    /// client's change (see `apply`), which the `receive` fuzz target checks.
    pub fn holds_pending(&self) -> bool {
        self.awareness.doc().transact().has_missing_updates()
    }

    /// What a peer with state `sv` lacks, integrated content only (see `encode_state`).
    fn sync_step2(&mut self, sv: &StateVector) -> Bytes {
        if sv.is_empty() {
            if let Some(state) = &self.full_state {
                return state.clone();
            }
        }
        let txn = self.awareness.doc().transact();
        let reply = encode(Message::Sync(SyncMessage::SyncStep2(
            txn.encode_diff_v1(sv),
        )));
        if sv.is_empty() {
            self.full_state = Some(reply.clone());
        }
        reply
    }

    /// Integrates an update and returns exactly what it added to the document (nothing
    /// when the server already had all of it). Persisting and relaying that delta rather
    /// than the raw bytes means duplicates cost nothing and blocks still waiting for
    /// their predecessors are stored once they integrate.
    ///
    /// Yrs may integrate the first blocks of an update and then fail on a later one (a
    /// parent that does not exist, say); it cannot take them back. Those blocks are the
    /// document's now, so their delta is returned with the error, to be persisted and
    /// relayed: the stored board and every replica must hold what the room holds.
    ///
    /// What yrs cannot integrate for want of blocks the board lacks, it would keep aside
    /// ("pending") and integrate whenever they arrive, from this client or from what
    /// another node stored. It is dropped instead, and the sender closed with
    /// [`ProtocolError::OutOfStep`]: kept, it would be memory no limit counts, changes
    /// acknowledged as saved while stored nowhere, and content that another node's
    /// update would bring into the document (and relay) without anything storing it. An
    /// honest client only sends such a change before it has caught up (after moving to
    /// another node, say) and still holds it: reconnecting syncs both ways and sends it
    /// again with what it builds on.
    ///
    /// The limits are checked before the document is touched, since Yrs cannot undo an
    /// applied update: the size against the update's own length (what it adds cannot be
    /// more), the note count against the most notes the update could add (maps it puts
    /// in `notes`, from `vocabulary.rs`: none for typing or moving), and only when that
    /// could cross the limit, by applying it to a scratch copy first.
    fn apply(&mut self, conn: ConnId, bytes: &[u8]) -> Result<Applied, ProtocolError> {
        let (update, shape, places) = decode_placed_update(bytes)?;
        let facilitates = self.guarded.reached_by(&places);
        if facilitates && !self.may_facilitate(conn) {
            return Err(ProtocolError::FacilitatorOnly);
        }
        // Longer than a whole note may be: no need to apply it to know (and no reload).
        if shape.longest_string > LONGEST_STRING {
            return Err(ProtocolError::StringTooLong(shape.longest_string));
        }
        if self.size.saturating_add(bytes.len()) > self.limits.max_bytes {
            return Err(ProtocolError::TooLarge(self.limits.max_bytes));
        }
        let notes = self.note_count();
        if notes + shape.notes_at_most > self.limits.max_notes {
            let after = self.notes_after(decode_update(bytes)?.0)?;
            // A board already over the limit (imported, or the limit lowered) may still
            // be edited, as long as it does not gain notes.
            if after > self.limits.max_notes && after > notes {
                return Err(ProtocolError::TooManyNotes(self.limits.max_notes));
            }
        }
        let doc = self.awareness.doc();
        // A panic inside yrs must not take the room task down with it (every socket of the
        // board would drop); it is reported, and the caller reloads the board.
        let (delta, failed) = guard(|| {
            let mut txn = doc.transact_mut();
            let failed = txn
                .apply_update(update)
                .err()
                .map(|e| ProtocolError::BadUpdate(e.to_string()));
            let held_back = drop_pending(&mut txn);
            let changed = !(txn.insert_set().is_empty() && txn.delete_set().is_empty());
            let failed = failed.or(held_back.then_some(ProtocolError::OutOfStep));
            (changed.then(|| txn.encode_update_v1()), failed)
        })
        .map_err(ProtocolError::Poisoned)?;
        // What it added to the facilitator's part is guarded from now on.
        self.guarded.record(&places);
        self.facilitated += u64::from(facilitates);
        // Checked on what the change made of the notes and fields it touched, with the
        // limits an import checks: a stock client is held to what our page enforces.
        self.check_fields()?;
        // What is stored must load again. yrs can integrate content it then encodes
        // into bytes it cannot decode; storing those would make the board unloadable,
        // so the document that holds them is given up instead (and, like a panic, the
        // board is reloaded from what is stored).
        if let Some(delta) = &delta {
            let decodes = guard(|| Update::decode_v1(delta).is_ok()).unwrap_or(false);
            if !decodes {
                return Err(ProtocolError::Poisoned(
                    "the change cannot be stored in a form that loads again".into(),
                ));
            }
        }
        if let Some(delta) = &delta {
            self.size += delta.len();
            self.full_state = None;
        }
        Ok(Applied { delta, failed })
    }

    /// Integrates an update another node stored (several nodes on one database) and
    /// returns what it added as a sync update for the members. It is durable and was checked by the node
    /// that took it, so no limit or access check applies; but its bytes come from outside
    /// this process, so it is decoded and applied under the same guard as a client's: a
    /// panic inside yrs is [`ProtocolError::Poisoned`], and the caller reloads the board.
    pub fn apply_stored(&mut self, bytes: &[u8]) -> Result<Option<Bytes>, ProtocolError> {
        let update = guard(|| Update::decode_v1(bytes))
            .map_err(ProtocolError::Poisoned)?
            .map_err(|e| ProtocolError::BadUpdate(e.to_string()))?;
        let doc = self.awareness.doc();
        let (delta, failed) = guard(|| {
            let mut txn = doc.transact_mut();
            let failed = txn.apply_update(update).err();
            let changed = !(txn.insert_set().is_empty() && txn.delete_set().is_empty());
            (changed.then(|| txn.encode_update_v1()), failed)
        })
        .map_err(ProtocolError::Poisoned)?;
        if let Some(e) = failed {
            tracing::warn!(error = %e, "a stored update from another node applied in part");
        }
        // Its fields were checked where it was taken; nothing to check here.
        self.take_touched();
        match vocabulary::places(bytes) {
            Ok((_, places)) => self.guarded.record(&places),
            Err(e) => tracing::warn!(error = %e, "a stored update outside the vocabulary"),
        }
        Ok(delta.map(|delta| {
            self.size += delta.len();
            self.full_state = None;
            encode(Message::Sync(SyncMessage::Update(delta)))
        }))
    }

    /// Takes a presence message relayed by another node (several nodes on one database)
    /// and returns it as it is to go to every member here, if anything of it is taken.
    /// Participants announced by a connection of this node are that connection's to
    /// change, and are left out; the rest was admitted by the node it came from. `now`
    /// is when it arrived, from which [`Room::expire_remote_presence`] counts.
    pub fn apply_remote_presence(&mut self, message: &[u8], now: Instant) -> Option<Bytes> {
        let Ok(Message::Awareness(mut update)) = decode_message(message) else {
            return None;
        };
        update
            .clients
            .retain(|client, _| !self.announced_here(*client));
        if update.clients.is_empty() {
            return None;
        }
        let relay = encode(Message::Awareness(update.clone()));
        for (&client, entry) in &update.clients {
            if &*entry.json == "null" {
                self.remote_presence.remove(&client);
            } else {
                self.remote_presence.insert(client, now);
            }
        }
        self.awareness.apply_update(update).ok()?;
        Some(relay)
    }

    /// Withdraws the participants announced on other nodes and not renewed within
    /// [`REMOTE_PRESENCE_TIMEOUT`] before `now` (their node died, or its notices stop
    /// reaching this one); returns the presence update that withdraws them, for every
    /// member here. Until then no connection here may change them (`admit_presence`), so
    /// a page that failed over to this node, keeping its awareness id, is taken with its
    /// next update after that, and is its connection's from then on.
    pub fn expire_remote_presence(&mut self, now: Instant) -> Option<Bytes> {
        let mut gone = Vec::new();
        let remote = std::mem::take(&mut self.remote_presence);
        for (client, renewed) in remote {
            if now.saturating_duration_since(renewed) < REMOTE_PRESENCE_TIMEOUT {
                self.remote_presence.insert(client, renewed);
            } else {
                self.awareness.remove_state(client);
                gone.push(client);
            }
        }
        if gone.is_empty() {
            return None;
        }
        let update = self.awareness.update_with_clients(gone).ok()?;
        Some(encode(Message::Awareness(update)))
    }

    /// Whether one of this node's connections announced `client`.
    fn announced_here(&self, client: ClientID) -> bool {
        self.conns.values().any(|p| p.clients.contains(&client))
    }

    /// How many notes the document would hold with `update` applied, found on a copy.
    fn notes_after(&self, update: Update) -> Result<usize, ProtocolError> {
        let copy = load_doc(&StoredBoard {
            snapshot: self.encode_state(),
            ..Default::default()
        })
        .map_err(|e| ProtocolError::BadUpdate(e.to_string()))?;
        // Before the transaction: looking up root types takes one of its own.
        let board = Board::new(&copy);
        let mut txn = copy.transact_mut();
        txn.apply_update(update)
            .map_err(|e| ProtocolError::BadUpdate(e.to_string()))?;
        Ok(board.note_count(&txn) as usize)
    }

    /// What of a presence update from `conn` the room takes. Entries for participants
    /// another connection announced, here or on another node, are left out: nobody may
    /// move, rename or withdraw someone else (and a page reconnecting before its old
    /// connection is gone shows again with its next update, once the old one is; one
    /// whose old node died, once that node's announcement expires). The rest must each
    /// be a JSON object (or `null`, leaving) within the size limit, and the connection may not
    /// announce more than [`MAX_PRESENCE_CLIENTS`] participants; otherwise the whole
    /// message is refused and the connection closed, so no later joiner ever receives a
    /// state a stock Yjs client could not read.
    fn admit_presence(
        &self,
        conn: ConnId,
        mut update: AwarenessUpdate,
    ) -> Result<AwarenessUpdate, ProtocolError> {
        update.clients.retain(|client, _| {
            !self.remote_presence.contains_key(client)
                && !self
                    .conns
                    .iter()
                    .any(|(other, peer)| *other != conn && peer.clients.contains(client))
        });
        let limit = self.limits.max_presence_bytes;
        for entry in update.clients.values() {
            if entry.json.len() > limit {
                return Err(ProtocolError::Presence(format!(
                    "a state of {} bytes, over {limit}",
                    entry.json.len()
                )));
            }
            if &*entry.json != "null" {
                let value: serde_json::Value = serde_json::from_str(&entry.json)
                    .map_err(|e| ProtocolError::Presence(format!("not JSON: {e}")))?;
                if !value.is_object() {
                    return Err(ProtocolError::Presence("not a JSON object".into()));
                }
            }
        }
        let announced = self.conns.get(&conn).map_or(0, |peer| {
            let new = update
                .clients
                .iter()
                .filter(|(client, e)| &*e.json != "null" && !peer.clients.contains(*client))
                .count();
            peer.clients.len() + new
        });
        if announced > MAX_PRESENCE_CLIENTS {
            return Err(ProtocolError::Presence(format!(
                "{announced} participants from one connection, over {MAX_PRESENCE_CLIENTS}"
            )));
        }
        Ok(update)
    }

    fn track_presence(&mut self, conn: ConnId, update: &AwarenessUpdate) {
        let Some(mine) = self.conns.get_mut(&conn).map(|p| &mut p.clients) else {
            return;
        };
        for (client, entry) in &update.clients {
            if &*entry.json == "null" {
                mine.remove(client);
            } else {
                mine.insert(*client);
            }
        }
    }

    fn presence_of_everyone(&self) -> Option<Bytes> {
        let update = self.awareness.update().ok()?;
        (!update.clients.is_empty()).then(|| encode(Message::Awareness(update)))
    }
}

/// A board's document from what the store holds: the snapshot, then later updates.
/// Decoding is guarded, as backups being restored are bytes from outside.
pub fn load_doc(stored: &StoredBoard) -> Result<Doc, LoadError> {
    let doc = new_doc(None);
    {
        let mut txn = doc.transact_mut();
        for bytes in std::iter::once(&stored.snapshot).chain(&stored.updates) {
            let update = guard(|| Update::decode_v1(bytes))
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map_err(LoadError)?;
            txn.apply_update(update)
                .map_err(|e| LoadError(e.to_string()))?;
        }
    }
    Ok(doc)
}

/// Decodes an update from a client, refusing one outside the board's vocabulary
/// (`vocabulary.rs`) or whose block ranges do not add up.
///
/// yrs keeps clocks as `u32` and adds lengths to them while it integrates; an update
/// whose `clock + len` overflows is accepted by the decoder and breaks integration later.
/// Listing its insertions does the same additions here, where the overflow panics
/// harmlessly (the server builds yrs with overflow checks) and the update is refused.
fn decode_update(bytes: &[u8]) -> Result<(Update, vocabulary::Shape), ProtocolError> {
    let shape = vocabulary::check(bytes).map_err(ProtocolError::BadUpdate)?;
    Ok((decode_checked(bytes)?, shape))
}

/// [`decode_update`], with where the update's items go (for the facilitator's guard).
fn decode_placed_update(
    bytes: &[u8],
) -> Result<(Update, vocabulary::Shape, vocabulary::Places), ProtocolError> {
    let (shape, places) = vocabulary::places(bytes).map_err(ProtocolError::BadUpdate)?;
    Ok((decode_checked(bytes)?, shape, places))
}

/// Decodes an update `vocabulary` has read (see [`decode_update`]).
fn decode_checked(bytes: &[u8]) -> Result<Update, ProtocolError> {
    guard(|| {
        let update = Update::decode_v1(bytes).map_err(|e| e.to_string())?;
        let _ = update.insertions(true);
        Ok(update)
    })
    .and_then(|r| r)
    .map_err(ProtocolError::BadUpdate)
}

/// Takes out what yrs keeps aside for blocks the document lacks (its pending update and
/// pending deletions) and says whether there was any.
fn drop_pending(txn: &mut TransactionMut) -> bool {
    txn.prune_pending().is_some()
}

fn encode(message: Message) -> Bytes {
    Bytes::from(message.encode_v1())
}

fn decode_message(frame: &[u8]) -> Result<Message, ProtocolError> {
    guard(|| Message::decode_v1(frame))
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(ProtocolError::Malformed)
}

/// Runs a decoder on untrusted bytes, turning a panic inside the library into an error.
/// Decoding is pure, so nothing is left half-done if it unwinds.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| "decoder panicked on malformed input".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hindsight_shared::{Board, NewNote, NoteColor, NoteId};

    /// A client replica: a document that talks to the room in protocol bytes.
    struct Peer {
        doc: Doc,
        board: Board,
    }

    impl Peer {
        fn new(id: u64) -> Peer {
            let doc = new_doc(Some(id));
            let board = Board::new(&doc);
            Peer { doc, board }
        }

        fn step1(&self) -> Vec<u8> {
            let sv = self.doc.transact().state_vector();
            Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
        }

        /// Adds a note and returns the protocol message carrying it.
        fn add_note(&self, id: &str, text: &str) -> Vec<u8> {
            let mut txn = self.doc.transact_mut();
            self.board.add_note(
                &mut txn,
                &id.parse().unwrap(),
                NewNote::at(10.0, 10.0, text)
                    .color(NoteColor::Green)
                    .created_at(1.0),
            );
            Message::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1()
        }

        fn receive(&self, bytes: &[u8]) {
            if let Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u)) =
                Message::decode_v1(bytes).unwrap()
            {
                self.doc
                    .transact_mut()
                    .apply_update(Update::decode_v1(&u).unwrap())
                    .unwrap();
            }
        }

        /// Makes a change and returns the protocol message carrying it.
        fn change(&self, f: impl FnOnce(&Board, &mut TransactionMut)) -> Vec<u8> {
            let mut txn = self.doc.transact_mut();
            f(&self.board, &mut txn);
            Message::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1()
        }

        fn text(&self, id: &str) -> Option<String> {
            let id: NoteId = id.parse().unwrap();
            self.board.note(&self.doc.transact(), &id).map(|n| n.text)
        }
    }

    fn empty_room() -> Room {
        let doc = new_doc(Some(99));
        Board::new(&doc).init(&mut doc.transact_mut(), "Incident", 5.0);
        let snapshot = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        Room::load(&StoredBoard {
            snapshot,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn join_greets_with_sync_step1() {
        let mut room = empty_room();
        let greeting = room.join(1, Access::Edit);
        assert_eq!(greeting.len(), 1, "no presence yet");
        assert!(matches!(
            Message::decode_v1(&greeting[0]).unwrap(),
            Message::Sync(SyncMessage::SyncStep1(_))
        ));
    }

    #[test]
    fn an_update_is_persisted_and_relayed_and_a_new_peer_catches_up() {
        let mut room = empty_room();
        let a = Peer::new(1);
        room.join(1, Access::Edit);
        let out = room.receive(1, &a.add_note("n1", "slow alerts")).unwrap();
        assert!(out.update.is_some(), "the change must be persisted");
        assert_eq!(out.broadcast.len(), 1);
        assert!(out.reply.is_empty());

        // Another peer sees it through the broadcast...
        let b = Peer::new(2);
        room.join(2, Access::Edit);
        b.receive(&out.broadcast[0]);
        assert_eq!(b.text("n1").as_deref(), Some("slow alerts"));

        // ...and a late peer through sync step 2, along with the board's title.
        let c = Peer::new(3);
        room.join(3, Access::Edit);
        let out = room.receive(3, &c.step1()).unwrap();
        assert_eq!(out.reply.len(), 1);
        assert!(out.update.is_none() && out.broadcast.is_empty());
        c.receive(&out.reply[0]);
        assert_eq!(c.text("n1").as_deref(), Some("slow alerts"));
        assert_eq!(c.board.title(&c.doc.transact()), "Incident");
    }

    /// Replays a recording of the `receive` fuzz target and checks, besides what the
    /// target checks, that the persisted document encodes to exactly the room's state.
    #[test]
    fn presence_replays_keep_each_participant_with_its_connection() {
        // Two connections announcing the same participant, one state not an object, one
        // too many participants, leaving and joining again, a joiner looking on.
        let entry = |client: u8, json: &str| {
            let mut e = vec![client, 1, json.len() as u8];
            e.extend_from_slice(json.as_bytes());
            e
        };
        let mut input = vec![0, 0, 2];
        input.extend(entry(1, r#"{"name":"Ada"}"#));
        input.extend(entry(2, r#"{"name":"Ada2"}"#));
        input.extend([1, 0, 1]);
        input.extend(entry(1, r#"{"name":"Not Ada"}"#));
        input.extend([2, 0, 1]);
        input.extend(entry(5, "[1,2]"));
        input.extend([2, 0, 6]);
        for c in 3..9 {
            input.extend(entry(c, "{}"));
        }
        input.extend([0, 1, 1, 2]);
        input.extend([1, 0, 1]);
        input.extend(entry(1, r#"{"name":"Bo"}"#));
        input.extend([2, 2]);
        crate::replay::replay_presence(&input);
    }

    fn replay_fuzz_input(input: &[u8], read_only: Option<ConnId>) {
        let replay = crate::replay::replay(input, read_only);
        assert_eq!(
            replay
                .persisted()
                .transact()
                .encode_state_as_update_v1(&StateVector::default()),
            replay.room_state(),
            "what was persisted is the document"
        );
    }

    #[test]
    fn an_update_outside_the_board_vocabulary_is_refused_before_yrs_sees_it() {
        // One sync update (from the `receive` fuzz target): an XML text under a root no
        // board has, which yrs integrates and then encodes into bytes it cannot decode.
        let frame = include_bytes!("../../tests/data/unstorable-update.bin");
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let before = room.encode_state();
        let refused = room.receive(1, frame).map(|_| ());
        assert!(
            matches!(&refused, Err(ProtocolError::BadUpdate(e)) if e.contains("is not part of a board")),
            "{refused:?}"
        );
        assert_eq!(room.encode_state(), before);
    }

    #[test]
    fn an_update_whose_clocks_overflow_is_refused_and_changes_nothing() {
        // Found by the `decode` fuzz target: a block at clock 2^29 - 2 whose length
        // takes it past u32::MAX, on the board's own client.
        let frame = include_bytes!("../../fuzz/corpus/decode/overflowing-clock");
        let doc = new_doc(Some(1));
        Board::new(&doc).init(&mut doc.transact_mut(), "Fuzzing", 1.0);
        let start = StoredBoard {
            snapshot: doc.transact().encode_diff_v1(&StateVector::default()),
            ..Default::default()
        };
        let mut room = Room::load(&start).unwrap();
        room.join(1, Access::Edit);
        let before = room.encode_state();
        assert!(matches!(
            room.receive(1, frame),
            Err(ProtocolError::BadUpdate(_))
        ));
        assert_eq!(room.encode_state(), before);
    }

    #[test]
    fn what_a_room_persists_rebuilds_it_for_every_fuzz_finding() {
        // An update yrs applies in part before it fails on a block with a missing parent.
        let partly_applied = include_bytes!("../../fuzz/corpus/receive/partly-applied-update");
        replay_fuzz_input(partly_applied, None);
        replay_fuzz_input(partly_applied, Some(2));
        // Integrates, but yrs encodes what it added into bytes it cannot decode again.
        let unstorable = include_bytes!("../../fuzz/corpus/receive/undecodable-delta");
        replay_fuzz_input(unstorable, None);
        replay_fuzz_input(unstorable, Some(2));
        // A board whose whole state yrs encodes into bytes it cannot decode.
        let unencodable = include_bytes!("../../fuzz/corpus/receive/unloadable-state");
        replay_fuzz_input(unencodable, None);
        replay_fuzz_input(unencodable, Some(2));
        // Leaves a pending update that yrs' own `encode_state_as_update_v1` panics on.
        let pending = include_bytes!("../../fuzz/corpus/receive/unencodable-pending-update");
        replay_fuzz_input(pending, None);
        replay_fuzz_input(pending, Some(2));
    }

    #[test]
    fn new_pages_share_one_encoding_until_the_board_changes() {
        let mut room = empty_room();
        let writer = Peer::new(1);
        room.join(1, Access::Edit);
        room.receive(1, &writer.add_note("n1", "first")).unwrap();
        let step2 = |room: &mut Room, conn| {
            room.join(conn, Access::Read);
            let out = room.receive(conn, &Peer::new(conn).step1()).unwrap();
            out.reply[0].clone()
        };
        let (a, b) = (step2(&mut room, 2), step2(&mut room, 3));
        assert_eq!(a.as_ptr(), b.as_ptr(), "the second page got the same bytes");

        room.receive(1, &writer.add_note("n2", "second")).unwrap();
        let late = Peer::new(4);
        late.receive(&step2(&mut room, 4));
        assert_eq!(late.text("n1").as_deref(), Some("first"));
        assert_eq!(
            late.text("n2").as_deref(),
            Some("second"),
            "not a stale copy"
        );
    }

    #[test]
    fn read_only_peers_see_everything_and_change_nothing() {
        let mut room = empty_room();
        let writer = Peer::new(1);
        room.join(1, Access::Edit);
        room.receive(1, &writer.add_note("n1", "seen by all"))
            .unwrap();

        // Not asked for its state, so a stock client never answers with its delete set.
        let reader = Peer::new(2);
        let greeting = room.join(2, Access::Read);
        assert!(greeting.iter().all(|frame| !matches!(
            Message::decode_v1(frame).unwrap(),
            Message::Sync(SyncMessage::SyncStep1(_))
        )));
        // It gets the board when it asks, and later changes as broadcasts.
        let out = room.receive(2, &reader.step1()).unwrap();
        reader.receive(&out.reply[0]);
        assert_eq!(reader.text("n1").as_deref(), Some("seen by all"));

        // A change from it is refused, and the board is as it was.
        let before = room.encode_state();
        let change = reader.add_note("n2", "not allowed");
        assert!(matches!(
            room.receive(2, &change),
            Err(ProtocolError::ReadOnly)
        ));
        assert_eq!(ProtocolError::ReadOnly.close().0, close::READ_ONLY);
        assert_eq!(room.encode_state(), before);
        // So is a deletion of something the board already has.
        let txn_delete = {
            let mut txn = reader.doc.transact_mut();
            reader.board.delete_note(&mut txn, &"n1".parse().unwrap());
            txn.encode_update_v1()
        };
        let delete = Message::Sync(SyncMessage::SyncStep2(txn_delete)).encode_v1();
        assert!(matches!(
            room.receive(2, &delete),
            Err(ProtocolError::ReadOnly)
        ));
        assert_eq!(room.encode_state(), before);

        // An update that changes nothing is tolerated, and presence is relayed.
        let empty = Message::Sync(SyncMessage::Update(Update::EMPTY_V1.to_vec())).encode_v1();
        assert!(room.receive(2, &empty).unwrap().broadcast.is_empty());
        let mut viewer = Awareness::new(new_doc(Some(7)));
        viewer.set_local_state_raw(r#"{"user":{"name":"Viewer"}}"#);
        let presence = Message::Awareness(viewer.update().unwrap()).encode_v1();
        assert_eq!(room.receive(2, &presence).unwrap().broadcast.len(), 1);
    }

    #[test]
    fn save_acknowledgements_count_document_messages_for_those_who_ask() {
        let mut room = empty_room();
        let a = Peer::new(1);
        room.join(1, Access::Edit);
        room.join(2, Access::Edit);
        let saved = |out: &Outcome| {
            out.reply
                .iter()
                .filter_map(|b| protocol::read_saved(&Message::decode_v1(b).unwrap()))
                .collect::<Vec<_>>()
        };
        let first = room.receive(1, &a.add_note("n1", "x")).unwrap();
        assert!(
            saved(&first).is_empty(),
            "nobody asked for acknowledgements yet"
        );
        let asked = room.receive(1, &protocol::track_saves()).unwrap();
        assert_eq!(saved(&asked), [1], "the count so far, at once");
        let msg = a.add_note("n2", "y");
        let second = room.receive(1, &msg).unwrap();
        assert!(second.update.is_some());
        assert_eq!(saved(&second), [2], "both document messages so far");
        // A duplicate changes nothing but is still acknowledged, so the count stays exact.
        let again = room.receive(1, &msg).unwrap();
        assert!(again.update.is_none());
        assert_eq!(saved(&again), [3]);
        // Presence is not a document change; another connection has its own count.
        let peer = Awareness::new(new_doc(Some(5)));
        let presence = Message::Awareness(peer.update().unwrap()).encode_v1();
        assert!(saved(&room.receive(1, &presence).unwrap()).is_empty());
        assert_eq!(
            saved(&room.receive(2, &protocol::track_saves()).unwrap()),
            [0]
        );
        assert_eq!(
            saved(&room.receive(2, &a.add_note("n3", "z")).unwrap()),
            [1]
        );
    }

    #[test]
    fn changes_over_the_limits_are_refused_and_leave_the_document_as_it_was() {
        let mut room = empty_room().with_limits(DocumentLimits {
            max_bytes: 1 << 20,
            max_notes: 3,
            ..DocumentLimits::default()
        });
        let a = Peer::new(1);
        room.join(1, Access::Edit);
        for i in 0..3 {
            let out = room.receive(1, &a.add_note(&format!("n{i}"), "x")).unwrap();
            assert!(out.update.is_some());
        }
        let before = room.encode_state();
        let err = room
            .receive(1, &a.add_note("n3", "one too many"))
            .unwrap_err();
        assert!(matches!(err, ProtocolError::TooManyNotes(3)), "{err}");
        assert_eq!(err.close().0, close::TOO_MANY_NOTES);
        assert_eq!(room.encode_state(), before, "nothing applied");
        assert_eq!(room.note_count(), 3);

        // Editing an existing note is still fine at the limit.
        let edit = {
            let mut txn = a.doc.transact_mut();
            a.board
                .edit_text(&mut txn, &"n0".parse().unwrap(), "edited");
            Message::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1()
        };
        assert!(room.receive(1, &edit).unwrap().update.is_some());

        // The size limit: an update longer than what is left is refused untouched.
        let fresh = empty_room();
        let max_bytes = fresh.size() + 2_000;
        let mut room = fresh.with_limits(DocumentLimits {
            max_bytes,
            max_notes: 100,
            ..DocumentLimits::default()
        });
        let b = Peer::new(2);
        room.join(2, Access::Edit);
        assert!(room.receive(2, &b.add_note("s1", "small")).is_ok());
        let before = room.encode_state();
        let err = room
            .receive(2, &b.add_note("s2", &"long ".repeat(800)))
            .unwrap_err();
        assert!(matches!(err, ProtocolError::TooLarge(_)), "{err}");
        assert_eq!(err.close().0, close::BOARD_TOO_LARGE);
        assert_eq!(room.encode_state(), before, "nothing applied");
    }

    #[test]
    fn with_another_nodes_changes_a_batch_past_a_limit_is_found_before_it_is_stored() {
        let limits = DocumentLimits {
            max_bytes: 1 << 20,
            max_notes: 3,
            ..DocumentLimits::default()
        };
        let (mut here, mut there) = (
            empty_room().with_limits(limits),
            empty_room().with_limits(limits),
        );
        here.join(1, Access::Edit);
        there.join(1, Access::Edit);
        let (a, b) = (Peer::new(1), Peer::new(2));
        // Each node takes two notes on the board as it holds it: within the limit alone.
        for n in 0..2 {
            let out = here.receive(1, &a.add_note(&format!("a{n}"), "x")).unwrap();
            assert!(out.update.is_some());
        }
        let theirs: Vec<_> = (0..2)
            .map(|n| {
                let out = there
                    .receive(1, &b.add_note(&format!("b{n}"), "y"))
                    .unwrap();
                out.update.unwrap()
            })
            .collect();
        let added = Grew {
            notes: true,
            bytes: true,
            ..Grew::default()
        };
        assert!(here.past_limits(added).is_none());
        for update in &theirs {
            here.apply_stored(update).unwrap();
        }
        assert!(matches!(
            here.past_limits(added),
            Some(ProtocolError::TooManyNotes(3))
        ));
        // A batch that added no notes may still go in on a board past the note limit.
        let typed = Grew {
            bytes: true,
            ..Grew::default()
        };
        assert!(here.past_limits(typed).is_none());

        // The size limit likewise: each node's change fits alone, not both.
        let fresh = empty_room();
        let limits = DocumentLimits {
            max_bytes: fresh.size() + 2_000,
            max_notes: 100,
            ..DocumentLimits::default()
        };
        let (mut here, mut there) = (fresh.with_limits(limits), empty_room().with_limits(limits));
        here.join(1, Access::Edit);
        there.join(1, Access::Edit);
        // New peers: the first ones' earlier changes are not on these boards.
        let (a, b) = (Peer::new(3), Peer::new(4));
        let long = "long ".repeat(250);
        assert!(here
            .receive(1, &a.add_note("s1", &long))
            .unwrap()
            .update
            .is_some());
        let out = there.receive(1, &b.add_note("s2", &long)).unwrap();
        assert!(here.past_limits(typed).is_none());
        here.apply_stored(&out.update.unwrap()).unwrap();
        assert!(matches!(
            here.past_limits(typed),
            Some(ProtocolError::TooLarge(_))
        ));
        assert!(
            here.past_limits(Grew::default()).is_none(),
            "nothing to store"
        );
    }

    #[test]
    fn a_duplicate_update_is_neither_persisted_nor_relayed() {
        let mut room = empty_room();
        let a = Peer::new(1);
        room.join(1, Access::Edit);
        let msg = a.add_note("n1", "x");
        assert!(room.receive(1, &msg).unwrap().update.is_some());
        let again = room.receive(1, &msg).unwrap();
        assert!(again.update.is_none());
        assert!(again.broadcast.is_empty());
    }

    #[test]
    fn the_note_count_follows_every_change_without_a_recount() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let peer = Peer::new(1);
        let recount = |room: &Room| {
            let doc = room.awareness.doc();
            Board::new(doc).note_count(&doc.transact()) as usize
        };
        for i in 0..20 {
            room.receive(1, &peer.add_note(&format!("n{i}"), "x"))
                .unwrap();
            if i % 3 == 0 {
                let id: NoteId = format!("n{}", i / 2).parse().unwrap();
                let mut txn = peer.doc.transact_mut();
                peer.board.delete_note(&mut txn, &id);
                let update = Message::Sync(SyncMessage::Update(txn.encode_update_v1())).encode_v1();
                drop(txn);
                room.receive(1, &update).unwrap();
            }
            assert_eq!(room.note_count(), recount(&room), "after note {i}");
        }
        // A reload counts from what is stored, and goes on from there.
        let reloaded = Room::load(&StoredBoard {
            snapshot: room.encode_state(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(reloaded.note_count(), room.note_count());
    }

    #[test]
    fn an_update_stored_by_another_node_joins_the_document_once() {
        let mut here = empty_room();
        let mut there = Room::load(&StoredBoard {
            snapshot: here.encode_state(),
            ..Default::default()
        })
        .unwrap();
        here.join(1, Access::Edit);
        there.join(1, Access::Edit);
        let writer = Peer::new(9);
        let frame = writer.add_note("n1", "from the other node");
        let stored = there.receive(1, &frame).unwrap().update.expect("a delta");

        let relayed = here
            .apply_stored(&stored)
            .unwrap()
            .expect("new to this node");
        let reader = Peer::new(10);
        reader.receive(&relayed);
        assert_eq!(reader.text("n1").as_deref(), Some("from the other node"));
        assert_eq!(here.note_count(), 1);
        assert_eq!(here.apply_stored(&stored).unwrap(), None, "already applied");
        // The whole state, as after another node compacted: only what is new comes out.
        assert_eq!(here.apply_stored(&there.encode_state()).unwrap(), None);
        assert!(here.apply_stored(b"\xff\xff not an update").is_err());
        assert_eq!(here.note_count(), 1);
    }

    #[test]
    fn a_change_built_on_what_the_room_lacks_is_refused_and_kept_nowhere() {
        let mut room = empty_room();
        for conn in 1..=3 {
            room.join(conn, Access::Edit);
        }
        room.receive(1, &protocol::track_saves()).unwrap();
        // Made offline, one after the other; only the second reaches the server. (A change
        // that only follows another of the same page's, without building on it, is no
        // matter: yrs takes it, leaving a gap the other fills when it comes.)
        let a = Peer::new(1);
        let n1: NoteId = "n1".parse().unwrap();
        let first = a.add_note("n1", "made offline");
        let second = a.change(|board, txn| assert!(board.move_note(txn, &n1, 500.0, 500.0)));
        let out = room.receive(1, &second).unwrap();
        assert!(
            matches!(out.refused, Some(ProtocolError::OutOfStep)),
            "{:?}",
            out.refused
        );
        assert!(out.update.is_none(), "nothing to store");
        assert!(out.broadcast.is_empty(), "nothing to relay");
        assert!(out.reply.is_empty(), "not acknowledged as saved");
        assert!(!room.holds_pending(), "not kept aside either");

        // What it built on arrives: the dropped change does not come in with it.
        let out = room.receive(2, &first).unwrap();
        let reader = Peer::new(4);
        reader.receive(&out.broadcast[0]);
        let at = |peer: &Peer| {
            let note = peer
                .board
                .note(&peer.doc.transact(), &n1)
                .expect("the note");
            (note.x, note.y)
        };
        assert_eq!(at(&reader), (10.0, 10.0));
        assert_eq!(
            at(&room_replica(&room)),
            (10.0, 10.0),
            "nor is it in the room"
        );

        // The page reconnects: its sync step 2 carries the change with what it builds on.
        let sv = room.awareness.doc().transact().state_vector();
        let step2 = Message::Sync(SyncMessage::SyncStep2(
            a.doc.transact().encode_state_as_update_v1(&sv),
        ))
        .encode_v1();
        let out = room.receive(3, &step2).unwrap();
        assert!(out.refused.is_none());
        assert!(out.update.is_some());
        reader.receive(&out.broadcast[0]);
        assert_eq!(at(&reader), (500.0, 500.0));
    }

    /// A peer holding everything the room holds.
    fn room_replica(room: &Room) -> Peer {
        let peer = Peer::new(50);
        let state = Message::Sync(SyncMessage::SyncStep2(room.encode_state()));
        peer.receive(&state.encode_v1());
        peer
    }

    #[test]
    fn a_change_built_on_what_another_node_stored_is_not_brought_in_by_it() {
        let mut here = empty_room();
        let mut there = Room::load(&StoredBoard {
            snapshot: here.encode_state(),
            ..Default::default()
        })
        .unwrap();
        for conn in 1..=2 {
            here.join(conn, Access::Edit);
        }
        there.join(1, Access::Edit);
        let writer = Peer::new(9);
        let stored = there
            .receive(1, &writer.add_note("n1", "from the other node"))
            .unwrap()
            .update
            .expect("a delta");
        // Pages that had the note through the other node move it and delete it on this
        // one, before this node has read what the other stored: blocks that build on
        // missing ones, and deletions of missing ones.
        let n1: NoteId = "n1".parse().unwrap();
        let (mover, deleter) = (Peer::new(10), Peer::new(11));
        let frame = Message::Sync(SyncMessage::Update(stored.clone())).encode_v1();
        mover.receive(&frame);
        deleter.receive(&frame);
        let moved = mover.change(|board, txn| assert!(board.move_note(txn, &n1, 500.0, 500.0)));
        let deleted = deleter.change(|board, txn| assert!(board.delete_note(txn, &n1)));
        for (conn, change) in [(1, &moved), (2, &deleted)] {
            let out = here.receive(conn, change).unwrap();
            assert!(
                matches!(out.refused, Some(ProtocolError::OutOfStep)),
                "{:?}",
                out.refused
            );
            assert!(out.update.is_none() && out.reply.is_empty());
        }

        // What the other node stored comes in, and only that goes out.
        let relayed = here
            .apply_stored(&stored)
            .unwrap()
            .expect("new to this node");
        let reader = Peer::new(12);
        reader.receive(&relayed);
        let note = reader
            .board
            .note(&reader.doc.transact(), &n1)
            .expect("not deleted");
        assert_eq!((note.x, note.y), (10.0, 10.0), "not moved");
        assert_eq!(here.note_count(), 1);
        assert!(!here.holds_pending());
    }

    #[test]
    fn a_reloaded_room_holds_the_same_document() {
        let mut room = empty_room();
        let a = Peer::new(1);
        room.join(1, Access::Edit);
        let delta = room
            .receive(1, &a.add_note("n1", "kept"))
            .unwrap()
            .update
            .unwrap();
        let reloaded = Room::load(&StoredBoard {
            snapshot: empty_room().encode_state(),
            updates: vec![delta],
            next_seq: 1,
        })
        .unwrap();
        assert_eq!(reloaded.encode_state().len(), room.encode_state().len());
        let c = Peer::new(3);
        c.receive(&Message::Sync(SyncMessage::Update(reloaded.encode_state())).encode_v1());
        assert_eq!(c.text("n1").as_deref(), Some("kept"));
    }

    fn check_refused(frame: &[u8]) {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let before = room.encode_state();
        assert!(
            room.receive(1, frame).is_err(),
            "{frame:?} should be refused"
        );
        assert_eq!(
            room.encode_state(),
            before,
            "a refused message must not change the board"
        );
    }

    #[test]
    fn malformed_messages_are_refused_without_touching_the_board() {
        check_refused(&[]);
        check_refused(&[0]); // sync without a sub-type
        check_refused(&[0, 7, 0]); // unknown sync sub-type
        check_refused(&[0, 2, 5, 1, 2]); // update shorter than its length prefix
        check_refused(&[0, 2, 3, 0xff, 0xff, 0xff]); // garbage update
        check_refused(&[1, 4, 0xff, 0xff, 0xff, 0xff]); // garbage awareness
    }

    #[test]
    fn presence_is_relayed_and_withdrawn_when_the_connection_leaves() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        room.join(2, Access::Edit);
        let peer = Awareness::new(new_doc(Some(42)));
        let mut peer = peer;
        peer.set_local_state_raw(r##"{"user":{"name":"Ada","color":"#e11d48"}}"##);
        let msg = Message::Awareness(peer.update().unwrap()).encode_v1();
        let out = room.receive(1, &msg).unwrap();
        assert_eq!(out.broadcast.len(), 1);
        assert!(out.update.is_none(), "presence is never persisted");

        // A newcomer is greeted with Ada's presence.
        let greeting = room.join(3, Access::Edit);
        assert_eq!(greeting.len(), 2);

        let gone = room.leave(1).expect("withdrawal for the others");
        let Message::Awareness(update) = Message::decode_v1(&gone).unwrap() else {
            panic!("expected awareness")
        };
        let entry = &update.clients[&ClientID::new(42)];
        assert_eq!(&*entry.json, "null");
        assert_eq!(
            room.leave(2),
            None,
            "nobody to withdraw for a silent connection"
        );
        assert_eq!(room.connection_count(), 1);
    }

    #[test]
    fn presence_from_another_node_is_taken_except_for_participants_of_this_one() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        room.receive(1, &presence(&[(42, r#"{"user":{"name":"Ada"}}"#)]))
            .unwrap();
        let relayed = room
            .apply_remote_presence(
                &presence(&[
                    (7, r#"{"user":{"name":"Grace"}}"#),
                    (42, r#"{"user":{"name":"not Ada"}}"#),
                ]),
                Instant::now(),
            )
            .expect("Grace is new here");
        let Message::Awareness(update) = Message::decode_v1(&relayed).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(
            update.clients.keys().copied().collect::<Vec<_>>(),
            [ClientID::new(7)],
            "Ada is connection 1's to change"
        );
        assert_eq!(room.join(2, Access::Edit).len(), 2, "greeted with both");
        assert_eq!(
            room.apply_remote_presence(b"\xff not a message", Instant::now()),
            None
        );
        // Nor may a connection here rename or withdraw Grace, who is her node's.
        for json in [r#"{"user":{"name":"not Grace"}}"#, "null"] {
            let out = room.receive(2, &presence_at(2, &[(7, json)])).unwrap();
            assert!(out.broadcast.is_empty(), "{json} taken for Grace");
        }
        let everyone = room.presence_of_everyone().unwrap();
        let Message::Awareness(update) = Message::decode_v1(&everyone).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(
            &*update.clients[&ClientID::new(7)].json,
            r#"{"user":{"name":"Grace"}}"#
        );
    }

    #[test]
    fn presence_from_another_node_not_renewed_in_time_is_withdrawn() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let (grace, bo) = (r#"{"user":{"name":"Grace"}}"#, r#"{"user":{"name":"Bo"}}"#);
        let start = Instant::now();
        let secs = |s| start + Duration::from_secs(s);
        room.apply_remote_presence(&presence(&[(7, grace), (8, bo)]), start)
            .unwrap();
        // Bo's page renews his state; Grace's node has gone quiet.
        room.apply_remote_presence(&presence_at(2, &[(8, bo)]), secs(20))
            .unwrap();
        assert_eq!(
            room.expire_remote_presence(secs(29)),
            None,
            "nobody late yet"
        );
        let gone = room
            .expire_remote_presence(secs(30))
            .expect("Grace is late");
        let Message::Awareness(update) = Message::decode_v1(&gone).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(
            update.clients.keys().copied().collect::<Vec<_>>(),
            [ClientID::new(7)]
        );
        assert_eq!(&*update.clients[&ClientID::new(7)].json, "null");
        let everyone = room.presence_of_everyone().unwrap();
        let Message::Awareness(update) = Message::decode_v1(&everyone).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(
            update.clients.keys().copied().collect::<Vec<_>>(),
            [ClientID::new(8)],
            "a joiner is greeted with Bo only"
        );
        // Bo's page fails over to this node, keeping its awareness id. While his old
        // node's announcement holds, he is that node's: connection 1 cannot change him.
        let early = room.receive(1, &presence_at(3, &[(8, "{}")])).unwrap();
        assert!(early.broadcast.is_empty(), "not connection 1's yet");
        // Once it expires, his page's next update is taken: he is connection 1's now,
        // and his old node's silence does not withdraw him.
        assert!(room.expire_remote_presence(secs(50)).is_some());
        let taken = room.receive(1, &presence_at(4, &[(8, bo)])).unwrap();
        assert_eq!(taken.broadcast.len(), 1);
        assert_eq!(room.expire_remote_presence(secs(120)), None);
        assert!(room.presence_of_everyone().is_some(), "Bo is still there");
    }

    /// A presence message for `states`: `(client id, JSON)` each, as a stock client sends
    /// them (any id, any text).
    fn presence(states: &[(u64, &str)]) -> Vec<u8> {
        presence_at(1, states)
    }

    /// [`presence`] with every state at awareness clock `clock`: a renewal is taken only
    /// with a higher clock than the last.
    fn presence_at(clock: u32, states: &[(u64, &str)]) -> Vec<u8> {
        let clients = states
            .iter()
            .map(|&(id, json)| {
                (
                    ClientID::new(id),
                    yrs::sync::awareness::AwarenessUpdateEntry {
                        clock,
                        json: json.into(),
                    },
                )
            })
            .collect();
        Message::Awareness(AwarenessUpdate { clients }).encode_v1()
    }

    fn presence_refused(r: Result<Outcome, ProtocolError>) -> bool {
        matches!(&r, Err(e @ ProtocolError::Presence(_)) if e.close().0 == close::PRESENCE_REFUSED)
    }

    #[test]
    fn nobody_sets_or_clears_the_presence_of_someone_else() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        room.join(2, Access::Edit);
        let ada = r#"{"user":{"name":"Ada"}}"#;
        assert_eq!(
            room.receive(1, &presence(&[(42, ada)]))
                .unwrap()
                .broadcast
                .len(),
            1
        );
        // Connection 2 renames Ada and withdraws her: neither reaches anyone.
        let out = room
            .receive(2, &presence(&[(42, r#"{"user":{"name":"Mallory"}}"#)]))
            .unwrap();
        assert!(out.broadcast.is_empty());
        assert!(room
            .receive(2, &presence(&[(42, "null")]))
            .unwrap()
            .broadcast
            .is_empty());
        let joiner = room.presence_of_everyone().unwrap();
        let Message::Awareness(update) = Message::decode_v1(&joiner).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(&*update.clients[&ClientID::new(42)].json, ada);
        // In a message mixing its own and someone else's, its own is taken.
        let out = room
            .receive(
                2,
                &presence(&[(42, "null"), (7, r#"{"user":{"name":"Bo"}}"#)]),
            )
            .unwrap();
        let Message::Awareness(relayed) = Message::decode_v1(&out.broadcast[0]).unwrap() else {
            panic!("expected awareness")
        };
        assert_eq!(
            relayed.clients.keys().collect::<Vec<_>>(),
            [&ClientID::new(7)]
        );
        // Once Ada's connection is gone, her id is free again (a page reconnecting).
        room.leave(1);
        assert_eq!(
            room.receive(2, &presence(&[(42, ada)]))
                .unwrap()
                .broadcast
                .len(),
            1
        );
    }

    #[test]
    fn presence_must_be_a_json_object_within_the_size_limit() {
        for bad in ["not json", "[1, 2]", "\"a string\"", "{\"unclosed\": "] {
            let mut room = empty_room();
            room.join(1, Access::Read);
            assert!(
                presence_refused(room.receive(1, &presence(&[(9, bad)]))),
                "{bad}"
            );
            assert!(room.presence_of_everyone().is_none(), "{bad} was kept");
        }
        let limit = DocumentLimits::default().max_presence_bytes;
        let pad = |n: usize| format!(r#"{{"user":{{"name":"{}"}}}}"#, "x".repeat(n));
        let fits = pad(limit - pad(0).len());
        let over = pad(limit - pad(0).len() + 1);
        let mut room = empty_room();
        room.join(1, Access::Read);
        assert!(room.receive(1, &presence(&[(9, &fits)])).is_ok());
        assert!(presence_refused(room.receive(1, &presence(&[(9, &over)]))));
    }

    #[test]
    fn one_connection_announces_a_few_participants_not_thousands() {
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let state = r#"{"user":{"name":"Ghost"}}"#;
        let few: Vec<_> = (1..=MAX_PRESENCE_CLIENTS as u64)
            .map(|id| (id, state))
            .collect();
        assert!(room.receive(1, &presence(&few)).is_ok());
        // Again, and leaving, is fine; one more is not, in one message or over several.
        assert!(room.receive(1, &presence(&few)).is_ok());
        assert!(presence_refused(room.receive(1, &presence(&[(99, state)]))));
        let mut room = empty_room();
        room.join(1, Access::Edit);
        let many: Vec<_> = (1..=1000).map(|id| (id, state)).collect();
        assert!(presence_refused(room.receive(1, &presence(&many))));
        assert!(room.presence_of_everyone().is_none(), "no ghosts kept");
    }
}
