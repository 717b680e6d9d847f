//! A sequence of frames from three connections into one room, the way `rooms.rs` drives
//! it (reloading the board when an update poisons the room). Besides never panicking:
//! the deltas the room hands out for storage, applied to the board it started from, must
//! load and reach the same state as the room's document (what is persisted is the
//! document), the room's own state must load, and the read-only connection changes
//! nothing. The replay and its checks are `hindsight_server::replay`, which the room's
//! unit tests use for every finding too.
//!
//! Input: repeated `[connection byte][length: u16 LE][frame]`.
#![no_main]

use hindsight_fuzz::quiet_panics;
use hindsight_server::replay;
use libfuzzer_sys::fuzz_target;

/// Connection 2 holds a read-only link: nothing it sends may change the board.
const READ_ONLY: u64 = 2;

fuzz_target!(
    init: quiet_panics(),
    |data: &[u8]| {
        replay::replay(data, Some(READ_ONLY));
    }
);
