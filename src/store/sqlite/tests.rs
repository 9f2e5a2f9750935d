use std::os::unix::fs::PermissionsExt;

use super::*;

fn record() -> BookingRecord {
    let mut metadata = serde_json::Map::new();
    metadata.insert("customer_id".into(), "cus_1".into());
    BookingRecord {
        booking_id: Some(7),
        metadata,
        ..BookingRecord::default()
    }
}

#[tokio::test]
async fn records_survive_reopening_and_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/hookseal.db");
    let store = SqliteStore::open(&path, Duration::from_secs(3600)).unwrap();
    store.save_booking("a", &record()).await.unwrap();
    drop(store);
    let store = SqliteStore::open(&path, Duration::from_secs(3600)).unwrap();
    assert_eq!(store.booking("a").await.unwrap(), Some(record()));
    assert_eq!(store.booking("b").await.unwrap(), None);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o077,
        0,
        "store file must be owner-only, mode {mode:o}"
    );
}

#[tokio::test]
async fn ping_fails_once_the_file_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = SqliteStore::open(&path, Duration::from_secs(60)).unwrap();
    store.ping().await.unwrap();
    std::fs::rename(&path, dir.path().join("moved.db")).unwrap();
    assert!(store.ping().await.is_err());
}

#[tokio::test]
async fn expired_records_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db"), Duration::ZERO).unwrap();
    store.save_booking("a", &record()).await.unwrap();
    // The TTL is zero, so a record written in an earlier second is expired.
    {
        let conn = store.connection.lock().unwrap();
        conn.execute("UPDATE bookings SET updated_at = updated_at - 10", [])
            .unwrap();
        // The test ages the row behind the store's back, on the store's own connection.
        store.remembered.lock().unwrap().clear();
    }
    assert_eq!(store.booking("a").await.unwrap(), None);
}

#[tokio::test]
async fn forget_removes_the_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(60)).unwrap();
    store.save_booking("a", &record()).await.unwrap();
    let linked = BookingRecord {
        previous_uid: Some("a".into()),
        original_uid: Some("a".into()),
        ..record()
    };
    store.save_booking("b", &linked).await.unwrap();
    store
        .save_booking(
            "c",
            &BookingRecord {
                previous_uid: Some("b".into()),
                ..linked
            },
        )
        .await
        .unwrap();
    store.save_booking("other", &record()).await.unwrap();
    assert_eq!(store.forget_chain("c").await.unwrap(), 3);
    assert_eq!(store.booking("a").await.unwrap(), None);
    assert!(store.booking("other").await.unwrap().is_some());
}

#[tokio::test]
async fn a_version_2_file_is_migrated_and_keeps_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // The file as the build before the claim indexes left it.
        let conn = Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..2] {
            conn.execute_batch(migration).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO events (route, event_id, chain, dedupe, body, accepted_at, state,
                                 next_attempt_at)
             VALUES ('crm', 'e1', 'a', 1, x'7b7d', 0, 'pending', 0);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path, Duration::from_secs(60)).unwrap();
    let version: i64 = store
        .connection
        .lock()
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let claimed = store
        .claim(&["crm".to_owned()], "me", 1, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event_id, "e1");
    assert_eq!(store.stats().await.unwrap().pending, 1);
}
