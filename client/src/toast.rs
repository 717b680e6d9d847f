//! A short message at the bottom of the board for things that did not work (a vote over
//! budget, a failed copy). One at a time; a newer message replaces an older one.

use std::time::Duration;

use leptos::prelude::*;

use crate::context::Toasts;

const SHOW_FOR: Duration = Duration::from_millis(3500);

/// Shows `message` for a few seconds.
pub fn show(toasts: Toasts, message: impl Into<String>) {
    let toast = toasts.0;
    let message = message.into();
    toast.set(Some(message.clone()));
    set_timeout(
        move || {
            // Only clear our own message, not one that replaced it meanwhile.
            if toast.with_untracked(|t| t.as_deref() == Some(message.as_str())) {
                toast.set(None);
            }
        },
        SHOW_FOR,
    );
}

#[component]
pub fn Toast() -> impl IntoView {
    let toasts = expect_context::<Toasts>();
    move || {
        toasts.0.get().map(|message| {
            view! {
                <div id="toast" class="toast" role="status">
                    {message}
                </div>
            }
        })
    }
}
