//! A cache whose writes wait for the event they came from.
//!
//! On a queued route, what enrichment learns from an event is saved in the same commit as
//! the event itself ([`NewEvent::saves`](super::NewEvent::saves)): one disk sync instead of
//! two, and the cache never holds what an event that was refused taught it.

use std::sync::Mutex;

use super::{BookingRecord, Cache, StoreError};

/// Reads go to the store, after the writes held here; writes are held until [`Self::take`].
pub struct Deferred<'a> {
    inner: &'a dyn Cache,
    saves: Mutex<Vec<(String, BookingRecord)>>,
}

impl std::fmt::Debug for Deferred<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred").finish_non_exhaustive()
    }
}

impl<'a> Deferred<'a> {
    /// Holds the writes meant for `inner`.
    pub fn new(inner: &'a dyn Cache) -> Self {
        Self {
            inner,
            saves: Mutex::default(),
        }
    }

    /// The writes held, in the order they were made, one per booking.
    pub fn take(self) -> Vec<(String, BookingRecord)> {
        self.saves
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn held(&self, uid: &str) -> Option<BookingRecord> {
        let saves = self
            .saves
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        saves
            .iter()
            .find(|(saved, _)| saved == uid)
            .map(|(_, record)| record.clone())
    }
}

#[async_trait::async_trait]
impl Cache for Deferred<'_> {
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        match self.held(uid) {
            Some(record) => Ok(Some(record)),
            None => self.inner.booking(uid).await,
        }
    }

    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError> {
        let mut saves = self
            .saves
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match saves.iter_mut().find(|(saved, _)| saved == uid) {
            Some((_, held)) => *held = record.clone(),
            None => saves.push((uid.to_owned(), record.clone())),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Fixed(Option<BookingRecord>);

    #[async_trait::async_trait]
    impl Cache for Fixed {
        async fn booking(&self, _uid: &str) -> Result<Option<BookingRecord>, StoreError> {
            Ok(self.0.clone())
        }

        async fn save_booking(&self, _: &str, _: &BookingRecord) -> Result<(), StoreError> {
            Err(StoreError::Backend(
                "a deferred cache must not write through".into(),
            ))
        }
    }

    fn with_id(id: i64) -> BookingRecord {
        BookingRecord {
            booking_id: Some(id),
            ..BookingRecord::default()
        }
    }

    #[tokio::test]
    async fn holds_writes_and_reads_them_back() {
        let store = Fixed(Some(with_id(1)));
        let deferred = Deferred::new(&store);
        assert_eq!(deferred.booking("a").await.unwrap(), Some(with_id(1)));
        deferred.save_booking("a", &with_id(2)).await.unwrap();
        deferred.save_booking("b", &with_id(3)).await.unwrap();
        deferred.save_booking("a", &with_id(4)).await.unwrap();
        assert_eq!(deferred.booking("a").await.unwrap(), Some(with_id(4)));
        assert_eq!(deferred.booking("c").await.unwrap(), Some(with_id(1)));
        assert_eq!(
            deferred.take(),
            vec![("a".to_owned(), with_id(4)), ("b".to_owned(), with_id(3))]
        );
    }
}
