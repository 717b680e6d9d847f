//! Thin helpers over browser APIs: randomness, the clock, localStorage (and base64 for
//! it) and logging.
//!
//! Everything here touches `window`, so it only works in a browser; the pure logic lives
//! in the other modules and never calls into this one from its tests.

use wasm_bindgen::JsValue;

/// Where the display name is remembered between visits.
pub const NAME_KEY: &str = "hindsight.name";

/// Where this browser keeps a board's facilitator key, if it has one.
pub fn facilitator_key(board: &str) -> String {
    format!("hindsight.facilitator.{board}")
}

/// Where this browser keeps its anonymous voter token for a board.
pub fn voter_key(board: &str) -> String {
    format!("hindsight.voter.{board}")
}

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

/// `N` random bytes as `2N` lowercase hex digits, for keys and tokens.
pub fn random_hex<const N: usize>() -> String {
    random_bytes::<N>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Bytes as base64, for binary data in localStorage. `btoa` takes a string whose
/// characters are bytes, which is what each `u8` as a `char` is.
pub fn to_base64(bytes: &[u8]) -> String {
    let binary: String = bytes.iter().map(|&b| char::from(b)).collect();
    web_sys::window()
        .and_then(|w| w.btoa(&binary).ok())
        .unwrap_or_default()
}

/// The bytes of a base64 string from [`to_base64`], or `None` if it is not one.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let binary = web_sys::window()?.atob(text).ok()?;
    binary.chars().map(|c| u8::try_from(c).ok()).collect()
}

/// Whether a keyboard event goes to a text field, whose keys are the field's own.
pub fn typing_in(ev: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|t| {
            matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || t.closest("[contenteditable]").ok().flatten().is_some()
        })
}

/// Takes the focus away from whatever has it (a note's text, say).
pub fn blur_active() {
    use wasm_bindgen::JsCast;
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(active) = active {
        let _ = active.blur();
    }
}

/// Puts `text` on the clipboard. Returns false where there is no clipboard API (pages
/// not served over https or from localhost), so the caller can offer another way.
pub fn copy_to_clipboard(text: &str) -> bool {
    let navigator = web_sys::window().map(|w| w.navigator());
    let Some(navigator) = navigator else {
        return false;
    };
    let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|c| !c.is_undefined());
    if has_clipboard {
        let _ = navigator.clipboard().write_text(text);
    }
    has_clipboard
}

/// Logs to the browser console (to standard error in native unit tests).
pub fn warn(message: &str) {
    #[cfg(target_arch = "wasm32")]
    web_sys::console::warn_1(&JsValue::from_str(message));
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}

/// The right edge (client px) of the facilitator panel while it is open over the canvas.
/// Read when Fit is pressed, never per frame.
pub fn open_panel_right() -> Option<f64> {
    let panel = web_sys::window()?
        .document()?
        .get_element_by_id("facilitator-panel")?;
    if panel.class_list().contains("folded") {
        return None;
    }
    Some(panel.get_bounding_client_rect().right())
}

/// Keeps Tab inside `container` (a modal dialog): from its last focusable element Tab
/// goes to its first, and Shift+Tab from its first to its last.
fn trap_tab(ev: &web_sys::KeyboardEvent, container: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    if ev.key() != "Tab" {
        return;
    }
    let Ok(found) = container.query_selector_all(
        "button:not([disabled]), input:not([disabled]), select, textarea, a[href], [tabindex=\"0\"]",
    ) else {
        return;
    };
    let focusable: Vec<web_sys::HtmlElement> = (0..found.length())
        .filter_map(|i| found.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
        return;
    };
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let at = |el: &web_sys::HtmlElement| active.as_ref() == Some(el.unchecked_ref());
    if ev.shift_key() && at(first) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}

/// [`trap_tab`] within the element whose listener `ev` reached: a dialog's backdrop.
pub fn trap_tab_here(ev: &web_sys::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    if let Some(container) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    {
        trap_tab(ev, &container);
    }
}

/// Focuses the first element found by any of `selectors`, in order; returns whether one
/// took the focus. For putting the focus somewhere sensible when what had it goes away.
pub fn focus_first(selectors: &[&str]) -> bool {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    selectors.iter().any(|css| {
        document
            .query_selector(css)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|e| e.focus().is_ok())
    })
}

/// Put inside a dialog: when the dialog goes, the focus goes back to what had it when the
/// dialog came (the button that opened it), if that is still on the page and the dialog
/// did not send the focus somewhere else on its way out.
#[leptos::component]
pub fn FocusReturn() -> impl leptos::IntoView {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().and_then(|w| w.document());
    let opener = document
        .as_ref()
        .and_then(|d| Some((d.active_element()?, d.body()?)))
        .filter(|(active, body)| active != &**body)
        .and_then(|(active, _)| active.dyn_into::<web_sys::HtmlElement>().ok());
    let opener = send_wrapper::SendWrapper::new(opener);
    leptos::prelude::on_cleanup(move || {
        let Some(opener) = opener.take() else {
            return;
        };
        leptos::prelude::request_animation_frame(move || {
            let document = web_sys::window().and_then(|w| w.document());
            let lost = document
                .and_then(|d| Some((d.active_element(), d.body()?)))
                .is_some_and(|(active, body)| active.is_none_or(|a| a == *body));
            if lost && opener.is_connected() {
                let _ = opener.focus();
            }
        });
    });
}

/// What the API answers when it refuses: `{"error": "…"}`.
#[derive(serde::Deserialize)]
struct ApiFailure {
    error: String,
}

/// Calls the server's API: `method` on `path` with `headers` and `body`; the answer's
/// text, or what to tell the person (the server's own `error` when it refused).
pub async fn call_api(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<String, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let sent = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
    for (name, value) in headers {
        let _ = sent.set(name, value);
    }
    init.set_headers(&sent);
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| "The server could not be reached.".to_string())?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?
        .as_string()
        .unwrap_or_default();
    if !response.ok() {
        return Err(serde_json::from_str::<ApiFailure>(&text)
            .map(|f| f.error)
            .unwrap_or_else(|_| format!("The server said {}.", response.status())));
    }
    Ok(text)
}
