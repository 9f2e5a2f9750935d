//! The shared store's queue: SQL for enqueueing, claiming and inspecting events, safe when
//! several replicas run it against one database at once.

use deadpool_postgres::Client;
use sha2::{Digest, Sha256};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::backend;
use crate::store::{
    Enqueued, EventState, Filter, Finish, NewEvent, QueueStats, QueuedEvent, StoreError,
    StoredEvent,
};

/// The queue's tables; applied as schema version 2.
///
/// `events_heads` answers whether a waiting event has an earlier one in its chain.
pub(super) const MIGRATION: &str = "CREATE TABLE events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        route TEXT NOT NULL,
        event_id TEXT NOT NULL,
        chain TEXT NOT NULL,
        dedupe BOOLEAN NOT NULL,
        trigger TEXT,
        booking_uid TEXT,
        body BYTEA NOT NULL,
        content_type BYTEA,
        webhook_version BYTEA,
        accepted_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT,
        lease_owner TEXT,
        lease_until BIGINT,
        last_status INTEGER,
        last_error TEXT
    );
    CREATE INDEX events_heads ON events (route, chain, seq) WHERE state = 'pending';
    CREATE INDEX events_chain ON events (chain);
    CREATE INDEX events_state ON events (state, next_attempt_at);
    CREATE INDEX events_event_id ON events (route, event_id);
    CREATE INDEX events_booking ON events (booking_uid);
    CREATE TABLE paused_routes (
        route TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        paused_at BIGINT NOT NULL
    );";

/// Waiting events in the order they were accepted; applied as schema version 3. A claim walks
/// it from the oldest and stops once it has enough heads of chains, where it used to find the
/// head of every chain with waiting events first.
pub(super) const WAITING_INDEX: &str =
    "CREATE INDEX events_waiting ON events (seq) WHERE state = 'pending'";

/// Commits `event`, with the cache records learned from it, unless it repeats one accepted
/// within the window.
///
/// Two transaction-scoped advisory locks, taken in key order so that two enqueues never wait
/// on each other in a cycle, make this race-free between replicas:
/// - one on (route, event id): a repeat arriving at another replica at the same moment waits,
///   and its check (a fresh snapshot in READ COMMITTED) then sees the committed original;
/// - one on (route, chain): held from before the sequence number is drawn until the commit,
///   so within a chain sequence numbers become visible in order. Without it a later event
///   could commit first, be claimed as the chain's head and overtake the earlier one.
pub(super) async fn enqueue(
    client: &mut Client,
    event: &NewEvent,
    window_ms: i64,
) -> Result<Enqueued, StoreError> {
    let mut keys = vec![lock_key("chain", &event.route, &event.chain)];
    if event.dedupe {
        keys.push(lock_key("event", &event.route, &event.event_id));
    }
    keys.sort_unstable();
    keys.dedup();

    let tx = client.transaction().await.map_err(backend)?;
    for key in &keys {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[key])
            .await
            .map_err(backend)?;
    }
    if event.dedupe && is_repeat(&tx, event, window_ms).await? {
        return Ok(Enqueued::Repeat);
    }

    let row = tx
        .query_one(
            "INSERT INTO events (route, event_id, chain, dedupe, trigger, booking_uid, body,
                 content_type, webhook_version, accepted_at, state, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11)
             RETURNING seq",
            &[
                &event.route,
                &event.event_id,
                &event.chain,
                &event.dedupe,
                &event.trigger,
                &event.booking_uid,
                &event.body,
                &event.content_type,
                &event.webhook_version,
                &event.accepted_at_ms,
                &event.first_attempt_at_ms,
            ],
        )
        .await
        .map_err(backend)?;
    // The cache records learned from the event commit with it.
    for (uid, record) in &event.saves {
        super::write_booking(&tx, uid, record).await?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(Enqueued::Accepted(row.get(0)))
}

async fn is_repeat(
    tx: &deadpool_postgres::Transaction<'_>,
    event: &NewEvent,
    window_ms: i64,
) -> Result<bool, StoreError> {
    let since = event.accepted_at_ms.saturating_sub(window_ms);
    let row = tx
        .query_opt(
            "SELECT seq FROM events WHERE route = $1 AND event_id = $2 AND accepted_at >= $3
             LIMIT 1",
            &[&event.route, &event.event_id, &since],
        )
        .await
        .map_err(backend)?;
    Ok(row.is_some())
}

/// What a worker asks of [`claim`].
pub(super) struct Claim<'a> {
    /// Routes the worker delivers.
    pub(super) routes: &'a [String],
    /// The worker's lease owner id.
    pub(super) owner: &'a str,
    /// Unix ms now.
    pub(super) now_ms: i64,
    /// Unix ms when the lease runs out.
    pub(super) lease_until: i64,
    /// The most events to lease.
    pub(super) limit: usize,
}

/// Leases the due heads of chains, in one statement.
///
/// Why no two replicas ever attempt the same event, or two events of one chain, while leases
/// hold (READ COMMITTED):
/// - `picked` takes a waiting event only when, in the statement's snapshot, no earlier event
///   of its chain is waiting: the head of its chain. Enqueue makes sequence numbers of a chain visible in order, so a snapshot that sees an
///   event sees every earlier one of its chain: a later event is a head only once every
///   earlier one is delivered or dead (or deleted).
/// - It locks those heads with `FOR UPDATE SKIP LOCKED`. A head another claim is
///   locking right now is skipped, not waited on: no waits, so no deadlocks between replicas.
///   A head changed by a transaction that committed after our snapshot (claimed, finished)
///   is re-read at its latest version and every condition on `e` is checked again on it
///   (EvalPlanQual): leased by someone else, delivered or dead, it drops out.
/// - The `UPDATE` then writes only rows this statement already holds locked, so nothing can
///   slip in between the check and the lease.
///
/// A lease in the future therefore blocks its whole chain, since only the head is a
/// candidate; a lease that ran out (the replica died) makes the head claimable again.
///
/// The planner is told not to sort: the only way left to produce the oldest waiting events is
/// to walk `events_waiting` and stop at the limit. Left to its estimates, it read and sorted
/// every waiting event whenever the table's statistics were stale (a new or fast-growing
/// queue, before autovacuum's next pass): 30 ms a claim at 15,000 waiting, against 0.5 ms.
pub(super) async fn claim(
    client: &mut Client,
    claim: &Claim<'_>,
) -> Result<Vec<QueuedEvent>, StoreError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.batch_execute("SET LOCAL enable_sort = off")
        .await
        .map_err(backend)?;
    let statement = tx
        .prepare_cached(
            "WITH picked AS (
                 SELECT e.seq FROM events e
                 WHERE e.state = 'pending' AND e.route = ANY($1) AND e.next_attempt_at <= $2
                   AND (e.lease_until IS NULL OR e.lease_until < $2)
                   AND e.route NOT IN (SELECT route FROM paused_routes)
                   AND NOT EXISTS (SELECT 1 FROM events h
                                   WHERE h.state = 'pending' AND h.route = e.route
                                     AND h.chain = e.chain AND h.seq < e.seq)
                 ORDER BY e.seq
                 LIMIT $5
                 FOR UPDATE OF e SKIP LOCKED
             )
             UPDATE events e SET lease_owner = $3, lease_until = $4
             FROM picked WHERE e.seq = picked.seq
             RETURNING e.seq, e.route, e.event_id, e.chain, e.trigger, e.booking_uid, e.body,
                       e.content_type, e.webhook_version, e.accepted_at, e.attempts",
        )
        .await
        .map_err(backend)?;
    let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
    let routes = claim.routes;
    let rows = tx
        .query(
            &statement,
            &[
                &routes,
                &claim.now_ms,
                &claim.owner,
                &claim.lease_until,
                &limit,
            ],
        )
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let mut claimed: Vec<QueuedEvent> = rows.iter().map(queued_event).collect();
    claimed.sort_by_key(|event| event.seq);
    Ok(claimed)
}

/// Records an attempt's outcome, only while `owner` still holds the lease.
pub(super) async fn finish(
    client: &Client,
    seq: i64,
    owner: &str,
    finish: &Finish,
) -> Result<(), StoreError> {
    let (state, next, status, error) = finish.columns();
    let status = status.map(i32::from);
    client
        .execute(
            "UPDATE events SET state = $1, next_attempt_at = $2, last_status = $3,
                 last_error = $4, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL
             WHERE seq = $5 AND lease_owner = $6",
            &[&state, &next, &status, &error, &seq, &owner],
        )
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn stats(client: &Client) -> Result<QueueStats, StoreError> {
    let row = client
        .query_one(
            "SELECT
                 COUNT(*) FILTER (WHERE state = 'pending' AND attempts = 0),
                 COUNT(*) FILTER (WHERE state = 'pending' AND attempts > 0),
                 COUNT(*) FILTER (WHERE state = 'dead'),
                 MIN(accepted_at) FILTER (WHERE state = 'pending')
             FROM events WHERE state IN ('pending', 'dead')",
            &[],
        )
        .await
        .map_err(backend)?;
    let paused = client
        .query(
            "SELECT route, reason FROM paused_routes ORDER BY route",
            &[],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let count = |index: usize| u64::try_from(row.get::<_, i64>(index)).unwrap_or(0);
    Ok(QueueStats {
        pending: count(0),
        retrying: count(1),
        dead: count(2),
        oldest_waiting_ms: row.get(3),
        paused,
    })
}

pub(super) async fn pause(
    client: &Client,
    route: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO paused_routes (route, reason, paused_at) VALUES ($1, $2, $3)
             ON CONFLICT (route) DO UPDATE SET reason = $2",
            &[&route, &reason, &now_ms],
        )
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn resume(client: &Client, route: &str) -> Result<bool, StoreError> {
    let removed = client
        .execute("DELETE FROM paused_routes WHERE route = $1", &[&route])
        .await
        .map_err(backend)?;
    Ok(removed > 0)
}

pub(super) async fn list(
    client: &Client,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut condition = Condition::of(filter);
    let limit = condition.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let sql = format!(
        "SELECT seq, route, event_id, chain, trigger, booking_uid, state, attempts, accepted_at,
                next_attempt_at, last_status, last_error, body
         FROM events WHERE {} ORDER BY seq DESC LIMIT {limit}",
        condition.sql
    );
    let rows = client
        .query(&sql, &condition.params())
        .await
        .map_err(backend)?;
    Ok(rows.iter().map(stored_event).collect())
}

pub(super) async fn retry(
    client: &Client,
    filter: &Filter,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let mut condition = Condition::of(filter);
    let now = condition.bind(now_ms);
    let sql = format!(
        "UPDATE events SET state = 'pending', next_attempt_at = {now},
             attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END,
             lease_owner = NULL, lease_until = NULL
         WHERE state IN ('pending', 'dead') AND {}",
        condition.sql
    );
    client
        .execute(&sql, &condition.params())
        .await
        .map_err(backend)
}

pub(super) async fn purge(client: &Client, filter: &Filter) -> Result<u64, StoreError> {
    let condition = Condition::of(filter);
    let sql = format!("DELETE FROM events WHERE {}", condition.sql);
    client
        .execute(&sql, &condition.params())
        .await
        .map_err(backend)
}

/// A `WHERE` condition with its parameters, numbered from `$1`.
struct Condition {
    sql: String,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Condition {
    fn of(filter: &Filter) -> Self {
        let mut condition = Self {
            sql: "TRUE".to_owned(),
            values: Vec::new(),
        };
        if let Some(seq) = filter.seq {
            condition.and("seq", seq);
        }
        if let Some(route) = &filter.route {
            condition.and("route", route.clone());
        }
        if let Some(uid) = &filter.booking_uid {
            condition.and("booking_uid", uid.clone());
        }
        if let Some(event_id) = &filter.event_id {
            condition.and("event_id", event_id.clone());
        }
        if let Some(before) = filter.accepted_before_ms {
            let placeholder = condition.bind(before);
            condition.sql += &format!(" AND accepted_at < {placeholder}");
        }
        if let Some(state) = filter.state {
            condition.sql += &format!(" AND {}", state_sql(state));
        }
        condition
    }

    /// Adds `column = value`.
    fn and(&mut self, column: &str, value: impl ToSql + Sync + Send + 'static) {
        let placeholder = self.bind(value);
        self.sql += &format!(" AND {column} = {placeholder}");
    }

    /// Adds a parameter and returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values
            .iter()
            .map(|value| value.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

fn state_sql(state: EventState) -> &'static str {
    match state {
        EventState::Pending => "(state = 'pending' AND attempts = 0)",
        EventState::Retrying => "(state = 'pending' AND attempts > 0)",
        EventState::Delivered => "state = 'delivered'",
        EventState::Dead => "state = 'dead'",
    }
}

/// An advisory lock key for `value` of `kind` on `route`: the first 8 bytes of a SHA-256,
/// the same in every replica and every build.
fn lock_key(kind: &str, route: &str, value: &str) -> i64 {
    let mut hash = Sha256::new();
    for part in [kind, route, value] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

fn queued_event(row: &Row) -> QueuedEvent {
    QueuedEvent {
        seq: row.get(0),
        route: row.get(1),
        event_id: row.get(2),
        chain: row.get(3),
        trigger: row.get(4),
        booking_uid: row.get(5),
        body: row.get(6),
        content_type: row.get(7),
        webhook_version: row.get(8),
        accepted_at_ms: row.get(9),
        attempts: u32::try_from(row.get::<_, i32>(10)).unwrap_or(0),
    }
}

fn stored_event(row: &Row) -> StoredEvent {
    let state: String = row.get(6);
    let attempts = u32::try_from(row.get::<_, i32>(7)).unwrap_or(0);
    let state = match (state.as_str(), attempts) {
        ("pending", 0) => EventState::Pending,
        ("pending", _) => EventState::Retrying,
        ("delivered", _) => EventState::Delivered,
        _ => EventState::Dead,
    };
    let waiting = matches!(state, EventState::Pending | EventState::Retrying);
    StoredEvent {
        seq: row.get(0),
        route: row.get(1),
        event_id: row.get(2),
        chain: row.get(3),
        trigger: row.get(4),
        booking_uid: row.get(5),
        state,
        attempts,
        accepted_at_ms: row.get(8),
        next_attempt_at_ms: if waiting { row.get(9) } else { None },
        last_status: row
            .get::<_, Option<i32>>(10)
            .and_then(|status| u16::try_from(status).ok()),
        last_error: row.get(11),
        body: row.get(12),
    }
}
