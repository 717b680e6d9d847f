//! Regions: the labelled areas of a board's canvas that notes are brainstormed into. A
//! board's regions come from its template (`template.rs`) and are stored in the board's
//! own document; a note's region is stored on the note as the region's key.

use serde::{Deserialize, Serialize};

use crate::palette::NoteColor;

/// An axis-aligned rectangle in canvas coordinates (pixels at zoom 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

    /// Whether the two share any area; rectangles that only touch do not overlap.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// The smallest rectangle holding all of `rects`, if there are any.
    pub fn enclosing(rects: impl IntoIterator<Item = Rect>) -> Option<Rect> {
        rects.into_iter().reduce(|a, b| a.union(&b))
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Rect) -> Rect {
        let (x, y) = (self.x.min(other.x), self.y.min(other.y));
        Rect::new(
            x,
            y,
            self.right().max(other.right()) - x,
            self.bottom().max(other.bottom()) - y,
        )
    }
}

/// What a region does beyond holding notes. A template gives each role to at most one
/// region; every workflow rule asks for a role, never for a region by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The short account of what happened, first in the exported document.
    Summary,
    /// Entries with timestamps and kinds, kept in time order; time to detect and resolve.
    Timeline,
    /// Action items: each needs an owner and a due date; ideas are promoted into it.
    Actions,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Summary, Role::Timeline, Role::Actions];

    /// The name stored in the document and in template files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Summary => "summary",
            Role::Timeline => "timeline",
            Role::Actions => "actions",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// One region: its step in the meeting, its title, the question it asks and where it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    /// Stable name, stored on each note in the region.
    pub key: String,
    pub title: String,
    /// The guiding question shown under the title.
    #[serde(default)]
    pub question: String,
    pub rect: Rect,
    /// The region's tint, named like a note colour (notes keep their own colour).
    #[serde(default)]
    pub color: NoteColor,
    /// 1-based position in the meeting's order; the facilitator steps through these.
    pub step: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Most notes the region should hold at once (a Kanban column's WIP limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wip_limit: Option<u32>,
}

impl Region {
    pub fn has_role(&self, role: Role) -> bool {
        self.role == Some(role)
    }
}
