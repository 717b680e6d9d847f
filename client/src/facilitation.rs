//! Running the meeting: the facilitator's key in this browser, the facilitator's panel
//! (steps, timer, follow me, anonymous writing, vote budget, handover) and what everyone
//! sees of it (the step banner and the countdown).
//!
//! The key is a secret kept in localStorage; the document holds only its hash, so the
//! panel shows wherever the key is and nowhere else. A handover link carries a new key in
//! the URL fragment, which never reaches the server; the page moves it to localStorage
//! and removes it from the address bar.

use std::time::Duration;

use hindsight_shared::facilitation::{View, MAX_TIMER_SECONDS};
use hindsight_shared::votes::MAX_VOTE_BUDGET;
use hindsight_shared::{BoardId, Template};
use leptos::html::Input;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::camera::Camera;
use crate::context::{Clock, Toasts, View as ViewCtx};
use crate::dom;
use crate::link::Link;
use crate::store::Store;
use crate::toast;
use crate::versions::BoardHistory;

const FRAGMENT_PREFIX: &str = "#facilitator=";
const DEFAULT_TIMER_MINUTES: u32 = 5;

/// The facilitator key in a URL fragment, if it carries one.
fn key_in_fragment(hash: &str) -> Option<&str> {
    hash.strip_prefix(FRAGMENT_PREFIX)
        .filter(|k| !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// This browser's facilitator key for `id` (empty when it has none). A key in the URL
/// fragment is stored first and removed from the address bar.
pub fn load_key(id: BoardId) -> String {
    let storage_key = dom::facilitator_key(&id.to_string());
    let location = window().location();
    let hash = location.hash().unwrap_or_default();
    if let Some(key) = key_in_fragment(&hash) {
        dom::save(&storage_key, key);
        let clean = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&clean));
        }
    }
    dom::load(&storage_key).unwrap_or_default()
}

/// "mm:ss" for a number of seconds.
pub fn clock(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

/// The titles of a step's regions ("Detect"; "Wind · Anchors" when they share one).
fn step_title(template: &Template, step: u8) -> String {
    template
        .at_step(step)
        .map(|r| r.title.as_str())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "Step 3 of 8 · Detect" while the meeting is at a step.
#[component]
pub fn StepBanner() -> impl IntoView {
    let store = expect_context::<Store>();
    let meeting = store.meeting;
    move || {
        let step = meeting.with(|m| m.step)?;
        let (title, steps) = store.template.with(|t| (step_title(t, step), t.steps()));
        Some(view! {
            <span id="step-banner" class="step-banner">
                <b>{format!("Step {step} of {steps}")}</b>
                {format!(" · {title}")}
            </span>
        })
    }
}

/// The countdown everyone sees while the facilitator's timer runs.
#[component]
pub fn TimerDisplay() -> impl IntoView {
    let store = expect_context::<Store>();
    let now = expect_context::<Clock>().0;
    let meeting = store.meeting;
    move || {
        let timer = meeting.with(|m| m.timer)?;
        let left = timer.remaining(now.get());
        Some(view! {
            <span id="timer" class="timer" class:up=left == 0 role="timer">
                {if left == 0 { "Time's up".to_owned() } else { clock(left) }}
            </span>
        })
    }
}

#[component]
pub fn FacilitatorPanel() -> impl IntoView {
    let store = expect_context::<Store>();
    let ui = expect_context::<ViewCtx>();
    let id = expect_context::<BoardId>();
    // The key is useless through a read-only link: the server refuses its changes.
    let is_facilitator = Signal::derive({
        let (signal, read_only) = (store.is_facilitator, store.read_only);
        move || signal.get() && !read_only
    });
    let link = expect_context::<Link>();
    let (meeting, settings) = (store.meeting, store.settings);
    // The link made by the last handover; shown after this browser lost the panel.
    let handed_over = RwSignal::new(None::<String>);
    let minutes = NodeRef::<Input>::new();
    // The panel folds down to its title so it does not hide notes underneath.
    // On a phone the open panel would cover most of the board: it starts folded there.
    let narrow = window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w < crate::list::NARROW);
    let folded = RwSignal::new(narrow);

    let template = store.template;
    let steps = {
        let store = store.clone();
        move || {
            let store = store.clone();
            template.with(|t| {
                (1..=t.steps())
                    .map(|step| {
                        let store = store.clone();
                        view! {
                            <button
                                class="step"
                                data-step=step.to_string()
                                class:active=move || meeting.with(|m| m.step == Some(step))
                                title=format!("Step {step}: {}", step_title(t, step))
                                on:click=move |_| {
                                    store.write(|board, txn| board.set_step(txn, Some(step)));
                                    // The facilitator goes to the step's region, and with
                                    // "follow me" on, everyone following goes too.
                                    let first = template
                                        .with_untracked(|t| t.at_step(step).next().map(|r| r.key.clone()))
                                        .and_then(|key| store.indexed.layout.with_untracked(|l| l.rect(&key)));
                                    if let Some(rect) = first {
                                        let (w, h) = ui.viewport.get_untracked();
                                        ui.camera.set(Camera::readable(rect, w, h));
                                    }
                                }
                            >
                                {step}
                            </button>
                        }
                    })
                    .collect_view()
            })
        }
    };

    let (s_clear, s_start, s_stop, s_follow, s_anon, s_budget, s_hand) = (
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
    );
    let start_timer = move |_| {
        let minutes = minutes
            .get_untracked()
            .and_then(|el| el.value().trim().parse::<f64>().ok())
            .filter(|m| m.is_finite() && *m > 0.0)
            .unwrap_or(f64::from(DEFAULT_TIMER_MINUTES));
        let seconds = (minutes * 60.0).round().min(f64::from(MAX_TIMER_SECONDS)) as u32;
        s_start.write(|board, txn| board.start_timer(txn, dom::now_ms(), seconds));
    };
    let toggle_follow = move |ev| {
        let on = event_target_checked(&ev);
        let view = on.then(|| {
            let (w, h) = ui.viewport.get_untracked();
            let camera = ui.camera.get_untracked();
            let (x, y) = camera.centre(w, h);
            View {
                x: x.round(),
                y: y.round(),
                zoom: camera.zoom,
            }
        });
        s_follow.write(|board, txn| board.set_follow(txn, view));
    };
    let history_open = RwSignal::new(false);
    let hand_over = move |_| {
        let key = dom::random_hex::<16>();
        s_hand.write(|board, txn| board.set_facilitator_key(txn, &key));
        dom::remove(&dom::facilitator_key(&id.to_string()));
        s_hand.set_facilitator_key("");
        // The new facilitator needs the edit link, with the key in the fragment (never
        // sent to the server).
        let base = link.edit_url().unwrap_or_default();
        handed_over.set(Some(format!("{base}{FRAGMENT_PREFIX}{key}")));
    };

    view! {
        <Show when=move || is_facilitator.get()>
            <aside
                id="facilitator-panel"
                class="panel facilitator-panel"
                class:folded=move || folded.get()
                aria-label="Facilitator"
            >
                <button
                    class="panel-title"
                    aria-expanded=move || (!folded.get()).to_string()
                    title="Show or hide the facilitator controls"
                    on:click=move |_| folded.update(|f| *f = !*f)
                >
                    "Facilitator"
                    <span class="fold">{move || if folded.get() { "▸" } else { "▾" }}</span>
                </button>
                <div class="panel-row steps-row" role="group" aria-label="Meeting step">
                    {steps.clone()}
                    <button
                        class="step-clear"
                        title="No current step"
                        aria-label="Clear the step"
                        on:click={
                            let store = s_clear.clone();
                            move |_| store.write(|board, txn| board.set_step(txn, None))
                        }
                    >
                        "×"
                    </button>
                </div>
                <div class="panel-row">
                    <label class="inline">
                        "Timer"
                        <input
                            id="timer-minutes"
                            node_ref=minutes
                            type="number"
                            min="1"
                            max="240"
                            value=DEFAULT_TIMER_MINUTES.to_string()
                        />
                        "min"
                    </label>
                    <button id="timer-start" class="button small" on:click=start_timer.clone()>
                        "Start"
                    </button>
                    <button
                        id="timer-stop"
                        class="button small"
                        disabled=move || meeting.with(|m| m.timer.is_none())
                        on:click={
                            let store = s_stop.clone();
                            move |_| store.write(|board, txn| board.stop_timer(txn))
                        }
                    >
                        "Stop"
                    </button>
                </div>
                <div class="panel-row">
                    <label class="inline toggle">
                        <input
                            id="follow-toggle"
                            type="checkbox"
                            prop:checked=move || meeting.with(|m| m.follow.is_some())
                            on:change=toggle_follow.clone()
                        />
                        "Follow me"
                    </label>
                    <label class="inline toggle">
                        <input
                            id="anonymous-toggle"
                            type="checkbox"
                            prop:checked=move || settings.with(|s| s.anonymous)
                            on:change={
                                let store = s_anon.clone();
                                move |ev| {
                                    let on = event_target_checked(&ev);
                                    store.write(|board, txn| board.set_anonymous(txn, on));
                                }
                            }
                        />
                        "Anonymous notes"
                    </label>
                </div>
                <div class="panel-row">
                    <label class="inline">
                        "Votes each"
                        <input
                            id="vote-budget"
                            type="number"
                            min="0"
                            max=MAX_VOTE_BUDGET.to_string()
                            prop:value=move || settings.with(|s| s.vote_budget.to_string())
                            on:change={
                                let store = s_budget.clone();
                                move |ev| {
                                    if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
                                        store.write(|board, txn| board.set_vote_budget(txn, n));
                                    }
                                }
                            }
                        />
                    </label>
                    <button
                        id="handover"
                        class="button small"
                        title="Give the facilitator controls to someone else"
                        on:click=hand_over.clone()
                    >
                        "Hand over…"
                    </button>
                </div>
                <div class="panel-row">
                    <button
                        id="board-history"
                        class="button small"
                        title="Bring the board back to how it was earlier"
                        on:click=move |_| history_open.set(true)
                    >
                        "Board history…"
                    </button>
                </div>
            </aside>
        </Show>
        {move || handed_over.get().map(|link| view! { <HandoverDialog link=link done=handed_over /> })}
        <BoardHistory open=history_open />
    }
}

/// The link that carries the new facilitator key, with a copy button.
#[component]
fn HandoverDialog(link: String, done: RwSignal<Option<String>>) -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    let copied = RwSignal::new(false);
    let copy = {
        let link = link.clone();
        move |_| {
            if dom::copy_to_clipboard(&link) {
                copied.set(true);
                set_timeout(move || copied.set(false), Duration::from_millis(1500));
            } else {
                toast::show(toasts, "Copy the link from the field instead.");
            }
        }
    };
    view! {
        <div class="modal-backdrop" on:keydown=|ev| dom::trap_tab_here(&ev)>
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="handover-title">
                <dom::FocusReturn />
                <h2 id="handover-title">"Hand over facilitation"</h2>
                <p class="muted">
                    "Send this link to the new facilitator. Whoever opens it gets the controls; "
                    "this browser no longer has them."
                </p>
                <input id="handover-link" readonly prop:value=link.clone() on:focus=|ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        el.select();
                    }
                } />
                <div class="modal-actions">
                    <button class="button ghost" on:click=move |_| done.set(None)>"Close"</button>
                    <button id="handover-copy" class="button primary" on:click=copy>
                        {move || if copied.get() { "Copied" } else { "Copy link" }}
                    </button>
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_only_from_a_well_formed_fragment() {
        assert_eq!(key_in_fragment("#facilitator=abc123"), Some("abc123"));
        assert_eq!(key_in_fragment("#facilitator="), None);
        assert_eq!(key_in_fragment("#facilitator=a b"), None);
        assert_eq!(key_in_fragment("#other=abc"), None);
        assert_eq!(key_in_fragment(""), None);
    }

    #[test]
    fn clocks_show_minutes_and_seconds() {
        assert_eq!(clock(0), "00:00");
        assert_eq!(clock(65), "01:05");
        assert_eq!(clock(3600), "60:00");
    }
}
