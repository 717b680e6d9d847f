//! Operational metrics: their names, what they mean, and the process-wide Prometheus
//! recorder that `GET /metrics` renders. Code elsewhere records with the `metrics` macros
//! and the names below; nothing here formats the exposition text by hand.
//!
//! The recorder is global to the process (that is how the `metrics` facade works), so it
//! is installed once, on first use, and shared by every server a process starts (tests
//! start several).

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const BOARDS_LOADED: &str = "hindsight_boards_loaded";
pub const CONNECTIONS: &str = "hindsight_connections";
pub const UPDATES_RECEIVED: &str = "hindsight_updates_received_total";
pub const UPDATES_BROADCAST: &str = "hindsight_updates_broadcast_total";
pub const BYTES_IN: &str = "hindsight_bytes_in_total";
pub const BYTES_OUT: &str = "hindsight_bytes_out_total";
pub const PERSIST_SECONDS: &str = "hindsight_persist_seconds";
pub const FLUSH_GROUP: &str = "hindsight_flush_group_size";
pub const WRITE_GROUP: &str = "hindsight_write_group_size";
pub const ERRORS: &str = "hindsight_errors_total";

/// The kinds of error counted under [`ERRORS`].
#[derive(Clone, Copy, Debug)]
pub enum ErrorKind {
    /// A client sent a message that is not valid y-websocket (the socket is closed).
    Protocol,
    /// A write to or read from the store failed.
    Storage,
    /// A stored board could not be loaded.
    Load,
    /// A connection fell behind and was disconnected.
    SlowClient,
    /// A WebSocket upgrade came from an origin that is not allowed.
    Origin,
    /// A connection went over a limit (size, notes, connections, rate) and was closed.
    Limit,
    /// A link's token was refused, or a read-only connection tried to change a board.
    Access,
}

impl ErrorKind {
    const ALL: [ErrorKind; 7] = [
        ErrorKind::Protocol,
        ErrorKind::Storage,
        ErrorKind::Load,
        ErrorKind::SlowClient,
        ErrorKind::Origin,
        ErrorKind::Limit,
        ErrorKind::Access,
    ];

    fn label(self) -> &'static str {
        match self {
            ErrorKind::Protocol => "protocol",
            ErrorKind::Storage => "storage",
            ErrorKind::Load => "load",
            ErrorKind::SlowClient => "slow_client",
            ErrorKind::Origin => "origin",
            ErrorKind::Limit => "limit",
            ErrorKind::Access => "access",
        }
    }
}

/// Counts one error of `kind`.
pub fn error(kind: ErrorKind) {
    counter!(ERRORS, "kind" => kind.label()).increment(1);
}

/// Persist latency buckets, in seconds: a flush takes from well under a millisecond (an
/// idle SSD) to seconds (a saturated disk).
const PERSIST_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Flush group sizes: how many room batches one flush made durable.
const GROUP_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// How often recorded histogram samples are folded in when nobody scrapes `/metrics`.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first call.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(PERSIST_SECONDS.into()), &PERSIST_BUCKETS)
            .expect("persist buckets are not empty")
            .set_buckets_for_metric(Matcher::Full(FLUSH_GROUP.into()), &GROUP_BUCKETS)
            .expect("group buckets are not empty")
            .set_buckets_for_metric(Matcher::Full(WRITE_GROUP.into()), &GROUP_BUCKETS)
            .expect("group buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if something else installed a recorder first; our metrics then go
        // there and `/metrics` shows only what this handle sees, which is nothing worse.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        let upkeep = handle.clone();
        // Upkeep thread: owned by the process and lives as long as it. It only folds
        // histogram samples into their buckets so memory stays bounded between scrapes;
        // it holds nothing that needs flushing, so it is never joined.
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            })
            .expect("spawn the metrics upkeep thread");
        handle
    })
}

/// The current metrics in the Prometheus text format.
pub fn render() -> String {
    handle().render()
}

/// Registers every metric with its help text, so all of them appear (at zero) before the
/// first event.
fn describe() {
    describe_gauge!(BOARDS_LOADED, "Boards loaded in memory (rooms)");
    describe_gauge!(CONNECTIONS, "Open WebSocket connections to boards");
    describe_counter!(
        UPDATES_RECEIVED,
        "Document updates received from clients that changed a board"
    );
    describe_counter!(
        UPDATES_BROADCAST,
        "Document updates delivered to other participants"
    );
    describe_counter!(BYTES_IN, Unit::Bytes, "WebSocket payload bytes received");
    describe_counter!(BYTES_OUT, Unit::Bytes, "WebSocket payload bytes sent");
    describe_histogram!(
        PERSIST_SECONDS,
        Unit::Seconds,
        "Time to store and flush one batch of updates"
    );
    describe_histogram!(
        FLUSH_GROUP,
        "Room batches made durable by one flush (group commit across boards)"
    );
    describe_histogram!(
        WRITE_GROUP,
        "Room batches stored by one transaction (PostgreSQL: group commit across boards)"
    );
    describe_counter!(ERRORS, "Errors by kind");
    gauge!(BOARDS_LOADED).increment(0.0);
    gauge!(CONNECTIONS).increment(0.0);
    // Registering is enough for the histogram to be listed.
    let _ = histogram!(PERSIST_SECONDS);
    let _ = histogram!(FLUSH_GROUP);
    let _ = histogram!(WRITE_GROUP);
    for name in [UPDATES_RECEIVED, UPDATES_BROADCAST, BYTES_IN, BYTES_OUT] {
        counter!(name).increment(0);
    }
    for kind in ErrorKind::ALL {
        counter!(ERRORS, "kind" => kind.label()).increment(0);
    }
}
