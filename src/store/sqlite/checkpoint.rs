//! WAL checkpoints off the writer thread.
//!
//! In WAL mode a commit appends pages to the `-wal` file, and a checkpoint copies them back
//! into the database file. SQLite runs one by default inside the commit that passes 1,000
//! pages, which stalls every operation of that batch. The writer's connection turns that off;
//! this thread checkpoints on a connection of its own instead, a few times a second, while the
//! writer goes on committing.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use super::backend;
use crate::store::StoreError;

/// How often the WAL is copied back into the database file.
const INTERVAL: Duration = Duration::from_millis(200);

/// Keeps the thread running; the thread ends once this is dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    _running: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path`.
    ///
    /// # Errors
    /// The file cannot be opened or the thread cannot be started.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(backend)?;
        connection
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")
            .map_err(backend)?;
        let (running, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("hookseal-checkpoint".to_owned())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    // PASSIVE copies what no reader still needs and never blocks the writer;
                    // what it leaves is copied next time.
                    if let Err(err) =
                        connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %err, "store checkpoint failed");
                    }
                }
                // A last full copy, so that a clean stop leaves a small WAL behind.
                let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            })
            .map_err(|err| {
                StoreError::Backend(format!("cannot start the checkpoint thread: {err}"))
            })?;
        Ok(Self { _running: running })
    }
}
