//! Building and running the server: migrate, pool, bind (port 0 allowed),
//! then expose the bound port, and stop gracefully on SIGTERM or SIGINT.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use actix_web_prom::PrometheusMetricsBuilder;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::config::{KeyLocation, Settings};
use crate::delivery::FactCache;
use crate::delivery::poller::Poller;
use crate::http::body::BodyPolicy;
use crate::http::{self, AppState, Draining, RouteTable, problem, request_id};
use crate::identity::throttle::TokenThrottle;
use crate::identity::{KeyStore, TokenService};
use crate::metering::writer::WriterThread;
use crate::metering::{RateLimits, UsageWriter};
use crate::notices::sender::Sender;
use crate::openapi;
use crate::storage::error::Fault;
use crate::storage::health::Health;
use crate::storage::{self, ConnectError, Pool, StorageError};
use crate::telemetry::{CauseChain, ErrorLog};

/// How long a client has to send a request head on a new connection
/// before a 408 (actix's own, without a body: it comes from the parser).
/// A body is held to `--body-timeout` and `--body-min-rate` instead.
const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Migrations could not be applied.
    #[error("could not migrate {url}")]
    Migrate {
        /// The database, password hidden.
        url: String,
        /// What failed.
        #[source]
        source: StorageError,
    },
    /// The address could not be bound.
    #[error("could not listen on {address}")]
    Bind {
        /// The address asked for.
        address: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The token signing keys could not be loaded or made.
    #[error("could not load token signing keys")]
    Keys(#[source] crate::identity::keys::KeyError),
    /// The demo world could not be seeded.
    #[error("could not seed the demo world: {0}")]
    Demo(String),
    /// The usage writer could not start: its threads, or its journal
    /// (missing, held by another process, or unshippable).
    #[error("could not start the usage ledger")]
    Ledger(#[source] std::io::Error),
    /// The metrics registry could not be built.
    #[error("could not set up metrics: {0}")]
    Metrics(String),
    /// The webhook sender's HTTP client could not be built.
    #[error("could not set up the webhook sender: {0}")]
    Webhooks(String),
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    pool: Pool,
    writer: WriterThread,
    poller: Poller,
    errors: ErrorLog,
    draining: web::Data<Draining>,
    drain_delay: std::time::Duration,
    demo: Option<crate::demo::DemoCredentials>,
    webhooks: Sender,
}

impl Application {
    /// Migrates (unless told not to), builds the pool and binds.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let metrics = PrometheusMetricsBuilder::new("syndicate")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|error| StartupError::Metrics(error.to_string()))?;
        let errors = ErrorLog::new(&metrics.registry, settings.log_repeat_interval)
            .map_err(|error| StartupError::Metrics(error.to_string()))?;
        let pool = storage::pool_reporting_to(
            &settings.database_url,
            &settings.pool,
            Box::new(ConnectErrors(errors.clone())),
        );
        if settings.migrate_on_start {
            let applied = storage::blocking(&pool, storage::migrate::run_pending_on)
                .await
                .map_err(|source| StartupError::Migrate {
                    url: settings.database_url.redacted(),
                    source,
                })?;
            for name in applied {
                tracing::info!(migration = %name, "migration applied");
            }
        }

        let demo = if settings.demo {
            let demo_pool = pool.clone();
            web::block(move || {
                let mut conn = demo_pool.get().map_err(StorageError::from)?;
                crate::demo::seed(&mut conn)
            })
            .await
            .map_err(|e| StartupError::Demo(e.to_string()))?
            .map_err(|e| {
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                StartupError::Demo(cause.map_or_else(|| e.to_string(), |c| format!("{e}: {c}")))
            })?
        } else {
            None
        };

        let keys = match &settings.auth.keys {
            KeyLocation::Directory(dir) => KeyStore::load_or_generate(dir),
            KeyLocation::Ephemeral => KeyStore::ephemeral(),
        }
        .map_err(StartupError::Keys)?;
        let tokens = TokenService::new(keys, settings.auth.tokens.clone());
        let throttle = TokenThrottle::new(
            settings.auth.attempts_per_address,
            settings.auth.attempts_per_client,
        );

        let facts = Arc::new(FactCache::new(settings.fact_cache_bytes));
        facts
            .register(&metrics.registry)
            .map_err(|error| StartupError::Metrics(error.to_string()))?;
        let health = Health::new(&settings.database_url);
        let (usage, writer) = UsageWriter::start(
            pool.clone(),
            &settings.database_url,
            settings.journal.as_ref(),
            facts.clone(),
            &metrics.registry,
            errors.clone(),
            health.clone(),
        )
        .map_err(StartupError::Ledger)?;

        let poller = Poller::start(&settings.database_url, &pool, facts.clone(), errors.clone())
            .map_err(|source| StartupError::Bind {
                address: "fact poller thread".to_owned(),
                source,
            })?;

        let webhooks = Sender::start(pool.clone(), settings.webhooks.clone(), errors.clone())
            .map_err(|error| StartupError::Webhooks(error.to_string()))?;

        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: settings.bind.clone(),
                source,
            })?
            .port();

        let spec = openapi::spec();
        let routes = web::Data::new(RouteTable::from_spec(&spec));
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            backend: settings.database_url.backend(),
            metrics: metrics.registry.clone(),
            openapi: openapi::spec_json().into(),
            tokens,
            throttle,
            usage,
            rate_limits: RateLimits::default(),
            facts,
            errors: errors.clone(),
            health,
            webhook_guard: crate::notices::ssrf::AddressGuard::new(&settings.webhooks.allow_hosts),
        });
        let body_limit = settings.body_limit;
        let body_policy = web::Data::new(BodyPolicy {
            grace: settings.body_timeout,
            min_rate: settings.body_min_rate,
        });
        let draining = web::Data::new(Draining::default());
        let app_draining = draining.clone();

        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(http::api)
                .split_for_parts();
            app.app_data(state.clone())
                .app_data(routes.clone())
                .app_data(app_draining.clone())
                .app_data(body_policy.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(body_limit)
                        .error_handler(problem::json_error),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(body_limit)
                        .error_handler(problem::form_error),
                )
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(web::PathConfig::default().error_handler(problem::path_error))
                .app_data(web::QueryConfig::default().error_handler(problem::query_error))
                .service(web::redirect("/docs", "/docs/"))
                .service(
                    SwaggerUi::new("/docs/{tail}*").config(
                        SwaggerConfig::new(["/openapi.json"])
                            .validator_url("none")
                            .try_it_out_enabled(true)
                            .persist_authorization(true),
                    ),
                )
                .default_service(web::to(http::fallback))
                .wrap(from_fn(http::own_writes::middleware))
                .wrap(metrics.clone())
                .wrap(from_fn(request_id::middleware))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?
        .disable_signals()
        .client_request_timeout(REQUEST_HEAD_TIMEOUT)
        // After an answer to a request whose body was not read (see
        // `http::body`), close at once: a linger would read whatever the
        // client still sends, for as long as it lasts.
        .client_disconnect_timeout(std::time::Duration::ZERO)
        // Storage work runs on each worker's blocking threads, and each of
        // them needs a pooled connection: more threads than connections
        // only wait, and every thread costs its own allocator heap.
        .worker_max_blocking_threads(usize::try_from(settings.pool.max_size).unwrap_or(16).max(1))
        .shutdown_timeout(settings.shutdown_timeout.as_secs());
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        Ok(Self {
            port,
            server: server.run(),
            pool,
            writer,
            poller,
            errors,
            draining,
            drain_delay: settings.drain_delay,
            demo,
            webhooks,
        })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Credentials of a demo world seeded at this start (none if it existed).
    pub fn demo_credentials(&self) -> Option<&crate::demo::DemoCredentials> {
        self.demo.as_ref()
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Starts a graceful shutdown: first `/readyz` fails and responses
    /// close their connections for the drain delay, then no new connection
    /// is accepted, idle connections close and in-flight requests finish.
    pub fn shutdown(&self) -> impl Future<Output = ()> + 'static {
        let handle = self.server.handle();
        let draining = self.draining.clone();
        let delay = self.drain_delay;
        async move {
            draining.start();
            actix_web::rt::time::sleep(delay).await;
            handle.stop(true).await;
        }
    }

    /// Serves until stopped through a handle.
    /// Every in-flight request has finished when the server future ends;
    /// the usage writer then commits whatever is queued before it stops,
    /// and the webhook sender records the attempts in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.webhooks.stop().await;
        let (writer, poller) = (self.writer, self.poller);
        let _ = web::block(move || {
            writer.stop();
            poller.stop();
        })
        .await;
        self.errors.flush();
        drop(self.pool);
        result
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight
    /// requests finish (up to the shutdown timeout) and closes the pool.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let shutdown = self.shutdown();
        actix_web::rt::spawn(async move {
            if let Some(signal) = shutdown_signal().await {
                tracing::info!(signal, "shutting down: draining in-flight requests");
                shutdown.await;
            }
        });
        self.run_until_stopped().await
    }
}

/// Sends the pool's failures to open a connection to the error log.
#[derive(Debug)]
struct ConnectErrors(ErrorLog);

impl r2d2::HandleError<ConnectError> for ConnectErrors {
    fn handle_error(&self, error: ConnectError) {
        let cause = CauseChain(&error).to_string();
        let class = StorageError::from(error)
            .fault()
            .map_or("unavailable", Fault::label);
        self.0.record(
            "pool",
            "could not open a database connection",
            class,
            &cause,
        );
    }
}

/// Waits for SIGTERM or SIGINT and names the one received.
async fn shutdown_signal() -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        _ => {
            tracing::error!("could not install signal handlers");
            return None;
        }
    };
    tokio::select! {
        _ = term.recv() => Some("SIGTERM"),
        _ = int.recv() => Some("SIGINT"),
    }
}
