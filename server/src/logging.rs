//! Log output: `tracing` events formatted for people (the default) or as one JSON object
//! per line for log shippers, always on standard error so that standard output stays
//! for what commands print (the server's banner, exports).
//!
//! `RUST_LOG` overrides the default filter. Logs name boards and connections, never
//! facilitator keys or other secrets.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines with the connection span (board, conn) in front.
    Human,
    /// One JSON object per line, with the current span's fields.
    Json,
}

/// Installs the global subscriber; call once, at the start of `main`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("hindsight_server=info,hindsight=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
