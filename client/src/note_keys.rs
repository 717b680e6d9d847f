//! The keyboard on a note, the same on the canvas and in the list: each note is one Tab
//! stop (its controls are out of the page's Tab order), so Tab goes from note to note.
//! On a note, Enter goes into it, to its text; inside, Tab and Shift+Tab go round the
//! note's own controls and Escape comes back out to the note. What else a key does on
//! a note (move it, delete it, go to the next card) depends on the view and is left to
//! the caller.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};

/// The notes' focusable groups on the canvas...
pub const CANVAS_NOTES: &str = ".note-content";
/// ...and in the list.
pub const LIST_NOTES: &str = ".list-card-body";

/// What a note's controls are; each carries `tabindex="-1"` so Tab passes them by.
const CONTROLS: &str = "button, input, select, textarea, a[href], [tabindex]";

/// A key on the note itself (not on one of its controls) that the view acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnNote {
    Delete,
    /// An arrow: `(dx, dy)` of -1, 0 or 1, and whether Shift was held.
    Arrow(i8, i8, bool),
}

/// Handles `ev`, a key pressed on the note `ev`'s listener is on (its focusable group)
/// or inside it. Enter, Tab and Escape are dealt with here; what is returned is for the
/// view to do.
pub fn keydown(ev: &KeyboardEvent) -> Option<OnNote> {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return None;
    }
    let group = ev
        .current_target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())?;
    let active = web_sys::window()?.document()?.active_element()?;
    let on_note = active == *group;
    match ev.key().as_str() {
        "Enter" if on_note => {
            let text = group
                .query_selector(".note-text")
                .ok()
                .flatten()
                .or_else(|| controls(&group).into_iter().next().map(Into::into));
            if let Some(el) = text.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
                ev.prevent_default();
                let _ = el.focus();
            }
            None
        }
        "Tab" if !on_note => {
            let inside = controls(&group);
            let at = inside.iter().position(|c| **c == active);
            if let Some(at) = at {
                let n = inside.len();
                let next = if ev.shift_key() {
                    (at + n - 1) % n
                } else {
                    (at + 1) % n
                };
                ev.prevent_default();
                let _ = inside[next].focus();
            }
            None
        }
        "Escape" if !on_note => {
            // Out of a text field, a menu or a button, back to the note; nothing else
            // hears this Escape (it would clear the selection too).
            ev.prevent_default();
            ev.stop_propagation();
            let _ = group.focus();
            None
        }
        "Delete" | "Backspace" if on_note => Some(OnNote::Delete),
        key if on_note => {
            let (dx, dy) = match key {
                "ArrowLeft" => (-1, 0),
                "ArrowRight" => (1, 0),
                "ArrowUp" => (0, -1),
                "ArrowDown" => (0, 1),
                _ => return None,
            };
            Some(OnNote::Arrow(dx, dy, ev.shift_key()))
        }
        _ => None,
    }
}

/// The note's controls that can take the focus now, in the page's order.
fn controls(group: &HtmlElement) -> Vec<HtmlElement> {
    let Ok(found) = group.query_selector_all(CONTROLS) else {
        return Vec::new();
    };
    (0..found.length())
        .filter_map(|i| found.item(i)?.dyn_into::<HtmlElement>().ok())
        .filter(|el| {
            let drawn = el.get_bounding_client_rect();
            !el.matches(":disabled").unwrap_or(true)
                && (drawn.width() > 0.0 || drawn.height() > 0.0)
        })
        .collect()
}

/// The note before or after `group` among the notes matched by `selector` (in the
/// page's order), focused; whether there was one.
pub fn focus_neighbour(group: &Element, selector: &str, forward: bool) -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Ok(all) = document.query_selector_all(selector) else {
        return false;
    };
    let groups: Vec<HtmlElement> = (0..all.length())
        .filter_map(|i| all.item(i)?.dyn_into::<HtmlElement>().ok())
        .collect();
    let Some(at) = groups.iter().position(|g| **g == *group) else {
        return false;
    };
    let next = if forward {
        groups.get(at + 1)
    } else {
        at.checked_sub(1).and_then(|i| groups.get(i))
    };
    next.is_some_and(|g| g.focus().is_ok())
}
