//! Loading a config file: parsing with errors that name the file, key and line; the rules that
//! span several keys; and the accessors that read secrets from files.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};

use super::{
    AdminConfig, Config, DeliveryMode, RouteConfig, StoreConfig, StoreKind,
    DEFAULT_RETRY_SCHEDULE_SECS,
};
use crate::secret::Secret;

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
        if self.routes.is_empty() {
            bail!("no [[routes]]: hookseal would refuse every webhook with 404");
        }
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
        if self.store.kind == StoreKind::Postgres {
            let url = self.store.postgres_url();
            let url = url.map_err(|_| {
                anyhow::anyhow!("[store]: `kind = \"postgres\"` needs `url` or `url_file`")
            })?;
            if url.expose().parse::<tokio_postgres::Config>().is_err() {
                // The URL may hold a password: say what is wrong, never what it is.
                bail!("[store]: `url` is not a PostgreSQL connection URL");
            }
        }
        if let Some(admin) = &self.admin {
            if admin.token.is_some() && admin.token_file.is_some() {
                bail!("[admin]: set `token` or `token_file`, not both");
            }
            admin.token().context("[admin]")?;
            if admin.listen == self.server.listen && admin.listen.port() != 0 {
                bail!("[admin] `listen` is the same address as [server] `listen`");
            }
        }
        if let Some(level) = &self.log.level {
            tracing_subscriber::EnvFilter::try_new(level)
                .map_err(|err| anyhow::anyhow!("[log] `level`: not a log filter: {err}"))?;
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
        if self.max_event_age < Duration::from_secs(1) {
            bail!("`max_event_age` must be at least 1s, or every event would be refused");
        }
        if matches!(&self.retry_schedule, Some(schedule) if schedule.is_empty()) {
            bail!("`retry_schedule` needs at least one delay");
        }
        if self.retry_schedule.is_some() && self.delivery == DeliveryMode::Sync {
            bail!(
                "`retry_schedule` needs `delivery = \"queued\"`: a sync route makes one attempt \
                 and passes the upstream's answer back"
            );
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
        if let Some(path) = &self.ca_file {
            crate::upstream::check_ca_file(path)
                .map_err(|err| anyhow::anyhow!("`ca_file`: {err}"))?;
        }
        self.validate_headers()
    }

    /// Fixed headers must be valid, must not be ones hookseal sets itself (framing, `Host`,
    /// the body's type), and no two sources may set the same header: a fixed header must not
    /// forge or shadow a signature.
    fn validate_headers(&self) -> anyhow::Result<()> {
        let mut owners: std::collections::HashMap<String, String> =
            std::collections::HashMap::new();
        for (name, value) in &self.headers {
            let name = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| anyhow::anyhow!("`headers`: {name:?} is not a header name"))?;
            if http::HeaderValue::from_str(value.expose()).is_err() {
                bail!("`headers`: the value of {name} is not a valid header value");
            }
            owners.insert(name.to_string(), "`headers`".to_owned());
        }
        for (index, sign) in self.sign.iter().enumerate() {
            let owner = format!(
                "[[routes.sign]] entry {} (scheme {:?})",
                index + 1,
                sign.scheme
            );
            for name in crate::sign::header_names(sign, &self.upstream) {
                if let Some(first) = owners.insert(name.clone(), owner.clone()) {
                    bail!("{owner} sets header {name}, which {first} sets too");
                }
            }
        }
        if let Some(reserved) = owners
            .keys()
            .find(|name| RESERVED_HEADERS.contains(&name.as_str()))
        {
            bail!("header {reserved} is set by hookseal itself and cannot be configured");
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
    let message = without_value(err.message().trim());
    let message = message.as_str();
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
/// The parser's message less the value it found, which may be a secret written with the
/// wrong type: `invalid type: string "…", expected a sequence` keeps only what was expected.
fn without_value(message: &str) -> String {
    for kind in ["invalid type", "invalid value"] {
        let Some(rest) = message
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix(": "))
        else {
            continue;
        };
        return match rest.rsplit_once(", expected ") {
            Some((_found, expected)) => format!("{kind}, expected {expected}"),
            None => kind.to_owned(),
        };
    }
    message.to_owned()
}

fn line_key(line: &str) -> Option<&str> {
    let (key, _value) = line.split_once('=')?;
    let key = key.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"');
    (!key.is_empty() && key.chars().all(plain)).then_some(key)
}

/// Names a route for messages: its index, name and line in the file.
/// Headers hookseal sets on every delivery, or that frame the connection: never configurable.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "user-agent",
    "x-cal-webhook-version",
];

fn route_label(route: &RouteConfig, text: &str, offset: usize) -> String {
    let line = text
        .get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1);
    format!("[[routes]] {:?} (line {line})", route.name)
}
