//! The processes under test: the upstream, nginx and hookseal, started on loopback ports chosen
//! at run time and stopped when dropped; and what `/proc` says about their CPU time and memory.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed and reaped when dropped.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Running {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it with SIGTERM, then waits up to `grace` before killing it.
    pub fn stop(mut self, grace: Duration) {
        self.terminate(grace);
    }

    /// SIGTERM first, so that nginx's master stops its workers too; SIGKILL after `grace`.
    fn terminate(&mut self, grace: Duration) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.terminate(Duration::from_secs(5));
        let _ = self.child.wait();
    }
}

/// Starts the upstream and reads the address it printed.
pub fn upstream(binary: &Path) -> std::io::Result<Running> {
    let mut child = Command::new(binary)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("upstream said {line:?}")))?;
    Ok(Running { child, addr })
}

/// Starts nginx in the foreground as a keep-alive reverse proxy in front of `upstream`, with
/// its config, logs and temporary files under `dir`.
pub fn nginx(binary: &Path, dir: &Path, upstream: SocketAddr) -> std::io::Result<Running> {
    let addr = free_port()?;
    std::fs::create_dir_all(dir.join("logs"))?;
    let config = NGINX_CONFIG
        .replace("{dir}", &dir.display().to_string())
        .replace("{listen}", &addr.to_string())
        .replace("{upstream}", &upstream.to_string());
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config)?;
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .stdin(Stdio::null())
        .spawn()?;
    let running = Running { child, addr };
    wait_listening(addr)?;
    Ok(running)
}

/// Starts `hookseal serve` on `config`, its log (one access line per request) in `log`.
pub fn hookseal(
    binary: &Path,
    config: &Path,
    addr: SocketAddr,
    log: &Path,
) -> std::io::Result<Running> {
    let log = std::fs::File::create(log)?;
    let child = Command::new(binary)
        .arg("serve")
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let running = Running { child, addr };
    wait_listening(addr)?;
    Ok(running)
}

/// A loopback address with a port free right now.
pub fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

fn wait_listening(addr: SocketAddr) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(std::io::Error::other(format!("nothing listens on {addr}")))
}

/// CPU time and peak memory of a process and its children (nginx's workers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User plus system time.
    pub cpu: Duration,
    /// Sum of the processes' peak resident set (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
}

/// Reads [`Usage`] of `pid` and its direct children.
pub fn usage(pid: u32) -> Usage {
    let mut total = Usage::default();
    for pid in std::iter::once(pid).chain(children(pid)) {
        total.cpu += cpu_time(pid).unwrap_or_default();
        total.peak_rss_bytes += peak_rss_bytes(pid).unwrap_or_default();
    }
    total
}

fn children(pid: u32) -> Vec<u32> {
    let path = format!("/proc/{pid}/task/{pid}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// utime + stime from `/proc/<pid>/stat`, whose fields 14 and 15 count clock ticks.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second(),
    ))
}

fn clock_ticks_per_second() -> f64 {
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK);
    match ticks {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// nginx as a reverse proxy with a keep-alive pool to the upstream, logging each request as it
/// does by default. Bodies stay in memory (no temporary files) up to 1 MiB, like hookseal.
const NGINX_CONFIG: &str = r"
daemon off;
master_process on;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/logs/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
    access_log {dir}/logs/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    keepalive_requests 1000000;
    upstream receiver {
        server {upstream};
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen {listen} reuseport;
        location / {
            proxy_pass http://receiver;
            proxy_http_version 1.1;
            proxy_set_header Connection '';
        }
    }
}
";
