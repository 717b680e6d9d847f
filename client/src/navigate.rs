//! Going from region to region with the keyboard: `]` brings the next region into view at
//! a readable size, `[` the previous one, in the order the meeting walks them (by step,
//! then as the template lists them). "The current region" is the one nearest the centre
//! of the view, so the keys work from wherever someone has panned to.

use hindsight_shared::{Rect, Template};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::camera::Camera;
use crate::context::View;
use crate::dom;
use crate::store::Store;

/// The region after (or before) the one nearest `centre`, in walking order, from the
/// regions as drawn (`rect_of`); wraps around.
pub fn neighbour(
    template: &Template,
    rect_of: impl Fn(&str) -> Option<Rect>,
    centre: (f64, f64),
    forward: bool,
) -> Option<Rect> {
    let mut order: Vec<(u8, usize, Rect)> = template
        .regions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((r.step, i, rect_of(&r.key)?)))
        .collect();
    order.sort_by_key(|(step, i, _)| (*step, *i));
    let distance = |r: &Rect| {
        // Zero inside the region, so a region that holds the centre is always current.
        let dx = (r.x - centre.0).max(centre.0 - r.right()).max(0.0);
        let dy = (r.y - centre.1).max(centre.1 - r.bottom()).max(0.0);
        dx * dx + dy * dy
    };
    let current = order
        .iter()
        .enumerate()
        .min_by(|a, b| distance(&a.1 .2).total_cmp(&distance(&b.1 .2)))?
        .0;
    let n = order.len();
    let next = if forward {
        (current + 1) % n
    } else {
        (current + n - 1) % n
    };
    Some(order[next].2)
}

/// Listens for `[` and `]` outside text fields.
pub fn shortcuts(store: Store, view: View) {
    let _ = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || dom::typing_in(&ev) {
            return;
        }
        let forward = match ev.key().as_str() {
            "]" => true,
            "[" => false,
            _ => return,
        };
        let (w, h) = view.viewport.get_untracked();
        let centre = view.camera.get_untracked().centre(w, h);
        let target = store.template.with_untracked(|t| {
            store
                .indexed
                .layout
                .with_untracked(|l| neighbour(t, |k| l.rect(k), centre, forward))
        });
        if let Some(rect) = target {
            ev.prevent_default();
            view.camera.set(Camera::readable(rect, w, h));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(key: &str) -> Option<Rect> {
        Template::postmortem().region(key).map(|r| r.rect)
    }

    fn centre_of(key: &str) -> (f64, f64) {
        let r = rect(key).unwrap();
        (r.x + r.w / 2.0, r.y + r.h / 2.0)
    }

    #[test]
    fn the_keys_walk_the_steps_and_wrap() {
        let t = Template::postmortem();
        assert_eq!(
            neighbour(t, rect, centre_of("summary"), true),
            rect("timeline")
        );
        assert_eq!(neighbour(t, rect, centre_of("detect"), true), rect("react"));
        assert_eq!(
            neighbour(t, rect, centre_of("detect"), false),
            rect("timeline")
        );
        assert_eq!(
            neighbour(t, rect, centre_of("actions"), true),
            rect("summary")
        );
        assert_eq!(
            neighbour(t, rect, centre_of("summary"), false),
            rect("actions")
        );
        // From a gap or beyond the board, the nearest region is the current one.
        assert_eq!(
            neighbour(t, rect, (-5000.0, -5000.0), true),
            rect("timeline")
        );
    }
}
