//! Pastes that are tables with a header row naming their columns: CSV, TSV (what a
//! spreadsheet copies), semicolon-separated CSV, and Markdown tables such as the board's
//! own export.

use csv::{ReaderBuilder, StringRecord, Trim};

use super::{clock, Collector, Reject};
use crate::timeline::EntryKind;

/// Tabs first: spreadsheet cells hold commas far more often than tabs.
const DELIMITERS: [u8; 4] = [b'\t', b',', b';', b'|'];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Time,
    Date,
    Text,
    Kind,
    Author,
}

/// What a column is for, from its name: its last word decides, so "Created at", "Event
/// time" and "Time (UTC)" are times and "Event type" is a kind.
fn role(name: &str) -> Option<Role> {
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.extend(c.to_lowercase()),
            _ => {}
        }
    }
    let words: Vec<&str> = plain
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() > 4 {
        return None;
    }
    Some(match *words.last()? {
        "date" | "day" => Role::Date,
        "time" | "timestamp" | "datetime" | "when" | "at" | "created" | "occurred" | "ts" => {
            Role::Time
        }
        "text" | "message" | "msg" | "event" | "description" | "summary" | "details" | "detail"
        | "note" | "notes" | "entry" | "what" | "title" | "body" | "content" | "comment"
        | "update" => Role::Text,
        "kind" | "type" | "category" => Role::Kind,
        "author" | "who" | "by" | "user" | "name" | "person" | "from" | "owner" | "reporter" => {
            Role::Author
        }
        _ => return None,
    })
}

/// The columns a header row names, by index.
struct Columns {
    line: usize,
    names: Vec<String>,
    /// The time column, or the date column when there is no other.
    time: Option<usize>,
    /// A date column beside a time-only one, to be read together.
    date: Option<usize>,
    text: Option<usize>,
    kind: Option<usize>,
    author: Option<usize>,
}

impl Columns {
    fn of(line: usize, header: &StringRecord) -> Columns {
        let names: Vec<String> = header.iter().map(str::to_owned).collect();
        let first = |wanted: Role| names.iter().position(|n| role(n) == Some(wanted));
        let (time, date) = match (first(Role::Time), first(Role::Date)) {
            (None, date) => (date, None),
            (time, date) => (time, date),
        };
        Columns {
            line,
            time,
            date,
            text: first(Role::Text),
            kind: first(Role::Kind),
            author: first(Role::Author),
            names,
        }
    }

    /// Why no row can be read, if the header lacks a column every entry needs.
    fn missing(&self) -> Option<Reject> {
        let (wanted, names) = match (self.time, self.text) {
            (None, _) => ("time", "time, timestamp, date, when or at"),
            (_, None) => ("text", "text, message, event, description or summary"),
            _ => return None,
        };
        Some(Reject::NoColumn {
            header: self.line,
            wanted,
            names,
        })
    }

    fn name(&self, column: usize) -> &str {
        &self.names[column]
    }
}

/// Reads `input` as a table if its first line is a header row, and says whether it was.
pub(super) fn read(input: &str, out: &mut Collector) -> bool {
    let lines: Vec<&str> = input.lines().map(str::trim).collect();
    let mut non_blank = lines.iter().filter(|l| !l.is_empty());
    let (Some(first), second) = (non_blank.next(), non_blank.next()) else {
        return false;
    };
    let Some(delimiter) = DELIMITERS.into_iter().find(|&d| {
        is_header(&split(first, d))
            && second.is_none_or(|second| split(second, d).iter().count() > 1)
    }) else {
        return false;
    };

    // A record's position is where the reader stood before it skipped the blank lines
    // ahead of the record, so the record's line is that of the first byte after them.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(input.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_at = |p: Option<&csv::Position>| {
        let from = p.map_or(0, |p| p.byte() as usize).min(input.len());
        let skipped = input.as_bytes()[from..]
            .iter()
            .take_while(|b| matches!(b, b'\n' | b'\r'));
        let start = from + skipped.count();
        starts.partition_point(|&s| s <= start)
    };
    let mut columns: Option<Columns> = None;
    let mut reader = reader(delimiter).from_reader(input.as_bytes());
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = line_at(e.position());
                let source = line_text(&lines, line);
                out.reject(line, source, Reject::Table(e.to_string()));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = line_at(record.position());
        let source = line_text(&lines, line);
        let Some(columns) = &columns else {
            let header = Columns::of(line, &record);
            if let Some(reason) = header.missing() {
                out.reject(line, source, reason);
            }
            columns = Some(header);
            continue;
        };
        if is_rule(&record) {
            continue;
        }
        match row(columns, &record, (line, source), out) {
            Ok(()) => {}
            Err(reason) => out.reject(line, source, reason),
        }
    }
    true
}

fn row(
    columns: &Columns,
    record: &StringRecord,
    (line, source): (usize, &str),
    out: &mut Collector,
) -> Result<(), Reject> {
    if let Some(reason) = columns.missing() {
        return Err(reason);
    }
    let cell = |column: Option<usize>| column.and_then(|c| record.get(c)).unwrap_or("");
    let name = |column: Option<usize>| column.map_or("", |c| columns.name(c)).to_owned();
    let (time, date) = (cell(columns.time), cell(columns.date));
    let dated = |s: &str| clock::whole(s).is_some_and(|s| s.is_ok_and(|s| s.dated));
    let written = match (time.is_empty(), date.is_empty()) {
        (true, true) => return Err(Reject::EmptyCell(name(columns.time))),
        (true, false) => date.to_owned(),
        (false, true) => time.to_owned(),
        (false, false) if dated(time) => time.to_owned(),
        (false, false) => format!("{date} {time}"),
    };
    let stamp = clock::whole(&written).ok_or_else(|| Reject::NotATime {
        column: name(columns.time),
        value: written.clone(),
    })?;
    let time = out.resolve(stamp).map_err(Reject::Time)?;
    let text = cell(columns.text);
    if text.is_empty() {
        return Err(Reject::EmptyCell(name(columns.text)));
    }
    let kind = kind_named(cell(columns.kind));
    let author = Some(cell(columns.author)).filter(|a| !a.is_empty());
    out.push(line, source, time, text, author, kind);
    Ok(())
}

/// A kind column may hold our names, our labels ("Action taken") or words of its own.
fn kind_named(cell: &str) -> Option<EntryKind> {
    EntryKind::ALL
        .into_iter()
        .find(|k| cell.eq_ignore_ascii_case(k.as_str()) || cell.eq_ignore_ascii_case(k.label()))
        .or_else(|| super::guess_kind(cell))
}

fn reader(delimiter: u8) -> ReaderBuilder {
    let mut builder = ReaderBuilder::new();
    builder
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All);
    builder
}

fn split(line: &str, delimiter: u8) -> StringRecord {
    reader(delimiter)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// Two or more columns, at least one of them a name we know, and none holding a time
/// (which would make it a row of data, not a header).
fn is_header(fields: &StringRecord) -> bool {
    fields.iter().filter(|f| !f.is_empty()).count() >= 2
        && fields.iter().any(|f| role(f).is_some())
        && !fields.iter().any(|f| clock::leading(f).is_some())
}

/// The `|---|:---:|` row under a Markdown table's header.
fn is_rule(record: &StringRecord) -> bool {
    record.iter().any(|f| f.contains('-'))
        && record
            .iter()
            .all(|f| f.chars().all(|c| matches!(c, '-' | ':' | ' ')))
}

fn line_text<'a>(lines: &[&'a str], line: usize) -> &'a str {
    line.checked_sub(1)
        .and_then(|i| lines.get(i))
        .copied()
        .unwrap_or("")
}
