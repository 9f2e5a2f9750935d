//! Group commit for the embedded store.
//!
//! Every operation runs on one thread of its own, which takes all the operations waiting at
//! that moment and runs them inside one transaction, each under a savepoint of its own. The
//! transaction's commit is the batch's one disk sync, and each caller is answered only after
//! it: an `Ok` still means "on disk". An operation that fails rolls back to its savepoint and
//! leaves the others of its batch alone; a commit that fails fails the whole batch.
//!
//! One sync per batch instead of one per operation is what lets concurrent senders be
//! accepted faster than the disk syncs: under load, a batch holds everything that arrived
//! during the previous sync.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::backend;
use crate::store::StoreError;

/// Operations run in one transaction at most. Bounds the time a batch holds the connection,
/// and so the wait of the first operation that arrives after it started.
const MAX_BATCH: usize = 512;

/// What an operation's caller hears once its batch is over: `Ok` when the batch committed.
type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// An operation, given the connection inside the batch's transaction (or the reason there is
/// none), says whether it succeeded and how to answer its caller.
type Job = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> (bool, Reply) + Send>;

/// The handle through which operations reach the writer thread; the thread ends when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `connection`. `after_rollback` runs when a batch's commit
    /// fails, with the connection still locked, so that state kept beside the file can be
    /// dropped.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub(super) fn start(
        connection: Arc<Mutex<Connection>>,
        after_rollback: impl Fn() + Send + 'static,
    ) -> Result<Self, StoreError> {
        let (jobs, waiting) = mpsc::channel();
        std::thread::Builder::new()
            .name("hookseal-store".to_owned())
            .spawn(move || serve(&connection, &waiting, &after_rollback))
            .map_err(|err| StoreError::Backend(format!("cannot start the store thread: {err}")))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next batch and answers once that batch is committed.
    ///
    /// # Errors
    /// `work` failed, the batch could not begin or commit, or the writer thread is gone.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = connection.map_err(clone_error).and_then(work);
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let outcome = match (result, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Err(err), _) => Err(err),
                    (Ok(_), Err(err)) => {
                        Err(StoreError::Backend(format!("store commit failed: {err}")))
                    }
                };
                // The caller may have stopped waiting; the work is done either way.
                let _ = answer.send(outcome);
            });
            (succeeded, reply)
        });
        self.jobs.send(job).map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }
}

/// The writer thread: batch after batch until every handle is dropped.
fn serve(connection: &Mutex<Connection>, waiting: &mpsc::Receiver<Job>, after_rollback: &dyn Fn()) {
    while let Ok(first) = waiting.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let replies = match connection.lock() {
            Ok(guard) => run_batch(&guard, batch, after_rollback),
            Err(_) => refuse(
                batch,
                &StoreError::Backend("store connection lock poisoned".into()),
            ),
        };
        for (reply, committed) in replies {
            reply(committed.as_ref().copied());
        }
    }
}

/// Runs one batch in one transaction; returns each job's reply and the commit's outcome.
fn run_batch(
    conn: &Connection,
    batch: Vec<Job>,
    after_rollback: &dyn Fn(),
) -> Vec<(Reply, Result<(), StoreError>)> {
    if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
        return refuse(batch, &err);
    }
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        let reply = match run_cached(conn, "SAVEPOINT job") {
            Ok(()) => {
                let (succeeded, reply) = job(Ok(conn));
                let undone = if succeeded {
                    Ok(())
                } else {
                    run_cached(conn, "ROLLBACK TO job")
                };
                if let Err(err) = undone.and_then(|()| run_cached(conn, "RELEASE job")) {
                    tracing::warn!(error = %err, "cannot end a store savepoint");
                }
                reply
            }
            Err(err) => job(Err(&err)).1,
        };
        replies.push(reply);
    }
    let committed = run_cached(conn, "COMMIT");
    if committed.is_err() {
        // A failed COMMIT may leave the transaction open; nothing of it may stay.
        let _ = conn.execute_batch("ROLLBACK");
        after_rollback();
    }
    replies
        .into_iter()
        .map(|reply| (reply, clone_result(&committed)))
        .collect()
}

/// Runs a statement kept prepared: these run several times per batch, and preparing them
/// each time showed in profiles.
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(backend)
}

/// Answers every job of `batch` with `err`, running none.
fn refuse(batch: Vec<Job>, err: &StoreError) -> Vec<(Reply, Result<(), StoreError>)> {
    batch
        .into_iter()
        .map(|job| (job(Err(err)).1, Err(clone_error(err))))
        .collect()
}

fn clone_result(result: &Result<(), StoreError>) -> Result<(), StoreError> {
    result.as_ref().copied().map_err(clone_error)
}

fn clone_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Backend(message) => StoreError::Backend(message.clone()),
        StoreError::Corrupt(message) => StoreError::Corrupt(message.clone()),
    }
}

fn writer_gone() -> StoreError {
    StoreError::Backend("the store thread has stopped".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(dir: &tempfile::TempDir) -> Arc<Mutex<Connection>> {
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")
            .unwrap();
        Arc::new(Mutex::new(conn))
    }

    fn count(connection: &Mutex<Connection>) -> i64 {
        connection
            .lock()
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn a_failing_operation_is_undone_alone() {
        let dir = tempfile::tempdir().unwrap();
        let connection = table(&dir);
        let writer = Writer::start(Arc::clone(&connection), || {}).unwrap();
        // Sent together, so that most of them share a batch with the failing one.
        let mut runs = Vec::new();
        for v in 0..100_i64 {
            let writer = writer.clone();
            runs.push(tokio::spawn(async move {
                writer
                    .run(move |conn| {
                        conn.execute("INSERT INTO t (v) VALUES (?1)", [v])
                            .map_err(backend)?;
                        if v == 50 {
                            // Writes a row, then fails: the row must go with it.
                            conn.execute("INSERT INTO t (v) VALUES (1000)", [])
                                .map_err(backend)?;
                            conn.execute("INSERT INTO nowhere VALUES (1)", [])
                                .map_err(backend)?;
                        }
                        Ok(v)
                    })
                    .await
            }));
        }
        let mut failed = Vec::new();
        for run in runs {
            if let Err(err) = run.await.unwrap() {
                failed.push(err.to_string());
            }
        }
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(failed[0].contains("no such table"), "{failed:?}");
        assert_eq!(count(&connection), 99);
        let orphan: i64 = connection
            .lock()
            .unwrap()
            .query_row("SELECT count(*) FROM t WHERE v IN (50, 1000)", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(orphan, 0);
    }

    #[tokio::test]
    async fn answers_come_after_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let connection = table(&dir);
        let writer = Writer::start(Arc::clone(&connection), || {}).unwrap();
        let runs: Vec<_> = (0..200_i64)
            .map(|v| {
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer
                        .run(move |conn| {
                            conn.execute("INSERT INTO t (v) VALUES (?1)", [v])
                                .map_err(backend)
                        })
                        .await
                })
            })
            .collect();
        for run in runs {
            run.await.unwrap().unwrap();
        }
        // A second connection sees only what was committed.
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        let seen: i64 = other
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(seen, 200);
    }

    #[tokio::test]
    async fn a_failed_begin_fails_every_operation_of_the_batch() {
        let dir = tempfile::tempdir().unwrap();
        let connection = table(&dir);
        let writer = Writer::start(Arc::clone(&connection), || {}).unwrap();
        // Another connection holds the write lock, and this one will not wait for it.
        connection
            .lock()
            .unwrap()
            .execute_batch("PRAGMA busy_timeout = 0")
            .unwrap();
        let other = Connection::open(dir.path().join("w.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let err = writer
            .run(|conn| {
                conn.execute("INSERT INTO t (v) VALUES (1)", [])
                    .map_err(backend)
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("locked"), "{err}");
        other.execute_batch("ROLLBACK").unwrap();
        writer
            .run(|conn| {
                conn.execute("INSERT INTO t (v) VALUES (1)", [])
                    .map_err(backend)
            })
            .await
            .unwrap();
        assert_eq!(count(&connection), 1);
    }
}
