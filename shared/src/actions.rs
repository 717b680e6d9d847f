//! Action items: the notes in the board's actions region (the region with the `actions`
//! role; Next Steps on a postmortem). An idea dragged there becomes a new
//! action note that remembers the idea, while the idea stays where it was, marked as
//! turned into an action.
//!
//! ```text
//! notes[id].owner    : string, optional   who will do it
//! notes[id].due      : string, optional   "YYYY-MM-DD"
//! notes[id].sourceId : string, optional   on an action: the idea it came from
//! notes[id].actionId : string, optional   on an idea: the action made from it
//! ```

use yrs::{Map, TransactionMut};

use crate::id::NoteId;
use crate::region::Role;
use crate::schema::{set_or_remove, Board, NewNote, NoteData};
use crate::timestamp::Date;

/// Longest accepted owner name.
pub const OWNER_MAX_CHARS: usize = 100;

impl Board {
    /// Turns the idea `idea` into a new action `action` at (x, y) in the Actions region.
    /// The action copies the idea's text and colour and links back to it; the idea goes
    /// back to `idea_home` (where, and in which region, it was before the drag) and links
    /// to the action. `at` is in the actions region's own frame.
    /// Returns false if the idea does not exist, is itself an action, or already has one.
    #[allow(clippy::too_many_arguments)]
    pub fn promote_to_action(
        &self,
        txn: &mut TransactionMut,
        idea: &NoteId,
        action: &NoteId,
        at: (f64, f64),
        idea_home: (f64, f64, Option<&str>),
        created_at: f64,
        author: Option<String>,
    ) -> bool {
        let Some(source) = self.note(txn, idea) else {
            return false;
        };
        let template = self.template(txn);
        let Some(actions) = template.with_role(Role::Actions) else {
            return false;
        };
        // Actions are not promoted again, nor is an idea that already has its action.
        if source.source_id.is_some() || source.action_id.is_some() {
            return false;
        }
        self.add_note(
            txn,
            action,
            NewNote {
                x: at.0,
                y: at.1,
                text: source.text.clone(),
                color: source.color,
                created_at,
                author,
                region: Some(actions.key.clone()),
            },
        );
        let (Some(new), Some(old)) = (self.note_map(txn, action), self.note_map(txn, idea)) else {
            return false;
        };
        new.insert(txn, "sourceId", idea.as_str());
        old.insert(txn, "actionId", action.as_str());
        self.place_note(txn, idea, idea_home.0, idea_home.1, idea_home.2);
        true
    }

    pub fn set_owner(&self, txn: &mut TransactionMut, id: &NoteId, owner: &str) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        let owner: String = owner.trim().chars().take(OWNER_MAX_CHARS).collect();
        if owner.is_empty() {
            map.remove(txn, "owner");
        } else {
            map.insert(txn, "owner", owner);
        }
        true
    }

    pub fn set_due(&self, txn: &mut TransactionMut, id: &NoteId, due: Option<Date>) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        set_or_remove(&map, txn, "due", due.map(|d| d.to_string()));
        true
    }
}

/// Whether a note is an action item: it sits in the board's actions region.
pub fn is_action(note: &NoteData) -> bool {
    note.role == Some(Role::Actions)
}

/// What an action still lacks before the meeting may end.
pub fn missing(note: &NoteData) -> Option<&'static str> {
    missing_parts(note.owner.is_some(), note.due.is_some())
}

/// What an action with or without an owner and a due date still lacks.
pub fn missing_parts(has_owner: bool, has_due: bool) -> Option<&'static str> {
    match (has_owner, has_due) {
        (true, true) => None,
        (false, true) => Some("needs an owner"),
        (true, false) => Some("needs a due date"),
        (false, false) => Some("needs an owner and a due date"),
    }
}

/// How many actions there are and how many are not ready.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActionCount {
    pub total: usize,
    pub incomplete: usize,
}

impl ActionCount {
    pub fn of(notes: &[NoteData]) -> ActionCount {
        let actions = notes.iter().filter(|n| is_action(n));
        let (total, incomplete) = actions.fold((0, 0), |(t, i), n| {
            (t + 1, i + usize::from(missing(n).is_some()))
        });
        ActionCount { total, incomplete }
    }

    /// The header's sentence, e.g. "2 of 5 actions still need an owner or a date".
    pub fn sentence(&self) -> String {
        match (self.total, self.incomplete) {
            (0, _) => "No actions yet".into(),
            (1, 0) => "The action has an owner and a date".into(),
            (t, 0) => format!("All {t} actions have an owner and a date"),
            (t, i) => format!(
                "{i} of {t} action{} still need{} an owner or a date",
                if t == 1 { "" } else { "s" },
                if i == 1 { "s" } else { "" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::new_doc;
    use crate::template::rect_of;
    use crate::NoteColor;
    use yrs::Transact;

    fn id(s: &str) -> NoteId {
        s.parse().unwrap()
    }

    #[test]
    fn promoting_an_idea_links_both_and_leaves_the_idea_home() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        let prevent = rect_of("prevent");
        let actions = rect_of("actions");
        let home = (prevent.x + 20.0, prevent.y + 80.0, None);
        board.add_note(
            &mut txn,
            &id("idea"),
            NewNote::at(home.0, home.1, "Canary config pushes")
                .color(NoteColor::Green)
                .created_at(1.0)
                .by("Ada"),
        );
        // The drag moved the idea into Actions before the drop promoted it.
        board.move_note(&mut txn, &id("idea"), actions.x + 50.0, actions.y + 60.0);
        assert!(board.promote_to_action(
            &mut txn,
            &id("idea"),
            &id("act"),
            (actions.x + 50.0, actions.y + 60.0),
            home,
            2.0,
            Some("Fac".into())
        ));

        let idea = board.note(&txn, &id("idea")).unwrap();
        let act = board.note(&txn, &id("act")).unwrap();
        assert_eq!((idea.x, idea.y), (home.0, home.1));
        assert_eq!(idea.region, Some("prevent".into()));
        assert_eq!(idea.action_id, Some(id("act")));
        assert_eq!(act.region, Some("actions".into()));
        assert_eq!(act.source_id, Some(id("idea")));
        assert_eq!(act.text, "Canary config pushes");
        assert_eq!(act.color, NoteColor::Green);
        assert!(is_action(&act) && !is_action(&idea));
        // An action cannot be promoted again, nor can the idea a second time.
        let nowhere = (0.0, 0.0);
        assert!(!board.promote_to_action(
            &mut txn,
            &id("act"),
            &id("x"),
            nowhere,
            (0.0, 0.0, None),
            3.0,
            None
        ));
        assert!(!board.promote_to_action(
            &mut txn,
            &id("idea"),
            &id("y"),
            nowhere,
            (0.0, 0.0, None),
            3.0,
            None
        ));
        assert!(!board.promote_to_action(
            &mut txn,
            &id("missing"),
            &id("z"),
            nowhere,
            (0.0, 0.0, None),
            3.0,
            None
        ));
    }

    #[test]
    fn completeness_is_counted_and_worded() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        let actions = rect_of("actions");
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            board.add_note(
                &mut txn,
                &id(name),
                NewNote::at(actions.x + 220.0 * i as f64, actions.y + 80.0, *name).created_at(1.0),
            );
        }
        let count = |txn: &TransactionMut| ActionCount::of(&board.notes(txn));
        assert_eq!(
            count(&txn),
            ActionCount {
                total: 3,
                incomplete: 3
            }
        );
        assert_eq!(
            count(&txn).sentence(),
            "3 of 3 actions still need an owner or a date"
        );
        board.set_owner(&mut txn, &id("a"), "Ada");
        assert_eq!(
            missing(&board.note(&txn, &id("a")).unwrap()),
            Some("needs a due date")
        );
        board.set_due(&mut txn, &id("a"), Some(Date::parse("2026-12-01").unwrap()));
        board.set_owner(&mut txn, &id("b"), "   ");
        board.set_due(&mut txn, &id("b"), Some(Date::parse("2026-12-02").unwrap()));
        assert_eq!(
            missing(&board.note(&txn, &id("b")).unwrap()),
            Some("needs an owner")
        );
        assert_eq!(
            count(&txn).sentence(),
            "2 of 3 actions still need an owner or a date"
        );
        for n in ["b", "c"] {
            board.set_owner(&mut txn, &id(n), "Bo");
            board.set_due(&mut txn, &id(n), Some(Date::parse("2026-12-03").unwrap()));
        }
        assert_eq!(
            count(&txn).sentence(),
            "All 3 actions have an owner and a date"
        );
        board.set_due(&mut txn, &id("c"), None);
        assert_eq!(
            count(&txn).sentence(),
            "1 of 3 actions still needs an owner or a date"
        );
        assert_eq!(
            ActionCount {
                total: 0,
                incomplete: 0
            }
            .sentence(),
            "No actions yet"
        );
        let one_done = ActionCount {
            total: 1,
            incomplete: 0,
        };
        assert_eq!(one_done.sentence(), "The action has an owner and a date");
    }
}
