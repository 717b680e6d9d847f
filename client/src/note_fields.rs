//! The small fields a note grows depending on where it is: time and kind on the
//! timeline, owner and due date on actions, the link between an action and the idea it
//! came from, and dot votes on every note.
//!
//! Each field reads only its own value from the note's handle, so a change to another
//! field (or another note) never touches it; text fields are `LiveInput`s, which never
//! drop what someone is typing.

use hindsight_shared::timeline::EntryKind;
use hindsight_shared::timestamp::{Date, Timestamp};
use hindsight_shared::{NoteId, Role};
use leptos::prelude::*;

use crate::camera::Camera;
use crate::context::{Toasts, View};
use crate::field::LiveInput;
use crate::notes::NoteHandle;
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

/// Centres the note `id` where it is drawn, keeping the zoom.
fn pan_to(store: &Store, view: View, toasts: Toasts, id: &NoteId) {
    let Some(note) = store.note(id) else {
        toast::show(toasts, "That note no longer exists.");
        return;
    };
    let rect = note.drawn_rect_now();
    let (w, h) = view.viewport.get_untracked();
    let zoom = view.camera.with_untracked(|c| c.zoom);
    let (cx, cy) = (rect.x + rect.w / 2.0, rect.y + rect.h / 2.0);
    view.camera.set(Camera::centred_on(cx, cy, zoom, w, h));
}

/// Time and kind of a timeline entry.
#[component]
pub fn TimelineFields(id: NoteId, note: NoteHandle) -> impl IntoView {
    let store = expect_context::<Store>();
    let read_only = store.read_only;
    let settings = store.settings;
    let time = Memo::new(move |_| note.with_fields(|f| f.time));
    let kind = Memo::new(move |_| note.with_fields(|f| f.kind));
    let shown = Signal::derive(move || {
        let ctx = settings.with(|s| s.time);
        time.get().map(|t| t.display(ctx)).unwrap_or_default()
    });
    let commit = {
        let (id, store) = (id.clone(), store.clone());
        Callback::new(move |text: String| {
            let text = text.trim();
            let parsed = if text.is_empty() {
                Ok(None)
            } else {
                let ctx = store.read(|board, txn| board.time_context(txn));
                Timestamp::parse(text, ctx).map(Some)
            };
            let time = parsed.map_err(|e| e.to_string())?;
            store.write(|board, txn| board.set_note_time(txn, &id, time));
            Ok(())
        })
    };
    let on_kind = {
        let (id, store) = (id.clone(), store.clone());
        move |ev| {
            let kind = EntryKind::from_name(&event_target_value(&ev));
            store.write(|board, txn| board.set_note_kind(txn, &id, kind));
        }
    };
    let kinds = move || {
        let current = kind.get();
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
            <LiveInput
                class="note-time"
                value=shown
                commit=commit
                live=false
                placeholder="14:03"
                label="When it happened"
                in_note=true
                title="A time like 14:03, 14:03:22 or 2026-11-20 14:03"
                maxlength=40
                disabled=read_only
            />
            <select class="note-kind" tabindex="-1" aria-label="Kind of entry" on:change=on_kind prop:disabled=read_only>
                {kinds}
            </select>
        </div>
    }
}

/// Owner and due date of an action, and what it still lacks.
#[component]
pub fn ActionFields(id: NoteId, note: NoteHandle) -> impl IntoView {
    let store = expect_context::<Store>();
    let read_only = store.read_only;
    let owner = Memo::new(move |_| note.with_fields(|f| f.owner.clone().unwrap_or_default()));
    let due = Memo::new(move |_| note.with_fields(|f| f.due));
    let missing = Memo::new(move |_| note.with_fields(|f| f.missing()));
    let commit_owner = {
        let (id, store) = (id.clone(), store.clone());
        Callback::new(move |owner: String| {
            store.write(|board, txn| board.set_owner(txn, &id, &owner));
            Ok(())
        })
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
            <LiveInput
                class="note-owner"
                value=owner
                commit=commit_owner
                placeholder="Owner"
                label="Owner"
                in_note=true
                maxlength=100
                disabled=read_only
            />
            <input
                prop:disabled=read_only
                class="note-due"
                tabindex="-1"
                type="date"
                aria-label="Due date"
                prop:value=move || due.get().map(|d| d.to_string()).unwrap_or_default()
                on:change=on_due
            />
        </div>
        {move || missing.get().map(|m| view! { <div class="note-warning" role="note">{m}</div> })}
    }
}

/// "From: …" on an action made from an idea; clicking it shows the idea.
#[component]
pub fn SourceLink(source: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let view_ctx = expect_context::<View>();
    let toasts = expect_context::<Toasts>();
    let text = {
        let (store, source) = (store.clone(), source.clone());
        move || {
            // The idea's handle exists once the idea has synced; until then, no text.
            store.indexed.ids.track();
            store
                .note(&source)
                .map(|n| n.with_text(str::to_owned))
                .unwrap_or_default()
        }
    };
    view! {
        <button
            class="note-source"
            tabindex="-1"
            title="Show the idea this action came from"
            on:click=move |_| pan_to(&store, view_ctx, toasts, &source)
        >
            {move || source_label(&text())}
        </button>
    }
}

/// The badge on an idea that was turned into an action; clicking it shows the action.
#[component]
pub fn ActionLink(action: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let view_ctx = expect_context::<View>();
    let toasts = expect_context::<Toasts>();
    view! {
        <button
            class="note-action-link"
            tabindex="-1"
            title="This idea is an action now; show it"
            on:click=move |_| pan_to(&store, view_ctx, toasts, &action)
        >
            "→ Action"
        </button>
    }
}

/// The vote count and this person's vote buttons.
#[component]
pub fn Votes(id: NoteId, note: NoteHandle) -> impl IntoView {
    let store = expect_context::<Store>();
    let toasts = expect_context::<Toasts>();
    let voter = store.voter().to_owned();
    let counts = Memo::new(move |_| {
        note.with_votes(|v| (v.values().sum::<u32>(), v.get(&voter).copied().unwrap_or(0)))
    });
    let total = move || counts.get().0;
    let mine = move || counts.get().1;
    let vote = {
        let (id, store) = (id.clone(), store.clone());
        move |_| {
            let voter = store.voter().to_owned();
            let refused = store.write(|board, txn| board.vote(txn, &id, &voter).err());
            if let Some(e) = refused {
                toast::show(toasts, capitalise(&e.to_string()));
            }
        }
    };
    let unvote = move |_| {
        let voter = store.voter().to_owned();
        store.write(|board, txn| board.unvote(txn, &id, &voter));
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
            <button class="note-vote" tabindex="-1" title="Vote for this note" aria-label="Vote" on:click=vote>
                "+"
            </button>
            <Show when={move || mine() > 0}>
                <button
                    class="note-unvote"
                    tabindex="-1"
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

/// The fields a note's region gives it, as its role changes: time and kind on the
/// timeline, owner and due date among the actions, none elsewhere.
pub fn role_fields(
    id: NoteId,
    note: NoteHandle,
    role: Memo<Option<Role>>,
) -> impl Fn() -> AnyView + Clone {
    move || match role.get() {
        Some(Role::Timeline) => view! { <TimelineFields id=id.clone() note=note /> }.into_any(),
        Some(Role::Actions) => view! { <ActionFields id=id.clone() note=note /> }.into_any(),
        _ => ().into_any(),
    }
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
