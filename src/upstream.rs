//! The client that delivers to upstreams: pooled keep-alive connections over HTTP or HTTPS
//! (rustls with the public web roots, plus an optional extra CA file per route).
//!
//! Each thread that sends keeps a pool of its own, so that a serving thread's requests use
//! connections that its own runtime drives (see `server`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use thread_local::ThreadLocal;

/// The most of an upstream's answer that is read and passed back to a sync sender.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Time allowed to open a connection, within the attempt's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle pooled connections are closed after this long.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A pooled HTTP(S) client, with a pool per thread that uses it.
#[derive(Debug, Clone)]
pub struct Upstream {
    connector: HttpsConnector<HttpConnector>,
    clients: Arc<ThreadLocal<PooledClient>>,
}

type PooledClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// What an upstream answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The answer's body, cut at [`MAX_ANSWER_BYTES`].
    pub body: Bytes,
}

/// Why an attempt got no answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No connection could be made (refused, DNS, TLS handshake).
    #[error("cannot connect to upstream: {0}")]
    Connect(String),
    /// No complete answer within the route's timeout.
    #[error("upstream timed out")]
    Timeout,
    /// The connection failed after it was made.
    #[error("upstream connection failed: {0}")]
    Broken(String),
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The extra CA file cannot be read or holds no certificate.
    #[error("cannot load CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

impl Upstream {
    /// A client trusting the public web roots and, when given, the CAs in `ca_file`.
    ///
    /// # Errors
    /// `ca_file` cannot be read, or holds no valid certificate.
    pub fn new(ca_file: Option<&Path>) -> Result<Self, BuildError> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = ca_file {
            add_ca_file(&mut roots, path)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            connector,
            clients: Arc::new(ThreadLocal::new()),
        })
    }

    /// Sends one request and reads the answer, all within `timeout`. Redirects are answers
    /// like any other: they are never followed.
    ///
    /// # Errors
    /// No connection, a broken one, or no complete answer in time.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Answer, UpstreamError> {
        tokio::time::timeout(timeout, self.exchange(request))
            .await
            .map_err(|_| UpstreamError::Timeout)?
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Answer, UpstreamError> {
        let response = self.client().request(request).await.map_err(|err| {
            if err.is_connect() {
                UpstreamError::Connect(crate::error::chain(&err))
            } else {
                UpstreamError::Broken(crate::error::chain(&err))
            }
        })?;
        let (parts, body) = response.into_parts();
        // An answer larger than the cap is cut, not failed: only its status decides success.
        let body = match Limited::new(body, MAX_ANSWER_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => Bytes::new(),
            Err(err) => return Err(UpstreamError::Broken(err.to_string())),
        };
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// This thread's client, made at its first request.
    fn client(&self) -> &PooledClient {
        self.clients.get_or(|| {
            Client::builder(TokioExecutor::new())
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .build(self.connector.clone())
        })
    }
}

/// Checks that `path` holds at least one usable CA certificate, as a route's `ca_file` must.
///
/// # Errors
/// The file cannot be read or holds no valid certificate.
pub fn check_ca_file(path: &Path) -> Result<(), BuildError> {
    add_ca_file(&mut rustls::RootCertStore::empty(), path)
}

fn add_ca_file(roots: &mut rustls::RootCertStore, path: &Path) -> Result<(), BuildError> {
    let failed = |reason: String| BuildError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|err| failed(err.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|err| failed(err.to_string()))?;
    if certs.is_empty() {
        return Err(failed("no certificate found".to_owned()));
    }
    for cert in certs {
        roots.add(cert).map_err(|err| failed(err.to_string()))?;
    }
    Ok(())
}
