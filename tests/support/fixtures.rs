//! Ids and notes for tests to write, so that no test spells out every field of a note.
//!
//! A note is built with [`NewNote::at`] and its builder methods (`.color`, `.created_at`,
//! `.author`, `.by`); the helpers here only place it inside a region, as a person's note
//! in that region would be.

use hindsight_shared::{NewNote, NoteId, Rect, Template};

/// The note id `s`; panics if it is not a valid id.
pub fn id(s: &str) -> NoteId {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is not a note id: {e}"))
}

/// The rectangle of the postmortem's region `key` (the default board's layout).
pub fn rect_of(key: &str) -> Rect {
    Template::postmortem()
        .region(key)
        .unwrap_or_else(|| panic!("the postmortem has no region {key:?}"))
        .rect
}

/// A note saying `text` in the postmortem region `region`: 20 px right of and 60 px below the region's top-left
/// corner, well inside it. Default colour, created at time 0, no author.
pub fn note_in(region: &str, text: impl Into<String>) -> NewNote {
    note_at(region, (20.0, 60.0), text)
}

/// A note saying `text` with its top-left corner at `(dx, dy)` from `region`'s top-left
/// corner.
pub fn note_at(region: &str, (dx, dy): (f64, f64), text: impl Into<String>) -> NewNote {
    let r = rect_of(region);
    NewNote::at(r.x + dx, r.y + dy, text)
}
