//! The store: the metadata cache, the reschedule links and (for queued routes) the delivery
//! queue, behind one trait with one file per backend.

use std::fmt::Debug;

use serde_json::{Map, Value};

pub mod sqlite;

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

/// The operations every backend provides.
#[async_trait::async_trait]
pub trait Store: Send + Sync + Debug + 'static {
    /// Answers when the backend is reachable.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The cached record of a booking, unless absent or expired.
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError>;

    /// Saves a booking's record and restarts its expiry clock.
    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError>;

    /// Erases the cached records of every booking in `uid`'s chain; returns how many went.
    async fn forget_chain(&self, uid: &str) -> Result<u64, StoreError>;
}

/// Opens the store the config names.
///
/// # Errors
/// The backend cannot be opened or migrated, or is not built into this binary.
pub fn open(config: &crate::config::StoreConfig) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match config.kind {
        crate::config::StoreKind::Sqlite => Ok(std::sync::Arc::new(sqlite::SqliteStore::open(
            &config.path,
            config.cache_ttl,
        )?)),
        crate::config::StoreKind::Postgres => Err(StoreError::Backend(
            "the postgres store is not available yet".to_owned(),
        )),
    }
}
