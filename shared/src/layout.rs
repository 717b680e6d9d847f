//! Regions that fit their notes. A template gives each region a rectangle; when a region's
//! notes reach past it, the region grows to hold them, and the regions to its right (in
//! its row) and below it (in its column) move over by as much, so no region ever lies
//! under another's notes.
//!
//! Growth is derived, never stored: every replica computes the same [`BoardLayout`] from
//! the same notes. A note's stored position is in its region's own frame (where the
//! template put the region), and it is drawn at that position plus the region's
//! [`Placed::offset`]. A move never rewrites other notes: when Detect grows, React's notes
//! keep their stored positions and are drawn further down with their region.
//!
//! Only the right and bottom edges grow (a note left of or above its region stays where
//! it is drawn), and by at most [`MAX_GROWTH`], so one stray coordinate cannot make a
//! board kilometres wide.

use std::collections::HashMap;

use crate::region::{Rect, Region, Role};
use crate::schema::NoteData;
use crate::template::Template;
use crate::timeline::{Axis, Timeline};

/// Space kept between a region's edge and the notes nearest it.
pub const PAD: f64 = 20.0;
/// How far past its template rectangle a region may grow, each way.
pub const MAX_GROWTH: f64 = 40_000.0;

/// One region where it is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Placed {
    pub key: String,
    /// Where the region is drawn, grown and moved.
    pub rect: Rect,
    /// How far the region (and every note in it) moved from its template position.
    pub offset: (f64, f64),
}

/// Every region of a board where it is drawn, in the template's order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardLayout {
    pub regions: Vec<Placed>,
}

impl BoardLayout {
    /// The template's regions as drawn when `reach(region)` gives the far right and bottom
    /// of each region's content, in the region's own frame (`None` for no content).
    pub fn of(template: &Template, reach: impl Fn(&Region) -> Option<(f64, f64)>) -> BoardLayout {
        let regions = &template.regions;
        let grown: Vec<(f64, f64)> = regions
            .iter()
            .map(|r| {
                let (w, h) = (r.rect.w, r.rect.h);
                let grow = |size: f64, far: f64, from: f64| {
                    if far.is_finite() {
                        size.max(far + PAD - from).min(size + MAX_GROWTH)
                    } else {
                        size
                    }
                };
                match reach(r) {
                    Some((right, bottom)) => (grow(w, right, r.rect.x), grow(h, bottom, r.rect.y)),
                    None => (w, h),
                }
            })
            .collect();
        let original: Vec<Rect> = regions.iter().map(|r| r.rect).collect();
        let spans = |a: (f64, f64), b: (f64, f64)| a.0 < b.1 && b.0 < a.1;

        // Right: a region moves by what the regions to its left in its row grew (and
        // moved), measured on the template's rectangles so rows stay rows.
        let mut dx = vec![0.0f64; regions.len()];
        for i in order_by(&original, |r| r.x) {
            let r = original[i];
            dx[i] = (0..regions.len())
                .filter(|&j| {
                    j != i
                        && original[j].right() <= r.x
                        && spans((original[j].y, original[j].bottom()), (r.y, r.bottom()))
                })
                .map(|j| dx[j] + grown[j].0 - original[j].w)
                .fold(0.0, f64::max);
        }
        // Down: by what the regions above it grew (and moved), among those that share
        // columns with it once moved right and grown. A row of regions (the same top in
        // the template) moves down together, so the board keeps its rows.
        let span_x = |j: usize| (original[j].x + dx[j], original[j].x + dx[j] + grown[j].0);
        let mut dy = vec![0.0f64; regions.len()];
        let by_y = order_by(&original, |r| r.y);
        for row in by_y.chunk_by(|&a, &b| original[a].y == original[b].y) {
            let top = original[row[0]].y;
            let original = &original;
            let moved = row
                .iter()
                .flat_map(|&i| {
                    (0..regions.len()).filter(move |&j| {
                        original[j].bottom() <= top && spans(span_x(j), span_x(i))
                    })
                })
                .map(|j| dy[j] + grown[j].1 - original[j].h)
                .fold(0.0, f64::max);
            for &i in row {
                dy[i] = moved;
            }
        }
        // Templates are free-form: whatever still overlaps (a region grown into one that
        // sat beside it in another row) goes below what it overlaps, top to bottom.
        let placed = |i: usize, dy: &[f64]| {
            Rect::new(
                original[i].x + dx[i],
                original[i].y + dy[i],
                grown[i].0,
                grown[i].1,
            )
        };
        for (k, &i) in by_y.iter().enumerate() {
            for &j in &by_y[..k] {
                let (a, b) = (placed(j, &dy), placed(i, &dy));
                if a.overlaps(&b) && original[j].y <= original[i].y {
                    dy[i] += a.bottom() + PAD - b.y;
                }
            }
        }

        BoardLayout {
            regions: regions
                .iter()
                .enumerate()
                .map(|(i, r)| Placed {
                    key: r.key.clone(),
                    rect: placed(i, &dy),
                    offset: (dx[i], dy[i]),
                })
                .collect(),
        }
    }

    /// The layout of a board with these notes, and its timeline's axis, computed from
    /// scratch (the page keeps the same answer up to date one note at a time).
    pub fn of_notes(template: &Template, notes: &[NoteData]) -> (BoardLayout, Axis) {
        let axis = template
            .with_role(Role::Timeline)
            .map(|r| Timeline::of(notes).layout(r.rect))
            .unwrap_or_default();
        let mut reach: HashMap<&str, (f64, f64)> = HashMap::new();
        for n in notes.iter().filter(|n| n.role != Some(Role::Timeline)) {
            if let Some(key) = n.region.as_deref() {
                let far = reach.entry(key).or_insert((f64::MIN, f64::MIN));
                *far = (far.0.max(n.x + n.w), far.1.max(n.y + n.h));
            }
        }
        let layout = BoardLayout::of(template, |r| {
            if r.has_role(Role::Timeline) {
                axis.reach
            } else {
                reach.get(r.key.as_str()).copied()
            }
        });
        (layout, axis)
    }

    /// The template's regions as they are, for a board with no notes.
    pub fn unchanged(template: &Template) -> BoardLayout {
        BoardLayout::of(template, |_| None)
    }

    pub fn placed(&self, key: &str) -> Option<&Placed> {
        self.regions.iter().find(|p| p.key == key)
    }

    /// Where region `key` is drawn.
    pub fn rect(&self, key: &str) -> Option<Rect> {
        self.placed(key).map(|p| p.rect)
    }

    /// How far region `key`, and its notes, are drawn from where they are stored.
    pub fn offset(&self, key: Option<&str>) -> (f64, f64) {
        key.and_then(|k| self.placed(k))
            .map_or((0.0, 0.0), |p| p.offset)
    }

    /// The region drawn at a canvas point, if any.
    pub fn region_at(&self, x: f64, y: f64) -> Option<&Placed> {
        self.regions.iter().find(|p| p.rect.contains(x, y))
    }

    /// Where a note drawn at `(x, y)` in region `key` is stored.
    pub fn to_stored(&self, key: Option<&str>, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = self.offset(key);
        (x - dx, y - dy)
    }

    /// Where a note stored at `(x, y)` in region `key` is drawn.
    pub fn to_drawn(&self, key: Option<&str>, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = self.offset(key);
        (x + dx, y + dy)
    }

    /// The rectangle that encloses every region as drawn.
    pub fn bounds(&self) -> Rect {
        Rect::enclosing(self.regions.iter().map(|p| p.rect))
            .unwrap_or(Rect::new(0.0, 0.0, 1.0, 1.0))
    }
}

/// Region indices sorted by `key` of their template rectangle (ties by template order).
fn order_by(rects: &[Rect], key: impl Fn(&Rect) -> f64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rects.len()).collect();
    order.sort_by(|&a, &b| key(&rects[a]).total_cmp(&key(&rects[b])).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::builtins;

    fn postmortem() -> &'static Template {
        Template::postmortem()
    }

    fn with(reach: &[(&str, (f64, f64))]) -> BoardLayout {
        let reach: HashMap<&str, (f64, f64)> = reach.iter().copied().collect();
        BoardLayout::of(postmortem(), |r| reach.get(r.key.as_str()).copied())
    }

    fn assert_apart(layout: &BoardLayout) {
        for (i, a) in layout.regions.iter().enumerate() {
            for b in &layout.regions[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{} overlaps {}", a.key, b.key);
            }
        }
    }

    #[test]
    fn a_board_whose_notes_fit_is_its_template() {
        let layout = BoardLayout::unchanged(postmortem());
        for (placed, region) in layout.regions.iter().zip(&postmortem().regions) {
            assert_eq!(placed.rect, region.rect);
            assert_eq!(placed.offset, (0.0, 0.0));
        }
        let detect = postmortem().region("detect").unwrap().rect;
        // Notes inside their region change nothing.
        assert_eq!(
            with(&[("detect", (detect.right() - 40.0, detect.bottom() - 40.0))]),
            layout
        );
    }

    #[test]
    fn a_region_grows_down_and_the_regions_below_move_with_it() {
        let detect = postmortem().region("detect").unwrap().rect;
        let layout = with(&[("detect", (detect.right() - 50.0, detect.bottom() + 300.0))]);
        let grown = layout.rect("detect").unwrap();
        assert_eq!(grown.h, detect.h + 300.0 + PAD);
        assert_eq!(layout.offset(Some("actions")), (0.0, 300.0 + PAD));
        assert_eq!(
            layout.offset(Some("react")),
            (0.0, 0.0),
            "beside it, not below"
        );
        assert_eq!(layout.offset(Some("summary")), (0.0, 0.0));
        assert_apart(&layout);
    }

    #[test]
    fn the_timeline_grows_right_and_down() {
        let t = postmortem().region("timeline").unwrap().rect;
        let layout = with(&[("timeline", (t.right() + 5000.0, t.bottom() + 200.0))]);
        assert_eq!(layout.rect("timeline").unwrap().w, t.w + 5000.0 + PAD);
        for below in ["detect", "react", "prevent", "actions"] {
            assert_eq!(layout.offset(Some(below)).1, 200.0 + PAD, "{below}");
        }
        assert_apart(&layout);
    }

    #[test]
    fn growth_to_the_right_moves_the_row_along() {
        let summary = postmortem().region("summary").unwrap().rect;
        let layout = with(&[(
            "summary",
            (summary.right() + 100.0, summary.bottom() - 40.0),
        )]);
        assert_eq!(layout.offset(Some("timeline")), (100.0 + PAD, 0.0));
        assert_eq!(layout.offset(Some("detect")), (0.0, 0.0));
        assert_apart(&layout);
    }

    #[test]
    fn stray_coordinates_grow_a_region_only_so_far() {
        let layout = with(&[("detect", (1e12, f64::INFINITY))]);
        let detect = postmortem().region("detect").unwrap().rect;
        assert_eq!(layout.rect("detect").unwrap().w, detect.w + MAX_GROWTH);
        assert_eq!(
            layout.rect("detect").unwrap().h,
            detect.h,
            "not finite: ignored"
        );
    }

    #[test]
    fn stored_and_drawn_positions_convert_both_ways() {
        let detect = postmortem().region("detect").unwrap().rect;
        let layout = with(&[("detect", (detect.right(), detect.bottom() + 500.0))]);
        let (x, y) = (40.0, 2000.0);
        let drawn = layout.to_drawn(Some("actions"), x, y);
        assert_eq!(layout.to_stored(Some("actions"), drawn.0, drawn.1), (x, y));
        assert_eq!(layout.to_drawn(None, x, y), (x, y));
        let actions = layout.rect("actions").unwrap();
        assert_eq!(
            layout
                .region_at(actions.x + 5.0, actions.y + 5.0)
                .map(|p| p.key.as_str()),
            Some("actions")
        );
    }

    #[test]
    fn no_template_ends_with_overlapping_regions_whatever_grows() {
        // Every built-in, with each region in turn (and all at once) grown a lot.
        for template in builtins() {
            let keys: Vec<&str> = template.regions.iter().map(|r| r.key.as_str()).collect();
            for grow in keys.iter().map(|k| vec![*k]).chain([keys.clone()]) {
                for amount in [10.0, 700.0, 3000.0] {
                    let layout = BoardLayout::of(template, |r| {
                        grow.contains(&r.key.as_str())
                            .then(|| (r.rect.right() + amount, r.rect.bottom() + amount))
                    });
                    assert_apart(&layout);
                }
            }
        }
    }
}
