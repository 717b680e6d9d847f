//! A text input bound to one value in the document, that never loses what someone types.
//!
//! Typing commits as it goes, after a short pause (and at once on Enter or when the field
//! is left), like a note's text. A change made elsewhere reaches the field only when it
//! is to this same value: a change to another field or another note never touches it.
//! When the same value changes elsewhere while this person has typed something not yet
//! committed, the field keeps what they typed, and their commit follows; otherwise the
//! new value is merged in around their caret.
//!
//! Fields that must be checked (a time) commit only on Enter or leaving the field, and
//! say what is wrong instead of committing.

use std::time::Duration;

use hindsight_shared::schema::TextEdit;
use leptos::html::Input;
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::note::shift_caret;

/// Quiet time after a keystroke before a live field commits.
const COMMIT_AFTER: Duration = Duration::from_millis(400);

/// What a field does with the text people type: `Ok` when it was stored, `Err` with
/// what is wrong with it otherwise.
pub type Commit = Callback<String, Result<(), String>>;

#[component]
pub fn LiveInput(
    /// The stored value, as it should read in the field.
    #[prop(into)]
    value: Signal<String>,
    /// Stores what was typed.
    commit: Commit,
    /// Commit while typing (free text) rather than only on Enter or leaving the field.
    #[prop(default = true)]
    live: bool,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] class: &'static str,
    #[prop(optional, into)] placeholder: Signal<String>,
    label: &'static str,
    #[prop(optional)] title: Option<&'static str>,
    #[prop(default = 200)] maxlength: u32,
    #[prop(optional, into)] disabled: Signal<bool>,
    #[prop(optional, into)] readonly: Signal<bool>,
    /// A field of a note, reached through the note rather than by Tab (see `note_keys`).
    #[prop(optional)]
    in_note: bool,
) -> impl IntoView {
    let input = NodeRef::<Input>::new();
    // Typed but not committed yet: a new stored value must not replace it.
    let dirty = StoredValue::new(false);
    // Bumped per keystroke, so only the last scheduled commit runs.
    let generation = StoredValue::new(0u32);
    let error = RwSignal::new(None::<String>);

    let commit_now = move || {
        let Some(el) = input.get_untracked() else {
            return;
        };
        if !dirty.get_value() {
            return;
        }
        match commit.run(el.value()) {
            Ok(()) => {
                dirty.set_value(false);
                error.set(None);
                // Show the value the way it was stored, which may be tidier than typed.
                let stored = value.get_untracked();
                if el.value() != stored {
                    el.set_value(&stored);
                }
            }
            Err(message) => error.set(Some(message)),
        }
    };

    // The stored value reaches the field, unless it would replace uncommitted typing.
    Effect::new(move |_| {
        let stored = value.get();
        let Some(el) = input.get() else {
            return;
        };
        if dirty.get_value() {
            return;
        }
        let old = el.value();
        let Some(edit) = TextEdit::between(&old, &stored) else {
            return;
        };
        let focused = document().active_element().is_some_and(|a| a == **el);
        let caret = (el.selection_start(), el.selection_end());
        el.set_value(&stored);
        if let (true, Ok(Some(start)), Ok(Some(end))) = (focused, caret.0, caret.1) {
            let _ = el.set_selection_range(shift_caret(start, &edit), shift_caret(end, &edit));
        }
    });

    let on_input = move |_| {
        dirty.set_value(true);
        if !live {
            return;
        }
        generation.update_value(|g| *g = g.wrapping_add(1));
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() == mine {
                    commit_now();
                }
            },
            COMMIT_AFTER,
        );
    };
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            commit_now();
        }
    };

    view! {
        <input
            id=id
            class=class
            node_ref=input
            type="text"
            tabindex=in_note.then_some("-1")
            maxlength=maxlength.to_string()
            placeholder=move || placeholder.get()
            aria-label=label
            title=title
            class:invalid=move || error.with(Option::is_some)
            aria-invalid=move || error.with(Option::is_some).then_some("true")
            prop:value=value.get_untracked()
            prop:disabled=move || disabled.get()
            prop:readOnly=move || readonly.get()
            on:input=on_input
            on:change=move |_| commit_now()
            on:blur=move |_| commit_now()
            on:keydown=on_key
        />
        {move || error.get().map(|e| view! { <div class="field-error" role="alert">{e}</div> })}
    }
}
