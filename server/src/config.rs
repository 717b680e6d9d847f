//! Server configuration: command-line flags, each with a `HINDSIGHT_*` environment
//! fallback and a default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::rooms::RoomConfig;

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
    #[arg(long, env = "HINDSIGHT_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Directory holding the built web client (Trunk's `dist`).
    #[arg(long, env = "HINDSIGHT_ASSETS", default_value = "dist")]
    pub assets: PathBuf,

    /// The URL people use to reach this server, for share links (default: taken from the
    /// request's Host header).
    #[arg(long, env = "HINDSIGHT_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Seconds a board stays loaded after its last participant leaves.
    #[arg(long, env = "HINDSIGHT_ROOM_IDLE_SECS", default_value_t = 30)]
    pub room_idle_secs: u64,

    /// Updates stored per board before they are folded into a snapshot.
    #[arg(long, env = "HINDSIGHT_COMPACT_EVERY", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub compact_every: u64,

    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "HINDSIGHT_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_message_bytes: usize,
}

impl Config {
    pub fn rooms(&self) -> RoomConfig {
        RoomConfig {
            idle: Duration::from_secs(self.room_idle_secs),
            compact_every: self.compact_every,
            ..RoomConfig::default()
        }
    }
}
