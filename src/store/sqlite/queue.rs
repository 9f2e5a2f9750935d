//! The embedded store's queue: SQL for enqueueing, claiming and inspecting events.

use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};

use super::backend;
use crate::store::{
    Enqueued, EventState, Filter, Finish, NewEvent, QueueStats, QueuedEvent, StoreError,
    StoredEvent,
};

/// The queue's tables; applied as schema version 2.
pub(super) const MIGRATION: &str = "CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        route TEXT NOT NULL,
        event_id TEXT NOT NULL,
        chain TEXT NOT NULL,
        dedupe INTEGER NOT NULL,
        trigger TEXT,
        booking_uid TEXT,
        body BLOB NOT NULL,
        content_type BLOB,
        webhook_version BLOB,
        accepted_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        lease_owner TEXT,
        lease_until INTEGER,
        last_status INTEGER,
        last_error TEXT
    );
    CREATE INDEX events_chain ON events (route, chain, state, seq);
    CREATE INDEX events_state ON events (state, next_attempt_at);
    CREATE INDEX events_event_id ON events (route, event_id);
    CREATE INDEX events_booking ON events (booking_uid);
    CREATE TABLE paused_routes (route TEXT PRIMARY KEY, reason TEXT NOT NULL, paused_at INTEGER NOT NULL);";

/// Indexes that keep a busy queue cheap; applied as schema version 3.
///
/// - `events_waiting` holds waiting events in the order they were accepted. A claim walks it
///   from the oldest and stops once it has enough heads of chains, where the index on
///   `(state, next_attempt_at)` made it read and sort every waiting event on every claim.
/// - No index holds `state` beside other columns any more: an attempt's outcome then changes
///   only the small partial indexes, not entries spread over the whole file. The chain index
///   becomes `(route, chain, seq)`, and `events_accepted` serves the purge of delivered events.
pub(super) const WAITING_INDEX: &str = "DROP INDEX events_state;
    DROP INDEX events_chain;
    CREATE INDEX events_chain ON events (route, chain, seq);
    CREATE INDEX events_waiting ON events (seq) WHERE state = 'pending';
    CREATE INDEX events_dead ON events (seq) WHERE state = 'dead';
    CREATE INDEX events_accepted ON events (accepted_at)";

/// Stores `event` unless it repeats one; runs inside the caller's transaction.
pub(super) fn enqueue(
    tx: &Connection,
    event: &NewEvent,
    window_ms: i64,
) -> Result<Enqueued, StoreError> {
    if event.dedupe {
        let since = event.accepted_at_ms.saturating_sub(window_ms);
        let repeat: Option<i64> = tx
            .prepare_cached(
                "SELECT seq FROM events WHERE route = ?1 AND event_id = ?2 AND accepted_at >= ?3 LIMIT 1",
            )
            .map_err(backend)?
            .query_row(params![event.route, event.event_id, since], |row| row.get(0))
            .optional()
            .map_err(backend)?;
        if repeat.is_some() {
            return Ok(Enqueued::Repeat);
        }
    }
    tx.prepare_cached(
        "INSERT INTO events (route, event_id, chain, dedupe, trigger, booking_uid, body,
             content_type, webhook_version, accepted_at, state, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11)",
    )
    .map_err(backend)?
    .execute(params![
        event.route,
        event.event_id,
        event.chain,
        event.dedupe,
        event.trigger,
        event.booking_uid,
        event.body,
        event.content_type,
        event.webhook_version,
        event.accepted_at_ms,
        event.first_attempt_at_ms
    ])
    .map_err(backend)?;
    Ok(Enqueued::Accepted(tx.last_insert_rowid()))
}

/// Leases the due heads of chains; runs inside the caller's transaction.
pub(super) fn claim(
    tx: &Connection,
    routes: &[String],
    owner: &str,
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedEvent>, StoreError> {
    let routes =
        serde_json::to_string(routes).map_err(|err| StoreError::Backend(err.to_string()))?;
    let claimed = {
        let mut select = tx
            .prepare_cached(
                "SELECT seq, route, event_id, chain, trigger, booking_uid, body, content_type,
                        webhook_version, accepted_at, attempts
                 FROM events e INDEXED BY events_waiting
                 WHERE e.state = 'pending' AND e.next_attempt_at <= ?1
                   AND (e.lease_until IS NULL OR e.lease_until < ?1)
                   AND e.route IN (SELECT value FROM json_each(?2))
                   AND e.route NOT IN (SELECT route FROM paused_routes)
                   AND NOT EXISTS (SELECT 1 FROM events h
                                   WHERE h.route = e.route AND h.chain = e.chain
                                     AND h.seq < e.seq AND h.state = 'pending')
                 ORDER BY e.seq LIMIT ?3",
            )
            .map_err(backend)?;
        let rows = select
            .query_map(params![now_ms, routes, limit as i64], queued_event)
            .map_err(backend)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
    };
    let mut lease = tx
        .prepare_cached("UPDATE events SET lease_owner = ?1, lease_until = ?2 WHERE seq = ?3")
        .map_err(backend)?;
    for event in &claimed {
        lease
            .execute(params![owner, now_ms + lease_ms, event.seq])
            .map_err(backend)?;
    }
    Ok(claimed)
}

pub(super) fn finish(
    conn: &Connection,
    seq: i64,
    owner: &str,
    finish: &Finish,
) -> Result<(), StoreError> {
    let (state, next, status, error) = finish.columns();
    conn.prepare_cached(
        "UPDATE events SET state = ?1, next_attempt_at = ?2, last_status = ?3, last_error = ?4,
             attempts = attempts + 1, lease_owner = NULL, lease_until = NULL
         WHERE seq = ?5 AND lease_owner = ?6",
    )
    .map_err(backend)?
    .execute(params![state, next, status, error, seq, owner])
    .map_err(backend)?;
    Ok(())
}

pub(super) fn stats(conn: &Connection) -> Result<QueueStats, StoreError> {
    // Two passes, each over its own partial index, rather than one over the table.
    let (pending, retrying, oldest) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(attempts = 0), 0), COALESCE(SUM(attempts > 0), 0),
                    MIN(accepted_at)
             FROM events INDEXED BY events_waiting WHERE state = 'pending'",
        )
        .map_err(backend)?
        .query_row([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })
        .map_err(backend)?;
    let dead: i64 = conn
        .prepare_cached("SELECT count(*) FROM events INDEXED BY events_dead WHERE state = 'dead'")
        .map_err(backend)?
        .query_row([], |row| row.get(0))
        .map_err(backend)?;
    let mut paused = conn
        .prepare_cached("SELECT route, reason FROM paused_routes ORDER BY route")
        .map_err(backend)?;
    let paused = paused
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    Ok(QueueStats {
        pending: pending as u64,
        retrying: retrying as u64,
        dead: dead as u64,
        oldest_waiting_ms: oldest,
        paused,
    })
}

pub(super) fn pause(
    conn: &Connection,
    route: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO paused_routes (route, reason, paused_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (route) DO UPDATE SET reason = ?2",
        params![route, reason, now_ms],
    )
    .map_err(backend)?;
    Ok(())
}

pub(super) fn resume(conn: &Connection, route: &str) -> Result<bool, StoreError> {
    let removed = conn
        .execute("DELETE FROM paused_routes WHERE route = ?1", [route])
        .map_err(backend)?;
    Ok(removed > 0)
}

pub(super) fn list(
    conn: &Connection,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<StoredEvent>, StoreError> {
    let (condition, values) = filter_sql(filter);
    let sql = format!(
        "SELECT seq, route, event_id, chain, trigger, booking_uid, state, attempts, accepted_at,
                next_attempt_at, last_status, last_error, body
         FROM events WHERE {condition} ORDER BY seq DESC LIMIT {limit}"
    );
    let mut statement = conn.prepare(&sql).map_err(backend)?;
    let params: Vec<&dyn ToSql> = values.iter().map(|value| value as &dyn ToSql).collect();
    let rows = statement
        .query_map(params.as_slice(), stored_event)
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

pub(super) fn retry(conn: &Connection, filter: &Filter, now_ms: i64) -> Result<u64, StoreError> {
    let (condition, mut values) = filter_sql(filter);
    let sql = format!(
        "UPDATE events SET state = 'pending', next_attempt_at = ?{n},
             attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END,
             lease_owner = NULL, lease_until = NULL
         WHERE state IN ('pending', 'dead') AND {condition}",
        n = values.len() + 1
    );
    values.push(rusqlite::types::Value::Integer(now_ms));
    let params: Vec<&dyn ToSql> = values.iter().map(|value| value as &dyn ToSql).collect();
    Ok(conn.execute(&sql, params.as_slice()).map_err(backend)? as u64)
}

pub(super) fn purge(conn: &Connection, filter: &Filter) -> Result<u64, StoreError> {
    let (condition, values) = filter_sql(filter);
    let sql = format!("DELETE FROM events WHERE {condition}");
    let params: Vec<&dyn ToSql> = values.iter().map(|value| value as &dyn ToSql).collect();
    Ok(conn.execute(&sql, params.as_slice()).map_err(backend)? as u64)
}

/// A `WHERE` condition and its parameters (numbered from 1) for `filter`.
fn filter_sql(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;

    let mut clauses = vec!["1 = 1".to_owned()];
    let mut values: Vec<Value> = Vec::new();
    let mut add = |clause: &str, value: Value| {
        values.push(value);
        clauses.push(clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(seq) = filter.seq {
        add("seq = ?", Value::Integer(seq));
    }
    if let Some(route) = &filter.route {
        add("route = ?", Value::Text(route.clone()));
    }
    if let Some(uid) = &filter.booking_uid {
        add("booking_uid = ?", Value::Text(uid.clone()));
    }
    if let Some(event_id) = &filter.event_id {
        add("event_id = ?", Value::Text(event_id.clone()));
    }
    if let Some(before) = filter.accepted_before_ms {
        add("accepted_at < ?", Value::Integer(before));
    }
    if let Some(state) = filter.state {
        clauses.push(state_sql(state).to_owned());
    }
    (clauses.join(" AND "), values)
}

fn state_sql(state: EventState) -> &'static str {
    match state {
        EventState::Pending => "(state = 'pending' AND attempts = 0)",
        EventState::Retrying => "(state = 'pending' AND attempts > 0)",
        EventState::Delivered => "state = 'delivered'",
        EventState::Dead => "state = 'dead'",
    }
}

fn queued_event(row: &Row<'_>) -> rusqlite::Result<QueuedEvent> {
    Ok(QueuedEvent {
        seq: row.get(0)?,
        route: row.get(1)?,
        event_id: row.get(2)?,
        chain: row.get(3)?,
        trigger: row.get(4)?,
        booking_uid: row.get(5)?,
        body: row.get(6)?,
        content_type: row.get(7)?,
        webhook_version: row.get(8)?,
        accepted_at_ms: row.get(9)?,
        attempts: row.get(10)?,
    })
}

fn stored_event(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    let state: String = row.get(6)?;
    let attempts: u32 = row.get(7)?;
    let state = match (state.as_str(), attempts) {
        ("pending", 0) => EventState::Pending,
        ("pending", _) => EventState::Retrying,
        ("delivered", _) => EventState::Delivered,
        _ => EventState::Dead,
    };
    let waiting = matches!(state, EventState::Pending | EventState::Retrying);
    Ok(StoredEvent {
        seq: row.get(0)?,
        route: row.get(1)?,
        event_id: row.get(2)?,
        chain: row.get(3)?,
        trigger: row.get(4)?,
        booking_uid: row.get(5)?,
        state,
        attempts,
        accepted_at_ms: row.get(8)?,
        next_attempt_at_ms: if waiting { row.get(9)? } else { None },
        last_status: row.get(10)?,
        last_error: row.get(11)?,
        body: row.get(12)?,
    })
}
