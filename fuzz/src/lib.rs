//! What the fuzz targets share: the board they start from, and a panic hook that keeps
//! panics the room catches (inside yrs' decoders) from being reported as crashes.

use hindsight_server::store::StoredBoard;
use hindsight_shared::schema::new_doc;
use hindsight_shared::Board;
use yrs::{ReadTxn, StateVector, Transact};

/// A freshly created board, as the store would hand it to a room.
pub fn board() -> StoredBoard {
    let doc = new_doc(Some(1));
    Board::new(&doc).init(&mut doc.transact_mut(), "Fuzzing", 1.0);
    let snapshot = doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    StoredBoard {
        snapshot,
        ..Default::default()
    }
}

/// libFuzzer's hook aborts on any panic, even one the room catches and turns into an
/// error (its guard around yrs' decoders). A silent hook lets those through; a panic the
/// room does not catch still unwinds into libFuzzer and aborts, which is a finding.
/// `FUZZ_PANICS=1` prints every panic, caught or not, to see what a finding was.
pub fn quiet_panics() {
    let verbose = std::env::var_os("FUZZ_PANICS").is_some();
    std::panic::set_hook(Box::new(move |info| {
        if verbose {
            eprintln!("panic: {info}");
        }
    }));
}
