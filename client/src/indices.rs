//! The few facts the page needs about all notes at once, kept current one note at a time:
//! the id order (oldest first), how many actions there are and how many lack an owner or
//! a date, how many votes this person has used, how many notes each region holds (for
//! work-in-progress limits), and the timeline (its order, each entry's slot, time to
//! detect and resolve).
//!
//! Pure data, no signals and no document: [`Indices::update`] takes what one note is now
//! (or that it is gone) and remembers what it needs, [`Indices::finish`] ends a
//! transaction and says what changed. A change to a note touches these only through its
//! own entry, so a move outside the timeline costs nothing here, and the timeline is laid
//! out again only when an entry's region, time or creation changed.
//!
//! Invariant (tested against a recomputation from scratch over random edits): after
//! `finish`, every answer equals what `hindsight_shared` computes from all notes.

use std::collections::{BTreeSet, HashMap};

use hindsight_shared::actions::ActionCount;
use hindsight_shared::timeline::{self, timed_order, Durations, EntryKind};
use hindsight_shared::{NoteId, Rect, Role};

use crate::notes::{NoteFields, Votes};

/// What the indices need to know about one note.
#[derive(Clone, Debug, PartialEq)]
pub struct Indexed {
    created_at: f64,
    /// The key of its region, for the per-region counts.
    region: Option<String>,
    /// Timeline entries only: their time (if any) and kind.
    timeline: Option<(Option<i64>, Option<EntryKind>)>,
    /// Actions only: whether it has both an owner and a due date.
    action: Option<bool>,
    /// This person's votes on it.
    my_votes: u32,
}

impl Indexed {
    pub fn of(fields: &NoteFields, votes: &Votes, voter: &str) -> Indexed {
        Indexed {
            created_at: fields.created_at,
            region: fields.region.clone(),
            timeline: (fields.role == Some(Role::Timeline))
                .then(|| (fields.time.map(|t| t.utc_ms), fields.kind)),
            action: fields.is_action().then(|| fields.missing().is_none()),
            my_votes: votes.get(voter).copied().unwrap_or(0),
        }
    }
}

/// A timed entry's place in time order.
#[derive(Clone, Debug, PartialEq)]
struct Timed {
    time: i64,
    created_at: f64,
    id: NoteId,
    kind: Option<EntryKind>,
}

impl Eq for Timed {}
impl Ord for Timed {
    fn cmp(&self, other: &Timed) -> std::cmp::Ordering {
        timed_order(
            (self.time, self.created_at, &self.id),
            (other.time, other.created_at, &other.id),
        )
    }
}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Timed) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A note's place in creation order (also the order of untimed timeline entries).
#[derive(Clone, Debug, PartialEq)]
struct Created {
    created_at: f64,
    id: NoteId,
}

impl Eq for Created {}
impl Ord for Created {
    fn cmp(&self, other: &Created) -> std::cmp::Ordering {
        self.created_at
            .total_cmp(&other.created_at)
            .then_with(|| self.id.cmp(&other.id))
    }
}
impl PartialOrd for Created {
    fn partial_cmp(&self, other: &Created) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What one transaction changed, for the store to pass on to signals.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Notes came, went or changed creation time: the id order is new.
    pub order: bool,
    pub tally: bool,
    pub votes_used: bool,
    pub durations: bool,
    /// Some region now holds a different number of notes.
    pub counts: bool,
    /// Timeline slots that moved, appeared (`Some`) or went (`None`).
    pub slots: Vec<(NoteId, Option<(f64, f64)>)>,
}

#[derive(Default)]
pub struct Indices {
    notes: HashMap<NoteId, Indexed>,
    /// Every note, oldest first.
    order: Vec<Created>,
    /// Notes added since the last `finish`, merged into `order` there.
    arrived: Vec<Created>,
    tally: ActionCount,
    votes_used: u32,
    counts: HashMap<String, u32>,
    /// Where the timeline's entries are laid out: the board's timeline region, if any.
    timeline_area: Option<Rect>,
    timed: BTreeSet<Timed>,
    untimed: BTreeSet<Created>,
    slots: HashMap<NoteId, (f64, f64)>,
    durations: Option<Durations>,
    /// The timeline's membership or order changed since the last `finish`.
    timeline_dirty: bool,
    changes: Changes,
}

impl Indices {
    /// Records that note `id` is now `note`, or is gone (`None`).
    pub fn update(&mut self, id: &NoteId, note: Option<Indexed>) {
        let old = match note {
            Some(new) => self.notes.insert(id.clone(), new),
            None => self.notes.remove(id),
        };
        let new = self.notes.get(id).cloned();
        if old == new {
            return;
        }
        let (old, new) = (old.as_ref(), new.as_ref());

        // Creation order.
        let created = |n: Option<&Indexed>| n.map(|n| n.created_at);
        if created(old) != created(new) {
            if let Some(o) = old {
                self.remove_from_order(&Created {
                    created_at: o.created_at,
                    id: id.clone(),
                });
            }
            if let Some(n) = new {
                self.arrived.push(Created {
                    created_at: n.created_at,
                    id: id.clone(),
                });
            }
            self.changes.order = true;
        }

        // Actions.
        let action = |n: Option<&Indexed>| n.and_then(|n| n.action);
        if action(old) != action(new) {
            if let Some(complete) = action(old) {
                self.tally.total -= 1;
                self.tally.incomplete -= usize::from(!complete);
            }
            if let Some(complete) = action(new) {
                self.tally.total += 1;
                self.tally.incomplete += usize::from(!complete);
            }
            self.changes.tally = true;
        }

        // Notes per region.
        let region = |n: Option<&Indexed>| n.and_then(|n| n.region.clone());
        let (was_in, now_in) = (region(old), region(new));
        if was_in != now_in {
            if let Some(key) = was_in {
                if let Some(count) = self.counts.get_mut(&key) {
                    *count -= 1;
                    if *count == 0 {
                        self.counts.remove(&key);
                    }
                }
            }
            if let Some(key) = now_in {
                *self.counts.entry(key).or_default() += 1;
            }
            self.changes.counts = true;
        }

        // This person's votes.
        let mine = |n: Option<&Indexed>| n.map_or(0, |n| n.my_votes);
        if mine(old) != mine(new) {
            self.votes_used = self.votes_used - mine(old) + mine(new);
            self.changes.votes_used = true;
        }

        // The timeline.
        let entry = |n: Option<&Indexed>| n.and_then(|n| n.timeline.map(|t| (t, n.created_at)));
        if entry(old) != entry(new) {
            if let Some(((time, kind), created_at)) = entry(old) {
                self.remove_entry(id, time, kind, created_at);
            }
            if let Some(((time, kind), created_at)) = entry(new) {
                match time {
                    Some(time) => {
                        self.timed.insert(Timed {
                            time,
                            created_at,
                            id: id.clone(),
                            kind,
                        });
                    }
                    None => {
                        self.untimed.insert(Created {
                            created_at,
                            id: id.clone(),
                        });
                    }
                }
            }
            self.timeline_dirty = true;
        }
    }

    fn remove_entry(
        &mut self,
        id: &NoteId,
        time: Option<i64>,
        kind: Option<EntryKind>,
        created_at: f64,
    ) {
        match time {
            Some(time) => {
                self.timed.remove(&Timed {
                    time,
                    created_at,
                    id: id.clone(),
                    kind,
                });
            }
            None => {
                self.untimed.remove(&Created {
                    created_at,
                    id: id.clone(),
                });
            }
        }
    }

    fn remove_from_order(&mut self, key: &Created) {
        if let Some(i) = self.arrived.iter().position(|c| c == key) {
            self.arrived.swap_remove(i);
        } else if let Ok(i) = self.order.binary_search(key) {
            self.order.remove(i);
        }
    }

    /// Ends a transaction: merges new notes into the order, lays the timeline out again
    /// if it changed, and returns everything that changed since the last call.
    pub fn finish(&mut self) -> Changes {
        if !self.arrived.is_empty() {
            let mut arrived = std::mem::take(&mut self.arrived);
            // A few new notes go in by binary insertion; a whole board (the first sync)
            // is appended and sorted once.
            if arrived.len() <= 16 {
                for key in arrived {
                    let at = self.order.binary_search(&key).unwrap_or_else(|i| i);
                    self.order.insert(at, key);
                }
            } else {
                self.order.append(&mut arrived);
                self.order.sort_unstable();
            }
        }
        if std::mem::take(&mut self.timeline_dirty) {
            self.lay_out_timeline();
        }
        std::mem::take(&mut self.changes)
    }

    /// Sets where timeline entries are laid out (the board's timeline region, or none).
    pub fn set_timeline_area(&mut self, area: Option<Rect>) {
        if self.timeline_area != area {
            self.timeline_area = area;
            self.timeline_dirty = true;
        }
    }

    fn lay_out_timeline(&mut self) {
        let laid_out = match self.timeline_area {
            Some(area) => timeline::layout(
                area,
                self.timed.iter().map(|t| &t.id),
                self.untimed.iter().map(|c| &c.id),
            ),
            None => Vec::new(),
        };
        let mut slots = HashMap::with_capacity(laid_out.len());
        for (id, x, y) in laid_out {
            if self.slots.get(&id) != Some(&(x, y)) {
                self.changes.slots.push((id.clone(), Some((x, y))));
            }
            slots.insert(id, (x, y));
        }
        for id in self.slots.keys() {
            if !slots.contains_key(id) {
                self.changes.slots.push((id.clone(), None));
            }
        }
        self.slots = slots;
        let durations = timeline::durations(self.timed.iter().map(|t| (t.time, t.kind)));
        if durations != self.durations {
            self.durations = durations;
            self.changes.durations = true;
        }
    }

    /// Note ids, oldest first (as of the last `finish`).
    pub fn order(&self) -> impl Iterator<Item = &NoteId> {
        self.order.iter().map(|c| &c.id)
    }

    pub fn tally(&self) -> ActionCount {
        self.tally
    }

    pub fn votes_used(&self) -> u32 {
        self.votes_used
    }

    pub fn durations(&self) -> Option<Durations> {
        self.durations
    }

    /// How many notes each region holds (regions with none are absent).
    pub fn counts(&self) -> &HashMap<String, u32> {
        &self.counts
    }

    #[cfg(test)]
    fn slot(&self, id: &NoteId) -> Option<(f64, f64)> {
        self.slots.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::NoteParts;
    use hindsight_shared::schema::new_doc;
    use hindsight_shared::timeline::Timeline;
    use hindsight_shared::timestamp::{Date, Precision, Timestamp};
    use hindsight_shared::{Board, NewNote, Template};
    use yrs::{Transact, TransactionMut};

    const VOTER: &str = "me";

    fn timeline_area() -> Rect {
        Template::postmortem()
            .with_role(Role::Timeline)
            .unwrap()
            .rect
    }

    fn postmortem_indices() -> Indices {
        let mut indices = Indices::default();
        indices.set_timeline_area(Some(timeline_area()));
        indices
    }

    /// A small deterministic generator (xorshift), so a failure replays.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// One random edit of the kind people make, on one note; returns the note touched.
    fn edit(board: &Board, txn: &mut TransactionMut, rng: &mut Rng) -> NoteId {
        let id: NoteId = format!("n{}", rng.below(40)).parse().unwrap();
        let exists = board
            .note_without_text(txn, &id, Template::postmortem())
            .is_some();
        let regions = &Template::postmortem().regions;
        let region = &regions[rng.below(regions.len() as u64) as usize];
        let spot = (
            region.rect.x + 10.0 + rng.below(200) as f64,
            region.rect.y + 100.0 + rng.below(200) as f64,
        );
        match (exists, rng.below(9)) {
            (false, _) | (true, 0) => {
                // Creation times collide now and then, so ties are broken by id.
                let created = rng.below(30) as f64;
                board.add_note(
                    txn,
                    &id,
                    NewNote::at(spot.0, spot.1, "x").created_at(created),
                );
            }
            (true, 1) => {
                board.delete_note(txn, &id);
            }
            (true, 2 | 3) => {
                board.move_note(txn, &id, spot.0, spot.1);
            }
            (true, 4) => {
                let time = (rng.below(3) > 0).then(|| Timestamp {
                    utc_ms: rng.below(5) as i64 * 60_000,
                    precision: Precision::Minute,
                });
                board.set_note_time(txn, &id, time);
            }
            (true, 5) => {
                let kind = EntryKind::ALL.get(rng.below(7) as usize).copied();
                board.set_note_kind(txn, &id, kind);
            }
            (true, 6) => {
                let owner = if rng.below(2) == 0 { "" } else { "Ada" };
                board.set_owner(txn, &id, owner);
                let due = (rng.below(2) == 0).then(|| Date::parse("2026-12-24").unwrap());
                board.set_due(txn, &id, due);
            }
            (true, _) => {
                let voter = if rng.below(2) == 0 { VOTER } else { "other" };
                if rng.below(3) == 0 {
                    board.unvote(txn, &id, voter);
                } else {
                    let _ = board.vote(txn, &id, voter);
                }
            }
        }
        id
    }

    fn indexed(board: &Board, txn: &TransactionMut, id: &NoteId) -> Option<Indexed> {
        let parts = NoteParts::of(
            board.note_without_text(txn, id, Template::postmortem())?,
            false,
        );
        Some(Indexed::of(&parts.fields, &parts.votes, VOTER))
    }

    #[test]
    fn incremental_indices_match_a_recomputation_after_every_edit() {
        for seed in 1..=20u64 {
            let doc = new_doc(Some(seed));
            let board = Board::new(&doc);
            let mut indices = postmortem_indices();
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            for step in 0..300 {
                let mut txn = doc.transact_mut();
                let touched = edit(&board, &mut txn, &mut rng);
                indices.update(&touched, indexed(&board, &txn, &touched));
                let changes = indices.finish();

                let all = board.notes(&txn);
                let context = format!("seed {seed}, step {step}");
                let order: Vec<&NoteId> = all.iter().map(|n| &n.id).collect();
                assert_eq!(indices.order().collect::<Vec<_>>(), order, "{context}");
                assert_eq!(indices.tally(), ActionCount::of(&all), "{context}");
                assert_eq!(
                    indices.votes_used(),
                    board.votes_used(&txn, VOTER),
                    "{context}"
                );
                let timeline = Timeline::of(&all);
                assert_eq!(indices.durations(), timeline.durations(), "{context}");
                let expected: HashMap<NoteId, (f64, f64)> = timeline
                    .layout(timeline_area())
                    .into_iter()
                    .map(|(id, x, y)| (id, (x, y)))
                    .collect();
                assert_eq!(indices.slots, expected, "{context}");
                let mut counts: HashMap<String, u32> = HashMap::new();
                for n in &all {
                    if let Some(key) = &n.region {
                        *counts.entry(key.clone()).or_default() += 1;
                    }
                }
                assert_eq!(indices.counts(), &counts, "{context}");
                for n in &all {
                    assert_eq!(indices.slot(&n.id), expected.get(&n.id).copied());
                }
                // What `finish` reported is exactly what moved.
                for (id, slot) in &changes.slots {
                    assert_eq!(expected.get(id).copied(), *slot, "{context}");
                }
            }
        }
    }

    #[test]
    fn a_move_outside_the_timeline_changes_nothing_here() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut indices = postmortem_indices();
        let id: NoteId = "a".parse().unwrap();
        let detect = Template::postmortem().region("detect").unwrap().rect;
        {
            let mut txn = doc.transact_mut();
            board.add_note(
                &mut txn,
                &id,
                NewNote::at(detect.x + 10.0, detect.y + 100.0, "x"),
            );
            indices.update(&id, indexed(&board, &txn, &id));
        }
        assert!(indices.finish().order);
        let mut txn = doc.transact_mut();
        board.move_note(&mut txn, &id, detect.x + 50.0, detect.y + 200.0);
        indices.update(&id, indexed(&board, &txn, &id));
        assert_eq!(indices.finish(), Changes::default());
    }

    #[test]
    fn a_whole_board_arriving_at_once_is_sorted_once_and_in_order() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut indices = postmortem_indices();
        let mut txn = doc.transact_mut();
        let ids: Vec<NoteId> = (0..500).map(|i| format!("n{i}").parse().unwrap()).collect();
        for (i, id) in ids.iter().enumerate() {
            let created = ((i * 7919) % 500) as f64;
            board.add_note(
                &mut txn,
                id,
                NewNote::at(10.0, 100.0, "x").created_at(created),
            );
            indices.update(id, indexed(&board, &txn, id));
        }
        assert!(indices.finish().order);
        let expected: Vec<NoteId> = board.notes(&txn).into_iter().map(|n| n.id).collect();
        assert_eq!(indices.order().cloned().collect::<Vec<_>>(), expected);
    }
}
