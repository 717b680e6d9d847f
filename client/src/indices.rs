//! The few facts the page needs about all notes at once, kept current one note at a time:
//! the id order (oldest first), how many actions there are and how many lack an owner or
//! a date, how many votes this person has used, how many notes each region holds (for
//! work-in-progress limits), the timeline (its order, its axis, time to detect and
//! resolve), how far each region's notes reach, the board's layout that follows
//! (`hindsight_shared::layout`), and where each note is drawn when that is not where it
//! is stored (a timeline entry's slot, a note of a region that moved).
//!
//! Pure data, no signals and no document: [`Indices::update`] takes what one note is now
//! (or that it is gone) and remembers what it needs, [`Indices::finish`] ends a
//! transaction and says what changed. A change to a note touches these only through its
//! own entry, so a move outside the timeline costs a region's reach update here, the
//! timeline is laid out again only when an entry's region, time, size or creation changed,
//! and the board's layout only when some region's reach did.
//!
//! Invariant (tested against a recomputation from scratch over random edits): after
//! `finish`, every answer equals what `hindsight_shared` computes from all notes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use hindsight_shared::actions::ActionCount;
use hindsight_shared::layout::BoardLayout;
use hindsight_shared::timeline::{self, timed_order, Axis, Durations, EntryKind};
use hindsight_shared::{NoteId, Rect, Role, Template};

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
    /// Where it is stored, and its size.
    rect: Rect,
}

impl Indexed {
    pub fn of(rect: Rect, fields: &NoteFields, votes: &Votes, voter: &str) -> Indexed {
        Indexed {
            rect,
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
    /// Some region now holds other notes (and so, perhaps, a different number).
    pub counts: bool,
    /// The timeline's axis (lanes, labels, gaps) is new.
    pub axis: bool,
    /// Some region grew, shrank or moved.
    pub layout: bool,
    /// Notes now drawn somewhere else than before: `Some` where they are drawn when that
    /// is not where they are stored, `None` when they are drawn where they are stored.
    pub slots: Vec<(NoteId, Option<(f64, f64)>)>,
}

/// The region and rectangle a note adds to that region's reach: none for a timeline entry
/// (the axis decides the timeline's) or a note in no region.
fn reaching(n: Option<&Indexed>) -> Option<(String, Rect)> {
    n.filter(|n| n.timeline.is_none())
        .and_then(|n| Some((n.region.clone()?, n.rect)))
}

/// A coordinate with a total order, for the per-region reach.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Far(f64);
impl Eq for Far {}
impl Ord for Far {
    fn cmp(&self, other: &Far) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Far) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// How far one region's notes reach: every right and bottom edge, counted, so removing
/// the farthest note finds the next one without a scan.
#[derive(Debug, Default)]
struct Reach {
    rights: BTreeMap<Far, u32>,
    bottoms: BTreeMap<Far, u32>,
}

impl Reach {
    fn add(&mut self, r: Rect) {
        *self.rights.entry(Far(r.right())).or_default() += 1;
        *self.bottoms.entry(Far(r.bottom())).or_default() += 1;
    }

    fn remove(&mut self, r: Rect) {
        for (edges, edge) in [
            (&mut self.rights, r.right()),
            (&mut self.bottoms, r.bottom()),
        ] {
            if let Some(n) = edges.get_mut(&Far(edge)) {
                *n -= 1;
                if *n == 0 {
                    edges.remove(&Far(edge));
                }
            }
        }
    }

    fn far(&self) -> Option<(f64, f64)> {
        Some((
            self.rights.keys().next_back()?.0,
            self.bottoms.keys().next_back()?.0,
        ))
    }

    /// How far the notes reach without one of them, `r`.
    fn far_without(&self, r: Rect) -> Option<(f64, f64)> {
        let without = |edges: &BTreeMap<Far, u32>, edge: f64| {
            edges
                .iter()
                .rev()
                .find(|(far, n)| !(far.0 == edge && **n == 1))
                .map(|(far, _)| far.0)
        };
        Some((
            without(&self.rights, r.right())?,
            without(&self.bottoms, r.bottom())?,
        ))
    }
}

pub struct Indices {
    notes: HashMap<NoteId, Indexed>,
    /// Every note, oldest first.
    order: Vec<Created>,
    /// Notes added since the last `finish`, merged into `order` there.
    arrived: Vec<Created>,
    tally: ActionCount,
    votes_used: u32,
    /// The notes of each region (regions with none are absent).
    members: HashMap<String, HashSet<NoteId>>,
    /// The board's regions.
    template: Template,
    timed: BTreeSet<Timed>,
    untimed: BTreeSet<Created>,
    axis: Axis,
    /// Where the axis puts each timeline entry, in the timeline region's own frame.
    axis_slots: HashMap<NoteId, (f64, f64)>,
    durations: Option<Durations>,
    /// How far the notes of each region (timeline entries aside) reach.
    reach: HashMap<String, Reach>,
    layout: BoardLayout,
    /// Where notes are drawn, for those not drawn where they are stored.
    slots: HashMap<NoteId, (f64, f64)>,
    /// The timeline's membership, order or sizes changed since the last `finish`.
    timeline_dirty: bool,
    /// Some region's reach changed since the last `finish`.
    layout_dirty: bool,
    /// Notes whose place, region or role changed since the last `finish`.
    moved: HashSet<NoteId>,
    /// Notes someone is dragging: they grow no region while they move.
    moving: BTreeSet<NoteId>,
    changes: Changes,
}

impl Default for Indices {
    fn default() -> Indices {
        Indices::new(Template::postmortem().clone())
    }
}

impl Indices {
    /// Indices of an empty board with these regions.
    pub fn new(template: Template) -> Indices {
        Indices {
            notes: HashMap::new(),
            order: Vec::new(),
            arrived: Vec::new(),
            tally: ActionCount::default(),
            votes_used: 0,
            members: HashMap::new(),
            layout: BoardLayout::unchanged(&template),
            template,
            timed: BTreeSet::new(),
            untimed: BTreeSet::new(),
            axis: Axis::default(),
            axis_slots: HashMap::new(),
            durations: None,
            reach: HashMap::new(),
            slots: HashMap::new(),
            timeline_dirty: false,
            layout_dirty: false,
            moved: HashSet::new(),
            moving: BTreeSet::new(),
            changes: Changes::default(),
        }
    }

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
                if let Some(members) = self.members.get_mut(&key) {
                    members.remove(id);
                    if members.is_empty() {
                        self.members.remove(&key);
                    }
                }
            }
            if let Some(key) = now_in {
                self.members.entry(key).or_default().insert(id.clone());
            }
            self.changes.counts = true;
        }

        // How far each region's notes reach (a note being dragged counts once it is
        // dropped), and where this note is drawn.
        let moving = self.moving.contains(id);
        let free = |n: Option<&Indexed>| reaching(n).filter(|_| !moving);
        let (was_reaching, now_reaching) = (free(old), free(new));
        if was_reaching != now_reaching {
            if let Some((key, rect)) = was_reaching {
                self.unreach(&key, rect);
            }
            if let Some((key, rect)) = now_reaching {
                self.reach.entry(key).or_default().add(rect);
            }
            self.layout_dirty = true;
        }
        let place =
            |n: Option<&Indexed>| n.map(|n| (n.rect, n.region.clone(), n.timeline.is_some()));
        if place(old) != place(new) {
            self.moved.insert(id.clone());
        }

        // This person's votes.
        let mine = |n: Option<&Indexed>| n.map_or(0, |n| n.my_votes);
        if mine(old) != mine(new) {
            self.votes_used = self.votes_used - mine(old) + mine(new);
            self.changes.votes_used = true;
        }

        // The timeline (an entry's size decides the room it takes on the axis).
        let entry = |n: Option<&Indexed>| {
            n.and_then(|n| n.timeline.map(|t| (t, n.created_at, n.rect.w, n.rect.h)))
        };
        if entry(old) != entry(new) {
            if let Some(((time, kind), created_at, ..)) = entry(old) {
                self.remove_entry(id, time, kind, created_at);
            }
            if let Some(((time, kind), created_at, ..)) = entry(new) {
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

    /// Takes the notes someone is dragging now: those that start moving stop counting
    /// towards their region's reach, those that were dropped count again.
    pub fn set_moving(&mut self, moving: BTreeSet<NoteId>) {
        if moving == self.moving {
            return;
        }
        let old = std::mem::replace(&mut self.moving, moving);
        let changed: Vec<NoteId> = old.symmetric_difference(&self.moving).cloned().collect();
        for id in &changed {
            let Some((key, rect)) = reaching(self.notes.get(id)) else {
                continue;
            };
            if self.moving.contains(id) {
                self.unreach(&key, rect);
            } else {
                self.reach.entry(key).or_default().add(rect);
            }
            self.layout_dirty = true;
        }
    }

    /// Takes one note's rectangle out of region `key`'s reach (and the region out of the
    /// map once it has none).
    fn unreach(&mut self, key: &str, rect: Rect) {
        if let Some(reach) = self.reach.get_mut(key) {
            reach.remove(rect);
            if reach.rights.is_empty() {
                self.reach.remove(key);
            }
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
        let mut moved = std::mem::take(&mut self.moved);
        if std::mem::take(&mut self.timeline_dirty) && self.lay_out_timeline() {
            self.changes.axis = true;
            self.layout_dirty = true;
            moved.extend(self.axis_slots.keys().cloned());
        }
        if std::mem::take(&mut self.layout_dirty) {
            let layout = self.lay_out_regions(None);
            if layout != self.layout {
                // The notes of every region that moved are drawn elsewhere now.
                for placed in &layout.regions {
                    if self.layout.offset(Some(&placed.key)) != placed.offset {
                        if let Some(members) = self.members.get(&placed.key) {
                            moved.extend(members.iter().cloned());
                        }
                    }
                }
                self.layout = layout;
                self.changes.layout = true;
            }
        }
        for id in moved {
            let slot = self.drawn(&id);
            let old = match slot {
                Some(at) => self.slots.insert(id.clone(), at),
                None => self.slots.remove(&id),
            };
            if old != slot {
                self.changes.slots.push((id, slot));
            }
        }
        std::mem::take(&mut self.changes)
    }

    /// The board's layout as it would be without note `id`: what decides where that note
    /// is dropped. Deciding on the layout with it would let a region grow under a note
    /// being dragged out of it and keep it in forever.
    pub fn layout_without(&self, id: &NoteId) -> BoardLayout {
        let Some((key, rect)) = reaching(self.notes.get(id)).filter(|_| !self.moving.contains(id))
        else {
            return self.layout.clone();
        };
        self.lay_out_regions(Some((&key, rect)))
    }

    /// The regions laid out from how far their notes reach (the timeline from its axis),
    /// leaving out one note's rectangle in its region if asked.
    fn lay_out_regions(&self, without: Option<(&str, Rect)>) -> BoardLayout {
        BoardLayout::of(&self.template, |r| {
            if r.has_role(Role::Timeline) {
                return self.axis.reach;
            }
            let reach = self.reach.get(&r.key)?;
            match without {
                Some((key, rect)) if key == r.key => reach.far_without(rect),
                _ => reach.far(),
            }
        })
    }

    /// Where note `id` is drawn, if not where it is stored.
    fn drawn(&self, id: &NoteId) -> Option<(f64, f64)> {
        let note = self.notes.get(id)?;
        let (dx, dy) = self.layout.offset(note.region.as_deref());
        if note.timeline.is_some() {
            return self.axis_slots.get(id).map(|(x, y)| (x + dx, y + dy));
        }
        ((dx, dy) != (0.0, 0.0)).then_some((note.rect.x + dx, note.rect.y + dy))
    }

    /// Takes the board's regions; a change of their shapes (returned) lays everything out
    /// again.
    pub fn set_template(&mut self, template: &Template) -> bool {
        let shape = |t: &Template| -> Vec<(String, Rect, Option<Role>)> {
            t.regions
                .iter()
                .map(|r| (r.key.clone(), r.rect, r.role))
                .collect()
        };
        if shape(template) != shape(&self.template) {
            self.template = template.clone();
            self.timeline_dirty = true;
            self.layout_dirty = true;
            self.moved.extend(self.notes.keys().cloned());
            return true;
        }
        false
    }

    /// Lays the timeline out again; returns whether its axis changed.
    fn lay_out_timeline(&mut self) -> bool {
        let axis = match self.template.with_role(Role::Timeline) {
            Some(region) => {
                let entry = |id: &NoteId, time: Option<i64>, kind| {
                    let rect = self
                        .notes
                        .get(id)
                        .map_or(Rect::new(0.0, 0.0, 0.0, 0.0), |n| n.rect);
                    (id.clone(), time, kind, rect.w, rect.h)
                };
                let entries: Vec<_> = self
                    .timed
                    .iter()
                    .map(|t| entry(&t.id, Some(t.time), t.kind))
                    .chain(self.untimed.iter().map(|c| entry(&c.id, None, None)))
                    .collect();
                timeline::axis::lay_out(
                    region.rect,
                    entries
                        .iter()
                        .map(|(id, time, kind, w, h)| timeline::Entry {
                            id,
                            time: *time,
                            kind: *kind,
                            w: *w,
                            h: *h,
                        }),
                )
            }
            None => Axis::default(),
        };
        let durations = timeline::durations(self.timed.iter().map(|t| (t.time, t.kind)));
        if durations != self.durations {
            self.durations = durations;
            self.changes.durations = true;
        }
        if axis == self.axis {
            return false;
        }
        self.axis_slots = axis
            .slots
            .iter()
            .map(|(id, x, y)| (id.clone(), (*x, *y)))
            .collect();
        self.axis = axis;
        true
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
    pub fn counts(&self) -> HashMap<String, u32> {
        self.members
            .iter()
            .map(|(key, members)| (key.clone(), members.len() as u32))
            .collect()
    }

    /// The notes of each region, each region's sorted by id (regions with none are
    /// absent).
    pub fn members(&self) -> HashMap<String, Vec<NoteId>> {
        self.members
            .iter()
            .map(|(key, members)| {
                let mut ids: Vec<NoteId> = members.iter().cloned().collect();
                ids.sort_unstable();
                (key.clone(), ids)
            })
            .collect()
    }

    pub fn axis(&self) -> &Axis {
        &self.axis
    }

    pub fn layout(&self) -> &BoardLayout {
        &self.layout
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

    fn postmortem_indices() -> Indices {
        Indices::new(Template::postmortem().clone())
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
        // Now and then past the region's edge, so regions grow and move.
        let reach = if rng.below(4) == 0 { 1400 } else { 200 };
        let spot = (
            region.rect.x + 10.0 + rng.below(200) as f64,
            region.rect.y + 100.0 + rng.below(reach) as f64,
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
            (true, 2) => {
                board.move_note(txn, &id, spot.0, spot.1);
            }
            (true, 3) => {
                // As the page places a note: in the region it was dropped in, even past
                // that region's template edge, which grows it.
                board.place_note(txn, &id, spot.0, spot.1, Some(&region.key));
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
        Some(Indexed::of(parts.rect, &parts.fields, &parts.votes, VOTER))
    }

    #[test]
    fn incremental_indices_match_a_recomputation_after_every_edit() {
        // Whether the edits ever moved a region (so the drawn positions were exercised).
        let mut moved_regions = 0;
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
                let (layout, axis) = BoardLayout::of_notes(Template::postmortem(), &all);
                assert_eq!(indices.layout(), &layout, "{context}");
                assert_eq!(indices.axis(), &axis, "{context}");
                moved_regions += layout
                    .regions
                    .iter()
                    .filter(|p| p.offset != (0.0, 0.0))
                    .count();
                let expected: HashMap<NoteId, (f64, f64)> = all
                    .iter()
                    .filter_map(|n| {
                        let (dx, dy) = layout.offset(n.region.as_deref());
                        let at = if n.role == Some(Role::Timeline) {
                            let (_, x, y) = axis.slots.iter().find(|(id, ..)| *id == n.id)?;
                            (x + dx, y + dy)
                        } else {
                            ((dx, dy) != (0.0, 0.0)).then_some((n.x + dx, n.y + dy))?
                        };
                        Some((n.id.clone(), at))
                    })
                    .collect();
                let mut counts: HashMap<String, u32> = HashMap::new();
                let mut members: HashMap<String, Vec<NoteId>> = HashMap::new();
                for n in &all {
                    if let Some(key) = &n.region {
                        *counts.entry(key.clone()).or_default() += 1;
                        members.entry(key.clone()).or_default().push(n.id.clone());
                    }
                }
                members.values_mut().for_each(|ids| ids.sort_unstable());
                assert_eq!(indices.counts(), counts, "{context}");
                assert_eq!(indices.members(), members, "{context}");
                for n in &all {
                    assert_eq!(indices.slot(&n.id), expected.get(&n.id).copied());
                }
                // What `finish` reported is exactly what moved.
                for (id, slot) in &changes.slots {
                    assert_eq!(expected.get(id).copied(), *slot, "{context}");
                }
            }
        }
        assert!(moved_regions > 100, "regions moved {moved_regions} times");
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
    fn a_note_dragged_out_of_its_region_is_dropped_on_the_layout_without_it() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut indices = postmortem_indices();
        let prevent = Template::postmortem().region("prevent").unwrap().rect;
        let (a, b): (NoteId, NoteId) = ("a".parse().unwrap(), "b".parse().unwrap());
        let mut txn = doc.transact_mut();
        // Two notes in Prevent; `a` poked 300 px below its edge, `b` inside.
        board.add_note(
            &mut txn,
            &b,
            NewNote::at(prevent.x + 20.0, prevent.y + 200.0, "b"),
        );
        board.add_note(
            &mut txn,
            &a,
            NewNote::at(prevent.x + 20.0, prevent.bottom() + 300.0, "a")
                .in_region(Some("prevent".into())),
        );
        for id in [&a, &b] {
            indices.update(id, indexed(&board, &txn, id));
        }
        indices.finish();
        assert!(
            indices.layout().rect("prevent").unwrap().h > prevent.h,
            "a grows Prevent"
        );
        let without = indices.layout_without(&a);
        assert_eq!(
            without.rect("prevent"),
            Some(prevent),
            "without a, Prevent is as drawn"
        );
        assert_eq!(
            indices.layout_without(&b),
            *indices.layout(),
            "b changes nothing"
        );
    }

    #[test]
    fn a_note_being_dragged_grows_no_region_until_it_is_dropped() {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        let mut indices = postmortem_indices();
        let detect = Template::postmortem().region("detect").unwrap().rect;
        let a: NoteId = "a".parse().unwrap();
        let mut txn = doc.transact_mut();
        board.add_note(
            &mut txn,
            &a,
            NewNote::at(detect.x + 20.0, detect.y + 200.0, "a"),
        );
        indices.update(&a, indexed(&board, &txn, &a));
        indices.finish();
        let before = indices.layout().clone();
        indices.set_moving([a.clone()].into());
        assert_eq!(
            indices.finish(),
            Changes::default(),
            "a note inside changes nothing"
        );
        // Dragged past Detect's bottom edge, in Detect: nothing moves while it moves.
        board.place_note(
            &mut txn,
            &a,
            detect.x + 20.0,
            detect.bottom() + 200.0,
            Some("detect"),
        );
        indices.update(&a, indexed(&board, &txn, &a));
        let changes = indices.finish();
        assert!(!changes.layout, "no region moved during the drag");
        assert_eq!(indices.layout(), &before);
        // Dropped there: Detect grows and the regions below move.
        indices.set_moving(BTreeSet::new());
        assert!(indices.finish().layout);
        assert!(indices.layout().rect("detect").unwrap().h > detect.h);
        assert_eq!(
            indices.layout(),
            &BoardLayout::of_notes(Template::postmortem(), &board.notes(&txn)).0
        );
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
