//! Getting a board out and back in: a Markdown postmortem document for people, and a
//! lossless JSON backup that imports into a new board.
//!
//! Both are pure functions of the document, so the server's endpoints, the command line
//! and the tests all produce the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use yrs::{Map, MapPrelim, ReadTxn, TransactionMut};

use crate::actions::{is_action, ActionCount};
use crate::facts::{IncidentFacts, FACT_MAX_CHARS};
use crate::id::NoteId;
use crate::palette::NoteColor;
use crate::region::{Region, Role};
use crate::schema::{set_or_remove, utf16_len, Board, NewNote, NoteData, NOTE_MAX_CHARS};
use crate::template::{Template, TemplateError};
use crate::timeline::{format_duration, EntryKind, Timeline};
use crate::timestamp::{zone_label, Date, Precision, Timestamp};
use crate::votes::MAX_VOTE_BUDGET;

pub const FORMAT: &str = "hindsight-board";
pub const VERSION: u32 = 1;
/// Most notes an import accepts; far beyond any real meeting.
pub const MAX_IMPORT_NOTES: usize = 10_000;
/// Longest author or owner a backup may name: a person's name, or a team's.
pub const MAX_NAME_CHARS: usize = 200;
/// Most people whose votes one note may carry: far more than a board can seat at once
/// (its connection limit), and a bound on what one backup can make a board hold.
pub const MAX_VOTERS: usize = 1_000;
/// The longest board title an import or a live change may store.
pub const MAX_TITLE_CHARS: usize = 200;

/// The Markdown document: the title, the incident facts (if the board shows them), then
/// one section per region of the board, in the board's order. A region's role decides its
/// section: the summary's notes as paragraphs, the timeline as a table in time order, the
/// actions as a table with owners and dates (those two are headed "Timeline" and
/// "Actions", after what the tables hold); every other region lists its notes by votes.
pub fn to_markdown<T: ReadTxn>(board: &Board, txn: &T) -> String {
    let template = board.template(txn);
    let facts = board.facts(txn);
    let notes = board.notes(txn);
    let timeline = Timeline::of(&notes);
    let mut md = String::new();

    let title = if facts.title.trim().is_empty() {
        template.untitled()
    } else {
        facts.title.clone()
    };
    let _ = writeln!(md, "# {}\n", inline(&title));
    if template.settings.incident_facts {
        write_facts(&mut md, &facts, &timeline);
    }
    for region in &template.regions {
        match region.role {
            Some(Role::Summary) => write_summary(&mut md, region, &notes),
            Some(Role::Timeline) => write_timeline(&mut md, board, txn, &timeline),
            Some(Role::Actions) => write_actions(&mut md, &template, &notes),
            None => write_ideas(&mut md, region, &notes),
        }
    }
    // Sections end with a blank line; the document ends with one newline.
    let trimmed = md.trim_end_matches('\n').len();
    md.truncate(trimmed);
    md.push('\n');
    md
}

fn in_region<'a>(notes: &'a [NoteData], region: &'a Region) -> impl Iterator<Item = &'a NoteData> {
    notes
        .iter()
        .filter(move |n| n.region.as_deref() == Some(region.key.as_str()))
}

fn write_summary(md: &mut String, region: &Region, notes: &[NoteData]) {
    let _ = writeln!(md, "## {}\n", inline(&region.title));
    let mut any = false;
    for n in in_region(notes, region) {
        any = true;
        let _ = writeln!(md, "{}\n", n.text.trim());
    }
    if !any {
        md.push_str("_Nothing written yet._\n\n");
    }
}

fn write_timeline<T: ReadTxn>(md: &mut String, board: &Board, txn: &T, timeline: &Timeline) {
    let facts = board.facts(txn);
    let ctx = board.time_context(txn);
    let _ = writeln!(md, "## Timeline\n");
    let _ = writeln!(md, "Times are in {}.\n", zone_label(facts.utc_offset));
    if timeline.timed.is_empty() {
        md.push_str("_No timed entries yet._\n\n");
    } else {
        md.push_str("| Time | Kind | Entry |\n|---|---|---|\n");
        for n in &timeline.timed {
            let time = n.time.map(|t| t.display(ctx)).unwrap_or_default();
            let kind = n.kind.map_or("", EntryKind::label);
            let _ = writeln!(md, "| {time} | {kind} | {} |", cell(&n.text));
        }
        md.push('\n');
    }
    if !timeline.untimed.is_empty() {
        md.push_str("Not yet placed in time:\n\n");
        for n in &timeline.untimed {
            let _ = writeln!(md, "- {}", item(&n.text));
        }
        md.push('\n');
    }
}

fn write_ideas(md: &mut String, region: &Region, notes: &[NoteData]) {
    let _ = writeln!(md, "## {}\n", inline(&region.title));
    if !region.question.trim().is_empty() {
        let _ = writeln!(md, "_{}_\n", inline(&region.question));
    }
    let mut ideas: Vec<_> = in_region(notes, region).collect();
    ideas.sort_by(|a, b| {
        b.total_votes()
            .cmp(&a.total_votes())
            .then(a.created_at.total_cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
    if ideas.is_empty() {
        md.push_str("_No notes._\n\n");
        return;
    }
    for n in ideas {
        let mut line = format!("- {}", item(&n.text));
        if n.total_votes() > 0 {
            let _ = write!(line, " ({})", votes(n.total_votes()));
        }
        if let Some(author) = &n.author {
            let _ = write!(line, " — {}", inline(author));
        }
        if n.action_id.is_some() {
            line.push_str(" → action");
        }
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');
}

fn write_actions(md: &mut String, template: &Template, notes: &[NoteData]) {
    let by_id: BTreeMap<&NoteId, &NoteData> = notes.iter().map(|n| (&n.id, n)).collect();
    let _ = writeln!(md, "## Actions\n");
    let actions: Vec<_> = notes.iter().filter(|n| is_action(n)).collect();
    if actions.is_empty() {
        md.push_str("_No actions yet._\n\n");
        return;
    }
    md.push_str("| Action | Owner | Due | Votes | Source idea |\n|---|---|---|---|---|\n");
    for n in &actions {
        let owner = n
            .owner
            .as_deref()
            .map_or_else(|| "**missing**".to_owned(), cell);
        let due = n
            .due
            .map_or_else(|| "**missing**".to_owned(), |d| d.to_string());
        let source = n
            .source_id
            .as_ref()
            .and_then(|id| by_id.get(id))
            .map(|s| {
                let region = s
                    .region
                    .as_deref()
                    .and_then(|k| template.region(k))
                    .map_or(String::new(), |r| inline(&r.title));
                format!("{} ({region})", cell(&s.text))
            })
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "| {} | {owner} | {due} | {} | {source} |",
            cell(&n.text),
            n.total_votes()
        );
    }
    let count = ActionCount::of(notes);
    if count.incomplete > 0 {
        let _ = writeln!(md, "\n{}.", count.sentence());
    }
    md.push('\n');
}

fn write_facts(md: &mut String, facts: &IncidentFacts, timeline: &Timeline) {
    let mut rows = Vec::new();
    if let Some(d) = facts.date {
        rows.push(("Date", d.to_string()));
    }
    if let Some(s) = &facts.severity {
        rows.push(("Severity", cell(s)));
    }
    if let Some(i) = &facts.impact {
        rows.push(("Customer impact", cell(i)));
    }
    if let Some(d) = timeline.durations() {
        rows.push(("Time to detect", format_duration(d.to_detect_ms)));
        rows.push(("Time to resolve", format_duration(d.to_resolve_ms)));
    }
    if rows.is_empty() {
        return;
    }
    md.push_str("| Fact | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    md.push('\n');
}

fn votes(n: u32) -> String {
    format!("{n} vote{}", if n == 1 { "" } else { "s" })
}

/// Text on one line, with Markdown's active characters at line start made inert.
fn inline(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text inside a table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

/// A list item's text: continuation lines indented so they stay in the item.
fn item(s: &str) -> String {
    s.trim().lines().collect::<Vec<_>>().join("\n  ")
}

/// The JSON backup of a board: every fact, setting and note, without the facilitator's
/// key (an import gets a new one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BoardExport {
    pub format: String,
    pub version: u32,
    pub title: String,
    pub created_at: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default)]
    pub utc_offset: i32,
    #[serde(default)]
    pub anonymous: bool,
    pub vote_budget: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u8>,
    /// The board's regions and settings; a backup without one (written before boards
    /// carried their layout) is a postmortem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
    pub notes: Vec<NoteExport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoteExport {
    pub id: String,
    pub text: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub color: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub created_at: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_precision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub votes: BTreeMap<String, u32>,
}

pub fn export<T: ReadTxn>(board: &Board, txn: &T) -> BoardExport {
    let facts = board.facts(txn);
    let template = board.template(txn);
    // A step the board's regions do not have (written by another client) is no step.
    let step = board
        .step(txn)
        .filter(|s| (1..=template.steps()).contains(s));
    BoardExport {
        format: FORMAT.into(),
        version: VERSION,
        title: facts.title,
        created_at: board.created_at(txn).unwrap_or(0.0),
        incident_date: facts.date.map(|d| d.to_string()),
        severity: facts.severity,
        impact: facts.impact,
        utc_offset: facts.utc_offset,
        anonymous: board.anonymous(txn),
        vote_budget: board.vote_budget(txn),
        step,
        template: Some(template),
        notes: board.notes(txn).into_iter().map(note_export).collect(),
    }
}

/// One note as the export writes it.
fn note_export(n: NoteData) -> NoteExport {
    NoteExport {
        id: n.id.to_string(),
        text: n.text,
        x: n.x,
        y: n.y,
        w: n.w,
        h: n.h,
        color: n.color.as_str().into(),
        region: n.region,
        created_at: n.created_at,
        author: n.author,
        time: n.time.map(|t| t.utc_ms),
        time_precision: n.time.map(|t| t.precision.as_str().into()),
        kind: n.kind.map(|k| k.as_str().into()),
        owner: n.owner,
        due: n.due.map(|d| d.to_string()),
        source_id: n.source_id.map(|i| i.to_string()),
        action_id: n.action_id.map(|i| i.to_string()),
        votes: n.votes,
    }
}

/// Checks the limits of note `id` as the board now holds it (text, names, votes): the
/// same limits an import checks, for changes that arrive live. A note that is gone
/// passes. `template` is the board's (`Board::template`), which the caller keeps.
pub fn check_stored_note<T: ReadTxn>(
    board: &Board,
    txn: &T,
    id: &NoteId,
    template: &Template,
) -> Result<(), String> {
    match board.note_in(txn, id, template) {
        Some(n) => check_note_limits(&note_export(n)),
        None => Ok(()),
    }
}

/// Checks the board's own fields as it now holds them (title, severity, impact): the
/// same limits an import checks.
pub fn check_stored_meta<T: ReadTxn>(board: &Board, txn: &T) -> Result<(), String> {
    let facts = board.facts(txn);
    check_board_fields(
        &facts.title,
        facts.severity.as_deref(),
        facts.impact.as_deref(),
    )
}

fn check_board_fields(
    title: &str,
    severity: Option<&str>,
    impact: Option<&str>,
) -> Result<(), String> {
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(format!("title is longer than {MAX_TITLE_CHARS} characters"));
    }
    for (what, value) in [("severity", severity), ("impact", impact)] {
        if value.is_some_and(|v| v.chars().count() > FACT_MAX_CHARS) {
            return Err(format!("{what} is longer than {FACT_MAX_CHARS} characters"));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("not a Hindsight board export (format {0:?}, version {1})")]
    Format(String, u32),
    #[error("too many notes ({0}; at most {MAX_IMPORT_NOTES})")]
    TooManyNotes(usize),
    #[error("note {index}: {problem}")]
    Note { index: usize, problem: String },
    #[error("{0}")]
    Board(String),
    #[error("template: {0}")]
    Template(#[from] TemplateError),
}

/// Writes an export into an empty board, after checking all of it: a bad backup is
/// refused whole, never half-imported.
pub fn import(
    board: &Board,
    txn: &mut TransactionMut,
    data: &BoardExport,
) -> Result<(), ImportError> {
    if data.format != FORMAT || data.version != VERSION {
        return Err(ImportError::Format(data.format.clone(), data.version));
    }
    if data.notes.len() > MAX_IMPORT_NOTES {
        return Err(ImportError::TooManyNotes(data.notes.len()));
    }
    let template = match &data.template {
        Some(t) => {
            t.validate()?;
            t
        }
        None => Template::postmortem(),
    };
    let checked: Vec<CheckedNote> = data
        .notes
        .iter()
        .enumerate()
        .map(|(index, n)| {
            check_note(n, template).map_err(|problem| ImportError::Note { index, problem })
        })
        .collect::<Result<_, _>>()?;
    let bad = |m: &str| ImportError::Board(m.to_owned());
    if !data.created_at.is_finite() {
        return Err(bad("creation time is invalid"));
    }
    check_board_fields(
        &data.title,
        data.severity.as_deref(),
        data.impact.as_deref(),
    )
    .map_err(|e| bad(&e))?;
    let date = data
        .incident_date
        .as_deref()
        .map(Date::parse)
        .transpose()
        .map_err(|e| bad(&format!("incident date: {e}")))?;
    let steps = 1..=template.steps();
    if data.vote_budget > MAX_VOTE_BUDGET || data.step.is_some_and(|s| !steps.contains(&s)) {
        return Err(bad("vote budget or step is out of range"));
    }

    board.create(txn, &data.title, data.created_at, template);
    board.set_incident_date(txn, date);
    board.restore_fact(txn, "severity", data.severity.as_deref());
    board.restore_fact(txn, "impact", data.impact.as_deref());
    if !board.set_utc_offset(txn, data.utc_offset) {
        return Err(bad("timezone offset is out of range"));
    }
    board.set_anonymous(txn, data.anonymous);
    board.set_vote_budget(txn, data.vote_budget);
    board.set_step(txn, data.step);
    for (n, c) in data.notes.iter().zip(checked) {
        write_note(board, txn, n, c);
    }
    Ok(())
}

/// Writes one checked note of an export into the board, as it was exported.
fn write_note(board: &Board, txn: &mut TransactionMut, n: &NoteExport, c: CheckedNote) {
    board.add_note(
        txn,
        &c.id,
        NewNote {
            x: n.x,
            y: n.y,
            text: n.text.clone(),
            color: c.color,
            created_at: n.created_at,
            author: None,
            region: None,
        },
    );
    board.resize_note(txn, &c.id, n.w, n.h);
    let map = board.note_map(txn, &c.id).expect("just added");
    // As exported: the page's own writers tidy what people type, a backup is kept as is.
    if let Some(author) = &n.author {
        map.insert(txn, "author", author.as_str());
    }
    set_or_remove(&map, txn, "region", c.region);
    board.set_note_time(txn, &c.id, c.time);
    board.set_note_kind(txn, &c.id, c.kind);
    if let Some(owner) = &n.owner {
        map.insert(txn, "owner", owner.as_str());
    }
    board.set_due(txn, &c.id, c.due);
    for (key, id) in [("sourceId", &c.source_id), ("actionId", &c.action_id)] {
        if let Some(id) = id {
            map.insert(txn, key, id.as_str());
        }
    }
    if !n.votes.is_empty() {
        let votes = map.insert(txn, "votes", MapPrelim::default());
        for (voter, count) in &n.votes {
            votes.insert(txn, voter.as_str(), f64::from(*count));
        }
    }
}

/// What restoring an earlier version changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// Notes brought back or written back as they were.
    pub written: usize,
    /// Notes added since, removed.
    pub removed: usize,
}

/// Brings `board` back to `old`, an export of the same board at an earlier time, as one
/// change on top of what it holds now (so it can itself be undone by restoring the
/// version kept before it): notes added since are removed, notes removed or changed
/// since are written as they were, and the incident facts are set as they were. Notes
/// unchanged since are not touched. The meeting's state and the board's settings are
/// the facilitator's and are left alone. `old` is checked as an import is; a bad one
/// changes nothing.
pub fn restore(
    board: &Board,
    txn: &mut TransactionMut,
    old: &BoardExport,
) -> Result<Restored, ImportError> {
    let template = old.template.clone().unwrap_or_else(|| board.template(txn));
    let checked: Vec<CheckedNote> = old
        .notes
        .iter()
        .enumerate()
        .map(|(index, n)| {
            check_note(n, &template).map_err(|problem| ImportError::Note { index, problem })
        })
        .collect::<Result<_, _>>()?;
    let bad = |m: &str| ImportError::Board(m.to_owned());
    check_board_fields(&old.title, old.severity.as_deref(), old.impact.as_deref())
        .map_err(|e| bad(&e))?;
    let date = old
        .incident_date
        .as_deref()
        .map(Date::parse)
        .transpose()
        .map_err(|e| bad(&format!("incident date: {e}")))?;

    let now: BTreeMap<String, NoteExport> = board
        .notes(txn)
        .into_iter()
        .map(|n| (n.id.to_string(), note_export(n)))
        .collect();
    let kept: std::collections::HashSet<&str> = old.notes.iter().map(|n| n.id.as_str()).collect();
    let mut restored = Restored::default();
    for id in now.keys().filter(|id| !kept.contains(id.as_str())) {
        if let Ok(id) = id.parse::<NoteId>() {
            board.delete_note(txn, &id);
            restored.removed += 1;
        }
    }
    for (n, c) in old.notes.iter().zip(checked) {
        if now.get(&n.id) == Some(n) {
            continue;
        }
        // Written whole, as an import writes it: a note's map replaced by the old one.
        board.delete_note(txn, &c.id);
        write_note(board, txn, n, c);
        restored.written += 1;
    }
    let facts = board.facts(txn);
    if facts.title != old.title {
        board.set_title(txn, &old.title);
    }
    if facts.date != date {
        board.set_incident_date(txn, date);
    }
    if facts.severity != old.severity {
        board.restore_fact(txn, "severity", old.severity.as_deref());
    }
    if facts.impact != old.impact {
        board.restore_fact(txn, "impact", old.impact.as_deref());
    }
    if facts.utc_offset != old.utc_offset && !board.set_utc_offset(txn, old.utc_offset) {
        return Err(bad("timezone offset is out of range"));
    }
    Ok(restored)
}

struct CheckedNote {
    id: NoteId,
    color: NoteColor,
    region: Option<String>,
    time: Option<Timestamp>,
    kind: Option<EntryKind>,
    due: Option<Date>,
    source_id: Option<NoteId>,
    action_id: Option<NoteId>,
}

/// The limits of one note's content: its text, the names on it and its votes.
fn check_note_limits(n: &NoteExport) -> Result<(), String> {
    if n.text.chars().count() > NOTE_MAX_CHARS || utf16_len(&n.text) as usize > 2 * NOTE_MAX_CHARS {
        return Err(format!("text is longer than {NOTE_MAX_CHARS} characters"));
    }
    if n.votes.keys().any(|k| k.is_empty() || k.len() > 64)
        || n.votes.values().any(|v| *v == 0 || *v > MAX_VOTE_BUDGET)
    {
        return Err("votes are malformed".into());
    }
    if n.votes.len() > MAX_VOTERS {
        return Err(format!("votes from more than {MAX_VOTERS} people"));
    }
    for (what, value) in [("author", &n.author), ("owner", &n.owner)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_NAME_CHARS)
        {
            return Err(format!("{what} is longer than {MAX_NAME_CHARS} characters"));
        }
    }
    Ok(())
}

fn check_note(n: &NoteExport, template: &Template) -> Result<CheckedNote, String> {
    let id = n.id.parse().map_err(|e| format!("id {:?}: {e}", n.id))?;
    check_note_limits(n)?;
    if ![n.x, n.y, n.w, n.h, n.created_at]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err("position, size and creation time must be numbers".into());
    }
    let color = NoteColor::ALL
        .into_iter()
        .find(|c| c.as_str() == n.color)
        .ok_or_else(|| format!("unknown colour {:?}", n.color))?;
    let region = n
        .region
        .as_deref()
        .map(|r| match template.region(r) {
            Some(region) => Ok(region.key.clone()),
            None => Err(format!("unknown region {r:?}")),
        })
        .transpose()?;
    let precision = n
        .time_precision
        .as_deref()
        .map(|p| Precision::from_name(p).ok_or_else(|| format!("unknown time precision {p:?}")))
        .transpose()?;
    let kind = n
        .kind
        .as_deref()
        .map(|k| EntryKind::from_name(k).ok_or_else(|| format!("unknown entry kind {k:?}")))
        .transpose()?;
    let due = n
        .due
        .as_deref()
        .map(Date::parse)
        .transpose()
        .map_err(|e| format!("due date: {e}"))?;
    let link = |v: &Option<String>| {
        v.as_deref()
            .map(str::parse::<NoteId>)
            .transpose()
            .map_err(|e| format!("linked note: {e}"))
    };
    Ok(CheckedNote {
        id,
        color,
        region,
        time: n.time.map(|utc_ms| Timestamp {
            utc_ms,
            precision: precision.unwrap_or(Precision::Minute),
        }),
        kind,
        due,
        source_id: link(&n.source_id)?,
        action_id: link(&n.action_id)?,
    })
}
