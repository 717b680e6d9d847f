//! The eight regions of a postmortem board, in meeting order, with their place on the
//! canvas. Regions are data, not document content: every board has the same layout, and a
//! note's region is stored on the note.

/// An axis-aligned rectangle in canvas coordinates (pixels at zoom 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }

    /// Whether the point lies inside; the left and top edges belong to the rectangle, the
    /// right and bottom ones to its neighbour, so no point is in two adjacent regions.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }

    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionId {
    Summary,
    Timeline,
    Detect,
    React,
    QuickFix,
    Prevent,
    OtherRisks,
    Actions,
}

impl RegionId {
    /// The name stored in a note's `region` field.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionId::Summary => "summary",
            RegionId::Timeline => "timeline",
            RegionId::Detect => "detect",
            RegionId::React => "react",
            RegionId::QuickFix => "quick-fix",
            RegionId::Prevent => "prevent",
            RegionId::OtherRisks => "other-risks",
            RegionId::Actions => "actions",
        }
    }

    pub fn from_name(name: &str) -> Option<RegionId> {
        REGIONS.iter().map(|r| r.id).find(|id| id.as_str() == name)
    }

    pub fn region(self) -> &'static Region {
        REGIONS
            .iter()
            .find(|r| r.id == self)
            .expect("every region id has a table entry")
    }
}

/// One region: its step in the meeting, its title, the question it asks and where it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    pub id: RegionId,
    /// 1-based position in the meeting's order.
    pub step: u8,
    pub title: &'static str,
    pub question: &'static str,
    pub rect: Rect,
}

const GAP: f64 = 40.0;
const COLUMN: f64 = 600.0;
const TOP_H: f64 = 560.0;
const MID_H: f64 = 900.0;
const BOTTOM_H: f64 = 620.0;
const MID_Y: f64 = TOP_H + GAP;
const BOTTOM_Y: f64 = MID_Y + MID_H + GAP;
/// Five columns and four gaps: the full width of the board.
pub const BOARD_WIDTH: f64 = 5.0 * COLUMN + 4.0 * GAP;
pub const BOARD_HEIGHT: f64 = BOTTOM_Y + BOTTOM_H;

const fn column(i: f64) -> f64 {
    i * (COLUMN + GAP)
}

/// The regions in meeting order. Summary and timeline sit on top, the five brainstorming
/// regions form the middle row, and the actions run along the bottom, so a meeting reads
/// the board top to bottom.
pub const REGIONS: [Region; 8] = [
    Region {
        id: RegionId::Summary,
        step: 1,
        title: "Summary",
        question: "What happened, in a sentence or two, and what did customers feel?",
        rect: Rect::new(0.0, 0.0, COLUMN + 160.0, TOP_H),
    },
    Region {
        id: RegionId::Timeline,
        step: 2,
        title: "Rough Timeline",
        question: "When did it start, who or what noticed it, what did we do, and when did \
                   news travel into or out of the team?",
        rect: Rect::new(
            COLUMN + 160.0 + GAP,
            0.0,
            BOARD_WIDTH - (COLUMN + 160.0 + GAP),
            TOP_H,
        ),
    },
    Region {
        id: RegionId::Detect,
        step: 3,
        title: "Detect",
        question: "How could we have spotted this, or something like it, before a customer did?",
        rect: Rect::new(column(0.0), MID_Y, COLUMN, MID_H),
    },
    Region {
        id: RegionId::React,
        step: 4,
        title: "React",
        question: "Once we knew, what would have made the response quicker and calmer, \
                   with no time lost finding people?",
        rect: Rect::new(column(1.0), MID_Y, COLUMN, MID_H),
    },
    Region {
        id: RegionId::QuickFix,
        step: 5,
        title: "Quick Fix",
        question: "What stopgap would stop the damage next time, while the root cause is \
                   still being found?",
        rect: Rect::new(column(2.0), MID_Y, COLUMN, MID_H),
    },
    Region {
        id: RegionId::Prevent,
        step: 6,
        title: "Prevent",
        question: "What would keep this from happening again, or soften the blow? Think \
                   beyond code: alerts, hand-offs, training, knowing who to call.",
        rect: Rect::new(column(3.0), MID_Y, COLUMN, MID_H),
    },
    Region {
        id: RegionId::OtherRisks,
        step: 7,
        title: "Other Areas of Risk",
        question: "Where else does the same weakness, assumption or copied code live?",
        rect: Rect::new(column(4.0), MID_Y, COLUMN, MID_H),
    },
    Region {
        id: RegionId::Actions,
        step: 8,
        title: "Next Steps (Actions)",
        question: "What will we actually do? Every action leaves this meeting with an owner \
                   and a due date.",
        rect: Rect::new(0.0, BOTTOM_Y, BOARD_WIDTH, BOTTOM_H),
    },
];

/// The region that contains a canvas point, if any (the gaps between regions belong to none).
pub fn region_at(x: f64, y: f64) -> Option<RegionId> {
    REGIONS.iter().find(|r| r.rect.contains(x, y)).map(|r| r.id)
}

/// The rectangle that encloses every region.
pub fn board_bounds() -> Rect {
    Rect::new(0.0, 0.0, BOARD_WIDTH, BOARD_HEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_in_meeting_order_with_unique_names() {
        for (i, r) in REGIONS.iter().enumerate() {
            assert_eq!(r.step as usize, i + 1, "{:?}", r.id);
            assert_eq!(RegionId::from_name(r.id.as_str()), Some(r.id));
            assert_eq!(r.id.region(), r);
            assert!(!r.question.is_empty() && r.question.ends_with(['?', '.']));
        }
        let titles: Vec<_> = REGIONS.iter().map(|r| r.title).collect();
        assert_eq!(
            titles,
            [
                "Summary",
                "Rough Timeline",
                "Detect",
                "React",
                "Quick Fix",
                "Prevent",
                "Other Areas of Risk",
                "Next Steps (Actions)"
            ]
        );
        assert_eq!(RegionId::from_name("nowhere"), None);
    }

    #[test]
    fn regions_do_not_overlap_and_stay_on_the_board() {
        let bounds = board_bounds();
        for (i, a) in REGIONS.iter().enumerate() {
            assert!(a.rect.w > 0.0 && a.rect.h > 0.0);
            assert!(a.rect.x >= bounds.x && a.rect.right() <= bounds.right());
            assert!(a.rect.y >= bounds.y && a.rect.bottom() <= bounds.bottom());
            for b in &REGIONS[i + 1..] {
                let apart = a.rect.right() <= b.rect.x
                    || b.rect.right() <= a.rect.x
                    || a.rect.bottom() <= b.rect.y
                    || b.rect.bottom() <= a.rect.y;
                assert!(apart, "{:?} overlaps {:?}", a.id, b.id);
            }
        }
    }

    fn check_point(x: f64, y: f64, expected: Option<RegionId>) {
        assert_eq!(region_at(x, y), expected, "({x}, {y})");
    }

    #[test]
    fn points_map_to_regions() {
        for r in &REGIONS {
            let c = r.rect;
            check_point(c.x + c.w / 2.0, c.y + c.h / 2.0, Some(r.id));
            check_point(c.x, c.y, Some(r.id));
        }
        // Gaps between regions and space outside the board belong to no region.
        let summary = RegionId::Summary.region().rect;
        check_point(summary.right() + 1.0, 10.0, None);
        check_point(-1.0, -1.0, None);
        check_point(BOARD_WIDTH + 5.0, 100.0, None);
        check_point(10.0, BOARD_HEIGHT, None);
    }
}
