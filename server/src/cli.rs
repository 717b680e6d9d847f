//! The `hindsight` command line: with no command it serves (flags in [`Config`]); the
//! commands administer the data directory offline (see `admin.rs`), or, with `--server`,
//! a running server (`remote.rs`: all but `restore` and `boards import`). Only parsing lives
//! here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::store::DatabaseUrl;

#[derive(Parser, Debug)]
#[command(
    name = "hindsight",
    version,
    about = "Real-time whiteboard for blameless postmortems",
    long_about = "Real-time whiteboard for blameless postmortems.\n\n\
        Without a command, serves the boards in --data-dir (or --database). The commands \
        work on the data directory (or database) directly and need the server stopped (the \
        data directory is locked while it runs); all but `restore` and `boards import` also work against a running server \
        with --server and --admin-token-file."
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Run the command against this running server (`http://host:port`)
    /// through its admin API, with the token from --admin-token-file, instead of on the
    /// data directory: no need to stop it.
    #[arg(long, env = "HINDSIGHT_SERVER", global = true, value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List, export, import or delete boards, or replace their links.
    #[command(subcommand)]
    Boards(BoardsCommand),
    /// Write every board to one backup file.
    Backup {
        /// Where to write the backup; replaced if it exists.
        file: PathBuf,
    },
    /// Copy every board (document, links and history) from a data directory into a
    /// PostgreSQL database, then read each back and check it is the same.
    Migrate {
        /// The data directory to copy from (left as it is).
        #[arg(long, value_name = "DIR")]
        from_data_dir: PathBuf,
        /// The database to copy into; its schema is created if needed.
        #[arg(long, value_name = "URL", value_parser = DatabaseUrl::parse)]
        to_database: DatabaseUrl,
        /// Copy into a database that already holds boards; boards with the same id are
        /// replaced, others are kept.
        #[arg(long)]
        force: bool,
    },
    /// Restore every board from a backup file, after checking all of it.
    Restore {
        file: PathBuf,
        /// Restore into a data directory that already holds boards; boards in the backup
        /// replace those with the same id, others are kept.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum BoardsCommand {
    /// One line per board: id, notes, incident date, title.
    List,
    /// Print a board as a Markdown postmortem or a JSON export.
    Export {
        /// The board id (32 hex digits, the last part of its link).
        id: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Make a new board from a JSON export; prints its links and facilitator key.
    Import { file: PathBuf },
    /// Give a board a new edit link and read-only link; the old ones stop working.
    Links {
        /// The board id (32 hex digits, the last part of its link).
        id: String,
    },
    /// Delete a board and its history for good.
    Delete { id: String },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// A Markdown postmortem document.
    Md,
    /// The JSON export, which `boards import` and the start page can restore.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("hindsight").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn serving_needs_no_command_and_commands_take_the_data_dir_anywhere() {
        let serve = parse(&["--addr", "127.0.0.1:0", "--data-dir", "/srv/h"]);
        assert!(serve.command.is_none());
        assert_eq!(serve.config.data_dir, PathBuf::from("/srv/h"));

        let list = parse(&["boards", "list", "--data-dir", "/srv/h"]);
        assert!(matches!(
            list.command,
            Some(Command::Boards(BoardsCommand::List))
        ));
        assert_eq!(list.config.data_dir, PathBuf::from("/srv/h"));

        let export = parse(&["boards", "export", "abc", "--format", "json"]);
        assert!(matches!(
            export.command,
            Some(Command::Boards(BoardsCommand::Export {
                format: ExportFormat::Json,
                ..
            }))
        ));
        let restore = parse(&["--data-dir", "d", "restore", "f.bak", "--force"]);
        assert!(matches!(
            restore.command,
            Some(Command::Restore { force: true, .. })
        ));
    }
}
