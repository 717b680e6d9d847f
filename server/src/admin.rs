//! Offline administration of a data directory or a PostgreSQL database (`--database`):
//! list, export, import and delete boards, back up and restore all of them. Each command
//! opens the store itself, so it needs the server stopped (sled locks the directory; a
//! server on PostgreSQL would keep serving the boards it has loaded as they were). Boards are made and read through
//! `boards.rs`, the same code the HTTP API uses; the backup file is `backup.rs`.
//!
//! Results go to standard output; progress bars go to standard error, and only when it
//! is a terminal.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hindsight_shared::export::{self, BoardExport};
use hindsight_shared::facts::UNTITLED;
use hindsight_shared::{Board, BoardId, Token};
use indicatif::{ProgressBar, ProgressStyle};
use yrs::{ReadTxn, Transact};

use crate::backup::{self, BackupError, BackupWriter};
use crate::boards::{self, BoardError};
use crate::cli::{BoardsCommand, Command, ExportFormat};
use crate::store::{Links, Location, OpenError, SledStore, Store, StoreError};

/// What went wrong in an admin command, in words for the person who ran it.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("there is no data directory at {0}; pass --data-dir or set HINDSIGHT_DATA_DIR")]
    NoDataDir(PathBuf),
    #[error(
        "cannot open the database in {dir}: {source}\n\
         (these commands work offline: stop the server that uses this directory first)"
    )]
    Open { dir: PathBuf, source: StoreError },
    #[error(transparent)]
    OpenDatabase(OpenError),
    #[error("`{0}` is not a board id: {1}")]
    BadId(String, String),
    #[error("there is no board {0}")]
    NotFound(BoardId),
    #[error(transparent)]
    Board(#[from] BoardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error("{} is not a board export: {source}", path.display())]
    NotAnExport {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: {source}", path.display())]
    Backup { path: PathBuf, source: BackupError },
    #[error(
        "the {at} already holds {count} boards; use an empty one, or pass --force to \
         replace the boards with the same ids (the others are kept)"
    )]
    NotEmpty { at: Location, count: usize },
    #[error("the copy of board {0} does not read back as the original: {1}; nothing was removed from the source")]
    CopyDiffers(BoardId, String),
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
}

/// Runs one admin command against the data directory or database `at`; links it prints
/// start with `base` (scheme, host and port).
pub fn run(at: &Location, base: &str, command: Command) -> Result<(), AdminError> {
    match command {
        Command::Boards(BoardsCommand::List) => list(at),
        Command::Boards(BoardsCommand::Export { id, format, output }) => {
            export_board(at, &id, format, output.as_deref())
        }
        Command::Boards(BoardsCommand::Import { file }) => import(at, base, &file),
        Command::Boards(BoardsCommand::Links { id }) => relink(at, base, &id),
        Command::Boards(BoardsCommand::Delete { id }) => delete(at, &id),
        Command::Backup { file } => backup(at, &file),
        Command::Restore { file, force } => restore(at, &file, force),
        Command::Migrate {
            from_data_dir,
            to_database,
            force,
        } => migrate(
            &Location::Dir(from_data_dir),
            &Location::Database(to_database),
            force,
        ),
    }
}

fn list(at: &Location) -> Result<(), AdminError> {
    let store = open_existing(at)?;
    let ids = store.list()?;
    let bar = progress(ids.len(), "reading boards");
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        let doc = boards::read(&*store, id)?.ok_or(AdminError::NotFound(*id))?;
        let board = Board::new(&doc);
        let txn = doc.transact();
        let facts = board.facts(&txn);
        rows.push(list_row(
            &id.to_string(),
            board.note_count(&txn),
            &board.template(&txn).key,
            &facts.date.map(|d| d.to_string()).unwrap_or_default(),
            facts.shown_title(),
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut out = io::stdout().lock();
    write_list_header(&mut out)?;
    for row in rows {
        writeln!(out, "{row}")?;
    }
    eprintln!("{} board(s) in {at}", ids.len());
    Ok(())
}

/// The header of `boards list`, offline or from a server.
pub fn write_list_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<32}  {:>5}  {:<22}  {:<10}  TITLE",
        "ID", "NOTES", "TEMPLATE", "INCIDENT"
    )
}

/// One board's line in `boards list`.
pub fn list_row(id: &str, notes: u32, template: &str, incident: &str, title: &str) -> String {
    format!("{id}  {notes:>5}  {template:<22}  {incident:<10}  {title}")
}

fn export_board(
    at: &Location,
    id: &str,
    format: ExportFormat,
    output: Option<&Path>,
) -> Result<(), AdminError> {
    let id = parse_id(id)?;
    let store = open_existing(at)?;
    let doc = boards::read(&*store, &id)?.ok_or(AdminError::NotFound(id))?;
    let board = Board::new(&doc);
    let text = match format {
        ExportFormat::Md => export::to_markdown(&board, &doc.transact()),
        ExportFormat::Json => {
            let data = export::export(&board, &doc.transact());
            serde_json::to_string_pretty(&data).expect("an export serialises") + "\n"
        }
    };
    match output {
        Some(path) => fs::write(path, text).map_err(|source| AdminError::File {
            path: path.to_owned(),
            source,
        }),
        None => Ok(io::stdout().lock().write_all(text.as_bytes())?),
    }
}

fn import(at: &Location, base: &str, file: &Path) -> Result<(), AdminError> {
    let bytes = fs::read(file).map_err(|source| AdminError::File {
        path: file.to_owned(),
        source,
    })?;
    let data: BoardExport =
        serde_json::from_slice(&bytes).map_err(|source| AdminError::NotAnExport {
            path: file.to_owned(),
            source,
        })?;
    let store = open_or_create(at)?;
    // The operator's own import: only the backup format's ceilings apply.
    let made = boards::create_from_export(&*store, &data, usize::MAX)?;
    let mut out = io::stdout().lock();
    writeln!(out, "board: {}", made.id)?;
    print_links(&mut out, base, &made.id, &made.edit_token)?;
    writeln!(out, "facilitator key: {}", made.facilitator_key)?;
    eprintln!(
        "Imported \"{}\". Keep the edit link and facilitator key: they are shown only once.",
        if data.title.trim().is_empty() {
            UNTITLED
        } else {
            &data.title
        }
    );
    Ok(())
}

fn relink(at: &Location, base: &str, id: &str) -> Result<(), AdminError> {
    let id = parse_id(id)?;
    let store = open_existing(at)?;
    let edit = boards::relink(&*store, &id)?.ok_or(AdminError::NotFound(id))?;
    print_links(&mut io::stdout().lock(), base, &id, &edit)?;
    eprintln!("The board's previous links no longer work. The edit link is shown only once.");
    Ok(())
}

fn print_links(out: &mut impl Write, base: &str, id: &BoardId, edit: &Token) -> io::Result<()> {
    writeln!(out, "edit link: {base}/b/{id}?token={}", edit.as_str())?;
    writeln!(
        out,
        "read-only link: {base}/b/{id}?token={}",
        edit.read_token().as_str()
    )
}

fn delete(at: &Location, id: &str) -> Result<(), AdminError> {
    let id = parse_id(id)?;
    let store = open_existing(at)?;
    if !store.delete(&id)? {
        return Err(AdminError::NotFound(id));
    }
    writeln!(io::stdout().lock(), "deleted board {id}")?;
    Ok(())
}

/// Writes every board, compacted, to a temporary file beside `file`, then renames it into
/// place: a failed backup never leaves a half-written file under the real name.
fn backup(at: &Location, file: &Path) -> Result<(), AdminError> {
    let store = open_existing(at)?;
    let ids = store.list()?;
    let partial = partial_path(file);
    let file_error = |source| AdminError::File {
        path: file.to_owned(),
        source,
    };
    let out = fs::File::create(&partial).map_err(file_error)?;
    let written = (|| {
        let mut writer = BackupWriter::new(BufWriter::new(out)).map_err(file_error)?;
        let bar = progress(ids.len(), "backing up");
        for id in &ids {
            let doc = boards::read(&*store, id)?.ok_or(AdminError::NotFound(*id))?;
            let links = match store.links(id)? {
                Links::Hashes(links) => Some(links),
                Links::Unlinked | Links::NoBoard => None,
            };
            writer
                .add(id, links.as_ref(), &boards::encode(&doc))
                .map_err(file_error)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        let (out, count) = writer.finish().map_err(file_error)?;
        let out = out.into_inner().map_err(|e| file_error(e.into_error()))?;
        out.sync_all().map_err(file_error)?;
        fs::rename(&partial, file).map_err(file_error)?;
        Ok(count)
    })();
    match written {
        Ok(count) => {
            writeln!(
                io::stdout().lock(),
                "backed up {count} board(s) to {}",
                file.display()
            )?;
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Checks the whole backup before writing anything, then stores every board.
/// Copies every board of `from` into `to` — its document (compacted), links and kept
/// versions — then reads each back from `to` and compares it with the original, so a
/// copy that went wrong is reported rather than discovered later. `from` is only read.
fn migrate(from: &Location, to: &Location, force: bool) -> Result<(), AdminError> {
    let source = open_existing(from)?;
    let target = open_or_create(to)?;
    let existing = target.list()?.len();
    if existing > 0 && !force {
        return Err(AdminError::NotEmpty {
            at: to.clone(),
            count: existing,
        });
    }
    let ids = source.list()?;
    let bar = progress(ids.len(), "copying boards");
    let mut versions = 0;
    for id in &ids {
        let doc = boards::read(&*source, id)?.ok_or(AdminError::NotFound(*id))?;
        let links = match source.links(id)? {
            Links::Hashes(links) => Some(links),
            Links::Unlinked | Links::NoBoard => None,
        };
        if force {
            target.delete(id)?;
        }
        target.create(id, &boards::encode(&doc), links.as_ref())?;
        for (at, _) in source.versions(id)? {
            if let Some(state) = source.version(id, at)? {
                target.keep_version(id, at, &state)?;
                versions += 1;
            }
        }
        bar.inc(1);
    }
    target.flush()?;
    bar.finish_and_clear();
    let bar = progress(ids.len(), "checking the copy");
    for id in &ids {
        check_copy(&*source, &*target, id)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    writeln!(
        io::stdout().lock(),
        "copied {} board(s) and {versions} kept version(s) from {from} to {to}; \
         every board read back the same",
        ids.len()
    )?;
    Ok(())
}

/// Whether board `id` reads back from `target` as it is in `source`: the same document
/// (state vector and export), the same links and the same kept versions.
fn check_copy(source: &dyn Store, target: &dyn Store, id: &BoardId) -> Result<(), AdminError> {
    let differs = |what: &str| AdminError::CopyDiffers(*id, what.to_owned());
    let original = boards::read(source, id)?.ok_or(AdminError::NotFound(*id))?;
    let copy = boards::read(target, id)?.ok_or_else(|| differs("the board is missing"))?;
    if original.transact().state_vector() != copy.transact().state_vector() {
        return Err(differs("its document holds other changes"));
    }
    let export_of = |doc: &yrs::Doc| export::export(&Board::new(doc), &doc.transact());
    if export_of(&original) != export_of(&copy) {
        return Err(differs("its document reads differently"));
    }
    if source.links(id)? != target.links(id)? {
        return Err(differs("its links differ"));
    }
    // Each version's time and state.
    type Kept = Vec<(u64, Option<Vec<u8>>)>;
    let kept = |store: &dyn Store| -> Result<Kept, StoreError> {
        store
            .versions(id)?
            .into_iter()
            .map(|(at, _)| Ok((at, store.version(id, at)?)))
            .collect()
    };
    if kept(source)? != kept(target)? {
        return Err(differs("its kept versions differ"));
    }
    Ok(())
}

fn restore(at: &Location, file: &Path, force: bool) -> Result<(), AdminError> {
    let bytes = fs::read(file).map_err(|source| AdminError::File {
        path: file.to_owned(),
        source,
    })?;
    let entries = backup::read(&bytes).map_err(|source| AdminError::Backup {
        path: file.to_owned(),
        source,
    })?;
    let store = open_or_create(at)?;
    let existing = store.list()?.len();
    if existing > 0 && !force {
        return Err(AdminError::NotEmpty {
            at: at.clone(),
            count: existing,
        });
    }
    let bar = progress(entries.len(), "restoring");
    for entry in &entries {
        if force {
            store.delete(&entry.id)?;
        }
        store.create(&entry.id, &entry.snapshot, entry.links.as_ref())?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    store.flush()?;
    writeln!(
        io::stdout().lock(),
        "restored {} board(s) from {}",
        entries.len(),
        file.display()
    )?;
    Ok(())
}

fn parse_id(id: &str) -> Result<BoardId, AdminError> {
    id.parse()
        .map_err(|e: hindsight_shared::id::IdError| AdminError::BadId(id.to_owned(), e.to_string()))
}

/// The store at `at`. A data directory must already exist (reading commands must not
/// create an empty one at a mistyped path).
fn open_existing(at: &Location) -> Result<Arc<dyn Store>, AdminError> {
    match at {
        Location::Dir(dir) if !dir.is_dir() => Err(AdminError::NoDataDir(dir.to_owned())),
        _ => open(at),
    }
}

fn open_or_create(at: &Location) -> Result<Arc<dyn Store>, AdminError> {
    if let Location::Dir(dir) = at {
        fs::create_dir_all(dir).map_err(|source| AdminError::File {
            path: dir.to_owned(),
            source,
        })?;
    }
    open(at)
}

fn open(at: &Location) -> Result<Arc<dyn Store>, AdminError> {
    match at {
        Location::Dir(dir) => match SledStore::open(dir) {
            Ok(store) => Ok(Arc::new(store)),
            Err(source) => Err(AdminError::Open {
                dir: dir.to_owned(),
                source,
            }),
        },
        Location::Database(_) => at.open().map_err(AdminError::OpenDatabase),
    }
}

pub fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    file.with_file_name(name)
}

/// A progress bar on standard error; indicatif draws nothing when that is not a terminal.
fn progress(len: usize, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}
