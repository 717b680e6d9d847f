//! A board's history: versions of the whole board kept as it goes, so that a facilitator
//! can bring it back to how it was (`export::restore`), after a mistake as large as
//! every note deleted.
//!
//! A version is the board as it stood before a burst of work: when a change arrives and
//! the newest version is older than `--history-every-secs`, the board as it is is kept
//! first, then the change is applied. During a long session that is a version every few
//! minutes; a board nobody touches keeps none. Restoring keeps the board as it is first,
//! so a restore can itself be undone. What is kept thins out with age: everything for a
//! day, then the newest of each hour, until `--history-days`.
//!
//! This module holds the rules; `rooms.rs` keeps the versions and `api.rs` lists and
//! restores them.

use std::time::Duration;

/// How often a version is kept while a board is worked on (`--history-every-secs`).
pub const DEFAULT_EVERY_SECS: u64 = 300;
/// How long versions are kept (`--history-days`).
pub const DEFAULT_DAYS: u64 = 14;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryConfig {
    /// The least time between two versions of a board.
    pub every: Duration,
    /// How long versions are kept; zero keeps none.
    pub days: u64,
}

impl Default for HistoryConfig {
    fn default() -> HistoryConfig {
        HistoryConfig {
            every: Duration::from_secs(DEFAULT_EVERY_SECS),
            days: DEFAULT_DAYS,
        }
    }
}

impl HistoryConfig {
    /// Whether a version is due at `now` when the newest kept one is from `newest`
    /// (UTC ms).
    pub fn due(&self, newest: Option<u64>, now: u64) -> bool {
        self.days > 0
            && newest.is_none_or(|at| now.saturating_sub(at) >= self.every.as_millis() as u64)
    }

    /// Which of the versions kept at `kept` (UTC ms, any order) to forget at `now`: those
    /// older than the history's length, and of those older than a day all but the newest
    /// in each hour.
    pub fn to_forget(&self, kept: &[u64], now: u64) -> Vec<u64> {
        let oldest = now.saturating_sub(self.days.saturating_mul(DAY_MS));
        let day_ago = now.saturating_sub(DAY_MS);
        let mut sorted = kept.to_vec();
        sorted.sort_unstable();
        let mut forget = Vec::new();
        for (i, &at) in sorted.iter().enumerate() {
            let newer_in_same_hour = sorted
                .get(i + 1)
                .is_some_and(|&next| next / HOUR_MS == at / HOUR_MS);
            if at < oldest || (at < day_ago && newer_in_same_hour) {
                forget.push(at);
            }
        }
        forget
    }
}

/// Now, in UTC ms.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_due_once_the_newest_is_old_enough() {
        let h = HistoryConfig {
            every: Duration::from_secs(300),
            days: 14,
        };
        assert!(h.due(None, 1_000));
        assert!(!h.due(Some(1_000), 1_000 + 299_999));
        assert!(h.due(Some(1_000), 1_000 + 300_000));
        let off = HistoryConfig { days: 0, ..h };
        assert!(!off.due(None, 1_000));
    }

    #[test]
    fn the_history_thins_out_with_age_and_ends() {
        let h = HistoryConfig::default();
        let now = 30 * DAY_MS;
        let minutes = |m: u64| m * 60_000;
        let kept = [
            now - 15 * DAY_MS,              // too old
            now - 3 * DAY_MS + minutes(5),  // an hour with two: the older goes
            now - 3 * DAY_MS + minutes(35), // kept: newest of its hour
            now - 2 * DAY_MS,               // alone in its hour: kept
            now - HOUR_MS + minutes(1),     // within a day: all kept
            now - HOUR_MS + minutes(2),
        ];
        assert_eq!(h.to_forget(&kept, now), [kept[0], kept[1]]);
        assert!(h.to_forget(&[], now).is_empty());
    }
}
