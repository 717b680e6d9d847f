//! The `hindsight` binary: parses the command line (invalid values stop it here, before
//! anything is opened or bound), sets up logging, then either serves until Ctrl+C or
//! SIGTERM and shuts down cleanly, or runs one offline admin command.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use hindsight_server::assets::Assets;
use hindsight_server::cli::Cli;
use hindsight_server::{admin, logging, remote, start, Config, Store};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.config.log_format);
    match cli.command {
        None => serve(cli.config),
        Some(command) => {
            let done = match &cli.server {
                Some(server) => {
                    remote::run(server, cli.config.admin_token_file.as_deref(), command)
                        .map_err(|e| e.to_string())
                }
                None => admin::run(&cli.config.location(), &cli.config.base_url(), command)
                    .map_err(|e| e.to_string()),
            };
            match done {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn serve(config: Config) -> ExitCode {
    // Opened before the runtime starts: the PostgreSQL client blocks, and may not be
    // called from an async worker.
    let store = match config.location().open() {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve_until_stopped(config, store))
}

async fn serve_until_stopped(config: Config, store: Arc<dyn Store>) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    let assets = Assets::new(config.assets.clone());
    if !assets.present() {
        tracing::warn!(assets = %assets.describe(), "no built web client; pages will answer 503");
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
    match &config.database {
        Some(url) => println!("Database: {url}"),
        None => println!("Data directory: {}", config.data_dir.display()),
    }

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
