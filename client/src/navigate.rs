//! Going from region to region with the keyboard: `]` goes to the next region, `[` to the
//! previous one, in the order the meeting walks them (by step, then as the template lists
//! them). On the canvas the region comes into view at a readable size and its title takes
//! the focus; "the current region" is the one nearest the centre of the view, so the keys
//! work from wherever someone has panned to. In the list the focus goes to the next
//! region's section, from the one that holds the focus.

use hindsight_shared::{Rect, Template};
use leptos::prelude::*;
use web_sys::KeyboardEvent;

use crate::camera::Camera;
use crate::context::View;
use crate::dom;
use crate::list::ListMode;
use crate::store::Store;

/// The region after (or before) the one nearest `centre`, in walking order, from the
/// regions as drawn (`rect_of`); wraps around. Its key and rectangle.
pub fn neighbour(
    template: &Template,
    rect_of: impl Fn(&str) -> Option<Rect>,
    centre: (f64, f64),
    forward: bool,
) -> Option<(&str, Rect)> {
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
    let (_, i, rect) = order[next];
    Some((template.regions[i].key.as_str(), rect))
}

/// The region after (or before) `current` in walking order, wrapping; the first (or
/// last) one when there is no current one.
pub fn next_key<'t>(
    template: &'t Template,
    current: Option<&str>,
    forward: bool,
) -> Option<&'t str> {
    let mut order: Vec<(u8, usize)> = template
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.step, i))
        .collect();
    order.sort();
    let n = order.len();
    let at = current.and_then(|k| {
        order
            .iter()
            .position(|&(_, i)| template.regions[i].key == k)
    });
    let next = match (at, forward) {
        (Some(at), true) => (at + 1) % n,
        (Some(at), false) => (at + n - 1) % n,
        (None, true) => 0,
        (None, false) => n.checked_sub(1)?,
    };
    Some(template.regions[order.get(next)?.1].key.as_str())
}

/// Listens for `[` and `]` outside text fields.
pub fn shortcuts(store: Store, view: View, list: ListMode) {
    let _ = window_event_listener(leptos::ev::keydown, move |ev: KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || dom::typing_in(&ev) {
            return;
        }
        let forward = match ev.key().as_str() {
            "]" => true,
            "[" => false,
            _ => return,
        };
        ev.prevent_default();
        if list.0.get_untracked() {
            let current = document()
                .active_element()
                .and_then(|a| a.closest(".list-region").ok().flatten())
                .and_then(|r| r.get_attribute("data-region"));
            let next = store
                .template
                .with_untracked(|t| next_key(t, current.as_deref(), forward).map(str::to_owned));
            if let Some(key) = next {
                let section = format!(".list-region[data-region=\"{key}\"]");
                dom::focus_first(&[&format!("{section} .list-add"), &format!("{section} h2")]);
            }
            return;
        }
        let (w, h) = view.viewport.get_untracked();
        let centre = view.camera.get_untracked().centre(w, h);
        let target = store.template.with_untracked(|t| {
            store.indexed.layout.with_untracked(|l| {
                neighbour(t, |k| l.rect(k), centre, forward).map(|(k, r)| (k.to_owned(), r))
            })
        });
        if let Some((key, rect)) = target {
            view.camera.set(Camera::readable(rect, w, h));
            // The keyboard goes along: Tab goes on from the region just reached. Once
            // the view has moved, so that following the focus finds it in view.
            request_animation_frame(move || {
                dom::focus_first(&[&format!(".region[data-region=\"{key}\"] .region-title")]);
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(key: &str) -> Option<Rect> {
        Template::postmortem().region(key).map(|r| r.rect)
    }

    fn at(key: &str) -> Option<(&str, Rect)> {
        Some((key, rect(key)?))
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
            at("timeline")
        );
        assert_eq!(neighbour(t, rect, centre_of("detect"), true), at("react"));
        assert_eq!(
            neighbour(t, rect, centre_of("detect"), false),
            at("timeline")
        );
        assert_eq!(
            neighbour(t, rect, centre_of("actions"), true),
            at("summary")
        );
        assert_eq!(
            neighbour(t, rect, centre_of("summary"), false),
            at("actions")
        );
        // From a gap or beyond the board, the nearest region is the current one.
        assert_eq!(neighbour(t, rect, (-5000.0, -5000.0), true), at("timeline"));
    }

    #[test]
    fn the_list_walks_the_same_order_from_the_focused_region() {
        let t = Template::postmortem();
        assert_eq!(next_key(t, Some("detect"), true), Some("react"));
        assert_eq!(next_key(t, Some("summary"), false), Some("actions"));
        assert_eq!(next_key(t, Some("actions"), true), Some("summary"));
        assert_eq!(next_key(t, None, true), Some("summary"));
        assert_eq!(next_key(t, None, false), Some("actions"));
    }
}
