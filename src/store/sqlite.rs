//! The embedded store: one SQLite file, created readable by its owner only.
//!
//! SQLite calls block, so every operation runs on the store's own thread, which groups the
//! operations waiting at the same moment into one transaction and one disk sync
//! ([`writer`]). Writes to one SQLite file are serialised anyway.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use super::{
    BookingRecord, Cache, Enqueued, Filter, Finish, NewEvent, QueueStats, QueuedEvent, Store,
    StoreError, StoredEvent,
};

mod checkpoint;
mod queue;
mod remembered;
mod writer;

use remembered::Remembered;

/// The schema version this build writes; older files are migrated forward on open.
const SCHEMA_VERSION: i64 = 3;

/// Each migration takes the schema from the version before it to its index + 1.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE bookings (
        uid TEXT PRIMARY KEY,
        booking_id INTEGER,
        metadata TEXT NOT NULL,
        previous_uid TEXT,
        previous_id INTEGER,
        original_uid TEXT,
        original_id INTEGER,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX bookings_original ON bookings (original_uid);
    CREATE INDEX bookings_updated ON bookings (updated_at);",
    queue::MIGRATION,
    queue::WAITING_INDEX,
];

// Every version has its migration.
const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// The embedded SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    /// Locked only while `connection` is, so that it changes with the file.
    remembered: Arc<Mutex<Remembered>>,
    cache_ttl: Duration,
    file: Arc<FileIdentity>,
    writer: writer::Writer,
    /// Checkpoints in the background while any clone of the store is alive.
    _checkpointer: Arc<checkpoint::Checkpointer>,
}

/// The store file as opened: if the path later names another file (or none), the process is
/// writing to a file nobody will find at the next start, so `ping` fails.
#[derive(Debug)]
struct FileIdentity {
    path: std::path::PathBuf,
    device: u64,
    inode: u64,
}

impl SqliteStore {
    /// Opens (creating if needed) the store file at `path` and migrates its schema.
    ///
    /// # Errors
    /// The file or its folder cannot be created or opened, or the schema cannot be migrated.
    pub fn open(path: &Path, cache_ttl: Duration) -> Result<Self, StoreError> {
        create_private(path)?;
        let connection = Connection::open(path).map_err(backend)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
                 PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;",
            )
            .map_err(backend)?;
        migrate(&connection)?;
        let connection = Arc::new(Mutex::new(connection));
        let remembered: Arc<Mutex<Remembered>> = Arc::default();
        let forget_all = Arc::clone(&remembered);
        // A batch that did not commit may have changed remembered rows: start over.
        let writer = writer::Writer::start(Arc::clone(&connection), move || {
            if let Ok(mut remembered) = forget_all.lock() {
                remembered.clear();
            }
        })?;
        Ok(Self {
            connection,
            remembered,
            cache_ttl,
            file: Arc::new(FileIdentity::of(path)?),
            writer,
            _checkpointer: Arc::new(checkpoint::Checkpointer::start(path)?),
        })
    }

    /// Voids every lease. Only one serving process may own an embedded store, so when it
    /// starts, leases left by a process that died are void and their events are due again.
    ///
    /// # Errors
    /// The update fails.
    pub fn release_leases(&self) -> Result<u64, StoreError> {
        let connection = self.connection.lock().map_err(|_| poisoned())?;
        let released = connection
            .execute(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL
                 WHERE lease_owner IS NOT NULL",
                [],
            )
            .map_err(backend)?;
        Ok(released as u64)
    }

    /// Runs `work` on the store's thread in the next group commit; answers once committed.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(work).await
    }

    /// The remembered row of `uid`, read on the calling thread when the connection is free
    /// right now (checking `data_version` costs no disk access); `None` sends the caller to the
    /// blocking pool.
    fn remembered_row(&self, uid: &str) -> Result<Option<remembered::Row>, StoreError> {
        let Ok(connection) = self.connection.try_lock() else {
            return Ok(None);
        };
        let mut remembered = self.remembered.lock().map_err(|_| poisoned())?;
        remembered.validate(&connection)?;
        Ok(remembered.get(uid))
    }

    fn oldest_live(&self) -> i64 {
        now_secs() - i64::try_from(self.cache_ttl.as_secs()).unwrap_or(i64::MAX)
    }
}

#[async_trait::async_trait]
impl Cache for SqliteStore {
    async fn booking(&self, uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        let oldest = self.oldest_live();
        if let Some(row) = self.remembered_row(uid)? {
            return Ok(live(row, oldest));
        }
        let uid = uid.to_owned();
        let remembered = Arc::clone(&self.remembered);
        self.run(move |conn| {
            let mut remembered = remembered.lock().map_err(|_| poisoned())?;
            remembered.validate(conn)?;
            let row = read_booking(conn, &uid, oldest)?;
            remembered.insert(&uid, row.clone());
            Ok(live(row, oldest))
        })
        .await
    }

    async fn save_booking(&self, uid: &str, record: &BookingRecord) -> Result<(), StoreError> {
        let uid = uid.to_owned();
        let record = record.clone();
        let remembered = Arc::clone(&self.remembered);
        self.run(move |conn| save_remembered(conn, &remembered, &[(uid, record)]))
            .await
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let file = Arc::clone(&self.file);
        self.run(move |conn| {
            file.check()?;
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                .map_err(backend)
        })
        .await
    }

    async fn forget_chain(&self, uid: &str) -> Result<u64, StoreError> {
        let uid = uid.to_owned();
        let remembered = Arc::clone(&self.remembered);
        self.run(move |conn| {
            let forgotten = forget_chain(conn, &uid);
            remembered.lock().map_err(|_| poisoned())?.clear();
            forgotten
        })
        .await
    }

    async fn enqueue(
        &self,
        event: &NewEvent,
        repeat_window: Duration,
    ) -> Result<Enqueued, StoreError> {
        let event = event.clone();
        let window_ms = i64::try_from(repeat_window.as_millis()).unwrap_or(i64::MAX);
        let remembered = Arc::clone(&self.remembered);
        // One operation, so one savepoint: the event and its cache records commit together.
        self.run(move |conn| {
            let enqueued = queue::enqueue(conn, &event, window_ms)?;
            if matches!(enqueued, Enqueued::Accepted(_)) {
                save_remembered(conn, &remembered, &event.saves)?;
            }
            Ok(enqueued)
        })
        .await
    }

    async fn claim(
        &self,
        routes: &[String],
        owner: &str,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        let routes = routes.to_vec();
        let owner = owner.to_owned();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        self.run(move |conn| queue::claim(conn, &routes, &owner, now_ms, lease_ms, limit))
            .await
    }

    async fn finish(&self, seq: i64, owner: &str, finish: &Finish) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        let finish = finish.clone();
        self.run(move |conn| queue::finish(conn, seq, &owner, &finish))
            .await
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        self.run(queue::stats).await
    }

    async fn pause_route(&self, route: &str, reason: &str) -> Result<(), StoreError> {
        let (route, reason) = (route.to_owned(), reason.to_owned());
        self.run(move |conn| queue::pause(conn, &route, &reason, now_secs() * 1000))
            .await
    }

    async fn resume_route(&self, route: &str) -> Result<bool, StoreError> {
        let route = route.to_owned();
        self.run(move |conn| queue::resume(conn, &route)).await
    }

    async fn list(&self, filter: &Filter, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let filter = filter.clone();
        self.run(move |conn| queue::list(conn, &filter, limit))
            .await
    }

    async fn retry(&self, filter: &Filter, now_ms: i64) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.run(move |conn| queue::retry(conn, &filter, now_ms))
            .await
    }

    async fn purge(&self, filter: &Filter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.run(move |conn| queue::purge(conn, &filter)).await
    }

    async fn expire(&self, before_ms: i64) -> Result<u64, StoreError> {
        let oldest = self.oldest_live();
        let remembered = Arc::clone(&self.remembered);
        self.run(move |conn| {
            let events = conn
                .execute(
                    "DELETE FROM events WHERE state = 'delivered' AND accepted_at < ?1",
                    [before_ms],
                )
                .map_err(backend)?;
            let bookings = conn
                .execute("DELETE FROM bookings WHERE updated_at < ?1", [oldest])
                .map_err(backend)?;
            remembered.lock().map_err(|_| poisoned())?.clear();
            Ok((events + bookings) as u64)
        })
        .await
    }
}

impl FileIdentity {
    fn of(path: &Path) -> Result<Self, StoreError> {
        use std::os::unix::fs::MetadataExt;

        let metadata = std::fs::metadata(path)
            .map_err(|err| StoreError::Backend(format!("cannot stat {}: {err}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    fn check(&self) -> Result<(), StoreError> {
        match Self::of(&self.path) {
            Ok(now) if now.device == self.device && now.inode == self.inode => Ok(()),
            _ => Err(StoreError::Backend(format!(
                "store file {} was removed or replaced",
                self.path.display()
            ))),
        }
    }
}

/// Deletes the cached records of `uid`'s chain and every stored event of it.
fn forget_chain(tx: &Connection, uid: &str) -> Result<u64, StoreError> {
    let root: Option<String> = tx
        .query_row(
            "SELECT original_uid FROM bookings WHERE uid = ?1",
            [uid],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?
        .flatten();
    let root = root.unwrap_or_else(|| uid.to_owned());
    let chain = "SELECT uid FROM bookings WHERE original_uid = ?2 UNION SELECT ?1 UNION SELECT ?2";
    let events = tx
        .execute(
            &format!("DELETE FROM events WHERE chain = ?2 OR booking_uid IN ({chain})"),
            params![uid, root],
        )
        .map_err(backend)?;
    let bookings = tx
        .execute(
            "DELETE FROM bookings WHERE uid IN (?1, ?2) OR original_uid = ?2",
            params![uid, root],
        )
        .map_err(backend)?;
    Ok((events + bookings) as u64)
}

/// Writes booking records and remembers them as written.
fn save_remembered(
    conn: &Connection,
    remembered: &Mutex<Remembered>,
    saves: &[(String, BookingRecord)],
) -> Result<(), StoreError> {
    let mut remembered = remembered.lock().map_err(|_| poisoned())?;
    remembered.validate(conn)?;
    let updated_at = now_secs();
    for (uid, record) in saves {
        if let Err(err) = write_booking(conn, uid, record, updated_at) {
            // The operation rolls back: none of these writes stays, so none stays remembered.
            for (uid, _) in saves {
                remembered.remove(uid);
            }
            return Err(err);
        }
        remembered.insert(uid, Some((record.clone(), updated_at)));
    }
    Ok(())
}

/// A remembered row's record, unless it expired since it was read.
fn live(row: remembered::Row, oldest: i64) -> Option<BookingRecord> {
    row.filter(|(_, updated_at)| *updated_at >= oldest)
        .map(|(record, _)| record)
}

/// The live row of `uid` and its `updated_at`; `None` when absent or expired.
fn read_booking(conn: &Connection, uid: &str, oldest: i64) -> Result<remembered::Row, StoreError> {
    // Cached statements: parsing the SQL again on every event cost more than running it.
    let row = conn
        .prepare_cached(
            "SELECT booking_id, metadata, previous_uid, previous_id, original_uid, original_id,
                    updated_at
             FROM bookings WHERE uid = ?1 AND updated_at >= ?2",
        )
        .map_err(backend)?
        .query_row(params![uid, oldest], |row| {
            Ok((
                row.get::<_, Option<i64>>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get::<_, i64>(6)?,
            ))
        })
        .optional()
        .map_err(backend)?;
    let Some((booking_id, metadata, previous_uid, previous_id, original_uid, original_id, at)) =
        row
    else {
        return Ok(None);
    };
    let metadata = serde_json::from_str(&metadata)
        .map_err(|err| StoreError::Corrupt(format!("metadata of booking {uid}: {err}")))?;
    let record = BookingRecord {
        booking_id,
        metadata,
        previous_uid,
        previous_id,
        original_uid,
        original_id,
    };
    Ok(Some((record, at)))
}

fn write_booking(
    conn: &Connection,
    uid: &str,
    record: &BookingRecord,
    updated_at: i64,
) -> Result<(), StoreError> {
    let metadata = serde_json::to_string(&record.metadata)
        .map_err(|err| StoreError::Corrupt(err.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO bookings (uid, booking_id, metadata, previous_uid, previous_id, original_uid,
                               original_id, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (uid) DO UPDATE SET booking_id = ?2, metadata = ?3, previous_uid = ?4,
             previous_id = ?5, original_uid = ?6, original_id = ?7, updated_at = ?8",
    )
    .map_err(backend)?
    .execute(params![
        uid,
        record.booking_id,
        metadata,
        record.previous_uid,
        record.previous_id,
        record.original_uid,
        record.original_id,
        updated_at
    ])
    .map_err(backend)?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(backend)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "store schema version {version} is newer than this build's {SCHEMA_VERSION}"
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let target = index as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN; {migration}; PRAGMA user_version = {target}; COMMIT;"
        ))
        .map_err(backend)?;
    }
    Ok(())
}

/// Creates the store's folder (mode 0700) and file (mode 0600) if they do not exist: the file
/// holds names and emails.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|err| {
                StoreError::Backend(format!("cannot create {}: {err}", parent.display()))
            })?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| StoreError::Backend(format!("cannot open {}: {err}", path.display())))?;
    Ok(())
}

fn poisoned() -> StoreError {
    StoreError::Backend("store connection lock poisoned".to_owned())
}

pub(super) fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend(err.to_string())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

#[cfg(test)]
mod tests;
