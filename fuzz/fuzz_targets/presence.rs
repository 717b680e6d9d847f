//! Presence from three connections into one room: each participant stays with the
//! connection that announced it, every state relayed or kept is a JSON object within the
//! size limit, no connection holds more than the room allows, and a joiner is given only
//! such states. The replay and its checks are `hindsight_server::replay::replay_presence`.
#![no_main]

use hindsight_fuzz::quiet_panics;
use hindsight_server::replay;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: quiet_panics(),
    |data: &[u8]| {
        replay::replay_presence(data);
    }
);
