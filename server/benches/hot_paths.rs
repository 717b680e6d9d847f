//! Micro-benchmarks of the server's hot paths, through the crate's public API:
//!
//! - `apply_persist`: one small edit (a note moved, one character typed) arriving as a
//!   sync Update frame, applied by `Room::receive` and stored by `SledStore::append`
//!   (real sled in a temporary directory, flushed), as a room does for every batch.
//! - `apply`: the same edits through `Room::receive` alone, on boards of several sizes,
//!   with the default limits and with a note limit far above the board, to separate what
//!   the room costs per edit from what the flush costs.
//! - `sync_step2`: the reply to a new client's sync step 1 (an empty state vector), for
//!   the first page after a change (encoded) and the pages after it (shared).
//! - `compact`: the snapshot encode plus `SledStore::compact` of a board with 500 updates
//!   pending.
//! - `load`: `Room::load` of a stored board.
//!
//! Run with `cargo bench -p hindsight-server --bench hot_paths`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use hindsight_server::limits::DocumentLimits;
use hindsight_server::room::Room;
use hindsight_server::store::StoredBoard;
use hindsight_server::{SledStore, Store};
use hindsight_shared::schema::new_doc;
use hindsight_shared::{Access, Board, BoardId, NewNote, NoteId};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

/// Board sizes: a small meeting, and a board far past anything a meeting writes.
const SIZES: [usize; 2] = [10, 10_000];
const PENDING_UPDATES: usize = 500;

/// A board of `notes` notes, written one note per transaction as participants do, with
/// a title and notes spread over every region.
fn board_doc(notes: usize) -> (Doc, Vec<NoteId>) {
    let doc = new_doc(Some(1));
    let board = Board::new(&doc);
    board.init(&mut doc.transact_mut(), "Checkout outage", 1.7e12);
    let ids: Vec<NoteId> = (0..notes as u64)
        .map(|i| NoteId::from_random(i.to_be_bytes()))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let mut txn = doc.transact_mut();
        board.add_note(
            &mut txn,
            id,
            NewNote::at(
                (i % 16) as f64 * 200.0,
                (i / 16 % 11) as f64 * 200.0,
                format!("Note {i}: the payment queue backed up after the deploy"),
            )
            .created_at(1.7e12 + i as f64)
            .by("Ada"),
        );
    }
    (doc, ids)
}

fn encode_state(doc: &Doc) -> Vec<u8> {
    doc.transact()
        .encode_state_as_update_v1(&StateVector::default())
}

/// A participant's replica that makes small edits and hands them over as protocol frames.
struct Writer {
    doc: Doc,
    board: Board,
    ids: Vec<NoteId>,
    next: usize,
}

impl Writer {
    fn new(snapshot: &[u8], ids: Vec<NoteId>) -> Writer {
        let doc = new_doc(Some(2));
        let board = Board::new(&doc);
        doc.transact_mut()
            .apply_update(Update::decode_v1(snapshot).unwrap())
            .unwrap();
        Writer {
            doc,
            board,
            ids,
            next: 0,
        }
    }

    fn next_id(&mut self) -> NoteId {
        self.next += 1;
        self.ids[self.next % self.ids.len()].clone()
    }

    /// A drag step: one note to a new position in the same region. Returns the update.
    fn move_note(&mut self) -> Vec<u8> {
        let (id, step) = (self.next_id(), (self.next % 50) as f64);
        let mut txn = self.doc.transact_mut();
        let note = self.board.note(&txn, &id).unwrap();
        self.board.move_note(&mut txn, &id, note.x + step, note.y);
        txn.encode_update_v1()
    }

    /// One character typed at the end of a note. Returns the update.
    fn type_char(&mut self) -> Vec<u8> {
        let id = self.next_id();
        let mut txn = self.doc.transact_mut();
        let text = self.board.note(&txn, &id).unwrap().text;
        self.board.edit_text(&mut txn, &id, &format!("{text}x"));
        txn.encode_update_v1()
    }
}

/// The sync Update frame a client sends for `update`.
fn frame(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

fn stored(snapshot: Vec<u8>) -> StoredBoard {
    StoredBoard {
        snapshot,
        ..Default::default()
    }
}

/// A note limit no benchmarked board comes near, so only the per-edit work is measured.
fn high_limits() -> DocumentLimits {
    DocumentLimits {
        max_notes: 1_000_000,
        ..DocumentLimits::default()
    }
}

type Edit = fn(&mut Writer) -> Vec<u8>;
const EDITS: [(&str, Edit); 2] = [("move", Writer::move_note), ("type", Writer::type_char)];

fn apply_persist(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_persist");
    let board_id = BoardId::from_bytes([7; 16]);
    for notes in SIZES {
        let (doc, ids) = board_doc(notes);
        let snapshot = encode_state(&doc);
        for (edit_name, edit) in EDITS {
            let dir = tempfile::tempdir().unwrap();
            let store = SledStore::open(dir.path()).unwrap();
            store.create(&board_id, &snapshot, None).unwrap();
            let mut room = Room::load(&stored(snapshot.clone()))
                .unwrap()
                .with_limits(high_limits());
            room.join(1, Access::Edit);
            let mut writer = Writer::new(&snapshot, ids.clone());
            let mut seq = 0;
            group.bench_function(BenchmarkId::new(edit_name, notes), |b| {
                b.iter_batched(
                    || frame(edit(&mut writer)),
                    |frame| {
                        let out = room.receive(1, &frame).unwrap();
                        let update = out.update.expect("a new edit changes the board");
                        store.append(&board_id, seq, &[update]).unwrap();
                        seq += 1;
                        out.broadcast
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    for notes in [10, 1_000, 10_000] {
        let (doc, ids) = board_doc(notes);
        let snapshot = encode_state(&doc);
        // The server's default limits (5,000 notes) and one far above the board.
        let limit_cases = [
            ("default_limits", DocumentLimits::default()),
            ("high_limit", high_limits()),
        ];
        for (limits_name, limits) in limit_cases {
            for (edit_name, edit) in EDITS {
                let mut room = Room::load(&stored(snapshot.clone()))
                    .unwrap()
                    .with_limits(limits);
                room.join(1, Access::Edit);
                let mut writer = Writer::new(&snapshot, ids.clone());
                let name = format!("{edit_name}/{limits_name}");
                group.bench_function(BenchmarkId::new(name, notes), |b| {
                    b.iter_batched(
                        || frame(edit(&mut writer)),
                        |frame| room.receive(1, &frame).unwrap(),
                        BatchSize::SmallInput,
                    )
                });
            }
        }
    }
    group.finish();
}

fn sync_step2(c: &mut Criterion) {
    let mut group = c.benchmark_group("sync_step2");
    let step1 = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
    for notes in SIZES {
        let (doc, ids) = board_doc(notes);
        let snapshot = encode_state(&doc);
        let room = std::cell::RefCell::new(
            Room::load(&stored(snapshot.clone()))
                .unwrap()
                .with_limits(high_limits()),
        );
        room.borrow_mut().join(1, Access::Edit);
        // The first page after a change: the room encodes the board.
        let mut writer = Writer::new(&snapshot, ids);
        group.bench_function(BenchmarkId::new("after_a_change", notes), |b| {
            b.iter_batched(
                || {
                    let edit = frame(writer.move_note());
                    room.borrow_mut().receive(1, &edit).unwrap();
                },
                |()| {
                    room.borrow_mut()
                        .receive(1, black_box(&step1))
                        .unwrap()
                        .reply
                },
                BatchSize::PerIteration,
            )
        });
        // Every further page until the next change gets the same bytes.
        group.bench_function(BenchmarkId::new("unchanged", notes), |b| {
            b.iter(|| {
                room.borrow_mut()
                    .receive(1, black_box(&step1))
                    .unwrap()
                    .reply
            })
        });
    }
    group.finish();
}

fn compact(c: &mut Criterion) {
    let mut group = c.benchmark_group("compact");
    group.sample_size(20);
    let notes = 10_000;
    let board_id = BoardId::from_bytes([9; 16]);
    let (doc, ids) = board_doc(notes);
    let snapshot = encode_state(&doc);
    let mut room = Room::load(&stored(snapshot.clone()))
        .unwrap()
        .with_limits(high_limits());
    room.join(1, Access::Edit);
    let mut writer = Writer::new(&snapshot, ids);
    let pending: Vec<Vec<u8>> = (0..PENDING_UPDATES)
        .map(|i| {
            let update = if i % 2 == 0 {
                writer.move_note()
            } else {
                writer.type_char()
            };
            room.receive(1, &frame(update)).unwrap().update.unwrap()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.create(&board_id, &snapshot, None).unwrap();
    let mut next_seq = 0;
    // Each iteration compacts a fresh run of 500 stored updates.
    let mut refill = || {
        store.append(&board_id, next_seq, &pending).unwrap();
        next_seq += PENDING_UPDATES as u64;
        next_seq
    };

    group.bench_function(BenchmarkId::new("snapshot_encode", notes), |b| {
        b.iter(|| room.snapshot())
    });
    let state = room.encode_state();
    group.bench_function(BenchmarkId::new("sled_compact", notes), |b| {
        b.iter_batched(
            &mut refill,
            |upto| store.compact(&board_id, &state, upto).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("snapshot_and_compact", notes), |b| {
        b.iter_batched(
            &mut refill,
            |upto| {
                let snapshot = room.snapshot().expect("the board encodes readably");
                store.compact(&board_id, &snapshot, upto).unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    let notes = 10_000;
    let (doc, ids) = board_doc(notes);
    let snapshot = encode_state(&doc);
    let mut writer = Writer::new(&snapshot, ids);
    let updates: Vec<Vec<u8>> = (0..PENDING_UPDATES)
        .map(|i| {
            if i % 2 == 0 {
                writer.move_note()
            } else {
                writer.type_char()
            }
        })
        .collect();
    let cases = [
        ("snapshot", stored(snapshot.clone())),
        (
            "snapshot_and_500_updates",
            StoredBoard {
                snapshot,
                next_seq: PENDING_UPDATES as u64,
                updates,
            },
        ),
    ];
    for (name, board) in cases {
        group.bench_function(BenchmarkId::new(name, notes), |b| {
            b.iter(|| Room::load(black_box(&board)).unwrap())
        });
    }
    group.finish();
}

fn config() -> Criterion {
    // Short runs: the figures are for comparing paths and sizes, not for publishing.
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = apply_persist, apply, sync_step2, compact, load
}
criterion_main!(benches);
