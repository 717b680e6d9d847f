//! "Board history…": the versions the server kept of this board (see the server's
//! `history.rs`), newest first, each with its time and note count, and a way to bring
//! the board back to one. Restoring is a change like any other, live for everyone; the
//! board as it was just before is kept as a version too, so a restore can be undone
//! from the same list. Only the facilitator's page offers it, and the server checks the
//! key it sends.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use crate::context::Toasts;
use crate::dom;
use crate::link::Link;
use crate::store::Store;
use crate::toast;

/// One kept version, as `GET /api/boards/{id}/history` lists it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct Version {
    at: u64,
    notes: usize,
}

#[derive(Clone, Debug, PartialEq)]
enum Listing {
    Loading,
    Versions(Vec<Version>),
    Failed(String),
}

/// A time as this browser's people read it.
fn local_time(at_ms: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

fn notes(n: usize) -> String {
    match n {
        1 => "1 note".into(),
        n => format!("{n} notes"),
    }
}

/// The dialog, while `open` holds.
#[component]
pub fn BoardHistory(open: RwSignal<bool>) -> impl IntoView {
    let store = expect_context::<Store>();
    let link = expect_context::<Link>();
    let toasts = expect_context::<Toasts>();
    let id = expect_context::<hindsight_shared::BoardId>();
    let listing = RwSignal::new(Listing::Loading);
    let base = format!("/api/boards/{id}/history");
    let query = link.query();

    let load = {
        let (store, base, query) = (store.clone(), base.clone(), query.clone());
        move || {
            listing.set(Listing::Loading);
            let key = store.facilitator_key();
            let path = format!("{base}{query}");
            spawn_local(async move {
                let headers = [("x-hindsight-facilitator", key.as_str())];
                let answer = dom::call_api("GET", &path, &headers, None).await;
                listing.set(
                    match answer.and_then(|text| {
                        serde_json::from_str::<Vec<Version>>(&text)
                            .map_err(|_| "The server sent an unexpected answer.".to_string())
                    }) {
                        Ok(versions) => Listing::Versions(versions),
                        Err(e) => Listing::Failed(e),
                    },
                );
            });
        }
    };
    Effect::new({
        let load = load.clone();
        move |_| {
            if open.get() {
                load();
            }
        }
    });

    let restore = move |version: Version| {
        let key = store.facilitator_key();
        let path = format!("{base}/{}/restore{query}", version.at);
        let load = load.clone();
        spawn_local(async move {
            let headers = [("x-hindsight-facilitator", key.as_str())];
            match dom::call_api("POST", &path, &headers, None).await {
                Ok(_) => {
                    toast::show(
                        toasts,
                        format!(
                            "The board is back as it was at {}. Its state just before is in the history too.",
                            local_time(version.at)
                        ),
                    );
                    open.set(false);
                }
                Err(e) => {
                    toast::show(toasts, e);
                    load();
                }
            }
        });
    };

    let rows = move || match listing.get() {
        Listing::Loading => view! { <p class="muted">"Reading the history…"</p> }.into_any(),
        Listing::Failed(e) => view! { <p class="field-error" role="alert">{e}</p> }.into_any(),
        Listing::Versions(v) if v.is_empty() => view! {
            <p class="muted">
                "No versions yet: one is kept every few minutes while the board is worked on."
            </p>
        }
        .into_any(),
        Listing::Versions(versions) => {
            let restore = restore.clone();
            view! {
                <ol class="versions">
                    {versions
                        .into_iter()
                        .map(|v| {
                            let when = local_time(v.at);
                            let label = format!("Restore the board as it was at {when}");
                            let restore = restore.clone();
                            let chosen = v.clone();
                            view! {
                                <li class="version" data-at=v.at.to_string()>
                                    <span class="version-when">{when}</span>
                                    <span class="version-notes muted">{notes(v.notes)}</span>
                                    <button
                                        class="button small version-restore"
                                        aria-label=label
                                        on:click=move |_| restore(chosen.clone())
                                    >
                                        "Restore"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
            .into_any()
        }
    };

    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    open.set(false);
                }
                dom::trap_tab_here(&ev);
            }>
                <div class="modal wide" role="dialog" aria-modal="true" aria-labelledby="history-title">
                    <dom::FocusReturn />
                    <h2 id="history-title">"Board history"</h2>
                    <p class="muted">
                        "Bring the board back to how it was: its notes and facts, for everyone. "
                        "What it holds now is kept as a version first, so this can be undone here."
                    </p>
                    {rows.clone()}
                    <div class="modal-actions">
                        <button id="history-close" class="button ghost" on:click=move |_| open.set(false)>
                            "Close"
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}
