//! Who else is here: publishing our own presence (name, colour, cursor, the note we are
//! working on) and drawing everyone else's, as the participant list, live cursors and
//! the outline on a note someone else is editing.
//!
//! Our presence is sent from a 50 ms tick that compares it with what was last sent, which
//! both throttles cursor traffic and guarantees the final position is delivered. What
//! arrives is split by the provider (`sync::presence_views`): cursors reach only the
//! cursor layer, the participant list changes only when people come, go or rename, and
//! who edits which note reaches only the notes entering or leaving that map.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hindsight_shared::presence::{cursor_color, Presence, PresenceUser};
use leptos::prelude::*;

use crate::context::{Identity, Pointer, Selection, View};
use crate::provider::Provider;
use crate::store::Store;

const SEND_EVERY: Duration = Duration::from_millis(50);

/// Keeps our awareness state in step with the local UI signals.
pub fn publish(provider: Provider, identity: Identity, pointer: Pointer, selection: Selection) {
    let color = cursor_color(provider.client_id()).to_owned();
    let last: Rc<RefCell<Option<Presence>>> = Rc::default();
    set_interval(
        move || {
            let name = identity.name.get_untracked();
            if name.trim().is_empty() {
                return;
            }
            let presence = Presence {
                user: PresenceUser {
                    name,
                    color: color.clone(),
                },
                cursor: pointer.0.get_untracked(),
                editing: selection.editing.get_untracked().map(|id| id.to_string()),
                moving: selection.moving.get_untracked().map(|id| id.to_string()),
            };
            if last.borrow().as_ref() != Some(&presence) {
                provider.set_presence(&presence);
                *last.borrow_mut() = Some(presence);
            }
        },
        SEND_EVERY,
    );
}

/// Shows on each note who else is editing it, whenever that changes.
pub fn show_editors(provider: &Provider, store: Store, selection: Selection) {
    let editors = provider.editors();
    {
        let store = store.clone();
        Effect::new(move |_| store.set_editors(editors.get()));
    }
    // The notes anyone is dragging, this person included, grow no region while they move.
    let moving = provider.moving();
    Effect::new(move |_| {
        let mut all = moving.get();
        all.extend(selection.moving.get());
        store.set_moving(all);
    });
}

#[component]
pub fn Participants() -> impl IntoView {
    let provider = expect_context::<Provider>();
    let identity = expect_context::<Identity>();
    let participants = provider.participants();
    view! {
        <ul id="participants" class="participants" aria-label="People on this board">
            <For
                each=move || participants.get()
                key=|p| (p.client_id, p.name.clone(), p.color.clone())
                let(peer)
            >
                <li class:me=peer.me title=peer.name.clone()>
                    <span class="dot" style:background=peer.color.clone()></span>
                    {if peer.me {
                        view! {
                            <button
                                class="name me-name"
                                title="Change your name"
                                on:click=move |_| identity.renaming.set(true)
                            >
                                {peer.name.clone()}
                                " (you)"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! { <span class="name">{peer.name.clone()}</span> }.into_any()
                    }}
                </li>
            </For>
        </ul>
    }
}

/// Other people's cursors, drawn in world coordinates but kept the same size on screen.
#[component]
pub fn Cursors() -> impl IntoView {
    let provider = expect_context::<Provider>();
    let view_ctx = expect_context::<View>();
    let cursors = provider.cursors();
    view! {
        <For
            each=move || cursors.with(|cs| cs.iter().map(|c| c.client_id).collect::<Vec<_>>())
            key=|id| *id
            let(client_id)
        >
            {
                let cursor = Memo::new(move |_| {
                    cursors.with(|cs| cs.iter().find(|c| c.client_id == client_id).cloned())
                });
                let color = move || cursor.with(|c| c.as_ref().map(|c| c.color.clone()));
                let name = move || cursor.with(|c| c.as_ref().map(|c| c.name.clone()));
                view! {
                    <div
                        class="cursor"
                        style:transform=move || {
                            let (x, y) = cursor
                                .with(|c| c.as_ref().map(|c| (c.at.x, c.at.y)))
                                .unwrap_or_default();
                            format!(
                                "translate({x}px, {y}px) scale({})",
                                1.0 / view_ctx.camera.with(|c| c.zoom),
                            )
                        }
                        style:color=color
                    >
                        <svg class="cursor-arrow" viewBox="0 0 16 20" aria-hidden="true">
                            <path d="M1 1 L1 16 L5 12.5 L8 19 L10.6 17.8 L7.7 11.5 L13 11.5 Z" />
                        </svg>
                        <span class="cursor-name" style:background=color>
                            {name}
                        </span>
                    </div>
                }
            }
        </For>
    }
}
