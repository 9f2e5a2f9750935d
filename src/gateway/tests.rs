use std::net::SocketAddr;
use std::path::Path;

use http_body_util::Full;

use super::*;
use crate::store::{
    BookingRecord, Cache, Filter, Finish, QueueStats, QueuedEvent, StoreError, StoredEvent,
};

/// A store whose every call fails, as a full disk or a dead database would.
#[derive(Debug)]
struct Broken;

fn broken() -> StoreError {
    StoreError::Backend("disk I/O error".to_owned())
}

#[async_trait::async_trait]
impl Cache for Broken {
    async fn booking(&self, _uid: &str) -> Result<Option<BookingRecord>, StoreError> {
        Err(broken())
    }
    async fn save_booking(&self, _uid: &str, _record: &BookingRecord) -> Result<(), StoreError> {
        Err(broken())
    }
}

#[async_trait::async_trait]
impl Store for Broken {
    async fn ping(&self) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn forget_chain(&self, _uid: &str) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn enqueue(&self, _event: &NewEvent, _window: Duration) -> Result<Enqueued, StoreError> {
        Err(broken())
    }
    async fn claim(
        &self,
        _routes: &[String],
        _owner: &str,
        _now_ms: i64,
        _lease: Duration,
        _limit: usize,
    ) -> Result<Vec<QueuedEvent>, StoreError> {
        Err(broken())
    }
    async fn finish(&self, _seq: i64, _owner: &str, _finish: &Finish) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn stats(&self) -> Result<QueueStats, StoreError> {
        Err(broken())
    }
    async fn pause_route(&self, _route: &str, _reason: &str) -> Result<(), StoreError> {
        Err(broken())
    }
    async fn resume_route(&self, _route: &str) -> Result<bool, StoreError> {
        Err(broken())
    }
    async fn list(&self, _filter: &Filter, _limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        Err(broken())
    }
    async fn retry(&self, _filter: &Filter, _now_ms: i64) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn purge(&self, _filter: &Filter) -> Result<u64, StoreError> {
        Err(broken())
    }
    async fn expire(&self, _before_ms: i64) -> Result<u64, StoreError> {
        Err(broken())
    }
}

fn gateway() -> Gateway {
    let text = r#"
[server]
listen = "127.0.0.1:0"

[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "http://127.0.0.1:9/"

[routes.inbound]
allow_unsigned_from = ["127.0.0.0/8"]
"#;
    let config = Config::parse(text, Path::new("test.toml")).unwrap();
    Gateway::new(&config, Arc::new(Broken), Arc::new(QueueState::new(None))).unwrap()
}

#[tokio::test]
async fn a_store_that_cannot_commit_answers_503() {
    let body = Bytes::from_static(br#"{"triggerEvent":"PING","payload":{}}"#);
    let request = Request::post("/hooks/crm").body(Full::new(body)).unwrap();
    let peer: SocketAddr = "127.0.0.1:50000".parse().unwrap();
    let response = gateway().handle(request, peer).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
