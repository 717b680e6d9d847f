//! Who else is here: publishing our own presence (name, colour, cursor, the note we are
//! working on) and drawing everyone else's, as the participant list and live cursors.
//!
//! Our presence is sent from a 50 ms tick that compares it with what was last sent, which
//! both throttles cursor traffic and guarantees the final position is delivered.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hindsight_shared::presence::{cursor_color, Point, Presence, PresenceUser};
use leptos::prelude::*;

use crate::board::Ui;
use crate::provider::{Peer, Provider};

const SEND_EVERY: Duration = Duration::from_millis(50);

/// Keeps our awareness state in step with the local UI signals.
pub fn publish(provider: Provider, ui: Ui) {
    let color = cursor_color(provider.client_id()).to_owned();
    let last: Rc<RefCell<Option<Presence>>> = Rc::default();
    set_interval(
        move || {
            let name = ui.name.get_untracked();
            if name.trim().is_empty() {
                return;
            }
            let presence = Presence {
                user: PresenceUser {
                    name,
                    color: color.clone(),
                },
                cursor: ui.cursor.get_untracked(),
                editing: ui.editing.get_untracked().map(|id| id.to_string()),
            };
            if last.borrow().as_ref() != Some(&presence) {
                provider.set_presence(&presence);
                *last.borrow_mut() = Some(presence);
            }
        },
        SEND_EVERY,
    );
}

/// The colour of whoever else is editing or dragging the note, if anyone.
pub fn editor_color(peers: &[Peer], note_id: &str) -> Option<String> {
    peers
        .iter()
        .find(|p| !p.me && p.presence.editing.as_deref() == Some(note_id))
        .map(|p| p.presence.user.color.clone())
}

#[component]
pub fn Participants() -> impl IntoView {
    let provider = expect_context::<Provider>();
    let ui = expect_context::<Ui>();
    let peers = provider.peers();
    view! {
        <ul id="participants" class="participants" aria-label="People on this board">
            <For
                each=move || peers.get()
                key=|p| (p.client_id, p.presence.user.name.clone(), p.presence.user.color.clone())
                let(peer)
            >
                <li class:me=peer.me title=peer.presence.user.name.clone()>
                    <span class="dot" style:background=peer.presence.user.color.clone()></span>
                    {if peer.me {
                        view! {
                            <button
                                class="name me-name"
                                title="Change your name"
                                on:click=move |_| ui.renaming.set(true)
                            >
                                {peer.presence.user.name.clone()}
                                " (you)"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! { <span class="name">{peer.presence.user.name.clone()}</span> }
                            .into_any()
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
    let ui = expect_context::<Ui>();
    let peers = provider.peers();
    let visible = move || {
        peers.with(|ps| {
            ps.iter()
                .filter(|p| !p.me && p.presence.cursor.is_some())
                .map(|p| p.client_id)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <For each=visible key=|id| *id let(client_id)>
            {
                let peer = Memo::new(move |_| {
                    peers.with(|ps| ps.iter().find(|p| p.client_id == client_id).cloned())
                });
                let at = move || {
                    peer.with(|p| p.as_ref().and_then(|p| p.presence.cursor))
                        .unwrap_or(Point { x: 0.0, y: 0.0 })
                };
                let color = move || peer.with(|p| p.as_ref().map(|p| p.presence.user.color.clone()));
                let name = move || peer.with(|p| p.as_ref().map(|p| p.presence.user.name.clone()));
                view! {
                    <div
                        class="cursor"
                        style:transform=move || {
                            let p = at();
                            format!(
                                "translate({}px, {}px) scale({})",
                                p.x,
                                p.y,
                                1.0 / ui.camera.with(|c| c.zoom),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(client_id: u64, me: bool, editing: Option<&str>) -> Peer {
        Peer {
            client_id,
            me,
            presence: Presence {
                user: PresenceUser {
                    name: format!("p{client_id}"),
                    color: format!("#00000{client_id}"),
                },
                cursor: None,
                editing: editing.map(str::to_owned),
            },
        }
    }

    #[test]
    fn only_someone_else_editing_highlights_a_note() {
        let peers = [peer(1, true, Some("n1")), peer(2, false, Some("n2"))];
        assert_eq!(editor_color(&peers, "n1"), None);
        assert_eq!(editor_color(&peers, "n2").as_deref(), Some("#000002"));
        assert_eq!(editor_color(&peers, "n3"), None);
    }
}
