//! Where a new note goes when someone presses a region's add button: the first free cell
//! of a grid in the region, so the new note does not hide an existing one. A full region
//! gets the note in the next row below its edge, and grows to hold it
//! (`hindsight_shared::layout`).

use hindsight_shared::schema::{NOTE_HEIGHT, NOTE_WIDTH};
use hindsight_shared::Rect;

/// Room kept clear at the top of a region for its title and question.
pub const HEADER_HEIGHT: f64 = 170.0;
const PADDING: f64 = 24.0;
const GAP: f64 = 16.0;
/// Rows scanned before giving up on finding a free cell (a region grown this far has
/// thousands of notes; the note then goes on top of the first cell).
const MAX_ROWS: usize = 400;

/// The top-left corner for a new note in `region` (as drawn), avoiding the `occupied`
/// rectangles (the region's notes). Cells are scanned row by row, past the region's
/// bottom edge when it is full.
pub fn free_spot(region: Rect, occupied: &[Rect]) -> (f64, f64) {
    let left = region.x + PADDING;
    let top = region.y + HEADER_HEIGHT;
    let cols = (((region.w - 2.0 * PADDING + GAP) / (NOTE_WIDTH + GAP)).floor() as usize).max(1);
    for row in 0..MAX_ROWS {
        for col in 0..cols {
            let cell = Rect::new(
                left + col as f64 * (NOTE_WIDTH + GAP),
                top + row as f64 * (NOTE_HEIGHT + GAP),
                NOTE_WIDTH,
                NOTE_HEIGHT,
            );
            if !occupied.iter().any(|o| cell.overlaps(o)) {
                return (cell.x, cell.y);
            }
        }
    }
    (left, top)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGION: Rect = Rect::new(0.0, 0.0, 600.0, 600.0);

    fn check(occupied: &[Rect], expected: (f64, f64)) {
        assert_eq!(free_spot(REGION, occupied), expected, "{occupied:?}");
    }

    fn note_at(x: f64, y: f64) -> Rect {
        Rect::new(x, y, NOTE_WIDTH, NOTE_HEIGHT)
    }

    #[test]
    fn picks_the_first_free_cell() {
        let first = (PADDING, HEADER_HEIGHT);
        let second = (PADDING + NOTE_WIDTH + GAP, HEADER_HEIGHT);
        check(&[], first);
        check(&[note_at(first.0, first.1)], second);
        // A note only partly covering the first cell still makes it taken.
        check(&[note_at(first.0 - 150.0, first.1 + 100.0)], second);
        // Two columns fit in this region, so a full first row continues on the next one.
        check(
            &[note_at(first.0, first.1), note_at(second.0, second.1)],
            (PADDING, HEADER_HEIGHT + NOTE_HEIGHT + GAP),
        );
        // Notes elsewhere on the board do not matter.
        check(&[note_at(5000.0, 5000.0)], first);
    }

    #[test]
    fn a_full_region_gets_the_note_in_the_next_row_below_it() {
        let full = [Rect::new(-10.0, -10.0, 700.0, 700.0)];
        let (x, y) = free_spot(REGION, &full);
        assert_eq!(x, PADDING);
        assert!((700.0..700.0 + NOTE_HEIGHT + GAP).contains(&y), "{y}");
    }
}
