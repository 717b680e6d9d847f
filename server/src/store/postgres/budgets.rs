//! The budgets every node on one database counts together ([`Budgets`]): seats on boards
//! (`--max-board-connections`) and new boards per client address
//! (`--creates-per-minute`), in the unlogged tables `seats` and `creations`
//! (`schema.rs`).
//!
//! A seat is one row per connection, keyed by node and connection, so giving one back
//! is deleting its own row and no count can drift. Taking one holds a transaction-scoped
//! advisory lock on the board while it counts and inserts: two nodes taking the last
//! seat at once take it one after the other, and the second finds the board full.
//! Nodes renew their seats every few seconds; one that died stops, and its seats stop
//! counting after [`SEAT_EXPIRES`], as its clients reconnect to the others.
//!
//! A creation budget is a token bucket per address, refilled by PostgreSQL's clock (the
//! one every node shares) and taken in one statement, which the row's lock serialises.
//!
//! None of this waits for the disk: a transaction that wrote only unlogged tables has
//! no log to flush, so PostgreSQL commits it at once whatever `synchronous_commit` says.

use hindsight_shared::BoardId;

use super::{bigint, bigints, PgStore};
use crate::store::{Budgets, StoreError, SEAT_EXPIRES};

/// Seats and buckets nobody renewed for this long are deleted (a bucket untouched for a
/// minute is full again, as good as none).
const FORGOTTEN_AFTER: &str = "1 minute";

/// The key of the advisory lock held while a board's seats are counted: its id's last
/// eight bytes (random; the compaction lock takes the first eight, so the two never
/// wait on each other for the same board).
fn seat_lock(board: &BoardId) -> i64 {
    let mut key = [0; 8];
    key.copy_from_slice(&board.as_bytes()[8..]);
    i64::from_be_bytes(key)
}

fn expires() -> f64 {
    SEAT_EXPIRES.as_secs_f64()
}

impl Budgets for PgStore {
    fn take_seat(&self, board: &BoardId, conn: u64, max: usize) -> Result<bool, StoreError> {
        let (id, node, conn) = (&board.as_bytes()[..], self.node as i64, bigint(conn)?);
        let mut client = self.pool.get()?;
        let taken = (|| {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&seat_lock(board)])?;
            // A statement of its own, after the lock: in READ COMMITTED it sees every
            // seat committed by whoever held the lock before.
            let seated: i64 = tx
                .query_one(
                    "SELECT count(*) FROM seats WHERE board = $1 \
                     AND renewed > now() - make_interval(secs => $2)",
                    &[&id, &expires()],
                )?
                .try_get(0)?;
            if usize::try_from(seated).unwrap_or(usize::MAX) >= max {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO seats (node, conn, board, renewed) VALUES ($1, $2, $3, now()) \
                 ON CONFLICT (node, conn) DO UPDATE SET board = excluded.board, renewed = now()",
                &[&node, &conn, &id],
            )?;
            tx.commit()?;
            Ok::<_, ::postgres::Error>(true)
        })();
        taken.map_err(|e| StoreError::from(client.failed(e)))
    }

    fn release_seats(&self, conns: &[u64]) -> Result<(), StoreError> {
        let conns = bigints(conns)?;
        self.pool.get()?.execute(
            "DELETE FROM seats WHERE node = $1 AND conn = ANY($2)",
            &[&(self.node as i64), &conns],
        )?;
        Ok(())
    }

    fn renew(&self, held: &[(u64, BoardId)]) -> Result<(), StoreError> {
        let conns = bigints(&held.iter().map(|&(c, _)| c).collect::<Vec<_>>())?;
        let boards: Vec<&[u8]> = held.iter().map(|(_, b)| &b.as_bytes()[..]).collect();
        let mut client = self.pool.get()?;
        let renewed = (|| {
            let mut tx = client.transaction()?;
            // Taken again if expired: a node cut off from the database for a while still
            // holds its connections, and they count once it is back.
            tx.execute(
                "INSERT INTO seats (node, conn, board, renewed)
                 SELECT $1, c, b, now() FROM unnest($2::bigint[], $3::bytea[]) AS s (c, b)
                 ON CONFLICT (node, conn) DO UPDATE SET renewed = now()",
                &[&(self.node as i64), &conns, &boards],
            )?;
            tx.batch_execute(&format!(
                "DELETE FROM seats WHERE renewed < now() - interval '{FORGOTTEN_AFTER}';
                 DELETE FROM creations WHERE at < now() - interval '{FORGOTTEN_AFTER}';"
            ))?;
            tx.commit()
        })();
        renewed.map_err(|e| StoreError::from(client.failed(e)))
    }

    fn take_creation(
        &self,
        address: std::net::IpAddr,
        per_minute: u32,
    ) -> Result<Result<(), u64>, StoreError> {
        if per_minute == 0 {
            return Ok(Err(60));
        }
        let burst = f64::from(per_minute);
        let mut client = self.pool.get()?;
        // The bucket as of now: what it held, refilled at `burst` a minute since, up to
        // `burst`. The update happens only if that leaves a token to take.
        let taken = client.query_opt(
            "INSERT INTO creations AS c (address, tokens, at) VALUES ($1, $2::float8 - 1, now())
             ON CONFLICT (address) DO UPDATE
                 SET tokens = least($2::float8, c.tokens
                         + extract(epoch FROM now() - c.at)::float8 * $2::float8 / 60) - 1,
                     at = now()
                 WHERE least($2::float8, c.tokens
                         + extract(epoch FROM now() - c.at)::float8 * $2::float8 / 60) >= 1
             RETURNING tokens",
            &[&address, &burst],
        )?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let row = client.query_one(
            "SELECT least($2::float8, tokens + extract(epoch FROM now() - at)::float8 * $2::float8 / 60)
             FROM creations WHERE address = $1",
            &[&address, &burst],
        )?;
        let tokens: f64 = row.try_get(0)?;
        let wait = ((1.0 - tokens).max(0.0) * 60.0 / burst).ceil() as u64;
        Ok(Err(wait.max(1)))
    }
}
