//! Typed settings from command-line flags and the environment. Every flag
//! has an environment variable (`SYNDICATE_` prefix, plus `DATABASE_URL`).

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::storage::{DatabaseUrl, PoolSettings, UnsupportedDatabaseUrl};

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
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
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
    /// Seconds a request waits for a database connection before a 503.
    #[arg(long, env = "SYNDICATE_POOL_TIMEOUT", default_value_t = 5)]
    pub pool_timeout: u64,
    /// Do not apply migrations at start-up (run `syndicate migrate` instead).
    #[arg(long, env = "SYNDICATE_NO_MIGRATE")]
    pub no_migrate: bool,
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
    /// Grace period for in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Time between a shutdown signal and closing the listener.
    pub drain_delay: Duration,
    /// HTTP worker threads; `None` is one per core.
    pub workers: Option<usize>,
    /// Whether start-up applies pending migrations.
    pub migrate_on_start: bool,
}

impl Settings {
    /// Settings for a database URL with every other value at its default.
    pub fn for_database(database_url: DatabaseUrl) -> Self {
        Self {
            bind: "127.0.0.1:8080".to_owned(),
            database_url,
            pool: PoolSettings {
                max_size: 16,
                connection_timeout: Duration::from_secs(5),
            },
            body_limit: 1024 * 1024,
            shutdown_timeout: Duration::from_secs(30),
            drain_delay: Duration::from_secs(1),
            workers: None,
            migrate_on_start: true,
        }
    }
}

impl TryFrom<ServeArgs> for Settings {
    type Error = UnsupportedDatabaseUrl;

    fn try_from(args: ServeArgs) -> Result<Self, Self::Error> {
        Ok(Self {
            bind: args.bind,
            database_url: DatabaseUrl::parse(&args.database.database_url)?,
            pool: PoolSettings {
                max_size: args.pool_size,
                connection_timeout: Duration::from_secs(args.pool_timeout.max(1)),
            },
            body_limit: args.body_limit,
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
            drain_delay: Duration::from_millis(args.drain_delay_ms),
            workers: args.workers,
            migrate_on_start: !args.no_migrate,
        })
    }
}
