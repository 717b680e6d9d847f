//! Culling: which notes are in the page as elements ([`Mounted`], in the board's order).
//!
//! - Zoomed in, the notes near the view: once the camera has stood still for a moment,
//!   every note is checked against the visible part of the canvas, grown by a margin of a
//!   viewport on each side, so a pan of less than that finds its notes already drawn.
//! - In the overview of a large board, where every note may be in view, only the notes
//!   someone works on: the rest are drawn on one canvas (`overview.rs`).
//!
//! Either way a note that is selected or edited here, and in the overview one that
//! someone else edits or drags, is mounted wherever it is. Never per frame: the check
//! runs when the camera settles, and at once when notes come or go, the selection
//! changes or someone starts or stops working on a note; the list is set only when it
//! changed.

use std::time::Duration;

use hindsight_shared::{NoteId, Rect};
use leptos::prelude::*;

use crate::camera::Camera;
use crate::context::{Mounted, Overview, Selection, View};
use crate::notes::set_if_changed;
use crate::store::Store;

/// How long the camera must stand still before notes are checked.
const SETTLE: Duration = Duration::from_millis(150);

/// A board opened with more notes in view than this mounts them this many per frame, so
/// its first notes are on screen before the last ones are built.
const CHUNK: usize = 400;

/// The part of the canvas worth painting for `camera` over a viewport of `(w, h)`: what
/// is visible, grown by one viewport on every side.
pub fn painted_area(camera: Camera, (w, h): (f64, f64)) -> Rect {
    let (x0, y0) = camera.to_world(-w, -h);
    let (x1, y1) = camera.to_world(2.0 * w, 2.0 * h);
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// Keeps the mounted notes in step with the settled camera, and returns them.
pub fn start(store: Store, view: View, selection: Selection, overview: Overview) -> Mounted {
    let mounted = Mounted(RwSignal::new(Vec::new()));
    let generation = StoredValue::new(0u32);
    let (ids, edited) = (store.indexed.ids, store.indexed.edited);
    // The camera and viewport of the last check: only their change waits to settle.
    let checked = StoredValue::new(None::<(Camera, (f64, f64))>);
    Effect::new(move |_| {
        // In the overview the list does not depend on the view, so a pan re-runs nothing.
        let far = overview.0.get();
        let (camera, size) = if far {
            (view.camera.get_untracked(), view.viewport.get_untracked())
        } else {
            (view.camera.get(), view.viewport.get())
        };
        // New notes are checked too; the id list changes only when notes come or go.
        ids.track();
        selection.selected.track();
        selection.editing.track();
        if far {
            edited.track();
        }
        generation.update_value(|g| *g = g.wrapping_add(1));
        let mine = generation.get_value();
        let store = store.clone();
        let check = move || {
            if generation.get_value() != mine || size.0 <= 0.0 {
                return;
            }
            checked.set_value(Some((camera, size)));
            let area = painted_area(camera, size);
            let keep = |id: &NoteId| {
                selection.selected.with_untracked(|s| s.contains(id))
                    || selection.editing.with_untracked(|e| e.as_ref() == Some(id))
                    || if far {
                        edited.with_untracked(|e| e.contains(id))
                    } else {
                        store
                            .note(id)
                            .is_some_and(|n| n.drawn_rect_now().overlaps(&area))
                    }
            };
            let list: Vec<NoteId> =
                ids.with_untracked(|ids| ids.iter().filter(|id| keep(id)).cloned().collect());
            if mounted.0.with_untracked(Vec::is_empty) && list.len() > CHUNK {
                mount_in_chunks(mounted, list, CHUNK, generation, mine);
            } else {
                set_if_changed(mounted.0, list);
            }
        };
        // The first notes are drawn at once, and so is anything but a moving view; a
        // moving view waits to settle.
        let moved = checked.get_value() != Some((camera, size));
        if mounted.0.with_untracked(Vec::is_empty) || !moved || far {
            check();
        } else {
            set_timeout(check, SETTLE);
        }
    });
    mounted
}

/// Mounts the first `count` notes of `list` now and `CHUNK` more every frame after,
/// unless a newer check (`generation` past `mine`) has taken over.
fn mount_in_chunks(
    mounted: Mounted,
    list: Vec<NoteId>,
    count: usize,
    generation: StoredValue<u32>,
    mine: u32,
) {
    if generation.get_value() != mine {
        return;
    }
    let count = count.min(list.len());
    mounted.0.set(list[..count].to_vec());
    if count < list.len() {
        request_animation_frame(move || {
            mount_in_chunks(mounted, list, count + CHUNK, generation, mine)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_painted_area_is_the_view_and_a_viewport_around_it() {
        let camera = Camera {
            x: -1000.0,
            y: -500.0,
            zoom: 0.5,
        };
        // The visible world: x 2000..3600, y 1000..2800 (viewport 800 × 900 at 0.5).
        let area = painted_area(camera, (800.0, 900.0));
        assert_eq!(area, Rect::new(400.0, -800.0, 4800.0, 5400.0));
        let near = Rect::new(3700.0, 1000.0, 200.0, 140.0);
        let far = Rect::new(9000.0, 1000.0, 200.0, 140.0);
        assert!(near.overlaps(&area) && !far.overlaps(&area));
    }
}
