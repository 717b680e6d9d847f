//! The Rough Timeline drawn as a time axis: entries left to right by time, in one lane per
//! kind, with long idle stretches squeezed to a marked gap so a two-day incident does not
//! need two days of board.
//!
//! ```text
//!            14:02        14:10      ⋯ 3 h ⋯   17:31
//! Reported   [alert]
//! Detected        [paged]
//! Action                 [rollback]            [fix]
//! Resolved                                          [resolved]
//! No time    [?] [?]
//! ```
//!
//! Pure and deterministic: every replica gives the same entries in the same order (time,
//! creation, id) and so draws the same axis. Positions are in the timeline region's own
//! frame (the rectangle its template gives); the region grows to [`Axis::reach`].
//!
//! The rules, in order of precedence for each timed entry:
//! 1. never left of the entry before it (reading order is time order);
//! 2. never over the previous entry of its own lane;
//! 3. otherwise as far right of the previous entry as the time between them says, at
//!    [`PX_PER_MINUTE`], up to [`MAX_STRETCH`]; a longer pause is drawn as a [`Gap`] of
//!    [`GAP_WIDTH`] instead.

use crate::id::NoteId;
use crate::region::Rect;
use crate::schema::{NOTE_HEIGHT, NOTE_WIDTH};
use crate::timeline::EntryKind;

/// Height of the region's own header (title and up to three lines of question).
pub const HEADER: f64 = 150.0;
/// Height of one row of labels above the lanes.
pub const ROW: f64 = 26.0;
/// The rows above the lanes: time labels, squeezed pauses, time to detect, time to
/// resolve.
pub const LABELS: f64 = 4.0 * ROW;
/// Width of the lane names at the left of the lanes.
pub const LANE_NAMES: f64 = 120.0;
/// Space around and between entries.
pub const SPACE: f64 = 16.0;
/// Space between the region's edges and its content.
pub const PAD: f64 = 20.0;
/// How far apart two entries a minute apart are drawn (a note's width per ten minutes).
pub const PX_PER_MINUTE: f64 = (NOTE_WIDTH + SPACE) / 10.0;
/// The longest stretch of time drawn to scale, in px (twenty minutes).
pub const MAX_STRETCH: f64 = 20.0 * PX_PER_MINUTE;
/// The width a longer pause is squeezed to.
pub const GAP_WIDTH: f64 = 72.0;
/// Time labels are at least this far apart.
const TICK_SPACING: f64 = 150.0;

/// A lane of the axis: one per kind that has entries, one for timed entries without a
/// kind, and one for entries that have no time yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKind {
    Kind(EntryKind),
    Unsorted,
    Untimed,
}

impl LaneKind {
    /// Lanes from top to bottom, the order an incident usually unfolds.
    const ORDER: [LaneKind; 7] = [
        LaneKind::Kind(EntryKind::Reported),
        LaneKind::Kind(EntryKind::Detected),
        LaneKind::Kind(EntryKind::Action),
        LaneKind::Kind(EntryKind::Communication),
        LaneKind::Kind(EntryKind::Resolved),
        LaneKind::Unsorted,
        LaneKind::Untimed,
    ];

    fn index(self) -> usize {
        LaneKind::ORDER.iter().position(|l| *l == self).unwrap_or(0)
    }

    pub fn label(self) -> &'static str {
        match self {
            LaneKind::Kind(kind) => kind.label(),
            LaneKind::Unsorted => "Other",
            LaneKind::Untimed => "No time yet",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LaneKind::Kind(kind) => kind.as_str(),
            LaneKind::Unsorted => "other",
            LaneKind::Untimed => "untimed",
        }
    }
}

/// One entry to lay out: timed entries in time order first, then untimed ones in creation
/// order.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub id: &'a NoteId,
    /// UTC milliseconds, if it has a time.
    pub time: Option<i64>,
    pub kind: Option<EntryKind>,
    /// The note's size (a resized entry takes the room it needs).
    pub w: f64,
    pub h: f64,
}

impl Entry<'_> {
    fn lane(&self) -> LaneKind {
        match (self.time, self.kind) {
            (None, _) => LaneKind::Untimed,
            (Some(_), Some(kind)) => LaneKind::Kind(kind),
            (Some(_), None) => LaneKind::Unsorted,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lane {
    pub kind: LaneKind,
    /// Top of the lane, in board coordinates of the region's own frame.
    pub y: f64,
    pub h: f64,
}

/// A time label on the axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    pub x: f64,
    pub utc_ms: i64,
}

/// Where a pause longer than [`MAX_STRETCH`] was squeezed: at `x`, `ms` long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    pub x: f64,
    pub ms: i64,
}

/// The x of the entries that time to detect and to resolve run between.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Markers {
    pub start: Option<f64>,
    pub detected: Option<f64>,
    pub resolved: Option<f64>,
}

/// The timeline laid out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Axis {
    /// Where each entry's note goes (top-left corner).
    pub slots: Vec<(NoteId, f64, f64)>,
    pub lanes: Vec<Lane>,
    pub ticks: Vec<Tick>,
    pub gaps: Vec<Gap>,
    pub markers: Markers,
    /// The far right and bottom of everything drawn, padding included; `None` without
    /// entries.
    pub reach: Option<(f64, f64)>,
}

impl Axis {
    /// The y of row `row` of labels (0: times, 1: pauses, 2: time to detect, 3: time
    /// to resolve).
    pub fn row_y(area: Rect, row: u8) -> f64 {
        area.y + HEADER + f64::from(row) * ROW
    }
}

/// Lays out `entries` (timed ones in time order, then untimed ones) in the timeline
/// region `area`.
pub fn lay_out<'a>(area: Rect, entries: impl IntoIterator<Item = Entry<'a>>) -> Axis {
    let entries: Vec<Entry> = entries.into_iter().collect();
    let mut axis = Axis::default();
    if entries.is_empty() {
        return axis;
    }

    let x0 = area.x + PAD + LANE_NAMES;
    // Entries without a time wait in rows as wide as the template's region, in creation
    // order, so a heap of them grows the timeline down, not kilometres to the right.
    let mut untimed_at: Vec<(f64, usize)> = Vec::new();
    let mut rows: Vec<f64> = Vec::new();
    let mut x = x0;
    for e in entries.iter().filter(|e| e.time.is_none()) {
        if rows.is_empty() || (x > x0 && x + e.w > area.right() - PAD) {
            rows.push(0.0);
            x = x0;
        }
        let row = rows.len() - 1;
        rows[row] = rows[row].max(e.h.max(NOTE_HEIGHT / 2.0) + SPACE);
        untimed_at.push((x, row));
        x += e.w + SPACE;
    }
    let row_tops: Vec<f64> = rows
        .iter()
        .scan(0.0, |top, h| {
            let at = *top;
            *top += h;
            Some(at)
        })
        .collect();

    // Lanes: only those with entries, each as tall as its tallest entry (the untimed one
    // as its rows).
    let mut heights = [0.0f64; LaneKind::ORDER.len()];
    for e in entries.iter().filter(|e| e.time.is_some()) {
        let i = e.lane().index();
        heights[i] = heights[i].max(e.h.max(NOTE_HEIGHT / 2.0));
    }
    if !rows.is_empty() {
        heights[LaneKind::Untimed.index()] = rows.iter().sum::<f64>() - SPACE;
    }
    let mut lane_y = [0.0f64; LaneKind::ORDER.len()];
    let mut y = area.y + HEADER + LABELS;
    for (i, kind) in LaneKind::ORDER.into_iter().enumerate() {
        if heights[i] > 0.0 {
            lane_y[i] = y;
            axis.lanes.push(Lane {
                kind,
                y,
                h: heights[i] + SPACE,
            });
            y += heights[i] + SPACE;
        }
    }
    let bottom = y + PAD - SPACE;

    let mut lane_next = [x0; LaneKind::ORDER.len()];
    let mut right = x0;
    let mut last: Option<(i64, f64)> = None;
    let mut last_tick: Option<f64> = None;
    let mut first_detected = None;
    let mut first_resolved = None;
    let mut untimed = untimed_at.into_iter();
    for e in &entries {
        let lane = e.lane().index();
        let Some(time) = e.time else {
            let (x, row) = untimed.next().expect("a place for each untimed entry");
            axis.slots
                .push((e.id.clone(), x, lane_y[lane] + row_tops[row]));
            right = right.max(x + e.w);
            continue;
        };
        let x = match last {
            None => x0,
            Some((before, before_x)) => {
                let pause = (time - before).max(0);
                let stretch = pause as f64 / 60_000.0 * PX_PER_MINUTE;
                let squeezed = stretch > MAX_STRETCH;
                let x =
                    (before_x + if squeezed { GAP_WIDTH } else { stretch }).max(lane_next[lane]);
                if squeezed {
                    // Drawn in the labels' row, just before the entry after the pause.
                    axis.gaps.push(Gap {
                        x: x - GAP_WIDTH / 2.0,
                        ms: pause,
                    });
                }
                x
            }
        };
        if last_tick.is_none_or(|t| x >= t + TICK_SPACING) {
            axis.ticks.push(Tick { x, utc_ms: time });
            last_tick = Some(x);
        }
        axis.slots.push((e.id.clone(), x, lane_y[lane]));
        lane_next[lane] = x + e.w + SPACE;
        right = right.max(x + e.w);
        axis.markers.start.get_or_insert(x);
        match e.kind {
            Some(EntryKind::Detected) if first_detected.is_none() => first_detected = Some(x),
            Some(EntryKind::Resolved) if first_resolved.is_none() => first_resolved = Some(x),
            _ => {}
        }
        last = Some((time, x));
    }
    axis.markers.detected = first_detected;
    axis.markers.resolved = first_resolved;
    axis.reach = Some((right + PAD, bottom));
    axis
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::rect_of;

    fn id(s: &str) -> NoteId {
        s.parse().unwrap()
    }

    const MIN: i64 = 60_000;

    fn entry(id: &NoteId, time: Option<i64>, kind: Option<EntryKind>) -> Entry<'_> {
        Entry {
            id,
            time,
            kind,
            w: NOTE_WIDTH,
            h: NOTE_HEIGHT,
        }
    }

    fn rect(axis: &Axis, id: &NoteId) -> Rect {
        let (_, x, y) = axis.slots.iter().find(|(i, ..)| i == id).unwrap();
        Rect::new(*x, *y, NOTE_WIDTH, NOTE_HEIGHT)
    }

    #[test]
    fn entries_read_left_to_right_in_time_and_lanes_by_kind() {
        let area = rect_of("timeline");
        let ids: Vec<NoteId> = ["a", "b", "c", "d"].map(id).to_vec();
        let axis = lay_out(
            area,
            [
                entry(&ids[0], Some(0), Some(EntryKind::Reported)),
                entry(&ids[1], Some(3 * MIN), Some(EntryKind::Detected)),
                entry(&ids[2], Some(3 * MIN), Some(EntryKind::Action)),
                entry(&ids[3], None, None),
            ],
        );
        let kinds: Vec<&str> = axis.lanes.iter().map(|l| l.kind.as_str()).collect();
        assert_eq!(kinds, ["reported", "detected", "action", "untimed"]);
        let (a, b, c, d) = (
            rect(&axis, &ids[0]),
            rect(&axis, &ids[1]),
            rect(&axis, &ids[2]),
            rect(&axis, &ids[3]),
        );
        assert!(a.x < b.x, "later is further right");
        assert_eq!(b.x, c.x, "the same minute in two lanes shares a column");
        assert!(
            a.y < b.y && b.y < c.y && c.y < d.y,
            "lanes stack in a fixed order"
        );
        assert!(area.contains(a.x, a.y));
        assert_eq!(axis.markers.start, Some(a.x));
        assert_eq!(axis.markers.detected, Some(b.x));
        assert_eq!(axis.markers.resolved, None);
    }

    #[test]
    fn a_long_pause_is_squeezed_and_marked() {
        let area = rect_of("timeline");
        let ids: Vec<NoteId> = ["a", "b", "c"].map(id).to_vec();
        let axis = lay_out(
            area,
            [
                entry(&ids[0], Some(0), Some(EntryKind::Action)),
                entry(&ids[1], Some(5 * MIN), Some(EntryKind::Reported)),
                entry(
                    &ids[2],
                    Some(5 * MIN + 180 * MIN),
                    Some(EntryKind::Resolved),
                ),
            ],
        );
        let (a, b, c) = (
            rect(&axis, &ids[0]),
            rect(&axis, &ids[1]),
            rect(&axis, &ids[2]),
        );
        assert!(
            (b.x - a.x - 5.0 * PX_PER_MINUTE).abs() < 1e-9,
            "five minutes to scale"
        );
        assert!((c.x - b.x - GAP_WIDTH).abs() < 1e-9, "three hours squeezed");
        assert_eq!(axis.gaps.len(), 1);
        assert_eq!(axis.gaps[0].ms, 180 * MIN);
        assert!(axis.gaps[0].x > b.x && axis.gaps[0].x < c.x);
    }

    #[test]
    fn no_two_entries_overlap_at_any_size() {
        let area = rect_of("timeline");
        let ids: Vec<NoteId> = (0..200).map(|i| id(&format!("n{i}"))).collect();
        let kinds = [
            None,
            Some(EntryKind::Action),
            Some(EntryKind::Communication),
        ];
        let entries = ids.iter().enumerate().map(|(i, id)| Entry {
            id,
            // Bursts at the same minute, then pauses of every length.
            time: (i % 11 != 0).then_some((i as i64 / 3) * (i as i64 % 7) * MIN),
            kind: kinds[i % 3],
            w: NOTE_WIDTH + (i % 4) as f64 * 40.0,
            h: NOTE_HEIGHT + (i % 3) as f64 * 30.0,
        });
        let sorted: Vec<Entry> = {
            let mut timed: Vec<Entry> = entries.clone().filter(|e| e.time.is_some()).collect();
            timed.sort_by_key(|e| e.time);
            timed.extend(entries.filter(|e| e.time.is_none()));
            timed
        };
        let sizes: std::collections::HashMap<&NoteId, (f64, f64)> =
            sorted.iter().map(|e| (e.id, (e.w, e.h))).collect();
        let axis = lay_out(area, sorted);
        let rects: Vec<Rect> = axis
            .slots
            .iter()
            .map(|(id, x, y)| Rect::new(*x, *y, sizes[id].0, sizes[id].1))
            .collect();
        assert_eq!(rects.len(), 200);
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        let (right, bottom) = axis.reach.unwrap();
        assert!(rects
            .iter()
            .all(|r| r.right() < right && r.bottom() < bottom));
        assert!(rects
            .iter()
            .all(|r| r.x >= area.x && r.y >= area.y + HEADER));
    }

    #[test]
    fn entries_without_a_time_wrap_in_rows_as_wide_as_the_region() {
        let area = rect_of("timeline");
        let ids: Vec<NoteId> = (0..40).map(|i| id(&format!("u{i}"))).collect();
        let axis = lay_out(area, ids.iter().map(|id| entry(id, None, None)));
        let (right, bottom) = axis.reach.unwrap();
        assert!(right <= area.right(), "no wider than the region: {right}");
        let per_row = ((area.w - 2.0 * PAD - LANE_NAMES + SPACE) / (NOTE_WIDTH + SPACE)) as usize;
        let rows = 40usize.div_ceil(per_row);
        assert!(rows > 1);
        assert_eq!(axis.lanes.len(), 1);
        assert!((axis.lanes[0].h - rows as f64 * (NOTE_HEIGHT + SPACE)).abs() < 1e-9);
        assert!(bottom > area.bottom(), "the region grows down to hold them");
    }

    #[test]
    fn time_labels_keep_their_distance() {
        let area = rect_of("timeline");
        let ids: Vec<NoteId> = (0..30).map(|i| id(&format!("n{i}"))).collect();
        let axis = lay_out(
            area,
            ids.iter()
                .enumerate()
                .map(|(i, id)| entry(id, Some(i as i64 * MIN), None)),
        );
        assert!(axis.ticks.len() > 2);
        assert!(axis
            .ticks
            .windows(2)
            .all(|w| w[1].x - w[0].x >= TICK_SPACING && w[1].utc_ms > w[0].utc_ms));
    }

    #[test]
    fn nothing_to_lay_out() {
        assert_eq!(lay_out(rect_of("timeline"), []), Axis::default());
    }
}
