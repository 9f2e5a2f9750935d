//! The shared store: one PostgreSQL database used by several hookseal replicas at once.
//!
//! Connections come from a `deadpool-postgres` pool. They are plain TCP (`NoTls`): until TLS
//! to the database is supported, keep it on loopback or a private network. The URL may hold
//! a password, so it reaches no error message, log line or `Debug` output.
//!
//! Unlike the embedded store, leases are not cleared at open: other replicas hold them, and
//! a lease left by a replica that died simply runs out. Lease times come from each replica's
//! own clock, so the replicas' clocks must agree to well within the workers' lease margin.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::{
    BookingRecord, Cache, Enqueued, Filter, Finish, NewEvent, QueueStats, QueuedEvent, Store,
    StoreError, StoredEvent,
};
use crate::secret::Secret;

mod queue;
mod schema;

/// Connections per process: enough for the delivery workers' claims and finishes side by
/// side with the inbound side's enqueues.
const POOL_SIZE: usize = 16;

/// How long an operation waits for a free connection or for a new one to be made.
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    cache_ttl: Duration,
    /// The runtime the store was opened on, which lives as long as the process.
    runtime: tokio::runtime::Handle,
}

impl PostgresStore {
    /// Connects to the database at `url` and creates or migrates its schema.
    ///
    /// # Errors
    /// The URL is malformed, the database cannot be reached, or the schema cannot be migrated.
    pub async fn connect(url: &Secret, cache_ttl: Duration) -> Result<Self, StoreError> {
        // The parser's message could quote part of the URL, so it is not passed on.
        let config: tokio_postgres::Config = url.expose().parse().map_err(|_| {
            StoreError::Backend("store url is not a PostgreSQL connection URL".to_owned())
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|err| StoreError::Backend(format!("cannot build connection pool: {err}")))?;

        let store = Self {
            pool,
            cache_ttl,
            runtime: tokio::runtime::Handle::current(),
        };
        schema::migrate(&mut store.client().await?).await?;
        Ok(store)
    }

    async fn client(&self) -> Result<Client, StoreError> {
        // A new connection's task runs where the pool makes it. Made on the runtime the store
        // was opened on, it outlives the serving threads' runtimes, which end at shutdown.
        let on_store_runtime = tokio::runtime::Handle::try_current()
            .is_ok_and(|current| current.id() == self.runtime.id());
        let got = if on_store_runtime {
            self.pool.get().await
        } else {
            let pool = self.pool.clone();
            let spawned = self.runtime.spawn(async move { pool.get().await }).await;
            spawned.map_err(|err| StoreError::Backend(format!("pool task failed: {err}")))?
        };
        got.map_err(|err| {
            StoreError::Backend(format!(
                "no database connection: {}",
                crate::error::chain(&err)
            ))
        })
    }

    /// Unix ms before which a cached record has expired.
    fn oldest_live(&self) -> i64 {
        now_ms().saturating_sub(i64::try_from(self.cache_ttl.as_millis()).unwrap_or(i64::MAX))
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pool holds the connection config, password included: none of it is shown.
        f.debug_struct("PostgresStore")
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Cache for PostgresStore {
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        read_booking(&self.client().await?, uid, self.oldest_live()).await
    }

    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError> {
        write_booking(&self.client().await?, uid, record).await
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.execute("SELECT 1", &[]).await.map_err(backend)?;
        Ok(())
    }

    async fn forget_chain(&self, uid: &str) -> Result<u64, StoreError> {
        forget_chain(&mut self.client().await?, uid).await
    }

    async fn enqueue(
        &self,
        event: &NewEvent,
        repeat_window: Duration,
    ) -> Result<Enqueued, StoreError> {
        let window_ms = i64::try_from(repeat_window.as_millis()).unwrap_or(i64::MAX);
        queue::enqueue(&mut self.client().await?, event, window_ms).await
    }

    async fn claim(
        &self,
        routes: &[String],
        owner: &str,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let lease_until = now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(0));
        let claim = queue::Claim {
            routes,
            owner,
            now_ms,
            lease_until,
            limit,
        };
        queue::claim(&mut self.client().await?, &claim).await
    }

    async fn finish(&self, seq: i64, owner: &str, finish: &Finish) -> Result<(), StoreError> {
        queue::finish(&self.client().await?, seq, owner, finish).await
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        queue::stats(&self.client().await?).await
    }

    async fn pause_route(&self, route: &str, reason: &str) -> Result<(), StoreError> {
        queue::pause(&self.client().await?, route, reason, now_ms()).await
    }

    async fn resume_route(&self, route: &str) -> Result<bool, StoreError> {
        queue::resume(&self.client().await?, route).await
    }

    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        queue::list(&self.client().await?, filter, limit).await
    }

    async fn retry(&self, filter: &Filter, now_ms: i64) -> Result<u64, StoreError> {
        queue::retry(&self.client().await?, filter, now_ms).await
    }

    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
        queue::purge(&self.client().await?, filter).await
    }

    async fn expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let events = client
            .execute(
                "DELETE FROM events WHERE state = 'delivered' AND accepted_at < $1",
                &[&before_ms],
            )
            .await
            .map_err(backend)?;
        let bookings = client
            .execute(
                "DELETE FROM bookings WHERE updated_at < $1",
                &[&self.oldest_live()],
            )
            .await
            .map_err(backend)?;
        Ok(events + bookings)
    }
}

/// Deletes the cached records of `uid`'s chain and every stored event of it.
async fn forget_chain(client: &mut Client, uid: &str) -> Result<u64, StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    let root: Option<String> = tx
        .query_opt("SELECT original_uid FROM bookings WHERE uid = $1", &[&uid])
        .await
        .map_err(backend)?
        .and_then(|row| row.get(0));
    let root = root.unwrap_or_else(|| uid.to_owned());

    let events = tx
        .execute(
            "DELETE FROM events WHERE chain = $2 OR booking_uid = $1 OR booking_uid = $2
                 OR booking_uid IN (SELECT uid FROM bookings WHERE original_uid = $2)",
            &[&uid, &root],
        )
        .await
        .map_err(backend)?;
    let bookings = tx
        .execute(
            "DELETE FROM bookings WHERE uid = $1 OR uid = $2 OR original_uid = $2",
            &[&uid, &root],
        )
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(events + bookings)
}

async fn read_booking(
    client: &Client,
    uid: &str,
    oldest_ms: i64,
) -> Result<Option<BookingRecord>, StoreError> {
    let row = client
        .query_opt(
            "SELECT booking_id, metadata, previous_uid, previous_id, original_uid, original_id
             FROM bookings WHERE uid = $1 AND updated_at >= $2",
            &[&uid, &oldest_ms],
        )
        .await
        .map_err(backend)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let metadata: String = row.get(1);
    let metadata = serde_json::from_str(&metadata)
        .map_err(|err| StoreError::Corrupt(format!("metadata of booking {uid}: {err}")))?;
    Ok(Some(BookingRecord {
        booking_id: row.get(0),
        metadata,
        previous_uid: row.get(2),
        previous_id: row.get(3),
        original_uid: row.get(4),
        original_id: row.get(5),
    }))
}

/// Saves a booking's record; also inside an enqueue's transaction.
pub(super) async fn write_booking<C: deadpool_postgres::GenericClient + Sync>(
    client: &C,
    uid: &str,
    record: &BookingRecord,
) -> Result<(), StoreError> {
    let metadata = serde_json::to_string(&record.metadata)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    client
        .execute(
            "INSERT INTO bookings (uid, booking_id, metadata, previous_uid, previous_id,
                                   original_uid, original_id, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (uid) DO UPDATE SET booking_id = $2, metadata = $3, previous_uid = $4,
                 previous_id = $5, original_uid = $6, original_id = $7, updated_at = $8",
            &[
                &uid,
                &record.booking_id,
                &metadata,
                &record.previous_uid,
                &record.previous_id,
                &record.original_uid,
                &record.original_id,
                &now_ms(),
            ],
        )
        .await
        .map_err(backend)?;
    Ok(())
}

/// A driver error as a store error; the driver's messages quote no connection settings.
fn backend(err: tokio_postgres::Error) -> StoreError {
    match err.as_db_error() {
        Some(db) => StoreError::Backend(format!("database error {}: {}", db.code().code(), db)),
        None => StoreError::Backend(crate::error::chain(&err)),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        })
}
