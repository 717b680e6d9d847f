//! Signals that mirror the board's Yrs document, and the only way the page writes to it.
//!
//! The document is the single source of truth. Observers on the `notes` and `meta` maps
//! turn each transaction (local or remote) into the smallest set of signal updates: one
//! signal per note, so moving one note re-renders that note alone, plus the ordered list
//! of ids, which only changes when notes are added or removed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use hindsight_shared::schema::{NOTE_HEIGHT, NOTE_WIDTH};
use hindsight_shared::{Board, NewNote, NoteColor, NoteData, NoteId, Rect};
use leptos::prelude::*;
use yrs::types::{Event, PathSegment};
use yrs::{DeepObservable, Doc, Observable, Transact, TransactionMut};

use crate::dom;

const NOTES_OBSERVER: &str = "hindsight-store-notes";
const META_OBSERVER: &str = "hindsight-store-meta";

type NoteSignals = Arc<Mutex<HashMap<NoteId, RwSignal<NoteData>>>>;

#[derive(Clone)]
pub struct Store {
    doc: Doc,
    board: Board,
    /// Note ids, oldest first, as the document orders them.
    pub ids: RwSignal<Vec<NoteId>>,
    notes: NoteSignals,
    pub title: RwSignal<String>,
}

impl Store {
    /// Mirrors `doc` from now on, starting with whatever it already holds.
    pub fn new(doc: Doc) -> Store {
        let board = Board::new(&doc);
        let store = Store {
            doc,
            board,
            ids: RwSignal::new(Vec::new()),
            notes: Arc::new(Mutex::new(HashMap::new())),
            title: RwSignal::new(String::new()),
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

        let (board, title) = (store.board.clone(), store.title);
        store
            .board
            .meta_map()
            .observe(META_OBSERVER, move |txn, _| {
                let new = board.title(txn);
                if title.with_untracked(|t| *t != new) {
                    title.set(new);
                }
            });

        {
            let txn = store.doc.transact();
            let all = store.board.notes(&txn);
            store.title.set(store.board.title(&txn));
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

    /// Adds an empty note with its top-left corner at `(x, y)`.
    pub fn create_note(&self, x: f64, y: f64, author: &str) -> NoteId {
        let id = NoteId::from_random(dom::random_bytes());
        let note = NewNote {
            x,
            y,
            text: String::new(),
            color: NoteColor::default(),
            created_at: dom::now_ms(),
            author: Some(author.to_owned()),
        };
        self.board.add_note(&mut self.doc.transact_mut(), &id, note);
        id
    }

    /// Adds an empty note centred on a canvas point.
    pub fn create_note_at_centre(&self, cx: f64, cy: f64, author: &str) -> NoteId {
        self.create_note(cx - NOTE_WIDTH / 2.0, cy - NOTE_HEIGHT / 2.0, author)
    }

    pub fn edit_text(&self, id: &NoteId, value: &str) {
        self.board
            .edit_text(&mut self.doc.transact_mut(), id, value);
    }

    pub fn move_note(&self, id: &NoteId, x: f64, y: f64) {
        self.board.move_note(&mut self.doc.transact_mut(), id, x, y);
    }

    pub fn set_color(&self, id: &NoteId, color: NoteColor) {
        self.board
            .set_color(&mut self.doc.transact_mut(), id, color);
    }

    pub fn delete_note(&self, id: &NoteId) {
        self.board.delete_note(&mut self.doc.transact_mut(), id);
    }

    pub fn set_title(&self, title: &str) {
        self.board.set_title(&mut self.doc.transact_mut(), title);
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
