//! The admin commands that also work against a running server, over its admin API
//! (`online.rs`): `hindsight backup FILE`, `boards list`, `boards export ID`,
//! `boards links ID` and `boards delete ID`, each with `--server URL` and the token from
//! `--admin-token-file`, so none of them needs downtime. Plain HTTP only, meant for the
//! server's own host or a private network (put TLS in front for anything else, as for
//! the pages).
//!
//! `restore`, `migrate` and `boards import` stay offline: a restore or a migration
//! replaces boards wholesale, and the API's own `POST /api/boards/import` already imports
//! into a running server.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request, StatusCode};
use tokio::io::AsyncWriteExt;

use crate::admin::{self, AdminError};
use crate::backup;
use crate::cli::{BoardsCommand, Command, ExportFormat};

/// Why a command against a running server failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("--server takes an http:// address like http://127.0.0.1:8080, not `{0}`")]
    BadServer(String),
    #[error("--server needs the admin token: pass --admin-token-file")]
    NoToken,
    #[error("cannot read the admin token file {}: {source}", path.display())]
    Token { path: PathBuf, source: io::Error },
    #[error("cannot reach {server}: {source}")]
    Unreachable { server: String, source: io::Error },
    #[error("{server} answered {status}: {message}")]
    Refused {
        server: String,
        status: StatusCode,
        message: String,
    },
    #[error("the connection to the server broke: {0}")]
    Http(#[from] hyper::Error),
    #[error("`restore`, `migrate` and `boards import` do not work with --server: stop the server and run them on its store (or import through the start page)")]
    Offline,
    #[error(transparent)]
    Admin(#[from] AdminError),
}

/// Runs `command` against the server at `server` (`http://host:port`).
pub fn run(server: &str, token_file: Option<&Path>, command: Command) -> Result<(), RemoteError> {
    let authority = server
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| RemoteError::BadServer(server.to_owned()))?
        .to_owned();
    let path = token_file.ok_or(RemoteError::NoToken)?;
    let token = fs::read_to_string(path)
        .map_err(|source| RemoteError::Token {
            path: path.to_owned(),
            source,
        })?
        .trim()
        .to_owned();
    let client = Client { authority, token };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| RemoteError::Unreachable {
            server: server.to_owned(),
            source,
        })?;
    runtime.block_on(async {
        match command {
            Command::Backup { file } => client.backup(&file).await,
            Command::Boards(BoardsCommand::List) => client.list().await,
            Command::Boards(BoardsCommand::Export { id, format, output }) => {
                client.export(&id, format, output.as_deref()).await
            }
            Command::Boards(BoardsCommand::Links { id }) => client.relink(&id).await,
            Command::Boards(BoardsCommand::Delete { id }) => client.delete(&id).await,
            Command::Restore { .. }
            | Command::Migrate { .. }
            | Command::Boards(BoardsCommand::Import { .. }) => Err(RemoteError::Offline),
        }
    })
}

struct Client {
    authority: String,
    token: String,
}

impl Client {
    async fn get(&self, path: &str) -> Result<hyper::Response<hyper::body::Incoming>, RemoteError> {
        self.send(Method::GET, path).await
    }

    /// Sends `method path` and returns the response once its status is a success.
    async fn send(
        &self,
        method: Method,
        path: &str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, RemoteError> {
        let unreachable = |source| RemoteError::Unreachable {
            server: self.authority.clone(),
            source,
        };
        let tcp = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(unreachable)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority)
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .body(Empty::<Bytes>::new())
            .map_err(|e| unreachable(io::Error::other(e)))?;
        let response = sender.send_request(request).await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(RemoteError::Refused {
                server: self.authority.clone(),
                status,
                message,
            });
        }
        Ok(response)
    }

    /// Streams the server's online backup into `file` (beside it until it is whole),
    /// then checks it as `restore` would before putting it in place.
    async fn backup(&self, file: &Path) -> Result<(), RemoteError> {
        let mut response = self.get("/api/admin/backup").await?;
        let partial = admin::partial_path(file);
        let file_error = |source| AdminError::File {
            path: file.to_owned(),
            source,
        };
        let mut out = tokio::fs::File::create(&partial)
            .await
            .map_err(file_error)?;
        let body = response.body_mut();
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                out.write_all(data).await.map_err(file_error)?;
            }
        }
        out.sync_all().await.map_err(file_error)?;
        drop(out);
        let bytes = fs::read(&partial).map_err(file_error)?;
        let entries = backup::read(&bytes).map_err(|source| {
            let _ = fs::remove_file(&partial);
            AdminError::Backup {
                path: file.to_owned(),
                source,
            }
        })?;
        fs::rename(&partial, file).map_err(file_error)?;
        writeln!(
            io::stdout().lock(),
            "backed up {} board(s) from {} to {}",
            entries.len(),
            self.authority,
            file.display()
        )
        .map_err(AdminError::Output)?;
        Ok(())
    }

    /// The boards the server holds, as `boards list` prints them offline.
    async fn list(&self) -> Result<(), RemoteError> {
        let response = self.get("/api/admin/boards").await?;
        let body = response.into_body().collect().await?.to_bytes();
        let boards: Vec<crate::online::Listed> =
            serde_json::from_slice(&body).map_err(|e| RemoteError::Refused {
                server: self.authority.clone(),
                status: StatusCode::OK,
                message: format!("an answer that is not a board list ({e})"),
            })?;
        let mut out = io::stdout().lock();
        admin::write_list_header(&mut out).map_err(AdminError::Output)?;
        for b in &boards {
            writeln!(
                out,
                "{}",
                admin::list_row(
                    &b.id,
                    b.notes,
                    &b.template,
                    b.incident_date.as_deref().unwrap_or_default(),
                    &b.title
                )
            )
            .map_err(AdminError::Output)?;
        }
        eprintln!("{} board(s) on {}", boards.len(), self.authority);
        Ok(())
    }

    async fn body(
        &self,
        response: hyper::Response<hyper::body::Incoming>,
    ) -> Result<Bytes, RemoteError> {
        Ok(response.into_body().collect().await?.to_bytes())
    }

    /// The board as `boards export` prints it offline, read from the running server.
    async fn export(
        &self,
        id: &str,
        format: ExportFormat,
        output: Option<&Path>,
    ) -> Result<(), RemoteError> {
        let format = match format {
            ExportFormat::Md => "md",
            ExportFormat::Json => "json",
        };
        let response = self
            .get(&format!("/api/admin/boards/{id}/export?format={format}"))
            .await?;
        let body = self.body(response).await?;
        match output {
            Some(path) => fs::write(path, &body).map_err(|source| AdminError::File {
                path: path.to_owned(),
                source,
            })?,
            None => io::stdout()
                .lock()
                .write_all(&body)
                .map_err(AdminError::Output)?,
        }
        Ok(())
    }

    /// New links for a board, as `boards links` prints them offline.
    async fn relink(&self, id: &str) -> Result<(), RemoteError> {
        let response = self
            .send(Method::POST, &format!("/api/admin/boards/{id}/links"))
            .await?;
        let body = self.body(response).await?;
        let links: crate::online::Relinked =
            serde_json::from_slice(&body).map_err(|e| RemoteError::Refused {
                server: self.authority.clone(),
                status: StatusCode::OK,
                message: format!("an answer that is not a pair of links ({e})"),
            })?;
        // Relative unless the server has --public-url: against the server called.
        let absolute = |url: &str| {
            if url.starts_with('/') {
                format!("http://{}{url}", self.authority)
            } else {
                url.to_owned()
            }
        };
        let mut out = io::stdout().lock();
        writeln!(out, "edit link: {}", absolute(&links.edit_url)).map_err(AdminError::Output)?;
        writeln!(out, "read-only link: {}", absolute(&links.read_url))
            .map_err(AdminError::Output)?;
        eprintln!(
            "The board's previous links no longer work (whoever was on the board through \
             them was disconnected). The edit link is shown only once."
        );
        Ok(())
    }

    /// Deletes a board on the running server; whoever is on it is told it is gone.
    async fn delete(&self, id: &str) -> Result<(), RemoteError> {
        self.send(Method::DELETE, &format!("/api/admin/boards/{id}"))
            .await?;
        writeln!(io::stdout().lock(), "deleted board {id}").map_err(AdminError::Output)?;
        Ok(())
    }
}
