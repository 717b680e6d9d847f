//! The start page, which creates boards (from a built-in template, with a small preview
//! drawn from its regions, or from a template file) and restores them from a JSON backup,
//! and the page for links that lead nowhere.
//!
//! Whoever creates or restores a board is its facilitator: the key the server answers
//! with is kept in this browser's localStorage before the page moves to the board.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use hindsight_shared::template::builtins;
use hindsight_shared::Template;

use crate::dom;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    id: String,
    edit_token: String,
    #[serde(default)]
    facilitator_key: Option<String>,
}

/// Posts `body` to `path`, which creates a board, and returns the board's edit link
/// (a path) after storing its facilitator key.
async fn post_board(path: &str, body: &str) -> Result<String, String> {
    let text = dom::call_api(
        "POST",
        path,
        &[("content-type", "application/json")],
        Some(body),
    )
    .await?;
    let created = serde_json::from_str::<Created>(&text)
        .map_err(|_| "The server sent an unexpected answer.".to_string())?;
    if let Some(key) = created.facilitator_key.filter(|k| !k.is_empty()) {
        dom::save(&dom::facilitator_key(&created.id), &key);
    }
    Ok(format!("/b/{}?token={}", created.id, created.edit_token))
}

/// The text of the file just chosen in the file input `ev` came from, or `Err` with what
/// to tell the person. The input is cleared, so choosing the same file again after an
/// error tries again.
pub async fn chosen_file_text(ev: leptos::ev::Event) -> Result<String, String> {
    let input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .ok_or("No file was chosen.")?;
    let file = input.files().and_then(|f| f.get(0));
    let text = match file {
        Some(file) => JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|t| t.as_string()),
        None => None,
    };
    input.set_value("");
    text.ok_or_else(|| "That file could not be read.".to_owned())
}

#[component]
pub fn StartPage() -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let go = move |result: Result<String, String>| match result {
        Ok(link) => {
            let _ = window().location().assign(&link);
        }
        Err(e) => {
            error.set(Some(e));
            busy.set(false);
        }
    };
    let create_from = move |template: serde_json::Value| {
        busy.set(true);
        error.set(None);
        let body = serde_json::json!({ "template": template }).to_string();
        spawn_local(async move { go(post_board("/api/boards", &body).await) });
    };
    let create = move |_| create_from("postmortem".into());
    let use_template_file = move |ev: leptos::ev::Event| {
        spawn_local(async move {
            let text = match chosen_file_text(ev).await {
                Ok(text) => text,
                Err(e) => return error.set(Some(e)),
            };
            // Checked here for a quick answer; the server checks it again.
            match Template::parse(text.as_bytes()) {
                Ok(_) => match serde_json::from_str(&text) {
                    Ok(document) => create_from(document),
                    Err(e) => error.set(Some(format!("That file is not JSON: {e}"))),
                },
                Err(e) => error.set(Some(format!("That template cannot be used: {e}"))),
            }
        });
    };
    let gallery = builtins()
        .iter()
        .skip(1)
        .map(|t| {
            let key = t.key.clone();
            view! {
                <li>
                    <button
                        class="template-card"
                        data-template=t.key.clone()
                        disabled=move || busy.get()
                        on:click=move |_| create_from(key.clone().into())
                    >
                        <Preview template=t />
                        <span class="template-title">{t.title.clone()}</span>
                        <span class="template-about">{t.description.clone()}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    let restore = move |ev: leptos::ev::Event| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match chosen_file_text(ev).await {
                Ok(text) => go(post_board("/api/boards/import", &text).await),
                Err(e) => go(Err(e)),
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
                <label class="button ghost restore" title="Make a new board from a “Backup JSON” file">
                    "Restore from backup"
                    <input
                        id="import-file"
                        type="file"
                        accept="application/json,.json"
                        on:change=restore
                        disabled=move || busy.get()
                    />
                </label>
                {move || error.get().map(|e| view! { <p id="start-error" class="error" role="alert">{e}</p> })}
                <ol class="steps">
                    <li>"Create a board and share its link with everyone who was there."</li>
                    <li>"Walk through the eight steps, from summary to actions."</li>
                    <li>"Leave with actions that each have an owner and a date."</li>
                </ol>
            </div>
            <section class="templates" aria-labelledby="templates-heading">
                <div class="templates-head">
                    <h2 id="templates-heading">"Or run another kind of review"</h2>
                    <label class="button ghost restore" title="A template saved from a board with “Save as template”">
                        "Use a template file…"
                        <input
                            id="template-file"
                            type="file"
                            accept="application/json,.json"
                            on:change=use_template_file
                            disabled=move || busy.get()
                        />
                    </label>
                </div>
                <ul class="template-list">{gallery}</ul>
            </section>
        </main>
    }
}

/// A template's regions drawn small, so the choice is visible before the board exists.
#[component]
fn Preview(template: &'static Template) -> impl IntoView {
    let b = template.bounds();
    let rects = template
        .regions
        .iter()
        .map(|r| {
            view! {
                <rect
                    x=r.rect.x.to_string()
                    y=r.rect.y.to_string()
                    width=r.rect.w.to_string()
                    height=r.rect.h.to_string()
                    rx="40"
                    class=format!("preview-region tint-{}", r.color.as_str())
                />
            }
        })
        .collect_view();
    view! {
        <svg
            class="template-preview"
            viewBox=format!("{} {} {} {}", b.x, b.y, b.w, b.h)
            preserveAspectRatio="xMidYMid meet"
            aria-hidden="true"
        >
            {rects}
        </svg>
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
