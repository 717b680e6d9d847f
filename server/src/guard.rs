//! The facilitator's part of a board, held by the server: the meeting's state (the whole
//! `facilitation` map: step, timer, follow me) and the board's settings in `meta`
//! (the facilitator key's hash, anonymity, the vote budget, the template and layout, the
//! schema version and creation time). Only a connection that proved the facilitator key
//! may change them; any other update that reaches into them is refused before it is
//! applied, so nothing of it is stored or relayed.
//!
//! An update says where an item goes only when the item has no neighbours (a root type
//! and key, or the nested type that holds it); an item written next to others (a map
//! value replacing an older one, a run of text) goes wherever its neighbours are. So the
//! guard remembers the ids of every item in the facilitator's part — read from the
//! stored board when it loads, then from every update applied — and an item inserted
//! next to one of them, inside one, or a deletion of one, reaches into the part too.
//! All of it is plain bookkeeping over `vocabulary::places`: no I/O, no document.

use std::collections::{BTreeMap, HashMap};

use hindsight_shared::schema::{FACILITATION, META};

use crate::vocabulary::{Id, Parent, Placed, Places};

/// The board's settings among `meta`'s keys; the rest of `meta` (title, facts) is
/// everyone's.
pub const SETTINGS: [&str; 7] = [
    "facilitatorKeyHash",
    "anonymous",
    "voteBudget",
    "template",
    "layout",
    "schema",
    "createdAt",
];

/// The ids of the items in the facilitator's part of one board.
#[derive(Debug, Default)]
pub struct Guarded {
    /// Per client, clock ranges as start → end (exclusive), none overlapping.
    ranges: HashMap<u64, BTreeMap<u64, u64>>,
}

impl Guarded {
    /// Whether the item with id `id` is one of the guarded ones.
    pub fn contains(&self, (client, clock): Id) -> bool {
        self.ranges.get(&client).is_some_and(|r| {
            r.range(..=clock)
                .next_back()
                .is_some_and(|(_, &end)| clock < end)
        })
    }

    /// Whether `client`'s clocks `start..start + len` hold a guarded item.
    fn overlaps(&self, client: u64, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        self.ranges
            .get(&client)
            .is_some_and(|r| r.range(..end).next_back().is_some_and(|(_, &e)| e > start))
    }

    fn insert(&mut self, client: u64, start: u64, len: u64) {
        if len == 0 {
            return;
        }
        let ranges = self.ranges.entry(client).or_default();
        let (mut start, mut end) = (start, start.saturating_add(len));
        // Merge with every range it touches.
        let touching: Vec<(u64, u64)> = ranges
            .range(..=end)
            .rev()
            .take_while(|(_, &e)| e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in touching {
            ranges.remove(&s);
            start = start.min(s);
            end = end.max(e);
        }
        ranges.insert(start, end);
    }

    /// Which of `places`' items are in the guarded part, given what is already known and
    /// the update's own items (one may sit next to or inside another of the same
    /// update, in any order).
    fn guarded_items(&self, places: &Places) -> Vec<bool> {
        let mut guarded: Vec<bool> = places.items.iter().map(stated_guarded).collect();
        // The update's own guarded items, for its other items to be found next to.
        let mut own = Guarded::default();
        for (item, _) in places.items.iter().zip(&guarded).filter(|(_, g)| **g) {
            own.insert(item.id.0, item.id.1, item.len);
        }
        let known = |own: &Guarded, id: Id| self.contains(id) || own.contains(id);
        loop {
            let mut found = false;
            for (item, g) in places.items.iter().zip(guarded.iter_mut()) {
                if *g {
                    continue;
                }
                let inside = match &item.parent {
                    Parent::Type(holder, _) => known(&own, *holder),
                    Parent::Root(..) => false,
                    Parent::Unstated => {
                        item.origin.is_some_and(|o| known(&own, o))
                            || item.right.is_some_and(|r| known(&own, r))
                    }
                };
                if inside {
                    *g = true;
                    own.insert(item.id.0, item.id.1, item.len);
                    found = true;
                }
            }
            if !found {
                return guarded;
            }
        }
    }

    /// Whether applying `places` would change the guarded part: add to it, or delete
    /// from it.
    pub fn reached_by(&self, places: &Places) -> bool {
        self.guarded_items(places).into_iter().any(|g| g)
            || places
                .deleted
                .iter()
                .any(|&(client, start, len)| self.overlaps(client, start, len))
    }

    /// Remembers the guarded items of `places`, an update the document took (or what the
    /// store holds, as the board loads).
    pub fn record(&mut self, places: &Places) {
        let guarded = self.guarded_items(places);
        for (item, _) in places.items.iter().zip(guarded).filter(|(_, g)| *g) {
            self.insert(item.id.0, item.id.1, item.len);
        }
    }
}

/// Whether an item says outright that it is in the guarded part.
fn stated_guarded(item: &Placed) -> bool {
    match &item.parent {
        Parent::Root(root, _) if *root == FACILITATION => true,
        Parent::Root(root, Some(key)) if *root == META => SETTINGS.contains(&key.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use hindsight_shared::schema::{new_doc, Board};
    use hindsight_shared::NewNote;
    use yrs::updates::decoder::Decode;
    use yrs::{ReadTxn, StateVector, Transact};

    use super::*;
    use crate::vocabulary;

    /// A board whose guard has read it, and a way to write updates as another client.
    struct Fixture {
        doc: yrs::Doc,
        guarded: Guarded,
    }

    impl Fixture {
        fn new() -> Fixture {
            let doc = new_doc(Some(1));
            let board = Board::new(&doc);
            {
                let mut txn = doc.transact_mut();
                board.init(&mut txn, "Outage", 1.0);
                board.set_facilitator_key(&mut txn, "key");
                board.set_step(&mut txn, Some(2));
                board.set_vote_budget(&mut txn, 3);
                board.add_note(
                    &mut txn,
                    &"n1".parse().unwrap(),
                    NewNote::at(10.0, 10.0, "hi"),
                );
            }
            let mut guarded = Guarded::default();
            let state = doc.transact().encode_diff_v1(&StateVector::default());
            guarded.record(&vocabulary::places(&state).unwrap().1);
            Fixture { doc, guarded }
        }

        /// What `f` writes on a replica of the board as another client, as places.
        fn write(&self, f: impl Fn(&Board, &mut yrs::TransactionMut)) -> Places {
            let replica = new_doc(Some(2));
            let state = self.doc.transact().encode_diff_v1(&StateVector::default());
            let board = Board::new(&replica);
            let update = {
                let mut txn = replica.transact_mut();
                txn.apply_update(yrs::Update::decode_v1(&state).unwrap())
                    .unwrap();
                let before = txn.state_vector();
                drop(txn);
                let mut txn = replica.transact_mut();
                f(&board, &mut txn);
                drop(txn);
                replica.transact().encode_diff_v1(&before)
            };
            vocabulary::places(&update).unwrap().1
        }
    }

    #[test]
    fn the_facilitators_part_is_reached_however_an_update_writes_it() {
        let f = Fixture::new();
        let reached =
            |w: &dyn Fn(&Board, &mut yrs::TransactionMut)| f.guarded.reached_by(&f.write(w));
        // Overwriting a value (written next to the old one), a new key, removing one.
        assert!(reached(&|b, t| b.set_step(t, Some(3))));
        assert!(reached(&|b, t| b.start_timer(t, 0.0, 60)));
        assert!(reached(&|b, t| b.set_step(t, None)));
        assert!(reached(&|b, t| b.set_vote_budget(t, 50)));
        assert!(reached(&|b, t| b.set_anonymous(t, true)));
        assert!(reached(&|b, t| b.set_facilitator_key(t, "mine")));
        // Everyone's part is not.
        assert!(!reached(&|b, t| b.set_title(t, "Checkout outage")));
        assert!(!reached(&|b, t| {
            b.add_note(t, &"n2".parse().unwrap(), NewNote::at(0.0, 0.0, "x"));
        }));
        assert!(!reached(&|b, t| {
            b.move_note(t, &"n1".parse().unwrap(), 50.0, 60.0);
        }));
        assert!(!reached(&|b, t| {
            b.edit_text(t, &"n1".parse().unwrap(), "hello");
        }));
    }

    #[test]
    fn what_the_facilitator_writes_is_guarded_from_then_on() {
        let mut f = Fixture::new();
        // The facilitator starts a timer: new keys, guarded once recorded...
        let timer = f.write(|b, t| b.start_timer(t, 0.0, 60));
        assert!(timer.items.iter().all(|i| !f.guarded.contains(i.id)));
        f.guarded.record(&timer);
        assert!(timer.items.iter().all(|i| f.guarded.contains(i.id)));
        // ...so someone else stopping it (deleting those items) reaches into the part.
        let stop = Places {
            items: Vec::new(),
            deleted: timer
                .items
                .iter()
                .map(|i| (i.id.0, i.id.1, i.len))
                .collect(),
        };
        assert!(f.guarded.reached_by(&stop));
    }

    #[test]
    fn ranges_merge_and_answer_for_every_clock() {
        let mut g = Guarded::default();
        g.insert(7, 10, 5);
        g.insert(7, 15, 5);
        g.insert(7, 30, 1);
        assert!(g.contains((7, 10)) && g.contains((7, 19)) && g.contains((7, 30)));
        assert!(!g.contains((7, 9)) && !g.contains((7, 20)) && !g.contains((8, 12)));
        assert!(g.overlaps(7, 0, 11) && !g.overlaps(7, 20, 10) && g.overlaps(7, 25, 6));
        assert_eq!(g.ranges[&7].len(), 2, "{:?}", g.ranges);
    }
}
