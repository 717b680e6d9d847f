//! The awareness state each participant publishes: who they are, where their cursor is and
//! which note they are working on. It follows the common Yjs convention of a `user` field
//! with `name` and `color`, so other Yjs tools show our participants sensibly.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    pub user: PresenceUser,
    /// Cursor position in canvas coordinates, absent when the pointer is off the board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Point>,
    /// Id of the note being edited or dragged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editing: Option<String>,
    /// Id of the note being dragged: while it moves it does not grow its region (see
    /// `layout`), so a drag never pushes the regions beside and below it along.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moving: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceUser {
    pub name: String,
    /// A CSS colour, such as `#e11d48`.
    pub color: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Colours for participants' cursors, picked from the client id so that a person keeps
/// theirs across reloads within a session and neighbours rarely collide.
pub const CURSOR_COLORS: [&str; 8] = [
    "#e11d48", "#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4d7c0f",
];

pub fn cursor_color(client_id: u64) -> &'static str {
    CURSOR_COLORS[(client_id % CURSOR_COLORS.len() as u64) as usize]
}
