//! "Follow me": the facilitator's view published through the document, and everyone
//! else's camera following it.
//!
//! While follow is on, the facilitator's browser writes the canvas point at the centre of
//! its viewport and its zoom, at most five times a second and only when it changed. Other
//! browsers centre that point at that zoom in their own viewport, whatever its size. A
//! person may stop following; that choice lasts until the facilitator turns follow off.

use std::time::Duration;

use hindsight_shared::facilitation::View;
use leptos::prelude::*;

use crate::camera::Camera;
use crate::context::View as ViewCtx;
use crate::store::Store;

/// Five updates a second at most.
const PUBLISH_EVERY: Duration = Duration::from_millis(200);

/// The view to publish for a camera in a viewport of the given size.
fn view_of(camera: Camera, (w, h): (f64, f64)) -> View {
    let (x, y) = camera.centre(w, h);
    View {
        x: x.round(),
        y: y.round(),
        zoom: (camera.zoom * 1000.0).round() / 1000.0,
    }
}

/// Publishes the facilitator's view while follow is on, and moves everyone else's camera
/// to it.
pub fn start(store: Store, ui: ViewCtx) {
    let meeting = store.meeting;
    let is_facilitator = store.is_facilitator;

    let publisher = store.clone();
    set_interval(
        move || {
            if !is_facilitator.get_untracked() {
                return;
            }
            let Some(published) = meeting.with_untracked(|m| m.follow) else {
                return;
            };
            let size = ui.viewport.get_untracked();
            if size.0 <= 0.0 {
                return;
            }
            let view = view_of(ui.camera.get_untracked(), size);
            if view != published {
                publisher.write(|board, txn| board.set_follow(txn, Some(view)));
            }
        },
        PUBLISH_EVERY,
    );

    // Following: re-run when the published view, our viewport or our choice changes.
    Effect::new(move |_| {
        let follow = meeting.with(|m| m.follow);
        let Some(view) = follow else {
            // Follow was turned off: the next time it is on, everyone follows again.
            if ui.unfollowed.get_untracked() {
                ui.unfollowed.set(false);
            }
            return;
        };
        if is_facilitator.get() || ui.unfollowed.get() {
            return;
        }
        let (w, h) = ui.viewport.get();
        if w <= 0.0 {
            return;
        }
        ui.camera
            .set(Camera::centred_on(view.x, view.y, view.zoom, w, h));
    });
}

/// The banner shown while this person's view follows the facilitator's.
#[component]
pub fn FollowBanner() -> impl IntoView {
    let store = expect_context::<Store>();
    let ui = expect_context::<ViewCtx>();
    let (meeting, is_facilitator) = (store.meeting, store.is_facilitator);
    let shown = move || meeting.with(|m| m.follow.is_some()) && !is_facilitator.get();
    view! {
        <Show when=shown>
            <div id="follow-banner" class="follow-banner" role="status">
                {move || {
                    if ui.unfollowed.get() {
                        view! {
                            "The facilitator is presenting"
                            <button class="button small" on:click=move |_| ui.unfollowed.set(false)>
                                "Follow"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! {
                            "Following the facilitator"
                            <button id="stop-following" class="button small" on:click=move |_| ui.unfollowed.set(true)>
                                "Stop following"
                            </button>
                        }
                            .into_any()
                    }
                }}
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_view_recentres_the_same_point() {
        let camera = Camera {
            x: -300.0,
            y: 120.0,
            zoom: 0.75,
        };
        let view = view_of(camera, (1400.0, 800.0));
        // Someone with a smaller window sees the same point in the middle of theirs.
        let theirs = Camera::centred_on(view.x, view.y, view.zoom, 900.0, 600.0);
        let (x, y) = theirs.centre(900.0, 600.0);
        assert!((x - view.x).abs() < 1e-9 && (y - view.y).abs() < 1e-9);
        assert_eq!(theirs.zoom, 0.75);
    }
}
