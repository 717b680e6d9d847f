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
/// The server, or this board, has as many connections as it accepts; try again later.
pub const TOO_MANY_CONNECTIONS: u16 = 4013;
/// The peer sent a change that builds on parts of the board the server does not hold
/// (sent before the peer caught up, say, after it moved to another node). Nothing of what
/// waits on them was kept or acknowledged: reconnecting syncs both ways, which sends it
/// again with what it builds on.
pub const OUT_OF_STEP: u16 = 4009;
/// The peer sent messages faster than the server accepts; its last one was dropped.
pub const RATE_LIMITED: u16 = 4029;
/// A change would have made the board larger than the server stores; it was refused.
/// Final: the page still holds the change and would send it again on reconnect.
pub const BOARD_TOO_LARGE: u16 = 4413;
/// A change would have given the board more notes than the server allows; refused.
pub const TOO_MANY_NOTES: u16 = 4414;
/// A change would have made a note's text, a name on it, its votes or a board field
/// larger than the board allows (the limits an import checks); it was refused.
pub const FIELD_TOO_LONG: u16 = 4415;
/// The board id in the URL is not well-formed.
pub const INVALID_BOARD_ID: u16 = 4400;
/// No board exists with that id.
pub const BOARD_NOT_FOUND: u16 = 4404;
/// The link has no token; board links carry one (`?token=`).
pub const TOKEN_MISSING: u16 = 4401;
/// The link's token is not one of this board's (mistyped, or the links were replaced).
pub const TOKEN_REFUSED: u16 = 4403;
/// A read-only link tried to change the board; the change was refused.
pub const READ_ONLY: u16 = 4405;
/// A change to the facilitator's part of the board (the step, the timer, follow me, or a
/// board setting) from a connection that did not prove the facilitator key; refused.
pub const FACILITATOR_ONLY: u16 = 4406;
/// A presence the server refuses: not a JSON object, over the size limit, or more
/// participants than one connection may announce.
pub const PRESENCE_REFUSED: u16 = 4422;

/// Whether a client should try again after this close code: not in 4400–4499, where
/// reconnecting cannot help (a missing or malformed board, a refused change the page
/// would only send again).
pub fn is_retryable(code: u16) -> bool {
    !(4400..=4499).contains(&code)
}

/// A short human explanation for a close code.
pub fn describe(code: u16) -> &'static str {
    match code {
        GOING_AWAY => "The server is restarting.",
        PROTOCOL_ERROR => "The server could not understand a message from this page.",
        UNSUPPORTED_DATA => "The server only accepts binary messages.",
        SERVER_ERROR => "The server could not save the board.",
        TOO_SLOW => "The connection fell too far behind.",
        TOO_MANY_CONNECTIONS => "Too many people are connected right now.",
        OUT_OF_STEP => "This page was out of step with the board; reconnecting to catch up.",
        RATE_LIMITED => "This page sent changes too fast; reconnecting.",
        BOARD_TOO_LARGE => "This board has reached its size limit; your last change was not saved.",
        TOO_MANY_NOTES => "This board has reached its note limit; your last note was not saved.",
        FIELD_TOO_LONG => "A note or a field would have been longer than a board allows; your last change was not saved.",
        INVALID_BOARD_ID => "This link does not point to a valid board.",
        BOARD_NOT_FOUND => "There is no board at this link.",
        TOKEN_MISSING => "This link is incomplete: ask for the board's full link.",
        TOKEN_REFUSED => "This link is not valid for this board any more: ask for a new one.",
        READ_ONLY => "This is a read-only link; changes are not saved.",
        FACILITATOR_ONLY => "Only the facilitator can change the meeting's step, timer, follow me or the board's settings; that change was not saved.",
        PRESENCE_REFUSED => "The server refused this page's presence (who is here and where).",
        _ => "The connection was lost.",
    }
}
