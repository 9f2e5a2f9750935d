//! The store: the metadata cache, the reschedule links and (for queued routes) the delivery
//! queue, behind one trait with one file per backend.

use std::fmt::Debug;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};

pub mod deferred;
pub mod postgres;
pub mod queue;
pub mod sqlite;

pub use queue::{
    Enqueued, EventState, Filter, Finish, NewEvent, QueueStats, QueuedEvent, StoredEvent,
};

/// What hookseal remembers about one booking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BookingRecord {
    /// cal.com's numeric booking id, once learned.
    pub booking_id: Option<i64>,
    /// The booker's metadata, merged from every event that carried some.
    pub metadata: Map<String, Value>,
    /// The booking this one was rescheduled from.
    pub previous_uid: Option<String>,
    /// The numeric id of `previous_uid`, once learned.
    pub previous_id: Option<i64>,
    /// The first booking of the chain that hookseal saw.
    pub original_uid: Option<String>,
    /// The numeric id of `original_uid`, once learned.
    pub original_id: Option<i64>,
}

/// A store operation failed; the caller decides whether that loses enrichment or refuses.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend reported an error.
    #[error("store backend failed: {0}")]
    Backend(String),
    /// A stored value could not be decoded.
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

/// The metadata cache and reschedule links: all that enrichment needs.
#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    /// The cached record of a booking, unless absent or expired.
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError>;

    /// Saves a booking's record and restarts its expiry clock.
    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError>;
}

/// The operations every backend provides: the cache, the queue, and their upkeep.
#[async_trait::async_trait]
pub trait Store: Cache + Debug + 'static {
    /// Answers when the backend is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Erases the cached records, links and stored events of every booking in `uid`'s chain;
    /// returns how many rows went.
    async fn forget_chain(&self, uid: &str) -> Result<u64, StoreError>;

    /// Commits an accepted event durably, unless it repeats an event with the same id
    /// accepted on the same route within `repeat_window`.
    async fn enqueue(
        &self,
        event: &NewEvent,
        repeat_window: Duration,
    ) -> Result<Enqueued, StoreError>;

    /// Leases up to `limit` events that are due now (unix ms) on `routes`: only the oldest
    /// waiting event of each chain, never one of a paused route or one leased by someone else.
    async fn claim(
        &self,
        routes: &[String],
        owner: &str,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<QueuedEvent>, StoreError>;

    /// Records the outcome of an attempt on an event `owner` leased.
    async fn finish(&self, seq: i64, owner: &str, finish: &Finish) -> Result<(), StoreError>;

    /// Counts of waiting, retrying and dead events, the oldest waiting one and paused routes.
    async fn stats(&self) -> Result<QueueStats, StoreError>;

    /// Pauses a route: its events stay queued, unattempted, until it is resumed.
    async fn pause_route(&self, route: &str, reason: &str) -> Result<(), StoreError>;

    /// Resumes a paused route; returns whether it was paused.
    async fn resume_route(&self, route: &str) -> Result<bool, StoreError>;

    /// Stored events matching `filter`, newest first, at most `limit`.
    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;

    /// Makes matching waiting events due now, and replays matching dead ones with a fresh
    /// attempt count; returns how many.
    async fn retry(&self, filter: &Filter, now_ms: i64) -> Result<u64, StoreError>;

    /// Deletes matching events; returns how many.
    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError>;

    /// Deletes delivered events accepted before `before_ms` and expired cache entries.
    async fn expire(&self, before_ms: i64) -> Result<u64, StoreError>;
}

impl StoredEvent {
    /// The body as bytes.
    pub fn body_bytes(&self) -> Bytes {
        Bytes::from(self.body.clone())
    }
}

/// Opens the store the config names for a serving process: as [`open`], and leases left on
/// the embedded store by a process that died are voided.
///
/// # Errors
/// As for [`open`].
pub async fn open_for_serving(
    config: &crate::config::StoreConfig,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if config.kind == crate::config::StoreKind::Sqlite {
        let store = sqlite::SqliteStore::open(&config.path, config.cache_ttl)?;
        let released = store.release_leases()?;
        if released > 0 {
            tracing::info!(released, "voided leases left by an earlier process");
        }
        return Ok(std::sync::Arc::new(store));
    }
    open(config).await
}

/// Opens the store the config names: the embedded file, or the shared database (connected
/// and migrated before this returns).
///
/// # Errors
/// The backend cannot be opened, reached or migrated.
pub async fn open(
    config: &crate::config::StoreConfig,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match config.kind {
        crate::config::StoreKind::Sqlite => Ok(std::sync::Arc::new(sqlite::SqliteStore::open(
            &config.path,
            config.cache_ttl,
        )?)),
        crate::config::StoreKind::Postgres => {
            // The message names the key or file only: the URL itself may hold a password.
            let url = config
                .postgres_url()
                .map_err(|err| StoreError::Backend(format!("store url: {err}")))?;
            let store = postgres::PostgresStore::connect(&url, config.cache_ttl).await?;
            Ok(std::sync::Arc::new(store))
        }
    }
}
