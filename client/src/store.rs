//! Signals that mirror the board's Yrs document, and the only way the page writes to it.
//!
//! The document is the single source of truth. Observers on the `notes`, `meta` and
//! `facilitation` maps turn each transaction (local or remote) into the smallest set of
//! signal updates: one signal per note, so moving one note re-renders that note alone,
//! plus the ordered list of ids, which only changes when notes are added or removed, plus
//! one signal each for the board's settings and the meeting's state. Views that need all
//! notes at once (timeline order, action count, votes) derive from [`Store::all`].
//!
//! Board logic (what a promotion writes, how votes are budgeted, who is anonymous) lives
//! in `hindsight-shared`; this module only opens the transactions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use hindsight_shared::facilitation::{Timer, View};
use hindsight_shared::facts::IncidentFacts;
use hindsight_shared::schema::{NOTE_HEIGHT, NOTE_WIDTH};
use hindsight_shared::timeline::Timeline;
use hindsight_shared::timestamp::TimeContext;
use hindsight_shared::votes::DEFAULT_VOTE_BUDGET;
use hindsight_shared::{Board, NewNote, NoteColor, NoteData, NoteId, Rect};
use leptos::prelude::*;
use yrs::types::{Event, PathSegment};
use yrs::{DeepObservable, Doc, Observable, ReadTxn, Transact, Transaction, TransactionMut};

use crate::dom;
use crate::history::{History, LOCAL};

const NOTES_OBSERVER: &str = "hindsight-store-notes";
const META_OBSERVER: &str = "hindsight-store-meta";
const FACILITATION_OBSERVER: &str = "hindsight-store-facilitation";

type NoteSignals = Arc<Mutex<HashMap<NoteId, RwSignal<NoteData>>>>;

/// The board's facts and settings, as the `meta` map says now.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub facts: IncidentFacts,
    /// The incident date and timezone that timeline times are read and shown in.
    pub time: TimeContext,
    pub anonymous: bool,
    pub vote_budget: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            facts: IncidentFacts::default(),
            time: TimeContext {
                date: None,
                offset_minutes: 0,
            },
            anonymous: false,
            vote_budget: DEFAULT_VOTE_BUDGET,
        }
    }
}

/// Where the meeting is, as the `facilitation` map says now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Meeting {
    pub step: Option<u8>,
    pub timer: Option<Timer>,
    pub follow: Option<View>,
}

#[derive(Clone)]
pub struct Store {
    doc: Doc,
    board: Board,
    /// Note ids, oldest first, as the document orders them.
    pub ids: RwSignal<Vec<NoteId>>,
    notes: NoteSignals,
    /// Every note, oldest first; recomputed when any note changes.
    pub all: Memo<Vec<NoteData>>,
    /// Where each timeline note is drawn: derived from time order, not stored positions.
    pub timeline_slots: Memo<HashMap<NoteId, (f64, f64)>>,
    pub title: RwSignal<String>,
    pub settings: RwSignal<Settings>,
    pub meeting: RwSignal<Meeting>,
    /// The facilitator's secret as this browser knows it (local, never in the document).
    facilitator_key: RwSignal<String>,
    /// Whether `facilitator_key` matches the hash in the document.
    pub is_facilitator: RwSignal<bool>,
    /// This person's own changes, for undo and redo.
    pub history: History,
    /// The page was opened with a read-only link: the document is shown, never changed.
    pub read_only: bool,
}

fn read_settings<T: ReadTxn>(board: &Board, txn: &T) -> Settings {
    Settings {
        facts: board.facts(txn),
        time: board.time_context(txn),
        anonymous: board.anonymous(txn),
        vote_budget: board.vote_budget(txn),
    }
}

fn read_meeting<T: ReadTxn>(board: &Board, txn: &T) -> Meeting {
    Meeting {
        step: board.step(txn),
        timer: board.timer(txn),
        follow: board.follow(txn),
    }
}

fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, new: T) {
    if signal.with_untracked(|old| *old != new) {
        signal.set(new);
    }
}

impl Store {
    /// Mirrors `doc` from now on, starting with whatever it already holds.
    pub fn new(doc: Doc, read_only: bool) -> Store {
        let board = Board::new(&doc);
        let ids = RwSignal::new(Vec::<NoteId>::new());
        let notes: NoteSignals = Arc::new(Mutex::new(HashMap::new()));
        let all = {
            let notes = notes.clone();
            Memo::new(move |_| -> Vec<NoteData> {
                let signals: Vec<RwSignal<NoteData>> = ids.with(|ids| {
                    let map = notes.lock().expect("note signals are not poisoned");
                    ids.iter().filter_map(|id| map.get(id).copied()).collect()
                });
                signals.into_iter().map(|s| s.get()).collect()
            })
        };
        let timeline_slots = Memo::new(move |_| {
            all.with(|notes| {
                Timeline::of(notes)
                    .layout()
                    .into_iter()
                    .map(|(id, x, y)| (id, (x, y)))
                    .collect()
            })
        });
        let history = History::new(&doc, &board);
        let store = Store {
            doc,
            board,
            history,
            ids,
            notes,
            all,
            timeline_slots,
            title: RwSignal::new(String::new()),
            settings: RwSignal::new(Settings::default()),
            meeting: RwSignal::new(Meeting::default()),
            facilitator_key: RwSignal::new(String::new()),
            is_facilitator: RwSignal::new(false),
            read_only,
        };

        // Note signals are made inside observers, which may run under a short-lived owner
        // (an effect, say); they belong to the page's owner instead, which outlives them.
        let owner = Owner::current().unwrap_or_default();
        let (board, ids, notes) = (store.board.clone(), store.ids, store.notes.clone());
        store
            .board
            .notes_map()
            .observe_deep(NOTES_OBSERVER, move |txn, events| {
                let mut touched = HashSet::new();
                let mut structural = false;
                for event in events.iter() {
                    match event.path().front() {
                        Some(PathSegment::Key(id)) => {
                            touched.insert(id.to_string());
                        }
                        Some(PathSegment::Index(_)) => {}
                        None => {
                            if let Event::Map(e) = event {
                                structural = true;
                                touched.extend(e.keys(txn).keys().map(|k| k.to_string()));
                            }
                        }
                    }
                }
                owner.with(|| sync_notes(&board, txn, &notes, ids, touched, structural));
            });

        let (board, title, settings) = (store.board.clone(), store.title, store.settings);
        let (key, is_facilitator) = (store.facilitator_key, store.is_facilitator);
        store
            .board
            .meta_map()
            .observe(META_OBSERVER, move |txn, _| {
                set_if_changed(title, board.title(txn));
                set_if_changed(settings, read_settings(&board, txn));
                let mine = key.with_untracked(|k| board.is_facilitator(txn, k));
                set_if_changed(is_facilitator, mine);
            });

        let (board, meeting) = (store.board.clone(), store.meeting);
        store
            .board
            .facilitation_map()
            .observe(FACILITATION_OBSERVER, move |txn, _| {
                set_if_changed(meeting, read_meeting(&board, txn));
            });

        {
            let txn = store.doc.transact();
            let all = store.board.notes(&txn);
            store.title.set(store.board.title(&txn));
            store.settings.set(read_settings(&store.board, &txn));
            store.meeting.set(read_meeting(&store.board, &txn));
            store.ids.set(all.iter().map(|n| n.id.clone()).collect());
            let mut map = store.notes.lock().expect("note signals are not poisoned");
            for note in all {
                map.insert(note.id.clone(), RwSignal::new(note));
            }
        }
        store
    }

    pub fn note(&self, id: &NoteId) -> Option<RwSignal<NoteData>> {
        self.signals().get(id).copied()
    }

    /// The rectangles of all notes as they are now, without subscribing to them.
    pub fn occupied(&self) -> Vec<Rect> {
        self.signals()
            .values()
            .map(|s| s.with_untracked(|n| Rect::new(n.x, n.y, n.w, n.h)))
            .collect()
    }

    /// Reads the document in one transaction.
    pub fn read<R>(&self, f: impl FnOnce(&Board, &Transaction) -> R) -> R {
        f(&self.board, &self.doc.transact())
    }

    /// Changes the document in one transaction, which is then sent to everyone and is one
    /// step for this person to undo (or part of the open drag's step).
    ///
    /// On a read-only page nothing changes and the result is the default: every edit
    /// goes through here, so no control can change what the server would refuse.
    pub fn write<R: Default>(&self, f: impl FnOnce(&Board, &mut TransactionMut) -> R) -> R {
        if self.read_only {
            return R::default();
        }
        self.history.boundary();
        let result = self.write_merging(f);
        self.history.boundary();
        result
    }

    /// Like [`Store::write`], but merged into one undo step with changes made just
    /// before, as keystrokes are.
    fn write_merging<R: Default>(&self, f: impl FnOnce(&Board, &mut TransactionMut) -> R) -> R {
        if self.read_only {
            return R::default();
        }
        let result = f(&self.board, &mut self.doc.transact_mut_with(LOCAL));
        self.history.changed();
        result
    }

    /// Adds an empty note with its top-left corner at `(x, y)`, written by `name` unless
    /// the board is anonymous.
    pub fn create_note(&self, x: f64, y: f64, name: &str) -> NoteId {
        let id = NoteId::from_random(dom::random_bytes());
        self.write(|board, txn| {
            let note = NewNote::at(x, y, "")
                .created_at(dom::now_ms())
                .author(board.author_for(txn, name));
            board.add_note(txn, &id, note);
        });
        id
    }

    /// Adds an empty note centred on a canvas point.
    pub fn create_note_at_centre(&self, cx: f64, cy: f64, name: &str) -> NoteId {
        self.create_note(cx - NOTE_WIDTH / 2.0, cy - NOTE_HEIGHT / 2.0, name)
    }

    /// Turns `idea` into a new action note at `at`, putting the idea back at `home`.
    /// Returns the action's id, or `None` if the idea is already an action or came from
    /// one.
    pub fn promote(
        &self,
        idea: &NoteId,
        at: (f64, f64),
        home: (f64, f64),
        name: &str,
    ) -> Option<NoteId> {
        let action = NoteId::from_random(dom::random_bytes());
        self.write(|board, txn| {
            let author = board.author_for(txn, name);
            board
                .promote_to_action(txn, idea, &action, at, home, dom::now_ms(), author)
                .then_some(action)
        })
    }

    /// Takes `key` as this browser's facilitator key (empty for none) and re-checks it
    /// against the document.
    pub fn set_facilitator_key(&self, key: &str) {
        self.facilitator_key.set(key.to_owned());
        let mine = self.read(|board, txn| board.is_facilitator(txn, key));
        set_if_changed(self.is_facilitator, mine);
    }

    pub fn edit_text(&self, id: &NoteId, value: &str) {
        self.write_merging(|board, txn| board.edit_text(txn, id, value));
    }

    pub fn move_note(&self, id: &NoteId, x: f64, y: f64) {
        self.write(|board, txn| board.move_note(txn, id, x, y));
    }

    pub fn set_color(&self, id: &NoteId, color: NoteColor) {
        self.write(|board, txn| board.set_color(txn, id, color));
    }

    pub fn delete_note(&self, id: &NoteId) {
        self.write(|board, txn| board.delete_note(txn, id));
    }

    pub fn set_title(&self, title: &str) {
        self.write(|board, txn| board.set_title(txn, title));
    }

    /// The rectangle of a note as it is now, without subscribing to it.
    pub fn rect(&self, id: &NoteId) -> Option<Rect> {
        self.note(id)
            .map(|s| s.with_untracked(|n| Rect::new(n.x, n.y, n.w, n.h)))
    }

    fn signals(&self) -> std::sync::MutexGuard<'_, HashMap<NoteId, RwSignal<NoteData>>> {
        self.notes.lock().expect("note signals are not poisoned")
    }
}

/// Re-reads the notes a transaction touched and updates their signals; rebuilds the id
/// list only when notes came or went.
fn sync_notes(
    board: &Board,
    txn: &TransactionMut,
    notes: &NoteSignals,
    ids: RwSignal<Vec<NoteId>>,
    touched: HashSet<String>,
    structural: bool,
) {
    let mut changed = Vec::new();
    {
        let mut map = notes.lock().expect("note signals are not poisoned");
        for key in touched {
            let Ok(id) = key.parse::<NoteId>() else {
                continue;
            };
            match (board.note(txn, &id), map.get(&id)) {
                (Some(data), Some(signal)) => changed.push((*signal, data)),
                (Some(data), None) => {
                    map.insert(id, RwSignal::new(data));
                }
                (None, Some(_)) => {
                    map.remove(&id);
                }
                (None, None) => {}
            }
        }
    }
    // Signals are set after the lock is released, in case a subscriber reads the store.
    for (signal, data) in changed {
        if signal.with_untracked(|old| *old != data) {
            signal.set(data);
        }
    }
    if structural {
        let order: Vec<NoteId> = board.notes(txn).into_iter().map(|n| n.id).collect();
        if ids.with_untracked(|old| *old != order) {
            ids.set(order);
        }
    }
}
