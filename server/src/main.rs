//! The `hindsight` binary: parses configuration, opens the data directory, serves until
//! Ctrl+C or SIGTERM, then shuts down cleanly.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use hindsight_server::{start, Config, SledStore};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("hindsight_server=info,hindsight=info")),
        )
        .init();

    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        eprintln!(
            "error: cannot create data directory {}: {e}",
            config.data_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let store = match SledStore::open(&config.data_dir) {
        Ok(store) => Arc::new(store),
        Err(e) => {
            eprintln!(
                "error: cannot open database in {}: {e}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    if !config.assets.join("index.html").exists() {
        tracing::warn!(assets = %config.assets.display(), "no built web client here; pages will not load");
    }
    let running = match start(&config, store, listener) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = running.addr();
    let shown = if addr.ip().is_unspecified() {
        format!("http://localhost:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    };
    println!("Hindsight is running at {shown}");
    println!("Data directory: {}", config.data_dir.display());

    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
