//! The Rough Timeline: entries with a time and a kind, kept in time order by the board
//! itself, and the durations that follow from them.
//!
//! ```text
//! notes[id].time          : number, optional   UTC milliseconds
//! notes[id].timePrecision : string             "day" | "minute" | "second"
//! notes[id].kind          : string, optional   an EntryKind name
//! ```
//!
//! Positions of timeline entries are derived, not stored: every replica lays the same
//! notes out in the same order (time, then creation, then id), so everyone sees the same
//! timeline whatever order the entries were written in.

use yrs::{Map, TransactionMut};

use crate::id::NoteId;
use crate::region::{Rect, Role};
use crate::schema::{set_or_remove, Board, NoteData};
use crate::timestamp::Timestamp;

pub mod axis;

pub use axis::{Axis, Entry, LaneKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Reported,
    Detected,
    Action,
    Communication,
    Resolved,
}

impl EntryKind {
    pub const ALL: [EntryKind; 5] = [
        EntryKind::Reported,
        EntryKind::Detected,
        EntryKind::Action,
        EntryKind::Communication,
        EntryKind::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Reported => "reported",
            EntryKind::Detected => "detected",
            EntryKind::Action => "action",
            EntryKind::Communication => "communication",
            EntryKind::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Reported => "Reported",
            EntryKind::Detected => "Detected",
            EntryKind::Action => "Action taken",
            EntryKind::Communication => "Communication",
            EntryKind::Resolved => "Resolved",
        }
    }

    pub fn from_name(name: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Board {
    pub fn set_note_time(
        &self,
        txn: &mut TransactionMut,
        id: &NoteId,
        time: Option<Timestamp>,
    ) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        match time {
            Some(t) => {
                map.insert(txn, "time", t.utc_ms as f64);
                map.insert(txn, "timePrecision", t.precision.as_str());
            }
            None => {
                map.remove(txn, "time");
                map.remove(txn, "timePrecision");
            }
        }
        true
    }

    pub fn set_note_kind(
        &self,
        txn: &mut TransactionMut,
        id: &NoteId,
        kind: Option<EntryKind>,
    ) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        set_or_remove(&map, txn, "kind", kind.map(EntryKind::as_str));
        true
    }
}

/// The timeline region's notes, in the order everyone sees them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Entries with a time, earliest first.
    pub timed: Vec<NoteData>,
    /// Entries still without a time, oldest first.
    pub untimed: Vec<NoteData>,
}

impl Timeline {
    pub fn of(notes: &[NoteData]) -> Timeline {
        let mut timeline = Timeline::default();
        for n in notes.iter().filter(|n| n.role == Some(Role::Timeline)) {
            if n.time.is_some() {
                timeline.timed.push(n.clone());
            } else {
                timeline.untimed.push(n.clone());
            }
        }
        let key = |n: &NoteData| (n.time.map_or(0, |t| t.utc_ms), n.created_at);
        timeline.timed.sort_by(|a, b| {
            let ((ta, ca), (tb, cb)) = (key(a), key(b));
            timed_order((ta, ca, &a.id), (tb, cb, &b.id))
        });
        timeline
            .untimed
            .sort_by(|a, b| a.created_at.total_cmp(&b.created_at).then(a.id.cmp(&b.id)));
        timeline
    }

    /// Time to detect (from the first entry to the first "detected") and time to resolve
    /// (from the first "detected" to the first "resolved"), once both markers exist.
    pub fn durations(&self) -> Option<Durations> {
        durations(
            self.timed
                .iter()
                .filter_map(|n| Some((n.time?.utc_ms, n.kind))),
        )
    }

    /// The timeline laid out as a time axis in the timeline region `area` (see
    /// [`axis`]).
    pub fn layout(&self, area: Rect) -> Axis {
        axis::lay_out(
            area,
            self.timed.iter().chain(&self.untimed).map(|n| Entry {
                id: &n.id,
                time: n.time.map(|t| t.utc_ms),
                kind: n.kind,
                w: n.w,
                h: n.h,
            }),
        )
    }
}

/// The order of timed entries: by time, then creation time, then id, so every replica
/// agrees however the entries were written.
pub fn timed_order(a: (i64, f64, &NoteId), b: (i64, f64, &NoteId)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(b.2))
}

/// Time to detect and to resolve from the timed entries `(utc ms, kind)`, in time order.
pub fn durations(timed: impl IntoIterator<Item = (i64, Option<EntryKind>)>) -> Option<Durations> {
    let mut timed = timed.into_iter().peekable();
    let start = timed.peek()?.0;
    let (mut detected, mut resolved) = (None, None);
    for (time, kind) in timed {
        match kind {
            Some(EntryKind::Detected) if detected.is_none() => detected = Some(time),
            Some(EntryKind::Resolved) if resolved.is_none() => resolved = Some(time),
            _ => {}
        }
    }
    let (detected, resolved) = (detected?, resolved?);
    Some(Durations {
        to_detect_ms: detected - start,
        to_resolve_ms: resolved - detected,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Durations {
    pub to_detect_ms: i64,
    pub to_resolve_ms: i64,
}

/// A duration as people say it: `45 s`, `12 min`, `1 h 05 min`, `2 d 3 h`.
pub fn format_duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let s = ms.unsigned_abs() / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let body = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{sec} s")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{new_doc, NewNote};
    use crate::template::rect_of;
    use crate::timestamp::{Date, TimeContext};
    use crate::NoteColor;
    use yrs::Transact;

    fn ctx() -> TimeContext {
        TimeContext {
            date: Some(Date::parse("2026-11-20").unwrap()),
            offset_minutes: 0,
        }
    }

    /// Adds a timeline note with an optional time and kind, created at `created`.
    fn entry(
        board: &Board,
        txn: &mut TransactionMut,
        id: &str,
        time: Option<&str>,
        kind: Option<EntryKind>,
        created: f64,
    ) {
        let r = rect_of("timeline");
        let id: NoteId = id.parse().unwrap();
        board.add_note(
            txn,
            &id,
            NewNote::at(r.x + 30.0, r.y + 100.0, id.to_string())
                .color(NoteColor::Blue)
                .created_at(created),
        );
        board.set_note_time(txn, &id, time.map(|t| Timestamp::parse(t, ctx()).unwrap()));
        board.set_note_kind(txn, &id, kind);
    }

    fn ids(notes: &[NoteData]) -> Vec<&str> {
        notes.iter().map(|n| n.id.as_str()).collect()
    }

    #[test]
    fn entries_are_ordered_by_time_then_creation_and_untimed_apart() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        entry(&board, &mut txn, "late", Some("15:00"), None, 1.0);
        entry(
            &board,
            &mut txn,
            "early",
            Some("14:03:22"),
            Some(EntryKind::Reported),
            2.0,
        );
        entry(&board, &mut txn, "nodate", None, None, 3.0);
        entry(&board, &mut txn, "same_b", Some("14:30"), None, 5.0);
        entry(&board, &mut txn, "same_a", Some("14:30"), None, 4.0);
        entry(
            &board,
            &mut txn,
            "prevday",
            Some("2026-11-19 23:59"),
            None,
            6.0,
        );
        entry(&board, &mut txn, "notime2", None, None, 0.5);
        let timeline = Timeline::of(&board.notes(&txn));
        assert_eq!(
            ids(&timeline.timed),
            ["prevday", "early", "same_a", "same_b", "late"]
        );
        assert_eq!(ids(&timeline.untimed), ["notime2", "nodate"]);

        // Every replica computes the same layout from the same document.
        let axis = timeline.layout(rect_of("timeline"));
        let layout = axis.slots;
        assert_eq!(layout.len(), 7);
        let xs: Vec<f64> = layout.iter().take(5).map(|(_, x, _)| *x).collect();
        assert!(
            xs.windows(2).all(|w| w[0] < w[1]),
            "timed entries run left to right: {xs:?}"
        );
        let untimed_y = layout[5].2;
        assert!(layout[5..].iter().all(|(_, _, y)| *y == untimed_y));
        assert!(layout[..5].iter().all(|(_, _, y)| *y < untimed_y));
        // Inside the region as it grows to the axis's reach.
        let r = rect_of("timeline");
        let (right, bottom) = axis.reach.unwrap();
        assert!(layout
            .iter()
            .all(|(_, x, y)| *x >= r.x && *y >= r.y && *x < right && *y < bottom));
    }

    #[test]
    fn durations_need_both_markers() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        entry(
            &board,
            &mut txn,
            "start",
            Some("14:00"),
            Some(EntryKind::Reported),
            1.0,
        );
        entry(
            &board,
            &mut txn,
            "det",
            Some("14:12"),
            Some(EntryKind::Detected),
            2.0,
        );
        assert_eq!(Timeline::of(&board.notes(&txn)).durations(), None);
        entry(
            &board,
            &mut txn,
            "fix",
            Some("15:17:30"),
            Some(EntryKind::Resolved),
            3.0,
        );
        let d = Timeline::of(&board.notes(&txn)).durations().unwrap();
        assert_eq!(d.to_detect_ms, 12 * 60_000);
        assert_eq!(d.to_resolve_ms, 65 * 60_000 + 30_000);
        assert_eq!(format_duration(d.to_detect_ms), "12 min");
        assert_eq!(format_duration(d.to_resolve_ms), "1 h 05 min");
    }

    #[test]
    fn durations_read_naturally() {
        for (ms, text) in [
            (0, "0 s"),
            (45_000, "45 s"),
            (60_000, "1 min"),
            (3_600_000, "1 h 00 min"),
            (90_061_000, "1 d 1 h"),
            (-120_000, "-2 min"),
        ] {
            assert_eq!(format_duration(ms), text);
        }
    }

    #[test]
    fn time_and_kind_can_be_cleared() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        entry(
            &board,
            &mut txn,
            "e",
            Some("14:00"),
            Some(EntryKind::Action),
            1.0,
        );
        let id: NoteId = "e".parse().unwrap();
        let n = board.note(&txn, &id).unwrap();
        assert_eq!(n.kind, Some(EntryKind::Action));
        assert_eq!(n.time.unwrap().display(ctx()), "14:00");
        board.set_note_time(&mut txn, &id, None);
        board.set_note_kind(&mut txn, &id, None);
        let n = board.note(&txn, &id).unwrap();
        assert_eq!((n.time, n.kind), (None, None));
    }
}
