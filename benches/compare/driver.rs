//! The side-by-side benchmark (`benches/compare.sh` builds and runs it): the same load
//! generator and the same cal.com bodies against a fast local upstream directly, through nginx,
//! and through hookseal, then hookseal's queued delivery. Prints Markdown tables.
//!
//! Everything listens on loopback ports chosen at run time; every load is bounded in time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;

mod bodies;
mod load;
mod oha;
#[path = "../../tests/support/postgres.rs"]
mod postgres;
mod procs;
mod report;

use oha::{Body, Load, Measured};
use procs::{Running, Usage};
use report::{Light, Row};

/// Fixed rate of the light-load run, in requests per second.
const LIGHT_RATE: u32 = 1_000;
/// Connections of the light-load run: enough that none waits at 1,000 requests per second.
const LIGHT_CONNECTIONS: usize = 16;
/// Connections of the memory run.
const MANY_CONNECTIONS: usize = 1_000;
/// Unmeasured load before each measured run, so that pools and caches are warm.
const WARM_UP: Duration = Duration::from_secs(2);
/// The most the queued run waits for the last delivery after the load ends.
const DRAIN_LIMIT: Duration = Duration::from_secs(180);

/// Measure hookseal against nginx and the direct path.
#[derive(Debug, Parser)]
struct Args {
    /// The hookseal binary (a release build).
    #[arg(long)]
    hookseal: PathBuf,
    /// The bench-upstream binary.
    #[arg(long)]
    upstream: PathBuf,
    /// The nginx binary.
    #[arg(long, default_value = "/usr/sbin/nginx")]
    nginx: PathBuf,
    /// The oha binary.
    #[arg(long)]
    oha: PathBuf,
    /// Seconds of each measured run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections of the throughput runs.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Bookings in the enrichment mix (three events each).
    #[arg(long, default_value_t = 5_000)]
    bookings: usize,
    /// Distinct events sent to the queued route.
    #[arg(long, default_value_t = 20_000)]
    queued_events: usize,
    /// Events per second of the queued run's fixed-rate row.
    #[arg(long, default_value_t = 10_000)]
    queued_rate: u32,
    /// Runs to skip: any of `hops`, `light`, `connections`, `queued`.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = tempfile::Builder::new()
        .prefix("hookseal-bench-")
        .tempdir()?;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixtures = bodies::Fixtures::load(&repo)?;
    let bench = Bench::prepare(&args, dir.path(), &fixtures)?;
    report::machine();

    let upstream = procs::upstream(&args.upstream)?;
    let nginx = procs::nginx(&args.nginx, &dir.path().join("nginx"), upstream.addr)?;
    eprintln!("upstream on {}, nginx on {}", upstream.addr, nginx.addr);

    if !bench.skips("hops") || !bench.skips("light") {
        let (rows, light) = bench.hops(&upstream, &nginx)?;
        if !bench.skips("hops") {
            report::hops(&rows, args.connections, args.seconds);
        }
        if !bench.skips("light") {
            report::light(&light, LIGHT_RATE, args.seconds);
        }
    }
    let many = (!bench.skips("connections"))
        .then(|| bench.many_connections(upstream.addr))
        .transpose()?;
    if let Some(many) = &many {
        report::many_connections(many, MANY_CONNECTIONS, args.seconds);
    }
    if !bench.skips("queued") {
        let sqlite = bench.queued(upstream.addr, &fixtures, &Store::Sqlite, None)?;
        let paced = bench.queued(
            upstream.addr,
            &fixtures,
            &Store::Sqlite,
            Some(args.queued_rate),
        )?;
        // A server of its own, syncing every commit, on a loopback port chosen now.
        let cluster = postgres::Cluster::start_durable();
        let url = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(cluster.fresh_database());
        let shared = bench.queued(upstream.addr, &fixtures, &Store::Postgres(url), None)?;
        drop(cluster);
        report::queued(
            &[
                ("SQLite", sqlite),
                ("SQLite", paced),
                ("PostgreSQL", shared),
            ],
            args.connections,
        );
    }
    nginx.stop(Duration::from_secs(5));
    drop(upstream);
    Ok(())
}

/// The prepared bodies and settings shared by every run.
struct Bench<'a> {
    args: &'a Args,
    dir: &'a Path,
    /// One BOOKING_CREATED, created now, and its cal.com signature header.
    signed_body: PathBuf,
    signature_header: String,
    /// The enrichment mix, one body per line.
    mix: PathBuf,
}

/// The store behind the queued route.
enum Store {
    /// The embedded file, in the run's folder.
    Sqlite,
    /// A database on the benchmark's own PostgreSQL server.
    Postgres(String),
}

/// The queued run's figures.
#[derive(Debug)]
pub struct Queued {
    /// The fixed rate the events were sent at, or `None` for as fast as answers came.
    pub rate: Option<u32>,
    /// The accepting side, as the sender saw it.
    pub accepted: Measured,
    /// Events delivered to the upstream.
    pub delivered: u64,
    /// From the first request to the last delivery.
    pub delivering: Duration,
    /// hookseal's CPU time and peak memory over the whole run.
    pub usage: Usage,
}

impl<'a> Bench<'a> {
    fn prepare(
        args: &'a Args,
        dir: &'a Path,
        fixtures: &bodies::Fixtures,
    ) -> std::io::Result<Self> {
        let body = fixtures.created_now();
        let signed_body = dir.join("created.body");
        std::fs::write(&signed_body, &body)?;
        let signature = bodies::calcom_signature(body.as_bytes());
        let mix = dir.join("mix.lines");
        let mut lines = fixtures.lives(0, args.bookings).join("\n");
        lines.push('\n');
        std::fs::write(&mix, lines)?;
        Ok(Self {
            args,
            dir,
            signed_body,
            signature_header: format!("X-Cal-Signature-256: {signature}"),
            mix,
        })
    }

    fn skips(&self, run: &str) -> bool {
        self.args.skip.iter().any(|skip| skip == run)
    }

    /// Throughput and light-load runs of each target, one fresh hookseal process per route.
    fn hops(&self, upstream: &Running, nginx: &Running) -> std::io::Result<(Vec<Row>, Vec<Light>)> {
        let signed = Body::File(self.signed_body.clone());
        let targets = [
            (
                "direct",
                None,
                format!("http://{}/sign", upstream.addr),
                signed.clone(),
            ),
            (
                "nginx",
                None,
                format!("http://{}/sign", nginx.addr),
                signed.clone(),
            ),
            (
                "hookseal sign-only",
                Some(()),
                "/hooks/sign".to_owned(),
                signed,
            ),
            (
                "hookseal enrich",
                Some(()),
                "/hooks/enrich".to_owned(),
                Body::Lines(self.mix.clone()),
            ),
        ];
        let (mut rows, mut light) = (Vec::new(), Vec::new());
        for (name, is_hookseal, target, body) in targets {
            eprintln!("running {name}");
            let hookseal = match is_hookseal {
                Some(()) => Some(self.hookseal(name, upstream.addr)?),
                None => None,
            };
            let (url, pid) = match &hookseal {
                Some(hookseal) => (format!("http://{}{target}", hookseal.addr), hookseal.pid()),
                None if name == "nginx" => (target, nginx.pid()),
                None => (target, upstream.pid()),
            };
            // Only the fixed body carries cal.com's signature; the mix comes unsigned.
            let headers = match &body {
                Body::File(_) => vec![self.signature_header.clone()],
                Body::Lines(_) => Vec::new(),
            };
            let load = |connections, duration, rate| Load {
                url: url.clone(),
                connections,
                duration,
                rate,
                body: body.clone(),
                headers: headers.clone(),
            };
            let measure_cpu = is_hookseal.is_some() || name == "nginx";
            if !self.skips("hops") {
                let opened = counted(upstream.addr, "/connections")?;
                oha::run(&self.args.oha, &load(self.args.connections, WARM_UP, None))?;
                let before = procs::usage(pid);
                let measured = oha::run(
                    &self.args.oha,
                    &load(self.args.connections, self.seconds(), None),
                )?;
                let after = procs::usage(pid);
                let usage = measure_cpu.then_some(Usage {
                    cpu: after.cpu.saturating_sub(before.cpu),
                    peak_rss_bytes: after.peak_rss_bytes,
                });
                let upstream_connections = counted(upstream.addr, "/connections")? - opened;
                rows.push(Row {
                    name,
                    measured,
                    upstream_connections,
                    usage,
                });
            }
            if !self.skips("light") {
                let rate = Some(LIGHT_RATE);
                let measured = oha::run(
                    &self.args.oha,
                    &load(LIGHT_CONNECTIONS, self.seconds(), rate),
                )?;
                light.push(Light { name, measured });
            }
            if let Some(hookseal) = hookseal {
                hookseal.stop(Duration::from_secs(5));
            }
        }
        Ok((rows, light))
    }

    /// A fresh hookseal holding 1,000 client connections on the sign-only route.
    fn many_connections(&self, upstream: SocketAddr) -> std::io::Result<Row> {
        eprintln!("running {MANY_CONNECTIONS} connections");
        let hookseal = self.hookseal("connections", upstream)?;
        let measured = oha::run(
            &self.args.oha,
            &Load {
                url: format!("http://{}/hooks/sign", hookseal.addr),
                connections: MANY_CONNECTIONS,
                duration: self.seconds(),
                rate: None,
                body: Body::File(self.signed_body.clone()),
                headers: vec![self.signature_header.clone()],
            },
        )?;
        let usage = procs::usage(hookseal.pid());
        hookseal.stop(Duration::from_secs(5));
        Ok(Row {
            name: "hookseal sign-only",
            measured,
            upstream_connections: 0,
            usage: Some(usage),
        })
    }

    /// Distinct events to the queued route (durable commits on SQLite), as fast as answers
    /// come or at a fixed `rate`, then the wait until the upstream has received every
    /// accepted one.
    fn queued(
        &self,
        upstream: SocketAddr,
        fixtures: &bodies::Fixtures,
        store: &Store,
        rate: Option<u32>,
    ) -> std::io::Result<Queued> {
        let bookings = self.args.queued_events.div_ceil(3);
        let mut bodies: Vec<Bytes> = fixtures
            .lives(self.args.bookings, bookings)
            .into_iter()
            .map(Bytes::from)
            .collect();
        bodies.truncate(self.args.queued_events);

        let (run, store_section) = match store {
            Store::Sqlite if rate.is_some() => ("queued sqlite paced", None),
            Store::Sqlite => ("queued sqlite", None),
            Store::Postgres(url) => (
                "queued postgres",
                Some(format!("kind = \"postgres\"\nurl = \"{url}\"")),
            ),
        };
        eprintln!("running {run}");
        let hookseal = self.hookseal_with(run, upstream, store_section.as_deref())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let before = runtime.block_on(posts_received(upstream))?;
        let started = Instant::now();
        let limit = self.seconds() * 6;
        let accepted = runtime.block_on(load::send_each(
            hookseal.addr,
            "/hooks/queued",
            bodies,
            self.args.connections,
            rate,
            limit,
        ))?;
        let expected = accepted.answered - accepted.failed;
        let mut delivered = 0;
        let mut last = started.elapsed();
        while started.elapsed() < limit + DRAIN_LIMIT {
            let now = runtime.block_on(posts_received(upstream))? - before;
            if now > delivered {
                last = started.elapsed();
            }
            delivered = now;
            if delivered >= expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let usage = procs::usage(hookseal.pid());
        hookseal.stop(Duration::from_secs(5));
        Ok(Queued {
            rate,
            accepted,
            delivered,
            delivering: last,
            usage,
        })
    }

    /// Starts hookseal with the benchmark's routes and an embedded store of its own.
    fn hookseal(&self, run: &str, upstream: SocketAddr) -> std::io::Result<Running> {
        self.hookseal_with(run, upstream, None)
    }

    /// Starts hookseal with the benchmark's routes and `store` as its `[store]` table (an
    /// embedded store of its own when `None`).
    fn hookseal_with(
        &self,
        run: &str,
        upstream: SocketAddr,
        store: Option<&str>,
    ) -> std::io::Result<Running> {
        let dir = self.dir.join(run.replace(' ', "-"));
        std::fs::create_dir_all(&dir)?;
        let listen = procs::free_port()?;
        let admin = procs::free_port()?;
        let sqlite = format!(
            "kind = \"sqlite\"\npath = \"{}\"",
            dir.join("hookseal.db").display()
        );
        let config = CONFIG
            .replace("{listen}", &listen.to_string())
            .replace("{admin}", &admin.to_string())
            .replace("{store}", store.unwrap_or(&sqlite))
            .replace("{upstream}", &upstream.to_string())
            .replace("{calcom_secret}", bodies::CALCOM_SECRET);
        let path = dir.join("hookseal.toml");
        std::fs::write(&path, config)?;
        procs::hookseal(
            &self.args.hookseal,
            &path,
            listen,
            &dir.join("hookseal.log"),
        )
    }

    fn seconds(&self) -> Duration {
        Duration::from_secs(self.args.seconds)
    }
}

/// A count the upstream keeps, from synchronous code.
fn counted(upstream: SocketAddr, path: &str) -> std::io::Result<u64> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(upstream_count(upstream, path))
}

/// The number of `POST`s the upstream has received.
async fn posts_received(upstream: SocketAddr) -> std::io::Result<u64> {
    upstream_count(upstream, "/count").await
}

/// A count the upstream keeps: `/count` (posts) or `/connections` (accepted).
async fn upstream_count(upstream: SocketAddr, path: &str) -> std::io::Result<u64> {
    use http_body_util::BodyExt as _;

    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let request = http::Request::get(path)
        .header("host", upstream.to_string())
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(std::io::Error::other)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)?;
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?;
    String::from_utf8_lossy(&body.to_bytes())
        .parse()
        .map_err(std::io::Error::other)
}

/// hookseal's config: a sign-only route, an enriching route (both sync) and a queued one, each
/// signing with Standard Webhooks. The sign-only route checks cal.com's signature; the others
/// take unsigned events from loopback, because their bodies vary per request and the load
/// generator sends one fixed header (the check costs the same per byte on every route: see
/// the `inbound/authenticate` micro-benchmark).
const CONFIG: &str = r#"
[server]
listen = "{listen}"

[store]
{store}

[admin]
listen = "{admin}"

[log]
level = "info"

[[routes]]
name = "sign-only"
path = "/hooks/sign"
upstream = "http://{upstream}/sign"
delivery = "sync"

[routes.inbound]
calcom_secret = "{calcom_secret}"

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[routes.enrich]
profile = "none"

[[routes]]
name = "enrich"
path = "/hooks/enrich"
upstream = "http://{upstream}/enrich"
delivery = "sync"

[routes.inbound]
allow_unsigned_from = ["127.0.0.1/32"]

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[routes.enrich]
profile = "calcom"

[[routes]]
name = "queued"
path = "/hooks/queued"
upstream = "http://{upstream}/queued"
delivery = "queued"

[routes.inbound]
allow_unsigned_from = ["127.0.0.1/32"]

[[routes.sign]]
scheme = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[routes.enrich]
profile = "calcom"
"#;
