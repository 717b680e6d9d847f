//! Incident facts at the top of the board: title, date, severity, customer impact and the
//! board's timezone. They live in the `meta` map:
//!
//! ```text
//! meta.incidentDate : string "YYYY-MM-DD", optional
//! meta.severity     : string, optional   one of SEVERITIES, or free text from elsewhere
//! meta.impact       : string, optional   customer impact in a sentence
//! meta.utcOffset    : number, optional   the board's timezone, minutes east of UTC
//! ```
//!
//! Facts are short values that people replace rather than co-edit, so they are plain
//! strings with last-writer-wins semantics.

use yrs::{Map, ReadTxn, TransactionMut};

use crate::schema::{number_field, set_or_remove, string_field, Board};
use crate::timestamp::{Date, TimeContext};

/// Severities offered in the page, most severe first.
pub const SEVERITIES: [&str; 4] = ["SEV1", "SEV2", "SEV3", "SEV4"];
/// Longest accepted fact value.
pub const FACT_MAX_CHARS: usize = 500;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentFacts {
    pub title: String,
    pub date: Option<Date>,
    pub severity: Option<String>,
    pub impact: Option<String>,
    /// Minutes east of UTC.
    pub utc_offset: i32,
}

/// What a board without a title is called where a name must be shown (exports, lists);
/// the board itself keeps an empty title, which the page shows as a placeholder.
pub const UNTITLED: &str = "Untitled postmortem";

impl IncidentFacts {
    /// The title, or [`UNTITLED`] when there is none.
    pub fn shown_title(&self) -> &str {
        if self.title.trim().is_empty() {
            UNTITLED
        } else {
            &self.title
        }
    }
}

impl Board {
    pub fn facts<T: ReadTxn>(&self, txn: &T) -> IncidentFacts {
        IncidentFacts {
            title: self.title(txn),
            date: string_field(&self.meta, txn, "incidentDate").and_then(|d| Date::parse(&d).ok()),
            severity: string_field(&self.meta, txn, "severity").filter(|s| !s.trim().is_empty()),
            impact: string_field(&self.meta, txn, "impact").filter(|s| !s.trim().is_empty()),
            utc_offset: number_field(&self.meta, txn, "utcOffset")
                .filter(|m| m.abs() <= 14.0 * 60.0)
                .map_or(0, |m| m as i32),
        }
    }

    /// How timeline entries on this board are read and shown.
    pub fn time_context<T: ReadTxn>(&self, txn: &T) -> TimeContext {
        let facts = self.facts(txn);
        TimeContext {
            date: facts.date,
            offset_minutes: facts.utc_offset,
        }
    }

    pub fn set_incident_date(&self, txn: &mut TransactionMut, date: Option<Date>) {
        set_or_remove(&self.meta, txn, "incidentDate", date.map(|d| d.to_string()));
    }

    pub fn set_severity(&self, txn: &mut TransactionMut, severity: &str) {
        self.set_fact(txn, "severity", severity);
    }

    pub fn set_impact(&self, txn: &mut TransactionMut, impact: &str) {
        self.set_fact(txn, "impact", impact);
    }

    /// Sets the board's timezone; offsets beyond ±14 h do not exist and are refused.
    pub fn set_utc_offset(&self, txn: &mut TransactionMut, minutes: i32) -> bool {
        if minutes.abs() > 14 * 60 {
            return false;
        }
        self.meta.insert(txn, "utcOffset", f64::from(minutes));
        true
    }

    /// Writes a fact (`severity`, `impact`) exactly as a backup holds it: the setters
    /// above tidy what people type, a restore brings back what was there.
    pub(crate) fn restore_fact(&self, txn: &mut TransactionMut, key: &str, value: Option<&str>) {
        set_or_remove(&self.meta, txn, key, value.map(str::to_owned));
    }

    fn set_fact(&self, txn: &mut TransactionMut, key: &str, value: &str) {
        let value: String = value.trim().chars().take(FACT_MAX_CHARS).collect();
        set_or_remove(&self.meta, txn, key, Some(value).filter(|v| !v.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::new_doc;
    use yrs::Transact;

    #[test]
    fn facts_are_set_cleared_and_bounded() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        board.init(&mut txn, "Checkout outage", 0.0);
        assert_eq!(board.facts(&txn).severity, None);
        board.set_incident_date(&mut txn, Some(Date::parse("2026-11-20").unwrap()));
        board.set_severity(&mut txn, " SEV2 ");
        board.set_impact(&mut txn, &"x".repeat(FACT_MAX_CHARS + 5));
        assert!(board.set_utc_offset(&mut txn, 60));
        assert!(!board.set_utc_offset(&mut txn, 15 * 60));
        let facts = board.facts(&txn);
        assert_eq!(facts.title, "Checkout outage");
        assert_eq!(facts.date.unwrap().to_string(), "2026-11-20");
        assert_eq!(facts.severity.as_deref(), Some("SEV2"));
        assert_eq!(facts.impact.unwrap().len(), FACT_MAX_CHARS);
        assert_eq!(facts.utc_offset, 60);
        board.set_severity(&mut txn, "");
        board.set_incident_date(&mut txn, None);
        let facts = board.facts(&txn);
        assert_eq!((facts.severity, facts.date), (None, None));
    }
}
