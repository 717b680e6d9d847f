//! The PostgreSQL store, for several nodes on one database (`--database`).
//!
//! Tables (`schema.rs`, migrated by the binary at start): `boards` (id → snapshot,
//! `upto`, link hashes), `updates` (board, seq → one update; a compaction leaves the
//! newest it folded in, for other nodes to catch up with, and loading skips them), `versions` (board, time →
//! a kept version and its size), `probe` (the readiness probe's row). Updates and
//! versions go with their board (`ON DELETE CASCADE`), so deleting a board is one
//! statement, and no update or version is stored for a board that does not exist.
//!
//! Durable means committed: every connection runs with `synchronous_commit = on`
//! (`pool.rs`), so a call that changes what is stored returns after PostgreSQL has
//! flushed its commit to disk. [`Store::write`] and [`Store::keep_version`] are therefore
//! durable on return already, and [`Store::flush`] has nothing left to do — which keeps
//! the contract, since every write that returned before a flush is durable.
//!
//! Writes of several boards that come together share one transaction
//! (`together.rs`, [`PgStore::write_all`]): most of a small write's cost in PostgreSQL
//! is the transaction around it.
//!
//! Several nodes: each store has a random node id. Once a write has committed, it
//! NOTIFYs `hindsight_updates` in a short transaction of its own (`<board hex>:<first
//! seq>:<count>:<node id>`, then the updates in base64 when they fit in a notification;
//! not in the writing transaction, as PostgreSQL would serialise the commits of all of
//! them, see `notify_written`); [`Store::watch`] LISTENs on a connection
//! of its own, on a thread of its own (`listen.rs`), and reports the other nodes'
//! writes. A write never lands below the board's `upto`, where a compaction would
//! already have dropped it; and [`Store::compact`] runs for one node at a time per
//! board, under a transaction-scoped advisory lock (another node's is skipped).
//! Presence goes to the other nodes as notifications too, on a channel of its own
//! (`hindsight_presence`), never stored. An operator's deletion or relink of a board
//! notifies `hindsight_admin` in its statement, so every node ends its connections to a
//! deleted board, or to one whose links were replaced, as soon as it commits. The
//! budgets that bound what clients may make the deployment hold (seats on a board, new
//! boards per address) are counted in the database for all nodes together
//! (`budgets.rs`).
//!
//! This store must be called from blocking threads (`store::blocking`, the offline
//! commands), never from an async worker: the `postgres` client runs a small runtime of
//! its own per connection, which tokio refuses to start inside another.
//!
//! TLS: the connection string's `sslmode`, `sslrootcert`, `sslcert` and `sslkey`, as
//! libpq reads them (`tls.rs`, rustls on ring).

mod budgets;
mod listen;
mod pool;
mod schema;
mod tls;
mod together;

use std::error::Error;
use std::fmt;

use ::postgres::error::SqlState;
use ::postgres::types::{FromSql, ToSql};
use ::postgres::{IsolationLevel, Row, ToStatement};
use hindsight_shared::{AccessHashes, BoardId};

use self::pool::{Conn, Pool};
pub use self::pool::{DatabaseUrl, MAX_CONNECTIONS};
pub use self::schema::{NewerSchema, SCHEMA_VERSION};
pub use self::together::Batch;
use self::together::Together;
use super::{Budgets, Changes, Heard, Links, Store, StoreError, StoredBoard};

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> StoreError {
        StoreError::backend(Engine(e))
    }
}

/// A `postgres` error shown with its causes: the client's own message names only the
/// kind of failure ("error connecting to server", "db error"), and logs and the command
/// line print an error's `Display` alone.
#[derive(Debug)]
struct Engine(::postgres::Error);

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

impl Error for Engine {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

/// Updates a compaction leaves in place below its snapshot's `upto` (see
/// [`PgStore::keeping_after_compaction`]).
pub const KEPT_AFTER_COMPACTION: u64 = 1_000;

/// Boards in a PostgreSQL database, reached through a few pooled connections.
pub struct PgStore {
    pool: Pool,
    /// Random, per process: the writes this node's listener ignores as its own.
    node: u64,
    /// Updates a compaction keeps below `upto`.
    kept: u64,
    /// Rooms' writes waiting to share a transaction (`together.rs`).
    together: Together,
}

impl PgStore {
    /// Connects, and creates or migrates the schema (`schema.rs`); a database the
    /// binary cannot reach, or migrated by a newer binary, is an error here.
    pub fn open(url: &DatabaseUrl) -> Result<PgStore, StoreError> {
        let pool = Pool::new(url)?;
        schema::migrate(&mut *pool.get()?)?;
        let mut node = [0; 8];
        getrandom::fill(&mut node).map_err(|e| StoreError::backend(e.to_string()))?;
        Ok(PgStore {
            pool,
            node: u64::from_le_bytes(node),
            kept: KEPT_AFTER_COMPACTION,
            together: Together::default(),
        })
    }

    /// How many of the updates a snapshot covers its compaction leaves in place (the
    /// newest below `upto`; loading skips them). Another node that is a little behind —
    /// as every node serving the board is, by the updates it has not heard of yet — then
    /// catches up with the few updates it lacks instead of the whole snapshot: applying
    /// a board's whole state stalled its room for as long as that takes, on every node,
    /// at every compaction. [`KEPT_AFTER_COMPACTION`] unless set.
    pub fn keeping_after_compaction(mut self, kept: u64) -> PgStore {
        self.kept = kept;
        self
    }
}

impl PgStore {
    /// Stores several boards' batches, one per board, each whole or not at all: one
    /// result per write, in order. Several go in one transaction, and their notices in
    /// one more; should that transaction fail as a whole (a deadlock with another
    /// node's, a broken connection), each is tried again alone.
    pub fn write_all(&self, writes: &[Batch]) -> Vec<Result<(), StoreError>> {
        if let [write] = writes {
            return vec![self.write_one(write)];
        }
        match self.write_together(writes) {
            Ok(results) => results,
            Err(e) => {
                tracing::debug!(error = %e, writes = writes.len(), "writing a group failed; writing each alone");
                writes.iter().map(|w| self.write_one(w)).collect()
            }
        }
    }

    /// One statement, so the batch is stored whole or not at all. A sequence number
    /// another writer already took is refused by the primary key, and one below the
    /// board's `upto` (a compaction by another node dropped the updates there) by the
    /// check against it: both [`StoreError::Conflict`], after which the writer catches
    /// up and writes at its new `next_seq`. `FOR SHARE` makes a compaction that moves
    /// `upto` wait for this write, or this write see its `upto`.
    ///
    /// The other nodes' notice goes out in a transaction of its own, once the updates
    /// are committed (see [`notify_written`]).
    fn write_one(&self, write: &Batch) -> Result<(), StoreError> {
        let Batch {
            board,
            first_seq,
            updates,
        } = write;
        let id = &board.as_bytes()[..];
        let data: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
        let mut conn = self.pool.get()?;
        let written = run_prepared(
            &mut conn,
            "WITH b AS (SELECT upto FROM boards WHERE id = $1 FOR SHARE)
             INSERT INTO updates (board, seq, data)
             SELECT $1, $2 + n - 1, d
             FROM b, unnest($3::bytea[]) WITH ORDINALITY AS u (d, n)
             WHERE $2 >= b.upto",
            &[&id, &bigint(*first_seq)?, &data],
        );
        match written {
            Ok(0) => Err(refused(&mut conn, board)),
            Ok(_) => {
                let note = listen::payload(board, *first_seq, updates, self.node);
                notify_written(&mut conn, &[note]);
                Ok(())
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::Conflict(*board))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// [`PgStore::write_one`] for several boards (one batch each) in one transaction.
    /// Taken numbers are passed over (`ON CONFLICT DO NOTHING`) rather than failing the
    /// statement, which would fail every board's write; a board of which only some rows
    /// went in has them taken out again before the commit, and is refused as a conflict.
    /// The statement inserts in (board, seq) order, as every node's groups do, so two
    /// groups waiting on each other's numbers cannot both wait.
    fn write_together(&self, writes: &[Batch]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let (mut boards, mut firsts, mut seqs, mut data) = (vec![], vec![], vec![], vec![]);
        for w in writes {
            let first = bigint(w.first_seq)?;
            for (n, update) in w.updates.iter().enumerate() {
                boards.push(&w.board.as_bytes()[..]);
                firsts.push(first);
                seqs.push(first + n as i64);
                data.push(update.as_slice());
            }
        }
        let ids: Vec<&[u8]> = writes.iter().map(|w| &w.board.as_bytes()[..]).collect();
        let mut conn = self.pool.get()?;
        let insert = conn.prepared(
            "WITH b AS (SELECT id, upto FROM boards WHERE id = ANY($5) FOR SHARE)
             INSERT INTO updates (board, seq, data)
             SELECT i.board, i.seq, i.data
             FROM unnest($1::bytea[], $2::bigint[], $3::bigint[], $4::bytea[])
                 AS i (board, first, seq, data)
             JOIN b ON b.id = i.board
             WHERE i.first >= b.upto
             ORDER BY i.board, i.seq
             ON CONFLICT DO NOTHING
             RETURNING board, seq",
        )?;
        // The numbers stored of each write, by its place in `writes`.
        let outcome = (|| {
            let mut tx = conn.transaction()?;
            let mut stored = vec![Vec::<i64>::new(); writes.len()];
            for row in tx.query(&insert, &[&boards, &firsts, &seqs, &data, &ids])? {
                let board: &[u8] = row.try_get(0)?;
                if let Some(at) = ids.iter().position(|id| *id == board) {
                    stored[at].push(row.try_get(1)?);
                }
            }
            for ((w, id), seqs) in writes.iter().zip(&ids).zip(&stored) {
                if !seqs.is_empty() && seqs.len() < w.updates.len() {
                    tx.execute(
                        "DELETE FROM updates WHERE board = $1 AND seq = ANY($2)",
                        &[id, seqs],
                    )?;
                }
            }
            tx.commit()?;
            Ok::<_, ::postgres::Error>(stored)
        })();
        let stored = outcome.map_err(|e| StoreError::from(conn.failed(e)))?;
        let mut notes = Vec::new();
        let results = writes
            .iter()
            .zip(&stored)
            .map(|(w, seqs)| match seqs.len() {
                0 => Err(refused(&mut conn, &w.board)),
                n if n < w.updates.len() => Err(StoreError::Conflict(w.board)),
                _ => {
                    notes.push(listen::payload(
                        &w.board,
                        w.first_seq,
                        &w.updates,
                        self.node,
                    ));
                    Ok(())
                }
            })
            .collect();
        notify_written(&mut conn, &notes);
        Ok(results)
    }
}

/// Why nothing of a write to `board` went in: its numbers were taken or below `upto`
/// (a conflict, as long as the board is there), or there is no such board.
fn refused(conn: &mut Conn<'_>, board: &BoardId) -> StoreError {
    match conn.query_opt(
        "SELECT 1 FROM boards WHERE id = $1",
        &[&&board.as_bytes()[..]],
    ) {
        Ok(Some(_)) => StoreError::Conflict(*board),
        Ok(None) => StoreError::backend(format!("no board {board} to write to")),
        Err(e) => e.into(),
    }
}

impl Drop for PgStore {
    /// The last handle on a store may go in an async task (the server's shutdown);
    /// closing a `postgres` connection there would start its runtime inside tokio's, so
    /// the connections are closed on a thread of their own.
    fn drop(&mut self) {
        let idle = self.pool.drain();
        std::thread::scope(|s| {
            s.spawn(move || drop(idle));
        });
    }
}

/// A sequence number or time as PostgreSQL's `bigint`.
fn bigint(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::backend(format!("{n} is out of bigint's range")))
}

/// Numbers as a PostgreSQL `bigint[]`.
fn bigints(ns: &[u64]) -> Result<Vec<i64>, StoreError> {
    ns.iter().map(|&n| bigint(n)).collect()
}

/// The key of the advisory lock a board's compaction holds: its id's first eight bytes,
/// which are random (a clash with another board only makes one compaction wait a turn).
fn compaction_lock(board: &BoardId) -> i64 {
    let mut key = [0; 8];
    key.copy_from_slice(&board.as_bytes()[..8]);
    i64::from_be_bytes(key)
}

/// Column `i` of a row of `board`'s; a value of the wrong type or sign is corrupt.
fn column<'a, T: FromSql<'a>>(board: &BoardId, row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(|_| StoreError::Corrupt(*board))
}

fn unsigned(board: &BoardId, row: &Row, i: usize) -> Result<u64, StoreError> {
    u64::try_from(column::<i64>(board, row, i)?).map_err(|_| StoreError::Corrupt(*board))
}

/// Tells the other nodes about updates already committed, in a transaction that does not
/// wait for the disk (`synchronous_commit` off for it alone: what it announces is durable
/// already, and a lost notice is found by the rooms' periodic catch-up).
///
/// Not in the writing transaction: PostgreSQL serialises the commits of every
/// transaction that notifies, under one lock held until its commit is on disk, so
/// notifying writes could only commit one after another, each waiting out its own flush:
/// one write per flush for every board of every node, a few hundred a second where a
/// flush takes milliseconds. Apart, the writes' commits share their flushes; only this
/// short transaction is serialised, and it flushes nothing.
///
/// A notice that cannot be sent is logged and otherwise ignored: the updates are stored,
/// and the other nodes read them on their next catch-up.
fn notify_written(conn: &mut Conn<'_>, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    let sent = run_prepared(
        conn,
        "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, note)
         FROM unnest($2::text[]) AS note",
        &[&listen::CHANNEL, &notes],
    );
    if let Err(e) = sent {
        tracing::warn!(writes = notes.len(), error = %Engine(e), "could not notify the other nodes of a write; they will catch up");
    }
}

/// Runs a statement of a hot path, prepared once per connection (`pool.rs`); the rows
/// it changed.
fn run_prepared(
    conn: &mut Conn<'_>,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, ::postgres::Error> {
    let statement = conn.prepared(sql)?;
    conn.execute(&statement, params).map_err(|e| conn.failed(e))
}

/// The text of [`updates_from`]'s query.
const UPDATES_FROM: &str =
    "SELECT seq, data FROM updates WHERE board = $1 AND seq >= $2 ORDER BY seq";

/// A read-only transaction that sees one moment throughout: a board's snapshot and the
/// updates after it, with no compaction in between.
fn consistent_read(
    conn: &mut ::postgres::Client,
) -> Result<::postgres::Transaction<'_>, StoreError> {
    Ok(conn
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

/// The board's updates numbered `from` on, in order, and the number the next one takes;
/// `query` is [`UPDATES_FROM`], as text or prepared.
fn updates_from<Q: ToStatement + ?Sized>(
    tx: &mut ::postgres::Transaction<'_>,
    query: &Q,
    board: &BoardId,
    from: u64,
) -> Result<(Vec<Vec<u8>>, u64), StoreError> {
    let mut updates = Vec::new();
    let mut next_seq = from;
    for row in tx.query(query, &[&&board.as_bytes()[..], &bigint(from)?])? {
        next_seq = unsigned(board, &row, 0)? + 1;
        updates.push(column(board, &row, 1)?);
    }
    Ok((updates, next_seq))
}

/// [`Store::changes_since`] in one repeatable-read transaction, with its two statements
/// prepared: a compaction by another node is seen wholly or not at all.
fn read_changes(
    conn: &mut Conn<'_>,
    board: &BoardId,
    id: &[u8],
    seq: i64,
    board_at: &::postgres::Statement,
    later: &::postgres::Statement,
) -> Result<Option<Changes>, StoreError> {
    let mut tx = consistent_read(conn)?;
    // The snapshot only when a compaction dropped update `seq` itself: a compaction
    // drops the oldest updates, so while that one is kept, every later one is too.
    let Some(row) = tx.query_opt(board_at, &[&id, &seq])? else {
        return Ok(None);
    };
    let upto = unsigned(board, &row, 0)?;
    let snapshot: Option<Vec<u8>> = column(board, &row, 1)?;
    let from = if snapshot.is_some() {
        upto.max(seq as u64)
    } else {
        seq as u64
    };
    let (updates, next_seq) = updates_from(&mut tx, later, board, from)?;
    tx.commit()?;
    Ok(Some(Changes {
        snapshot,
        updates,
        next_seq,
    }))
}

impl Store for PgStore {
    fn create(
        &self,
        board: &BoardId,
        snapshot: &[u8],
        links: Option<&AccessHashes>,
    ) -> Result<(), StoreError> {
        let links = links.map(|l| l.to_bytes().to_vec());
        let created = self.pool.get()?.execute(
            "INSERT INTO boards (id, snapshot, upto, links) VALUES ($1, $2, 0, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&&board.as_bytes()[..], &snapshot, &links],
        )?;
        match created {
            0 => Err(StoreError::AlreadyExists),
            _ => Ok(()),
        }
    }

    /// One repeatable-read transaction sees the snapshot and the updates after it as of
    /// one moment, so a compaction committed meanwhile (by this node or another) is
    /// either wholly seen or not at all.
    fn load(&self, board: &BoardId) -> Result<Option<StoredBoard>, StoreError> {
        let id = &board.as_bytes()[..];
        let mut conn = self.pool.get()?;
        let mut tx = consistent_read(&mut conn)?;
        let Some(row) = tx.query_opt("SELECT snapshot, upto FROM boards WHERE id = $1", &[&id])?
        else {
            return Ok(None);
        };
        let upto = unsigned(board, &row, 1)?;
        let snapshot = column(board, &row, 0)?;
        let (updates, next_seq) = updates_from(&mut tx, UPDATES_FROM, board, upto)?;
        tx.commit()?;
        Ok(Some(StoredBoard {
            snapshot,
            updates,
            next_seq,
        }))
    }

    fn links(&self, board: &BoardId) -> Result<Links, StoreError> {
        let row = self.pool.get()?.query_opt(
            "SELECT links FROM boards WHERE id = $1",
            &[&&board.as_bytes()[..]],
        )?;
        let Some(row) = row else {
            return Ok(Links::NoBoard);
        };
        match column::<Option<&[u8]>>(board, &row, 0)? {
            None => Ok(Links::Unlinked),
            Some(bytes) => AccessHashes::from_bytes(bytes)
                .map(Links::Hashes)
                .ok_or(StoreError::Corrupt(*board)),
        }
    }

    /// With a notification (sent on commit) to the other nodes, whose connections to the
    /// board came in through the old links and must end there too.
    fn set_links(&self, board: &BoardId, links: &AccessHashes) -> Result<bool, StoreError> {
        let note = listen::admin_payload(board, self.node, listen::RELINKED);
        let set = self.pool.get()?.execute(
            "WITH set AS (UPDATE boards SET links = $2 WHERE id = $1 RETURNING id)
             SELECT pg_notify($3, $4) FROM set",
            &[
                &&board.as_bytes()[..],
                &&links.to_bytes()[..],
                &listen::ADMIN,
                &note,
            ],
        )?;
        Ok(set > 0)
    }

    /// Queued with the writes of other rooms that come meanwhile, and stored with them
    /// ([`PgStore::write_all`]).
    fn write(
        &self,
        board: &BoardId,
        first_seq: u64,
        updates: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        if updates.is_empty() {
            return Ok(());
        }
        let write = Batch {
            board: *board,
            first_seq,
            updates: updates.to_vec(),
        };
        self.together.write(write, |group| self.write_all(group))
    }

    /// One transaction, for one node at a time: another node compacting the board holds
    /// its advisory lock, and this compaction is skipped (the next one will do). A
    /// snapshot older than the stored one (`upto` below it, from a compaction that lost a
    /// race) changes nothing; the updates dropped are those below `upto` only, so
    /// whatever other nodes appended after what this snapshot covers stays.
    fn compact(&self, board: &BoardId, snapshot: &[u8], upto: u64) -> Result<(), StoreError> {
        let (id, upto) = (&board.as_bytes()[..], bigint(upto)?);
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        let locked: bool = tx
            .query_one(
                "SELECT pg_try_advisory_xact_lock($1)",
                &[&compaction_lock(board)],
            )?
            .try_get(0)?;
        if !locked {
            tracing::debug!(%board, "another node is compacting the board; skipped");
            return Ok(());
        }
        let moved = tx.execute(
            "UPDATE boards SET snapshot = $2, upto = $3 WHERE id = $1 AND upto <= $3",
            &[&id, &snapshot, &upto],
        )?;
        if moved > 0 {
            tx.execute(
                "DELETE FROM updates WHERE board = $1 AND seq < $2",
                &[&id, &(upto - bigint(self.kept)?).max(0)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every write committed durably before it returned (see the module's comment).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn durable_on_write(&self) -> bool {
        true
    }

    fn list(&self) -> Result<Vec<BoardId>, StoreError> {
        self.pool
            .get()?
            .query("SELECT id FROM boards ORDER BY id", &[])?
            .iter()
            .map(|row| {
                let id: &[u8] = row.try_get(0)?;
                let id: [u8; 16] = id
                    .try_into()
                    .map_err(|_| StoreError::backend("malformed board id"))?;
                Ok(BoardId::from_bytes(id))
            })
            .collect()
    }

    /// One statement: the board's updates and versions go with it.
    /// With a notification (sent on commit), so that the other nodes end their rooms of
    /// the board at once rather than at their next write or catch-up.
    fn delete(&self, board: &BoardId) -> Result<bool, StoreError> {
        let note = listen::admin_payload(board, self.node, listen::DELETED);
        let deleted = self.pool.get()?.execute(
            "WITH gone AS (DELETE FROM boards WHERE id = $1 RETURNING id)
             SELECT pg_notify($2, $3) FROM gone",
            &[&&board.as_bytes()[..], &listen::ADMIN, &note],
        )?;
        Ok(deleted > 0)
    }

    fn probe(&self) -> Result<(), StoreError> {
        run_prepared(
            &mut self.pool.get()?,
            "INSERT INTO probe (at) VALUES (now()) ON CONFLICT (one) DO UPDATE SET at = now()",
            &[],
        )?;
        Ok(())
    }

    /// The tables with their indexes and TOAST data, not the rest of the database.
    fn data_bytes(&self) -> Result<u64, StoreError> {
        let row = self.pool.get()?.query_one(
            "SELECT pg_total_relation_size('boards') + pg_total_relation_size('updates')
                  + pg_total_relation_size('versions')",
            &[],
        )?;
        let bytes: i64 = row.try_get(0)?;
        Ok(bytes.max(0) as u64)
    }

    fn keep_version(&self, board: &BoardId, at: u64, state: &[u8]) -> Result<(), StoreError> {
        self.pool.get()?.execute(
            "INSERT INTO versions (board, at, state, bytes) VALUES ($1, $2, $3, $4)
             ON CONFLICT (board, at) DO UPDATE SET state = excluded.state, bytes = excluded.bytes",
            &[
                &&board.as_bytes()[..],
                &bigint(at)?,
                &state,
                &bigint(state.len() as u64)?,
            ],
        )?;
        Ok(())
    }

    fn versions(&self, board: &BoardId) -> Result<Vec<(u64, u64)>, StoreError> {
        self.pool
            .get()?
            .query(
                "SELECT at, bytes FROM versions WHERE board = $1 ORDER BY at",
                &[&&board.as_bytes()[..]],
            )?
            .iter()
            .map(|row| Ok((unsigned(board, row, 0)?, unsigned(board, row, 1)?)))
            .collect()
    }

    fn version(&self, board: &BoardId, at: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.pool
            .get()?
            .query_opt(
                "SELECT state FROM versions WHERE board = $1 AND at = $2",
                &[&&board.as_bytes()[..], &bigint(at)?],
            )?
            .map(|row| column(board, &row, 0))
            .transpose()
    }

    /// Like [`Store::load`], one repeatable-read transaction: a compaction by another
    /// node is seen wholly or not at all. The snapshot is read only when it covers
    /// updates asked for.
    fn changes_since(&self, board: &BoardId, seq: u64) -> Result<Option<Changes>, StoreError> {
        let (id, seq) = (&board.as_bytes()[..], bigint(seq)?);
        let mut conn = self.pool.get()?;
        // Every node asks this of every board it serves every few seconds.
        let (board_at, later) = (
            conn.prepared(
                "SELECT upto, CASE WHEN upto > $2 AND NOT EXISTS \
                     (SELECT 1 FROM updates WHERE board = $1 AND seq = $2) THEN snapshot END \
                 FROM boards WHERE id = $1",
            )?,
            conn.prepared(UPDATES_FROM)?,
        );
        let changes = read_changes(&mut conn, board, id, seq, &board_at, &later);
        if changes.is_err() {
            conn.forget_prepared();
        }
        changes
    }

    fn watch(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Heard>> {
        Some(listen::spawn(
            self.pool.config().clone(),
            self.pool.connector().clone(),
            self.node,
        ))
    }

    fn publish_presence(&self, board: &BoardId, message: &[u8]) -> Result<(), StoreError> {
        let Some(payload) = listen::presence_payload(board, self.node, message) else {
            return Ok(());
        };
        run_prepared(
            &mut self.pool.get()?,
            "SELECT pg_notify($1, $2)",
            &[&listen::PRESENCE, &payload],
        )?;
        Ok(())
    }

    fn budgets(&self) -> Option<&dyn Budgets> {
        Some(self)
    }

    fn forget_versions(&self, board: &BoardId, ats: &[u64]) -> Result<(), StoreError> {
        let ats = bigints(ats)?;
        self.pool.get()?.execute(
            "DELETE FROM versions WHERE board = $1 AND at = ANY($2)",
            &[&&board.as_bytes()[..], &ats],
        )?;
        Ok(())
    }
}
