//! Per-person undo and redo: a Yrs `UndoManager` over the board's `notes` and `meta` maps
//! that tracks only transactions with this page's [`LOCAL`] origin, so undoing never
//! reverts what someone else did, even on the same note. Undo and redo are themselves
//! ordinary local changes and reach everyone like any other edit.
//!
//! Every discrete action (creating, recolouring, deleting, a nudge) is its own step,
//! fenced by [`History::boundary`]; keystrokes less than half a second apart form one
//! step; a drag is one step however long it takes, because the clock the manager groups
//! by stands still while [`History::group`] is on. (Without the fences, a delete made
//! just after creating a note would merge with the creation, and yrs never restores what
//! was created and deleted within one step.)

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hindsight_shared::Board;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use yrs::undo::Options;
use yrs::{Doc, UndoManager};

/// Transaction origin of every change this page makes to the document.
pub const LOCAL: &str = "hindsight-local";

/// Changes closer together than this are undone together.
const CAPTURE_MS: u64 = 500;

/// Cheap to clone; all clones are the same history.
#[derive(Clone)]
pub struct History {
    manager: SendWrapper<Rc<RefCell<UndoManager>>>,
    /// While non-zero, the time the manager sees (ms); see [`History::group`].
    frozen: Arc<AtomicU64>,
    pub can_undo: RwSignal<bool>,
    pub can_redo: RwSignal<bool>,
}

impl History {
    /// Starts recording this page's changes to `doc` from now on (whatever the document
    /// held before, such as a copy restored from browser storage, cannot be undone).
    pub fn new(doc: &Doc, board: &Board) -> History {
        let frozen = Arc::new(AtomicU64::new(0));
        let clock = Arc::clone(&frozen);
        let options = Options {
            capture_timeout_millis: CAPTURE_MS,
            tracked_origins: Default::default(),
            capture_transaction: None,
            timestamp: Arc::new(move || match clock.load(Ordering::Relaxed) {
                0 => js_sys::Date::now() as u64,
                at => at,
            }),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        };
        let mut manager = UndoManager::with_options(options);
        manager.expand_scope(doc, board.notes_map());
        manager.expand_scope(doc, board.meta_map());
        manager.include_origin(LOCAL);
        History {
            manager: SendWrapper::new(Rc::new(RefCell::new(manager))),
            frozen,
            can_undo: RwSignal::new(false),
            can_redo: RwSignal::new(false),
        }
    }

    /// Call after every local transaction has ended, to update the buttons.
    pub fn changed(&self) {
        let manager = self.manager.borrow();
        let (undo, redo) = (manager.can_undo(), manager.can_redo());
        drop(manager);
        if self.can_undo.get_untracked() != undo {
            self.can_undo.set(undo);
        }
        if self.can_redo.get_untracked() != redo {
            self.can_redo.set(redo);
        }
    }

    /// Ends the current step, unless a group is open: the next change starts a new one.
    pub fn boundary(&self) {
        if self.frozen.load(Ordering::Relaxed) == 0 {
            self.manager.borrow_mut().reset();
        }
    }

    /// Makes the changes from now until [`History::ungroup`] one undo step, on its own.
    pub fn group(&self) {
        self.manager.borrow_mut().reset();
        self.frozen
            .store((js_sys::Date::now() as u64).max(1), Ordering::Relaxed);
    }

    /// Ends a group; the next change starts a new step.
    pub fn ungroup(&self) {
        self.frozen.store(0, Ordering::Relaxed);
        self.manager.borrow_mut().reset();
    }

    pub fn undo(&self) {
        self.manager.borrow_mut().undo_blocking();
        self.changed();
    }

    pub fn redo(&self) {
        self.manager.borrow_mut().redo_blocking();
        self.changed();
    }
}
