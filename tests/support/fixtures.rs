//! Ids and notes for tests to write, so that no test spells out every field of a note.
//!
//! A note is built with [`NewNote::at`] and its builder methods (`.color`, `.created_at`,
//! `.author`, `.by`); the helpers here only place it inside a region, as a person's note
//! in that region would be.

use hindsight_shared::{NewNote, NoteId, Rect, Template};

/// The note id `s`; panics if it is not a valid id.
pub fn id(s: &str) -> NoteId {
    s.parse()
        .unwrap_or_else(|e| panic!("{s:?} is not a note id: {e}"))
}

/// The rectangle of the postmortem's region `key` (the default board's layout).
pub fn rect_of(key: &str) -> Rect {
    Template::postmortem()
        .region(key)
        .unwrap_or_else(|| panic!("the postmortem has no region {key:?}"))
        .rect
}

/// A note saying `text` in the postmortem region `region`: 20 px right of and 60 px below the region's top-left
/// corner, well inside it. Default colour, created at time 0, no author.
pub fn note_in(region: &str, text: impl Into<String>) -> NewNote {
    note_at(region, (20.0, 60.0), text)
}

/// A note saying `text` with its top-left corner at `(dx, dy)` from `region`'s top-left
/// corner.
pub fn note_at(region: &str, (dx, dy): (f64, f64), text: impl Into<String>) -> NewNote {
    let r = rect_of(region);
    NewNote::at(r.x + dx, r.y + dy, text)
}

/// A small incident in `b`: the incident date and severity, a timed "reported" timeline
/// entry by Ada (`t1`), and an idea in Detect with one vote (`idea`, its text holding a
/// Markdown `|`) promoted to an action (`act`) that Bo owns, due 2026-12-04.
pub fn seed_incident(b: &hindsight_shared::Board, txn: &mut yrs::TransactionMut) {
    use hindsight_shared::timeline::EntryKind;
    use hindsight_shared::timestamp::{Date, Timestamp};
    b.set_incident_date(txn, Some(Date::parse("2026-11-20").unwrap()));
    b.set_severity(txn, "SEV1");
    b.add_note(
        txn,
        &id("t1"),
        note_in("timeline", "Payments 5xx begin").by("Ada"),
    );
    let ctx = b.time_context(txn);
    b.set_note_time(
        txn,
        &id("t1"),
        Some(Timestamp::parse("09:41:05", ctx).unwrap()),
    );
    b.set_note_kind(txn, &id("t1"), Some(EntryKind::Reported));
    let idea = note_in("detect", "Alert on 5xx | per region").by("Ada");
    let home = (idea.x, idea.y, None);
    b.add_note(txn, &id("idea"), idea);
    b.vote(txn, &id("idea"), "voter-1").unwrap();
    let a = rect_of("actions");
    assert!(b.promote_to_action(
        txn,
        &id("idea"),
        &id("act"),
        (a.x + 30.0, a.y + 90.0),
        home,
        1.0,
        None
    ));
    b.set_owner(txn, &id("act"), "Bo");
    b.set_due(txn, &id("act"), Some(Date::parse("2026-12-04").unwrap()));
}

/// A presence message from a stock client for `states`: `(client id, JSON)` each.
pub fn presence(states: &[(u64, &str)]) -> Vec<u8> {
    presence_at(1, states)
}

/// [`presence`] with every state at awareness clock `clock`: a participant's state is
/// replaced only by one with a higher clock.
pub fn presence_at(clock: u32, states: &[(u64, &str)]) -> Vec<u8> {
    use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
    use yrs::sync::Message;
    use yrs::updates::encoder::Encode;
    let clients = states
        .iter()
        .map(|&(id, json)| {
            let entry = AwarenessUpdateEntry {
                clock,
                json: json.into(),
            };
            (yrs::block::ClientID::new(id), entry)
        })
        .collect();
    Message::Awareness(AwarenessUpdate { clients }).encode_v1()
}
