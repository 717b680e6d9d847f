//! The display-name prompt: shown on a first visit, and again when someone clicks their
//! own name. The name is remembered in localStorage, never sent anywhere but awareness and
//! the notes this person writes.

use leptos::html::Input;
use leptos::prelude::*;

use crate::context::Identity;
use crate::dom;

/// The longest name we keep; it has to fit on a cursor label.
const MAX_NAME_CHARS: usize = 40;

pub fn remembered_name() -> String {
    dom::load(dom::NAME_KEY).unwrap_or_default()
}

/// Where the focus goes once the prompt closes: the board's first region (its add button
/// in the list, its title on the canvas), once the board is drawn.
fn focus_board() {
    request_animation_frame(|| {
        dom::focus_first(&[
            "#list-view .list-add",
            ".region .region-title",
            "#view-list",
        ]);
    });
}

#[component]
pub fn NamePrompt() -> impl IntoView {
    let ui = expect_context::<Identity>();
    let open = move || ui.renaming.get() || ui.name.with(|n| n.trim().is_empty());
    let input = NodeRef::<Input>::new();

    Effect::new(move |_| {
        if open() {
            if let Some(el) = input.get() {
                el.set_value(&ui.name.get_untracked());
                let _ = el.focus();
                el.select();
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(el) = input.get_untracked() else {
            return;
        };
        let name: String = el.value().trim().chars().take(MAX_NAME_CHARS).collect();
        if name.is_empty() {
            let _ = el.focus();
            return;
        }
        dom::save(dom::NAME_KEY, &name);
        // Renaming gives the focus back to the name that was clicked (`FocusReturn`);
        // joining puts it on the board.
        let joining = !ui.renaming.get_untracked();
        ui.name.set(name);
        ui.renaming.set(false);
        if joining {
            focus_board();
        }
    };

    view! {
        <Show when=open>
            <div class="modal-backdrop">
                <form
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    on:submit=submit
                    on:keydown=|ev| dom::trap_tab_here(&ev)
                    aria-labelledby="name-title"
                >
                    <dom::FocusReturn />
                    <h2 id="name-title">"What should we call you?"</h2>
                    <p class="muted">
                        "Your name appears next to your cursor and on the notes you write."
                    </p>
                    <input
                        id="name-input"
                        node_ref=input
                        type="text"
                        autocomplete="nickname"
                        maxlength="40"
                        placeholder="Your name"
                    />
                    <div class="modal-actions">
                        <Show when=move || !ui.name.with(|n| n.trim().is_empty())>
                            <button
                                type="button"
                                class="button ghost"
                                on:click=move |_| ui.renaming.set(false)
                            >
                                "Cancel"
                            </button>
                        </Show>
                        <button id="name-submit" type="submit" class="button primary">
                            "Join the board"
                        </button>
                    </div>
                </form>
            </div>
        </Show>
    }
}
