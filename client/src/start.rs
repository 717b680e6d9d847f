//! The start page, which creates boards, and the page for links that lead nowhere.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// Asks the server for a new board and returns its id.
async fn create_board() -> Result<String, String> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str("{}"));
    let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
    let _ = headers.set("content-type", "application/json");
    init.set_headers(&headers);
    let promise = window().fetch_with_str_and_init("/api/boards", &init);
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|_| "The server could not be reached.".to_string())?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("The server said {}.", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str::<Created>(&text)
        .map(|c| c.id)
        .map_err(|_| "The server sent an unexpected answer.".to_string())
}

#[component]
pub fn StartPage() -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match create_board().await {
                Ok(id) => {
                    let _ = window().location().assign(&format!("/b/{id}"));
                }
                Err(e) => {
                    error.set(Some(e));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <main class="start">
            <div class="start-card">
                <div class="start-brand">
                    <img src="/favicon.svg" alt="" width="40" height="40" />
                    <h1>"Hindsight"</h1>
                </div>
                <p class="pitch">
                    "One shared board to look back on an incident together: what happened, "
                    "what we learned, and who does what next. No blame, no accounts."
                </p>
                <button
                    id="new-board"
                    class="button primary large"
                    on:click=create
                    disabled=move || busy.get()
                >
                    {move || if busy.get() { "Creating…" } else { "New postmortem board" }}
                </button>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <ol class="steps">
                    <li>"Create a board and share its link with everyone who was there."</li>
                    <li>"Walk through the eight steps, from summary to actions."</li>
                    <li>"Leave with actions that each have an owner and a date."</li>
                </ol>
            </div>
        </main>
    }
}

#[component]
pub fn NotFound(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <main class="start">
            <div class="start-card">
                <h1>"Nothing here"</h1>
                <p class="pitch">{message}</p>
                <a class="button primary" href="/">"Go to the start page"</a>
            </div>
        </main>
    }
}
