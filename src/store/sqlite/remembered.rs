//! The bookings this process has read or written, kept in memory so that enrichment finds them
//! without a trip to the store's blocking pool.
//!
//! This process writes through one connection, and every such write updates the memory too.
//! Another process (the `forget` and `deliveries` commands) writes through its own connection,
//! which changes SQLite's `data_version` as this connection sees it: each use checks it first
//! and a change empties the memory, so what is remembered always matches the file.

use std::collections::HashMap;

use rusqlite::Connection;

use super::backend;
use crate::store::{BookingRecord, StoreError};

/// Bookings remembered at most; past it the memory starts over (about 4 MiB of typical records).
const MAX_BOOKINGS: usize = 16_384;

/// A booking's row as the file holds it: the record and its `updated_at` (unix seconds), or
/// `None` when the file has no live row for it.
pub(super) type Row = Option<(BookingRecord, i64)>;

/// Rows of the bookings table, by uid, as of `data_version`.
#[derive(Debug, Default)]
pub(super) struct Remembered {
    data_version: Option<i64>,
    rows: HashMap<String, Row>,
}

impl Remembered {
    /// Forgets everything when another connection has committed since the last check. Call it
    /// with the connection locked, before reading or writing what will be remembered: a commit
    /// by another process after this check shows at the next one.
    ///
    /// # Errors
    /// The connection cannot tell its `data_version`.
    pub(super) fn validate(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let version = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(backend)?;
        if self.data_version != Some(version) {
            self.rows.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// The row of `uid`, when remembered.
    pub(super) fn get(&self, uid: &str) -> Option<Row> {
        self.rows.get(uid).cloned()
    }

    /// Remembers what the file now holds for `uid`.
    pub(super) fn insert(&mut self, uid: &str, row: Row) {
        if self.rows.len() >= MAX_BOOKINGS && !self.rows.contains_key(uid) {
            self.rows.clear();
        }
        self.rows.insert(uid.to_owned(), row);
    }

    /// Forgets `uid`, whose row may have changed in a way not known here.
    pub(super) fn remove(&mut self, uid: &str) {
        self.rows.remove(uid);
    }

    /// Forgets everything, after this process deleted rows.
    pub(super) fn clear(&mut self) {
        self.rows.clear();
    }
}
