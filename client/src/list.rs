//! The list view: the same live board as its regions, one after another, each a landmark
//! with its heading and question and its notes as a list of cards. For phones (the
//! default below [`NARROW`] px), keyboards and screen readers: everything the canvas
//! does by dragging is a button or a menu here (add, move to another region, promote to
//! an action keeping the link back to the idea), and nothing needs a pointer or a large
//! screen.
//!
//! Cards appear in a meaningful order: the timeline by time (untimed entries last, by
//! creation), other regions by votes, then creation. A region reads only its own notes:
//! which notes it holds comes from the store's index (`ModelSignals::members`), and a
//! change to one note re-sorts the region it is in, nothing else.

use hindsight_shared::{NoteColor, NoteId, Region, Role};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::context::{Identity, Selection, Toasts};
use crate::dom;
use crate::note::NoteText;
use crate::note_fields::{role_fields, ActionLink, SourceLink, Votes};
use crate::note_keys::{self, OnNote};
use crate::notes::NoteHandle;
use crate::store::Store;
use crate::toast;

/// Below this window width a board opens as a list unless this browser chose otherwise.
pub const NARROW: f64 = 700.0;
const REMEMBERED: &str = "hindsight.view";

/// Which view the board page shows: the canvas or the list.
#[derive(Clone, Copy)]
pub struct ListMode(pub RwSignal<bool>);

impl ListMode {
    /// As this browser last chose, else the list on a narrow window.
    pub fn remembered() -> ListMode {
        let list = match dom::load(REMEMBERED).as_deref() {
            Some("list") => true,
            Some("board") => false,
            _ => window()
                .inner_width()
                .ok()
                .and_then(|w| w.as_f64())
                .is_some_and(|w| w < NARROW),
        };
        ListMode(RwSignal::new(list))
    }

    pub fn choose(&self, list: bool) {
        dom::save(REMEMBERED, if list { "list" } else { "board" });
        self.0.set(list);
    }
}

/// The two buttons that switch between the canvas and the list.
#[component]
pub fn ViewSwitch() -> impl IntoView {
    let mode = expect_context::<ListMode>();
    let list = mode.0;
    view! {
        <div class="view-switch" role="group" aria-label="View">
            <button
                id="view-board"
                class="view-choice"
                aria-pressed=move || (!list.get()).to_string()
                title="The board as a canvas of sticky notes"
                on:click=move |_| mode.choose(false)
            >
                "Board"
            </button>
            <button
                id="view-list"
                class="view-choice"
                aria-pressed=move || list.get().to_string()
                title="The board as a list, region by region"
                on:click=move |_| mode.choose(true)
            >
                "List"
            </button>
        </div>
    }
}

#[component]
pub fn ListView() -> impl IntoView {
    let store = expect_context::<Store>();
    let template = store.template;
    view! {
        <div id="list-view" class="list-view">
            <For
                each=move || template.with(|t| t.regions.clone())
                key=|r| (r.key.clone(), r.title.clone(), r.question.clone(), r.role)
                let:region
            >
                <ListRegion region=region />
            </For>
        </div>
    }
}

/// How a region's cards are ordered: the timeline by time, untimed entries after the
/// timed ones; elsewhere the most voted first; then creation, then id. Each note's key is
/// read once.
fn order(role: Option<Role>, notes: Vec<(NoteId, NoteHandle)>) -> Vec<NoteId> {
    let mut keyed: Vec<((i32, i64), f64, NoteId)> = notes
        .into_iter()
        .map(|(id, note)| {
            let (time, created) = note.with_fields(|f| (f.time.map(|t| t.utc_ms), f.created_at));
            let votes: u32 = note.with_votes(|v| v.values().sum());
            let first = match role {
                Some(Role::Timeline) => time.map_or((1, 0), |t| (0, t)),
                _ => (0, -i64::from(votes)),
            };
            (first, created, id)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.into_iter().map(|(_, _, id)| id).collect()
}

#[component]
fn ListRegion(region: Region) -> impl IntoView {
    let store = expect_context::<Store>();
    let selection = expect_context::<Selection>();
    let identity = expect_context::<Identity>();
    let key = region.key.clone();
    let members = {
        let (members, key) = (store.indexed.members, key.clone());
        Memo::new(move |_| members.with(|m| m.get(&key).cloned().unwrap_or_default()))
    };
    let role = region.role;
    let cards = {
        let store = store.clone();
        Memo::new(move |_| {
            let notes: Vec<(NoteId, NoteHandle)> = members.with(|ids| {
                ids.iter()
                    .filter_map(|id| Some((id.clone(), store.note(id)?)))
                    .collect()
            });
            order(role, notes)
        })
    };
    let add = {
        let (store, key) = (store.clone(), key.clone());
        move |_| {
            let Some(rect) = store.indexed.layout.with_untracked(|l| l.rect(&key)) else {
                return;
            };
            let (x, y) = crate::placement::free_spot(rect, &store.occupied_in(&key));
            let id = store.create_note_in(&key, x, y, &identity.name.get_untracked());
            selection.focus.set(Some(id));
        }
    };
    let heading = format!("list-heading-{key}");
    let labelled_by = heading.clone();
    let title = region.title.clone();
    let read_only = store.read_only;
    view! {
        <section
            class="list-region"
            data-region=key.clone()
            data-color=region.color.as_str()
            aria-labelledby=labelled_by
        >
            <header class="list-region-header">
                <div>
                    <h2 id=heading tabindex="-1">{region.title.clone()}</h2>
                    <p class="list-question">{region.question.clone()}</p>
                </div>
                {(!read_only).then(|| view! {
                    <button
                        class="button list-add"
                        aria-label=format!("Add a note to {title}")
                        on:click=add
                    >
                        "+ Note"
                    </button>
                })}
            </header>
            <Show
                when=move || cards.with(|c| !c.is_empty())
                fallback=|| view! { <p class="list-empty">"No notes yet."</p> }
            >
                <ul class="list-notes">
                    <For each=move || cards.get() key=|id| id.clone() let:id>
                        <ListCard id=id />
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// A note's accessible name: where it is, who wrote it, its votes and its text.
pub fn note_name(region: &str, author: Option<&str>, votes: u32, text: &str) -> String {
    let by = author.map(|a| format!(" by {a}")).unwrap_or_default();
    let votes = match votes {
        1 => "1 vote".to_owned(),
        n => format!("{n} votes"),
    };
    let gist = crate::note::gist_of(text);
    let text = if gist.trim().is_empty() {
        "empty"
    } else {
        &gist
    };
    format!("Sticky note in {region}{by}, {votes}: {text}")
}

#[component]
fn ListCard(id: NoteId) -> impl IntoView {
    let store = expect_context::<Store>();
    let identity = expect_context::<Identity>();
    let toasts = expect_context::<Toasts>();
    let Some(note) = store.note(&id) else {
        return ().into_any();
    };
    let read_only = store.read_only;
    let template = store.template;
    let role = Memo::new(move |_| note.with_fields(|f| f.role));
    let color = Memo::new(move |_| note.with_fields(|f| f.color));
    let region = Memo::new(move |_| note.with_fields(|f| f.region.clone()));
    let action = Memo::new(move |_| note.with_fields(|f| f.action_id.clone()));
    let source =
        Memo::new(move |_| note.with_fields(|f| f.source_id.clone().filter(|_| f.is_action())));
    let author = Memo::new(move |_| note.with_fields(|f| f.author.clone()));
    let region_title = Memo::new(move |_| {
        let key = region.get().unwrap_or_default();
        template.with(|t| t.region(&key).map(|r| r.title.clone()).unwrap_or_default())
    });
    let name = move || {
        let votes: u32 = note.with_votes(|v| v.values().sum());
        note.with_text(|text| note_name(&region_title.get(), author.get().as_deref(), votes, text))
    };
    let fields = role_fields(id.clone(), note, role);

    let set_color = {
        let (id, store) = (id.clone(), store.clone());
        move |ev: leptos::ev::Event| {
            if let Some(c) = NoteColor::ALL
                .into_iter()
                .find(|c| c.as_str() == event_target_value(&ev))
            {
                store.set_color(&id, c);
            }
        }
    };
    let colors = move || {
        NoteColor::ALL
            .map(|c| {
                view! {
                    <option value=c.as_str() selected=move || color.get() == c>
                        {c.as_str()}
                    </option>
                }
            })
            .collect_view()
    };

    // Moving: every other region. Into the actions region an idea is promoted instead
    // (as a drop there does), keeping the link back to it.
    let move_to = {
        let (id, store) = (id.clone(), store.clone());
        move |ev: leptos::ev::Event| {
            let key = event_target_value(&ev);
            if key.is_empty() {
                return;
            }
            let into_actions = template.with_untracked(|t| t.role_of(&key) == Some(Role::Actions));
            if into_actions && role.get_untracked() != Some(Role::Actions) {
                promote_or_say(&store, toasts, &id, &identity.name.get_untracked());
            } else {
                store.move_to_region(&id, &key);
                toast::show(toasts, "Moved.");
            }
            focus_card(&id);
            if let Some(select) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                select.set_value("");
            }
        }
    };
    let destinations = move || {
        let here = region.get();
        template.with(|t| {
            t.regions
                .iter()
                .filter(|r| Some(&r.key) != here.as_ref())
                .map(|r| {
                    let label =
                        if r.role == Some(Role::Actions) && role.get() != Some(Role::Actions) {
                            format!("{} (as an action)", r.title)
                        } else {
                            r.title.clone()
                        };
                    view! { <option value=r.key.clone()>{label}</option> }
                })
                .collect_view()
        })
    };
    let can_promote = Memo::new(move |_| {
        role.get() != Some(Role::Actions)
            && action.with(Option::is_none)
            && template.with(|t| t.with_role(Role::Actions).is_some())
    });
    let promote = {
        let (id, store) = (id.clone(), store.clone());
        move |_| {
            promote_or_say(&store, toasts, &id, &identity.name.get_untracked());
        }
    };
    let delete = {
        let (id, store) = (id.clone(), store.clone());
        move || {
            let next = neighbour_of(&id);
            store.delete_note(&id);
            toast::show(toasts, "Note deleted. Undo brings it back (Ctrl+Z).");
            if let Some(el) = next {
                let _ = el.focus();
            }
        }
    };
    // Keys on the card: up and down go to the card above and below, Delete deletes it.
    let on_key = {
        let delete = delete.clone();
        move |ev: web_sys::KeyboardEvent| match note_keys::keydown(&ev) {
            Some(OnNote::Delete) if !read_only => {
                ev.prevent_default();
                delete();
            }
            Some(OnNote::Arrow(0, dy, _)) => {
                if let Some(card) = ev
                    .current_target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                {
                    if note_keys::focus_neighbour(&card, note_keys::LIST_NOTES, dy > 0) {
                        ev.prevent_default();
                    }
                }
                // The canvas's keys for the selection are not for the list.
                ev.stop_propagation();
            }
            _ => {}
        }
    };

    let tools = (!read_only).then(|| {
        view! {
            <div class="list-card-tools">
                <label class="list-tool">
                    <span class="list-tool-label">"Colour"</span>
                    <select class="list-color" tabindex="-1" on:change=set_color>{colors}</select>
                </label>
                <label class="list-tool">
                    <span class="list-tool-label">"Move to"</span>
                    <select class="list-move" tabindex="-1" on:change=move_to>
                        <option value="" selected=true>"Choose a region…"</option>
                        {destinations}
                    </select>
                </label>
                <Show when=move || can_promote.get()>
                    <button class="button ghost list-promote" tabindex="-1" on:click=promote.clone()>
                        "Make it an action"
                    </button>
                </Show>
                <button class="button ghost list-delete" tabindex="-1" on:click=move |_| delete()>
                    "Delete"
                </button>
            </div>
        }
    });

    view! {
        <li
            class="list-card"
            data-note-id=id.to_string()
            data-color=move || color.get().as_str()
            class:promoted=move || action.with(Option::is_some)
            class:action=move || role.get() == Some(Role::Actions)
            class:incomplete=move || note.with_fields(|f| f.is_action() && f.missing().is_some())
        >
            <article
                class="list-card-body"
                aria-label=name
                aria-describedby="note-keys"
                tabindex="0"
                on:keydown=on_key
            >
                <NoteText id=id.clone() note=note />
                {fields}
                <div class="list-card-meta">
                    {move || author.get().map(|a| view! { <span class="note-author">{a}</span> })}
                    {move || source.get().map(|s| view! { <SourceLink source=s /> })}
                    {move || action.get().map(|a| view! { <ActionLink action=a /> })}
                    <Votes id=id.clone() note=note />
                </div>
                {tools}
            </article>
        </li>
    }
    .into_any()
}

/// Promotes the idea `id`; the focus goes to the new action, since the button that did
/// it goes away.
fn promote_or_say(store: &Store, toasts: Toasts, id: &NoteId, name: &str) {
    match store.promote_in_place(id, name) {
        Some(action) => {
            toast::show(toasts, "Made an action in Next Steps, linked to this idea.");
            focus_card(&action);
        }
        None => toast::show(toasts, "This idea is already an action."),
    }
}

/// The card's body, focused, once it has been drawn where it now is.
fn focus_card(id: &NoteId) {
    let selector = format!(".list-card[data-note-id=\"{id}\"] .list-card-body");
    request_animation_frame(move || {
        if let Some(el) = document()
            .query_selector(&selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// What takes the focus when card `id` goes: the next card, else the previous one, else
/// its region's add button.
fn neighbour_of(id: &NoteId) -> Option<web_sys::HtmlElement> {
    let card = document()
        .query_selector(&format!(".list-card[data-note-id=\"{id}\"]"))
        .ok()
        .flatten()?;
    let body = |e: Option<web_sys::Element>| {
        e.and_then(|e| e.query_selector(".list-card-body").ok().flatten())
    };
    body(card.next_element_sibling())
        .or_else(|| body(card.previous_element_sibling()))
        .or_else(|| {
            card.closest(".list-region")
                .ok()
                .flatten()?
                .query_selector(".list-add")
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_named_by_where_it_is_who_wrote_it_its_votes_and_its_text() {
        assert_eq!(
            note_name("Detect", Some("Ada"), 3, "Alert fired late"),
            "Sticky note in Detect by Ada, 3 votes: Alert fired late"
        );
        assert_eq!(
            note_name("React", None, 1, "  "),
            "Sticky note in React, 1 vote: empty"
        );
    }
}
