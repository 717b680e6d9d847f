//! The view onto the canvas: where the world is panned to and how far it is zoomed.
//!
//! Pure math only, so it is unit-tested natively. The screen point of a world point `w` is
//! `w * zoom + (x, y)`, which is exactly what the world layer's CSS
//! `translate(x, y) scale(zoom)` (with `transform-origin: 0 0`) draws.

use hindsight_shared::Rect;

pub const MIN_ZOOM: f64 = 0.1;
/// Below this zoom a note's text is too small to read (under about 7 screen pixels), so
/// on a large board notes are drawn as an overview: their colour and the start of their
/// text in large type, without controls (see `.world.far` in the stylesheet).
pub const FAR_ZOOM: f64 = 0.45;
/// Boards with at least this many notes get the overview; smaller ones are drawn in full
/// at every zoom, which costs little.
pub const FAR_NOTES: usize = 300;
pub const MAX_ZOOM: f64 = 3.0;
/// The zoom a region is brought to when someone goes to it: its guiding question and
/// note text are comfortably legible.
pub const READABLE_ZOOM: f64 = 0.8;
/// Screen pixels left around the board when fitting it.
const FIT_MARGIN: f64 = 32.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
}

impl Default for Camera {
    fn default() -> Camera {
        Camera {
            x: 0.0,
            y: 0.0,
            zoom: 1.0,
        }
    }
}

impl Camera {
    /// The world point under a point of the viewport.
    pub fn to_world(self, sx: f64, sy: f64) -> (f64, f64) {
        ((sx - self.x) / self.zoom, (sy - self.y) / self.zoom)
    }

    /// Multiplies the zoom by `factor`, keeping the world point under the viewport point
    /// `(sx, sy)` where it is, so the canvas grows around the cursor or the pinch.
    pub fn zoom_at(self, sx: f64, sy: f64, factor: f64) -> Camera {
        if !factor.is_finite() || factor <= 0.0 {
            return self;
        }
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let (wx, wy) = self.to_world(sx, sy);
        Camera {
            x: sx - wx * zoom,
            y: sy - wy * zoom,
            zoom,
        }
    }

    pub fn pan(self, dx: f64, dy: f64) -> Camera {
        Camera {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }

    /// The camera that shows all of `bounds`, centred, in a viewport of the given size.
    pub fn fit(bounds: Rect, width: f64, height: f64) -> Camera {
        let avail_w = (width - 2.0 * FIT_MARGIN).max(1.0);
        let avail_h = (height - 2.0 * FIT_MARGIN).max(1.0);
        let zoom = (avail_w / bounds.w)
            .min(avail_h / bounds.h)
            .clamp(MIN_ZOOM, MAX_ZOOM);
        Camera {
            x: (width - bounds.w * zoom) / 2.0 - bounds.x * zoom,
            y: (height - bounds.h * zoom) / 2.0 - bounds.y * zoom,
            zoom,
        }
    }

    /// Like [`Camera::fit`], in the part of the viewport right of `left` (px), which a
    /// panel covers.
    pub fn fit_beside(bounds: Rect, left: f64, width: f64, height: f64) -> Camera {
        let left = left.clamp(0.0, width / 2.0);
        Camera::fit(bounds, width - left, height).pan(left, 0.0)
    }

    /// The camera that brings `region` into view at a readable size: the whole region,
    /// centred, when it fits at [`READABLE_ZOOM`] or more (up to 100 %); otherwise its
    /// top-left part at [`READABLE_ZOOM`], where its title and first notes are.
    pub fn readable(region: Rect, width: f64, height: f64) -> Camera {
        let fitted = Camera::fit(region, width, height);
        if fitted.zoom >= READABLE_ZOOM {
            let zoom = fitted.zoom.min(1.0);
            let (cx, cy) = (region.x + region.w / 2.0, region.y + region.h / 2.0);
            return Camera::centred_on(cx, cy, zoom, width, height);
        }
        Camera {
            x: FIT_MARGIN - region.x * READABLE_ZOOM,
            y: FIT_MARGIN - region.y * READABLE_ZOOM,
            zoom: READABLE_ZOOM,
        }
    }

    /// The camera that puts the world point `(wx, wy)` at the centre of a viewport of the
    /// given size, at `zoom` (clamped), as when following someone else's view.
    pub fn centred_on(wx: f64, wy: f64, zoom: f64, width: f64, height: f64) -> Camera {
        let zoom = if zoom.is_finite() {
            zoom.clamp(MIN_ZOOM, MAX_ZOOM)
        } else {
            1.0
        };
        Camera {
            x: width / 2.0 - wx * zoom,
            y: height / 2.0 - wy * zoom,
            zoom,
        }
    }

    /// The world point at the centre of a viewport of the given size.
    pub fn centre(self, width: f64, height: f64) -> (f64, f64) {
        self.to_world(width / 2.0, height / 2.0)
    }

    pub fn css_transform(self) -> String {
        format!("translate({}px, {}px) scale({})", self.x, self.y, self.zoom)
    }
}

/// The zoom factor for one wheel event. `delta_mode` 1 counts lines and 2 pages, which
/// some mice and Firefox report; they are converted to pixels first. Trackpad pinches
/// arrive as ctrl+wheel with small deltas, so they get a stronger response.
pub fn wheel_factor(delta_y: f64, delta_mode: u32, pinch: bool) -> f64 {
    let pixels = match delta_mode {
        1 => delta_y * 16.0,
        2 => delta_y * 400.0,
        _ => delta_y,
    };
    let sensitivity = if pinch { 0.01 } else { 0.0015 };
    (-pixels.clamp(-400.0, 400.0) * sensitivity).exp()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fitting_beside_a_panel_keeps_the_board_right_of_it() {
        let bounds = Rect::new(0.0, 0.0, 3000.0, 2000.0);
        let cam = Camera::fit_beside(bounds, 340.0, 1400.0, 800.0);
        let (left, _) = (cam.x, cam.y);
        assert!(left >= 340.0, "the board starts right of the panel: {left}");
        assert!(left + 3000.0 * cam.zoom <= 1400.0);
        // A panel wider than half the viewport is not worth shrinking the board for.
        assert_eq!(
            Camera::fit_beside(bounds, 5000.0, 1400.0, 800.0),
            Camera::fit(bounds, 700.0, 800.0).pan(700.0, 0.0)
        );
    }

    #[test]
    fn a_region_is_brought_into_view_readably() {
        // A region that fits at a readable zoom is shown whole and centred, at most 100 %.
        let small = Rect::new(1000.0, 500.0, 600.0, 400.0);
        let cam = Camera::readable(small, 1400.0, 800.0);
        assert!(close(cam.zoom, 1.0));
        assert_eq!(cam.centre(1400.0, 800.0), (1300.0, 700.0));
        // A large one is shown from its top-left corner at the readable zoom.
        let large = Rect::new(0.0, 1540.0, 3160.0, 620.0);
        let cam = Camera::readable(large, 1024.0, 700.0);
        assert!(close(cam.zoom, READABLE_ZOOM));
        let (left, top) = to_screen(cam, large.x, large.y);
        assert!(close(left, 32.0) && close(top, 32.0));
    }

    use super::*;

    fn to_screen(cam: Camera, wx: f64, wy: f64) -> (f64, f64) {
        (wx * cam.zoom + cam.x, wy * cam.zoom + cam.y)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn zooming_keeps_the_point_under_the_cursor_still() {
        let cam = Camera {
            x: 40.0,
            y: -25.0,
            zoom: 0.8,
        };
        for (sx, sy, factor) in [(0.0, 0.0, 2.0), (300.0, 120.0, 1.1), (812.5, 640.0, 0.5)] {
            let before = cam.to_world(sx, sy);
            let after = cam.zoom_at(sx, sy, factor);
            let now = after.to_world(sx, sy);
            assert!(
                close(before.0, now.0) && close(before.1, now.1),
                "{sx},{sy}"
            );
            assert!(close(after.zoom, 0.8 * factor));
        }
    }

    #[test]
    fn zoom_is_clamped_and_ignores_nonsense() {
        let cam = Camera::default();
        assert_eq!(cam.zoom_at(10.0, 10.0, 100.0).zoom, MAX_ZOOM);
        assert_eq!(cam.zoom_at(10.0, 10.0, 0.0001).zoom, MIN_ZOOM);
        assert_eq!(cam.zoom_at(10.0, 10.0, f64::NAN), cam);
        assert_eq!(cam.zoom_at(10.0, 10.0, -2.0), cam);
    }

    #[test]
    fn screen_and_world_are_inverse() {
        let cam = Camera {
            x: 12.0,
            y: 7.0,
            zoom: 1.7,
        };
        let (sx, sy) = to_screen(cam, 100.0, -50.0);
        let (wx, wy) = cam.to_world(sx, sy);
        assert!(close(wx, 100.0) && close(wy, -50.0));
    }

    #[test]
    fn fit_centres_the_bounds_inside_the_margin() {
        let bounds = Rect::new(100.0, 200.0, 1000.0, 500.0);
        let cam = Camera::fit(bounds, 1064.0, 900.0);
        // Width is the limiting side: 1000 world px in 1000 screen px.
        assert!(close(cam.zoom, 1.0));
        let (left, top) = to_screen(cam, bounds.x, bounds.y);
        let (right, bottom) = to_screen(cam, bounds.right(), bounds.bottom());
        assert!(close(left, 32.0) && close(right, 1032.0));
        assert!(close(top, 900.0 - bottom), "vertically centred");

        let board = hindsight_shared::Template::postmortem().bounds();
        let cam = Camera::fit(board, 1400.0, 800.0);
        let (l, t) = to_screen(cam, board.x, board.y);
        let (r, b) = to_screen(cam, board.right(), board.bottom());
        assert!(l >= 31.9 && t >= 31.9 && r <= 1368.1 && b <= 768.1);
    }

    #[test]
    fn centring_round_trips_through_the_centre() {
        let cam = Camera::centred_on(1200.0, -300.0, 0.5, 1000.0, 600.0);
        assert_eq!(to_screen(cam, 1200.0, -300.0), (500.0, 300.0));
        let (x, y) = cam.centre(1000.0, 600.0);
        assert!(close(x, 1200.0) && close(y, -300.0));
        assert_eq!(
            Camera::centred_on(0.0, 0.0, 99.0, 10.0, 10.0).zoom,
            MAX_ZOOM
        );
        assert_eq!(Camera::centred_on(0.0, 0.0, f64::NAN, 10.0, 10.0).zoom, 1.0);
    }

    #[test]
    fn wheel_direction_and_units() {
        assert!(
            wheel_factor(100.0, 0, false) < 1.0,
            "scrolling down zooms out"
        );
        assert!(wheel_factor(-100.0, 0, false) > 1.0);
        assert!(close(
            wheel_factor(3.0, 1, false),
            wheel_factor(48.0, 0, false)
        ));
        assert!(wheel_factor(-10.0, 0, true) > wheel_factor(-10.0, 0, false));
        assert_eq!(wheel_factor(0.0, 0, false), 1.0);
    }
}
