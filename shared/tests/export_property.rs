//! Every board the server holds exports to a backup that imports to the same board: a
//! property over random documents shaped like boards, written field by field as any Yjs
//! client could write them (right and wrong types, unknown regions and colours, dangling
//! links, odd dates, every kind of text), kept to those the server accepts (the same
//! checks it runs on every live change: `check_stored_note`, `check_stored_meta`).
//! export → JSON → import → export gives the same backup, byte for byte.

use hindsight_shared::export::{check_stored_meta, check_stored_note, export, import, BoardExport};
use hindsight_shared::schema::{new_doc, FACILITATION, META, NOTES};
use hindsight_shared::{Board, NoteId};
use proptest::prelude::*;
use yrs::{Any, Map, MapPrelim, ReadTxn, TextPrelim, Transact, WriteTxn};

/// A field value as a client might write it: a number, a string, a boolean, or nothing.
#[derive(Clone, Debug)]
enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    Absent,
}

impl Value {
    fn any(&self) -> Option<Any> {
        match self {
            Value::Number(n) => Some(Any::from(*n)),
            Value::Text(s) => Some(Any::from(s.as_str())),
            Value::Bool(b) => Some(Any::from(*b)),
            Value::Absent => None,
        }
    }
}

fn number(range: std::ops::Range<f64>) -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => range.prop_map(Value::Number),
        1 => Just(Value::Absent),
        1 => "[a-z]{0,4}".prop_map(Value::Text),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
}

fn one_of(known: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => proptest::sample::select(known).prop_map(|s| Value::Text(s.to_owned())),
        1 => "[A-Za-z-]{0,8}".prop_map(Value::Text),
        1 => Just(Value::Absent),
        1 => (-5.0..5.0f64).prop_map(Value::Number),
    ]
}

/// Text of every kind: ASCII, accents, emoji, CJK, right-to-left, newlines, tabs.
fn text(most: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[ -~]",
            Just("é".to_owned()),
            Just("🔥".to_owned()),
            Just("👩🏽‍💻".to_owned()),
            Just("漢".to_owned()),
            Just("ש".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just("\u{200b}".to_owned()),
        ],
        0..most,
    )
    .prop_map(|parts| parts.concat())
}

fn name() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => text(40).prop_map(Value::Text),
        1 => Just(Value::Absent),
        1 => (0.0..9.0f64).prop_map(Value::Number),
    ]
}

#[derive(Clone, Debug)]
struct RawNote {
    key: String,
    text: String,
    fields: Vec<(&'static str, Value)>,
    votes: Vec<(String, f64)>,
    /// Links to other notes by index (resolved to their keys), or to nowhere.
    source: Option<usize>,
    action: Option<usize>,
}

const REGIONS: &[&str] = &[
    "summary", "timeline", "detect", "react", "quickfix", "prevent", "risks", "actions",
];
const COLORS: &[&str] = &[
    "yellow", "pink", "blue", "green", "orange", "purple", "gray",
];
const KINDS: &[&str] = &[
    "reported",
    "detected",
    "action",
    "communication",
    "resolved",
    "other",
];
const PRECISIONS: &[&str] = &["minute", "second", "day"];
const DATES: &[&str] = &["2026-12-15", "2026-02-30", "2026-1-1", "tomorrow"];

fn note() -> impl Strategy<Value = RawNote> {
    let key = prop_oneof![
        9 => "[0-9a-f]{16}",
        1 => "[a-z]{1,6}",
    ];
    let fields = (
        (number(-5_000.0..5_000.0), number(-5_000.0..5_000.0)),
        (number(0.0..1_000.0), number(0.0..1_000.0)),
        one_of(COLORS),
        one_of(REGIONS),
        number(0.0..2e12),
        name(),
        (number(0.0..2e12), one_of(PRECISIONS), one_of(KINDS)),
        (name(), one_of(DATES)),
    );
    let votes = proptest::collection::vec(("[a-z0-9]{1,20}", 1.0..=5.0f64), 0..4);
    (
        key,
        text(60),
        fields,
        votes,
        any::<Option<usize>>(),
        any::<Option<usize>>(),
    )
        .prop_map(|(key, text, f, votes, source, action)| {
            let (
                (x, y),
                (w, h),
                color,
                region,
                created,
                author,
                (time, precision, kind),
                (owner, due),
            ) = f;
            RawNote {
                key,
                text,
                fields: vec![
                    ("x", x),
                    ("y", y),
                    ("w", w),
                    ("h", h),
                    ("color", color),
                    ("region", region),
                    ("createdAt", created),
                    ("author", author),
                    ("time", time),
                    ("timePrecision", precision),
                    ("kind", kind),
                    ("owner", owner),
                    ("due", due),
                ],
                votes: votes.into_iter().map(|(v, n)| (v, n.floor())).collect(),
                source,
                action,
            }
        })
}

#[derive(Clone, Debug)]
struct RawMeta {
    title: String,
    fields: Vec<(&'static str, Value)>,
    step: Value,
}

fn meta() -> impl Strategy<Value = RawMeta> {
    (
        text(50),
        (
            one_of(&["SEV1", "SEV2", "SEV3", "SEV4"]),
            prop_oneof![text(80).prop_map(Value::Text), Just(Value::Absent)],
            one_of(DATES),
            number(-900.0..900.0),
            any::<bool>().prop_map(Value::Bool),
            number(0.0..60.0),
        ),
        number(0.0..12.0),
    )
        .prop_map(
            |(title, (severity, impact, date, offset, anonymous, budget), step)| RawMeta {
                title,
                fields: vec![
                    ("severity", severity),
                    ("impact", impact),
                    ("incidentDate", date),
                    ("utcOffset", offset),
                    ("anonymous", anonymous),
                    ("voteBudget", budget),
                ],
                step,
            },
        )
}

/// A board as `notes` and `meta` write it, over a board made the usual way.
fn write(meta: &RawMeta, notes: &[RawNote]) -> (yrs::Doc, Board) {
    let doc = new_doc(Some(11));
    let board = Board::new(&doc);
    let mut txn = doc.transact_mut();
    board.init(&mut txn, "", 1_795_180_000_000.0);
    let meta_map = txn.get_or_insert_map(META);
    meta_map.insert(&mut txn, "title", meta.title.as_str());
    for (key, value) in &meta.fields {
        match value.any() {
            Some(v) => {
                meta_map.insert(&mut txn, *key, v);
            }
            None => {
                meta_map.remove(&mut txn, key);
            }
        }
    }
    let facilitation = txn.get_or_insert_map(FACILITATION);
    if let Some(step) = meta.step.any() {
        facilitation.insert(&mut txn, "step", step);
    }
    let root = txn.get_or_insert_map(NOTES);
    let keys: Vec<&str> = notes.iter().map(|n| n.key.as_str()).collect();
    for n in notes {
        let map = root.insert(&mut txn, n.key.as_str(), MapPrelim::default());
        map.insert(&mut txn, "text", TextPrelim::new(n.text.as_str()));
        for (key, value) in &n.fields {
            if let Some(v) = value.any() {
                map.insert(&mut txn, *key, v);
            }
        }
        for (field, link) in [("sourceId", n.source), ("actionId", n.action)] {
            if let Some(i) = link {
                let target = keys
                    .get(i % (keys.len() + 1))
                    .copied()
                    .unwrap_or("0000000000000000");
                map.insert(&mut txn, field, target);
            }
        }
        if !n.votes.is_empty() {
            let votes = map.insert(&mut txn, "votes", MapPrelim::default());
            for (voter, count) in &n.votes {
                votes.insert(&mut txn, voter.as_str(), *count);
            }
        }
    }
    drop(txn);
    (doc, board)
}

/// Whether the server would hold this board: every note and the board's fields within
/// the limits it checks on every change.
fn accepted(doc: &yrs::Doc, board: &Board) -> bool {
    let txn = doc.transact();
    let notes: Vec<NoteId> = board.notes(&txn).into_iter().map(|n| n.id).collect();
    notes
        .iter()
        .all(|id| check_stored_note(board, &txn, id, &board.template(&txn)).is_ok())
        && check_stored_meta(board, &txn).is_ok()
}

fn backup(doc: &yrs::Doc, board: &Board) -> String {
    serde_json::to_string_pretty(&export(board, &doc.transact())).expect("a backup serialises")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_board_the_server_holds_exports_to_a_backup_that_imports_to_itself(
        meta in meta(),
        notes in proptest::collection::vec(note(), 0..24),
    ) {
        let (doc, board) = write(&meta, &notes);
        prop_assume!(accepted(&doc, &board));
        let first = backup(&doc, &board);
        let parsed: BoardExport = serde_json::from_str(&first).expect("the backup parses");
        let restored = new_doc(Some(12));
        let restored_board = Board::new(&restored);
        let imported = import(&restored_board, &mut restored.transact_mut(), &parsed);
        prop_assert!(imported.is_ok(), "the backup does not import: {:?}\n{first}", imported.err());
        let second = backup(&restored, &restored_board);
        prop_assert_eq!(&second, &first);
        // And the imported board is one the server holds.
        prop_assert!(accepted(&restored, &restored_board));
        let _ = restored.transact().state_vector();
    }
}

/// The property is only as good as the boards it sees: most generated boards must be
/// ones the server holds, with notes on them.
#[test]
fn most_generated_boards_are_held_and_have_notes() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (meta(), proptest::collection::vec(note(), 0..24));
    let (mut held, mut with_notes) = (0, 0);
    for _ in 0..200 {
        let (meta, notes) = strategy.new_tree(&mut runner).unwrap().current();
        let (doc, board) = write(&meta, &notes);
        if accepted(&doc, &board) {
            held += 1;
            with_notes += usize::from(board.note_count(&doc.transact()) > 0);
        }
    }
    assert!(
        held >= 100 && with_notes >= 80,
        "{held} held, {with_notes} with notes"
    );
}
