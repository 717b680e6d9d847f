//! Unsaved changes: the copy of the board this browser keeps while the server has not
//! stored all of its changes, and the indicator that says honestly where they are.
//!
//! While local changes are unacknowledged, the whole document (a v1 update, base64) and
//! their count are kept in localStorage under the board's id, written 300 ms after the
//! last change and when the page goes away. A page that loads with such a copy applies
//! it before anything renders or connects, so an offline reload shows and keeps every
//! edit; the next connection's sync step 2 carries it to the server. Once the server has
//! acknowledged everything, the copy is removed. This module never decides what is saved:
//! the count comes from the provider, which only trusts the server's `SAVED`.

use std::time::Duration;

use hindsight_shared::BoardId;
use leptos::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::dom;
use crate::history::LOCAL;
use crate::notes::set_if_changed;
use crate::provider::Provider;
use crate::sync::Connection;

/// Quiet time after a change before the copy is written.
const DEBOUNCE: Duration = Duration::from_millis(300);

fn doc_key(id: BoardId) -> String {
    format!("hindsight.unsaved.{id}")
}

fn count_key(id: BoardId) -> String {
    format!("hindsight.unsaved-count.{id}")
}

/// Applies the copy left by an earlier page, if any, and returns how many of its changes
/// were not acknowledged. Call before anything else reads `doc`.
pub fn restore(doc: &Doc, id: BoardId) -> u64 {
    let Some(bytes) = dom::load(&doc_key(id)).and_then(|s| dom::from_base64(&s)) else {
        return 0;
    };
    // An unreadable copy (from a broken browser profile, say) is left alone.
    let Ok(update) = Update::decode_v1(&bytes) else {
        return 0;
    };
    if doc.transact_mut_with(LOCAL).apply_update(update).is_err() {
        return 0;
    }
    dom::load(&count_key(id))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn write(doc: &Doc, id: BoardId, pending: u64) {
    let state = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    dom::save(&doc_key(id), &dom::to_base64(&state));
    dom::save(&count_key(id), &pending.to_string());
}

/// Keeps the local copy in step with the provider's count of unacknowledged changes.
pub fn keep(doc: Doc, id: BoardId, pending: RwSignal<u64>) {
    // Bumped per change, so only the last scheduled write runs.
    let generation = StoredValue::new(0u32);
    let on_change = doc.clone();
    Effect::new(move |_| {
        let n = pending.get();
        generation.update_value(|g| *g = g.wrapping_add(1));
        if n == 0 {
            dom::remove(&doc_key(id));
            dom::remove(&count_key(id));
            return;
        }
        let mine = generation.get_value();
        let doc = on_change.clone();
        set_timeout(
            move || {
                let n = pending.get_untracked();
                if generation.get_value() == mine && n > 0 {
                    write(&doc, id, n);
                }
            },
            DEBOUNCE,
        );
    });
    window_event_listener_untyped("pagehide", move |_| {
        let n = pending.get_untracked();
        if n > 0 {
            write(&doc, id, n);
        }
    });
}

/// `(data-state, text)` of the save indicator.
pub fn save_state(connection: &Connection, pending: u64) -> (&'static str, String) {
    match (connection, pending) {
        (_, 0) => ("saved", "All changes saved".into()),
        (Connection::Connected, _) => ("saving", "Saving…".into()),
        (_, 1) => ("offline", "Offline — 1 change not yet saved".into()),
        (_, n) => ("offline", format!("Offline — {n} changes not yet saved")),
    }
}

/// How long everything must have been saved before the indicator says so again. During a
/// stream of changes (typing, a drag) each one is saved within milliseconds; without this
/// the indicator would flip with every change, redrawing the header and announcing
/// itself each time.
const SAVED_AFTER: Duration = Duration::from_millis(600);

#[component]
pub fn SaveState() -> impl IntoView {
    let provider = expect_context::<Provider>();
    let (status, pending) = (provider.status(), provider.pending());
    let now = Memo::new(move |_| status.with(|s| save_state(s, pending.get())));
    // What the indicator shows: `now`, except that "saved" waits until it has lasted.
    // It never says saved while anything is unsaved.
    let state = RwSignal::new(now.get_untracked());
    let generation = StoredValue::new(0u32);
    Effect::new(move |_| {
        let latest = now.get();
        generation.update_value(|g| *g = g.wrapping_add(1));
        if latest.0 != "saved" {
            set_if_changed(state, latest);
            return;
        }
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() == mine {
                    set_if_changed(state, now.get_untracked());
                }
            },
            SAVED_AFTER,
        );
    });
    view! {
        <span
            id="save-state"
            class="save-state"
            data-state=move || state.with(|s| s.0)
        >
            {move || state.with(|s| s.1.clone())}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_only_when_nothing_is_pending() {
        let check = |connection: Connection, pending, expected: (&str, &str)| {
            let (state, text) = save_state(&connection, pending);
            assert_eq!((state, text.as_str()), expected, "{connection:?} {pending}");
        };
        check(Connection::Connected, 0, ("saved", "All changes saved"));
        check(Connection::Connected, 3, ("saving", "Saving…"));
        check(
            Connection::Connecting,
            2,
            ("offline", "Offline — 2 changes not yet saved"),
        );
        check(
            Connection::Offline,
            1,
            ("offline", "Offline — 1 change not yet saved"),
        );
    }
}
