//! Typed settings from command-line flags and the environment. Every flag
//! has an environment variable (`SYNDICATE_` prefix, plus `DATABASE_URL`).

use std::num::NonZeroU32;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::http::body;
use crate::identity::TokenSettings;
use crate::metering::JournalSettings;
use crate::storage::{DatabaseUrl, PoolSettings, SqliteTarget, UnsupportedDatabaseUrl};
pub use crate::telemetry::LogFormat;

/// Licensing and metered delivery of news content.
#[derive(Debug, Parser)]
#[command(name = "syndicate", version, about)]
pub struct Cli {
    /// Log line format.
    #[arg(long, env = "SYNDICATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Log filter, in `tracing` directive syntax (e.g. `info,syndicate=debug`).
    #[arg(long, env = "SYNDICATE_LOG", default_value = "info", global = true)]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the HTTP API.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Create organisations and API clients without the HTTP API (for
    /// bootstrapping an empty install); prints the created JSON.
    Admin(AdminArgs),
    /// Write a benchmark dataset (publishers, articles with photos,
    /// licensees with licences and clients) through the same functions the
    /// API uses; prints the credentials and each licensee's articles as JSON.
    Seed(SeedArgs),
}

/// `syndicate seed …`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Articles to write (each with a photo).
    #[arg(long, default_value_t = 10_000)]
    pub articles: usize,
    /// Publishers the articles are spread over.
    #[arg(long, default_value_t = 20)]
    pub publishers: usize,
    /// Licensees, each with its own client.
    #[arg(long, default_value_t = 8)]
    pub licensees: usize,
    /// Publishers each licensee is licensed for.
    #[arg(long, default_value_t = 3)]
    pub licences_each: usize,
    /// Past deliveries to record in the usage ledger, spread over the
    /// licensees and the last 30 days (for measuring usage reports).
    #[arg(long, default_value_t = 0)]
    pub events: usize,
}

/// `syndicate admin …`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// What to create.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Bootstrap commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an API client; prints `{"client_id", "client_secret", …}`.
    CreateClient {
        /// What the client is for.
        #[arg(long)]
        name: String,
        /// `admin`, `publisher` or `licensee`.
        #[arg(long)]
        role: String,
        /// The publisher or licensee id (for those roles).
        #[arg(long)]
        organisation: Option<uuid::Uuid>,
    },
    /// Create a publisher; prints it.
    CreatePublisher {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Short name (derived from the name when absent).
        #[arg(long)]
        slug: Option<String>,
    },
    /// Create a licensee; prints it.
    CreateLicensee {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Comma-separated ISO 3166-1 alpha-2 codes, e.g. `GB,IE`.
        #[arg(long, value_delimiter = ',')]
        territories: Vec<String>,
    },
    /// Give back the quota leases of a journal-mode node lost with its disk
    /// (its id is the `node` file of its journal directory, and the
    /// `node_id` of its `quota_leases` rows); prints how many were held.
    /// Never for a node that may still run.
    ReleaseNode {
        /// The node's id.
        #[arg(long)]
        node: String,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (created on first start) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://syndicate.db")]
    pub database_url: String,
}

/// Flags of `syndicate serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SYNDICATE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SYNDICATE_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Seconds a request body may take before `--body-min-rate` applies.
    #[arg(long, env = "SYNDICATE_BODY_TIMEOUT", default_value_t = body::DEFAULT_GRACE_SECS)]
    pub body_timeout: u64,
    /// Bytes a second a request body must average after `--body-timeout`;
    /// a slower one is cut off (408, connection closed).
    #[arg(long, env = "SYNDICATE_BODY_MIN_RATE", default_value_t = body::DEFAULT_MIN_RATE)]
    pub body_min_rate: u32,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "SYNDICATE_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Milliseconds between a shutdown signal and closing the listener. In
    /// that window `/readyz` answers 503 and every response closes its
    /// connection, so keep-alive clients move away before the close.
    #[arg(long, env = "SYNDICATE_DRAIN_DELAY_MS", default_value_t = 1000)]
    pub drain_delay_ms: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "SYNDICATE_WORKERS")]
    pub workers: Option<usize>,
    /// Most database connections open at once.
    #[arg(long, env = "SYNDICATE_POOL_SIZE", default_value_t = 16)]
    pub pool_size: u32,
    /// Memory for delivery facts kept between requests (articles with
    /// their photos and rendered bodies, licences, client standing), in MiB.
    #[arg(long, env = "SYNDICATE_FACT_CACHE_MB", default_value_t = 256)]
    pub fact_cache_mb: usize,
    /// Seconds a request waits for a database connection before a 503.
    #[arg(long, env = "SYNDICATE_POOL_TIMEOUT", default_value_t = 5)]
    pub pool_timeout: u64,
    /// Where a delivery's usage event is made durable before the answer:
    /// in the node's usage journal on its own disk, shipped to the SQL
    /// ledger in batches (`journal`), or in the SQL ledger (`sync`, for a
    /// node without a persistent disk of its own). An in-memory SQLite
    /// database always uses `sync`.
    #[arg(long, env = "SYNDICATE_LEDGER", value_enum, default_value_t = LedgerMode::Journal)]
    pub ledger: LedgerMode,
    /// The node's usage journal directory (one per node, on a persistent
    /// disk). Default: beside an SQLite file (`syndicate.journal` for
    /// `syndicate.db`), else `syndicate.journal`.
    #[arg(long, env = "SYNDICATE_JOURNAL_DIR")]
    pub journal_dir: Option<std::path::PathBuf>,
    /// Most MiB of usage journal not yet shipped to the database; past it,
    /// deliveries are refused (503) until shipping catches up.
    #[arg(long, env = "SYNDICATE_JOURNAL_MAX_MB", default_value_t = DEFAULT_JOURNAL_MB)]
    pub journal_max_mb: u64,
    /// Milliseconds a journal-mode node goes on delivering after it last
    /// confirmed its rights facts current with the database; past it, 503.
    #[arg(long, env = "SYNDICATE_FRESHNESS_MS", default_value_t = DEFAULT_FRESHNESS_MS)]
    pub freshness_ms: u64,
    /// Milliseconds in which a repeated failure is logged once: the first
    /// in full, then one line with how many times it happened.
    #[arg(
        long,
        env = "SYNDICATE_LOG_REPEAT_INTERVAL_MS",
        default_value_t = 10_000
    )]
    pub log_repeat_interval_ms: u64,
    /// Do not apply migrations at start-up (run `syndicate migrate` instead).
    #[arg(long, env = "SYNDICATE_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Seed a small demo world on an empty database (idempotent) and print
    /// credentials to try it with. Never on unless asked for.
    #[arg(long, env = "SYNDICATE_DEMO")]
    pub demo: bool,
    /// Hosts webhook endpoints may name although they are (or resolve to)
    /// loopback, private, link-local or metadata addresses: a comma-separated
    /// list of `host` or `host:port` (e.g. `hooks.internal,127.0.0.1:9000`).
    #[arg(long, env = "SYNDICATE_WEBHOOK_ALLOW_HOSTS", value_delimiter = ',')]
    pub webhook_allow_hosts: Vec<String>,
    /// Hours before a licence ends that its licensee is told (`licence.ending`).
    #[arg(
        long,
        env = "SYNDICATE_LICENCE_ENDING_NOTICE_HOURS",
        default_value_t = 168
    )]
    pub licence_ending_notice_hours: u64,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Token settings.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// Directory of Ed25519 PEM keys (`KID.pem` signs, `KID.pub.pem` only
    /// verifies); a key is generated there when it holds none. Default: beside
    /// an SQLite file (`syndicate.keys/` for `syndicate.db`), else
    /// `syndicate.keys/` in the working directory.
    #[arg(long, env = "SYNDICATE_JWT_KEYS")]
    pub jwt_keys: Option<std::path::PathBuf>,
    /// `iss` of issued tokens, and the only one accepted.
    #[arg(long, env = "SYNDICATE_JWT_ISSUER", default_value = "syndicate")]
    pub jwt_issuer: String,
    /// `aud` of issued tokens, and the only one accepted.
    #[arg(long, env = "SYNDICATE_JWT_AUDIENCE", default_value = "syndicate-api")]
    pub jwt_audience: String,
    /// Access token lifetime in seconds.
    #[arg(long, env = "SYNDICATE_TOKEN_TTL", default_value_t = 900)]
    pub token_ttl: u64,
    /// Token requests allowed per minute from one source address.
    #[arg(long, env = "SYNDICATE_TOKEN_ATTEMPTS_PER_ADDRESS", default_value_t = NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))]
    pub token_attempts_per_address: NonZeroU32,
    /// Token requests allowed per minute for one client id.
    #[arg(long, env = "SYNDICATE_TOKEN_ATTEMPTS_PER_CLIENT", default_value_t = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN))]
    pub token_attempts_per_client: NonZeroU32,
}

/// Where the token signing keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// A directory of PEM files.
    Directory(std::path::PathBuf),
    /// Made at start-up and forgotten at exit (in-memory databases only).
    Ephemeral,
}

impl KeyLocation {
    /// The default for a database: beside an SQLite file, in memory for an
    /// in-memory database, else in the working directory.
    pub fn default_for(url: &DatabaseUrl) -> Self {
        match url {
            DatabaseUrl::Sqlite(SqliteTarget::File(path)) => {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("syndicate");
                KeyLocation::Directory(path.with_file_name(format!("{stem}.keys")))
            }
            DatabaseUrl::Sqlite(SqliteTarget::Memory) => KeyLocation::Ephemeral,
            DatabaseUrl::Postgres(_) => KeyLocation::Directory("syndicate.keys".into()),
        }
    }
}

/// Most MiB of unshipped usage journal, unless set.
const DEFAULT_JOURNAL_MB: u64 = 1024;
/// Milliseconds a journal-mode node delivers after it last confirmed its
/// facts, unless set.
const DEFAULT_FRESHNESS_MS: u64 = 1000;

/// Where a delivery's usage event is made durable before the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LedgerMode {
    /// In the node's usage journal, shipped to the SQL ledger in batches.
    Journal,
    /// In the SQL ledger, in a transaction per batch of deliveries.
    Sync,
}

/// The usage journal's directory when none is named: beside an SQLite
/// file, else in the working directory.
fn default_journal_dir(url: &DatabaseUrl) -> std::path::PathBuf {
    match url {
        DatabaseUrl::Sqlite(SqliteTarget::File(path)) => {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("syndicate");
            path.with_file_name(format!("{stem}.journal"))
        }
        _ => "syndicate.journal".into(),
    }
}

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Where the signing keys are.
    pub keys: KeyLocation,
    /// Issuer, audience, lifetime, leeway.
    pub tokens: TokenSettings,
    /// Token requests per minute from one address.
    pub attempts_per_address: NonZeroU32,
    /// Token requests per minute for one client id.
    pub attempts_per_client: NonZeroU32,
}

/// Everything the server needs, already parsed and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// The database.
    pub database_url: DatabaseUrl,
    /// Pool sizing.
    pub pool: PoolSettings,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Time a request body may take before `body_min_rate` applies.
    pub body_timeout: Duration,
    /// Bytes a second a request body must average after `body_timeout`.
    pub body_min_rate: u32,
    /// Interval in which a repeated failure is logged once.
    pub log_repeat_interval: Duration,
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Time between a shutdown signal and closing the listener.
    pub drain_delay: Duration,
    /// HTTP worker threads; `None` is one per core.
    pub workers: Option<usize>,
    /// Bytes of delivery facts kept in memory.
    pub fact_cache_bytes: usize,
    /// The node's usage journal, in journal mode; `None` is the
    /// synchronous SQL ledger.
    pub journal: Option<JournalSettings>,
    /// Whether start-up applies pending migrations.
    pub migrate_on_start: bool,
    /// Tokens and keys.
    pub auth: AuthSettings,
    /// Seed the demo world at start-up.
    pub demo: bool,
    /// How webhooks are sent, and which hosts they may reach.
    pub webhooks: crate::notices::WebhookSettings,
}

impl Settings {
    /// Settings for a database URL with every other value at its default.
    pub fn for_database(database_url: DatabaseUrl) -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            pool: PoolSettings {
                max_size: 16,
                connection_timeout: Duration::from_secs(5),
            },
            body_limit: 1024 * 1024,
            body_timeout: Duration::from_secs(body::DEFAULT_GRACE_SECS),
            body_min_rate: body::DEFAULT_MIN_RATE,
            log_repeat_interval: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(30),
            drain_delay: Duration::from_secs(1),
            workers: None,
            fact_cache_bytes: 256 << 20,
            journal: match &database_url {
                DatabaseUrl::Sqlite(SqliteTarget::Memory) => None,
                url => Some(JournalSettings {
                    dir: default_journal_dir(url),
                    max_bytes: DEFAULT_JOURNAL_MB << 20,
                    freshness: Duration::from_millis(DEFAULT_FRESHNESS_MS),
                }),
            },
            migrate_on_start: true,
            auth: AuthSettings {
                keys: KeyLocation::default_for(&database_url),
                tokens: TokenSettings::default(),
                attempts_per_address: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
                attempts_per_client: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            },
            database_url,
            demo: false,
            webhooks: crate::notices::WebhookSettings::default(),
        }
    }
}

impl TryFrom<ServeArgs> for Settings {
    type Error = UnsupportedDatabaseUrl;

    fn try_from(args: ServeArgs) -> Result<Self, Self::Error> {
        let database_url = DatabaseUrl::parse(&args.database.database_url)?;
        let journal = match (args.ledger, &database_url) {
            (LedgerMode::Sync, _) | (_, DatabaseUrl::Sqlite(SqliteTarget::Memory)) => None,
            (LedgerMode::Journal, url) => Some(JournalSettings {
                dir: args.journal_dir.unwrap_or_else(|| default_journal_dir(url)),
                max_bytes: args.journal_max_mb.max(1).saturating_mul(1 << 20),
                freshness: Duration::from_millis(args.freshness_ms.max(1)),
            }),
        };
        let keys = match args.auth.jwt_keys {
            Some(dir) => KeyLocation::Directory(dir),
            None => KeyLocation::default_for(&database_url),
        };
        Ok(Self {
            bind: args.bind,
            auth: AuthSettings {
                keys,
                tokens: TokenSettings {
                    issuer: args.auth.jwt_issuer,
                    audience: args.auth.jwt_audience,
                    ttl: Duration::from_secs(args.auth.token_ttl.clamp(60, 24 * 3600)),
                    ..TokenSettings::default()
                },
                attempts_per_address: args.auth.token_attempts_per_address,
                attempts_per_client: args.auth.token_attempts_per_client,
            },
            database_url,
            pool: PoolSettings {
                max_size: args.pool_size,
                connection_timeout: Duration::from_secs(args.pool_timeout.max(1)),
            },
            body_limit: args.body_limit,
            body_timeout: Duration::from_secs(args.body_timeout),
            body_min_rate: args.body_min_rate.max(1),
            log_repeat_interval: Duration::from_millis(args.log_repeat_interval_ms.max(1)),
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
            drain_delay: Duration::from_millis(args.drain_delay_ms),
            workers: args.workers,
            fact_cache_bytes: args.fact_cache_mb.saturating_mul(1 << 20),
            journal,
            migrate_on_start: !args.no_migrate,
            demo: args.demo,
            webhooks: crate::notices::WebhookSettings {
                allow_hosts: args.webhook_allow_hosts,
                licence_ending_notice: Duration::from_secs(
                    args.licence_ending_notice_hours.saturating_mul(3600),
                ),
                ..crate::notices::WebhookSettings::default()
            },
        })
    }
}
