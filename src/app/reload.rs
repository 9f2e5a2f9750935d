//! SIGHUP: re-read the config file, build a new gateway from it and swap it in atomically.
//!
//! Requests in flight keep the gateway they started with. A config that does not load, or
//! that changes what only a restart can change, is refused with an error line and the running
//! config keeps serving.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::bail;
use tokio::signal::unix::Signal;

use crate::admin::Admin;
use crate::config::{AdminConfig, Config};
use crate::deliver::worker::QueueState;
use crate::gateway::Gateway;
use crate::secret::Secret;
use crate::server::SharedGateway;
use crate::store::Store;

/// What a reload replaces, and what it checks a new config against.
#[derive(Debug)]
pub(super) struct Reloader {
    pub(super) path: PathBuf,
    pub(super) current: Config,
    pub(super) gateway: SharedGateway,
    pub(super) store: Arc<dyn Store>,
    pub(super) queue: Arc<QueueState>,
    pub(super) admin: Option<Arc<Admin>>,
}

/// Installs the SIGHUP handler; `None` (with an error line) when the platform refuses it.
pub(super) fn hangups() -> Option<Signal> {
    use tokio::signal::unix::{signal, SignalKind};

    match signal(SignalKind::hangup()) {
        Ok(hangups) => Some(hangups),
        Err(err) => {
            tracing::error!(error = %err, "cannot listen for SIGHUP; config reloads are off");
            None
        }
    }
}

/// Reloads on every SIGHUP until the task is dropped.
pub(super) async fn on_hangup(mut hangups: Signal, mut reloader: Reloader) {
    while hangups.recv().await.is_some() {
        reloader.reload();
    }
}

impl Reloader {
    fn reload(&mut self) {
        let path = self.path.display().to_string();
        tracing::info!(%path, "SIGHUP received; reloading the config");
        let queue = Arc::clone(&self.queue);
        let metrics = &queue.metrics;
        match self.swap() {
            Ok(routes) => {
                metrics.reload(true);
                tracing::info!(%path, routes, "config reloaded");
            }
            Err(err) => {
                metrics.reload(false);
                tracing::error!(
                    %path,
                    error = format!("{err:#}"),
                    "config reload refused; the running config keeps serving"
                );
            }
        }
    }

    /// Loads and checks the file, then swaps the gateway; returns the number of routes.
    fn swap(&mut self) -> anyhow::Result<usize> {
        let config = Config::load(&self.path)?;
        let fixed = restart_needed(&self.current, &config);
        if !fixed.is_empty() {
            bail!(
                "{} changed: a restart is needed to apply that",
                fixed.join(", ")
            );
        }
        let token = admin_token(config.admin.as_ref())?;
        let store = Arc::clone(&self.store);
        let gateway = Gateway::new(&config, store, Arc::clone(&self.queue))?;

        // Nothing can fail from here on: the new config applies whole or not at all.
        self.gateway.store(Arc::new(gateway));
        if let Some(admin) = &self.admin {
            admin.set_token(token);
        }
        let routes = config.routes.len();
        self.current = config;
        Ok(routes)
    }
}

fn admin_token(admin: Option<&AdminConfig>) -> anyhow::Result<Option<Secret>> {
    Ok(admin.map(AdminConfig::token).transpose()?.flatten())
}

/// The keys whose new values only a restart can apply: listeners, the store, the worker
/// pool, and logging are set up once at start.
fn restart_needed(old: &Config, new: &Config) -> Vec<&'static str> {
    let (os, ns) = (&old.store, &new.store);
    let same_url = match (&os.url, &ns.url) {
        (Some(a), Some(b)) => a.matches(b.expose()),
        (a, b) => a.is_none() && b.is_none(),
    };
    let admin_listen = |config: &Config| config.admin.as_ref().map(|admin| admin.listen);
    let checks = [
        ("[server] listen", old.server.listen == new.server.listen),
        (
            "[server] header_read_timeout",
            old.server.header_read_timeout == new.server.header_read_timeout,
        ),
        (
            "[server] shutdown_grace",
            old.server.shutdown_grace == new.server.shutdown_grace,
        ),
        ("[store] kind", os.kind == ns.kind),
        ("[store] path", os.path == ns.path),
        ("[store] url", same_url),
        ("[store] url_file", os.url_file == ns.url_file),
        ("[store] cache_ttl", os.cache_ttl == ns.cache_ttl),
        ("[store] retention", os.retention == ns.retention),
        ("[admin] listen", admin_listen(old) == admin_listen(new)),
        (
            "[delivery] workers",
            old.delivery.workers == new.delivery.workers,
        ),
        ("[log] format", old.log.format == new.log.format),
        ("[log] level", old.log.level == new.log.level),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(key, _)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"

[store]
path = "data/hookseal.db"
max_pending_events = 10

[[routes]]
name = "crm"
path = "/hooks/crm"
upstream = "http://127.0.0.1:9000/"
[routes.inbound]
allow_unsigned_from = ["127.0.0.1/32"]
"#;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("test.toml")).expect("test config parses")
    }

    #[test]
    fn routes_and_limits_apply_live() {
        let changed = BASE
            .replace("max_pending_events = 10", "max_pending_events = 20")
            .replace("/hooks/crm", "/hooks/crm2");
        assert!(restart_needed(&config(BASE), &config(&changed)).is_empty());
    }

    #[test]
    fn listeners_and_the_store_need_a_restart() {
        let changed = BASE
            .replace("127.0.0.1:8080", "127.0.0.1:8081")
            .replace("data/hookseal.db", "other.db");
        let fixed = restart_needed(&config(BASE), &config(&changed));
        assert_eq!(fixed, ["[server] listen", "[store] path"]);
        let with_admin = format!("[admin]\nlisten = \"127.0.0.1:9999\"\n{BASE}");
        let fixed = restart_needed(&config(BASE), &config(&with_admin));
        assert_eq!(fixed, ["[admin] listen"]);
    }
}
