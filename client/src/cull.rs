//! Culling: notes far outside the viewport are not painted. Once the camera has stood
//! still for a moment, every note is checked against the visible part of the canvas,
//! grown by a margin of a viewport on each side, so a pan of less than that finds its
//! notes already painted. Only notes whose state changed are touched; a note that is
//! selected, edited or dragged is drawn whatever the check says (`note.rs`).
//!
//! Never per frame: the check runs when the camera settles, and when notes arrive.

use std::time::Duration;

use hindsight_shared::Rect;
use leptos::prelude::*;

use crate::camera::Camera;
use crate::context::View;
use crate::store::Store;

/// How long the camera must stand still before notes are checked.
const SETTLE: Duration = Duration::from_millis(150);

/// The part of the canvas worth painting for `camera` over a viewport of `(w, h)`: what
/// is visible, grown by one viewport on every side.
pub fn painted_area(camera: Camera, (w, h): (f64, f64)) -> Rect {
    let (x0, y0) = camera.to_world(-w, -h);
    let (x1, y1) = camera.to_world(2.0 * w, 2.0 * h);
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
}

/// Keeps every note's culled flag in step with the settled camera.
pub fn start(store: Store, view: View) {
    let generation = StoredValue::new(0u32);
    Effect::new(move |_| {
        let camera = view.camera.get();
        let size = view.viewport.get();
        // New notes are checked too; the id list changes only when notes come or go.
        store.indexed.ids.track();
        generation.update_value(|g| *g = g.wrapping_add(1));
        let mine = generation.get_value();
        let store = store.clone();
        set_timeout(
            move || {
                if generation.get_value() != mine || size.0 <= 0.0 {
                    return;
                }
                let area = painted_area(camera, size);
                for (_, note) in store.handles() {
                    note.set_culled(!overlaps(&note.drawn_rect_now(), &area));
                }
            },
            SETTLE,
        );
    });
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
        assert!(overlaps(&near, &area) && !overlaps(&far, &area));
    }
}
