//! The notes this person has selected, and what acts on them: shift-click and the rubber
//! band pick them, arrow keys nudge them, Delete removes them, Enter edits the one
//! selected note, Escape leaves the text or the selection.
//!
//! The selection is local UI state (never in the document, never sent). Every action on it
//! is one transaction, so one undo step.

use std::collections::HashSet;

use hindsight_shared::{NoteId, Rect};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::context::Selection;
use crate::dom;
use crate::notes::Marks;
use crate::store::Store;

/// One arrow key press moves the selection this far, in canvas pixels...
pub const NUDGE: f64 = 10.0;
/// ...or this far with Shift.
pub const NUDGE_FAR: f64 = 50.0;

/// The rectangle spanned by two corners, in any order.
/// Mirrors the selection into the notes' own marks: each change sets the marks of the
/// notes entering or leaving it, and no other note hears of it.
pub fn mirror(store: Store, selection: Selection) {
    let notes = store.clone();
    Effect::new(move |before: Option<HashSet<NoteId>>| {
        let now = selection.selected.get();
        let before = before.unwrap_or_default();
        for id in before.symmetric_difference(&now) {
            if let Some(note) = notes.note(id) {
                note.mark(|m| m.selected = now.contains(id));
            }
        }
        now
    });
    mirror_one(store.clone(), selection.editing, |m, on| m.editing = on);
    mirror_one(store, selection.focus, |m, on| m.focus = on);
}

/// Mirrors a signal naming at most one note into that note's marks.
fn mirror_one(store: Store, signal: RwSignal<Option<NoteId>>, set: fn(&mut Marks, bool)) {
    Effect::new(move |before: Option<Option<NoteId>>| {
        let now = signal.get();
        let before = before.flatten();
        if before != now {
            if let Some(note) = before.as_ref().and_then(|id| store.note(id)) {
                note.mark(|m| set(m, false));
            }
            if let Some(note) = now.as_ref().and_then(|id| store.note(id)) {
                note.mark(|m| set(m, true));
            }
        }
        now
    });
}

pub fn span(a: (f64, f64), b: (f64, f64)) -> Rect {
    Rect::new(
        a.0.min(b.0),
        a.1.min(b.1),
        (a.0 - b.0).abs(),
        (a.1 - b.1).abs(),
    )
}

/// The notes a rubber band over `band` selects: those it touches where they are drawn
/// (timeline notes at their slots). Once per band, not per change.
pub fn under_band(store: &Store, band: &Rect) -> HashSet<NoteId> {
    store
        .handles()
        .into_iter()
        .filter(|(_, note)| note.drawn_rect_now().overlaps(band))
        .map(|(id, _)| id)
        .collect()
}

/// Moves every selected note by `(dx, dy)` in one transaction.
pub fn nudge(store: &Store, selected: &HashSet<NoteId>, dx: f64, dy: f64) {
    let moves: Vec<_> = selected
        .iter()
        .filter_map(|id| {
            let r = store.note(id)?.drawn_rect_now();
            Some((id.clone(), r.x + dx, r.y + dy))
        })
        .collect();
    store.write(|board, txn| {
        for (id, x, y) in &moves {
            store.place(board, txn, id, *x, *y);
        }
    });
}

/// Leaves the text field being typed in, keeping the focus on its note (the card in the
/// list, the note's group on the canvas) when it is one of a note's.
fn leave_field() {
    use wasm_bindgen::JsCast;
    let active = document().active_element();
    let note = active
        .as_ref()
        .and_then(|a| a.closest(".list-card, .note").ok().flatten());
    dom::blur_active();
    let Some(note) = note else {
        return;
    };
    request_animation_frame(move || {
        let target = note
            .query_selector(".list-card-body")
            .ok()
            .flatten()
            .or_else(|| note.query_selector(".note-content").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = target {
            let _ = el.focus();
        }
    });
}

/// The board's keys for the selection; text fields keep their keys, except Escape,
/// which leaves the field.
pub fn shortcuts(store: Store, ui: Selection) {
    let _ = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if dom::typing_in(&ev) {
            if ev.key() == "Escape" {
                leave_field();
            }
            return;
        }
        let selected = ui.selected.get_untracked();
        let step = if ev.shift_key() { NUDGE_FAR } else { NUDGE };
        match ev.key().as_str() {
            "Escape" => ui.selected.set(HashSet::new()),
            _ if selected.is_empty() => return,
            "ArrowLeft" => nudge(&store, &selected, -step, 0.0),
            "ArrowRight" => nudge(&store, &selected, step, 0.0),
            "ArrowUp" => nudge(&store, &selected, 0.0, -step),
            "ArrowDown" => nudge(&store, &selected, 0.0, step),
            "Delete" | "Backspace" => {
                store.write(|board, txn| {
                    for id in &selected {
                        board.delete_note(txn, id);
                    }
                });
                ui.selected.set(HashSet::new());
            }
            "Enter" if selected.len() == 1 => ui.focus.set(selected.into_iter().next()),
            _ => return,
        }
        ev.prevent_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_span_any_two_corners_and_touching_is_enough() {
        let band = span((300.0, 50.0), (100.0, 250.0));
        assert_eq!(band, Rect::new(100.0, 50.0, 200.0, 200.0));
        assert!(band.overlaps(&Rect::new(290.0, 240.0, 200.0, 140.0)));
        assert!(!band.overlaps(&Rect::new(300.0, 0.0, 200.0, 140.0)));
        assert!(!band.overlaps(&Rect::new(0.0, 250.0, 100.0, 140.0)));
    }
}
