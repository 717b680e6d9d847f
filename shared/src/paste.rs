//! Turning a pasted incident timeline into timeline entries. Pure: text in, entries and
//! the lines that could not be read out; nothing here touches a board.
//!
//! The format is recognised from the paste as a whole:
//!
//! - **A table** when the first non-blank line is a header row: CSV, TSV, `;`-separated or
//!   a Markdown table (such as the board's export). One column must hold the time (named
//!   `time`, `timestamp`, `date`, `when`, `at`, `created at`, …; a `date` column beside a
//!   time column is read with it) and one the text (`text`, `message`, `event`,
//!   `description`, `summary`, …); `kind`/`type` and `author`/`who` columns are optional.
//! - **Lines** otherwise. A line that starts with a time is an entry: `14:03`, `14:03:22`,
//!   `2:03 PM`, `2026-11-20 14:03`, ISO 8601 with `Z`, an offset and fractions of a second,
//!   or any of these in brackets; a bullet may come before it and ` - `, ` — `, `: ` or
//!   `|` after it. Chat copy is recognised by its headers: a name then a time with nothing
//!   after (`Ana Lima  2:03 PM`, `Ana [14:03]`), or a time alone. Every line below a
//!   header is a message of its own by that person at that time. `[14:03] Ana: …` and
//!   `[14:03] <ana> …` are messages with their speaker. A date alone on a line dates the
//!   lines after it.
//!
//! Times are read by [`Timestamp::parse`]: without a zone they are in the board's timezone,
//! and `Z`, `UTC`, `UTC+2` and `+01:00` are honoured (a negative offset such as `-05:00`
//! only after a date or seconds, since `14:00-14:30` is a range). A time without a date
//! is on the incident date, or on the date of the last line that gave one. When it would
//! fall more than six hours before the entry above it, the timeline has crossed midnight:
//! it moves to the next day, and so do the time-only lines after it (23:50, then 00:10, is
//! ten minutes after midnight). Less than that is taken as a paste out of order. Without
//! an incident date, a time without a date cannot be placed and is reported, as
//! `Timestamp::parse` reports it.
//!
//! Kinds come from a table's kind column, or are guessed from the text ([`guess_kind`]).
//!
//! Every non-blank line is accounted for: it becomes an entry, has a part in one (a chat
//! header, a date line, a continuation, a table's header or Markdown rule), or is listed
//! in [`Parsed::unparsed`] with the reason. In chat copy a line without a time that
//! follows a timed line continues it, as messages run over several lines; anywhere else
//! it is reported. At most [`MAX_ENTRIES`] entries are made, each one past that is
//! reported, and at most [`MAX_INPUT_BYTES`] are read, the lines past them reported as one
//! range. Entries' text is trimmed and cut to a note's length.

use std::fmt;

use yrs::TransactionMut;

use crate::id::NoteId;
use crate::region::Region;
use crate::schema::{truncate, Board, NewNote, NOTE_MAX_CHARS};
use crate::timeline::EntryKind;
use crate::timestamp::{TimeContext, TimeError, Timestamp};

mod clock;
mod kind;
mod lines;
mod table;

pub use kind::guess_kind;

/// The most entries one paste makes; the rest are reported.
pub const MAX_ENTRIES: usize = 1000;
/// The most input read; the lines past it are reported.
pub const MAX_INPUT_BYTES: usize = 200 * 1024;

/// A time more than this far before the previous entry is taken for the next day.
const ROLLOVER_MS: i64 = 6 * 3_600_000;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// What a paste gave: the entries it holds and the lines that are not entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// In the order of the paste, which need not be time order.
    pub entries: Vec<Entry>,
    /// In the order of the paste.
    pub unparsed: Vec<Unparsed>,
}

/// A timeline entry read from the paste.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The 1-based line of the paste the entry's text starts on.
    pub line: usize,
    pub time: Timestamp,
    pub text: String,
    /// Given by a table's kind column, or guessed from the text.
    pub kind: Option<EntryKind>,
    pub author: Option<String>,
}

/// A line that did not become an entry, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unparsed {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

/// Reads a pasted timeline against the incident's date and the board's timezone.
pub fn parse(input: &str, ctx: TimeContext) -> Parsed {
    // Spreadsheets put a byte-order mark before a CSV file's header.
    let input = input.strip_prefix('\u{feff}').unwrap_or(input);
    let (read, unread) = split_at_limit(input);
    let mut out = Collector::new(ctx);
    if !table::read(read, &mut out) {
        lines::read(read, &mut out);
    }
    out.guess_kinds();
    let first_unread = read.lines().count() + 1;
    let mut rest = unread.lines().enumerate();
    if let Some((i, text)) = rest.find(|(_, l)| !l.trim().is_empty()) {
        let last = first_unread + i + rest.count();
        out.reject(
            first_unread + i,
            text,
            Reject::TooLong {
                first: first_unread + i,
                last,
            },
        );
    }
    out.parsed
}

/// The whole lines within [`MAX_INPUT_BYTES`], and the rest.
fn split_at_limit(input: &str) -> (&str, &str) {
    if input.len() <= MAX_INPUT_BYTES {
        return (input, "");
    }
    let cut = input.as_bytes()[..MAX_INPUT_BYTES]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    input.split_at(cut)
}

/// Why a line was not read.
enum Reject {
    NoTime,
    TimeNotFirst,
    TimeWithoutText,
    HeaderWithoutMessage,
    /// Continues a line that was itself not read.
    Follows(usize),
    Time(TimeError),
    TooManyEntries,
    TooLong {
        first: usize,
        last: usize,
    },
    NoColumn {
        header: usize,
        wanted: &'static str,
        names: &'static str,
    },
    EmptyCell(String),
    NotATime {
        column: String,
        value: String,
    },
    Table(String),
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::NoTime => write!(f, "no time found"),
            Reject::TimeNotFirst => write!(f, "no time found at the start of the line"),
            Reject::TimeWithoutText => write!(f, "a time with no text"),
            Reject::HeaderWithoutMessage => write!(f, "a chat header with no message below it"),
            Reject::Follows(line) => write!(f, "continues line {line}, which was not read"),
            Reject::Time(e) => write!(f, "{e}"),
            Reject::TooManyEntries => write!(f, "over the limit of {MAX_ENTRIES} entries"),
            Reject::TooLong { first, last } => {
                let kb = MAX_INPUT_BYTES / 1024;
                if first == last {
                    write!(f, "the paste is over {kb} KB: line {first} was not read")
                } else {
                    write!(
                        f,
                        "the paste is over {kb} KB: lines {first} to {last} were not read"
                    )
                }
            }
            Reject::NoColumn {
                header,
                wanted,
                names,
            } => write!(
                f,
                "the header on line {header} names no {wanted} column ({names})"
            ),
            Reject::EmptyCell(column) => write!(f, "the {column} column is empty"),
            Reject::NotATime { column, value } => write!(
                f,
                "the {column} column holds {value:?}, not a time like 14:03 or 2026-11-20 14:03"
            ),
            Reject::Table(e) => write!(f, "this row could not be read: {e}"),
        }
    }
}

/// Places times on the running date and gathers entries and refusals within the limits;
/// the readers of each format feed it.
struct Collector {
    ctx: TimeContext,
    /// The incident date as a day number in the board's timezone, when there is one.
    incident_day: Option<i64>,
    /// Days from the incident date to the date a time without one is read on.
    days_on: i64,
    previous_ms: Option<i64>,
    parsed: Parsed,
    /// Per entry: its length in characters, and whether its kind is still to be guessed
    /// (done once at the end, as chat continuations keep adding words).
    chars: Vec<(usize, bool)>,
}

impl Collector {
    fn new(ctx: TimeContext) -> Collector {
        let incident_day = ctx.date.and_then(|d| {
            let midnight = Timestamp::parse(&d.to_string(), ctx).ok()?;
            Some(local_day(midnight.utc_ms, ctx))
        });
        Collector {
            ctx,
            incident_day,
            days_on: 0,
            previous_ms: None,
            parsed: Parsed::default(),
            chars: Vec::new(),
        }
    }

    /// The instant a time found in the paste stands for (see the module's rollover rule).
    fn resolve(&mut self, stamp: Result<clock::Stamp, TimeError>) -> Result<Timestamp, TimeError> {
        let stamp = stamp?;
        let mut time = Timestamp::parse(&stamp.text, self.ctx)?;
        if stamp.dated {
            if let Some(incident) = self.incident_day {
                self.days_on = local_day(time.utc_ms, self.ctx) - incident;
            }
        } else {
            time.utc_ms += self.days_on * DAY_MS;
            if let Some(previous) = self.previous_ms {
                let behind = previous - ROLLOVER_MS - time.utc_ms;
                if behind > 0 {
                    let days = (behind + DAY_MS - 1) / DAY_MS;
                    self.days_on += days;
                    time.utc_ms += days * DAY_MS;
                }
            }
        }
        self.previous_ms = Some(time.utc_ms);
        Ok(time)
    }

    /// Adds an entry, unless the limit is reached; `kind` is guessed later when not given.
    /// Returns the entry's index.
    fn push(
        &mut self,
        line: usize,
        source: &str,
        time: Timestamp,
        text: &str,
        author: Option<&str>,
        kind: Option<EntryKind>,
    ) -> Option<usize> {
        if self.parsed.entries.len() >= MAX_ENTRIES {
            self.reject(line, source, Reject::TooManyEntries);
            return None;
        }
        let text = truncate(text.trim());
        self.chars.push((text.chars().count(), kind.is_none()));
        self.parsed.entries.push(Entry {
            line,
            time,
            text: text.to_owned(),
            kind,
            author: author.map(str::to_owned),
        });
        Some(self.parsed.entries.len() - 1)
    }

    /// Adds a continuation line to a chat entry, within a note's length.
    fn append(&mut self, index: usize, more: &str) {
        let (chars, _) = &mut self.chars[index];
        let room = NOTE_MAX_CHARS - *chars;
        let more: String = std::iter::once('\n')
            .chain(more.trim().chars())
            .take(room)
            .collect();
        *chars += more.chars().count();
        self.parsed.entries[index].text.push_str(&more);
    }

    fn guess_kinds(&mut self) {
        for (entry, &(_, guess)) in self.parsed.entries.iter_mut().zip(&self.chars) {
            if guess {
                entry.kind = guess_kind(&entry.text);
            }
        }
    }

    fn reject(&mut self, line: usize, text: &str, reason: Reject) {
        self.parsed.unparsed.push(Unparsed {
            line,
            text: truncate(text.trim()).to_owned(),
            reason: reason.to_string(),
        });
    }
}

/// The day number (days since 1970-01-01) of an instant in the board's timezone.
fn local_day(utc_ms: i64, ctx: TimeContext) -> i64 {
    (utc_ms + i64::from(ctx.offset_minutes) * MINUTE_MS).div_euclid(DAY_MS)
}

/// Writes pasted entries into a board as notes of its timeline region `timeline`, one
/// per entry with the id at the same place in `ids` (there must be as many). Each entry's
/// author is kept unless `anonymous`. The region is written on each note, so the notes
/// belong to the timeline whichever layout the writing document holds.
pub fn add_entries(
    board: &Board,
    txn: &mut TransactionMut,
    timeline: &Region,
    entries: &[Entry],
    ids: &[NoteId],
    anonymous: bool,
    created_at: f64,
) {
    assert_eq!(entries.len(), ids.len(), "one id per entry");
    let (x, y) = (timeline.rect.x + 20.0, timeline.rect.y + 100.0);
    for (i, (entry, id)) in entries.iter().zip(ids).enumerate() {
        // One millisecond apart, so entries of the same time keep the paste's order.
        let note = NewNote::at(x, y, entry.text.clone())
            .in_region(Some(timeline.key.clone()))
            .created_at(created_at + i as f64)
            .author(entry.author.clone().filter(|_| !anonymous));
        board.add_note(txn, id, note);
        board.set_note_time(txn, id, Some(entry.time));
        board.set_note_kind(txn, id, entry.kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Date;
    use EntryKind::*;

    fn board(offset_minutes: i32) -> TimeContext {
        TimeContext {
            date: Some(Date::parse("2026-11-20").unwrap()),
            offset_minutes,
        }
    }

    const UTC: TimeContext = TimeContext {
        date: Some(Date {
            year: 2026,
            month: 11,
            day: 20,
        }),
        offset_minutes: 0,
    };

    const UNDATED: TimeContext = TimeContext {
        date: None,
        offset_minutes: 0,
    };

    /// An expected entry: its line, its time as shown in UTC on the incident date (so
    /// `14:03`, `14:03:22`, `2026-11-21 00:10` or `2026-11-20` for a whole day, which also
    /// pins the precision), its text, kind and author.
    type Want<'a> = (usize, &'a str, &'a str, Option<EntryKind>, Option<&'a str>);

    fn check(input: &str, ctx: TimeContext, entries: &[Want], unparsed: &[(usize, &str)]) {
        let parsed = parse(input, ctx);
        let got: Vec<Want> = parsed
            .entries
            .iter()
            .map(|e| (e.line, "", e.text.as_str(), e.kind, e.author.as_deref()))
            .collect();
        let times: Vec<String> = parsed.entries.iter().map(|e| e.time.display(UTC)).collect();
        let want_times: Vec<&str> = entries.iter().map(|w| w.1).collect();
        let want: Vec<Want> = entries
            .iter()
            .map(|&(l, _, t, k, a)| (l, "", t, k, a))
            .collect();
        assert_eq!(got, want, "entries of {input:?}");
        assert_eq!(times, want_times, "times of {input:?}");
        let got: Vec<(usize, &str)> = parsed
            .unparsed
            .iter()
            .map(|u| (u.line, u.reason.as_str()))
            .collect();
        assert_eq!(got, unparsed, "unparsed lines of {input:?}");
    }

    const NOT_A_TIME: &str = "that date or time does not exist";
    const NEEDS_DATE: &str = "a time without a date needs the incident date to be set";

    #[test]
    fn one_entry_per_timed_line() {
        check(
            "14:03 Alert fired",
            UTC,
            &[(1, "14:03", "Alert fired", Some(Detected), None)],
            &[],
        );
        check(
            "14:03:22 Restarted the API pods",
            UTC,
            &[(1, "14:03:22", "Restarted the API pods", Some(Action), None)],
            &[],
        );
        check(
            "2026-11-20 14:03 Customer reported errors\n2026-11-19 23:59:01 Deploy of v42",
            UTC,
            &[
                (1, "14:03", "Customer reported errors", Some(Reported), None),
                (
                    2,
                    "2026-11-19 23:59:01",
                    "Deploy of v42",
                    Some(Action),
                    None,
                ),
            ],
            &[],
        );
        check(
            "2026-11-20T14:03:22Z Rolled back\n2026-11-20T14:05:00.517Z Errors back to normal",
            UTC,
            &[
                (1, "14:03:22", "Rolled back", Some(Action), None),
                (2, "14:05:00", "Errors back to normal", Some(Resolved), None),
            ],
            &[],
        );
        check(
            "2026-11-20 Incident began\n2026-11-21 Postmortem held",
            UTC,
            &[
                (1, "2026-11-20", "Incident began", None, None),
                (2, "2026-11-21", "Postmortem held", None, None),
            ],
            &[],
        );
    }

    #[test]
    fn separators_bullets_and_brackets() {
        check(
            "14:03 - a\n14:04 — b\n14:05: c\n14:06 | d\n14:07 – e\n14:08, f\n14:09 -5% traffic",
            UTC,
            &[
                (1, "14:03", "a", None, None),
                (2, "14:04", "b", None, None),
                (3, "14:05", "c", None, None),
                (4, "14:06", "d", None, None),
                (5, "14:07", "e", None, None),
                (6, "14:08", "f", None, None),
                (7, "14:09", "-5% traffic", None, None),
            ],
            &[],
        );
        check(
            "- 14:03 a\n* 14:04 b\n• 14:05 c\n1. 14:06 d\n12) 14:07 e\n+ 14:08 f",
            UTC,
            &[
                (1, "14:03", "a", None, None),
                (2, "14:04", "b", None, None),
                (3, "14:05", "c", None, None),
                (4, "14:06", "d", None, None),
                (5, "14:07", "e", None, None),
                (6, "14:08", "f", None, None),
            ],
            &[],
        );
        // A log's bracketed date-time and level are not a speaker.
        check(
            "[2026-11-20 14:03:22] Ana: db down\n[14:04] ERROR: pool exhausted\n(14:05) paged",
            UTC,
            &[
                (1, "14:03:22", "Ana: db down", None, None),
                (2, "14:04", "ERROR: pool exhausted", None, None),
                (3, "14:05", "paged", Some(Detected), None),
            ],
            &[],
        );
    }

    #[test]
    fn whitespace_blank_lines_and_crlf() {
        check(
            "\r\n  14:03 a  \r\n\r\n\t14:10 b\r\n   \r\n",
            UTC,
            &[(2, "14:03", "a", None, None), (4, "14:10", "b", None, None)],
            &[],
        );
        check("", UTC, &[], &[]);
        check(" \n\r\n\t\n", UTC, &[], &[]);
    }

    #[test]
    fn lines_that_are_not_entries() {
        check(
            "14:03 Alert fired\nwe looked at graphs\nRollback done at 14:10\n25:00 nope\n14:3 typo",
            UTC,
            &[(1, "14:03", "Alert fired", Some(Detected), None)],
            &[
                (2, "no time found"),
                (3, "no time found at the start of the line"),
                (4, NOT_A_TIME),
                (5, "no time found"),
            ],
        );
        // A time alone heads the lines below it; with none it is reported.
        check(
            "14:03 a\n14:05\n14:06 b",
            UTC,
            &[(1, "14:03", "a", None, None), (3, "14:06", "b", None, None)],
            &[(2, "a time with no text")],
        );
        let parsed = parse("14:03 a\n  stray words  ", UTC);
        assert_eq!(parsed.unparsed[0].text, "stray words");
    }

    #[test]
    fn times_in_the_boards_timezone_unless_they_say_otherwise() {
        check(
            "14:03 a\n14:04 UTC b\n14:05Z c\n14:06 UTC+2 d\n14:07 GMT e\n14:08+05:30 f",
            board(60),
            &[
                (1, "13:03", "a", None, None),
                (2, "14:04", "b", None, None),
                (3, "14:05", "c", None, None),
                (4, "12:06", "d", None, None),
                (5, "14:07", "e", None, None),
                (6, "08:38", "f", None, None),
            ],
            &[],
        );
        check(
            "2026-11-20T15:03:22+01:00 a\n2026-11-20T14:03-0530 b\n2026-11-20 22:00 c",
            board(-300),
            &[
                (1, "14:03:22", "a", None, None),
                (2, "19:33", "b", None, None),
                (3, "2026-11-21 03:00", "c", None, None),
            ],
            &[],
        );
        // A range is not an offset: the time stays in the board's timezone.
        check(
            "14:00-14:30 db slow",
            board(60),
            &[(1, "13:00", "-14:30 db slow", None, None)],
            &[],
        );
    }

    #[test]
    fn midnight_rollover() {
        check(
            "23:50 a\n00:10 b\n00:20 c",
            UTC,
            &[
                (1, "23:50", "a", None, None),
                (2, "2026-11-21 00:10", "b", None, None),
                (3, "2026-11-21 00:20", "c", None, None),
            ],
            &[],
        );
        // Six hours back is still the same day (an unsorted paste); more is the next.
        check(
            "15:00 a\n09:00 b\n15:00 c\n08:59 d",
            UTC,
            &[
                (1, "15:00", "a", None, None),
                (2, "09:00", "b", None, None),
                (3, "15:00", "c", None, None),
                (4, "2026-11-21 08:59", "d", None, None),
            ],
            &[],
        );
        check(
            "22:00 a\n03:00 b\n23:00 c\n01:00 d",
            UTC,
            &[
                (1, "22:00", "a", None, None),
                (2, "2026-11-21 03:00", "b", None, None),
                (3, "2026-11-21 23:00", "c", None, None),
                (4, "2026-11-22 01:00", "d", None, None),
            ],
            &[],
        );
        // Time-only lines take the date of the last line that gave one.
        check(
            "2026-11-19 23:00 a\n23:30 b\n2026-11-21\n00:05 c\n00:10 d",
            UTC,
            &[
                (1, "2026-11-19 23:00", "a", None, None),
                (2, "2026-11-19 23:30", "b", None, None),
                (4, "2026-11-21 00:05", "c", None, None),
                (5, "2026-11-21 00:10", "d", None, None),
            ],
            &[],
        );
        // The day is the board's: 23:30Z is already the 21st at UTC+1.
        check(
            "2026-11-20T23:30Z a\n00:40 b",
            board(60),
            &[(1, "23:30", "a", None, None), (2, "23:40", "b", None, None)],
            &[],
        );
    }

    #[test]
    fn without_an_incident_date_a_time_alone_is_not_placed() {
        check(
            "2026-11-20T23:50Z a\n00:10 b\n14:00 c",
            UNDATED,
            &[(1, "23:50", "a", None, None)],
            &[(2, NEEDS_DATE), (3, NEEDS_DATE)],
        );
    }

    #[test]
    fn twelve_hour_clocks() {
        check(
            "12:05 AM a\n9:15 am b\n12:30 PM c\n2:03 pm d\n11:59 p.m. e",
            UTC,
            &[
                (1, "00:05", "a", None, None),
                (2, "09:15", "b", None, None),
                (3, "12:30", "c", None, None),
                (4, "14:03", "d", None, None),
                (5, "23:59", "e", None, None),
            ],
            &[],
        );
        check(
            "11:50 PM a\n12:10 AM b",
            UTC,
            &[
                (1, "23:50", "a", None, None),
                (2, "2026-11-21 00:10", "b", None, None),
            ],
            &[],
        );
        check(
            "13:00 PM a\n0:30 AM b",
            UTC,
            &[],
            &[(1, NOT_A_TIME), (2, NOT_A_TIME)],
        );
    }

    #[test]
    fn chat_headers_give_author_and_time_to_the_messages_below() {
        check(
            "Ana Lima  2:03 PM\nThe API is returning 500s\nPaging on-call now\n\n\
             Bo  2:05 PM\nRolled back the deploy",
            UTC,
            &[
                (
                    2,
                    "14:03",
                    "The API is returning 500s",
                    None,
                    Some("Ana Lima"),
                ),
                (
                    3,
                    "14:03",
                    "Paging on-call now",
                    Some(Detected),
                    Some("Ana Lima"),
                ),
                (
                    6,
                    "14:05",
                    "Rolled back the deploy",
                    Some(Action),
                    Some("Bo"),
                ),
            ],
            &[],
        );
        check(
            "Ana 14:03\nlooking\nBo [2:05 PM]\nme too\nPagerDuty APP  2:06 PM\nTriggered: HighErrorRate",
            UTC,
            &[
                (2, "14:03", "looking", None, Some("Ana")),
                (4, "14:05", "me too", None, Some("Bo")),
                (6, "14:06", "Triggered: HighErrorRate", Some(Detected), Some("PagerDuty")),
            ],
            &[],
        );
        // Times alone head messages too.
        check(
            "14:03\nAlert fired\n14:10\nRolled back",
            UTC,
            &[
                (2, "14:03", "Alert fired", Some(Detected), None),
                (4, "14:10", "Rolled back", Some(Action), None),
            ],
            &[],
        );
        check(
            "Ana 23:58\nstill down\nAna 00:02\nback up, all clear",
            UTC,
            &[
                (2, "23:58", "still down", None, Some("Ana")),
                (
                    4,
                    "2026-11-21 00:02",
                    "back up, all clear",
                    Some(Resolved),
                    Some("Ana"),
                ),
            ],
            &[],
        );
    }

    #[test]
    fn chat_lines_with_their_speaker_and_continuations() {
        check(
            "[14:03] Ana: db is down\nstack trace follows\n[2:05 PM] <bo> restarted it\nrecovered now",
            UTC,
            &[
                (1, "14:03", "db is down\nstack trace follows", None, Some("Ana")),
                (3, "14:05", "restarted it\nrecovered now", Some(Resolved), Some("bo")),
            ],
            &[],
        );
    }

    #[test]
    fn chat_lines_that_are_not_read() {
        check(
            "hello\nAna 14:03\nBo 14:05\nok\nCy 25:00\nhi\nthere",
            UTC,
            &[(4, "14:05", "ok", None, Some("Bo"))],
            &[
                (1, "no time found"),
                (2, "a chat header with no message below it"),
                (5, NOT_A_TIME),
                (6, "continues line 5, which was not read"),
                (7, "continues line 5, which was not read"),
            ],
        );
        // A sentence that ends in a time is not a header, so this is not chat either.
        check(
            "Rollback done at 14:03\n14:05 ok\nmore",
            UTC,
            &[(2, "14:05", "ok", None, None)],
            &[
                (1, "no time found at the start of the line"),
                (3, "no time found"),
            ],
        );
    }

    #[test]
    fn csv_with_a_header_row() {
        check(
            "time,text\n14:03,Alert fired\n\n14:10,Rolled back\n",
            UTC,
            &[
                (2, "14:03", "Alert fired", Some(Detected), None),
                (4, "14:10", "Rolled back", Some(Action), None),
            ],
            &[],
        );
        check(
            "Timestamp,Event,Kind,Who\n\
             2026-11-20T14:03:22Z,\"Errors, then timeouts\",detected,Ana\n\
             14:10,\"Said \"\"hi\"\"\",Action taken,\n\
             14:20,Emailed customers,,Bo\n\
             14:30,Something,weird kind,",
            UTC,
            &[
                (
                    2,
                    "14:03:22",
                    "Errors, then timeouts",
                    Some(Detected),
                    Some("Ana"),
                ),
                (3, "14:10", "Said \"hi\"", Some(Action), None),
                (
                    4,
                    "14:20",
                    "Emailed customers",
                    Some(Communication),
                    Some("Bo"),
                ),
                (5, "14:30", "Something", None, None),
            ],
            &[],
        );
        check(
            "\u{feff}When,Summary\r\n2:03 PM,a\r\n",
            UTC,
            &[(2, "14:03", "a", None, None)],
            &[],
        );
        check(
            "time,text\n14:03,\"line one\nline two\"\n14:05,b",
            UTC,
            &[
                (2, "14:03", "line one\nline two", None, None),
                (4, "14:05", "b", None, None),
            ],
            &[],
        );
    }

    #[test]
    fn spreadsheet_copy_with_date_and_time_columns() {
        check(
            "Date\tTime (UTC)\tDescription\n2026-11-20\t23:50\ta\n2026-11-21\t00:10\tb\n\t00:20\tc\n2026-11-22\t\td",
            UTC,
            &[
                (2, "23:50", "a", None, None),
                (3, "2026-11-21 00:10", "b", None, None),
                (4, "2026-11-21 00:20", "c", None, None),
                (5, "2026-11-22", "d", None, None),
            ],
            &[],
        );
        check(
            "created at;message\n2026-11-20 14:03;a; extra cell\n",
            UTC,
            &[(2, "14:03", "a", None, None)],
            &[],
        );
    }

    #[test]
    fn markdown_tables_such_as_the_export() {
        check(
            "| Time | Kind | Entry |\n|---|:---:|---|\n| 14:03 | Detected | Disk full |\n\
             | 2026-11-21 00:30 | Action taken | Cleared logs |",
            UTC,
            &[
                (3, "14:03", "Disk full", Some(Detected), None),
                (4, "2026-11-21 00:30", "Cleared logs", Some(Action), None),
            ],
            &[],
        );
    }

    #[test]
    fn tables_without_the_columns_an_entry_needs() {
        let no_time =
            "the header on line 1 names no time column (time, timestamp, date, when or at)";
        check(
            "name,email\nAna,ana@example.com\nBo,bo@example.com",
            UTC,
            &[],
            &[(1, no_time), (2, no_time), (3, no_time)],
        );
        let no_text = "the header on line 2 names no text column \
                       (text, message, event, description or summary)";
        check(
            "\ntime,who\n14:03,Ana",
            UTC,
            &[],
            &[(2, no_text), (3, no_text)],
        );
        check(
            "time,text\n,empty time\nsoon,not a time\n14:03,\n25:00,bad\n14:04,ok",
            UTC,
            &[(6, "14:04", "ok", None, None)],
            &[
                (2, "the time column is empty"),
                (
                    3,
                    "the time column holds \"soon\", not a time like 14:03 or 2026-11-20 14:03",
                ),
                (4, "the text column is empty"),
                (5, NOT_A_TIME),
            ],
        );
        // A first line with a comma in it is not a header unless the lines below are rows.
        check(
            "Summary, timeline and actions\n14:03 a",
            UTC,
            &[(2, "14:03", "a", None, None)],
            &[(1, "no time found")],
        );
    }

    #[test]
    fn at_most_a_thousand_entries() {
        let input: String = (0..MAX_ENTRIES + 2)
            .map(|i| format!("14:03 entry {i}\n"))
            .collect();
        let parsed = parse(&input, UTC);
        assert_eq!(parsed.entries.len(), MAX_ENTRIES);
        assert_eq!(parsed.entries[MAX_ENTRIES - 1].text, "entry 999");
        let over: Vec<_> = parsed
            .unparsed
            .iter()
            .map(|u| (u.line, u.text.as_str(), u.reason.as_str()))
            .collect();
        assert_eq!(
            over,
            [
                (1001, "14:03 entry 1000", "over the limit of 1000 entries"),
                (1002, "14:03 entry 1001", "over the limit of 1000 entries"),
            ]
        );
    }

    #[test]
    fn at_most_200_kb_of_input() {
        // Lines of exactly 1000 bytes: 204 fit in 200 KB, the 205th would cross it.
        let line = |i: usize| format!("14:03 {i:04} {}\n", "x".repeat(1000 - 12));
        let input: String = (1..=250).map(line).collect();
        assert_eq!(input.len(), 250_000);
        let parsed = parse(&input, UTC);
        assert_eq!(parsed.entries.len(), 204);
        assert!(parsed.entries[203].text.starts_with("0204 "));
        assert_eq!(parsed.unparsed.len(), 1);
        let u = &parsed.unparsed[0];
        assert_eq!(u.line, 205);
        assert!(u.text.starts_with("14:03 0205 "));
        assert_eq!(
            u.reason,
            "the paste is over 200 KB: lines 205 to 250 were not read"
        );
    }

    #[test]
    fn text_is_cut_to_a_notes_length() {
        let long = "y".repeat(NOTE_MAX_CHARS + 50);
        let parsed = parse(&format!("14:03   {long}   "), UTC);
        assert_eq!(parsed.entries[0].text, long[..NOTE_MAX_CHARS]);
        let parsed = parse(&format!("[14:03] Ana: hi\n{long}"), UTC);
        assert_eq!(parsed.entries[0].text.chars().count(), NOTE_MAX_CHARS);
        assert!(parsed.entries[0].text.starts_with("hi\nyyy"));
        // Cut on a character, never inside one.
        let wide = "é".repeat(NOTE_MAX_CHARS + 1);
        let parsed = parse(&format!("14:03 {wide}"), UTC);
        assert_eq!(parsed.entries[0].text.chars().count(), NOTE_MAX_CHARS);
    }

    #[test]
    fn kinds_are_guessed_from_the_text() {
        check(
            "14:00 Customer reported slow checkout\n14:03 PagerDuty alert fired\n\
             14:05 Read through pages of docs\n14:10 Rolled back v42\n\
             14:12 Posted on the status page\n14:20 Not resolved yet\n14:30 All clear",
            UTC,
            &[
                (
                    1,
                    "14:00",
                    "Customer reported slow checkout",
                    Some(Reported),
                    None,
                ),
                (2, "14:03", "PagerDuty alert fired", Some(Detected), None),
                (3, "14:05", "Read through pages of docs", None, None),
                (4, "14:10", "Rolled back v42", Some(Action), None),
                (
                    5,
                    "14:12",
                    "Posted on the status page",
                    Some(Communication),
                    None,
                ),
                (6, "14:20", "Not resolved yet", None, None),
                (7, "14:30", "All clear", Some(Resolved), None),
            ],
            &[],
        );
    }

    /// A small deterministic generator, so a failure names the seed that made it.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn time(&mut self) -> String {
            match self.below(4) {
                0 => format!("{}:{:02}", self.below(24), self.below(60)),
                1 => format!("{}:{:02} PM", 1 + self.below(12), self.below(60)),
                2 => format!(
                    "2026-11-2{}T{:02}:{:02}:07Z",
                    self.below(3),
                    self.below(24),
                    self.below(60)
                ),
                _ => format!(
                    "{:02}:{:02}:{:02}",
                    self.below(24),
                    self.below(60),
                    self.below(60)
                ),
            }
        }
    }

    /// A paste of mixed lines, each carrying a unique marker `kNNNN`.
    fn generated(seed: u64) -> String {
        let mut rng = Rng(seed);
        let mut lines = Vec::new();
        let mut marker = 0;
        let mut next = || {
            marker += 1;
            format!("k{marker:04}")
        };
        for _ in 0..1 + rng.below(40) {
            let line = match rng.below(10) {
                0 => format!("{} {}", rng.time(), next()),
                1 => format!("- {} — alert {}", rng.time(), next()),
                2 => format!("Ana {}  {}", next(), rng.time()),
                3 => format!("message {}", next()),
                4 => format!("[{}] Bo: {}", rng.time(), next()),
                5 => String::new(),
                6 => format!("  {} done at {}  ", next(), rng.time()),
                7 => format!("{}:{} {}", 20 + rng.below(20), rng.below(99), next()),
                8 => rng.time(),
                _ => format!("time,text {}", next()),
            };
            lines.push(line);
        }
        let eol = if rng.below(2) == 0 { "\n" } else { "\r\n" };
        lines.join(eol)
    }

    #[test]
    fn every_non_blank_line_is_accounted_for() {
        for seed in 1..=300 {
            let input = generated(seed);
            for ctx in [UTC, UNDATED, board(-480)] {
                let parsed = parse(&input, ctx);
                let lines: Vec<&str> = input.lines().map(str::trim).collect();
                let context = || format!("seed {seed}, {ctx:?}:\n{input}\n{parsed:#?}");
                let entry_at = |n: usize| parsed.entries.iter().any(|e| e.line == n);
                let reported = |n: usize| parsed.unparsed.iter().any(|u| u.line == n);
                for (n, line) in lines.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
                    let Some(at) = line.find('k') else {
                        // A time alone: it heads the entry on the next non-blank line.
                        let below = (n + 1..lines.len()).find(|&m| !lines[m].is_empty());
                        assert!(
                            reported(n + 1) || below.is_some_and(|m| entry_at(m + 1)),
                            "time on line {} lost; {}",
                            n + 1,
                            context()
                        );
                        continue;
                    };
                    let marker = &line[at..][..5];
                    let used = parsed.entries.iter().any(|e| {
                        e.text.contains(marker)
                            || e.author.as_deref().is_some_and(|a| a.contains(marker))
                    });
                    assert!(
                        used || reported(n + 1),
                        "line {} lost; {}",
                        n + 1,
                        context()
                    );
                }
                for e in &parsed.entries {
                    let first = e.text.lines().next().unwrap();
                    assert!(
                        lines[e.line - 1].contains(first),
                        "entry {e:?}; {}",
                        context()
                    );
                }
                for u in &parsed.unparsed {
                    assert_eq!(lines[u.line - 1], u.text, "{}", context());
                    assert!(!u.reason.is_empty());
                }
            }
        }
    }
}
