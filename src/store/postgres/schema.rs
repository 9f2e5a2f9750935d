//! The shared store's schema: created and migrated forward by hookseal itself, one version
//! at a time, while every other replica that starts at the same moment waits its turn.

use deadpool_postgres::Client;

use super::backend;
use crate::store::StoreError;

/// The schema version this build writes; older databases are migrated forward on open.
const SCHEMA_VERSION: i64 = 3;

/// Each migration takes the schema from the version before it to its index + 1.
///
/// All times are unix milliseconds in `BIGINT` columns; bodies and raw header values are
/// `BYTEA`. The tables mirror the embedded store's, so both backends behave alike.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE bookings (
        uid TEXT PRIMARY KEY,
        booking_id BIGINT,
        metadata TEXT NOT NULL,
        previous_uid TEXT,
        previous_id BIGINT,
        original_uid TEXT,
        original_id BIGINT,
        updated_at BIGINT NOT NULL
    );
    CREATE INDEX bookings_original ON bookings (original_uid);
    CREATE INDEX bookings_updated ON bookings (updated_at);",
    super::queue::MIGRATION,
    super::queue::WAITING_INDEX,
];

// Every version has its migration, so `MIGRATIONS[version..]` is always in bounds.
const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// Key of the transaction-scoped advisory lock that serialises migrations between replicas
/// (the ASCII bytes of `hookseal`).
const MIGRATION_LOCK: i64 = 0x686f_6f6b_7365_616c;

/// Creates or migrates the schema in one transaction under [`MIGRATION_LOCK`].
///
/// A second replica starting at the same time blocks on the lock, then finds the version
/// already current and changes nothing. A failed migration rolls back whole.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS hookseal_schema (
             one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
             version BIGINT NOT NULL
         );
         INSERT INTO hookseal_schema (version) VALUES (0) ON CONFLICT (one) DO NOTHING;",
    )
    .await
    .map_err(backend)?;
    let version: i64 = tx
        .query_one("SELECT version FROM hookseal_schema", &[])
        .await
        .map_err(backend)?
        .get(0);
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "store schema version {version} is newer than this build's {SCHEMA_VERSION}"
        )));
    }

    let start = usize::try_from(version).unwrap_or(0);
    for migration in &MIGRATIONS[start..] {
        tx.batch_execute(migration).await.map_err(backend)?;
    }
    tx.execute(
        "UPDATE hookseal_schema SET version = $1",
        &[&SCHEMA_VERSION],
    )
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)
}
