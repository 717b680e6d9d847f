//! The PostgreSQL schema, as an ordered list of migrations the binary applies itself.
//!
//! `hindsight_schema` holds one row: the number of migrations applied. At start the store
//! takes a transaction-scoped advisory lock (so nodes starting together migrate one after
//! another), applies the migrations past that number and records the new one, all in one
//! transaction: PostgreSQL's DDL is transactional, so a failed migration leaves the
//! schema as it was. A database at a version beyond [`MIGRATIONS`] was migrated by a newer
//! binary and is refused rather than written in a shape this one does not know.
//!
//! Migrations are only ever appended; one that has shipped is never edited.

use postgres::Client;

use crate::store::StoreError;

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: boards, their updates and kept versions, and the readiness probe's row.
    "CREATE TABLE boards (
        id bytea PRIMARY KEY CHECK (length(id) = 16),
        -- The whole document as one v1 update, covering every update numbered below upto.
        snapshot bytea NOT NULL,
        upto bigint NOT NULL CHECK (upto >= 0),
        -- The SHA-256 of the edit token and of the read token; null: no links yet.
        links bytea
    );
    -- The primary key refuses a second update with the same number, so two writers of
    -- one board cannot both take a sequence number.
    CREATE TABLE updates (
        board bytea NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        seq bigint NOT NULL CHECK (seq >= 0),
        data bytea NOT NULL,
        PRIMARY KEY (board, seq)
    );
    CREATE TABLE versions (
        board bytea NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        at bigint NOT NULL,
        state bytea NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (board, at)
    );
    CREATE TABLE probe (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        at timestamptz NOT NULL
    );",
    // 2: the budgets every node counts together (`budgets.rs`): one row per connection
    // to a board (its seat, renewed by its node), one per client address that created
    // boards lately. Unlogged: never written to the WAL nor replicated, and emptied if
    // PostgreSQL crashes, which only starts every budget afresh.
    "CREATE UNLOGGED TABLE seats (
        node bigint NOT NULL,
        conn bigint NOT NULL,
        board bytea NOT NULL,
        renewed timestamptz NOT NULL,
        PRIMARY KEY (node, conn)
    );
    CREATE INDEX seats_of_board ON seats (board);
    CREATE UNLOGGED TABLE creations (
        address inet PRIMARY KEY,
        tokens double precision NOT NULL,
        at timestamptz NOT NULL
    );",
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// The key of the advisory lock that migrations hold: "hindsigh" in ASCII.
const MIGRATION_LOCK: i64 = 0x6869_6e64_7369_6768;

/// The database was migrated by a newer binary.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database's schema is at version {found}, newer than this hindsight knows \
     (up to {SCHEMA_VERSION}); run the newer hindsight that migrated it"
)]
pub struct NewerSchema {
    pub found: i32,
}

/// Brings the schema to [`SCHEMA_VERSION`], or refuses a newer one.
pub fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hindsight_schema (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            version integer NOT NULL
        );
        INSERT INTO hindsight_schema (version) VALUES (0) ON CONFLICT (one) DO NOTHING;",
    )?;
    let found: i32 = tx
        .query_one("SELECT version FROM hindsight_schema", &[])?
        .try_get(0)?;
    let applied = usize::try_from(found)
        .map_err(|_| StoreError::backend(format!("schema version {found} is not a version")))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::backend(NewerSchema { found }));
    }
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        tracing::info!(version = version + 1, "migrating the database schema");
        tx.batch_execute(migration)?;
    }
    tx.execute(
        "UPDATE hindsight_schema SET version = $1",
        &[&SCHEMA_VERSION],
    )?;
    tx.commit()?;
    Ok(())
}
