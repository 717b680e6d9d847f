//! Limits on what one client can make the server hold or do: the size of a board's
//! document, its number of notes, the size and number of the presences one connection
//! announces, connections per board and in total, and the rate of messages per
//! connection. Going over closes that one connection with a close code from
//! `hindsight_shared::close`; the board is left as it was.
//!
//! This module owns the numbers and the token bucket; the checks live where the thing is
//! counted (`room.rs` for the document, `rooms.rs` for connections per board, `app.rs`
//! for connections in total and new boards, `ws.rs` for the message rate). With several
//! nodes on one database, connections per board and new boards per address are counted
//! by the store for all of them together (`Store::budgets`, `seats.rs`).

use tokio::time::Instant;

/// The limits a server enforces (`Config::limits`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest document a board may grow to, in bytes of its encoded state.
    pub max_document_bytes: usize,
    /// Most notes a board may hold.
    pub max_notes: usize,
    /// Most connections one board accepts at once.
    pub max_connections_per_board: usize,
    /// Most WebSocket connections the server accepts at once.
    pub max_connections: usize,
    /// Messages per second one connection may send, on average.
    pub messages_per_sec: u32,
    /// Messages one connection may send in a burst above that rate.
    pub message_burst: u32,
    /// Largest presence state one participant may announce, in bytes of its JSON.
    pub max_presence_bytes: usize,
    /// Presence messages per second one connection may send (twice that at once).
    pub presence_per_sec: u32,
}

// The documented defaults (`hindsight --help`, README): far above what a postmortem
// meeting needs, low enough that one client cannot fill memory or disk.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;
pub const DEFAULT_MAX_NOTES: usize = 5_000;
pub const DEFAULT_MAX_BOARD_CONNECTIONS: usize = 200;
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
pub const DEFAULT_MESSAGES_PER_SEC: usize = 100;
pub const DEFAULT_MESSAGE_BURST: usize = 1_000;
/// A name, a colour, a cursor and what is being edited take a few hundred bytes.
pub const DEFAULT_MAX_PRESENCE_BYTES: usize = 8 * 1024;
/// Presence messages per second per connection: the page sends at most 20 (a cursor
/// every 50 ms).
pub const DEFAULT_PRESENCE_PER_SEC: usize = 30;
/// Boards one client address may create or import per minute (`--creates-per-minute`),
/// all at once if it likes: a facilitator preparing a week of retrospectives is well
/// inside it, a script filling the disk is not.
pub const DEFAULT_CREATES_PER_MINUTE: u32 = 30;
/// Client addresses whose creation budgets are remembered; past this, the ones back to
/// a full budget are forgotten (they would start full anyway).
const MAX_TRACKED_ADDRESSES: usize = 10_000;
/// Participants one connection may announce: a page announces one. Not a flag: a client
/// needing more is not a client this server serves.
pub const MAX_PRESENCE_CLIENTS: usize = 4;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            max_notes: DEFAULT_MAX_NOTES,
            max_connections_per_board: DEFAULT_MAX_BOARD_CONNECTIONS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            messages_per_sec: DEFAULT_MESSAGES_PER_SEC as u32,
            message_burst: DEFAULT_MESSAGE_BURST as u32,
            max_presence_bytes: DEFAULT_MAX_PRESENCE_BYTES,
            presence_per_sec: DEFAULT_PRESENCE_PER_SEC as u32,
        }
    }
}

/// The limits a `Room` checks before it changes its document.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    pub max_bytes: usize,
    pub max_notes: usize,
    /// Largest presence state of one participant, in bytes of JSON.
    pub max_presence_bytes: usize,
}

impl Default for DocumentLimits {
    fn default() -> DocumentLimits {
        let l = Limits::default();
        DocumentLimits {
            max_bytes: l.max_document_bytes,
            max_notes: l.max_notes,
            max_presence_bytes: l.max_presence_bytes,
        }
    }
}

impl Limits {
    pub fn document(&self) -> DocumentLimits {
        DocumentLimits {
            max_bytes: self.max_document_bytes,
            max_notes: self.max_notes,
            max_presence_bytes: self.max_presence_bytes,
        }
    }
}

/// What one connection may send: messages of every kind at one rate, and presence
/// (cursor moves, mostly) at a rate of its own, so a connection within the overall rate
/// still cannot make the room relay a torrent of presence to everyone.
#[derive(Debug)]
pub struct Rates {
    pub messages: TokenBucket,
    pub presence: TokenBucket,
}

/// The y-protocol's message type for presence (`MSG_AWARENESS`), the first byte of
/// such a frame.
const PRESENCE_MESSAGE: u8 = 1;

impl Rates {
    pub fn new(limits: &Limits) -> Rates {
        Rates {
            messages: TokenBucket::new(limits.messages_per_sec, limits.message_burst),
            presence: TokenBucket::new(
                limits.presence_per_sec,
                limits.presence_per_sec.saturating_mul(2),
            ),
        }
    }

    /// Takes what `frame` costs; `Err` says which rate it is over.
    pub fn admit(&mut self, frame: &[u8]) -> Result<(), &'static str> {
        if !self.messages.take() {
            return Err("too many messages");
        }
        if frame.first() == Some(&PRESENCE_MESSAGE) && !self.presence.take() {
            return Err("too much presence");
        }
        Ok(())
    }
}

/// A token bucket on tokio's clock (so tests can pause time): `burst` tokens, refilled
/// at `rate` per second; each message takes one. Owned by one connection's task.
#[derive(Debug)]
pub struct TokenBucket {
    tokens: f64,
    burst: f64,
    rate: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: u32, burst: u32) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            rate: f64::from(rate),
            last: Instant::now(),
        }
    }

    /// `per_minute` tokens a minute, all of them at once if need be.
    pub fn per_minute(per_minute: u32) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(per_minute),
            burst: f64::from(per_minute),
            rate: f64::from(per_minute) / 60.0,
            last: Instant::now(),
        }
    }

    /// Takes a token if there is one; `false` means the caller is over the rate.
    pub fn take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
    }

    /// Whole seconds until the next token.
    pub fn wait_secs(&self) -> u64 {
        ((1.0 - self.tokens).max(0.0) / self.rate).ceil() as u64
    }

    fn is_full(&mut self) -> bool {
        self.refill();
        self.tokens >= self.burst
    }
}

/// Creation budgets per client address (`--creates-per-minute`).
pub struct CreationLimit {
    per_minute: u32,
    buckets: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, TokenBucket>>,
}

impl CreationLimit {
    pub fn new(per_minute: u32) -> CreationLimit {
        CreationLimit {
            per_minute,
            buckets: Default::default(),
        }
    }

    /// Boards an address may create in a minute.
    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Takes one creation from `address`'s budget, or says in how many seconds there will
    /// be one.
    pub fn take(&self, address: std::net::IpAddr) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED_ADDRESSES {
            buckets.retain(|_, b| !b.is_full());
        }
        let bucket = buckets
            .entry(address)
            .or_insert_with(|| TokenBucket::per_minute(self.per_minute));
        if bucket.take() {
            Ok(())
        } else {
            Err(bucket.wait_secs().max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_allows_its_burst_then_its_rate() {
        let mut bucket = TokenBucket::new(10, 5);
        assert_eq!((0..5).filter(|_| bucket.take()).count(), 5, "the burst");
        assert!(!bucket.take(), "empty");
        tokio::time::advance(Duration::from_millis(100)).await;
        assert!(bucket.take(), "one token per tenth of a second");
        assert!(!bucket.take());
        // Idle time refills only up to the burst.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!((0..50).filter(|_| bucket.take()).count(), 5);
    }
}
