//! The board page: creates the document, the store and the connection for one board,
//! shares them with the components below through context, and lays out the header: the
//! title and meeting state on top, the incident facts in a row below. It also owns the
//! board's keyboard shortcuts for undo and redo.

use std::time::Duration;

use hindsight_shared::schema::new_doc;
use hindsight_shared::BoardId;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::announce::Announcer;
use crate::camera::{FAR_NOTES, FAR_ZOOM};
use crate::canvas::Canvas;
use crate::context::{
    Clock, Grab, Identity, Overview, Pointer, Selection, TimelineImportOpen, Toasts, View,
};
use crate::facilitation::{self, FacilitatorPanel, StepBanner, TimerDisplay};
use crate::facts::FactsBar;
use crate::field::LiveInput;
use crate::follow::{self, FollowBanner};
use crate::history::History;
use crate::link::Link;
use crate::list::{ListMode, ListView, ViewSwitch};
use crate::name::{remembered_name, NamePrompt};
use crate::navigate;
use crate::offline::{self, SaveState};
use crate::presence::{self, Participants};
use crate::provider::Provider;
use crate::selection;
use crate::store::Store;
use crate::timeline_import::TimelineImport;
use crate::toast::Toast;
use crate::{cull, debug, dom, note};

/// How often the clock the timer counts down against ticks.
const CLOCK_TICK: Duration = Duration::from_millis(250);

/// This browser's voter token for `id`, made on first use.
fn voter_token(id: BoardId) -> String {
    let key = dom::voter_key(&id.to_string());
    dom::load(&key)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            let token = dom::random_hex::<8>();
            dom::save(&key, &token);
            token
        })
}

/// The board's WebSocket URL: the link's token, and the facilitator key this browser
/// holds (the server lets only a connection that presents it change the step, timer,
/// follow me and the board's settings). Keys are letters and digits (`load_key`).
fn socket_url(id: BoardId, link: &Link, facilitator_key: &str) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    let query = link.query();
    let key = if facilitator_key.is_empty() {
        String::new()
    } else {
        let joiner = if query.is_empty() { '?' } else { '&' };
        format!("{joiner}facilitator={facilitator_key}")
    };
    format!("{scheme}://{host}/ws/{id}{query}{key}")
}

#[component]
pub fn BoardPage(id: BoardId) -> impl IntoView {
    let view_ctx = View::new();
    let selection = Selection::new();
    let identity = Identity {
        name: RwSignal::new(remembered_name()),
        renaming: RwSignal::new(false),
    };
    let pointer = Pointer(RwSignal::new(None));
    let clock = Clock(RwSignal::new(dom::now_ms()));
    let toasts = Toasts(RwSignal::new(None));
    debug::init();
    note::track_presses();
    let link = Link::from_location(id);
    let read_only = link.read_only();
    let doc = new_doc(Some(dom::random_client_id()));
    // Restored before the store reads the document, so an offline reload shows it all.
    // A read-only page never has changes of its own to restore or keep.
    let unsaved = if read_only {
        0
    } else {
        offline::restore(&doc, id)
    };
    let store = Store::new(doc.clone(), read_only, voter_token(id));
    let facilitator_key = facilitation::load_key(id);
    let provider = Provider::start(
        doc.clone(),
        socket_url(id, &link, &facilitator_key),
        unsaved,
    );
    if !read_only {
        offline::keep(doc, id, provider.pending());
    }
    store.set_facilitator_key(&facilitator_key);

    provide_context(id);
    provide_context(link);
    provide_context(view_ctx);
    provide_context(selection);
    provide_context(identity);
    provide_context(pointer);
    provide_context(clock);
    provide_context(toasts);
    let list_mode = ListMode::remembered();
    provide_context(list_mode);
    let importing = RwSignal::new(false);
    provide_context(TimelineImportOpen(importing));
    provide_context(store.clone());
    provide_context(provider.clone());
    presence::publish(provider.clone(), identity, pointer, selection);
    presence::show_editors(&provider, store.clone(), selection);
    follow::start(store.clone(), view_ctx);
    let ids = store.indexed.ids;
    let overview = Overview(Memo::new(move |_| {
        view_ctx.camera.with(|c| c.zoom < FAR_ZOOM) && ids.with(|ids| ids.len() >= FAR_NOTES)
    }));
    provide_context(overview);
    provide_context(Grab(StoredValue::new(None)));
    provide_context(cull::start(store.clone(), view_ctx, selection, overview));
    set_interval(move || clock.0.set(dom::now_ms()), CLOCK_TICK);
    undo_shortcuts(store.history.clone());
    selection::shortcuts(store.clone(), selection);
    navigate::shortcuts(store.clone(), view_ctx, list_mode);
    selection::mirror(store.clone(), selection);

    let prompting = move || identity.renaming.get() || identity.name.with(|n| n.trim().is_empty());
    let status = provider.status();
    let title = store.title;
    let commit_title = {
        let store = store.clone();
        Callback::new(move |title: String| {
            store.write(|board, txn| board.set_title(txn, title.trim()));
            Ok(())
        })
    };
    let settings = store.settings;
    let template = store.template;

    view! {
        <div class="board-page" class:dimmed=prompting class:read-only=read_only>
            <header class="topbar">
                <a class="brand" href="/" title="Hindsight home">
                    <img src="/favicon.svg" alt="" width="22" height="22" />
                    <span class="brand-name">"Hindsight"</span>
                </a>
                <LiveInput
                    class="board-title"
                    value=title
                    commit=commit_title
                    placeholder=Signal::derive(move || template.with(|t| t.untitled()))
                    label="Board title"
                    maxlength=120
                    readonly=read_only
                />
                <div class="meeting-state">
                    <StepBanner />
                    <TimerDisplay />
                    <Show when=move || read_only>
                        <span
                            id="read-only-badge"
                            class="badge"
                            title="Opened with a read-only link: you can look and talk, not change"
                        >
                            "Read-only"
                        </span>
                    </Show>
                    <Show when=move || settings.with(|s| s.anonymous)>
                        <span
                            id="anonymous-badge"
                            class="badge"
                            title="New notes do not record who wrote them"
                        >
                            "Anonymous"
                        </span>
                    </Show>
                </div>
                <div class="topbar-right">
                    <ViewSwitch />
                    <UndoButtons />
                    <SaveState />
                    <span
                        id="connection"
                        class="connection"
                        data-state=move || status.with(|s| s.state())
                        role="status"
                    >
                        <span class="connection-dot"></span>
                        {move || status.with(|s| s.label())}
                    </span>
                    <Participants />
                    <ShareLinks />
                </div>
            </header>
            <FactsBar />
            <main class="board" class:listing=move || list_mode.0.get() aria-label=move || template.with(|t| t.title.clone())>
                {move || if list_mode.0.get() {
                    view! { <ListView /> }.into_any()
                } else {
                    view! { <Canvas /> }.into_any()
                }}
                <FollowBanner />
                <FacilitatorPanel />
                <Toast />
            </main>
            <TimelineImport open=importing />
            <Announcer />
            // What a screen reader says after a note's name: how to work on it.
            <p id="note-keys" class="sr-only">
                {if read_only {
                    "Tab: next note."
                } else {
                    "Enter: write in it and reach its controls. Escape: back to the note. Tab: next note. Delete: delete it. Arrows: move it (in the list, go to the note above or below)."
                }}
            </p>
        </div>
        <NamePrompt />
    }
}

/// Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z and Ctrl+Y redo this person's changes, except in
/// text fields, where the browser's own text undo is what people expect (and its edits
/// reach the document as ordinary typing).
fn undo_shortcuts(history: History) {
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        if !(ev.ctrl_key() || ev.meta_key()) || ev.alt_key() || dom::typing_in(&ev) {
            return;
        }
        match (ev.key().to_lowercase().as_str(), ev.shift_key()) {
            ("z", false) => history.undo(),
            ("z", true) | ("y", false) => history.redo(),
            _ => return,
        }
        ev.prevent_default();
    });
}

#[component]
fn UndoButtons() -> impl IntoView {
    let history = expect_context::<Store>().history;
    let (can_undo, can_redo) = (history.can_undo, history.can_redo);
    let redo = history.clone();
    view! {
        <div class="history" role="group" aria-label="History">
            <button
                id="undo"
                class="icon-button"
                title="Undo your last change (Ctrl+Z)"
                aria-label="Undo"
                prop:disabled=move || !can_undo.get()
                on:click=move |_| history.undo()
            >
                "↶"
            </button>
            <button
                id="redo"
                class="icon-button"
                title="Redo (Ctrl+Shift+Z)"
                aria-label="Redo"
                prop:disabled=move || !can_redo.get()
                on:click=move |_| redo.redo()
            >
                "↷"
            </button>
        </div>
    }
}

/// The links this page can hand out: the edit link (only a page opened with it has it)
/// and the read-only link, which any page with a token can derive.
#[component]
fn ShareLinks() -> impl IntoView {
    let link = expect_context::<Link>();
    let edit = link.edit_url().map(|url| {
        view! { <CopyButton id="copy-link" label="Edit link" url=url primary=true /> }
    });
    let read = link.read_url().map(|url| {
        view! { <CopyButton id="copy-read-link" label="Read-only link" url=url primary=false /> }
    });
    // On a phone the two links fold behind one "Share" button, so the title and it make
    // one row of the top bar; from there up the button is hidden and the links show
    // (style.css). The menu stays open after a copy, so its "Copied" is seen; a press
    // elsewhere or Escape folds it.
    let (open, set_open) = signal(false);
    let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
        let inside = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest(".share").ok().flatten())
            .is_some();
        if !inside && open.get_untracked() {
            set_open.set(false);
        }
    });
    on_cleanup(move || outside.remove());
    let toggle = NodeRef::<leptos::html::Button>::new();
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            // The board's own Escape (clearing the selection) is not for this one.
            ev.stop_propagation();
            set_open.set(false);
            if let Some(button) = toggle.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
        <div class="share" class:open=open role="group" aria-label="Share" on:keydown=escape>
            <button
                id="share-toggle"
                class="share-toggle button primary"
                type="button"
                node_ref=toggle
                aria-expanded=move || open.get().to_string()
                aria-controls="share-links"
                on:click=move |_| set_open.update(|o| *o = !*o)
            >
                "Share"
                <span aria-hidden="true">{move || if open.get() { " ▴" } else { " ▾" }}</span>
            </button>
            <div id="share-links" class="share-links">{edit}{read}</div>
        </div>
    }
}

/// A button that copies `url`: "Copy edit link", shortened to its `label` ("Edit link")
/// on narrow windows; its title keeps the whole sentence.
#[component]
fn CopyButton(id: &'static str, label: &'static str, url: String, primary: bool) -> impl IntoView {
    let copied = RwSignal::new(false);
    let shown = url.clone();
    let copy = move |_| {
        if dom::copy_to_clipboard(&url) {
            copied.set(true);
            set_timeout(move || copied.set(false), Duration::from_millis(1500));
        } else {
            let _ = window()
                .prompt_with_message_and_default("Copy this link to share the board:", &url);
        }
    };
    view! {
        <button
            id=id
            class="button"
            class:primary=primary
            class:ghost=!primary
            data-url=shown
            title=format!("Copy the {} to share the board", label.to_lowercase())
            on:click=copy
        >
            {move || if copied.get() {
                view! { "Copied" }.into_any()
            } else {
                view! {
                    <span class="label-long">{format!("Copy {}", label.to_lowercase())}</span>
                    <span class="label-short">{label}</span>
                }
                .into_any()
            }}
        </button>
    }
}
