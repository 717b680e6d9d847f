//! The WebSocket between the local Yrs document and the server, in the browser: opening
//! and reopening the socket with backoff, feeding frames to the protocol in `sync.rs` and
//! sending what it answers, renewing and expiring awareness, and publishing what the page
//! shows (connection state, unsaved changes, presence) as signals.
//!
//! The only code that touches the socket. It never writes board content itself: it
//! applies remote updates and forwards local ones.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use hindsight_shared::presence::Presence;
use hindsight_shared::{close, protocol, NoteId};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yrs::sync::Awareness;
use yrs::{Doc, Origin};

use crate::notes::set_if_changed;
use crate::sync::{
    backoff_ms, expire_stale, greeting, handle_frame, own_awareness_frame, presence_views,
    update_frame, Connection, Participant, RemoteCursor, Saves, REMOTE,
};
use crate::{debug, dom};

const UPDATE_OBSERVER: &str = "hindsight-provider";
/// How often our own awareness state is re-sent so peers know we are still here.
const RENEW_EVERY: Duration = Duration::from_secs(15);
const EXPIRY_CHECK_EVERY: Duration = Duration::from_secs(3);

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
    saves: RefCell<Saves>,
    status: RwSignal<Connection>,
    /// Local changes not yet acknowledged as stored (a mirror of `saves.pending`).
    pending: RwSignal<u64>,
    /// The server's sync step 2 has been applied once: the page holds the board.
    synced: RwSignal<bool>,
    participants: RwSignal<Vec<Participant>>,
    cursors: RwSignal<Vec<RemoteCursor>>,
    editors: RwSignal<BTreeMap<NoteId, String>>,
    moving: RwSignal<BTreeSet<NoteId>>,
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
            saves: RefCell::new(Saves::new(pending)),
            status: RwSignal::new(Connection::Connecting),
            pending: RwSignal::new(pending),
            synced: RwSignal::new(false),
            participants: RwSignal::new(Vec::new()),
            cursors: RwSignal::new(Vec::new()),
            editors: RwSignal::new(BTreeMap::new()),
            moving: RwSignal::new(BTreeSet::new()),
        });

        let weak = SendWrapper::new(Rc::downgrade(&inner));
        let remote = Origin::from(REMOTE);
        // Not `observe_update_v1`: that encodes every transaction's update before asking,
        // remote ones included, which on opening a large board encodes it all again for
        // nothing. The clean-up event comes at the same point, and this encodes the same
        // update, only for changes made here.
        doc.observe_transaction_cleanup(UPDATE_OBSERVER, move |txn, event| {
            let changed = event.before_state != event.after_state || !event.delete_set.is_empty();
            if !changed || txn.origin() == Some(&remote) {
                return;
            }
            if let Some(inner) = weak.upgrade() {
                inner.saves.borrow_mut().changed();
                inner.publish_pending();
                inner.send_document(&update_frame(txn.encode_update_v1()), false);
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
                        inner.refresh_presence();
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

    /// Everyone here: changes when people come, go or rename, never when a cursor moves.
    pub fn participants(&self) -> RwSignal<Vec<Participant>> {
        self.0.participants
    }

    /// Other people's cursors.
    pub fn cursors(&self) -> RwSignal<Vec<RemoteCursor>> {
        self.0.cursors
    }

    /// Who else edits which note (their colour).
    pub fn editors(&self) -> RwSignal<BTreeMap<NoteId, String>> {
        self.0.editors
    }

    /// The notes someone else is dragging.
    pub fn moving(&self) -> RwSignal<BTreeSet<NoteId>> {
        self.0.moving
    }

    /// Local changes the server has not yet said it stored.
    /// Whether the board has arrived from the server once (after which changes that
    /// arrive are other people's work, as they do it).
    pub fn synced(&self) -> RwSignal<bool> {
        self.0.synced
    }

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
        inner.refresh_presence();
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
        this.saves.borrow_mut().connected();
        let ws = match WebSocket::new(&this.url) {
            Ok(ws) => ws,
            Err(e) => {
                dom::warn(&format!("cannot open the board socket: {e:?}"));
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
            dom::warn("ignoring a text frame from the server");
            return;
        };
        let frame = js_sys::Uint8Array::new(&buffer).to_vec();
        debug::timed(|| self.handle(&frame));
    }

    /// Applies one frame from the server and acts on what it says.
    fn handle(&self, frame: &[u8]) {
        let result = handle_frame(&mut self.awareness.borrow_mut(), frame);
        match result {
            Ok(outcome) => {
                for (i, reply) in outcome.replies.iter().enumerate() {
                    if i == 0 && outcome.answered_step1 {
                        self.send_document(reply, true);
                    } else {
                        self.send(reply);
                    }
                }
                if let Some(saved) = outcome.saved {
                    if self.saves.borrow_mut().acknowledged(saved) {
                        self.publish_pending();
                    }
                }
                if let Some(reason) = outcome.denied {
                    dom::warn(&format!("server denied access: {reason}"));
                }
                if outcome.awareness_changed {
                    self.refresh_presence();
                }
                if outcome.step2 && !self.synced.get_untracked() {
                    self.synced.set(true);
                }
            }
            Err(e) => {
                dom::warn(&format!("dropping the connection: {e}"));
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
        this.refresh_presence();
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

    /// Sends a document message, counting it for the server's acknowledgements; `step2`
    /// when it answers the server's sync step 1. One that cannot or may not go out now
    /// (see `Saves::sends`) is not lost: this or the next connection's sync step 2 carries
    /// it.
    fn send_document(&self, frame: &[u8], step2: bool) {
        if self.saves.borrow().sends(step2) && self.send(frame) {
            self.saves.borrow_mut().sent(step2);
        }
    }

    fn publish_pending(&self) {
        let pending = self.saves.borrow().pending;
        set_if_changed(self.pending, pending);
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

    /// Derives presence once and sets only the parts that changed: a moving cursor sets
    /// the cursors and nothing else.
    fn refresh_presence(&self) {
        let views = presence_views(&self.awareness.borrow());
        set_if_changed(self.participants, views.participants);
        set_if_changed(self.cursors, views.cursors);
        set_if_changed(self.editors, views.editors);
        set_if_changed(self.moving, views.moving);
    }
}

fn current(weak: &Weak<Inner>, generation: u32) -> Option<Rc<Inner>> {
    weak.upgrade()
        .filter(|inner| inner.generation.get() == generation)
}
