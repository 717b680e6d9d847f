//! Instruments for tests and benchmarks, off unless the page's URL asks for them:
//!
//! - `debug=counters`: counters of the reactive work done for each note, for browser
//!   tests that prove a change to one note re-runs nothing of any other (and that a
//!   moving cursor re-runs nothing of any note). Every tracked read of a note's signals
//!   (see `notes.rs`) adds one to `window.__hindsightCounts[noteId][part]`.
//! - `debug=timing`: the milliseconds spent handling messages from the server, added up
//!   in `window.__hindsightBusy`, which a page's own event timing cannot see (the
//!   benchmark adds it to each frame's work).
//!
//! Either also exposes `window.__hindsightNoteRects()`, where every note is drawn on
//! screen (`overview.rs`), since the overview draws most notes on a canvas.
//!
//! Either costs one branch on a thread-local flag when it is off; nothing is counted in
//! native unit tests. Independently of both, the page marks `hindsight:first-note` in
//! the performance timeline once its first notes have been painted.

use std::cell::Cell;

use hindsight_shared::NoteId;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static TIMING: Cell<bool> = const { Cell::new(false) };
}

/// Turns counting on if the page's URL asks for it. Call once, before any note renders.
pub fn init() {
    #[cfg(target_arch = "wasm32")]
    {
        let search = leptos::prelude::window()
            .location()
            .search()
            .unwrap_or_default();
        let asked = |what: &str| {
            search
                .trim_start_matches('?')
                .split('&')
                .any(|pair| pair == format!("debug={what}"))
        };
        if asked("timing") {
            let _ = js_sys::Reflect::set(
                &leptos::prelude::window(),
                &"__hindsightBusy".into(),
                &0.0.into(),
            );
            TIMING.with(|on| on.set(true));
        }
        if asked("counters") {
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

/// Whether any instrument is on.
pub fn enabled() -> bool {
    ON.with(Cell::get) || TIMING.with(Cell::get)
}

pub fn counting() -> bool {
    ON.with(Cell::get)
}

/// Runs `f`, adding the time it took to `window.__hindsightBusy` when timing is on.
pub fn timed<R>(f: impl FnOnce() -> R) -> R {
    if !TIMING.with(Cell::get) {
        return f();
    }
    #[cfg(target_arch = "wasm32")]
    {
        use js_sys::Reflect;
        let window = leptos::prelude::window();
        let now = || window.performance().map_or(0.0, |p| p.now());
        let started = now();
        let result = f();
        let spent = now() - started;
        let busy = Reflect::get(&window, &"__hindsightBusy".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let _ = Reflect::set(&window, &"__hindsightBusy".into(), &(busy + spent).into());
        result
    }
    #[cfg(not(target_arch = "wasm32"))]
    f()
}

/// Marks `hindsight:first-note` in the performance timeline after the next two frames,
/// that is once what is on the page now has been painted.
pub fn mark_first_paint() {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let window = leptos::prelude::window();
        let second = Closure::once_into_js(|| {
            if let Some(performance) = leptos::prelude::window().performance() {
                let _ = performance.mark("hindsight:first-note");
            }
        });
        let first = Closure::once_into_js(move || {
            let _ = leptos::prelude::window().request_animation_frame(second.unchecked_ref());
        });
        let _ = window.request_animation_frame(first.unchecked_ref());
    }
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
