//! The `hookseal` command line: parses arguments, sets up logging and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use hookseal::config::{Config, LogFormat};
use hookseal::deliveries::{self, Selection};

/// A webhook gateway for self-hosted cal.com: authenticates, enriches, signs and delivers.
#[derive(Debug, Parser)]
#[command(name = "hookseal", version, about)]
struct Cli {
    /// Log format; overrides `[log] format`.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the gateway.
    Serve {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Validates a config file without starting anything.
    Check {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Runs the gateway, a receiver and a replayed cal.com booking lifecycle on loopback.
    Demo,
    /// Lists, shows, replays or purges stored events, and resumes paused routes.
    Deliveries {
        /// The TOML config file naming the store.
        #[arg(long, short, global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: DeliveriesAction,
    },
    /// Erases a booking chain's cached metadata, links and stored events (erasure requests).
    Forget {
        /// The TOML config file naming the store.
        #[arg(long, short)]
        config: PathBuf,
        /// Any booking uid of the chain.
        #[arg(long)]
        booking: String,
    },
}

#[derive(Debug, Subcommand)]
enum DeliveriesAction {
    /// Lists stored events, newest first.
    List {
        #[command(flatten)]
        selection: Selection,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Shows stored events in full, with their bodies, as JSON lines.
    Show {
        #[command(flatten)]
        selection: Selection,
    },
    /// Makes waiting events due now, and replays dead ones with a fresh attempt count.
    Retry {
        #[command(flatten)]
        selection: Selection,
    },
    /// Deletes stored events.
    Purge {
        #[command(flatten)]
        selection: Selection,
        /// Allows an empty selection, which deletes every event.
        #[arg(long)]
        all: bool,
    },
    /// Resumes a route paused by a 410 from its upstream.
    Resume {
        /// The route's name.
        #[arg(long)]
        route: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => serve(&config, cli.log_format),
        Command::Check { config } => check(&config),
        Command::Demo => demo(),
        Command::Deliveries { config, action } => deliveries(config, action),
        Command::Forget { config, booking } => forget(&config, &booking),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(path: &PathBuf, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    init_logging(
        log_format.unwrap_or(config.log.format),
        config.log.level.as_deref(),
    )?;
    runtime()?.block_on(async {
        let app = hookseal::app::App::start(config).await?;
        app.run(hookseal::app::shutdown_signal()).await;
        Ok(())
    })
}

fn check(path: &PathBuf) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    println!("{}: ok ({} routes)", path.display(), config.routes.len());
    Ok(())
}

fn demo() -> anyhow::Result<()> {
    init_logging(LogFormat::Text, Some("warn"))?;
    runtime()?.block_on(hookseal::demo::run())
}

fn deliveries(config: Option<PathBuf>, action: DeliveriesAction) -> anyhow::Result<()> {
    let config = config.context("--config is required")?;
    let config = Config::load(&config)?;
    runtime()?.block_on(async {
        let store = hookseal::store::open(&config.store)?;
        let store = store.as_ref();
        match action {
            DeliveriesAction::List { selection, limit } => {
                print!("{}", deliveries::list(store, &selection, limit).await?);
            }
            DeliveriesAction::Show { selection } => {
                print!("{}", deliveries::show(store, &selection).await?)
            }
            DeliveriesAction::Retry { selection } => {
                println!(
                    "{} events due again",
                    deliveries::retry(store, &selection).await?
                );
            }
            DeliveriesAction::Purge { selection, all } => {
                println!(
                    "{} events purged",
                    deliveries::purge(store, &selection, all).await?
                );
            }
            DeliveriesAction::Resume { route } => {
                let was_paused = store.resume_route(&route).await?;
                println!(
                    "route {route} {}",
                    if was_paused {
                        "resumed"
                    } else {
                        "was not paused"
                    }
                );
            }
        }
        Ok(())
    })
}

fn forget(path: &PathBuf, booking: &str) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    runtime()?.block_on(async {
        let store = hookseal::store::open(&config.store)?;
        let removed = store.forget_chain(booking).await?;
        println!("forgot booking chain of {booking}: {removed} rows erased");
        Ok(())
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start tokio")
}

fn init_logging(format: LogFormat, level: Option<&str>) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(filter) => filter,
        Err(_) => level.unwrap_or("info").to_owned(),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .with_context(|| format!("invalid log filter {filter:?}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|err| anyhow::anyhow!("cannot set up logging: {err}"))
}
