//! Counters of the reactive work done for each note, for browser tests that prove a
//! change to one note re-runs nothing of any other (and that a moving cursor re-runs
//! nothing of any note). Off unless the page was opened with `debug=counters` in its
//! query; then every tracked read of a note's signals (see `notes.rs`) and every run of
//! a note's effects adds one to `window.__hindsightCounts[noteId][part]`.
//!
//! Counting costs one branch on a thread-local flag when it is off, and nothing is
//! counted in native unit tests.

use std::cell::Cell;

use hindsight_shared::NoteId;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// Turns counting on if the page's URL asks for it. Call once, before any note renders.
pub fn init() {
    #[cfg(target_arch = "wasm32")]
    {
        let search = leptos::prelude::window()
            .location()
            .search()
            .unwrap_or_default();
        let asked = search
            .trim_start_matches('?')
            .split('&')
            .any(|pair| pair == "debug=counters");
        if asked {
            let counts = js_sys::Object::new();
            let _ = js_sys::Reflect::set(
                &leptos::prelude::window(),
                &"__hindsightCounts".into(),
                &counts,
            );
            ON.with(|on| on.set(true));
        }
    }
}

pub fn counting() -> bool {
    ON.with(Cell::get)
}

/// Adds one to the counter of `part` of note `id`.
pub fn count(id: &NoteId, part: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use js_sys::Reflect;
        use wasm_bindgen::JsValue;
        let window = leptos::prelude::window();
        let Ok(counts) = Reflect::get(&window, &"__hindsightCounts".into()) else {
            return;
        };
        let key = JsValue::from_str(id.as_str());
        let note = match Reflect::get(&counts, &key) {
            Ok(note) if note.is_object() => note,
            _ => {
                let note: JsValue = js_sys::Object::new().into();
                let _ = Reflect::set(&counts, &key, &note);
                note
            }
        };
        let part = JsValue::from_str(part);
        let n = Reflect::get(&note, &part)
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let _ = Reflect::set(&note, &part, &JsValue::from_f64(n + 1.0));
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (id, part);
}
