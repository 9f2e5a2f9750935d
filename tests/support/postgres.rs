//! A throwaway PostgreSQL cluster for the tests: Debian's server binaries, a data folder in
//! a temporary directory, a loopback port chosen at run time, removed when done.
//!
//! Include it with `#[path = "support/postgres.rs"] mod postgres_support;`.

#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// How many times a start is retried on a fresh port, should another process have taken
/// the one chosen between its probe and the server's bind.
const START_TRIES: usize = 5;

/// Seconds `pg_ctl` waits for the server to accept connections before giving up.
const START_TIMEOUT_SECS: &str = "60";

/// A running cluster. Dropping it stops the server and removes its folder; so does the test
/// process ending in any way, through the watchdog (see [`Cluster::start`]).
pub struct Cluster {
    port: u16,
    dir: PathBuf,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

impl Cluster {
    /// The cluster shared by every test of this test binary.
    pub fn shared() -> &'static Cluster {
        static SHARED: OnceLock<Cluster> = OnceLock::new();
        SHARED.get_or_init(Cluster::start)
    }

    /// Initialises and starts a new cluster for tests: without disk syncs, which they do not
    /// need and which only slow them down.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Initialises and starts a new cluster that syncs its commits to disk, as a production
    /// server does (for the benchmark).
    pub fn start_durable() -> Self {
        Self::start_with(true)
    }

    /// Initialises and starts a new cluster, syncing commits or not.
    ///
    /// A watchdog shell reads a pipe from this process; when the pipe closes (drop, or the
    /// process ending even by a signal, which statics never see), it stops the server and
    /// removes the folder.
    fn start_with(durable: bool) -> Self {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("hookseal-pg-")
            .tempdir()
            .expect("temporary folder")
            .keep();
        let as_postgres = effective_uid_is_root();
        if as_postgres {
            // initdb and postgres refuse to run as root; the cluster belongs to `postgres`.
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir));
        }
        let data = dir.join("data");
        run(server_command(as_postgres, &bin.join("initdb"))
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ])
            .arg("--pgdata")
            .arg(&data));

        let port = start_server(as_postgres, &bin, &dir, durable);
        let watchdog = spawn_watchdog(as_postgres, &bin, &dir);
        Self {
            port,
            dir,
            watchdog: Mutex::new(Some(watchdog)),
        }
    }

    /// The port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name`, as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new empty database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .expect("connect to the test cluster");
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        drop(client);
        let _ = connection.await;
        self.url(&name)
    }

    /// Runs `sql` on database `url` (for tests that reach into the store).
    pub async fn execute(url: &str, sql: &str) {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the test database");
        let connection = tokio::spawn(connection);
        client.batch_execute(sql).await.expect("test SQL runs");
        drop(client);
        let _ = connection.await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let watchdog = self.watchdog.lock().map(|mut guard| guard.take());
        if let Ok(Some((mut child, stdin))) = watchdog {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// Starts the server on a free loopback port and returns the port once it answers.
fn start_server(as_postgres: bool, bin: &Path, dir: &Path, durable: bool) -> u16 {
    let log = dir.join("server.log");
    let syncs = if durable {
        ""
    } else {
        " -c fsync=off -c full_page_writes=off"
    };
    for _ in 0..START_TRIES {
        let port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {}{syncs} -c max_connections=300",
            dir.display()
        );
        // `-w` polls until the server accepts connections, up to the timeout, and fails at
        // once if the server exits (say, the port was taken meanwhile).
        let output = server_command(as_postgres, &bin.join("pg_ctl"))
            .args(["start", "-w", "-t", START_TIMEOUT_SECS, "-o", &options])
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(&log)
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl runs");
        if output.status.success() && is_ready(bin, port) {
            return port;
        }
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    panic!("the test PostgreSQL server did not start; its log:\n{log}");
}

/// Whether the server on `port` accepts connections, as `pg_isready` sees it.
fn is_ready(bin: &Path, port: u16) -> bool {
    Command::new(bin.join("pg_isready"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "10"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn spawn_watchdog(as_postgres: bool, bin: &Path, dir: &Path) -> (Child, ChildStdin) {
    let pg_ctl = bin.join("pg_ctl");
    let data = dir.join("data");
    let stop = if as_postgres {
        format!(
            "runuser -u postgres -- {} stop -m immediate -D {}",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "{} stop -m immediate -D {}",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!("cat >/dev/null; {stop}; rm -rf {}", dir.display());
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog starts");
    let mut stdin = child.stdin.take().expect("watchdog stdin is piped");
    // Nothing is ever written; the pipe only has to stay open while the cluster is in use.
    let _ = stdin.flush();
    (child, stdin)
}

/// The newest installed `/usr/lib/postgresql/<version>/bin` holding the server binaries.
fn server_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    let Some((_, bin)) = found.pop() else {
        panic!(
            "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb): \
             run `tests/tools/install-postgres.sh` first"
        );
    };
    bin
}

/// A command that runs `program` as the `postgres` user when this process is root.
fn server_command(as_postgres: bool, program: &Path) -> Command {
    if !as_postgres {
        return Command::new(program);
    }
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--"]).arg(program);
    command
}

fn effective_uid_is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("`id -u` runs");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// A loopback port free at this moment.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
    listener.local_addr().expect("probe port address").port()
}

fn run(command: &mut Command) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
