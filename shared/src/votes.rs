//! Dot voting. Each person has a budget of votes for the whole board (set by the
//! facilitator, default 5) and may put several on one note and take them back.
//!
//! ```text
//! notes[id].votes  : Y.Map<voterKey, number>   votes per voter on that note
//! meta.voteBudget  : number, optional          votes per person (default 5)
//! ```
//!
//! A voter key is a random token a browser keeps per board, never a name, so votes are
//! not attributable to people even when notes are not anonymous. Each voter writes only
//! their own key, so concurrent votes from different people never conflict.

use yrs::{Any, Map, MapPrelim, MapRef, Out, ReadTxn, TransactionMut};

use crate::id::NoteId;
use crate::schema::{number_field, Board};

pub const DEFAULT_VOTE_BUDGET: u32 = 5;
pub const MAX_VOTE_BUDGET: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    #[error("all {0} of your votes are used; take one back first")]
    BudgetSpent(u32),
    #[error("that note no longer exists")]
    NoSuchNote,
}

impl Board {
    pub fn vote_budget<T: ReadTxn>(&self, txn: &T) -> u32 {
        number_field(&self.meta, txn, "voteBudget")
            .filter(|b| *b >= 0.0)
            .map_or(DEFAULT_VOTE_BUDGET, |b| (b as u32).min(MAX_VOTE_BUDGET))
    }

    pub fn set_vote_budget(&self, txn: &mut TransactionMut, budget: u32) {
        self.meta
            .insert(txn, "voteBudget", f64::from(budget.min(MAX_VOTE_BUDGET)));
    }

    /// Votes `voter` has placed across the board.
    pub fn votes_used<T: ReadTxn>(&self, txn: &T, voter: &str) -> u32 {
        self.notes(txn)
            .iter()
            .map(|n| n.votes.get(voter).copied().unwrap_or(0))
            .sum()
    }

    /// Places one vote of `voter` on a note, within the budget.
    pub fn vote(
        &self,
        txn: &mut TransactionMut,
        id: &NoteId,
        voter: &str,
    ) -> Result<u32, VoteError> {
        let budget = self.vote_budget(txn);
        if self.votes_used(txn, voter) >= budget {
            return Err(VoteError::BudgetSpent(budget));
        }
        let votes = self.votes_map(txn, id).ok_or(VoteError::NoSuchNote)?;
        let mine = own_votes(&votes, txn, voter) + 1;
        votes.insert(txn, voter, f64::from(mine));
        Ok(mine)
    }

    /// Takes back one vote of `voter` from a note; false if they had none there.
    pub fn unvote(&self, txn: &mut TransactionMut, id: &NoteId, voter: &str) -> bool {
        let Some(votes) = self.votes_map(txn, id) else {
            return false;
        };
        match own_votes(&votes, txn, voter) {
            0 => false,
            1 => votes.remove(txn, voter).is_some(),
            n => {
                votes.insert(txn, voter, f64::from(n - 1));
                true
            }
        }
    }

    fn votes_map(&self, txn: &mut TransactionMut, id: &NoteId) -> Option<MapRef> {
        let note = self.note_map(txn, id)?;
        match note.get(txn, "votes") {
            Some(Out::YMap(votes)) => Some(votes),
            _ => Some(note.insert(txn, "votes", MapPrelim::default())),
        }
    }
}

fn own_votes<T: ReadTxn>(votes: &MapRef, txn: &T, voter: &str) -> u32 {
    match votes.get(txn, voter) {
        Some(Out::Any(Any::Number(n))) => n.as_f64().filter(|v| *v >= 0.0).map_or(0, |v| v as u32),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{new_doc, NewNote};
    use yrs::Transact;

    fn id(s: &str) -> NoteId {
        s.parse().unwrap()
    }

    fn board_with(notes: &[&str]) -> (yrs::Doc, Board) {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        {
            let mut txn = doc.transact_mut();
            for n in notes {
                board.add_note(&mut txn, &id(n), NewNote::at(0.0, 0.0, *n));
            }
        }
        (doc, board)
    }

    #[test]
    fn budget_limits_votes_across_notes_and_taking_back_frees_one() {
        let (doc, board) = board_with(&["a", "b"]);
        let mut txn = doc.transact_mut();
        assert_eq!(board.vote_budget(&txn), DEFAULT_VOTE_BUDGET);
        board.set_vote_budget(&mut txn, 3);
        assert_eq!(board.vote(&mut txn, &id("a"), "me"), Ok(1));
        assert_eq!(board.vote(&mut txn, &id("a"), "me"), Ok(2));
        assert_eq!(board.vote(&mut txn, &id("b"), "me"), Ok(1));
        assert_eq!(
            board.vote(&mut txn, &id("b"), "me"),
            Err(VoteError::BudgetSpent(3))
        );
        // Someone else has a budget of their own.
        assert_eq!(board.vote(&mut txn, &id("b"), "you"), Ok(1));
        assert_eq!(board.note(&txn, &id("b")).unwrap().total_votes(), 2);
        assert!(board.unvote(&mut txn, &id("a"), "me"));
        assert_eq!(board.votes_used(&txn, "me"), 2);
        assert_eq!(board.vote(&mut txn, &id("b"), "me"), Ok(2));
        assert!(
            !board.unvote(&mut txn, &id("a"), "you"),
            "no vote of yours there"
        );
        assert!(board.unvote(&mut txn, &id("a"), "me"));
        assert!(!board.unvote(&mut txn, &id("a"), "me"));
        assert_eq!(board.note(&txn, &id("a")).unwrap().votes.len(), 0);
        board.set_vote_budget(&mut txn, 1000);
        assert_eq!(board.vote_budget(&txn), MAX_VOTE_BUDGET);
        assert_eq!(
            board.vote(&mut txn, &id("gone"), "me"),
            Err(VoteError::NoSuchNote)
        );
    }
}
