//! The running gateway: store, routes and listener wired together, until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;

use crate::config::{Config, StoreKind};
use crate::deliver::worker::{self, QueueState};
use crate::gateway::Gateway;
use crate::server;
use crate::store::Store;

/// A gateway bound to its listener, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    gateway: server::SharedGateway,
    store: Arc<dyn Store>,
    queue: Arc<QueueState>,
    config: Config,
}

impl App {
    /// Opens the store, builds the routes and binds the listener.
    ///
    /// # Errors
    /// The store cannot be opened, a route cannot be built, or the address cannot be bound.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let store = crate::store::open_for_serving(&config.store)
            .await
            .context("cannot open the store")?;
        let disk =
            (config.store.kind == StoreKind::Sqlite).then(|| store_folder(&config.store.path));
        let queue = Arc::new(QueueState::new(disk));
        let gateway = Gateway::new(&config, Arc::clone(&store), Arc::clone(&queue))?;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        Ok(Self {
            listener,
            gateway: Arc::new(ArcSwap::from_pointee(gateway)),
            store,
            queue,
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

    /// Serves until `shutdown` completes, then stops the delivery workers; events still
    /// queued stay in the store for the next start.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = tokio::spawn(worker::run(
            Arc::clone(&self.gateway),
            Arc::clone(&self.store),
            Arc::clone(&self.queue),
            self.config.delivery.workers,
            stopped.clone(),
        ));
        let maintenance = tokio::spawn(worker::maintain(
            Arc::clone(&self.store),
            Arc::clone(&self.queue),
            self.config.store.retention,
            stopped,
        ));
        let addr = self
            .local_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default();
        tracing::info!(%addr, routes = self.config.routes.len(), "listening");
        let settings = self.config.server.clone();
        server::serve(self.listener, self.gateway, settings, shutdown).await;
        let _ = stop.send(true);
        let background = async {
            let _ = tokio::join!(workers, maintenance);
        };
        if tokio::time::timeout(self.config.server.shutdown_grace, background)
            .await
            .is_err()
        {
            tracing::warn!("delivery attempts still in flight at the end of the grace period");
        }
        tracing::info!("stopped");
    }
}

fn store_folder(path: &std::path::Path) -> std::path::PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
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
