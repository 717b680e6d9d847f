//! One frame from the network into a fresh room: decoding must never panic or abort,
//! whatever the bytes (a panic inside yrs' decoders is caught by the room's guard and
//! becomes an error; anything else aborts and is a finding).
#![no_main]

use hindsight_fuzz::quiet_panics;
use hindsight_server::replay::fresh_board;
use hindsight_server::room::Room;
use hindsight_shared::Access;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: quiet_panics(),
    |frame: &[u8]| {
        let mut room = Room::load(&fresh_board()).expect("the seed board loads");
        room.join(1, Access::Edit);
        let _ = room.receive(1, frame);
    }
);
