//! The running gateway: store, routes and listener wired together, until asked to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;

use crate::admin::{self, Admin};
use crate::config::{AdminConfig, Config, StoreKind};
use crate::deliver::worker::{self, QueueState};
use crate::gateway::Gateway;
use crate::server;
use crate::store::Store;

mod reload;

/// The admin state and the task serving its listener.
type AdminTask = (Arc<Admin>, tokio::task::JoinHandle<()>);

/// A gateway bound to its listeners, ready to serve.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
    gateway: server::SharedGateway,
    store: Arc<dyn Store>,
    queue: Arc<QueueState>,
    config: Config,
}

impl App {
    /// Opens the store, builds the routes and binds the listener (and the admin listener when
    /// `[admin]` is present).
    ///
    /// # Errors
    /// The store cannot be opened, a route cannot be built, or an address cannot be bound.
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
        let admin_listener = match &config.admin {
            Some(admin) => Some(bind_admin(admin).await?),
            None => None,
        };
        Ok(Self {
            listener,
            admin_listener,
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

    /// The address the admin listener is bound to, when there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener.as_ref()?.local_addr().ok()
    }

    /// Serves until `shutdown` completes, then stops the delivery workers; events still
    /// queued stay in the store for the next start. Each SIGHUP meanwhile reloads the config
    /// file the app was started from.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        // Installed before anything is announced, since SIGHUP's default action ends the process.
        let hangups = reload::hangups();
        let admin = self.start_admin();
        let reloader = hangups
            .map(|hangups| tokio::spawn(reload::on_hangup(hangups, self.reloader(admin.as_ref()))));
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
        let grace = settings.shutdown_grace;
        let stopping = admin.as_ref().map(|(state, _)| Arc::clone(state));
        // One grace period for the whole stop: requests in flight and delivery attempts in
        // flight share it, both told to stop at the signal.
        let (stopped_at, signalled) = tokio::sync::oneshot::channel();
        let shutdown = async move {
            shutdown.await;
            let _ = stopped_at.send(tokio::time::Instant::now());
            let _ = stop.send(true);
            if let Some(state) = stopping {
                state.stopping();
            }
        };
        server::serve(self.listener, self.gateway, settings, shutdown).await;
        if let Some(reloader) = reloader {
            reloader.abort();
        }
        let deadline = signalled
            .await
            .unwrap_or_else(|_| tokio::time::Instant::now())
            + grace;
        let background = async {
            let _ = tokio::join!(workers, maintenance);
        };
        if tokio::time::timeout_at(deadline, background).await.is_err() {
            tracing::warn!("delivery attempts still in flight at the end of the grace period");
        }
        if let Some((_, task)) = admin {
            task.abort();
        }
        tracing::info!("stopped");
    }

    /// Starts serving the admin listener, if there is one.
    fn start_admin(&mut self) -> Option<AdminTask> {
        let listener = self.admin_listener.take()?;
        let config = self.config.admin.as_ref()?;
        // Config validation already read the token file, so this only fails if it went away.
        let token = match config.token() {
            Ok(token) => token,
            Err(err) => {
                tracing::error!(error = %err, "cannot read the admin token; delivery API disabled");
                None
            }
        };
        if token.is_none() {
            tracing::info!("delivery API disabled: [admin] has no token or token_file");
        }
        let addr = listener
            .local_addr()
            .map(|addr| addr.to_string())
            .unwrap_or_default();
        let state = Arc::new(Admin::new(
            Arc::clone(&self.gateway),
            Arc::clone(&self.store),
            Arc::clone(&self.queue),
            token,
        ));
        tracing::info!(%addr, "admin listening");
        let task = tokio::spawn(admin::serve(listener, Arc::clone(&state)));
        Some((state, task))
    }

    fn reloader(
        &self,
        admin: Option<&(Arc<Admin>, tokio::task::JoinHandle<()>)>,
    ) -> reload::Reloader {
        reload::Reloader {
            path: self.config.source.clone(),
            current: self.config.clone(),
            gateway: Arc::clone(&self.gateway),
            store: Arc::clone(&self.store),
            queue: Arc::clone(&self.queue),
            admin: admin.map(|(state, _)| Arc::clone(state)),
        }
    }
}

async fn bind_admin(admin: &AdminConfig) -> anyhow::Result<TcpListener> {
    TcpListener::bind(admin.listen)
        .await
        .with_context(|| format!("cannot listen on {} ([admin] listen)", admin.listen))
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
