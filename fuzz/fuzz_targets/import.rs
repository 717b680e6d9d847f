//! Backups and template files as anyone could write them: whatever the bytes, reading
//! them never panics, an import either refuses the whole file or writes a board that
//! exports to a backup importing to the same board again, and a template is either
//! refused with its reason or makes a board.
#![no_main]

use hindsight_shared::export::{export, import, BoardExport};
use hindsight_shared::schema::new_doc;
use hindsight_shared::{Board, Template};
use libfuzzer_sys::fuzz_target;
use yrs::Transact;

fuzz_target!(|data: &[u8]| {
    if let Ok(backup) = serde_json::from_slice::<BoardExport>(data) {
        let doc = new_doc(Some(1));
        let board = Board::new(&doc);
        if import(&board, &mut doc.transact_mut(), &backup).is_ok() {
            let first = export(&board, &doc.transact());
            let json = serde_json::to_string(&first).expect("an export serialises");
            let again: BoardExport = serde_json::from_str(&json).expect("an export parses");
            let copy = new_doc(Some(2));
            let copy_board = Board::new(&copy);
            import(&copy_board, &mut copy.transact_mut(), &again)
                .expect("an export of an imported board imports");
            assert_eq!(export(&copy_board, &copy.transact()), first);
        }
    }
    if let Ok(template) = Template::parse(data) {
        let doc = new_doc(Some(3));
        let board = Board::new(&doc);
        board.create(&mut doc.transact_mut(), "", 1.0, &template);
        assert_eq!(board.template(&doc.transact()), template);
    }
});
