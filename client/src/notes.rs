//! One note as the page sees it: a handle of signals split by what changes together, so a
//! change touches only the views that read that part of that note. A drag sets the
//! rectangle, typing the text, a vote the votes; the timeline index sets the slot and the
//! presence index who else is editing.
//!
//! The split mirrors the document (`hindsight_shared::schema`): [`NoteParts`] is one
//! reading of a note, [`NoteHandle::set`] writes each part whose value changed and leaves
//! the rest alone.

use std::collections::BTreeMap;

use hindsight_shared::actions::missing_parts;
use hindsight_shared::timeline::EntryKind;
use hindsight_shared::timestamp::{Date, Timestamp};
use hindsight_shared::{NoteColor, NoteData, NoteId, Rect, Role};
use leptos::prelude::*;

use crate::debug;

/// Everything about a note that is neither its place, its text nor its votes: values
/// that change rarely, one at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteFields {
    pub color: NoteColor,
    /// The key of the board's region it is in.
    pub region: Option<String>,
    /// That region's role.
    pub role: Option<Role>,
    pub created_at: f64,
    pub author: Option<String>,
    pub time: Option<Timestamp>,
    pub kind: Option<EntryKind>,
    pub owner: Option<String>,
    pub due: Option<Date>,
    pub source_id: Option<NoteId>,
    pub action_id: Option<NoteId>,
}

impl NoteFields {
    /// Whether the note is an action item (it sits in the actions region).
    pub fn is_action(&self) -> bool {
        self.role == Some(Role::Actions)
    }

    /// What an action still lacks before the meeting may end.
    pub fn missing(&self) -> Option<&'static str> {
        missing_parts(self.owner.is_some(), self.due.is_some())
    }
}

pub type Votes = BTreeMap<String, u32>;

/// One reading of a note from the document, split into the parts the handle keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteParts {
    pub rect: Rect,
    /// `None` when the reading skipped the text (it did not change).
    pub text: Option<String>,
    pub fields: NoteFields,
    pub votes: Votes,
}

impl NoteParts {
    /// Splits a note read from the document; `with_text` says whether its text was read.
    pub fn of(note: NoteData, with_text: bool) -> NoteParts {
        NoteParts {
            rect: Rect::new(note.x, note.y, note.w, note.h),
            text: with_text.then_some(note.text),
            fields: NoteFields {
                color: note.color,
                region: note.region,
                role: note.role,
                created_at: note.created_at,
                author: note.author,
                time: note.time,
                kind: note.kind,
                owner: note.owner,
                due: note.due,
                source_id: note.source_id,
                action_id: note.action_id,
            },
            votes: note.votes,
        }
    }
}

/// This person's relation to a note: selected, being typed in or dragged here, or
/// asked to take the focus (a note just created).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    pub selected: bool,
    pub editing: bool,
    pub focus: bool,
}

/// The signals of one note. Copy: every part is an arena signal.
#[derive(Clone, Copy)]
pub struct NoteHandle {
    /// Stored position and size (timeline entries are drawn at `slot` instead).
    rect: RwSignal<Rect>,
    text: RwSignal<String>,
    fields: RwSignal<NoteFields>,
    votes: RwSignal<Votes>,
    /// Where the timeline lays the note out, if it is a timeline entry.
    slot: RwSignal<Option<(f64, f64)>>,
    /// The colour of someone else who is editing or dragging the note.
    editor: RwSignal<Option<String>>,
    /// What this person does with the note, mirrored from the selection
    /// (`selection::mirror`) so a change of selection touches only the notes it names.
    marks: RwSignal<Marks>,
    /// Which note this is, for the debug counters.
    key: StoredValue<NoteId>,
}

/// Sets `signal` to `value` unless it already holds it; returns whether it changed.
pub fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) -> bool {
    let changed = signal.with_untracked(|old| *old != value);
    if changed {
        signal.set(value);
    }
    changed
}

impl NoteHandle {
    /// A handle for a note first read as `parts` (which must include the text).
    pub fn new(id: &NoteId, parts: NoteParts) -> NoteHandle {
        NoteHandle {
            rect: RwSignal::new(parts.rect),
            text: RwSignal::new(parts.text.unwrap_or_default()),
            fields: RwSignal::new(parts.fields),
            votes: RwSignal::new(parts.votes),
            slot: RwSignal::new(None),
            editor: RwSignal::new(None),
            marks: RwSignal::new(Marks::default()),
            key: StoredValue::new(id.clone()),
        }
    }

    /// Writes the parts of a new reading that differ from what the handle holds.
    /// Returns whether what the overview draws of the note (its place, size, text or
    /// fields) changed; votes alone do not count.
    pub fn set(&self, parts: NoteParts) -> bool {
        let mut drawn = set_if_changed(self.rect, parts.rect);
        if let Some(text) = parts.text {
            drawn |= set_if_changed(self.text, text);
        }
        drawn |= set_if_changed(self.fields, parts.fields);
        set_if_changed(self.votes, parts.votes);
        drawn
    }

    fn count(&self, part: &'static str) {
        if debug::counting() {
            self.key.with_value(|id| debug::count(id, part));
        }
    }

    // Tracked reads. Every reactive read of a note goes through one of these, so the
    // debug counters see any view that reads notes it has no business with.

    pub fn with_rect<R>(&self, f: impl FnOnce(&Rect) -> R) -> R {
        self.count("rect");
        self.rect.with(f)
    }

    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        self.count("text");
        self.text.with(|t| f(t))
    }

    pub fn with_fields<R>(&self, f: impl FnOnce(&NoteFields) -> R) -> R {
        self.count("fields");
        self.fields.with(f)
    }

    pub fn with_votes<R>(&self, f: impl FnOnce(&Votes) -> R) -> R {
        self.count("votes");
        self.votes.with(f)
    }

    pub fn slot(&self) -> Option<(f64, f64)> {
        self.count("slot");
        self.slot.get()
    }

    pub fn editor(&self) -> Option<String> {
        self.count("editor");
        self.editor.get()
    }

    // Untracked reads, for event handlers and indices.

    pub fn rect_now(&self) -> Rect {
        self.rect.get_untracked()
    }

    pub fn text_now(&self) -> String {
        self.text.get_untracked()
    }

    /// Reads the text without copying it.
    pub fn with_text_now<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        self.text.with_untracked(|t| f(t))
    }

    pub fn fields_now(&self) -> NoteFields {
        self.fields.get_untracked()
    }

    /// Reads the fields without copying them.
    pub fn with_fields_now<R>(&self, f: impl FnOnce(&NoteFields) -> R) -> R {
        self.fields.with_untracked(f)
    }

    pub fn slot_now(&self) -> Option<(f64, f64)> {
        self.slot.get_untracked()
    }

    /// Where the note is drawn now: its timeline slot, else its stored position.
    pub fn drawn_rect_now(&self) -> Rect {
        let r = self.rect_now();
        match self.slot_now() {
            Some((x, y)) => Rect::new(x, y, r.w, r.h),
            None => r,
        }
    }

    #[cfg(test)]
    pub fn editor_now(&self) -> Option<String> {
        self.editor.get_untracked()
    }

    /// A new text alone (the rest of the note did not change); returns whether it is new.
    pub fn set_text(&self, text: String) -> bool {
        set_if_changed(self.text, text)
    }

    // Writes by the indices that derive them.

    pub fn set_slot(&self, slot: Option<(f64, f64)>) -> bool {
        set_if_changed(self.slot, slot)
    }

    pub fn set_editor(&self, editor: Option<String>) {
        set_if_changed(self.editor, editor);
    }

    pub fn marks(&self) -> Marks {
        self.count("marks");
        self.marks.get()
    }

    /// Changes this person's marks on the note.
    pub fn mark(&self, change: impl FnOnce(&mut Marks)) {
        let mut marks = self.marks.get_untracked();
        change(&mut marks);
        set_if_changed(self.marks, marks);
    }
}
