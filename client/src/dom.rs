//! Thin helpers over browser APIs: randomness, the clock, localStorage and logging.
//!
//! Everything here touches `window`, so it only works in a browser; the pure logic lives
//! in the other modules and never calls into this one from its tests.

use wasm_bindgen::JsValue;

/// Where the display name is remembered between visits.
pub const NAME_KEY: &str = "hindsight.name";

/// Random bytes from the browser's CSPRNG. yrs' own generator is not used because it has
/// no good entropy source on `wasm32-unknown-unknown`.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .expect("the page runs in a browser with Web Crypto");
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .expect("getRandomValues accepts small buffers");
    bytes
}

/// A fresh document client id. Yjs ids are 53-bit at most; 32 bits keeps us well inside
/// JavaScript's safe integers for every peer.
pub fn random_client_id() -> u64 {
    u64::from(u32::from_le_bytes(random_bytes::<4>()))
}

/// A uniform number in [0, 1), for backoff jitter.
pub fn random_unit() -> f64 {
    js_sys::Math::random()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    // Storage can be missing or throw (private modes, blocked cookies); the page then
    // simply forgets the name between visits.
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

pub fn save(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
