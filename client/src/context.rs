//! The board page's local state, as small contexts: each component asks for the one it
//! reads (the camera, the selection, who this person is, the clock, toasts) instead of a
//! bag of every page signal. Nothing here is in the document or sent, except through
//! presence.
//!
//! A leaf module: it imports no component, so components never import the page that
//! provides these.

use std::collections::HashSet;

use hindsight_shared::presence::Point;
use hindsight_shared::NoteId;
use leptos::prelude::*;

use crate::camera::Camera;

/// Where this person looks: the camera over the canvas and the size of its viewport.
#[derive(Clone, Copy)]
pub struct View {
    pub camera: RwSignal<Camera>,
    /// The size of the canvas viewport in screen pixels.
    pub viewport: RwSignal<(f64, f64)>,
    /// This person chose to stop following the facilitator's view.
    pub unfollowed: RwSignal<bool>,
}

/// What this person has picked out and is working on.
#[derive(Clone, Copy)]
pub struct Selection {
    /// The notes this person has selected (see `selection.rs`).
    pub selected: RwSignal<HashSet<NoteId>>,
    /// The note this person is typing in or dragging.
    pub editing: RwSignal<Option<NoteId>>,
    /// The note this person is dragging.
    pub moving: RwSignal<Option<NoteId>>,
    /// A note whose text field should take the focus (one just created, say).
    pub focus: RwSignal<Option<NoteId>>,
}

/// Who this person is on this board.
#[derive(Clone, Copy)]
pub struct Identity {
    pub name: RwSignal<String>,
    /// The name prompt was reopened to change the name.
    pub renaming: RwSignal<bool>,
}

/// This person's pointer on the canvas, in world coordinates, for presence.
#[derive(Clone, Copy)]
pub struct Pointer(pub RwSignal<Option<Point>>);

/// Whether the canvas shows the overview of a large board: below a readable zoom, notes
/// are drawn as their colour and first words (see `camera::FAR_ZOOM`).
#[derive(Clone, Copy)]
pub struct Overview(pub Memo<bool>);

/// The notes in the DOM: those near enough to the view to be seen after a short pan,
/// plus any this person has selected or edits (see `cull.rs`). In the board's order.
#[derive(Clone, Copy)]
pub struct Mounted(pub RwSignal<Vec<NoteId>>);

/// A press on a note the overview draws (see `overview.rs`): the note is mounted for
/// it and, once it is, takes the press over as the start of its drag.
#[derive(Clone, Copy)]
pub struct Grab(pub StoredValue<Option<Press>>);

#[derive(Clone, Debug)]
pub struct Press {
    pub id: NoteId,
    pub pointer_id: i32,
    /// Where the press was, in client coordinates.
    pub client: (f64, f64),
}

/// Wall-clock milliseconds, ticking a few times a second, for countdowns.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<f64>);

/// A short message for the person (see `toast.rs`).
#[derive(Clone, Copy)]
pub struct Toasts(pub RwSignal<Option<String>>);

impl View {
    pub fn new() -> View {
        View {
            camera: RwSignal::new(Camera::default()),
            viewport: RwSignal::new((0.0, 0.0)),
            unfollowed: RwSignal::new(false),
        }
    }
}

impl Selection {
    pub fn new() -> Selection {
        Selection {
            selected: RwSignal::new(HashSet::new()),
            editing: RwSignal::new(None),
            moving: RwSignal::new(None),
            focus: RwSignal::new(None),
        }
    }

    /// Whether this person is typing in or dragging `id`.
    pub fn is_editing(&self, id: &NoteId) -> bool {
        self.editing.with_untracked(|e| e.as_ref() == Some(id))
    }

    /// Stops editing `id`, if that is what this person was doing.
    pub fn stop_editing(&self, id: &NoteId) {
        if self.is_editing(id) {
            self.editing.set(None);
        }
    }
}

/// Whether the "Import timeline…" dialog is open (opened from the timeline region, drawn
/// outside the transformed canvas).
#[derive(Clone, Copy)]
pub struct TimelineImportOpen(pub RwSignal<bool>);
