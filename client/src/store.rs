//! The page's view of the board's Yrs document, and the only way the page writes to it.
//!
//! The document is the single source of truth. Observers on the `notes`, `meta` and
//! `facilitation` maps turn each transaction (local or remote) into the smallest set of
//! signal updates ([`Model::apply`]):
//!
//! - one [`NoteHandle`] per note, whose parts (place, text, fields, votes) are set only
//!   when they changed, so moving one note re-runs that note's place and nothing else;
//! - the [`Indices`] (id order, action tally, this person's votes, the timeline), told
//!   about the notes the transaction touched and nothing else, whose answers become
//!   signals only when they change;
//! - one signal each for the title, the board's settings, its template (the regions it
//!   carries) and the meeting's state.
//!
//! No view reads all notes on a change: the cost of an edit does not grow with the board.
//! Who else is editing a note comes from presence ([`Store::set_editors`]), which updates
//! only the notes entering or leaving that map.
//!
//! Board logic (what a promotion writes, how votes are budgeted, who is anonymous) lives
//! in `hindsight-shared`; this module only opens the transactions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use hindsight_shared::actions::ActionCount;
use hindsight_shared::facilitation::{Timer, View};
use hindsight_shared::facts::IncidentFacts;
use hindsight_shared::layout::BoardLayout;
use hindsight_shared::schema::{NOTE_HEIGHT, NOTE_WIDTH};
use hindsight_shared::timeline::{Axis, Durations};
use hindsight_shared::timestamp::TimeContext;
use hindsight_shared::votes::DEFAULT_VOTE_BUDGET;
use hindsight_shared::{Board, NewNote, NoteColor, NoteId, Rect, Role, Template};
use leptos::prelude::*;
use yrs::types::{Event, PathSegment};
use yrs::{DeepObservable, Doc, Observable, ReadTxn, Transact, Transaction, TransactionMut};

use crate::announce::Arrival;
use crate::dom;
use crate::history::{History, LOCAL};
use crate::indices::{Changes, Indexed, Indices};
use crate::notes::{set_if_changed, NoteHandle, NoteParts};

const NOTES_OBSERVER: &str = "hindsight-store-notes";
const META_OBSERVER: &str = "hindsight-store-meta";
const FACILITATION_OBSERVER: &str = "hindsight-store-facilitation";

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

/// What a transaction did to one note, as its observer events say.
#[derive(Clone, Copy, Default)]
struct Touched {
    /// The note's own map changed (place, fields, votes), or the note came or went.
    fields: bool,
    text: bool,
}

/// The notes' handles and indices, and the signals derived from the indices. Everything
/// here changes only inside [`Model::apply`], which the notes observer calls once per
/// transaction.
pub struct Model {
    handles: HashMap<NoteId, NoteHandle>,
    indices: Indices,
    /// Whose editing shows on which note (see [`Store::set_editors`]).
    editors: BTreeMap<NoteId, String>,
    /// This browser's anonymous voter token (never the name).
    voter: String,
    /// The board's regions, which decide each note's region and role.
    template: Template,
    /// Whether notes coming and going from elsewhere are passed on as `arrivals` (from
    /// the first full sync on: what the board held before is not news).
    announcing: bool,
    pub signals: ModelSignals,
}

/// The signals of what the indices know.
#[derive(Clone, Copy)]
pub struct ModelSignals {
    /// Note ids, oldest first. Changes only when notes come or go.
    pub ids: RwSignal<Vec<NoteId>>,
    pub actions: RwSignal<ActionCount>,
    /// Votes this person has used on the board.
    pub votes_used: RwSignal<u32>,
    /// Time to detect and to resolve, once the timeline says.
    pub durations: RwSignal<Option<Durations>>,
    /// Notes per region key, for work-in-progress limits.
    pub counts: RwSignal<HashMap<String, u32>>,
    /// The notes of each region, by region key (for the list view).
    pub members: RwSignal<HashMap<String, Vec<NoteId>>>,
    /// Where each region is drawn, grown to fit its notes.
    pub layout: RwSignal<BoardLayout>,
    /// The timeline's lanes, time labels and squeezed pauses.
    pub axis: RwSignal<Axis>,
    /// Notes whose drawing changed (place, size, text, colour, or they came or went)
    /// since the overview last took them (see `overview.rs`, which drains it).
    pub repaint: RwSignal<Vec<NoteId>>,
    /// Notes someone else is editing or dragging.
    pub edited: RwSignal<BTreeSet<NoteId>>,
    /// Notes others added or removed since the announcer last took them.
    pub arrivals: RwSignal<Vec<Arrival>>,
}

impl Model {
    pub fn new(voter: String) -> Model {
        Model {
            handles: HashMap::new(),
            indices: Indices::default(),
            editors: BTreeMap::new(),
            voter,
            template: Template::postmortem().clone(),
            announcing: false,
            signals: ModelSignals {
                ids: RwSignal::new(Vec::new()),
                actions: RwSignal::new(ActionCount::default()),
                votes_used: RwSignal::new(0),
                durations: RwSignal::new(None),
                counts: RwSignal::new(HashMap::new()),
                members: RwSignal::new(HashMap::new()),
                layout: RwSignal::new(BoardLayout::unchanged(Template::postmortem())),
                axis: RwSignal::new(Axis::default()),
                repaint: RwSignal::new(Vec::new()),
                edited: RwSignal::new(BTreeSet::new()),
                arrivals: RwSignal::new(Vec::new()),
            },
        }
    }

    /// Takes the board's template as the document now says. Regions that moved, came,
    /// went or changed role change what every note belongs to, so every note is read
    /// again; a new work-in-progress limit changes nothing here. Returns whether it did.
    fn set_template<T: ReadTxn>(&mut self, board: &Board, txn: &T, template: Template) -> bool {
        let reshaped = self.indices.set_template(&template);
        self.template = template;
        if reshaped {
            self.load(board, txn);
        }
        reshaped
    }

    /// Reads the notes a transaction touched, updates their handles and the indices, and
    /// passes on what changed. Signals are set after the reading is done, so subscribers
    /// that read the model find it consistent.
    fn apply<T: ReadTxn>(
        &mut self,
        board: &Board,
        txn: &T,
        touched: HashMap<NoteId, Touched>,
        remote: bool,
    ) {
        let mut handle_updates = Vec::new();
        let mut repaint = Vec::new();
        let announce = remote && self.announcing;
        let mut arrivals = Vec::new();
        for (id, touch) in touched {
            let parts = if touch.fields {
                board
                    .note_without_text(txn, &id, &self.template)
                    .map(|n| NoteParts::of(n, false))
            } else {
                None
            };
            let text = touch.text.then(|| board.text_of(txn, &id));
            let exists =
                touch.fields && parts.is_some() || !touch.fields && self.handles.contains_key(&id);
            if !exists {
                if self.handles.remove(&id).is_some() {
                    repaint.push(id.clone());
                    if announce {
                        arrivals.push(Arrival::Removed);
                    }
                }
                self.indices.update(&id, None);
                continue;
            }
            match (self.handles.get(&id), parts) {
                (Some(handle), Some(mut parts)) => {
                    parts.text = text;
                    self.indices.update(
                        &id,
                        Some(Indexed::of(
                            parts.rect,
                            &parts.fields,
                            &parts.votes,
                            &self.voter,
                        )),
                    );
                    handle_updates.push((id, *handle, Some(parts), None));
                }
                (Some(handle), None) => handle_updates.push((id, *handle, None, text)),
                (None, Some(mut parts)) => {
                    // A new note: its handle starts with everything, text included.
                    parts.text = Some(text.unwrap_or_else(|| board.text_of(txn, &id)));
                    self.indices.update(
                        &id,
                        Some(Indexed::of(
                            parts.rect,
                            &parts.fields,
                            &parts.votes,
                            &self.voter,
                        )),
                    );
                    if announce {
                        arrivals.push(Arrival::Added {
                            author: parts.fields.author.clone(),
                            region: parts.fields.region.clone(),
                        });
                    }
                    let handle = NoteHandle::new(&id, parts);
                    if let Some(color) = self.editors.get(&id) {
                        handle.set_editor(Some(color.clone()));
                    }
                    self.handles.insert(id.clone(), handle);
                    repaint.push(id);
                }
                (None, None) => {}
            }
        }
        let changes = self.indices.finish();
        if !arrivals.is_empty() {
            self.signals.arrivals.update(|a| a.extend(arrivals));
        }
        for (id, handle, parts, text) in handle_updates {
            let redrawn = match (parts, text) {
                (Some(parts), _) => handle.set(parts),
                (None, Some(text)) => handle.set_text(text),
                (None, None) => false,
            };
            if redrawn {
                repaint.push(id);
            }
        }
        self.pass_on(changes, repaint);
    }

    /// Sets the signals of what the indices say changed.
    fn pass_on(&mut self, changes: Changes, mut repaint: Vec<NoteId>) {
        for (id, slot) in changes.slots {
            if let Some(handle) = self.handles.get(&id) {
                if handle.set_slot(slot) {
                    repaint.push(id);
                }
            }
        }
        let s = self.signals;
        if !repaint.is_empty() {
            s.repaint.update(|r| r.extend(repaint));
        }
        if changes.order {
            s.ids.set(self.indices.order().cloned().collect());
        }
        if changes.tally {
            set_if_changed(s.actions, self.indices.tally());
        }
        if changes.votes_used {
            set_if_changed(s.votes_used, self.indices.votes_used());
        }
        if changes.durations {
            set_if_changed(s.durations, self.indices.durations());
        }
        if changes.counts {
            set_if_changed(s.counts, self.indices.counts());
            set_if_changed(s.members, self.indices.members());
        }
        if changes.layout {
            set_if_changed(s.layout, self.indices.layout().clone());
        }
        if changes.axis {
            set_if_changed(s.axis, self.indices.axis().clone());
        }
    }

    /// Every note the document holds, read whole (the first time the store sees it).
    fn load<T: ReadTxn>(&mut self, board: &Board, txn: &T) {
        let touched = board
            .note_ids(txn)
            .into_iter()
            .map(|id| {
                (
                    id,
                    Touched {
                        fields: true,
                        text: true,
                    },
                )
            })
            .collect();
        self.apply(board, txn, touched, false);
    }

    /// Takes the notes someone is dragging (they grow no region while they move) and
    /// passes on what that changes.
    fn set_moving(&mut self, moving: BTreeSet<NoteId>) {
        self.indices.set_moving(moving);
        let changes = self.indices.finish();
        self.pass_on(changes, Vec::new());
    }

    fn set_editors(&mut self, editors: BTreeMap<NoteId, String>) {
        if editors == self.editors {
            return;
        }
        let old = std::mem::replace(&mut self.editors, editors);
        set_if_changed(
            self.signals.edited,
            self.editors.keys().cloned().collect::<BTreeSet<_>>(),
        );
        for id in old.keys().chain(self.editors.keys()) {
            let (was, now) = (old.get(id), self.editors.get(id));
            if was != now {
                if let Some(handle) = self.handles.get(id) {
                    handle.set_editor(now.cloned());
                }
            }
        }
    }
}

/// Which notes a batch of deep observer events touched, and how.
fn touched_by(txn: &TransactionMut, events: &yrs::types::Events) -> HashMap<NoteId, Touched> {
    let mut touched: HashMap<NoteId, Touched> = HashMap::new();
    let mut touch = |key: &str, f: fn(&mut Touched)| {
        if let Ok(id) = key.parse::<NoteId>() {
            f(touched.entry(id).or_default());
        }
    };
    for event in events.iter() {
        let path = event.path();
        match (path.front(), path.get(1)) {
            // The notes map itself: notes came, went or were replaced.
            (None, _) => {
                if let Event::Map(e) = event {
                    for key in e.keys(txn).keys() {
                        touch(key, |t| {
                            t.fields = true;
                            t.text = true;
                        });
                    }
                }
            }
            // Inside a note: its text, or anything else (its map, its votes).
            (Some(PathSegment::Key(id)), Some(PathSegment::Key(field))) if &**field == "text" => {
                touch(id, |t| t.text = true)
            }
            (Some(PathSegment::Key(id)), None) => {
                let replaced_text = match event {
                    Event::Map(e) => e.keys(txn).contains_key("text"),
                    _ => false,
                };
                touch(id, |t| t.fields = true);
                if replaced_text {
                    touch(id, |t| t.text = true);
                }
            }
            (Some(PathSegment::Key(id)), Some(_)) => touch(id, |t| t.fields = true),
            (Some(PathSegment::Index(_)), _) => {}
        }
    }
    touched
}

#[derive(Clone)]
pub struct Store {
    doc: Doc,
    board: Board,
    model: Arc<Mutex<Model>>,
    /// The signals of what the indices know.
    pub indexed: ModelSignals,
    pub title: RwSignal<String>,
    pub settings: RwSignal<Settings>,
    /// The board's regions and template settings, as the document carries them.
    pub template: RwSignal<Template>,
    pub meeting: RwSignal<Meeting>,
    /// The facilitator's secret as this browser knows it (local, never in the document).
    facilitator_key: RwSignal<String>,
    /// Whether `facilitator_key` matches the hash in the document.
    pub is_facilitator: RwSignal<bool>,
    /// This person's own changes, for undo and redo.
    pub history: History,
    /// The page was opened with a read-only link: the document is shown, never changed.
    pub read_only: bool,
    /// This browser's anonymous voter token for this board.
    voter: Arc<str>,
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

impl Store {
    /// Mirrors `doc` from now on, starting with whatever it already holds. `voter` is
    /// this browser's voter token, whose votes the store counts.
    pub fn new(doc: Doc, read_only: bool, voter: String) -> Store {
        let board = Board::new(&doc);
        let model = Model::new(voter.clone());
        let indexed = model.signals;
        let history = History::new(&doc, &board);
        let store = Store {
            doc,
            board,
            model: Arc::new(Mutex::new(model)),
            indexed,
            history,
            title: RwSignal::new(String::new()),
            settings: RwSignal::new(Settings::default()),
            template: RwSignal::new(Template::postmortem().clone()),
            meeting: RwSignal::new(Meeting::default()),
            facilitator_key: RwSignal::new(String::new()),
            is_facilitator: RwSignal::new(false),
            read_only,
            voter: voter.into(),
        };

        // Note signals are made inside observers, which may run under a short-lived owner
        // (an effect, say); they belong to the page's owner instead, which outlives them.
        let owner = Owner::current().unwrap_or_default();
        let owner_for_meta = owner.clone();
        let (board, model) = (store.board.clone(), store.model.clone());
        let remote = yrs::Origin::from(crate::sync::REMOTE);
        store
            .board
            .notes_map()
            .observe_deep(NOTES_OBSERVER, move |txn, events| {
                let touched = touched_by(txn, events);
                let remote = txn.origin() == Some(&remote);
                owner.with(|| lock(&model).apply(&board, txn, touched, remote));
            });

        let (board, title, settings) = (store.board.clone(), store.title, store.settings);
        let (key, is_facilitator) = (store.facilitator_key, store.is_facilitator);
        let (model, template) = (store.model.clone(), store.template);
        // Deep: a region's work-in-progress limit lives in a map inside `meta.layout`.
        store
            .board
            .meta_map()
            .observe_deep(META_OBSERVER, move |txn, _| {
                set_if_changed(title, board.title(txn));
                set_if_changed(settings, read_settings(&board, txn));
                let now = board.template(txn);
                if template.with_untracked(|t| *t != now) {
                    owner_for_meta.with(|| {
                        lock(&model).set_template(&board, txn, now.clone());
                    });
                    template.set(now);
                }
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
            store.title.set(store.board.title(&txn));
            store.settings.set(read_settings(&store.board, &txn));
            store.meeting.set(read_meeting(&store.board, &txn));
            let template = store.board.template(&txn);
            let mut model = lock(&store.model);
            if !model.set_template(&store.board, &txn, template.clone()) {
                model.load(&store.board, &txn);
            }
            drop(model);
            store.template.set(template);
        }
        store
    }

    /// The handle of note `id`, if the document holds it.
    pub fn note(&self, id: &NoteId) -> Option<NoteHandle> {
        lock(&self.model).handles.get(id).copied()
    }

    /// Every note's handle, without subscribing to anything; for work done once per
    /// gesture (a rubber band, culling, placing a new note), never per change.
    pub fn handles(&self) -> Vec<(NoteId, NoteHandle)> {
        lock(&self.model)
            .handles
            .iter()
            .map(|(id, h)| (id.clone(), *h))
            .collect()
    }

    /// The rectangles of region `key`'s notes as they are drawn now, without subscribing
    /// to them.
    pub fn occupied_in(&self, key: &str) -> Vec<Rect> {
        lock(&self.model)
            .handles
            .values()
            .filter(|h| h.fields_now().region.as_deref() == Some(key))
            .map(NoteHandle::drawn_rect_now)
            .collect()
    }

    pub fn voter(&self) -> &str {
        &self.voter
    }

    /// Shows on each note the colour of whoever else is editing it, given who edits
    /// which note now; only notes whose editor changed are touched.
    pub fn set_editors(&self, editors: BTreeMap<NoteId, String>) {
        lock(&self.model).set_editors(editors);
    }

    /// Says which notes someone is dragging now.
    pub fn set_moving(&self, moving: BTreeSet<NoteId>) {
        lock(&self.model).set_moving(moving);
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
    pub fn write_merging<R: Default>(&self, f: impl FnOnce(&Board, &mut TransactionMut) -> R) -> R {
        if self.read_only {
            return R::default();
        }
        let result = f(&self.board, &mut self.doc.transact_mut_with(LOCAL));
        self.history.changed();
        result
    }

    /// Where a note of size `(w, h)` drawn at `(x, y)` is stored, on `layout`: in the
    /// region drawn under its centre (else in `current`, its region so far), at that
    /// position in the region's own frame.
    fn stored_at(
        layout: &BoardLayout,
        (x, y): (f64, f64),
        (w, h): (f64, f64),
        current: Option<String>,
    ) -> (Option<String>, f64, f64) {
        let region = layout
            .region_at(x + w / 2.0, y + h / 2.0)
            .map(|p| p.key.clone())
            .or(current);
        let (sx, sy) = layout.to_stored(region.as_deref(), x, y);
        (region, sx, sy)
    }

    /// The region note `id` would be dropped in with its centre at `(cx, cy)`.
    pub fn drop_region(&self, id: &NoteId, cx: f64, cy: f64) -> Option<String> {
        let layout = lock(&self.model).indices.layout_without(id);
        layout.region_at(cx, cy).map(|p| p.key.clone())
    }

    /// Moves note `id` so it is drawn at `(x, y)`, inside `txn`.
    pub fn place(&self, board: &Board, txn: &mut TransactionMut, id: &NoteId, x: f64, y: f64) {
        let Some(handle) = self.note(id) else {
            return;
        };
        let rect = handle.rect_now();
        let current = handle.fields_now().region;
        let layout = lock(&self.model).indices.layout_without(id);
        let (region, sx, sy) = Store::stored_at(&layout, (x, y), (rect.w, rect.h), current);
        board.place_note(txn, id, sx, sy, region.as_deref());
    }

    /// Adds an empty note drawn with its top-left corner at `(x, y)`, in the region under
    /// its centre, written by `name` unless the board is anonymous.
    pub fn create_note(&self, x: f64, y: f64, name: &str) -> NoteId {
        let (region, sx, sy) = self
            .indexed
            .layout
            .with_untracked(|l| Store::stored_at(l, (x, y), (NOTE_WIDTH, NOTE_HEIGHT), None));
        self.add_note(region, sx, sy, name)
    }

    /// Adds an empty note to region `key`, drawn at `(x, y)` (past the region's edge it
    /// grows the region).
    pub fn create_note_in(&self, key: &str, x: f64, y: f64, name: &str) -> NoteId {
        let (sx, sy) = self
            .indexed
            .layout
            .with_untracked(|l| l.to_stored(Some(key), x, y));
        self.add_note(Some(key.to_owned()), sx, sy, name)
    }

    fn add_note(&self, region: Option<String>, sx: f64, sy: f64, name: &str) -> NoteId {
        let id = NoteId::from_random(dom::random_bytes());
        self.write(|board, txn| {
            let note = NewNote::at(sx, sy, "")
                .in_region(region)
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

    /// Turns `idea` into a new action note drawn at `at`, putting the idea back where it
    /// was stored before (`home`: position and region). Returns the action's id, or `None`
    /// if the idea is already an action or came from one.
    pub fn promote(
        &self,
        idea: &NoteId,
        at: (f64, f64),
        home: &(f64, f64, Option<String>),
        name: &str,
    ) -> Option<NoteId> {
        let action = NoteId::from_random(dom::random_bytes());
        let actions = self
            .template
            .with_untracked(|t| t.with_role(Role::Actions).map(|r| r.key.clone()));
        let at = self
            .indexed
            .layout
            .with_untracked(|l| l.to_stored(actions.as_deref(), at.0, at.1));
        let home = (home.0, home.1, home.2.as_deref());
        self.write(|board, txn| {
            let author = board.author_for(txn, name);
            board
                .promote_to_action(txn, idea, &action, at, home, dom::now_ms(), author)
                .then_some(action)
        })
    }

    /// Moves note `id` into region `key`, to the first free spot there: moving a note
    /// without dragging it (the list view's menu, a keyboard).
    pub fn move_to_region(&self, id: &NoteId, key: &str) {
        let Some(region) = self.indexed.layout.with_untracked(|l| l.rect(key)) else {
            return;
        };
        let (x, y) = crate::placement::free_spot(region, &self.occupied_in(key));
        self.write(|board, txn| {
            let (sx, sy) = self
                .indexed
                .layout
                .with_untracked(|l| l.to_stored(Some(key), x, y));
            board.place_note(txn, id, sx, sy, Some(key));
        });
    }

    /// Turns `idea` into an action at the first free spot of the actions region, the
    /// idea staying where it is: promotion without dragging. Returns the action's id.
    pub fn promote_in_place(&self, idea: &NoteId, name: &str) -> Option<NoteId> {
        let note = self.note(idea)?;
        let rect = note.rect_now();
        let home = (rect.x, rect.y, note.fields_now().region);
        let key = self
            .template
            .with_untracked(|t| t.with_role(Role::Actions).map(|r| r.key.clone()))?;
        let region = self.indexed.layout.with_untracked(|l| l.rect(&key))?;
        let at = crate::placement::free_spot(region, &self.occupied_in(&key));
        self.promote(idea, at, &home, name)
    }

    /// From now on, notes others add or remove are passed on as `arrivals`.
    pub fn start_announcing(&self) {
        lock(&self.model).announcing = true;
    }

    /// This browser's facilitator key for the board (empty for none), for the API calls
    /// only the facilitator may make.
    pub fn facilitator_key(&self) -> String {
        self.facilitator_key.get_untracked()
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

    /// Puts note `id` back where it was stored, in the region it was in.
    pub fn put_back(&self, id: &NoteId, home: &(f64, f64, Option<String>)) {
        self.write(|board, txn| board.place_note(txn, id, home.0, home.1, home.2.as_deref()));
    }

    /// Sets or clears a region's work-in-progress limit on this board.
    pub fn set_wip_limit(&self, key: &str, limit: Option<u32>) {
        self.write(|board, txn| board.set_wip_limit(txn, key, limit));
    }

    pub fn set_color(&self, id: &NoteId, color: NoteColor) {
        self.write(|board, txn| board.set_color(txn, id, color));
    }

    pub fn delete_note(&self, id: &NoteId) {
        self.write(|board, txn| board.delete_note(txn, id));
    }
}

fn lock(model: &Mutex<Model>) -> MutexGuard<'_, Model> {
    // A panic while applying a change has already broken the page; the model is as
    // consistent as the panic left it.
    model.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    //! The model driven by real yrs observers, natively: whatever a transaction does, the
    //! handles and indices end up where a fresh read of the document puts them.

    use super::*;
    use hindsight_shared::schema::new_doc;
    use hindsight_shared::{NewNote, Template};

    fn observed(doc: &Doc) -> Arc<Mutex<Model>> {
        let board = Board::new(doc);
        let model = Arc::new(Mutex::new(Model::new("me".into())));
        {
            let (reader, model) = (board.clone(), model.clone());
            board.notes_map().observe_deep("test", move |txn, events| {
                let touched = touched_by(txn, events);
                lock(&model).apply(&reader, txn, touched, false);
            });
        }
        lock(&model).load(&board, &doc.transact());
        model
    }

    fn check(doc: &Doc, model: &Mutex<Model>) {
        let board = Board::new(doc);
        let txn = doc.transact();
        let model = lock(model);
        let all = board.notes(&txn);
        assert_eq!(
            model.signals.ids.get_untracked(),
            all.iter().map(|n| n.id.clone()).collect::<Vec<_>>()
        );
        assert_eq!(model.handles.len(), all.len());
        for n in &all {
            let h = model.handles[&n.id];
            assert_eq!(h.rect_now(), Rect::new(n.x, n.y, n.w, n.h), "{}", n.id);
            assert_eq!(h.text_now(), n.text, "{}", n.id);
            assert_eq!(h.fields_now(), NoteParts::of(n.clone(), false).fields);
        }
        assert_eq!(model.signals.actions.get_untracked(), ActionCount::of(&all));
        assert_eq!(
            model.signals.votes_used.get_untracked(),
            board.votes_used(&txn, "me")
        );
    }

    #[test]
    fn every_kind_of_change_reaches_the_handles_and_indices() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        // Notes that exist before the model starts are loaded whole.
        let early: NoteId = "early".parse().unwrap();
        board.add_note(
            &mut doc.transact_mut(),
            &early,
            NewNote::at(10.0, 100.0, "before"),
        );
        let model = observed(&doc);
        check(&doc, &model);

        let a: NoteId = "a".parse().unwrap();
        let actions = Template::postmortem().region("actions").unwrap().rect;
        board.add_note(
            &mut doc.transact_mut(),
            &a,
            NewNote::at(actions.x + 10.0, actions.y + 100.0, "ship it"),
        );
        check(&doc, &model);
        board.edit_text(&mut doc.transact_mut(), &a, "ship it now");
        check(&doc, &model);
        board.set_owner(&mut doc.transact_mut(), &a, "Ada");
        check(&doc, &model);
        board.vote(&mut doc.transact_mut(), &a, "me").unwrap();
        check(&doc, &model);
        board.move_note(&mut doc.transact_mut(), &early, 300.0, 200.0);
        check(&doc, &model);
        {
            // Several notes in one transaction.
            let mut txn = doc.transact_mut();
            board.delete_note(&mut txn, &early);
            board.edit_text(&mut txn, &a, "shipped");
            board.unvote(&mut txn, &a, "me");
        }
        check(&doc, &model);
        assert_eq!(lock(&model).handles.len(), 1);
    }

    #[test]
    fn editors_touch_only_the_notes_entering_or_leaving() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let ids: Vec<NoteId> = ["a", "b", "c"].iter().map(|s| s.parse().unwrap()).collect();
        {
            let mut txn = doc.transact_mut();
            for id in &ids {
                board.add_note(&mut txn, id, NewNote::at(10.0, 100.0, "x"));
            }
        }
        let model = observed(&doc);
        let editor = |id: &NoteId| lock(&model).handles[id].editor_now();
        lock(&model).set_editors([(ids[0].clone(), "#f00".to_owned())].into());
        assert_eq!(editor(&ids[0]).as_deref(), Some("#f00"));
        assert_eq!(editor(&ids[1]), None);
        lock(&model).set_editors([(ids[1].clone(), "#0f0".to_owned())].into());
        assert_eq!(editor(&ids[0]), None);
        assert_eq!(editor(&ids[1]).as_deref(), Some("#0f0"));
    }
}
