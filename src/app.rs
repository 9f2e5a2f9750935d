//! The running gateway: store, routes and listener wired together, until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::server;

/// A gateway bound to its listener, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    gateway: server::SharedGateway,
    config: Config,
}

impl App {
    /// Opens the store, builds the routes and binds the listener.
    ///
    /// # Errors
    /// The store cannot be opened, a route cannot be built, or the address cannot be bound.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let store = crate::store::open(&config.store).context("cannot open the store")?;
        let gateway = Gateway::new(&config, store)?;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        Ok(Self {
            listener,
            gateway: Arc::new(ArcSwap::from_pointee(gateway)),
            config,
        })
    }

    /// The address the listener is bound to (useful with port 0).
    ///
    /// # Errors
    /// The socket cannot report its address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let addr = self
            .local_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, routes = self.config.routes.len(), "listening");
        server::serve(self.listener, self.gateway, self.config.server, shutdown).await;
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};

    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::error!("cannot listen for SIGTERM; stopping on Ctrl-C only");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
}
