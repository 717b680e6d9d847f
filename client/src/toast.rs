//! A short message at the bottom of the board for things that did not work (a vote over
//! budget, a failed copy). One at a time; a newer message replaces an older one.

use std::time::Duration;

use leptos::prelude::*;

use crate::board::Ui;

const SHOW_FOR: Duration = Duration::from_millis(3500);

/// Shows `message` for a few seconds.
pub fn show(ui: Ui, message: impl Into<String>) {
    let message = message.into();
    ui.toast.set(Some(message.clone()));
    set_timeout(
        move || {
            // Only clear our own message, not one that replaced it meanwhile.
            if ui
                .toast
                .with_untracked(|t| t.as_deref() == Some(message.as_str()))
            {
                ui.toast.set(None);
            }
        },
        SHOW_FOR,
    );
}

#[component]
pub fn Toast() -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        ui.toast.get().map(|message| {
            view! {
                <div id="toast" class="toast" role="status">
                    {message}
                </div>
            }
        })
    }
}
