//! The benchmark's upstream: a minimal hyper server on loopback that answers every `POST` with
//! `200 ok` and counts them, so that the benchmark can tell how many events were delivered.
//!
//! `bench-upstream [ADDR]` (default `127.0.0.1:0`) prints `listening ADDR` once bound.
//! `GET /count` answers the number of `POST`s received so far, and `GET /connections` the
//! number of connections accepted, which shows whether a proxy reuses its upstream connections.

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    // One thread: the upstream must be fast but leave the machine's cores to the hop measured.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(&addr))
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!("listening {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let counts = Arc::new(Counts::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        counts.connections.fetch_add(1, Ordering::Relaxed);
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| answer(request, Arc::clone(&counts)));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What the upstream has seen.
#[derive(Debug, Default)]
struct Counts {
    posts: AtomicU64,
    connections: AtomicU64,
}

async fn answer(
    request: Request<Incoming>,
    counts: Arc<Counts>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() == Method::GET {
        let count = match request.uri().path() {
            "/connections" => &counts.connections,
            _ => &counts.posts,
        };
        let count = count.load(Ordering::Relaxed).to_string();
        return Ok(Response::new(Full::new(Bytes::from(count))));
    }
    // Read the whole body, as a real receiver would, before answering.
    let _ = request.into_body().collect().await;
    counts.posts.fetch_add(1, Ordering::Relaxed);
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}
