//! The benchmark's tables, in Markdown, and the targets checked against them.

use crate::oha::Measured;
use crate::procs::Usage;
use crate::Queued;

/// One target of the throughput runs.
#[derive(Debug)]
pub struct Row {
    /// `direct`, `nginx`, `hookseal sign-only`, ...
    pub name: &'static str,
    /// What the load generator saw.
    pub measured: Measured,
    /// Connections the upstream accepted over the warm-up and the measured run.
    pub upstream_connections: u64,
    /// CPU time over the measured run and peak memory, for the proxies.
    pub usage: Option<Usage>,
}

/// One target of the fixed-rate run.
#[derive(Debug)]
pub struct Light {
    /// As in [`Row`].
    pub name: &'static str,
    /// What the load generator saw.
    pub measured: Measured,
}

/// Prints the facts of the machine the figures come from.
pub fn machine() {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| info.lines().next().map(str::to_owned))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("## hookseal benchmark\n");
    println!(
        "- cores: {cores}; {}",
        memory.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    println!("- load average at start: {}", load.trim());
    println!();
}

/// The throughput table, with ratios to nginx and to the direct path.
pub fn hops(rows: &[Row], connections: usize, seconds: u64) {
    println!("### Throughput: {connections} connections, {seconds} s per target, sync routes\n");
    println!(
        "| target | req/s | p50 ms | p99 ms | p99.9 ms | failed | upstream conns | CPU µs/req \
         | peak RSS MiB | req/s ×nginx | req/s ×direct | p99 ×nginx | p99 ×direct |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let find = |name: &str| {
        rows.iter()
            .find(|row| row.name == name)
            .map(|row| row.measured)
    };
    let (nginx, direct) = (find("nginx"), find("direct"));
    for row in rows {
        let m = &row.measured;
        let (cpu, rss) = usage_cells(row.usage, m.answered);
        let ratio = |base: Option<Measured>, pick: fn(&Measured) -> f64| {
            base.map_or("-".to_owned(), |base| {
                format!("{:.2}", pick(m) / pick(&base))
            })
        };
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {} | {cpu} | {rss} | {} | {} | {} | {} |",
            row.name,
            m.requests_per_sec,
            m.p50_ms,
            m.p99_ms,
            m.p999_ms,
            m.failed,
            row.upstream_connections,
            ratio(nginx, |m| m.requests_per_sec),
            ratio(direct, |m| m.requests_per_sec),
            ratio(nginx, |m| m.p99_ms),
            ratio(direct, |m| m.p99_ms),
        );
    }
    println!();
    let (Some(nginx), Some(sign), Some(enrich)) =
        (nginx, find("hookseal sign-only"), find("hookseal enrich"))
    else {
        return;
    };
    let throughput = sign.requests_per_sec / nginx.requests_per_sec;
    target(
        throughput >= 1.0,
        &format!("sign-only throughput ≥ 1.0× nginx: {throughput:.2}×"),
    );
    let p99 = sign.p99_ms / nginx.p99_ms;
    target(
        p99 <= 1.2,
        &format!("sign-only p99 within 1.2× nginx's: {p99:.2}×"),
    );
    let enriched = enrich.requests_per_sec / nginx.requests_per_sec;
    target(
        enriched >= 0.7,
        &format!("enrich throughput ≥ 0.7× nginx: {enriched:.2}×"),
    );
    println!();
}

/// The fixed-rate table: latency added to the direct path.
pub fn light(rows: &[Light], rate: u32, seconds: u64) {
    println!("### Light load: {rate} req/s fixed rate, {seconds} s, latency corrected\n");
    println!("| target | req/s | p50 ms | p99 ms | p99.9 ms | failed | p99 added to direct, ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let direct = rows
        .iter()
        .find(|row| row.name == "direct")
        .map(|row| row.measured);
    for row in rows {
        let m = &row.measured;
        let added = direct.map_or("-".to_owned(), |d| format!("{:+.3}", m.p99_ms - d.p99_ms));
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {added} |",
            row.name, m.requests_per_sec, m.p50_ms, m.p99_ms, m.p999_ms, m.failed
        );
    }
    println!();
    let p99 = |name| {
        rows.iter()
            .find(|row| row.name == name)
            .map(|row| row.measured.p99_ms)
    };
    if let (Some(direct), Some(sign)) = (p99("direct"), p99("hookseal sign-only")) {
        let added = sign - direct;
        target(
            added < 0.3,
            &format!("sign-only adds < 0.3 ms to direct p99: {added:+.3} ms"),
        );
        println!();
    }
}

/// Peak memory with many client connections.
pub fn many_connections(row: &Row, connections: usize, seconds: u64) {
    println!("### Memory: {connections} concurrent connections, {seconds} s\n");
    let m = &row.measured;
    let rss = row.usage.map_or(0.0, |usage| mib(usage.peak_rss_bytes));
    println!("| target | req/s | p99 ms | failed | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.3} | {} | {rss:.1} |\n",
        row.name, m.requests_per_sec, m.p99_ms, m.failed
    );
    target(
        rss < 64.0,
        &format!("peak RSS < 64 MiB with {connections} connections: {rss:.1} MiB"),
    );
    println!();
}

/// The queued route on each store: accepting (durable commits) and delivering.
pub fn queued(runs: &[(&str, Queued)], connections: usize) {
    println!("### Queued delivery: durable commits, distinct events\n");
    println!(
        "| store | sent | accepted events/s | p50 ms | p99 ms | p99.9 ms | not 202 | delivered \
         | delivered events/s | CPU µs/event | peak RSS MiB |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (store, run) in runs {
        let m = &run.accepted;
        let sent = match run.rate {
            Some(rate) => format!("{rate}/s fixed rate"),
            None => format!("as answered, {connections} conns"),
        };
        let delivered_per_sec = run.delivered as f64 / run.delivering.as_secs_f64();
        let (cpu, rss) = usage_cells(Some(run.usage), m.answered);
        println!(
            "| {store} | {sent} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {} of {} \
             | {delivered_per_sec:.0} | {cpu} | {rss} |",
            m.requests_per_sec,
            m.p50_ms,
            m.p99_ms,
            m.p999_ms,
            m.failed,
            run.delivered,
            m.answered - m.failed,
        );
    }
    println!(
        "\n(delivered events/s counts from the first request to the last delivery; CPU \
         covers accepting and delivering; CPU and memory are hookseal's, not PostgreSQL's. \
         A fixed rate's latencies count from when each event was due, so a late answer also \
         delays the events behind it.)\n"
    );
    let sqlite = |paced: bool| {
        runs.iter()
            .find(|(store, run)| *store == "SQLite" && run.rate.is_some() == paced)
            .map(|(_, run)| &run.accepted)
    };
    if let Some(m) = sqlite(false) {
        target(
            m.requests_per_sec >= 10_000.0,
            &format!(
                "SQLite accepts ≥ 10,000 events/s: {:.0}/s",
                m.requests_per_sec
            ),
        );
    }
    if let Some(m) = sqlite(true) {
        target(
            m.p99_ms < 5.0 && m.failed == 0,
            &format!(
                "SQLite accept p99 < 5 ms at a fixed rate: {:.3} ms",
                m.p99_ms
            ),
        );
    }
    println!();
}

fn usage_cells(usage: Option<Usage>, answered: u64) -> (String, String) {
    let Some(usage) = usage else {
        return ("-".to_owned(), "-".to_owned());
    };
    let per_request = usage.cpu.as_secs_f64() * 1e6 / answered.max(1) as f64;
    (
        format!("{per_request:.0}"),
        format!("{:.1}", mib(usage.peak_rss_bytes)),
    )
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn target(met: bool, text: &str) {
    let verdict = if met { "met" } else { "MISSED" };
    println!("- {verdict}: {text}");
}
