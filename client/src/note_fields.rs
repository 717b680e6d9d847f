//! The small fields a note grows depending on where it is: time and kind on the
//! timeline, owner and due date on actions, the link between an action and the idea it
//! came from, and dot votes on every note.
//!
//! Each field writes through the shared board API on `change` (not on every keystroke):
//! these are short values people replace, not co-edit.

use hindsight_shared::actions::missing;
use hindsight_shared::timeline::EntryKind;
use hindsight_shared::timestamp::{Date, Timestamp};
use hindsight_shared::{NoteData, NoteId};
use leptos::html::Input;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::board::Ui;
use crate::camera::Camera;
use crate::store::Store;
use crate::toast;

/// How much of an idea's text an action shows as its source.
const SOURCE_CHARS: usize = 40;

/// "From: " and the start of the idea's text.
pub fn source_label(text: &str) -> String {
    let text = text.trim();
    let mut short: String = text.chars().take(SOURCE_CHARS).collect();
    if text.chars().count() > SOURCE_CHARS {
        short = format!("{}…", short.trim_end());
    }
    format!("From: {short}")
}

/// Centres the note `id` in the viewport, keeping the zoom.
fn pan_to(store: &Store, ui: Ui, id: &NoteId) {
    let Some(rect) = store.rect(id) else {
        toast::show(ui, "That note no longer exists.");
        return;
    };
    let (w, h) = ui.viewport.get_untracked();
    let zoom = ui.camera.with_untracked(|c| c.zoom);
    let (cx, cy) = (rect.x + rect.w / 2.0, rect.y + rect.h / 2.0);
    // A timeline note is drawn at its slot, not at its stored position.
    let (cx, cy) = store
        .timeline_slots
        .with_untracked(|s| s.get(id).copied())
        .map_or((cx, cy), |(x, y)| (x + rect.w / 2.0, y + rect.h / 2.0));
    ui.camera.set(Camera::centred_on(cx, cy, zoom, w, h));
}

/// Time and kind of a timeline entry.
#[component]
pub fn TimelineFields(id: NoteId, data: RwSignal<NoteData>) -> impl IntoView {
    let store = expect_context::<Store>();
    let read_only = store.read_only;
    let settings = store.settings;
    let error = RwSignal::new(None::<String>);
    let input = NodeRef::<Input>::new();
    let shown = move || {
        let ctx = settings.with(|s| s.time);
        data.with(|n| n.time.map(|t| t.display(ctx)))
            .unwrap_or_default()
    };

    let commit = {
        let (id, store) = (id.clone(), store.clone());
        move || {
            let Some(el) = input.get_untracked() else {
                return;
            };
            let text = el.value();
            let text = text.trim();
            let parsed = if text.is_empty() {
                Ok(None)
            } else {
                let ctx = store.read(|board, txn| board.time_context(txn));
                Timestamp::parse(text, ctx).map(Some)
            };
            match parsed {
                Ok(time) => {
                    error.set(None);
                    store.write(|board, txn| board.set_note_time(txn, &id, time));
                    // Show it the way the board writes it, even if the text was equivalent.
                    el.set_value(&shown());
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    };
    let on_key = {
        let commit = commit.clone();
        move |ev: KeyboardEvent| {
            if ev.key() == "Enter" {
                ev.prevent_default();
                commit();
            }
        }
    };
    let on_kind = {
        let (id, store) = (id.clone(), store.clone());
        move |ev| {
            let kind = EntryKind::from_name(&event_target_value(&ev));
            store.write(|board, txn| board.set_note_kind(txn, &id, kind));
        }
    };
    let kinds = move || {
        let current = data.with(|n| n.kind);
        std::iter::once(view! { <option value="" selected=current.is_none()>"Kind…"</option> })
            .chain(EntryKind::ALL.into_iter().map(|k| {
                view! {
                    <option value=k.as_str() selected=current == Some(k)>{k.label()}</option>
                }
            }))
            .collect_view()
    };

    view! {
        <div class="note-fields">
            <input
                prop:disabled=read_only
                class="note-time"
                node_ref=input
                type="text"
                placeholder="14:03"
                aria-label="When it happened"
                title="A time like 14:03, 14:03:22 or 2026-11-20 14:03"
                class:invalid=move || error.with(Option::is_some)
                prop:value=shown
                on:change=move |_| commit()
                on:keydown=on_key
            />
            <select class="note-kind" aria-label="Kind of entry" on:change=on_kind prop:disabled=read_only>
                {kinds}
            </select>
        </div>
        {move || error.get().map(|e| view! { <div class="note-time-error" role="alert">{e}</div> })}
    }
}

/// Owner and due date of an action, and what it still lacks.
#[component]
pub fn ActionFields(id: NoteId, data: RwSignal<NoteData>) -> impl IntoView {
    let store = expect_context::<Store>();
    let read_only = store.read_only;
    let on_owner = {
        let (id, store) = (id.clone(), store.clone());
        move |ev| {
            let owner = event_target_value(&ev);
            store.write(|board, txn| board.set_owner(txn, &id, &owner));
        }
    };
    let on_due = {
        let (id, store) = (id.clone(), store.clone());
        move |ev| {
            let due = Date::parse(&event_target_value(&ev)).ok();
            store.write(|board, txn| board.set_due(txn, &id, due));
        }
    };
    view! {
        <div class="note-fields">
            <input
                prop:disabled=read_only
                class="note-owner"
                type="text"
                maxlength="100"
                placeholder="Owner"
                aria-label="Owner"
                prop:value=move || data.with(|n| n.owner.clone().unwrap_or_default())
                on:change=on_owner
            />
            <input
                prop:disabled=read_only
                class="note-due"
                type="date"
                aria-label="Due date"
                prop:value=move || data.with(|n| n.due.map(|d| d.to_string()).unwrap_or_default())
                on:change=on_due
            />
        </div>
        {move || data.with(missing).map(|m| view! { <div class="note-warning" role="note">{m}</div> })}
    }
}

/// "From: …" on an action made from an idea; clicking it shows the idea.
#[component]
pub fn SourceLink(source: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let ui = expect_context::<Ui>();
    let text = {
        let (store, source) = (store.clone(), source.clone());
        move || {
            // The idea's signal exists once the idea has synced; until then, no text.
            store.ids.track();
            store
                .note(&source)
                .map(|s| s.with(|n| n.text.clone()))
                .unwrap_or_default()
        }
    };
    view! {
        <button
            class="note-source"
            title="Show the idea this action came from"
            on:click=move |_| pan_to(&store, ui, &source)
        >
            {move || source_label(&text())}
        </button>
    }
}

/// The badge on an idea that was turned into an action; clicking it shows the action.
#[component]
pub fn ActionLink(action: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let ui = expect_context::<Ui>();
    view! {
        <button
            class="note-action-link"
            title="This idea is an action now; show it"
            on:click=move |_| pan_to(&store, ui, &action)
        >
            "→ Action"
        </button>
    }
}

/// The vote count and this person's vote buttons.
#[component]
pub fn Votes(id: NoteId, data: RwSignal<NoteData>) -> impl IntoView {
    let store = expect_context::<Store>();
    let ui = expect_context::<Ui>();
    let total = move || data.with(|n| n.total_votes());
    let mine = move || {
        ui.voter
            .with_value(|v| data.with(|n| n.votes.get(v).copied().unwrap_or(0)))
    };
    let vote = {
        let (id, store) = (id.clone(), store.clone());
        move |_| {
            let refused = ui
                .voter
                .with_value(|v| store.write(|board, txn| board.vote(txn, &id, v).err()));
            if let Some(e) = refused {
                toast::show(ui, capitalise(&e.to_string()));
            }
        }
    };
    let unvote = move |_| {
        ui.voter
            .with_value(|v| store.write(|board, txn| board.unvote(txn, &id, v)));
    };
    view! {
        <div class="note-voting" class:voted={move || mine() > 0}>
            <span
                class="note-votes"
                class:zero=move || total() == 0
                title=move || format!("{} votes, {} of them yours", total(), mine())
            >
                {total}
            </span>
            <button class="note-vote" title="Vote for this note" aria-label="Vote" on:click=vote>
                "+"
            </button>
            <Show when={move || mine() > 0}>
                <button
                    class="note-unvote"
                    title="Take one of your votes back"
                    aria-label="Take a vote back"
                    on:click=unvote.clone()
                >
                    "−"
                </button>
            </Show>
        </div>
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_labels_are_short() {
        assert_eq!(source_label("  Canary deploys "), "From: Canary deploys");
        let long = "x".repeat(50);
        assert_eq!(source_label(&long), format!("From: {}…", "x".repeat(40)));
        assert_eq!(capitalise("all 5 of your votes"), "All 5 of your votes");
    }
}
