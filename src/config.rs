//! The TOML configuration: its types, defaults, loading and validation.
//!
//! Every table refuses unknown keys. String values may name environment variables as `${VAR}`,
//! and secrets may come from files through the `*_file` keys. Errors name the file, the key and,
//! where the TOML parser knows it, the line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use http::Uri;
use ipnet::IpNet;
use serde::de::{Deserializer, Error as _};
use serde::Deserialize;

use crate::secret::Secret;

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
    #[serde(deserialize_with = "expanded_parse")]
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
    #[serde(default = "default_store_path", deserialize_with = "expanded_path")]
    pub path: PathBuf,
    /// PostgreSQL connection URL; it may hold a password, so it is a secret.
    #[serde(default)]
    pub url: Option<Secret>,
    /// File holding the PostgreSQL URL instead of `url`.
    #[serde(default, deserialize_with = "expanded_opt_path")]
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
    #[serde(default = "default_admin_listen", deserialize_with = "expanded_parse")]
    pub listen: SocketAddr,
    /// Bearer token for the delivery API.
    #[serde(default)]
    pub token: Option<Secret>,
    /// File holding the bearer token instead of `token`.
    #[serde(default, deserialize_with = "expanded_opt_path")]
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
    #[serde(deserialize_with = "expanded_parse")]
    pub upstream: Uri,
    /// `queued` (default: answer 202 once stored) or `sync` (answer with the upstream's answer).
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// Time allowed per upstream attempt. Default 15 s.
    #[serde(default = "default_upstream_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra PEM file of CA certificates trusted for this upstream.
    #[serde(default, deserialize_with = "expanded_opt_path")]
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

// ---- loading ----

impl Config {
    /// Reads, parses and validates a config file.
    ///
    /// # Errors
    /// The file cannot be read, is not valid TOML, has an unknown or ill-typed key, or breaks a
    /// rule checked by [`Config::validate`]. The message names the file and the key.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `source` names it in messages.
    ///
    /// # Errors
    /// As for [`Config::load`].
    pub fn parse(text: &str, source: &Path) -> anyhow::Result<Self> {
        let mut config: Config =
            toml::from_str(text).map_err(|err| syntax_error(&err, text, source))?;
        config.source = source.to_path_buf();
        config
            .validate(text)
            .with_context(|| format!("{}: invalid config", source.display()))?;
        Ok(config)
    }

    /// Checks the rules that span several keys, and reads every `*_file` secret so that a
    /// missing file fails now rather than at the first request.
    ///
    /// # Errors
    /// The first broken rule, naming the route and key.
    pub fn validate(&self, text: &str) -> anyhow::Result<()> {
        let mut names = std::collections::HashSet::new();
        let mut paths = std::collections::HashSet::new();
        for spanned in &self.routes {
            let route = spanned.get_ref();
            let at = route_label(route, text, spanned.span().start);
            if !names.insert(route.name.as_str()) {
                bail!("{at}: `name` {:?} is used by another route", route.name);
            }
            if !paths.insert(route.path.as_str()) {
                bail!("{at}: `path` {:?} is used by another route", route.path);
            }
            route.validate().with_context(|| at.clone())?;
        }
        if self.store.kind == StoreKind::Postgres && self.store.postgres_url().is_err() {
            bail!("[store]: `kind = \"postgres\"` needs `url` or `url_file`");
        }
        if let Some(admin) = &self.admin {
            admin.token().context("[admin]")?;
        }
        Ok(())
    }

    /// The routes without their spans.
    pub fn routes(&self) -> impl Iterator<Item = &RouteConfig> {
        self.routes.iter().map(|spanned| spanned.get_ref())
    }
}

impl RouteConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if self.name.is_empty() {
            bail!("`name` is empty");
        }
        if !self.path.starts_with('/') || self.path.contains('?') {
            bail!(
                "`path` must start with `/` and hold no query: {:?}",
                self.path
            );
        }
        match self.upstream.scheme_str() {
            Some("http" | "https") if self.upstream.host().is_some() => {}
            _ => bail!("`upstream` must be an http:// or https:// URL with a host"),
        }
        self.inbound_secrets()
            .context("[routes.inbound] `calcom_secret_file`")?;
        if self.inbound.calcom_secret.as_slice().is_empty()
            && self.inbound.calcom_secret_file.as_slice().is_empty()
            && self.inbound.allow_unsigned_from.is_empty()
        {
            bail!(
                "[routes.inbound] needs `calcom_secret` or `allow_unsigned_from`: a route that \
                 signs whatever anyone sends it would be a signing oracle"
            );
        }
        if self.repeat_window < self.max_event_age {
            bail!(
                "`repeat_window` must be at least `max_event_age`, so that no repeat of an \
                 accepted event can be delivered again with a fresh signature"
            );
        }
        if self.timeout.is_zero() {
            bail!("`timeout` must be more than zero");
        }
        if matches!(&self.retry_schedule, Some(schedule) if schedule.is_empty()) {
            bail!("`retry_schedule` needs at least one delay");
        }
        for (index, sign) in self.sign.iter().enumerate() {
            crate::sign::Scheme::from_config(sign).map_err(|err| {
                anyhow::anyhow!(
                    "[[routes.sign]] entry {} (scheme {:?}): {err}",
                    index + 1,
                    sign.scheme
                )
            })?;
        }
        for name in self.headers.keys() {
            http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| anyhow::anyhow!("`headers`: {name:?} is not a header name"))?;
        }
        Ok(())
    }

    /// The cal.com secrets of this route, inline and from files.
    ///
    /// # Errors
    /// A secret file cannot be read or is empty.
    pub fn inbound_secrets(&self) -> anyhow::Result<Vec<Secret>> {
        let mut all = self.inbound.calcom_secret.as_slice().to_vec();
        for path in self.inbound.calcom_secret_file.as_slice() {
            all.push(Secret::from_file(path).map_err(anyhow::Error::msg)?);
        }
        Ok(all)
    }

    /// The retry schedule in force for this route.
    pub fn retry_schedule(&self) -> Vec<Duration> {
        let configured = self.retry_schedule.as_ref();
        configured
            .map(|delays| delays.iter().map(|delay| **delay).collect())
            .unwrap_or_else(|| {
                DEFAULT_RETRY_SCHEDULE_SECS
                    .iter()
                    .map(|secs| Duration::from_secs(*secs))
                    .collect()
            })
    }
}

impl StoreConfig {
    /// The PostgreSQL URL, inline or from its file.
    ///
    /// # Errors
    /// Neither key is set, or the file cannot be read.
    pub fn postgres_url(&self) -> anyhow::Result<Secret> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let Some(path) = &self.url_file else {
            bail!("no `url` or `url_file`")
        };
        Secret::from_file(path).map_err(anyhow::Error::msg)
    }
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

impl AdminConfig {
    /// The bearer token of the delivery API, if one is set.
    ///
    /// # Errors
    /// `token_file` cannot be read.
    pub fn token(&self) -> anyhow::Result<Option<Secret>> {
        if let Some(token) = &self.token {
            return Ok(Some(token.clone()));
        }
        let Some(path) = &self.token_file else {
            return Ok(None);
        };
        Secret::from_file(path)
            .map(Some)
            .map_err(anyhow::Error::msg)
    }
}

/// A parse error naming the file, line, column and key, without quoting the line: the line
/// may hold a secret, and reload errors go to the log.
fn syntax_error(err: &toml::de::Error, text: &str, source: &Path) -> anyhow::Error {
    let message = err.message().trim();
    let Some(span) = err.span() else {
        return anyhow::anyhow!("{}: {message}", source.display());
    };
    let before = text.get(..span.start).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or_default();
    match line_key(line_text) {
        Some(key) => anyhow::anyhow!(
            "{}: line {line}, column {column}, key `{key}`: {message}",
            source.display()
        ),
        None => anyhow::anyhow!(
            "{}: line {line}, column {column}: {message}",
            source.display()
        ),
    }
}

/// The key of a `key = value` line, if the line is one.
fn line_key(line: &str) -> Option<&str> {
    let (key, _value) = line.split_once('=')?;
    let key = key.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"');
    (!key.is_empty() && key.chars().all(plain)).then_some(key)
}

/// Names a route for messages: its index, name and line in the file.
fn route_label(route: &RouteConfig, text: &str, offset: usize) -> String {
    let line = text
        .get(..offset)
        .map_or(0, |before| before.lines().count().max(1));
    format!("[[routes]] {:?} (line {line})", route.name)
}

// ---- `${VAR}` expansion ----

/// Replaces each `${VAR}` in `raw` with the environment variable's value. `$$` stands for a
/// literal `$`.
///
/// # Errors
/// A variable is unset or a `${` is not closed.
pub fn expand_env(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err("unclosed `${` in value".to_owned());
            };
            let name = &inner[..end];
            let value = std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn expanded_parse<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = String::deserialize(deserializer)?;
    let value = expand_env(&raw).map_err(D::Error::custom)?;
    value
        .parse()
        .map_err(|err| D::Error::custom(format!("{value:?}: {err}")))
}

fn expanded_path<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    let raw = String::deserialize(deserializer)?;
    expand_env(&raw)
        .map(PathBuf::from)
        .map_err(D::Error::custom)
}

fn expanded_opt_path<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PathBuf>, D::Error> {
    expanded_path(deserializer).map(Some)
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
