//! The store's contract, run against both backends: the embedded SQLite file and the shared
//! PostgreSQL database (on a throwaway cluster this test binary starts for itself).
//!
//! Each behaviour is one function taking an `Arc<dyn Store>`; `contract!` calls it once per
//! backend. The PostgreSQL-only part checks the shared store's own duties (migration, leases
//! kept at open, the URL kept secret) and replicas racing on one database. The file is long
//! because the contract is one list of short behaviours sharing one set of helpers.

#[path = "support/postgres.rs"]
mod postgres_support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hookseal::secret::Secret;
use hookseal::store::postgres::PostgresStore;
use hookseal::store::sqlite::SqliteStore;
use hookseal::store::{BookingRecord, Enqueued, EventState, Filter, Finish, NewEvent, Store};
use postgres_support::Cluster;

const LONG_TTL: Duration = Duration::from_secs(3600);
const SHORT_TTL: Duration = Duration::from_secs(1);
const LEASE: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(3600);

/// A store under test and what keeps it alive.
struct Opened {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite(ttl: Duration) -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("store.db"), ttl).unwrap();
    Opened {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

async fn postgres(ttl: Duration) -> Opened {
    let url = Cluster::shared().fresh_database().await;
    let store = PostgresStore::connect(&Secret::new(url), ttl)
        .await
        .unwrap();
    Opened {
        store: Arc::new(store),
        _dir: None,
    }
}

/// One test per backend for each `behaviour: ttl`.
macro_rules! contract {
    ($($behaviour:ident: $ttl:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let opened = super::sqlite(super::$ttl).await;
                    super::$behaviour(std::sync::Arc::clone(&opened.store)).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let opened = super::postgres(super::$ttl).await;
                    super::$behaviour(std::sync::Arc::clone(&opened.store)).await;
                }
            )*
        }
    };
}

contract! {
    ping_answers: LONG_TTL,
    booking_round_trip: LONG_TTL,
    booking_expires_after_its_ttl: SHORT_TTL,
    forget_chain_removes_records_and_events: LONG_TTL,
    repeats_within_the_window_are_not_stored: LONG_TTL,
    concurrent_enqueues_are_each_stored_once: LONG_TTL,
    cache_records_commit_with_their_event: LONG_TTL,
    claim_takes_only_the_heads_of_chains: LONG_TTL,
    leased_or_waiting_head_blocks_its_chain: LONG_TTL,
    expired_lease_is_taken_over: LONG_TTL,
    finish_by_another_owner_is_ignored: LONG_TTL,
    list_retry_and_purge_follow_filters: LONG_TTL,
    stats_count_waiting_retrying_and_dead: LONG_TTL,
    paused_route_is_not_claimed_until_resumed: LONG_TTL,
    expire_deletes_old_delivered_events: LONG_TTL,
}

// ---- behaviours ----

async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

async fn booking_round_trip(store: Arc<dyn Store>) {
    store.save_booking("a", &record(7)).await.unwrap();
    assert_eq!(store.booking("a").await.unwrap(), Some(record(7)));
    assert_eq!(store.booking("b").await.unwrap(), None);

    let linked = BookingRecord {
        previous_uid: Some("a".into()),
        previous_id: Some(7),
        original_uid: Some("a".into()),
        original_id: Some(7),
        ..record(8)
    };
    store.save_booking("a", &linked).await.unwrap();
    assert_eq!(store.booking("a").await.unwrap(), Some(linked));
}

async fn booking_expires_after_its_ttl(store: Arc<dyn Store>) {
    store.save_booking("a", &record(7)).await.unwrap();
    assert_eq!(store.booking("a").await.unwrap(), Some(record(7)));

    // The TTL is one second; stores count in seconds or ms, so allow a few.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.booking("a").await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "record never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let removed = store.expire(0).await.unwrap();
    assert_eq!(removed, 1, "expire deletes the expired record");
}

async fn forget_chain_removes_records_and_events(store: Arc<dyn Store>) {
    store.save_booking("a", &record(1)).await.unwrap();
    let linked = BookingRecord {
        previous_uid: Some("a".into()),
        original_uid: Some("a".into()),
        ..record(2)
    };
    store.save_booking("b", &linked).await.unwrap();
    let third = BookingRecord {
        previous_uid: Some("b".into()),
        ..linked
    };
    store.save_booking("c", &third).await.unwrap();
    store.save_booking("other", &record(3)).await.unwrap();
    enqueue(&store, &event("crm", "e1", "a", Some("a"))).await;
    enqueue(&store, &event("crm", "e2", "a", Some("c"))).await;
    enqueue(&store, &event("crm", "e3", "other", Some("other"))).await;

    assert_eq!(store.forget_chain("c").await.unwrap(), 5);
    for uid in ["a", "b", "c"] {
        assert_eq!(store.booking(uid).await.unwrap(), None, "{uid}");
    }
    assert!(store.booking("other").await.unwrap().is_some());
    assert_eq!(event_ids(&store, &Filter::default()).await, ["e3"]);
}

async fn repeats_within_the_window_are_not_stored(store: Arc<dyn Store>) {
    let first = event("crm", "e1", "a", Some("a"));
    assert!(matches!(
        enqueue(&store, &first).await,
        Enqueued::Accepted(_)
    ));
    assert_eq!(
        store.enqueue(&first, WINDOW).await.unwrap(),
        Enqueued::Repeat
    );

    // Another route, an id not from the sender, or a repeat past the window is stored.
    let other_route = event("erp", "e1", "a", Some("a"));
    assert!(matches!(
        enqueue(&store, &other_route).await,
        Enqueued::Accepted(_)
    ));
    let fresh_id = NewEvent {
        dedupe: false,
        ..first.clone()
    };
    assert!(matches!(
        enqueue(&store, &fresh_id).await,
        Enqueued::Accepted(_)
    ));
    let later = NewEvent {
        accepted_at_ms: first.accepted_at_ms + 2 * WINDOW.as_millis() as i64,
        ..first
    };
    assert!(matches!(
        enqueue(&store, &later).await,
        Enqueued::Accepted(_)
    ));
    assert_eq!(store.list(&Filter::default(), 10).await.unwrap().len(), 4);
}

/// Many senders at once (which the embedded store commits in shared transactions): every
/// distinct event is stored with a sequence number of its own, in no particular order, and
/// copies of one event racing each other are stored once.
async fn concurrent_enqueues_are_each_stored_once(store: Arc<dyn Store>) {
    let mut sends = tokio::task::JoinSet::new();
    for n in 0..300 {
        let store = Arc::clone(&store);
        // Every tenth send is the same event.
        let id = if n % 10 == 0 {
            "same".to_owned()
        } else {
            format!("e{n}")
        };
        sends.spawn(async move {
            let answer = store
                .enqueue(&event("crm", &id, &format!("c{n}"), None), WINDOW)
                .await
                .unwrap();
            (id, answer)
        });
    }
    let mut seqs = std::collections::BTreeSet::new();
    let (mut same_accepted, mut same_repeats) = (0, 0);
    while let Some(sent) = sends.join_next().await {
        let (id, answer) = sent.unwrap();
        match (id.as_str(), answer) {
            ("same", Enqueued::Accepted(seq)) => {
                same_accepted += 1;
                assert!(seqs.insert(seq));
            }
            ("same", Enqueued::Repeat) => same_repeats += 1,
            (_, Enqueued::Accepted(seq)) => assert!(seqs.insert(seq), "seq {seq} given twice"),
            (id, Enqueued::Repeat) => panic!("distinct event {id} taken for a repeat"),
        }
    }
    assert_eq!((same_accepted, same_repeats), (1, 29));
    assert_eq!(seqs.len(), 271);
    assert_eq!(
        store.list(&Filter::default(), 1000).await.unwrap().len(),
        271
    );
}

/// The records an event taught the cache are saved by its enqueue, and not by a repeat's.
async fn cache_records_commit_with_their_event(store: Arc<dyn Store>) {
    let first = NewEvent {
        saves: vec![("a".to_owned(), record(1)), ("b".to_owned(), record(2))],
        ..event("crm", "e1", "a", Some("a"))
    };
    assert!(matches!(
        enqueue(&store, &first).await,
        Enqueued::Accepted(_)
    ));
    assert_eq!(store.booking("a").await.unwrap(), Some(record(1)));
    assert_eq!(store.booking("b").await.unwrap(), Some(record(2)));

    let repeat = NewEvent {
        saves: vec![("a".to_owned(), record(3)), ("c".to_owned(), record(4))],
        ..first
    };
    assert_eq!(enqueue(&store, &repeat).await, Enqueued::Repeat);
    assert_eq!(store.booking("a").await.unwrap(), Some(record(1)));
    assert_eq!(store.booking("c").await.unwrap(), None);
}

async fn claim_takes_only_the_heads_of_chains(store: Arc<dyn Store>) {
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    let b1 = seq_of(enqueue(&store, &event("crm", "b1", "B", None)).await);
    let a2 = seq_of(enqueue(&store, &event("crm", "a2", "A", None)).await);
    enqueue(&store, &event("crm", "b2", "B", None)).await;
    enqueue(&store, &event("erp", "c1", "C", None)).await;

    let claimed = claim(&store, "w1", now_ms(), 10).await;
    assert_eq!(
        seqs(&claimed),
        [a1, b1],
        "one head per chain, only listed routes"
    );
    assert_eq!(claimed[0].event_id, "a1");
    assert_eq!(claimed[0].body, b"body of a1");
    assert_eq!(
        claimed[0].content_type.as_deref(),
        Some(&b"application/json"[..])
    );
    assert_eq!(claimed[0].attempts, 0);

    assert!(claim(&store, "w2", now_ms(), 10).await.is_empty());
    delivered(&store, a1, "w1").await;
    assert_eq!(seqs(&claim(&store, "w2", now_ms(), 10).await), [a2]);
}

async fn leased_or_waiting_head_blocks_its_chain(store: Arc<dyn Store>) {
    let now = t0();
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    enqueue(&store, &event("crm", "a2", "A", None)).await;
    assert_eq!(seqs(&claim(&store, "w1", now, 1).await), [a1]);

    // A failed head waits for its retry, and the rest of its chain waits behind it.
    let retry = Finish::Retry {
        at_ms: now + 60_000,
        error: "upstream answered 500".into(),
        status: Some(500),
    };
    store.finish(a1, "w1", &retry).await.unwrap();
    assert!(claim(&store, "w1", now + 1_000, 10).await.is_empty());

    let again = claim(&store, "w2", now + 60_000, 10).await;
    assert_eq!(seqs(&again), [a1]);
    assert_eq!(again[0].attempts, 1);
}

async fn expired_lease_is_taken_over(store: Arc<dyn Store>) {
    let now = t0();
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    let lease = Duration::from_secs(1);
    let routes = ["crm".to_owned()];
    let first = store.claim(&routes, "w1", now, lease, 10).await.unwrap();
    assert_eq!(seqs(&first), [a1]);

    assert!(store
        .claim(&routes, "w2", now + 999, lease, 10)
        .await
        .unwrap()
        .is_empty());
    let taken = store
        .claim(&routes, "w2", now + 1_001, lease, 10)
        .await
        .unwrap();
    assert_eq!(seqs(&taken), [a1]);
    delivered(&store, a1, "w2").await;
    assert_eq!(state_of(&store, a1).await, EventState::Delivered);
}

async fn finish_by_another_owner_is_ignored(store: Arc<dyn Store>) {
    let now = t0();
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    let routes = ["crm".to_owned()];
    store
        .claim(&routes, "w1", now, Duration::from_secs(1), 1)
        .await
        .unwrap();
    store
        .claim(&routes, "w2", now + 2_000, LEASE, 1)
        .await
        .unwrap();

    // w1's lease ran out and w2 holds the event now: w1's late outcome does not count.
    delivered(&store, a1, "w1").await;
    assert_eq!(state_of(&store, a1).await, EventState::Pending);
    delivered(&store, a1, "w2").await;
    assert_eq!(state_of(&store, a1).await, EventState::Delivered);
}

async fn list_retry_and_purge_follow_filters(store: Arc<dyn Store>) {
    let now = t0();
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", Some("ua"))).await);
    let b1 = seq_of(enqueue(&store, &event("crm", "b1", "B", Some("ub"))).await);
    let c1 = seq_of(enqueue(&store, &event("erp", "c1", "C", Some("uc"))).await);
    claim_all(&store, now).await;
    delivered(&store, a1, "w").await;
    let dead = Finish::Dead {
        error: "upstream answered 410".into(),
        status: Some(410),
    };
    store.finish(b1, "w", &dead).await.unwrap();

    let listed = store.list(&Filter::default(), 10).await.unwrap();
    assert_eq!(seqs_of_stored(&listed), [c1, b1, a1], "newest first");
    assert_eq!(listed[1].last_status, Some(410));
    assert_eq!(listed[1].next_attempt_at_ms, None);
    let one = |filter: Filter| {
        let store = Arc::clone(&store);
        async move { event_ids(&store, &filter).await }
    };
    assert_eq!(one(state(EventState::Dead)).await, ["b1"]);
    assert_eq!(one(state(EventState::Delivered)).await, ["a1"]);
    assert_eq!(one(state(EventState::Pending)).await, ["c1"]);
    let by_route = Filter {
        route: Some("erp".into()),
        ..Filter::default()
    };
    assert_eq!(one(by_route).await, ["c1"]);
    let by_uid = Filter {
        booking_uid: Some("ua".into()),
        ..Filter::default()
    };
    assert_eq!(one(by_uid).await, ["a1"]);
    let by_id = Filter {
        event_id: Some("b1".into()),
        seq: Some(b1),
        ..Filter::default()
    };
    assert_eq!(one(by_id).await, ["b1"]);
    let older = Filter {
        accepted_before_ms: Some(now - 1),
        ..Filter::default()
    };
    assert!(one(older).await.is_empty());
    assert_eq!(store.list(&Filter::default(), 2).await.unwrap().len(), 2);

    // Retry makes the dead event due again with a fresh count; delivered ones stay.
    assert_eq!(store.retry(&Filter::default(), now + 5).await.unwrap(), 2);
    let retried = store.list(&state(EventState::Pending), 10).await.unwrap();
    assert_eq!(seqs_of_stored(&retried), [c1, b1]);
    assert_eq!(retried[1].attempts, 0);
    assert_eq!(retried[1].next_attempt_at_ms, Some(now + 5));
    assert_eq!(seqs(&claim(&store, "w", now + 5, 10).await), [b1]);

    let crm = Filter {
        route: Some("crm".into()),
        ..Filter::default()
    };
    assert_eq!(store.purge(&crm).await.unwrap(), 2);
    assert_eq!(event_ids(&store, &Filter::default()).await, ["c1"]);
}

async fn stats_count_waiting_retrying_and_dead(store: Arc<dyn Store>) {
    let empty = store.stats().await.unwrap();
    assert_eq!((empty.pending, empty.retrying, empty.dead), (0, 0, 0));
    assert_eq!(empty.oldest_waiting_ms, None);

    let now = t0();
    let mut events = Vec::new();
    for (index, id) in ["a1", "b1", "c1", "d1"].into_iter().enumerate() {
        let new = NewEvent {
            accepted_at_ms: now + index as i64,
            ..event("crm", id, id, None)
        };
        events.push(seq_of(enqueue(&store, &new).await));
    }
    claim_all(&store, now + 10).await;
    let retry = Finish::Retry {
        at_ms: now + 60_000,
        error: "timeout".into(),
        status: None,
    };
    store.finish(events[0], "w", &retry).await.unwrap();
    let dead = Finish::Dead {
        error: "gone".into(),
        status: Some(410),
    };
    store.finish(events[1], "w", &dead).await.unwrap();
    delivered(&store, events[2], "w").await;
    store
        .pause_route("erp", "upstream answered 410 Gone")
        .await
        .unwrap();

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.pending, stats.retrying, stats.dead), (1, 1, 1));
    assert_eq!(stats.oldest_waiting_ms, Some(now));
    assert_eq!(
        stats.paused,
        [("erp".to_owned(), "upstream answered 410 Gone".to_owned())]
    );
}

async fn paused_route_is_not_claimed_until_resumed(store: Arc<dyn Store>) {
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    store.pause_route("crm", "by hand").await.unwrap();
    store.pause_route("crm", "again").await.unwrap();
    assert!(claim(&store, "w", now_ms(), 10).await.is_empty());
    assert_eq!(store.stats().await.unwrap().paused[0].1, "again");

    assert!(store.resume_route("crm").await.unwrap());
    assert!(!store.resume_route("crm").await.unwrap());
    assert_eq!(seqs(&claim(&store, "w", now_ms(), 10).await), [a1]);
}

async fn expire_deletes_old_delivered_events(store: Arc<dyn Store>) {
    let now = t0();
    let a1 = seq_of(enqueue(&store, &event("crm", "a1", "A", None)).await);
    enqueue(&store, &event("crm", "b1", "B", None)).await;
    claim(&store, "w", now, 1).await;
    delivered(&store, a1, "w").await;
    store.save_booking("kept", &record(1)).await.unwrap();

    assert_eq!(
        store.expire(now).await.unwrap(),
        0,
        "accepted at `now`, not before"
    );
    assert_eq!(store.expire(now + 1).await.unwrap(), 1);
    assert_eq!(event_ids(&store, &Filter::default()).await, ["b1"]);
    assert!(store.booking("kept").await.unwrap().is_some());
}

// ---- the shared store's own duties ----

/// Replicas starting at once all open the store; the migration runs once, under its lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_all_migrate() {
    let url = Cluster::shared().fresh_database().await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = Secret::new(url.clone());
            tokio::spawn(async move { PostgresStore::connect(&url, LONG_TTL).await })
        })
        .collect();
    for start in starts {
        start.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_schema_newer_than_the_build_is_refused() {
    let url = Cluster::shared().fresh_database().await;
    PostgresStore::connect(&Secret::new(url.clone()), LONG_TTL)
        .await
        .unwrap();
    Cluster::execute(&url, "UPDATE hookseal_schema SET version = 99").await;

    let err = PostgresStore::connect(&Secret::new(url), LONG_TTL)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

/// Unlike the embedded store, opening does not void leases: other replicas hold them.
#[tokio::test]
async fn opening_keeps_the_leases_of_other_replicas() {
    let url = Cluster::shared().fresh_database().await;
    let first: Arc<dyn Store> = Arc::new(
        PostgresStore::connect(&Secret::new(url.clone()), LONG_TTL)
            .await
            .unwrap(),
    );
    enqueue(&first, &event("crm", "a1", "A", None)).await;
    assert_eq!(claim(&first, "w1", now_ms(), 1).await.len(), 1);

    let second: Arc<dyn Store> = Arc::new(
        PostgresStore::connect(&Secret::new(url), LONG_TTL)
            .await
            .unwrap(),
    );
    assert!(claim(&second, "w2", now_ms(), 1).await.is_empty());
}

/// The URL's password appears in no error and no `Debug` output.
#[tokio::test]
async fn the_url_password_is_never_shown() {
    const PASSWORD: &str = "hunter2-not-real";
    let cluster = Cluster::shared();
    let unreachable = format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/db");
    let malformed = format!("postgres://postgres:{PASSWORD}@127.0.0.1:notaport/db");
    for url in [unreachable, malformed] {
        let err = PostgresStore::connect(&Secret::new(url), LONG_TTL)
            .await
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains(PASSWORD), "{err}");
    }

    // The test cluster trusts loopback, so a password is accepted and ignored.
    let url =
        cluster
            .fresh_database()
            .await
            .replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    let store = PostgresStore::connect(&Secret::new(url), LONG_TTL)
        .await
        .unwrap();
    assert!(!format!("{store:?}").contains(PASSWORD));
}

// ---- two replicas on one database ----

/// Two stores on one database claim in parallel loops, as two replicas' workers do, over
/// many events of few chains. While leases hold, each event is claimed exactly once, no chain
/// ever has two events out at once, and each chain's events are claimed in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_claim_each_event_once_and_chains_in_order() {
    const EVENTS: usize = 300;
    const CHAINS: usize = 6;
    let url = Cluster::shared().fresh_database().await;
    let replicas = [
        PostgresStore::connect(&Secret::new(url.clone()), LONG_TTL)
            .await
            .unwrap(),
        PostgresStore::connect(&Secret::new(url), LONG_TTL)
            .await
            .unwrap(),
    ];
    // Enqueue from both replicas at once, each chain's events in order from one task.
    let mut expected: HashMap<String, Vec<i64>> = HashMap::new();
    let mut enqueues = Vec::new();
    for chain in 0..CHAINS {
        let store = replicas[chain % 2].clone();
        enqueues.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for index in (chain..EVENTS).step_by(CHAINS) {
                let new = event("crm", &format!("e{index}"), &format!("chain{chain}"), None);
                seqs.push(seq_of(store.enqueue(&new, WINDOW).await.unwrap()));
            }
            (format!("chain{chain}"), seqs)
        }));
    }
    for task in enqueues {
        let (chain, seqs) = task.await.unwrap();
        expected.insert(chain, seqs);
    }

    let log = Arc::new(Mutex::new(Vec::<(String, String, i64)>::new()));
    let out = Arc::new(Mutex::new(HashSet::<String>::new()));
    let loops: Vec<_> = replicas
        .into_iter()
        .enumerate()
        .map(|(index, store)| {
            let (log, out) = (Arc::clone(&log), Arc::clone(&out));
            tokio::spawn(claim_loop(
                store,
                format!("replica{index}"),
                log,
                out,
                EVENTS,
            ))
        })
        .collect();
    for task in loops {
        task.await.unwrap();
    }

    let log = log.lock().unwrap().clone();
    for replica in ["replica0", "replica1"] {
        let count = log.iter().filter(|(_, owner, _)| owner == replica).count();
        assert!(count > 0, "{replica} claimed nothing: the race was not run");
    }
    let mut claimed: Vec<i64> = log.iter().map(|(_, _, seq)| *seq).collect();
    claimed.sort_unstable();
    claimed.dedup();
    assert_eq!(claimed.len(), log.len(), "an event was claimed twice");
    assert_eq!(log.len(), EVENTS);
    for (chain, seqs) in expected {
        let order: Vec<i64> = log
            .iter()
            .filter(|(claimed_chain, _, _)| *claimed_chain == chain)
            .map(|(_, _, seq)| *seq)
            .collect();
        assert_eq!(order, seqs, "claims of {chain} out of order");
    }
}

/// The same event arriving at two replicas at the same moment is stored once: the other
/// enqueue waits for the first to commit, then sees it as a repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_store_a_racing_repeat_once() {
    let url = Cluster::shared().fresh_database().await;
    let replicas = [
        PostgresStore::connect(&Secret::new(url.clone()), LONG_TTL)
            .await
            .unwrap(),
        PostgresStore::connect(&Secret::new(url), LONG_TTL)
            .await
            .unwrap(),
    ];
    for round in 0..50 {
        let racers: Vec<_> = replicas
            .iter()
            .cloned()
            .enumerate()
            .map(|(index, store)| {
                // Chains differ, as they may when the cache changed in between: the event id
                // alone must be enough to catch the repeat.
                let chain = format!("chain{round}-{index}");
                let new = event("crm", &format!("e{round}"), &chain, None);
                tokio::spawn(async move { store.enqueue(&new, WINDOW).await.unwrap() })
            })
            .collect();
        let mut accepted = 0;
        for racer in racers {
            if matches!(racer.await.unwrap(), Enqueued::Accepted(_)) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 1, "round {round}");
    }
}

/// Claims and finishes events until `total` are delivered in all; each attempt runs in its
/// own task, like the delivery workers' attempts.
async fn claim_loop(
    store: PostgresStore,
    owner: String,
    log: Arc<Mutex<Vec<(String, String, i64)>>>,
    out: Arc<Mutex<HashSet<String>>>,
    total: usize,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let routes = ["crm".to_owned()];
    while log.lock().unwrap().len() < total {
        assert!(
            std::time::Instant::now() < deadline,
            "events left unclaimed"
        );
        let claimed = store
            .claim(&routes, &owner, now_ms(), LEASE, 4)
            .await
            .unwrap();
        let mut attempts = Vec::new();
        for event in claimed {
            assert!(
                out.lock().unwrap().insert(event.chain.clone()),
                "two events of {} out at once",
                event.chain
            );
            log.lock()
                .unwrap()
                .push((event.chain.clone(), owner.clone(), event.seq));
            let (store, owner, out) = (store.clone(), owner.clone(), Arc::clone(&out));
            attempts.push(tokio::spawn(async move {
                tokio::task::yield_now().await;
                out.lock().unwrap().remove(&event.chain);
                let finish = Finish::Delivered { status: 200 };
                store.finish(event.seq, &owner, &finish).await.unwrap();
            }));
        }
        if attempts.is_empty() {
            tokio::task::yield_now().await;
        }
        for attempt in attempts {
            attempt.await.unwrap();
        }
    }
}

// ---- helpers ----

fn record(booking_id: i64) -> BookingRecord {
    let mut metadata = serde_json::Map::new();
    metadata.insert("customer_id".into(), "cus_1".into());
    BookingRecord {
        booking_id: Some(booking_id),
        metadata,
        ..BookingRecord::default()
    }
}

fn event(route: &str, event_id: &str, chain: &str, booking_uid: Option<&str>) -> NewEvent {
    let now = t0();
    NewEvent {
        route: route.to_owned(),
        event_id: event_id.to_owned(),
        chain: chain.to_owned(),
        dedupe: true,
        trigger: Some("BOOKING_CREATED".to_owned()),
        booking_uid: booking_uid.map(str::to_owned),
        body: format!("body of {event_id}").into_bytes(),
        content_type: Some(b"application/json".to_vec()),
        webhook_version: Some(b"2021-10-20".to_vec()),
        accepted_at_ms: now,
        first_attempt_at_ms: now,
        saves: Vec::new(),
    }
}

async fn enqueue(store: &Arc<dyn Store>, event: &NewEvent) -> Enqueued {
    store.enqueue(event, WINDOW).await.unwrap()
}

fn seq_of(enqueued: Enqueued) -> i64 {
    match enqueued {
        Enqueued::Accepted(seq) => seq,
        Enqueued::Repeat => panic!("expected the event to be stored"),
    }
}

async fn claim(
    store: &Arc<dyn Store>,
    owner: &str,
    now: i64,
    limit: usize,
) -> Vec<hookseal::store::QueuedEvent> {
    let routes = ["crm".to_owned()];
    store
        .claim(&routes, owner, now, LEASE, limit)
        .await
        .unwrap()
}

/// Claims every due head on both test routes for owner `w`.
async fn claim_all(store: &Arc<dyn Store>, now: i64) {
    let routes = ["crm".to_owned(), "erp".to_owned()];
    store.claim(&routes, "w", now, LEASE, 100).await.unwrap();
}

async fn delivered(store: &Arc<dyn Store>, seq: i64, owner: &str) {
    let finish = Finish::Delivered { status: 200 };
    store.finish(seq, owner, &finish).await.unwrap();
}

async fn state_of(store: &Arc<dyn Store>, seq: i64) -> EventState {
    let filter = Filter {
        seq: Some(seq),
        ..Filter::default()
    };
    store.list(&filter, 1).await.unwrap()[0].state
}

async fn event_ids(store: &Arc<dyn Store>, filter: &Filter) -> Vec<String> {
    let listed = store.list(filter, 100).await.unwrap();
    listed.into_iter().map(|event| event.event_id).collect()
}

fn state(state: EventState) -> Filter {
    Filter {
        state: Some(state),
        ..Filter::default()
    }
}

fn seqs(events: &[hookseal::store::QueuedEvent]) -> Vec<i64> {
    events.iter().map(|event| event.seq).collect()
}

fn seqs_of_stored(events: &[hookseal::store::StoredEvent]) -> Vec<i64> {
    events.iter().map(|event| event.seq).collect()
}

/// The moment the test events are accepted and first due: one for the whole binary, so
/// that a test can name times before, at and after it.
fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(now_ms)
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}
