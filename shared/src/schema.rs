//! The shape of a board's Yrs document, defined once, with typed accessors.
//!
//! ```text
//! meta : Y.Map                       board metadata and incident facts (see facts.rs)
//!   template, layout                 where the board came from and its regions (template.rs)
//!   title      : string
//!   createdAt  : number              milliseconds since the Unix epoch
//!   schema     : number              SCHEMA_VERSION
//! facilitation : Y.Map               step, timer, follow-me (see facilitation.rs)
//! notes : Y.Map<noteId, Y.Map>       one entry per sticky note
//!   text       : Y.Text              collaborative text
//!   x, y       : number              top-left corner, canvas pixels
//!   w, h       : number              size, canvas pixels
//!   color      : string              a `NoteColor` name
//!   region     : string              the key of a region in meta.layout
//!   createdAt  : number              milliseconds since the Unix epoch
//!   author     : string, optional    display name of the writer
//!   time, timePrecision, kind         timeline entries (see timeline.rs)
//!   owner, due, sourceId, actionId    actions and the ideas they came from (see actions.rs)
//!   votes      : Y.Map<voter, number> dot votes (see votes.rs)
//! ```
//!
//! Readers are lenient: a field that is missing or of the wrong type (say, written by a
//! third-party Yjs client) reads as its default instead of failing the whole board.
//! Writers are strict and always write every field.

use std::collections::BTreeMap;
use std::sync::Arc;

use yrs::{
    Any, Doc, GetString, Map, MapPrelim, MapRef, OffsetKind, Options, Out, ReadTxn, Text,
    TextPrelim, TextRef, TransactionMut,
};

use crate::id::NoteId;
use crate::palette::NoteColor;
use crate::region::Role;
use crate::template::Template;
use crate::timeline::EntryKind;
use crate::timestamp::{Date, Precision, Timestamp};

pub const META: &str = "meta";
pub const NOTES: &str = "notes";
pub const FACILITATION: &str = "facilitation";
pub const SCHEMA_VERSION: f64 = 1.0;

pub const NOTE_WIDTH: f64 = 200.0;
pub const NOTE_HEIGHT: f64 = 140.0;
pub const NOTE_MIN_SIZE: f64 = 80.0;
pub const NOTE_MAX_SIZE: f64 = 800.0;
/// Longest note text accepted from the page; a note is a sticky, not a document.
pub const NOTE_MAX_CHARS: usize = 4000;

/// A new document configured the way every Hindsight replica must be.
///
/// Text offsets are counted in UTF-16 code units, as JavaScript and browser text fields
/// count them, so positions mean the same thing in Yjs, in our page and here.
pub fn new_doc(client_id: Option<u64>) -> Doc {
    let mut options = match client_id {
        Some(id) => Options::with_client_id(yrs::ClientID::new(id)),
        None => Options::default(),
    };
    options.offset_kind = OffsetKind::Utf16;
    Doc::with_options(options)
}

/// Handles to a board's root types. Cheap to clone; obtain one per document with
/// [`Board::new`] before opening any transaction on it.
#[derive(Clone)]
pub struct Board {
    pub(crate) meta: MapRef,
    pub(crate) notes: MapRef,
    pub(crate) facilitation: MapRef,
}

/// A note as read from the document at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteData {
    pub id: NoteId,
    pub text: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub color: NoteColor,
    /// The key of the board's region the note belongs to: the one stored on it, or for a
    /// note written without one (or with a key the board does not have), the region
    /// under its centre.
    pub region: Option<String>,
    /// What that region does, from the board's template.
    pub role: Option<Role>,
    pub created_at: f64,
    pub author: Option<String>,
    /// When it happened, for timeline entries.
    pub time: Option<Timestamp>,
    pub kind: Option<EntryKind>,
    /// Who will do it, for actions.
    pub owner: Option<String>,
    /// By when, for actions.
    pub due: Option<Date>,
    /// The idea an action was made from.
    pub source_id: Option<NoteId>,
    /// The action an idea was turned into.
    pub action_id: Option<NoteId>,
    /// Dot votes by voter key.
    pub votes: BTreeMap<String, u32>,
}

impl NoteData {
    pub fn total_votes(&self) -> u32 {
        self.votes.values().sum()
    }
}

/// What a client decides when it creates a note.
#[derive(Clone, Debug)]
pub struct NewNote {
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub color: NoteColor,
    pub created_at: f64,
    pub author: Option<String>,
    /// The region it goes in, its position being in that region's own frame (see
    /// `layout`); `None`: the region under its centre on the template's rectangles.
    pub region: Option<String>,
}

impl NewNote {
    /// A note saying `text` with its top-left corner at `(x, y)`: default colour,
    /// created at time 0, no author. The builder methods below set the rest.
    pub fn at(x: f64, y: f64, text: impl Into<String>) -> NewNote {
        NewNote {
            x,
            y,
            text: text.into(),
            color: NoteColor::default(),
            created_at: 0.0,
            author: None,
            region: None,
        }
    }

    /// Puts the note in region `key` (its position then in that region's frame).
    pub fn in_region(self, key: Option<String>) -> NewNote {
        NewNote {
            region: key,
            ..self
        }
    }

    pub fn color(self, color: NoteColor) -> NewNote {
        NewNote { color, ..self }
    }

    /// Creation time, ms since the Unix epoch.
    pub fn created_at(self, created_at: f64) -> NewNote {
        NewNote { created_at, ..self }
    }

    /// The author's display name; `None` writes the note anonymously.
    pub fn author(self, author: Option<String>) -> NewNote {
        NewNote { author, ..self }
    }

    pub fn by(self, author: impl Into<String>) -> NewNote {
        self.author(Some(author.into()))
    }
}

impl Board {
    pub fn new(doc: &Doc) -> Board {
        Board {
            meta: doc.get_or_insert_map(META),
            notes: doc.get_or_insert_map(NOTES),
            facilitation: doc.get_or_insert_map(FACILITATION),
        }
    }

    /// The root map of notes, for observers.
    pub fn notes_map(&self) -> &MapRef {
        &self.notes
    }

    /// The root map of metadata, for observers.
    pub fn meta_map(&self) -> &MapRef {
        &self.meta
    }

    /// The root map of facilitation state, for observers.
    pub fn facilitation_map(&self) -> &MapRef {
        &self.facilitation
    }

    /// Writes the metadata of a brand-new board made from `template`: its title, and the
    /// template's regions and settings, which the board carries from then on.
    pub fn create(
        &self,
        txn: &mut TransactionMut,
        title: &str,
        created_at: f64,
        template: &Template,
    ) {
        self.init(txn, title, created_at);
        self.write_template(txn, template);
    }

    /// Writes only the title, creation time and schema version: the shape of a board
    /// stored before boards carried their layout, which reads as the postmortem.
    pub fn init(&self, txn: &mut TransactionMut, title: &str, created_at: f64) {
        self.meta.insert(txn, "title", title);
        self.meta.insert(txn, "createdAt", created_at);
        self.meta.insert(txn, "schema", SCHEMA_VERSION);
    }

    pub fn title<T: ReadTxn>(&self, txn: &T) -> String {
        string_field(&self.meta, txn, "title").unwrap_or_default()
    }

    pub fn set_title(&self, txn: &mut TransactionMut, title: &str) {
        self.meta.insert(txn, "title", title);
    }

    pub fn created_at<T: ReadTxn>(&self, txn: &T) -> Option<f64> {
        number_field(&self.meta, txn, "createdAt")
    }

    pub fn note_count<T: ReadTxn>(&self, txn: &T) -> u32 {
        self.notes.len(txn)
    }

    /// Ids of all notes, in no particular order. Keys that are not valid note ids are
    /// skipped rather than shown.
    pub fn note_ids<T: ReadTxn>(&self, txn: &T) -> Vec<NoteId> {
        self.notes
            .keys(txn)
            .filter_map(|k| k.parse().ok())
            .collect()
    }

    /// All notes, oldest first (ties broken by id, so every replica agrees).
    pub fn notes<T: ReadTxn>(&self, txn: &T) -> Vec<NoteData> {
        let template = self.template(txn);
        let mut notes: Vec<_> = self
            .note_ids(txn)
            .iter()
            .filter_map(|id| {
                let map = self.note_map(txn, id)?;
                let mut note = read_note(&map, txn, id, &template);
                note.text = read_text(&map, txn);
                Some(note)
            })
            .collect();
        notes.sort_by(|a, b| a.created_at.total_cmp(&b.created_at).then(a.id.cmp(&b.id)));
        notes
    }

    pub fn note<T: ReadTxn>(&self, txn: &T, id: &NoteId) -> Option<NoteData> {
        self.note_in(txn, id, &self.template(txn))
    }

    /// [`Board::note`] with the board's template the caller already holds.
    pub fn note_in<T: ReadTxn>(
        &self,
        txn: &T,
        id: &NoteId,
        template: &Template,
    ) -> Option<NoteData> {
        let map = self.note_map(txn, id)?;
        let mut note = read_note(&map, txn, id, template);
        note.text = read_text(&map, txn);
        Some(note)
    }

    /// A note without its text (left empty), for readers that only need its place and
    /// fields: reading a long text costs its length. The caller passes the board's
    /// template it already holds, so reading one note does not read the layout again.
    pub fn note_without_text<T: ReadTxn>(
        &self,
        txn: &T,
        id: &NoteId,
        template: &Template,
    ) -> Option<NoteData> {
        Some(read_note(&self.note_map(txn, id)?, txn, id, template))
    }

    /// A note's text as it is now (empty for a missing note).
    pub fn text_of<T: ReadTxn>(&self, txn: &T, id: &NoteId) -> String {
        self.note_map(txn, id)
            .map(|map| read_text(&map, txn))
            .unwrap_or_default()
    }

    /// Adds a note; its region is the one under its centre.
    pub fn add_note(&self, txn: &mut TransactionMut, id: &NoteId, note: NewNote) {
        let map = self.notes.insert(txn, id.as_str(), MapPrelim::default());
        map.insert(txn, "text", TextPrelim::new(truncate(&note.text)));
        map.insert(txn, "x", note.x);
        map.insert(txn, "y", note.y);
        map.insert(txn, "w", NOTE_WIDTH);
        map.insert(txn, "h", NOTE_HEIGHT);
        map.insert(txn, "color", note.color.as_str());
        let centre =
            || self.region_key_at(txn, note.x + NOTE_WIDTH / 2.0, note.y + NOTE_HEIGHT / 2.0);
        if let Some(region) = note.region.or_else(centre) {
            map.insert(txn, "region", region);
        }
        map.insert(txn, "createdAt", note.created_at);
        if let Some(author) = note.author.filter(|a| !a.trim().is_empty()) {
            map.insert(txn, "author", author);
        }
    }

    /// Moves a note. If its centre lands in a region (on the template's rectangles), the
    /// note now belongs to that region; dropped in a gap, it keeps the region it had.
    pub fn move_note(&self, txn: &mut TransactionMut, id: &NoteId, x: f64, y: f64) -> bool {
        self.place_note(txn, id, x, y, None)
    }

    /// Moves a note to `(x, y)` in the frame of region `region`, which it now belongs to
    /// (a page that draws grown regions knows which one it was dropped in); `None`
    /// decides as [`Board::move_note`] does.
    pub fn place_note(
        &self,
        txn: &mut TransactionMut,
        id: &NoteId,
        x: f64,
        y: f64,
        region: Option<&str>,
    ) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        if !(x.is_finite() && y.is_finite()) {
            return false;
        }
        let w = number_field(&map, txn, "w").map_or(NOTE_WIDTH, clamp_size);
        let h = number_field(&map, txn, "h").map_or(NOTE_HEIGHT, clamp_size);
        map.insert(txn, "x", x);
        map.insert(txn, "y", y);
        let region = match region {
            Some(key) => Some(key.to_owned()),
            None => self.region_key_at(txn, x + w / 2.0, y + h / 2.0),
        };
        if let Some(region) = region {
            if string_field(&map, txn, "region").as_deref() != Some(region.as_str()) {
                map.insert(txn, "region", region);
            }
        }
        true
    }

    pub fn resize_note(&self, txn: &mut TransactionMut, id: &NoteId, w: f64, h: f64) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        map.insert(txn, "w", clamp_size(w));
        map.insert(txn, "h", clamp_size(h));
        true
    }

    pub fn set_color(&self, txn: &mut TransactionMut, id: &NoteId, color: NoteColor) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        map.insert(txn, "color", color.as_str());
        true
    }

    pub fn delete_note(&self, txn: &mut TransactionMut, id: &NoteId) -> bool {
        self.notes.remove(txn, id.as_str()).is_some()
    }

    /// The collaborative text of a note, for observing and editing.
    pub fn note_text<T: ReadTxn>(&self, txn: &T, id: &NoteId) -> Option<TextRef> {
        match self.note_map(txn, id)?.get(txn, "text") {
            Some(Out::YText(text)) => Some(text),
            _ => None,
        }
    }

    /// Makes a note's text equal to `value` with the smallest single edit, so that
    /// concurrent typing elsewhere in the same note is preserved. If the note's text is
    /// not a `Y.Text` (a foreign writer stored a string), it is replaced by one.
    pub fn edit_text(&self, txn: &mut TransactionMut, id: &NoteId, value: &str) -> bool {
        let Some(map) = self.note_map(txn, id) else {
            return false;
        };
        let value = truncate(value);
        match map.get(txn, "text") {
            Some(Out::YText(text)) => {
                let old = text.get_string(txn);
                if let Some(edit) = TextEdit::between(&old, value) {
                    if edit.delete > 0 {
                        text.remove_range(txn, edit.index, edit.delete);
                    }
                    if !edit.insert.is_empty() {
                        text.insert(txn, edit.index, &edit.insert);
                    }
                }
            }
            _ => {
                map.insert(txn, "text", TextPrelim::new(value));
            }
        }
        true
    }

    pub(crate) fn note_map<T: ReadTxn>(&self, txn: &T, id: &NoteId) -> Option<MapRef> {
        match self.notes.get(txn, id.as_str()) {
            Some(Out::YMap(map)) => Some(map),
            _ => None,
        }
    }
}

/// One contiguous replacement, in UTF-16 code units, that turns one string into another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub index: u32,
    pub delete: u32,
    pub insert: String,
}

impl TextEdit {
    /// The edit that keeps the longest common prefix and suffix of `old` and `new`, or
    /// `None` when they are equal. This is how a text field's new value becomes a CRDT
    /// operation without clobbering what others typed elsewhere in the text.
    pub fn between(old: &str, new: &str) -> Option<TextEdit> {
        if old == new {
            return None;
        }
        let prefix: usize = old
            .chars()
            .zip(new.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
        let suffix: usize = old_rest
            .chars()
            .rev()
            .zip(new_rest.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let removed = &old_rest[..old_rest.len() - suffix];
        let inserted = &new_rest[..new_rest.len() - suffix];
        Some(TextEdit {
            index: utf16_len(&old[..prefix]),
            delete: utf16_len(removed),
            insert: inserted.to_owned(),
        })
    }
}

pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

/// Every field of a note but its text; missing or mistyped fields read as defaults.
fn read_note<T: ReadTxn>(map: &MapRef, txn: &T, id: &NoteId, template: &Template) -> NoteData {
    let x = number_field(map, txn, "x").unwrap_or(0.0);
    let y = number_field(map, txn, "y").unwrap_or(0.0);
    let w = number_field(map, txn, "w").map_or(NOTE_WIDTH, clamp_size);
    let h = number_field(map, txn, "h").map_or(NOTE_HEIGHT, clamp_size);
    let region = string_field(map, txn, "region")
        .and_then(|r| template.region(&r))
        .or_else(|| template.region_at(x + w / 2.0, y + h / 2.0));
    let role = region.and_then(|r| r.role);
    let region = region.map(|r| r.key.clone());
    NoteData {
        id: id.clone(),
        text: String::new(),
        x,
        y,
        w,
        h,
        color: string_field(map, txn, "color")
            .map(|c| NoteColor::from_name(&c))
            .unwrap_or_default(),
        region,
        role,
        created_at: number_field(map, txn, "createdAt").unwrap_or(0.0),
        author: string_field(map, txn, "author").filter(|a| !a.is_empty()),
        time: number_field(map, txn, "time").map(|ms| Timestamp {
            utc_ms: ms as i64,
            precision: string_field(map, txn, "timePrecision")
                .and_then(|p| Precision::from_name(&p))
                .unwrap_or(Precision::Minute),
        }),
        kind: string_field(map, txn, "kind").and_then(|k| EntryKind::from_name(&k)),
        owner: string_field(map, txn, "owner").filter(|o| !o.trim().is_empty()),
        due: string_field(map, txn, "due").and_then(|d| Date::parse(&d).ok()),
        source_id: string_field(map, txn, "sourceId").and_then(|i| i.parse().ok()),
        action_id: string_field(map, txn, "actionId").and_then(|i| i.parse().ok()),
        votes: match map.get(txn, "votes") {
            Some(Out::YMap(votes)) => votes
                .iter(txn)
                .filter_map(|(voter, v)| match v {
                    Out::Any(Any::Number(n)) => n
                        .as_f64()
                        .filter(|c| c.is_finite() && *c >= 1.0)
                        .map(|c| (voter.to_owned(), c.min(u32::MAX as f64) as u32)),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        },
    }
}

fn read_text<T: ReadTxn>(map: &MapRef, txn: &T) -> String {
    match map.get(txn, "text") {
        Some(Out::YText(text)) => text.get_string(txn),
        // A plain string from a foreign writer is shown as it is.
        Some(Out::Any(Any::String(s))) => s.to_string(),
        _ => String::new(),
    }
}

/// `s` cut to a note's length.
pub(crate) fn truncate(s: &str) -> &str {
    match s.char_indices().nth(NOTE_MAX_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn clamp_size(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(NOTE_MIN_SIZE, NOTE_MAX_SIZE)
    } else {
        NOTE_WIDTH
    }
}

/// Writes `value` under `key`, or removes the key when there is no value.
pub(crate) fn set_or_remove<V: yrs::block::Prelim>(
    map: &MapRef,
    txn: &mut TransactionMut,
    key: &str,
    value: Option<V>,
) {
    match value {
        Some(v) => {
            map.insert(txn, key, v);
        }
        None => {
            map.remove(txn, key);
        }
    }
}

pub(crate) fn number_field<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<f64> {
    match map.get(txn, key)? {
        Out::Any(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite()),
        _ => None,
    }
}

pub(crate) fn string_field<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    match map.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(Arc::<str>::as_ref(&s).to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::rect_of;
    use yrs::updates::decoder::Decode;
    use yrs::{Transact, Update};

    fn note(x: f64, y: f64, text: &str) -> NewNote {
        NewNote::at(x, y, text)
            .color(NoteColor::Blue)
            .created_at(1_700_000_000_000.0)
            .by("Ada")
    }

    fn id(s: &str) -> NoteId {
        s.parse().unwrap()
    }

    #[test]
    fn notes_round_trip_through_an_update() {
        let a = new_doc(Some(1));
        let board = Board::new(&a);
        let detect = rect_of("detect");
        {
            let mut txn = a.transact_mut();
            board.init(&mut txn, "Checkout outage", 1_700_000_000_000.0);
            board.add_note(
                &mut txn,
                &id("n1"),
                note(detect.x + 10.0, detect.y + 10.0, "alert on p99"),
            );
        }
        let update = a.transact().encode_state_as_update_v1(&Default::default());

        let b = new_doc(Some(2));
        let replica = Board::new(&b);
        b.transact_mut()
            .apply_update(Update::decode_v1(&update).unwrap())
            .unwrap();
        let txn = b.transact();
        assert_eq!(replica.title(&txn), "Checkout outage");
        assert_eq!(replica.created_at(&txn), Some(1_700_000_000_000.0));
        let notes = replica.notes(&txn);
        assert_eq!(notes.len(), 1);
        let n = &notes[0];
        assert_eq!(n.text, "alert on p99");
        assert_eq!(
            (n.x, n.y, n.w, n.h),
            (detect.x + 10.0, detect.y + 10.0, NOTE_WIDTH, NOTE_HEIGHT)
        );
        assert_eq!(n.color, NoteColor::Blue);
        assert_eq!(n.region, Some("detect".into()));
        assert_eq!(n.author.as_deref(), Some("Ada"));
    }

    #[test]
    fn moving_a_note_changes_its_region_unless_dropped_in_a_gap() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let detect = rect_of("detect");
        let actions = rect_of("actions");
        let n = id("n1");
        let mut txn = doc.transact_mut();
        board.add_note(&mut txn, &n, note(detect.x + 20.0, detect.y + 20.0, ""));
        assert!(board.move_note(&mut txn, &n, actions.x + 50.0, actions.y + 50.0));
        assert_eq!(board.note(&txn, &n).unwrap().region, Some("actions".into()));
        // Far outside every region: the note keeps the region it had.
        assert!(board.move_note(&mut txn, &n, -5000.0, -5000.0));
        let moved = board.note(&txn, &n).unwrap();
        assert_eq!((moved.x, moved.y), (-5000.0, -5000.0));
        assert_eq!(moved.region, Some("actions".into()));
        assert!(!board.move_note(&mut txn, &n, f64::NAN, 0.0));
        assert!(!board.move_note(&mut txn, &id("missing"), 0.0, 0.0));
    }

    #[test]
    fn edits_colour_size_and_delete() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let n = id("n1");
        let mut txn = doc.transact_mut();
        board.add_note(&mut txn, &n, note(10.0, 10.0, "hello world"));
        assert!(board.set_color(&mut txn, &n, NoteColor::Pink));
        assert!(board.resize_note(&mut txn, &n, 10.0, 10_000.0));
        assert!(board.edit_text(&mut txn, &n, "hello brave world"));
        let data = board.note(&txn, &n).unwrap();
        assert_eq!(data.color, NoteColor::Pink);
        assert_eq!((data.w, data.h), (NOTE_MIN_SIZE, NOTE_MAX_SIZE));
        assert_eq!(data.text, "hello brave world");
        assert!(board.delete_note(&mut txn, &n));
        assert!(board.note(&txn, &n).is_none());
        assert!(!board.delete_note(&mut txn, &n));
    }

    #[test]
    fn lenient_reader_accepts_foreign_shapes() {
        // What a careless third-party writer might store: integers, a plain string text,
        // an unknown colour, no region, and a key that is not a note id.
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        let detect = rect_of("detect");
        let m = board
            .notes_map()
            .insert(&mut txn, "foreign", MapPrelim::default());
        m.insert(&mut txn, "text", "plain");
        m.insert(&mut txn, "x", detect.x as i64);
        m.insert(&mut txn, "y", detect.y as i64);
        m.insert(&mut txn, "color", "chartreuse");
        board
            .notes_map()
            .insert(&mut txn, "not a note id", MapPrelim::default());
        let notes = board.notes(&txn);
        assert_eq!(notes.len(), 1);
        let n = &notes[0];
        assert_eq!(n.text, "plain");
        assert_eq!((n.x, n.y), (detect.x, detect.y));
        assert_eq!(n.color, NoteColor::Yellow);
        assert_eq!(n.region, Some("detect".into()));
        assert_eq!(n.author, None);
        // Editing replaces the plain string with a collaborative text.
        assert!(board.edit_text(&mut txn, &id("foreign"), "plain, now shared"));
        assert!(board.note_text(&txn, &id("foreign")).is_some());
    }

    #[test]
    fn anonymous_notes_store_no_author_field() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        let mut anon = note(0.0, 0.0, "x");
        anon.author = None;
        board.add_note(&mut txn, &id("n1"), anon);
        let Some(Out::YMap(m)) = board.notes_map().get(&txn, "n1") else {
            panic!("note missing")
        };
        assert!(m.get(&txn, "author").is_none());
    }

    fn check_edit(old: &str, new: &str, expected: Option<(u32, u32, &str)>) {
        let edit = TextEdit::between(old, new);
        assert_eq!(
            edit,
            expected.map(|(index, delete, insert)| TextEdit {
                index,
                delete,
                insert: insert.into()
            }),
            "{old:?} -> {new:?}"
        );
    }

    #[test]
    fn text_edits_are_minimal_and_counted_in_utf16() {
        check_edit("abc", "abc", None);
        check_edit("", "hi", Some((0, 0, "hi")));
        check_edit("hello", "help", Some((3, 2, "p")));
        check_edit("hello world", "hello brave world", Some((6, 0, "brave ")));
        check_edit("aaa", "aa", Some((2, 1, "")));
        // An emoji is two UTF-16 code units.
        check_edit("🔥 fire", "🔥 fires", Some((7, 0, "s")));
        check_edit("a🔥b", "ab", Some((1, 2, "")));
        check_edit("é", "e", Some((0, 1, "e")));
    }

    #[test]
    fn text_edits_of_long_texts_take_one_pass() {
        // A 200,000-character text (with two-unit emoji), changed in the middle: the edit
        // is found and its offsets counted in UTF-16 in a few passes over the text. This
        // is a guard against a quadratic algorithm (billions of steps at this length),
        // not a measure of speed, so its bound is loose.
        let half: String = "word 🔥 ".repeat(100_000 / 7);
        let old = format!("{half}{half}");
        let new = format!("{half}INSERTED {half}");
        let started = std::time::Instant::now();
        let edit = TextEdit::between(&old, &new).expect("texts differ");
        let units = utf16_len(&old);
        let elapsed = started.elapsed();
        assert_eq!(edit.index, utf16_len(&half));
        assert_eq!((edit.delete, edit.insert.as_str()), (0, "INSERTED "));
        assert_eq!(units as usize, old.encode_utf16().count());
        assert!(
            elapsed < std::time::Duration::from_secs(2),
            "a 200k-character diff took {elapsed:?}"
        );
    }

    #[test]
    fn edit_text_applies_to_collaborative_text_in_utf16() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let n = id("n1");
        let mut txn = doc.transact_mut();
        board.add_note(&mut txn, &n, note(0.0, 0.0, "🔥 fire"));
        assert!(board.edit_text(&mut txn, &n, "🔥 big fire"));
        assert_eq!(board.note(&txn, &n).unwrap().text, "🔥 big fire");
        let long = "x".repeat(NOTE_MAX_CHARS + 10);
        assert!(board.edit_text(&mut txn, &n, &long));
        assert_eq!(board.note(&txn, &n).unwrap().text.len(), NOTE_MAX_CHARS);
    }
}
