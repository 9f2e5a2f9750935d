//! The demo's receiver: a small HTTP server on loopback that hands each request it gets to the
//! demo and answers 200.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A request as the receiver got it.
#[derive(Debug)]
pub struct Received {
    /// The request's headers.
    pub headers: HeaderMap,
    /// The exact body.
    pub body: Bytes,
}

/// Starts the receiver; returns its address and the requests it gets.
///
/// # Errors
/// No loopback port can be bound.
pub async fn start() -> std::io::Result<(SocketAddr, mpsc::UnboundedReceiver<Received>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (sender, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let sender = sender.clone();
            let service =
                hyper::service::service_fn(move |request| record(request, sender.clone()));
            tokio::spawn(async move {
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, received))
}

async fn record(
    request: Request<Incoming>,
    sender: mpsc::UnboundedSender<Received>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let _ = sender.send(Received {
        headers: parts.headers,
        body,
    });
    Ok(Response::new(Full::new(Bytes::from_static(b"thanks"))))
}
