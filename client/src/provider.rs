//! The WebSocket link between the local Yrs document and the server: y-websocket sync and
//! awareness, reconnection with backoff, awareness hygiene, and counting which of our
//! changes the server has stored (`hindsight_shared::protocol`).
//!
//! The protocol itself lives in small pure functions ([`greeting`], [`handle_frame`],
//! [`expire_stale`], [`peers`]) that take and return bytes, so it is tested natively.
//! [`Provider`] is the thin browser adapter around them; it is the only code that touches
//! the socket. It never writes board content itself: it applies remote updates and
//! forwards local ones.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use hindsight_shared::presence::Presence;
use hindsight_shared::{close, protocol};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yrs::sync::{Awareness, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Origin, ReadTxn, Transact, Update};

use crate::dom;

/// Transaction origin of updates that came from the server, so they are not echoed back.
pub const REMOTE: &str = "hindsight-remote";
const UPDATE_OBSERVER: &str = "hindsight-provider";
/// How often our own awareness state is re-sent so peers know we are still here.
const RENEW_EVERY: Duration = Duration::from_secs(15);
/// A remote state not renewed for this long belongs to someone who is gone.
const STALE_AFTER_MS: u64 = 30_000;
const EXPIRY_CHECK_EVERY: Duration = Duration::from_secs(3);
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

/// One participant, as read from awareness.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub client_id: u64,
    pub presence: Presence,
    pub me: bool,
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
        Message::Sync(SyncMessage::SyncStep2(bytes) | SyncMessage::Update(bytes)) => {
            let update =
                Update::decode_v1(&bytes).map_err(|e| ProtocolError(format!("bad update: {e}")))?;
            awareness
                .doc()
                .transact_mut_with(REMOTE)
                .apply_update(update)
                .map_err(|e| ProtocolError(format!("update does not apply: {e}")))?;
        }
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
        Message::Auth(Some(reason)) => dom_warn(&format!("server denied access: {reason}")),
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

/// Everyone with a readable presence state, ourselves first, then by client id.
pub fn peers(awareness: &Awareness) -> Vec<Peer> {
    let me = awareness.client_id();
    let mut peers: Vec<Peer> = awareness
        .iter()
        .filter_map(|(id, state)| {
            let presence = serde_json::from_str::<Presence>(state.data.as_deref()?).ok()?;
            Some(Peer {
                client_id: id.get(),
                presence,
                me: id == me,
            })
        })
        .collect();
    peers.sort_by_key(|p| (!p.me, p.client_id));
    peers
}

/// The delay before reconnect attempt `attempt` (0-based): doubling from 250 ms up to
/// 10 s, with up to half of it random so a restarted server is not hit by everyone at once.
pub fn backoff_ms(attempt: u32, jitter: f64) -> f64 {
    let base = (BACKOFF_START_MS * 2f64.powi(attempt.min(16) as i32)).min(BACKOFF_MAX_MS);
    base * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(target_arch = "wasm32")]
fn dom_warn(message: &str) {
    dom::warn(message);
}

#[cfg(not(target_arch = "wasm32"))]
fn dom_warn(message: &str) {
    eprintln!("{message}");
}

/// The browser side: owns the socket and the awareness, and keeps the connection alive.
/// Cheap to clone; all clones are the same connection.
#[derive(Clone)]
pub struct Provider(SendWrapper<Rc<Inner>>);

struct Inner {
    url: String,
    awareness: RefCell<Awareness>,
    socket: RefCell<Option<Socket>>,
    /// Bumped per socket, so late events from a replaced socket are ignored.
    generation: Cell<u32>,
    attempt: Cell<u32>,
    stopped: Cell<bool>,
    status: RwSignal<Connection>,
    peers: RwSignal<Vec<Peer>>,
    /// Document messages (updates, sync step 2) sent on the current socket: what the
    /// server's `SAVED` count is compared with.
    sent: Cell<u64>,
    /// Our sync step 2 went out on the current socket, so nothing local is left unsent.
    synced: Cell<bool>,
    /// Local changes not yet acknowledged as stored, across connections and reloads.
    pending: RwSignal<u64>,
}

/// A socket with the JS callbacks it calls; dropping the callbacks while the socket could
/// still fire them would throw, so they live exactly as long as the socket is current.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Provider {
    /// Starts syncing `doc` with the board at `ws_url`, and keeps at it until the server
    /// says the board does not exist. `pending` counts local changes the document already
    /// holds that the server may lack (restored from browser storage).
    pub fn start(doc: Doc, ws_url: String, pending: u64) -> Provider {
        let awareness = Awareness::with_clock(doc.clone(), || js_sys::Date::now() as u64);
        let inner = Rc::new(Inner {
            url: ws_url,
            awareness: RefCell::new(awareness),
            socket: RefCell::new(None),
            generation: Cell::new(0),
            attempt: Cell::new(0),
            stopped: Cell::new(false),
            status: RwSignal::new(Connection::Connecting),
            peers: RwSignal::new(Vec::new()),
            sent: Cell::new(0),
            synced: Cell::new(false),
            pending: RwSignal::new(pending),
        });

        let weak = SendWrapper::new(Rc::downgrade(&inner));
        let remote = Origin::from(REMOTE);
        doc.observe_update_v1(UPDATE_OBSERVER, move |txn, event| {
            if txn.origin() == Some(&remote) {
                return;
            }
            if let Some(inner) = weak.upgrade() {
                inner.pending.set(inner.pending.get_untracked() + 1);
                inner.send_document(&update_frame(event.update.clone()));
            }
        })
        .expect("a fresh document accepts observers");

        let weak = Rc::downgrade(&inner);
        set_interval(
            move || {
                if let Some(inner) = weak.upgrade() {
                    inner.renew();
                }
            },
            RENEW_EVERY,
        );
        let weak = Rc::downgrade(&inner);
        set_interval(
            move || {
                if let Some(inner) = weak.upgrade() {
                    let dropped = expire_stale(&mut inner.awareness.borrow_mut(), now());
                    if dropped {
                        inner.refresh_peers();
                    }
                }
            },
            EXPIRY_CHECK_EVERY,
        );
        let weak = Rc::downgrade(&inner);
        let leave = move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.leave();
            }
        };
        window_event_listener_untyped("pagehide", leave.clone());
        window_event_listener_untyped("beforeunload", leave);

        Inner::connect(&inner);
        Provider(SendWrapper::new(inner))
    }

    pub fn status(&self) -> RwSignal<Connection> {
        self.0.status
    }

    pub fn peers(&self) -> RwSignal<Vec<Peer>> {
        self.0.peers
    }

    /// Local changes the server has not yet said it stored.
    pub fn pending(&self) -> RwSignal<u64> {
        self.0.pending
    }

    pub fn client_id(&self) -> u64 {
        self.0.awareness.borrow().client_id().get()
    }

    /// Publishes our presence to everyone now.
    pub fn set_presence(&self, presence: &Presence) {
        let inner = &self.0;
        let frame = {
            let mut awareness = inner.awareness.borrow_mut();
            if awareness.set_local_state(presence).is_err() {
                return;
            }
            own_awareness_frame(&awareness)
        };
        if let Some(frame) = frame {
            inner.send(&frame);
        }
        inner.refresh_peers();
    }
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

impl Inner {
    fn connect(this: &Rc<Inner>) {
        if this.stopped.get() {
            return;
        }
        let generation = this.generation.get().wrapping_add(1);
        this.generation.set(generation);
        this.sent.set(0);
        this.synced.set(false);
        let ws = match WebSocket::new(&this.url) {
            Ok(ws) => ws,
            Err(e) => {
                dom_warn(&format!("cannot open the board socket: {e:?}"));
                Inner::retry_later(this);
                return;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(this);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = current(&weak, generation) {
                inner.opened();
            }
        });
        let weak = Rc::downgrade(this);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(inner) = current(&weak, generation) {
                inner.received(e);
            }
        });
        let weak = Rc::downgrade(this);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(inner) = current(&weak, generation) {
                Inner::closed(&inner, e.code());
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *this.socket.borrow_mut() = Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn opened(&self) {
        self.attempt.set(0);
        self.status.set(Connection::Connected);
        self.send(&protocol::track_saves());
        let frames = greeting(&self.awareness.borrow());
        for frame in frames {
            self.send(&frame);
        }
    }

    fn received(&self, event: MessageEvent) {
        let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() else {
            dom_warn("ignoring a text frame from the server");
            return;
        };
        let frame = js_sys::Uint8Array::new(&buffer).to_vec();
        let result = handle_frame(&mut self.awareness.borrow_mut(), &frame);
        match result {
            Ok(outcome) => {
                for (i, reply) in outcome.replies.iter().enumerate() {
                    if i == 0 && outcome.answered_step1 {
                        self.synced.set(self.send_document(reply));
                    } else {
                        self.send(reply);
                    }
                }
                if let Some(saved) = outcome.saved {
                    self.acknowledged(saved);
                }
                if outcome.awareness_changed {
                    self.refresh_peers();
                }
            }
            Err(e) => {
                dom_warn(&format!("dropping the connection: {e}"));
                if let Some(socket) = self.socket.borrow().as_ref() {
                    let _ = socket.ws.close();
                }
            }
        }
    }

    fn closed(this: &Rc<Inner>, code: u16) {
        // Keep the socket (and its callbacks) alive until this handler returns.
        let _old = this.socket.borrow_mut().take();
        if this.stopped.get() {
            return;
        }
        if close::is_retryable(code) {
            this.status.set(Connection::Offline);
            Inner::retry_later(this);
        } else {
            this.stopped.set(true);
            this.status.set(Connection::Closed(close::describe(code)));
        }
        // Other participants are no longer visible while we are disconnected.
        let mut awareness = this.awareness.borrow_mut();
        let me = awareness.client_id();
        let others: Vec<_> = awareness
            .iter()
            .filter(|(id, s)| *id != me && s.data.is_some())
            .map(|(id, _)| id)
            .collect();
        for id in others {
            awareness.remove_state(id);
        }
        drop(awareness);
        this.refresh_peers();
    }

    fn retry_later(this: &Rc<Inner>) {
        let attempt = this.attempt.get();
        this.attempt.set(attempt.saturating_add(1));
        let delay = backoff_ms(attempt, dom::random_unit());
        let weak = Rc::downgrade(this);
        set_timeout(
            move || {
                if let Some(inner) = weak.upgrade() {
                    Inner::connect(&inner);
                }
            },
            Duration::from_millis(delay as u64),
        );
    }

    /// Sends a frame if the socket is open; returns whether it went out.
    fn send(&self, frame: &[u8]) -> bool {
        let socket = self.socket.borrow();
        let Some(socket) = socket.as_ref() else {
            return false;
        };
        socket.ws.ready_state() == WebSocket::OPEN && socket.ws.send_with_u8_array(frame).is_ok()
    }

    /// Sends a document message, counting it for the server's acknowledgements. One that
    /// cannot go out now is not lost: the next connection's sync step 2 carries it.
    fn send_document(&self, frame: &[u8]) -> bool {
        let sent = self.send(frame);
        if sent {
            self.sent.set(self.sent.get() + 1);
        }
        sent
    }

    /// The server stored our first `saved` document messages on this socket. Once that
    /// covers all we sent, after our sync step 2, everything local is stored.
    fn acknowledged(&self, saved: u64) {
        if self.synced.get() && saved >= self.sent.get() && self.pending.get_untracked() != 0 {
            self.pending.set(0);
        }
    }

    /// Re-sends our unchanged state with a new clock, as y-protocols does, so peers do not
    /// expire us.
    fn renew(&self) {
        let frame = {
            let mut awareness = self.awareness.borrow_mut();
            let Some(state) = awareness.local_state_raw() else {
                return;
            };
            awareness.set_local_state_raw(state);
            own_awareness_frame(&awareness)
        };
        if let Some(frame) = frame {
            self.send(&frame);
        }
    }

    /// Tells everyone we are gone, so our cursor disappears at once instead of after 30 s.
    fn leave(&self) {
        let frame = {
            let mut awareness = self.awareness.borrow_mut();
            awareness.clean_local_state();
            own_awareness_frame(&awareness)
        };
        if let Some(frame) = frame {
            self.send(&frame);
        }
    }

    fn refresh_peers(&self) {
        let list = peers(&self.awareness.borrow());
        if self.peers.with_untracked(|old| *old != list) {
            self.peers.set(list);
        }
    }
}

fn current(weak: &Weak<Inner>, generation: u32) -> Option<Rc<Inner>> {
    weak.upgrade()
        .filter(|inner| inner.generation.get() == generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hindsight_shared::presence::{Point, PresenceUser};
    use hindsight_shared::schema::{new_doc, Board, NewNote};
    use hindsight_shared::NoteColor;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
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
        let seen: Vec<_> = peers(&a)
            .into_iter()
            .map(|p| (p.presence.user.name, p.me))
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
        assert_eq!(peers(&a).len(), 2);
        assert!(!expire_stale(&mut a, 1_000 + STALE_AFTER_MS));
        assert!(expire_stale(&mut a, 1_001 + STALE_AFTER_MS));
        let left: Vec<_> = peers(&a).into_iter().map(|p| p.me).collect();
        assert_eq!(left, [true]);
    }

    #[test]
    fn leaving_sends_a_null_state() {
        let mut a = awareness(1);
        let mut b = awareness(2);
        b.set_local_state(presence("Bo")).unwrap();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        assert_eq!(peers(&a).len(), 1);
        b.clean_local_state();
        handle_frame(&mut a, &own_awareness_frame(&b).unwrap()).unwrap();
        assert!(peers(&a).is_empty());
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
}
