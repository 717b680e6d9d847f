//! What a board accepts from clients: updates written in the board schema's vocabulary.
//!
//! A board is maps, texts and plain values under three named roots (see
//! `hindsight_shared::schema`). The Yjs update format can carry much more (XML types,
//! rich-text formats, embeds, sub-documents, binary and legacy JSON content, any root
//! name), and fuzzing showed yrs mishandles some of it: content it integrates and then
//! encodes into bytes it cannot read back, and states it panics on. So before yrs sees an
//! update, its v1 bytes are read here and an update that uses anything else is refused.
//! A stock Yjs client writing the board schema only ever produces what is allowed.
//!
//! The format (Yjs `UpdateEncoderV1`), as read here:
//!
//! ```text
//! update   = varuint clients, clients × (varuint structs, varuint client, varuint clock,
//!            structs × struct), delete set
//! struct   = 0 varuint len (GC) | 10 varuint len (skip) | item
//! item     = info, [left id if info&0x80], [right id if info&0x40],
//!            [parent if neither: varuint 1 + string root name | varuint 0 + id],
//!            [string key if info&0x20 and no origin], content by info&0x1f
//! content  = 1 deleted: varuint len | 4 string: string | 7 type: varuint type ref
//!            | 8 any: varuint n, n × any      (anything else is refused)
//! delete set = varuint clients, clients × (varuint client, varuint ranges,
//!              ranges × (varuint clock, varuint len))
//! ```

use hindsight_shared::schema::{FACILITATION, META, NOTES};

/// Root names a board has.
const ROOTS: [&str; 3] = [META, NOTES, FACILITATION];

/// Type references a board uses: arrays, maps and texts (`YArrayRefID` … `YTextRefID`).
const TYPE_ARRAY: u64 = 0;
const TYPE_MAP: u64 = 1;
const TYPE_TEXT: u64 = 2;

const CONTENT_DELETED: u8 = 1;
const CONTENT_STRING: u8 = 4;
const CONTENT_TYPE: u8 = 7;
const CONTENT_ANY: u8 = 8;
const STRUCT_GC: u8 = 0;
const STRUCT_SKIP: u8 = 10;

/// Deepest nesting of arrays and objects inside one `any` value.
const MAX_ANY_DEPTH: u32 = 32;

/// What the room needs to know about an update that passed [`check`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The most notes the update can add: maps it inserts at the root of `notes`, or
    /// where it does not say (an item with an origin may be re-filling a deleted key).
    /// Typing and moving add none, so the note limit costs them nothing.
    pub notes_at_most: usize,
    /// The longest string the update carries, in UTF-16 units: a run of text, or a
    /// string value. Longer than any field may be, it is refused before it is applied.
    pub longest_string: usize,
}

/// A block's id: the client that wrote it and its clock.
pub type Id = (u64, u64);

/// Where an item of an update says it goes: what a guard on part of the document needs
/// to tell whether the update reaches into that part.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub id: Id,
    /// Clock units it covers, from `id`.
    pub len: u64,
    /// The items it was inserted between; an item with either has the same parent (and,
    /// in a map, the same key) as they have, and states neither.
    pub origin: Option<Id>,
    pub right: Option<Id>,
    pub parent: Parent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parent {
    /// Not stated: the same as its origin's.
    Unstated,
    /// A root type by name, and the map key if it has one.
    Root(&'static str, Option<String>),
    /// A nested type, by the id of the item that holds it, and the map key.
    Type(Id, Option<String>),
}

/// The items of an update and the ranges it deletes, as `(client, clock, len)`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Places {
    pub items: Vec<Placed>,
    pub deleted: Vec<(u64, u64, u64)>,
}

/// Checks that `update` (v1) is well formed and uses only the board's vocabulary; the
/// error says what is wrong.
pub fn check(update: &[u8]) -> Result<Shape, String> {
    read(update, None)
}

/// [`check`], and where each of the update's items goes.
pub fn places(update: &[u8]) -> Result<(Shape, Places), String> {
    let mut places = Places::default();
    let shape = read(update, Some(&mut places))?;
    Ok((shape, places))
}

fn read(update: &[u8], mut places: Option<&mut Places>) -> Result<Shape, String> {
    let mut r = Reader { bytes: update };
    let mut shape = Shape::default();
    let clients = r.varuint()?;
    for _ in 0..clients {
        let structs = r.varuint()?;
        let client = r.varuint()?;
        let mut clock = r.clock()?;
        for _ in 0..structs {
            let (len, placed) = item_or_gap(&mut r, &mut shape, places.is_some())?;
            if let (Some(places), Some((origin, right, parent))) = (places.as_deref_mut(), placed) {
                places.items.push(Placed {
                    id: (client, clock),
                    len,
                    origin,
                    right,
                    parent,
                });
            }
            clock = clock
                .checked_add(len)
                .filter(|c| *c <= u64::from(u32::MAX))
                .ok_or("a block's clock range overflows")?;
        }
    }
    let clients = r.varuint()?;
    for _ in 0..clients {
        let client = r.varuint()?;
        let ranges = r.varuint()?;
        for _ in 0..ranges {
            let start = r.clock()?;
            let len = r.varuint()?;
            start
                .checked_add(len)
                .filter(|c| *c <= u64::from(u32::MAX))
                .ok_or("a deleted range overflows")?;
            if let Some(places) = places.as_deref_mut() {
                places.deleted.push((client, start, len));
            }
        }
    }
    if !r.bytes.is_empty() {
        return Err("bytes after the end of the update".into());
    }
    Ok(shape)
}

/// Where an item goes, as read: origin, right origin, parent.
type Place = (Option<Id>, Option<Id>, Parent);

/// Reads one struct; returns its length in clock units and, for an item when `place` is
/// asked for, where it goes.
fn item_or_gap(
    r: &mut Reader,
    shape: &mut Shape,
    place: bool,
) -> Result<(u64, Option<Place>), String> {
    let info = r.byte()?;
    match info & 0x1f {
        STRUCT_GC | STRUCT_SKIP if info & 0xe0 == 0 => return Ok((r.varuint()?, None)),
        STRUCT_GC | STRUCT_SKIP => return Err("a gap with item flags".into()),
        _ => {}
    }
    let has_origin = info & 0x80 != 0;
    let has_right = info & 0x40 != 0;
    let origin = if has_origin { Some(r.id()?) } else { None };
    let right = if has_right { Some(r.id()?) } else { None };
    // Whether this item may sit directly in `notes` (unknown when it has an origin).
    let mut maybe_in_notes = true;
    let mut parent = Parent::Unstated;
    if !has_origin && !has_right {
        enum Of {
            Root(&'static str),
            Type(Id),
        }
        let of = match r.varuint()? {
            1 => {
                let name = r.string()?;
                let Some(&root) = ROOTS.iter().find(|&&root| root == name) else {
                    return Err(format!("{name:?} is not part of a board"));
                };
                maybe_in_notes = root == NOTES;
                Of::Root(root)
            }
            0 => {
                maybe_in_notes = false;
                Of::Type(r.id()?)
            }
            _ => return Err("bad parent marker".into()),
        };
        let key = if info & 0x20 != 0 {
            Some(r.string()?)
        } else {
            None
        };
        if place {
            let key = key.map(str::to_owned);
            parent = match of {
                Of::Root(root) => Parent::Root(root, key),
                Of::Type(id) => Parent::Type(id, key),
            };
        }
    }
    let len = item_content(r, info, shape, maybe_in_notes)?;
    Ok((len, place.then_some((origin, right, parent))))
}

/// Reads an item's content; returns its length in clock units.
fn item_content(
    r: &mut Reader,
    info: u8,
    shape: &mut Shape,
    maybe_in_notes: bool,
) -> Result<u64, String> {
    match info & 0x1f {
        CONTENT_DELETED => r.varuint(),
        CONTENT_STRING => {
            let text = r.string()?;
            let len = text.encode_utf16().count();
            shape.longest_string = shape.longest_string.max(len);
            Ok(len as u64)
        }
        CONTENT_TYPE => match r.varuint()? {
            TYPE_MAP => {
                shape.notes_at_most += usize::from(maybe_in_notes);
                Ok(1)
            }
            TYPE_ARRAY..=TYPE_TEXT => Ok(1),
            other => Err(format!("type {other} is not used by boards")),
        },
        CONTENT_ANY => {
            let n = r.varuint()?;
            for _ in 0..n {
                any(r, 0, shape)?;
            }
            Ok(n)
        }
        other => Err(format!("content kind {other} is not used by boards")),
    }
}

/// Skips one lib0 `any` value.
fn any(r: &mut Reader, depth: u32, shape: &mut Shape) -> Result<(), String> {
    if depth > MAX_ANY_DEPTH {
        return Err("a value nested too deeply".into());
    }
    match r.byte()? {
        // undefined, null, false, true
        127 | 126 | 121 | 120 => Ok(()),
        125 => r.varint(),
        124 => r.take(4).map(drop),
        123 | 122 => r.take(8).map(drop),
        119 => {
            let len = r.string()?.encode_utf16().count();
            shape.longest_string = shape.longest_string.max(len);
            Ok(())
        }
        118 => {
            let n = r.varuint()?;
            for _ in 0..n {
                r.string()?;
                any(r, depth + 1, shape)?;
            }
            Ok(())
        }
        117 => {
            let n = r.varuint()?;
            for _ in 0..n {
                any(r, depth + 1, shape)?;
            }
            Ok(())
        }
        116 => {
            let n = r.len()?;
            r.take(n).map(drop)
        }
        other => Err(format!("unknown value type {other}")),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

const TRUNCATED: &str = "the update ends early";

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&b, rest) = self.bytes.split_first().ok_or(TRUNCATED)?;
        self.bytes = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err(TRUNCATED.into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// lib0 varuint: 7 bits per byte, low first, up to 53 bits (a JavaScript number).
    fn varuint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..53).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number too large".into())
    }

    /// lib0 varint: sign in the first byte's bit 6.
    fn varint(&mut self) -> Result<(), String> {
        let mut b = self.byte()?;
        let mut bytes = 1;
        while b & 0x80 != 0 {
            if bytes == 8 {
                return Err("a number too large".into());
            }
            b = self.byte()?;
            bytes += 1;
        }
        Ok(())
    }

    fn clock(&mut self) -> Result<u64, String> {
        let clock = self.varuint()?;
        if clock > u64::from(u32::MAX) {
            return Err("a clock too large".into());
        }
        Ok(clock)
    }

    /// A length that must fit in what is left.
    fn len(&mut self) -> Result<usize, String> {
        let n = self.varuint()?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.bytes.len())
            .ok_or_else(|| TRUNCATED.to_string())
    }

    fn string(&mut self) -> Result<&'a str, String> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| "a string that is not UTF-8".to_string())
    }

    fn id(&mut self) -> Result<Id, String> {
        Ok((self.varuint()?, self.clock()?))
    }
}

#[cfg(test)]
mod tests {
    use hindsight_shared::schema::new_doc;
    use hindsight_shared::{Board, NewNote, NoteColor};
    use yrs::types::xml::XmlFragmentPrelim;
    use yrs::{Map, ReadTxn, StateVector, Text, Transact, WriteTxn};

    use super::*;

    fn note() -> NewNote {
        NewNote::at(1.5, -2.0, "naïve 🔥 text")
            .color(NoteColor::Green)
            .created_at(1.7e12)
            .by("Ada")
    }

    #[test]
    fn everything_a_board_writes_is_accepted() {
        let doc = new_doc(Some(7));
        let board = Board::new(&doc);
        let id = "n1".parse().unwrap();
        let mut updates = Vec::new();
        let mut record = |f: &dyn Fn(&mut yrs::TransactionMut)| {
            let mut txn = doc.transact_mut();
            f(&mut txn);
            updates.push(txn.encode_update_v1());
        };
        record(&|txn| board.init(txn, "Outage", 1.0));
        record(&|txn| board.add_note(txn, &id, note()));
        record(&|txn| {
            board.edit_text(txn, &id, "naïve 🔥 text, edited");
        });
        record(&|txn| {
            board.move_note(txn, &id, 300.0, 400.0);
        });
        record(&|txn| {
            board.vote(txn, &id, "voter").unwrap();
        });
        record(&|txn| board.set_step(txn, Some(3)));
        record(&|txn| board.set_anonymous(txn, true));
        record(&|txn| {
            board.delete_note(txn, &id);
        });
        let notes: Vec<usize> = updates
            .iter()
            .map(|u| check(u).unwrap().notes_at_most)
            .collect();
        // init, add, type, move, vote, step, anonymous, delete: only adding may add.
        assert_eq!(notes, [0, 1, 0, 0, 0, 0, 0, 0]);
        check(&doc.transact().encode_diff_v1(&StateVector::default())).unwrap();
        check(yrs::Update::EMPTY_V1).unwrap();
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let refused = |f: &dyn Fn(&mut yrs::TransactionMut)| {
            let doc = new_doc(Some(9));
            let mut txn = doc.transact_mut();
            f(&mut txn);
            check(&txn.encode_update_v1()).unwrap_err()
        };
        let other_root = refused(&|txn| {
            txn.get_or_insert_map("elsewhere").insert(txn, "k", 1);
        });
        assert!(
            other_root.contains("\"elsewhere\" is not part"),
            "{other_root}"
        );
        let xml = refused(&|txn| {
            txn.get_or_insert_map(NOTES)
                .insert(txn, "x", XmlFragmentPrelim::default());
        });
        assert!(xml.contains("type"), "{xml}");
        let format = refused(&|txn| {
            let text = txn.get_or_insert_text(NOTES);
            text.insert(txn, 0, "bold");
            text.format(
                txn,
                0,
                4,
                std::collections::HashMap::from([("b".into(), true.into())]),
            );
        });
        assert!(format.contains("content kind"), "{format}");
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let doc = new_doc(Some(3));
        let board = Board::new(&doc);
        let mut txn = doc.transact_mut();
        board.add_note(&mut txn, &"n".parse().unwrap(), note());
        let good = txn.encode_update_v1();
        for cut in 0..good.len() {
            assert!(check(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(check(&longer).is_err());
        // A clock near u32::MAX whose length takes it past.
        assert!(check(&[1, 1, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f, 0, 5, 0])
            .unwrap_err()
            .contains("overflows"));
    }
}
