//! Facilitation: who runs the meeting, which step it is at, the countdown timer,
//! "follow me", and the board's settings (anonymous writing, vote budget).
//!
//! ```text
//! meta.facilitatorKeyHash : string   SHA-256 (hex) of the facilitator's secret key
//! meta.anonymous          : bool     new notes carry no author
//! facilitation.step       : number   current step, 1 to the template's last, absent before
//!                                    the meeting starts
//! facilitation.timerEndsAt: number   UTC ms when the countdown ends, absent when none
//! facilitation.timerSeconds: number  the countdown's length, for display
//! facilitation.follow     : map      {x, y, zoom} of the facilitator's view while
//!                                    "follow me" is on, absent otherwise
//! ```
//!
//! The facilitator's browser keeps the secret key; the document keeps only its hash, so
//! any browser holding the key can show the facilitator's controls and nobody can derive
//! the key from the board. Handing over means writing the hash of a new key.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use yrs::{Any, Map, Out, ReadTxn, TransactionMut};

use crate::schema::{number_field, set_or_remove, string_field, Board};
use crate::template::MAX_REGIONS;

/// Longest countdown the timer accepts.
pub const MAX_TIMER_SECONDS: u32 = 4 * 3600;

/// The view "follow me" brings everyone to: the canvas point at the centre of the
/// facilitator's screen and their zoom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timer {
    pub ends_at: f64,
    pub seconds: u32,
}

impl Timer {
    /// Whole seconds left at `now` (UTC ms), never below zero.
    pub fn remaining(&self, now: f64) -> u32 {
        ((self.ends_at - now) / 1000.0)
            .ceil()
            .clamp(0.0, f64::from(self.seconds)) as u32
    }
}

/// The hex SHA-256 of a facilitator key.
pub fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Board {
    /// Makes `key` the facilitator's key (at creation, or when handing over).
    pub fn set_facilitator_key(&self, txn: &mut TransactionMut, key: &str) {
        self.meta.insert(txn, "facilitatorKeyHash", key_hash(key));
    }

    /// The stored hash of the facilitator's key; `None` on a board made without one.
    pub fn facilitator_key_hash<T: ReadTxn>(&self, txn: &T) -> Option<String> {
        string_field(&self.meta, txn, "facilitatorKeyHash")
    }

    pub fn is_facilitator<T: ReadTxn>(&self, txn: &T, key: &str) -> bool {
        !key.is_empty()
            && string_field(&self.meta, txn, "facilitatorKeyHash")
                .is_some_and(|h| h == key_hash(key))
    }

    pub fn step<T: ReadTxn>(&self, txn: &T) -> Option<u8> {
        number_field(&self.facilitation, txn, "step")
            .filter(|s| (1.0..=MAX_REGIONS as f64).contains(s))
            .map(|s| s as u8)
    }

    pub fn set_step(&self, txn: &mut TransactionMut, step: Option<u8>) {
        let last = self.template(txn).steps();
        let step = step.filter(|s| (1..=last).contains(s)).map(f64::from);
        set_or_remove(&self.facilitation, txn, "step", step);
    }

    pub fn timer<T: ReadTxn>(&self, txn: &T) -> Option<Timer> {
        Some(Timer {
            ends_at: number_field(&self.facilitation, txn, "timerEndsAt")?,
            seconds: number_field(&self.facilitation, txn, "timerSeconds")
                .map_or(0, |s| (s.max(0.0) as u32).min(MAX_TIMER_SECONDS)),
        })
    }

    pub fn start_timer(&self, txn: &mut TransactionMut, now: f64, seconds: u32) {
        let seconds = seconds.clamp(1, MAX_TIMER_SECONDS);
        self.facilitation
            .insert(txn, "timerEndsAt", now + f64::from(seconds) * 1000.0);
        self.facilitation
            .insert(txn, "timerSeconds", f64::from(seconds));
    }

    pub fn stop_timer(&self, txn: &mut TransactionMut) {
        self.facilitation.remove(txn, "timerEndsAt");
        self.facilitation.remove(txn, "timerSeconds");
    }

    pub fn follow<T: ReadTxn>(&self, txn: &T) -> Option<View> {
        let Some(Out::Any(Any::Map(m))) = self.facilitation.get(txn, "follow") else {
            return None;
        };
        let get = |k: &str| match m.get(k) {
            Some(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite()),
            _ => None,
        };
        Some(View {
            x: get("x")?,
            y: get("y")?,
            zoom: get("zoom").filter(|z| *z > 0.0)?,
        })
    }

    pub fn set_follow(&self, txn: &mut TransactionMut, view: Option<View>) {
        match view {
            Some(v) => {
                let map: HashMap<String, Any> = [("x", v.x), ("y", v.y), ("zoom", v.zoom)]
                    .into_iter()
                    .map(|(k, n)| (k.to_owned(), Any::from(n)))
                    .collect();
                self.facilitation.insert(txn, "follow", Any::from(map));
            }
            None => {
                self.facilitation.remove(txn, "follow");
            }
        }
    }

    pub fn anonymous<T: ReadTxn>(&self, txn: &T) -> bool {
        matches!(
            self.meta.get(txn, "anonymous"),
            Some(Out::Any(Any::Bool(true)))
        )
    }

    pub fn set_anonymous(&self, txn: &mut TransactionMut, on: bool) {
        self.meta.insert(txn, "anonymous", on);
    }

    /// The author to store on a note written now by `name`: nobody, when the board is
    /// anonymous. This is the one place that decides it.
    pub fn author_for<T: ReadTxn>(&self, txn: &T, name: &str) -> Option<String> {
        let name = name.trim();
        (!self.anonymous(txn) && !name.is_empty()).then(|| name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::new_doc;
    use yrs::Transact;

    #[test]
    fn facilitator_key_is_checked_by_hash_and_can_be_handed_over() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        assert!(!board.is_facilitator(&txn, "k1"));
        board.set_facilitator_key(&mut txn, "k1");
        assert!(board.is_facilitator(&txn, "k1"));
        assert!(!board.is_facilitator(&txn, "k2"));
        assert!(!board.is_facilitator(&txn, ""));
        board.set_facilitator_key(&mut txn, "k2");
        assert!(!board.is_facilitator(&txn, "k1"));
        assert!(board.is_facilitator(&txn, "k2"));
        assert_eq!(
            key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn steps_timer_and_follow() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        assert_eq!(board.step(&txn), None);
        board.set_step(&mut txn, Some(3));
        assert_eq!(board.step(&txn), Some(3));
        board.set_step(&mut txn, Some(9));
        assert_eq!(board.step(&txn), None, "out-of-range steps clear the step");

        board.start_timer(&mut txn, 1_000.0, 300);
        let t = board.timer(&txn).unwrap();
        assert_eq!((t.ends_at, t.seconds), (301_000.0, 300));
        assert_eq!(t.remaining(1_000.0), 300);
        assert_eq!(t.remaining(200_500.0), 101);
        assert_eq!(t.remaining(400_000.0), 0);
        board.stop_timer(&mut txn);
        assert_eq!(board.timer(&txn), None);

        let v = View {
            x: 100.0,
            y: 50.0,
            zoom: 0.5,
        };
        board.set_follow(&mut txn, Some(v));
        assert_eq!(board.follow(&txn), Some(v));
        board.set_follow(&mut txn, None);
        assert_eq!(board.follow(&txn), None);
    }

    #[test]
    fn anonymous_boards_store_no_author() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        assert_eq!(board.author_for(&txn, " Ada "), Some("Ada".into()));
        assert_eq!(board.author_for(&txn, "  "), None);
        board.set_anonymous(&mut txn, true);
        assert!(board.anonymous(&txn));
        assert_eq!(board.author_for(&txn, "Ada"), None);
    }
}
