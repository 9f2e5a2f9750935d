//! The `hookseal` command line: parses arguments, sets up logging and calls into the library.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use hookseal::config::{Config, LogFormat};
use hookseal::deliveries::{self, Selection};
use hookseal::secret::Secret;
use hookseal::sign;
use hookseal::sign::VerifyFailure;

/// glibc's allocator serialises tokio's workers on its arena locks when a buffer allocated on
/// one worker is freed on another, as request bodies are; mimalloc frees to the owning thread
/// without a lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Prints the request line and headers a route would send for a body, signed now.
    Sign {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// The route's name.
        #[arg(long)]
        route: String,
        /// The body's content type. Default: JSON if the body parses as JSON, else a form.
        #[arg(long)]
        content_type: Option<String>,
        /// The file holding the exact body.
        body_file: PathBuf,
    },
    /// Checks a captured request's signature as its receiver would; exits 1 if it fails.
    Verify(VerifyArgs),
    /// Prints a fresh secret for a scheme (and the public key, for Ed25519).
    Keygen {
        /// The scheme, such as `standard-webhooks` or `stripe`.
        #[arg(long)]
        scheme: String,
        /// An Ed25519 key pair (`whsk_`/`whpk_`) instead of an HMAC secret.
        #[arg(long)]
        ed25519: bool,
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
        /// Allows an empty selection, which shows every event.
        #[arg(long)]
        all: bool,
    },
    /// Makes waiting events due now, and replays dead ones with a fresh attempt count.
    Retry {
        #[command(flatten)]
        selection: Selection,
        /// Allows an empty selection, which retries every waiting and dead event.
        #[arg(long)]
        all: bool,
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

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The scheme the request was signed with.
    #[arg(long)]
    scheme: String,
    /// A file holding the secret (or `whpk_` public key).
    #[arg(
        long,
        conflicts_with = "secret_env",
        required_unless_present = "secret_env"
    )]
    secret_file: Option<PathBuf>,
    /// An environment variable holding the secret (or `whpk_` public key).
    #[arg(long)]
    secret_env: Option<String>,
    /// The captured request head: `Name: value` lines, after an optional request line.
    #[arg(long)]
    headers: PathBuf,
    /// The full URL the request went to (Twilio). Default: the request line's, if absolute.
    #[arg(long)]
    url: Option<String>,
    /// Unix seconds to judge timestamps against. Default: now.
    #[arg(long)]
    now: Option<i64>,
    #[command(flatten)]
    hmac: HmacOptions,
    /// The file holding the exact body.
    body_file: PathBuf,
}

/// The options of an `hmac` entry, as in its `[[routes.sign]]` table; only with `--scheme hmac`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Options of --scheme hmac")]
struct HmacOptions {
    /// The signature header (`header`).
    #[arg(long)]
    header: Option<String>,
    /// `sha256` (default), `sha512` or `sha1`.
    #[arg(long)]
    algorithm: Option<String>,
    /// `hex` (default) or `base64`.
    #[arg(long)]
    encoding: Option<String>,
    /// Text before the signature, such as `sha256=`.
    #[arg(long)]
    prefix: Option<String>,
    /// `body` (default) or `id.timestamp.body`.
    #[arg(long)]
    signed: Option<String>,
    /// The event id header, with `id.timestamp.body` (default `webhook-id`).
    #[arg(long)]
    id_header: Option<String>,
    /// The timestamp header, with `id.timestamp.body` (default `webhook-timestamp`).
    #[arg(long)]
    timestamp_header: Option<String>,
}

impl HmacOptions {
    /// The options as an `hmac` entry without secrets, or `None` when none was given.
    fn entry(&self) -> Option<hookseal::config::SignConfig> {
        let given = [
            &self.header,
            &self.algorithm,
            &self.encoding,
            &self.prefix,
            &self.signed,
            &self.id_header,
            &self.timestamp_header,
        ];
        given
            .iter()
            .any(|option| option.is_some())
            .then(|| hookseal::config::SignConfig {
                scheme: "hmac".to_owned(),
                secrets: Vec::new(),
                secret_files: Vec::new(),
                header: self.header.clone(),
                algorithm: self.algorithm.clone(),
                encoding: self.encoding.clone(),
                prefix: self.prefix.clone(),
                signed: self.signed.clone(),
                id_header: self.id_header.clone(),
                timestamp_header: self.timestamp_header.clone(),
            })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => serve(&config, cli.log_format).map(success),
        Command::Check { config } => check(&config).map(success),
        Command::Demo => demo().map(success),
        Command::Deliveries { config, action } => deliveries(config, action).map(success),
        Command::Forget { config, booking } => forget(&config, &booking).map(success),
        Command::Sign {
            config,
            route,
            content_type,
            body_file,
        } => sign_command(&config, &route, content_type.as_deref(), &body_file),
        // A request that fails its check exits 1; one that cannot be checked as asked, 2.
        Command::Verify(args) => verify_command(&args).or_else(|err| {
            eprintln!("error: {err:#}");
            Ok(ExitCode::from(2))
        }),
        Command::Keygen { scheme, ed25519 } => keygen_command(&scheme, ed25519),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err:#}");
        ExitCode::FAILURE
    })
}

fn success((): ()) -> ExitCode {
    ExitCode::SUCCESS
}

fn sign_command(
    config: &Path,
    route: &str,
    content_type: Option<&str>,
    body_file: &Path,
) -> anyhow::Result<ExitCode> {
    let config = hookseal::config::Config::load(config)?;
    let Some(route) = config.routes().find(|candidate| candidate.name == route) else {
        anyhow::bail!("no route named {route:?} in {}", config.source.display());
    };
    let body = read(body_file)?;
    let content_type = content_type.unwrap_or_else(|| sign::preview::content_type_of(&body));
    // The id serve would give: derived from a cal.com event's identity, else fresh.
    let event = hookseal::enrich::calcom::inspect(&body);
    let event_id = hookseal::event_id::of(&route.name, event.as_ref());
    let draft = sign::preview::Draft {
        event_id: &event_id,
        now_unix: now_unix(),
        content_type,
        body: &body,
    };

    let (upstream, signature) = sign::preview::preview(route, &draft)?;
    println!("POST {upstream} HTTP/1.1");
    println!("user-agent: {}", hookseal::deliver::USER_AGENT_VALUE);
    println!("content-type: {content_type}");
    // Fixed headers often carry API keys: named, never shown.
    for name in route.headers.keys() {
        println!(
            "{}: <from the config, not shown>",
            name.to_ascii_lowercase()
        );
    }
    for (name, value) in &signature.headers {
        println!("{name}: {}", value.to_str().unwrap_or("<not text>"));
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_command(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let secret = match (&args.secret_file, &args.secret_env) {
        (Some(path), _) => Secret::from_file(path).map_err(anyhow::Error::msg)?,
        (None, Some(var)) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Secret::new(value),
            _ => anyhow::bail!("environment variable {var} is not set or empty"),
        },
        (None, None) => anyhow::bail!("give --secret-file or --secret-env"),
    };
    let text = std::fs::read_to_string(&args.headers)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", args.headers.display()))?;
    let head = sign::request_file::parse(&text)
        .map_err(|err| anyhow::anyhow!("{}: {err}", args.headers.display()))?;
    let body = read(&args.body_file)?;
    let url = args
        .url
        .clone()
        .or_else(|| head.target.filter(|target| target.contains("://")));

    let now = args.now.unwrap_or_else(now_unix);
    let verdict = match (args.scheme.as_str(), args.hmac.entry()) {
        ("hmac", Some(options)) => {
            sign::verify::verify_hmac(&options, &[secret], &head.headers, &body, now)
        }
        ("hmac", None) => anyhow::bail!("--scheme hmac needs --header and the entry's options"),
        (_, Some(_)) => anyhow::bail!("--header, --algorithm and the like go with --scheme hmac"),
        (scheme, None) => {
            sign::verify(scheme, &[secret], &head.headers, &body, url.as_deref(), now)
        }
    };
    Ok(match verdict {
        // What was asked cannot be checked: the request itself was never judged.
        Err(
            failure @ (VerifyFailure::UnknownScheme(_)
            | VerifyFailure::NeedsOptions(_)
            | VerifyFailure::Options(_)
            | VerifyFailure::NoSecret
            | VerifyFailure::BadSecret { .. }
            | VerifyFailure::Url(_)),
        ) => anyhow::bail!("{failure}"),
        Ok(verified) => {
            println!(
                "ok: {} matches (secret {})",
                verified.matched, verified.secret
            );
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("fail: {failure}");
            ExitCode::FAILURE
        }
    })
}

fn keygen_command(scheme: &str, ed25519: bool) -> anyhow::Result<ExitCode> {
    let generated = sign::keygen(scheme, ed25519)?;
    println!("secret: {}", generated.secret.expose());
    if let Some(public_key) = generated.public_key {
        println!("public key: {public_key}");
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))
}

fn now_unix() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    elapsed.map_or(0, |since| {
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
    })
}

fn serve(path: &Path, log_format: Option<LogFormat>) -> anyhow::Result<()> {
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

fn check(path: &Path) -> anyhow::Result<()> {
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
        let store = open_existing_store(&config).await?;
        let store = store.as_ref();
        match action {
            DeliveriesAction::List { selection, limit } => {
                print!("{}", deliveries::list(store, &selection, limit).await?);
            }
            DeliveriesAction::Show { selection, all } => {
                print!("{}", deliveries::show(store, &selection, all).await?)
            }
            DeliveriesAction::Retry { selection, all } => {
                println!(
                    "{} events due again",
                    deliveries::retry(store, &selection, all).await?
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
                let configured = config.routes().any(|candidate| candidate.name == route);
                anyhow::ensure!(
                    was_paused || configured,
                    "no route named {route:?} in the config"
                );
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

fn forget(path: &Path, booking: &str) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    runtime()?.block_on(async {
        let store = open_existing_store(&config).await?;
        let removed = store.forget_chain(booking).await?;
        println!("forgot booking chain of {booking}: {removed} rows erased");
        Ok(())
    })
}

/// Opens the store a serving hookseal uses; an embedded store that does not exist yet is an
/// error rather than a new empty file (a mistyped path would otherwise show nothing).
async fn open_existing_store(
    config: &Config,
) -> anyhow::Result<std::sync::Arc<dyn hookseal::store::Store>> {
    if config.store.kind == hookseal::config::StoreKind::Sqlite && !config.store.path.exists() {
        anyhow::bail!(
            "no store at {}: run this from where hookseal serves, with the same config",
            config.store.path.display()
        );
    }
    Ok(hookseal::store::open(&config.store).await?)
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
    // Colour codes only on a terminal: journald, `docker logs` and files get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(|err| anyhow::anyhow!("cannot set up logging: {err}"))
}
