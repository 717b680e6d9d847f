//! Server configuration: command-line flags, each with a `HINDSIGHT_*` environment
//! fallback and a default shown by `hindsight --help`. Every value is checked while
//! parsing, so a bad one stops the binary with clap's message before anything is opened
//! or bound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::Uri;
use clap::Parser;

use crate::history::{self, HistoryConfig};
use crate::limits::{self, Limits};
use crate::logging::LogFormat;
use crate::rooms::{self, RoomConfig};
use crate::store::{DatabaseUrl, Location};

/// Largest WebSocket message accepted (`--max-message-bytes`).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Largest `POST /api/boards/import` body (`--max-import-bytes`).
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;
/// A browser sends a request's headers in one go; ten seconds is generous on any network.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "hindsight",
    version,
    about = "Real-time whiteboard for blameless postmortems"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HINDSIGHT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the embedded database; created if missing.
    #[arg(
        long,
        env = "HINDSIGHT_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Keep the boards in this PostgreSQL database instead of the data directory, e.g.
    /// postgres://hindsight:PASSWORD@db.internal:5432/hindsight; its schema is created or
    /// migrated at start [default: none, the embedded database in --data-dir]
    #[arg(long, env = "HINDSIGHT_DATABASE", value_name = "URL",
          value_parser = DatabaseUrl::parse, global = true)]
    pub database: Option<DatabaseUrl>,

    /// Serve the web client from this directory (Trunk's `dist`), for development
    /// [default: the client built into this binary]
    #[arg(long, env = "HINDSIGHT_ASSETS", value_name = "DIR")]
    pub assets: Option<PathBuf>,

    /// The URL people use to reach this server, e.g. https://hindsight.example.com: the
    /// base of the share links the API answers, and an allowed WebSocket origin
    /// [default: none; the API's links are then relative, never taken from a request's
    /// Host header]
    #[arg(long, env = "HINDSIGHT_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Comma-separated origins (scheme://host[:port]) whose pages may open board
    /// WebSockets, besides the public URL's. When neither this nor --public-url is set,
    /// any origin may connect.
    #[arg(long, env = "HINDSIGHT_ALLOWED_ORIGINS", value_delimiter = ',',
          value_parser = parse_origin, value_name = "ORIGINS")]
    pub allowed_origins: Vec<String>,

    /// Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies whose
    /// `X-Forwarded-For` tells the client's address, for the limits per address;
    /// requests from anyone else count as their own address [default: none]
    #[arg(long, env = "HINDSIGHT_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::proxies::parse, value_name = "NETWORKS")]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Log output: `human` for people, `json` (one object per line) for log shippers.
    #[arg(long, env = "HINDSIGHT_LOG_FORMAT", value_enum,
          default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,

    /// Seconds a board stays loaded after its last participant leaves.
    #[arg(long, env = "HINDSIGHT_ROOM_IDLE_SECS", default_value_t = rooms::DEFAULT_IDLE_SECS,
          value_parser = clap::value_parser!(u64).range(..=86_400))]
    pub room_idle_secs: u64,

    /// Updates stored per board before they are folded into a snapshot (at least)…
    #[arg(long, env = "HINDSIGHT_COMPACT_EVERY", default_value_t = rooms::DEFAULT_COMPACT_EVERY,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub compact_every: u64,

    /// …and once they add up to this percentage of the last snapshot's size: a large
    /// board is not rewritten for a few small edits. 0 compacts by count alone.
    #[arg(long, env = "HINDSIGHT_COMPACT_GROWTH_PERCENT",
          default_value_t = rooms::DEFAULT_COMPACT_GROWTH_PERCENT,
          value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub compact_growth_percent: u32,

    /// A file holding the admin token (at least 16 characters): it opens the admin API
    /// (`/api/admin/boards`, `/api/admin/backup`) to requests that send it as
    /// `Authorization: Bearer <token>` [default: no admin API]
    #[arg(
        long,
        env = "HINDSIGHT_ADMIN_TOKEN_FILE",
        value_name = "FILE",
        global = true
    )]
    pub admin_token_file: Option<PathBuf>,

    /// Seconds between two versions of a board kept for its history while it is worked
    /// on (a facilitator can bring a board back to any of them).
    #[arg(long, env = "HINDSIGHT_HISTORY_EVERY_SECS", default_value_t = history::DEFAULT_EVERY_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub history_every_secs: u64,

    /// Days a board's versions are kept (all of them for a day, then one an hour); 0
    /// keeps no history.
    #[arg(long, env = "HINDSIGHT_HISTORY_DAYS", default_value_t = history::DEFAULT_DAYS,
          value_parser = clap::value_parser!(u64).range(0..=3650))]
    pub history_days: u64,

    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "HINDSIGHT_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES,
          value_parser = within::<1024, { 1 << 30 }>)]
    pub max_message_bytes: usize,

    /// Largest backup `POST /api/boards/import` accepts, in bytes.
    #[arg(long, env = "HINDSIGHT_MAX_IMPORT_BYTES", default_value_t = DEFAULT_MAX_IMPORT_BYTES,
          value_parser = within::<1024, { 1 << 30 }>)]
    pub max_import_bytes: usize,

    /// Messages queued for one connection before it is disconnected as too slow.
    #[arg(long, env = "HINDSIGHT_OUTBOX_MESSAGES", default_value_t = rooms::DEFAULT_OUTBOX_MESSAGES,
          value_parser = within::<16, 1_000_000>)]
    pub outbox_messages: usize,

    /// Seconds a client may take to send a request's headers before its connection is
    /// closed.
    #[arg(long, env = "HINDSIGHT_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_timeout_secs: u64,

    /// Bytes queued for one connection before it is disconnected as too slow.
    #[arg(long, env = "HINDSIGHT_OUTBOX_BYTES", default_value_t = rooms::DEFAULT_OUTBOX_BYTES,
          value_parser = within::<65_536, 4_294_967_296>)]
    pub outbox_bytes: usize,

    /// On a busy board, the least milliseconds between two stored (and relayed) batches:
    /// what arrives meanwhile shares one flush and one write to each participant. A
    /// board with a message now and then never waits. 0 stores every message at once.
    #[arg(long, env = "HINDSIGHT_BATCH_WINDOW_MS", default_value_t = rooms::DEFAULT_BATCH_WINDOW_MS,
          value_parser = clap::value_parser!(u64).range(0..=1000))]
    pub batch_window_ms: u64,

    /// Messages queued for one board before senders wait (back-pressure).
    #[arg(long, env = "HINDSIGHT_ROOM_QUEUE", default_value_t = rooms::DEFAULT_ROOM_QUEUE,
          value_parser = within::<1, 65_536>)]
    pub room_queue: usize,

    /// Largest a board's document may grow, in bytes; a change past it is refused.
    #[arg(long, env = "HINDSIGHT_MAX_DOCUMENT_BYTES", default_value_t = limits::DEFAULT_MAX_DOCUMENT_BYTES,
          value_parser = within::<4096, { 1 << 31 }>)]
    pub max_document_bytes: usize,

    /// Most notes one board may hold; a change adding more is refused.
    #[arg(long, env = "HINDSIGHT_MAX_NOTES", default_value_t = limits::DEFAULT_MAX_NOTES,
          value_parser = within::<1, 1_000_000>)]
    pub max_notes: usize,

    /// Largest presence (name, colour, cursor…) one participant may announce, in bytes of
    /// JSON; a connection announcing more is closed (4422).
    #[arg(long, env = "HINDSIGHT_MAX_PRESENCE_BYTES", default_value_t = limits::DEFAULT_MAX_PRESENCE_BYTES,
          value_parser = within::<256, 1_048_576>)]
    pub max_presence_bytes: usize,

    /// Most WebSocket connections one board accepts at once (with --database, on all
    /// nodes together).
    #[arg(long, env = "HINDSIGHT_MAX_BOARD_CONNECTIONS", default_value_t = limits::DEFAULT_MAX_BOARD_CONNECTIONS,
          value_parser = within::<1, 100_000>)]
    pub max_board_connections: usize,

    /// Most WebSocket connections the server accepts at once.
    #[arg(long, env = "HINDSIGHT_MAX_CONNECTIONS", default_value_t = limits::DEFAULT_MAX_CONNECTIONS,
          value_parser = within::<1, 1_000_000>)]
    pub max_connections: usize,

    /// Messages per second one connection may send on average (presence included).
    #[arg(long, env = "HINDSIGHT_MESSAGES_PER_SEC", default_value_t = limits::DEFAULT_MESSAGES_PER_SEC,
          value_parser = within::<1, 1_000_000>)]
    pub messages_per_sec: usize,

    /// Boards one client address may create or import per minute (429 past it; with
    /// --database, through all nodes together).
    #[arg(long, env = "HINDSIGHT_CREATES_PER_MINUTE", default_value_t = limits::DEFAULT_CREATES_PER_MINUTE,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub creates_per_minute: u32,

    /// Bytes the data directory may hold before new boards are refused (507); existing
    /// boards stay editable [default: no limit]
    #[arg(long, env = "HINDSIGHT_MAX_DATA_BYTES", value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_data_bytes: Option<u64>,

    /// Presence messages (cursor moves) per second one connection may send, twice that
    /// at once; past it the connection is closed (4029).
    #[arg(long, env = "HINDSIGHT_PRESENCE_PER_SEC", default_value_t = limits::DEFAULT_PRESENCE_PER_SEC,
          value_parser = within::<1, 100_000>)]
    pub presence_per_sec: usize,

    /// Messages one connection may send at once above that rate (e.g. on reconnect).
    #[arg(long, env = "HINDSIGHT_MESSAGE_BURST", default_value_t = limits::DEFAULT_MESSAGE_BURST,
          value_parser = within::<1, 1_000_000>)]
    pub message_burst: usize,
}

impl Config {
    /// Where the boards are kept: `--database` when given, else `--data-dir`.
    pub fn location(&self) -> Location {
        match &self.database {
            Some(url) => Location::Database(url.clone()),
            None => Location::Dir(self.data_dir.clone()),
        }
    }

    /// The admin token's hash, read from `--admin-token-file`; `None` without one.
    pub fn admin_token(&self) -> Result<Option<[u8; 32]>, String> {
        let Some(path) = &self.admin_token_file else {
            return Ok(None);
        };
        let contents = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the admin token file {}: {e}", path.display()))?;
        crate::online::token_hash(&contents)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The base of the links the admin commands print: the public URL, or the address
    /// the server listens on.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn rooms(&self) -> RoomConfig {
        RoomConfig {
            idle: Duration::from_secs(self.room_idle_secs),
            compact_every: self.compact_every,
            compact_growth: f64::from(self.compact_growth_percent) / 100.0,
            outbox: self.outbox_messages,
            outbox_bytes: self.outbox_bytes,
            queue: self.room_queue,
            limits: self.limits(),
            history: HistoryConfig {
                every: Duration::from_secs(self.history_every_secs),
                days: self.history_days,
            },
            batch_window: Duration::from_millis(self.batch_window_ms),
        }
    }

    pub fn limits(&self) -> Limits {
        // Both are at most 1 000 000, checked while parsing.
        let small = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Limits {
            max_document_bytes: self.max_document_bytes,
            max_notes: self.max_notes,
            max_connections_per_board: self.max_board_connections,
            max_connections: self.max_connections,
            messages_per_sec: small(self.messages_per_sec),
            message_burst: small(self.message_burst),
            presence_per_sec: small(self.presence_per_sec),
            max_presence_bytes: self.max_presence_bytes,
        }
    }

    /// The origins allowed to open WebSockets, or `None` when any origin may (nothing
    /// configured: local use).
    pub fn websocket_origins(&self) -> Option<Vec<String>> {
        let mut origins = self.allowed_origins.clone();
        if let Some(url) = &self.public_url {
            // Checked at parse time, so it has an origin.
            origins.extend(origin_of(url).ok());
        }
        (!origins.is_empty()).then_some(origins)
    }
}

/// A number of things between `MIN` and `MAX`.
fn within<const MIN: usize, const MAX: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number"))?;
    if (MIN..=MAX).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between {MIN} and {MAX}"))
    }
}

/// An absolute http(s) URL without query; returned without its trailing slash.
fn parse_public_url(s: &str) -> Result<String, String> {
    origin_of(s)?;
    let uri: Uri = s.parse().map_err(|_| "not a URL".to_owned())?;
    if uri.query().is_some() {
        return Err("must not have a query string".into());
    }
    Ok(s.trim_end_matches('/').to_owned())
}

/// An origin as browsers send it: `scheme://host[:port]`, lowercase, nothing after.
fn parse_origin(s: &str) -> Result<String, String> {
    let origin = origin_of(s)?;
    let uri: Uri = s.parse().map_err(|_| "not a URL".to_owned())?;
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(format!(
            "`{s}` is not an origin: use scheme://host[:port] with no path"
        ));
    }
    Ok(origin)
}

/// The origin (`scheme://host[:port]`, lowercase) of an absolute http(s) URL.
pub fn origin_of(url: &str) -> Result<String, String> {
    let uri: Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{url}` must start with http:// or https://"));
    }
    let Some(authority) = uri.authority().filter(|a| !a.host().is_empty()) else {
        return Err(format!("`{url}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!("`{url}` must not contain credentials"));
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `args` after the program name; returns the config or clap's message.
    fn parse(args: &[&str]) -> Result<Config, String> {
        Config::try_parse_from(std::iter::once("hindsight").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert!(matches!(c.location(), Location::Dir(_)), "sled by default");
        assert_eq!(c.assets, None);
        assert_eq!(c.log_format, LogFormat::Human);
        assert_eq!(c.websocket_origins(), None, "no origin rules by default");
        let rooms = c.rooms();
        let documented = RoomConfig::default();
        assert_eq!(rooms.idle, documented.idle);
        assert_eq!(rooms.compact_every, documented.compact_every);
        assert_eq!(rooms.compact_growth, documented.compact_growth);
        assert_eq!(rooms.outbox, 1024);
        assert_eq!(rooms.outbox_bytes, documented.outbox_bytes);
        assert_eq!(rooms.queue, 256);
        assert_eq!(rooms.batch_window, documented.batch_window);
        assert_eq!(c.max_message_bytes, 16 * 1024 * 1024);
        assert_eq!(c.max_import_bytes, 32 * 1024 * 1024);
        let limits = c.limits();
        let documented = Limits::default();
        assert_eq!(limits.max_document_bytes, documented.max_document_bytes);
        assert_eq!(limits.max_notes, documented.max_notes);
        assert_eq!(
            limits.max_connections_per_board,
            documented.max_connections_per_board
        );
        assert_eq!(limits.max_connections, documented.max_connections);
        assert_eq!(limits.messages_per_sec, documented.messages_per_sec);
        assert_eq!(limits.message_burst, documented.message_burst);
        assert_eq!(limits.max_presence_bytes, documented.max_presence_bytes);
        assert_eq!(limits.presence_per_sec, documented.presence_per_sec);
    }

    #[test]
    fn bad_values_are_refused_naming_the_flag() {
        fn check(args: &[&str], expected: &str) {
            let message = parse(args).expect_err(&format!("{args:?} must be refused"));
            assert!(
                message.contains(expected),
                "{args:?}: expected {expected:?} in:\n{message}"
            );
        }
        check(&["--addr", "localhost"], "--addr");
        check(&["--public-url", "ftp://x.example"], "http:// or https://");
        check(&["--public-url", "hindsight.example"], "--public-url");
        check(&["--public-url", "https://x.example/?a=1"], "query");
        check(
            &["--allowed-origins", "https://a.example/app"],
            "not an origin",
        );
        check(
            &["--allowed-origins", "https://a.example,nope"],
            "--allowed-origins",
        );
        check(&["--max-message-bytes", "0"], "between 1024 and");
        check(&["--max-message-bytes", "lots"], "not a whole number");
        check(&["--compact-every", "0"], "--compact-every");
        check(&["--outbox-messages", "1"], "between 16 and");
        check(&["--log-format", "xml"], "--log-format");
        check(&["--room-idle-secs", "100000"], "--room-idle-secs");
        check(&["--max-document-bytes", "10"], "between 4096 and");
        check(&["--max-notes", "0"], "--max-notes");
        check(&["--max-board-connections", "0"], "--max-board-connections");
        check(&["--max-connections", "many"], "--max-connections");
        check(&["--messages-per-sec", "0"], "--messages-per-sec");
        check(&["--message-burst", "0"], "--message-burst");
    }

    #[test]
    fn origins_are_normalised_and_include_the_public_url() {
        let c = parse(&[
            "--public-url",
            "https://Hindsight.Example.com/",
            "--allowed-origins",
            "http://localhost:8080,https://OPS.example",
        ])
        .unwrap();
        assert_eq!(
            c.public_url.as_deref(),
            Some("https://Hindsight.Example.com")
        );
        assert_eq!(
            c.websocket_origins().unwrap(),
            [
                "http://localhost:8080",
                "https://ops.example",
                "https://hindsight.example.com"
            ]
        );
    }

    #[test]
    fn a_database_url_selects_postgres_and_a_wrong_one_stops_the_parse() {
        let c = parse(&["--database", "postgres://hs:pw@db:5433/boards"]).unwrap();
        assert_eq!(
            c.location().to_string(),
            "database postgres://hs@db:5433/boards"
        );
        let wrong = parse(&["--database", "postgres://db:port/boards"]).unwrap_err();
        assert!(wrong.contains("--database"), "{wrong}");
    }
}
