//! Export and import through the public API: the Markdown document against golden
//! files, and the JSON backup round trip.
//!
//! Set `UPDATE_GOLDEN=1` to rewrite the golden files after an intended change, then read
//! the diff.

use std::path::Path;

use hindsight_shared::export::{export, import, to_markdown, BoardExport, ImportError};
use hindsight_shared::schema::new_doc;
use hindsight_shared::timeline::EntryKind;
use hindsight_shared::timestamp::{Date, Timestamp};
use hindsight_shared::{Board, NewNote, NoteId, Rect, Role, Template};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, TransactionMut};

fn rect_of(key: &str) -> Rect {
    Template::postmortem()
        .region(key)
        .expect("a postmortem region")
        .rect
}

fn id(s: &str) -> NoteId {
    s.parse().unwrap()
}

/// Adds a note in `region`, `slot` places from its corner.
fn note(
    board: &Board,
    txn: &mut TransactionMut,
    name: &str,
    region: &str,
    slot: usize,
    text: &str,
    author: Option<&str>,
) {
    let r = rect_of(region);
    board.add_note(
        txn,
        &id(name),
        NewNote::at(
            r.x + 20.0 + 220.0 * (slot % 4) as f64,
            r.y + 90.0 + 160.0 * (slot / 4) as f64,
            text,
        )
        .created_at(1_795_180_000_000.0 + slot as f64)
        .author(author.map(Into::into)),
    );
}

/// A finished postmortem: facts, summary, timeline, ideas with votes, actions.
fn finished_board() -> (Doc, Board) {
    let doc = new_doc(Some(7));
    let board = Board::new(&doc);
    {
        let mut txn = doc.transact_mut();
        let t = &mut txn;
        board.init(t, "Checkout outage | 20 Nov", 1_795_180_000_000.0);
        board.set_incident_date(t, Some(Date::parse("2026-11-20").unwrap()));
        board.set_severity(t, "SEV2");
        board.set_impact(t, "About 3% of orders failed for 72 minutes.");
        board.set_utc_offset(t, 60);
        board.set_vote_budget(t, 3);
        note(
            &board,
            t,
            "sum",
            "summary",
            0,
            "A config push broke payment retries.\nOrders failed until rollback.",
            Some("Ada"),
        );
        let ctx = board.time_context(t);
        for (i, (name, time, kind, text)) in [
            (
                "t_fix",
                Some("15:15"),
                Some(EntryKind::Resolved),
                "Rollback complete, errors back to baseline",
            ),
            ("t_push", Some("14:03:22"), None, "Config push to payments"),
            (
                "t_report",
                Some("14:20"),
                Some(EntryKind::Reported),
                "Support: customers cannot pay",
            ),
            (
                "t_detect",
                Some("14:31"),
                Some(EntryKind::Detected),
                "On-call confirms error spike",
            ),
            (
                "t_status",
                None,
                Some(EntryKind::Communication),
                "Status page updated (time unknown)",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            note(&board, t, name, "timeline", i, text, None);
            board.set_note_time(
                t,
                &id(name),
                time.map(|s| Timestamp::parse(s, ctx).unwrap()),
            );
            board.set_note_kind(t, &id(name), kind);
        }
        note(
            &board,
            t,
            "d1",
            "detect",
            0,
            "Alert on payment error rate",
            Some("Bo"),
        );
        note(
            &board,
            t,
            "d2",
            "detect",
            1,
            "Synthetic checkout every minute",
            None,
        );
        note(
            &board,
            t,
            "r1",
            "react",
            0,
            "Keep the paging rota current",
            Some("Cy"),
        );
        note(
            &board,
            t,
            "q1",
            "quick-fix",
            0,
            "One-click config rollback",
            Some("Ada"),
        );
        note(
            &board,
            t,
            "p1",
            "prevent",
            0,
            "Canary config changes",
            Some("Bo"),
        );
        for (voter, on) in [
            ("v1", "d2"),
            ("v1", "d2"),
            ("v2", "d2"),
            ("v2", "d1"),
            ("v3", "p1"),
        ] {
            board.vote(t, &id(on), voter).unwrap();
        }
        let actions = rect_of("actions");
        let home = (
            rect_of("prevent").x + 20.0,
            rect_of("prevent").y + 90.0,
            None,
        );
        board.promote_to_action(
            t,
            &id("p1"),
            &id("a1"),
            (actions.x + 20.0, actions.y + 90.0),
            home,
            1_795_190_000_000.0,
            Some("Fac".into()),
        );
        board.set_owner(t, &id("a1"), "Bo");
        board.set_due(t, &id("a1"), Some(Date::parse("2026-12-04").unwrap()));
        board.vote(t, &id("a1"), "v3").unwrap();
        note(
            &board,
            t,
            "a2",
            "actions",
            2,
            "Page on error rate > 1%",
            None,
        );
    }
    (doc, board)
}

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        actual, expected,
        "{name} differs from its golden file; UPDATE_GOLDEN=1 rewrites it"
    );
}

#[test]
fn markdown_of_a_finished_postmortem() {
    let (doc, board) = finished_board();
    check_golden("finished.md", &to_markdown(&board, &doc.transact()));
}

#[test]
fn markdown_of_an_empty_board() {
    let doc = new_doc(Some(1));
    let board = Board::new(&doc);
    board.init(&mut doc.transact_mut(), "Untitled postmortem", 0.0);
    check_golden("empty.md", &to_markdown(&board, &doc.transact()));
}

#[test]
fn json_backup_round_trips() {
    let (doc, board) = finished_board();
    let first = export(&board, &doc.transact());
    let json = serde_json::to_string_pretty(&first).unwrap();

    let restored = new_doc(Some(8));
    let restored_board = Board::new(&restored);
    let parsed: BoardExport = serde_json::from_str(&json).unwrap();
    import(&restored_board, &mut restored.transact_mut(), &parsed).unwrap();
    let second = export(&restored_board, &restored.transact());
    assert_eq!(second, first);
    assert_eq!(serde_json::to_string_pretty(&second).unwrap(), json);
    assert_eq!(
        to_markdown(&restored_board, &restored.transact()),
        to_markdown(&board, &doc.transact())
    );
}

fn check_refused(mutate: impl FnOnce(&mut BoardExport), expected: impl Fn(&ImportError) -> bool) {
    let (doc, board) = finished_board();
    let mut data = export(&board, &doc.transact());
    mutate(&mut data);
    let target = new_doc(Some(9));
    let target_board = Board::new(&target);
    let err = import(&target_board, &mut target.transact_mut(), &data).unwrap_err();
    assert!(expected(&err), "unexpected error: {err}");
    assert_eq!(
        target_board.note_count(&target.transact()),
        0,
        "nothing half-imported"
    );
}

#[test]
fn bad_backups_are_refused_whole() {
    check_refused(
        |d| d.format = "trello".into(),
        |e| matches!(e, ImportError::Format(..)),
    );
    check_refused(|d| d.version = 99, |e| matches!(e, ImportError::Format(..)));
    check_refused(
        |d| d.notes[3].id = "../etc".into(),
        |e| matches!(e, ImportError::Note { index: 3, .. }),
    );
    check_refused(
        |d| d.notes[0].color = "mauve".into(),
        |e| e.to_string().contains("colour"),
    );
    check_refused(
        |d| d.notes[1].region = Some("lobby".into()),
        |e| e.to_string().contains("region"),
    );
    check_refused(
        |d| d.notes[1].x = f64::NAN,
        |e| e.to_string().contains("numbers"),
    );
    check_refused(
        |d| d.notes[2].due = Some("2026-02-30".into()),
        |e| e.to_string().contains("due"),
    );
    check_refused(
        |d| d.notes[2].text = "x".repeat(5000),
        |e| e.to_string().contains("longer"),
    );
    check_refused(
        |d| d.notes[0].author = Some("a".repeat(201)),
        |e| e.to_string().contains("author is longer than 200"),
    );
    check_refused(
        |d| d.notes[1].owner = Some("o".repeat(201)),
        |e| e.to_string().contains("owner is longer than 200"),
    );
    check_refused(
        |d| d.notes[1].votes = (0..1001).map(|i| (format!("voter{i}"), 1)).collect(),
        |e| e.to_string().contains("more than 1000 people"),
    );
    check_refused(
        |d| d.incident_date = Some("yesterday".into()),
        |e| matches!(e, ImportError::Board(_)),
    );
    check_refused(
        |d| d.step = Some(12),
        |e| matches!(e, ImportError::Board(_)),
    );
    let bad_json = r#"{"format":"hindsight-board","version":1,"title":"x","createdAt":0,"voteBudget":5,"notes":[],"extra":1}"#;
    assert!(
        serde_json::from_str::<BoardExport>(bad_json).is_err(),
        "unknown fields are refused"
    );
}

/// A board stored by the version before boards carried their layout (the finished board
/// above, encoded as its whole update): it still reads as the postmortem it was, to the
/// byte of its Markdown.
#[test]
fn a_board_stored_before_layouts_reads_as_the_postmortem() {
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/legacy-board.bin"))
            .unwrap();
    let doc = new_doc(Some(3));
    let board = Board::new(&doc);
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(&bytes).unwrap())
        .unwrap();
    let txn = doc.transact();
    assert_eq!(board.template(&txn).regions, Template::postmortem().regions);
    check_golden("finished.md", &to_markdown(&board, &txn));
    let backup = export(&board, &txn);
    assert_eq!(backup.template.as_ref().unwrap().key, "postmortem");
}

/// The same board made today, carrying its postmortem layout, exports the same document.
#[test]
fn a_postmortem_carrying_its_layout_exports_the_same_markdown() {
    let (old, old_board) = finished_board();
    let doc = new_doc(Some(4));
    let board = Board::new(&doc);
    board.write_template(&mut doc.transact_mut(), Template::postmortem());
    doc.transact_mut()
        .apply_update(
            yrs::Update::decode_v1(
                &old.transact()
                    .encode_state_as_update_v1(&yrs::StateVector::default()),
            )
            .unwrap(),
        )
        .unwrap();
    assert_eq!(
        to_markdown(&board, &doc.transact()),
        to_markdown(&old_board, &old.transact())
    );
}

/// Every built-in board exports one section per region, in the board's order, and its
/// notes land in their region's section.
#[test]
fn each_template_exports_one_section_per_region_in_order() {
    for template in hindsight_shared::template::builtins() {
        let doc = new_doc(Some(5));
        let board = Board::new(&doc);
        {
            let mut txn = doc.transact_mut();
            board.create(&mut txn, "Review", 1.0, template);
            for (i, r) in template.regions.iter().enumerate() {
                let text = format!("note in {}", r.key);
                board.add_note(
                    &mut txn,
                    &id(&format!("n{i}")),
                    NewNote::at(r.rect.x + 20.0, r.rect.y + 100.0, text),
                );
            }
        }
        let md = to_markdown(&board, &doc.transact());
        let headings: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
        let expected: Vec<&str> = template
            .regions
            .iter()
            .map(|r| match r.role {
                Some(Role::Timeline) => "Timeline",
                Some(Role::Actions) => "Actions",
                _ => r.title.as_str(),
            })
            .collect();
        assert_eq!(headings, expected, "{}", template.key);
        for (i, r) in template.regions.iter().enumerate() {
            let section = md
                .split("\n## ")
                .nth(i + 1)
                .unwrap_or_else(|| panic!("{}: no section {i}", template.key));
            assert!(
                section.contains(&format!("note in {}", r.key)),
                "{}: {} is missing from its section:\n{section}",
                template.key,
                r.key
            );
        }
        // Incident facts appear only where the template shows them.
        assert!(!md.contains("| Fact |"), "{}", template.key);
    }
}

#[test]
fn a_backup_keeps_the_layout_it_was_made_with() {
    let template = Template::builtin("kanban").unwrap();
    let doc = new_doc(Some(6));
    let board = Board::new(&doc);
    {
        let mut txn = doc.transact_mut();
        board.create(&mut txn, "Sprint 12", 1.0, template);
        let r = &template.regions[2].rect;
        board.add_note(
            &mut txn,
            &id("card"),
            NewNote::at(r.x + 20.0, r.y + 100.0, "Ship it"),
        );
        board.set_wip_limit(&mut txn, &template.regions[2].key, Some(4));
    }
    let backup = export(&board, &doc.transact());
    let json = serde_json::to_string(&backup).unwrap();
    let restored = new_doc(Some(7));
    let restored_board = Board::new(&restored);
    import(
        &restored_board,
        &mut restored.transact_mut(),
        &serde_json::from_str(&json).unwrap(),
    )
    .unwrap();
    let txn = restored.transact();
    let layout = restored_board.template(&txn);
    assert_eq!(layout.key, "kanban");
    assert_eq!(layout.regions[2].wip_limit, Some(4));
    assert_eq!(layout.regions.len(), template.regions.len());
    assert_eq!(
        restored_board
            .note(&txn, &id("card"))
            .unwrap()
            .region
            .as_deref(),
        Some(template.regions[2].key.as_str())
    );
    assert_eq!(restored_board.vote_budget(&txn), 0);
}

#[test]
fn a_backup_with_a_broken_template_is_refused_naming_the_field() {
    check_refused(
        |d| {
            let t = d.template.as_mut().unwrap();
            t.regions[1].rect = t.regions[0].rect;
        },
        |e| e.to_string() == "template: regions[1].rect: overlaps regions[0]",
    );
}

#[test]
fn restoring_an_earlier_version_brings_back_its_notes_and_facts_and_nothing_else() {
    let (doc, board) = finished_board();
    let before = export(&board, &doc.transact());
    assert!(before.notes.len() >= 3, "a board worth restoring");
    let kept = id(&before.notes[0].id);
    let changed = id(&before.notes[1].id);
    // Afterwards: one note deleted, one rewritten, one added, the title and a fact
    // changed, and the meeting moved on.
    {
        let mut txn = doc.transact_mut();
        board.delete_note(&mut txn, &kept);
        board.edit_text(&mut txn, &changed, "rewritten");
        board.add_note(
            &mut txn,
            &id("later"),
            NewNote::at(40.0, 40.0, "added later"),
        );
        board.set_title(&mut txn, "Renamed");
        board.set_severity(&mut txn, "SEV3");
        board.set_step(&mut txn, Some(2));
    }
    let restored = {
        let mut txn = doc.transact_mut();
        hindsight_shared::export::restore(&board, &mut txn, &before).expect("restores")
    };
    assert_eq!(restored.removed, 1, "the note added since");
    assert_eq!(
        restored.written, 2,
        "the deleted note and the rewritten one"
    );
    let after = export(&board, &doc.transact());
    assert_eq!(after.notes, before.notes);
    assert_eq!(
        (
            &after.title,
            &after.severity,
            &after.impact,
            after.incident_date.as_deref()
        ),
        (
            &before.title,
            &before.severity,
            &before.impact,
            before.incident_date.as_deref()
        )
    );
    assert_eq!(
        after.step,
        Some(2),
        "the meeting's state is the facilitator's"
    );

    // Restoring what is already there changes nothing.
    let mut txn = doc.transact_mut();
    let again = hindsight_shared::export::restore(&board, &mut txn, &before).unwrap();
    assert_eq!(again, Default::default());
    assert!(txn.delete_set().is_empty() && txn.insert_set().is_empty());
}
