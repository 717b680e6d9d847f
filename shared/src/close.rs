//! WebSocket close codes the server uses, with the reason text the page shows.
//!
//! Codes in 4000–4999 are application-defined (RFC 6455 §7.4.2); the others are the
//! standard ones. Stock `y-websocket` clients (3.x) stop reconnecting on 4400–4499, as
//! our own page does, since retrying cannot fix a missing or malformed board.

/// The server is shutting down or restarting; reconnecting later will work.
pub const GOING_AWAY: u16 = 1001;
/// The peer sent bytes that are not a valid Yjs sync or awareness message.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The peer sent a text frame; the protocol is binary only.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// The server could not store the board; nothing unsaved was acknowledged.
pub const SERVER_ERROR: u16 = 1011;
/// The peer did not read its messages fast enough and fell too far behind.
pub const TOO_SLOW: u16 = 4008;
/// The board id in the URL is not well-formed.
pub const INVALID_BOARD_ID: u16 = 4400;
/// No board exists with that id.
pub const BOARD_NOT_FOUND: u16 = 4404;

/// Whether a client should try again after this close code. Reconnecting cannot fix a
/// missing or malformed board.
pub fn is_retryable(code: u16) -> bool {
    !matches!(code, INVALID_BOARD_ID | BOARD_NOT_FOUND)
}

/// A short human explanation for a close code.
pub fn describe(code: u16) -> &'static str {
    match code {
        GOING_AWAY => "The server is restarting.",
        PROTOCOL_ERROR => "The server could not understand a message from this page.",
        UNSUPPORTED_DATA => "The server only accepts binary messages.",
        SERVER_ERROR => "The server could not save the board.",
        TOO_SLOW => "The connection fell too far behind.",
        INVALID_BOARD_ID => "This link does not point to a valid board.",
        BOARD_NOT_FOUND => "There is no board at this link.",
        _ => "The connection was lost.",
    }
}
