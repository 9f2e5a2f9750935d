//! The TOML configuration: its types, defaults, loading and validation.
//!
//! Every table refuses unknown keys. String values may name environment variables as `${VAR}`,
//! and secrets may come from files through the `*_file` keys. Errors name the file, the key and,
//! where the TOML parser knows it, the line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;
use ipnet::IpNet;
use serde::de::{Deserializer, Error as _};
use serde::Deserialize;

use crate::secret::Secret;

mod env;
mod load;

pub use env::expand_env;

/// Default largest inbound body: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default time a client has to send its request head.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send its whole body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time requests in flight get to finish at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Default upstream timeout per attempt, within the Standard Webhooks guidance of 15-30 s.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);
/// Default life of cached metadata and reschedule links: bookings are made months ahead.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(400 * 24 * 3600);
/// Default oldest `createdAt` accepted on an authenticated event (replay defence).
pub const DEFAULT_MAX_EVENT_AGE: Duration = Duration::from_secs(3600);
/// Default window in which a repeat of an accepted event is answered but not delivered again.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Default time a delivered event stays in the store.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default count of waiting events past which new events are refused with 503.
pub const DEFAULT_MAX_PENDING_EVENTS: u64 = 100_000;
/// Default free-space floor of the store's disk, below which new events are refused.
pub const DEFAULT_MIN_FREE_DISK_BYTES: u64 = 64 * 1024 * 1024;
/// Default number of concurrent delivery workers per process.
pub const DEFAULT_DELIVERY_WORKERS: usize = 16;

/// Default retry schedule: the delays before each attempt, as the Standard Webhooks guidance
/// suggests (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h).
pub const DEFAULT_RETRY_SCHEDULE_SECS: [u64; 10] =
    [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The inbound listener.
    pub server: ServerConfig,
    /// Where the metadata cache, reschedule links and queue live.
    #[serde(default)]
    pub store: StoreConfig,
    /// The admin listener: probes, metrics and the delivery API.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// Log output.
    #[serde(default)]
    pub log: LogConfig,
    /// Delivery worker settings shared by all queued routes.
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// The routes, each one path from the sender to one upstream.
    #[serde(default)]
    pub routes: Vec<toml::Spanned<RouteConfig>>,
    /// Where the file was read from, for relative paths and messages.
    #[serde(skip)]
    pub source: PathBuf,
}

/// `[server]`: the listener cal.com sends to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, such as `0.0.0.0:8080`.
    #[serde(deserialize_with = "env::expanded_parse")]
    pub listen: SocketAddr,
    /// Largest accepted body; larger bodies get 413. Default 1 MiB.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Time allowed for the request head. Default 10 s.
    #[serde(default = "default_header_read_timeout", with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Time allowed for the whole body. Default 30 s.
    #[serde(default = "default_body_read_timeout", with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Time requests in flight get at shutdown. Default 30 s.
    #[serde(default = "default_shutdown_grace", with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

/// `[store]`: the embedded SQLite store (default) or a shared PostgreSQL store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite` (default) or `postgres`.
    #[serde(default)]
    pub kind: StoreKind,
    /// SQLite file. Default `data/hookseal.db`, relative to the working directory.
    #[serde(
        default = "default_store_path",
        deserialize_with = "env::expanded_path"
    )]
    pub path: PathBuf,
    /// PostgreSQL connection URL; it may hold a password, so it is a secret.
    #[serde(default)]
    pub url: Option<Secret>,
    /// File holding the PostgreSQL URL instead of `url`.
    #[serde(default, deserialize_with = "env::expanded_opt_path")]
    pub url_file: Option<PathBuf>,
    /// How long cached metadata and links live. Default 400 days.
    #[serde(default = "default_cache_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// How long delivered events are kept. Default 7 days.
    #[serde(default = "default_retention", with = "humantime_serde")]
    pub retention: Duration,
    /// Waiting events past which new events get 503. Default 100,000.
    #[serde(default = "default_max_pending_events")]
    pub max_pending_events: u64,
    /// Free disk space under which new events get 503 (embedded store). Default 64 MiB.
    #[serde(default = "default_min_free_disk_bytes")]
    pub min_free_disk_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Sqlite,
            path: default_store_path(),
            url: None,
            url_file: None,
            cache_ttl: DEFAULT_CACHE_TTL,
            retention: DEFAULT_RETENTION,
            max_pending_events: DEFAULT_MAX_PENDING_EVENTS,
            min_free_disk_bytes: DEFAULT_MIN_FREE_DISK_BYTES,
        }
    }
}

/// Which store backend to use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded SQLite file.
    #[default]
    Sqlite,
    /// A PostgreSQL server shared by replicas.
    Postgres,
}

/// `[admin]`: probes, metrics and the token-protected delivery API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address to listen on. Default `127.0.0.1:9090`.
    #[serde(
        default = "default_admin_listen",
        deserialize_with = "env::expanded_parse"
    )]
    pub listen: SocketAddr,
    /// Bearer token for the delivery API.
    #[serde(default)]
    pub token: Option<Secret>,
    /// File holding the bearer token instead of `token`.
    #[serde(default, deserialize_with = "env::expanded_opt_path")]
    pub token_file: Option<PathBuf>,
}

/// `[log]`: log output format and filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `hookseal=debug`. Default `info`.
    #[serde(default)]
    pub level: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[delivery]`: queue workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Concurrent delivery attempts per process. Default 16.
    #[serde(default = "default_delivery_workers")]
    pub workers: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            workers: DEFAULT_DELIVERY_WORKERS,
        }
    }
}

/// `[[routes]]`: one sender path forwarded to one upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Unique name, used in logs, metrics and the delivery API.
    pub name: String,
    /// Inbound path, such as `/hooks/crm`.
    pub path: String,
    /// Where events are delivered, `http://` or `https://`.
    #[serde(deserialize_with = "env::expanded_parse")]
    pub upstream: Uri,
    /// `queued` (default: answer 202 once stored) or `sync` (answer with the upstream's answer).
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// Time allowed per upstream attempt. Default 15 s.
    #[serde(default = "default_upstream_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra PEM file of CA certificates trusted for this upstream.
    #[serde(default, deserialize_with = "env::expanded_opt_path")]
    pub ca_file: Option<PathBuf>,
    /// Fixed headers added to every delivery, such as an API key. Values may use `${VAR}`.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Delays before each attempt. Default: the Standard Webhooks schedule.
    #[serde(default)]
    pub retry_schedule: Option<Vec<humantime_serde::Serde<Duration>>>,
    /// Oldest `createdAt` accepted on a cal.com event. Default 1 h.
    #[serde(default = "default_max_event_age", with = "humantime_serde")]
    pub max_event_age: Duration,
    /// Window in which a repeat of an accepted event is not delivered again. Default 24 h.
    #[serde(default = "default_repeat_window", with = "humantime_serde")]
    pub repeat_window: Duration,
    /// Who may send to this route.
    #[serde(default)]
    pub inbound: InboundConfig,
    /// Signature schemes applied to what is delivered.
    #[serde(default)]
    pub sign: Vec<SignConfig>,
    /// What is added to events.
    #[serde(default)]
    pub enrich: EnrichConfig,
}

/// How a route answers its sender.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// Store durably, answer 202, deliver in the background with retries.
    #[default]
    Queued,
    /// Forward at once and answer with the upstream's status and body.
    Sync,
}

/// `[routes.inbound]`: how the sender is authenticated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundConfig {
    /// The secret set on the webhook in cal.com; a list while it is being rotated.
    #[serde(default)]
    pub calcom_secret: OneOrMany<Secret>,
    /// Files holding cal.com secrets, one per file.
    #[serde(default)]
    pub calcom_secret_file: OneOrMany<PathBuf>,
    /// Source networks allowed to send unsigned requests, such as `10.0.0.0/8`.
    #[serde(default)]
    pub allow_unsigned_from: Vec<IpNet>,
}

/// One `[[routes.sign]]` entry: a scheme and its keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignConfig {
    /// The scheme's name, such as `standard-webhooks` or `stripe`.
    pub scheme: String,
    /// Keys, the first of which signs; the rest are sent too where the scheme allows.
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// Files holding keys, read after `secrets`.
    #[serde(default)]
    pub secret_files: Vec<PathBuf>,
    /// `hmac` scheme: the signature header's name.
    #[serde(default)]
    pub header: Option<String>,
    /// `hmac` scheme: `sha256` (default), `sha512` or `sha1`.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// `hmac` scheme: `hex` (default) or `base64`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// `hmac` scheme: text put before the signature, such as `sha256=`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `hmac` scheme: `body` (default) or `id.timestamp.body`.
    #[serde(default)]
    pub signed: Option<String>,
    /// `hmac` scheme with `id.timestamp.body`: header carrying the event id.
    #[serde(default)]
    pub id_header: Option<String>,
    /// `hmac` scheme with `id.timestamp.body`: header carrying the timestamp.
    #[serde(default)]
    pub timestamp_header: Option<String>,
}

impl SignConfig {
    /// Every key of the entry: inline ones first, then those read from files.
    ///
    /// # Errors
    /// A key file cannot be read or is empty.
    pub fn all_secrets(&self) -> Result<Vec<Secret>, String> {
        let mut all = self.secrets.clone();
        for path in &self.secret_files {
            all.push(Secret::from_file(path)?);
        }
        Ok(all)
    }
}

/// `[routes.enrich]`: which enrichment profile applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// `calcom` (default) or `none`.
    #[serde(default)]
    pub profile: EnrichProfile,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            profile: EnrichProfile::Calcom,
        }
    }
}

/// The enrichment profiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnrichProfile {
    /// cal.com metadata and reschedule lineage.
    #[default]
    Calcom,
    /// Forward bodies as they came.
    None,
}

/// A value that may be written as one item or as a list.
#[derive(Debug, Clone)]
pub enum OneOrMany<T> {
    /// A single item.
    One(T),
    /// A list of items.
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

/// Not `#[serde(untagged)]`: that hides the item's own error (such as an unset `${VAR}`)
/// behind "did not match any variant".
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(deserializer)?;
        let parsed = match value {
            toml::Value::Array(_) => Vec::<T>::deserialize(value).map(Self::Many),
            item => T::deserialize(item).map(Self::One),
        };
        parsed.map_err(|err| D::Error::custom(err.message()))
    }
}

impl<T> OneOrMany<T> {
    /// The items as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(item) => std::slice::from_ref(item),
            Self::Many(items) => items,
        }
    }
}

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}
fn default_header_read_timeout() -> Duration {
    DEFAULT_HEADER_READ_TIMEOUT
}
fn default_body_read_timeout() -> Duration {
    DEFAULT_BODY_READ_TIMEOUT
}
fn default_shutdown_grace() -> Duration {
    DEFAULT_SHUTDOWN_GRACE
}
fn default_upstream_timeout() -> Duration {
    DEFAULT_UPSTREAM_TIMEOUT
}
fn default_cache_ttl() -> Duration {
    DEFAULT_CACHE_TTL
}
fn default_retention() -> Duration {
    DEFAULT_RETENTION
}
fn default_max_event_age() -> Duration {
    DEFAULT_MAX_EVENT_AGE
}
fn default_repeat_window() -> Duration {
    DEFAULT_REPEAT_WINDOW
}
fn default_max_pending_events() -> u64 {
    DEFAULT_MAX_PENDING_EVENTS
}
fn default_min_free_disk_bytes() -> u64 {
    DEFAULT_MIN_FREE_DISK_BYTES
}
fn default_delivery_workers() -> usize {
    DEFAULT_DELIVERY_WORKERS
}
fn default_store_path() -> PathBuf {
    PathBuf::from("data/hookseal.db")
}
fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}

#[cfg(test)]
mod tests;
