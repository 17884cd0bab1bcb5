//! The `syndicate` command: serve, migrate, print the spec.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use syndicate::config::{AdminArgs, AdminCommand, Cli, Command, Settings};
use syndicate::demo::DemoError;
use syndicate::domain::Role;
use syndicate::domain::field::describe;
use syndicate::identity::clients::{self, CreateClientRequest};
use syndicate::licensing::licensees::{self, CreateLicenseeRequest};
use syndicate::licensing::publishers::{self, CreatePublisherRequest};
use syndicate::startup::Application;
use syndicate::storage::{self, DatabaseUrl, PoolSettings};
use syndicate::{openapi, telemetry};

/// jemalloc, not glibc's malloc: with glibc, allocation (arena locks shared
/// by the request workers, the blocking pool and the usage writer, and
/// consolidation of freed blocks) was about a third of the request
/// workers' CPU; with jemalloc the server answered about a quarter more
/// deliveries a second, for about 15 MB more resident memory.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    telemetry::init(cli.log_format, &cli.log);
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(&args.database_url),
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            Ok(())
        }
        Command::Admin(args) => admin(args),
        Command::Seed(args) => seed(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            tracing::error!(error.cause_chain = %message, "syndicate stopped with an error");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

/// glibc's malloc still serves the C libraries (SQLite, libpq, OpenSSL). It
/// gives threads their own arenas, up to eight per core, and each keeps
/// what it once held: when it served the whole server, that was about
/// 100 MB of the process for nothing. Two arenas measured the same
/// throughput.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it runs first in
    // main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn serve(args: syndicate::config::ServeArgs) -> Result<(), AnyError> {
    let settings = Settings::try_from(args)?;
    actix_web::rt::System::new().block_on(async move {
        let backend = settings.database_url.backend();
        let app = Application::build(settings.clone()).await?;
        tracing::info!(
            address = %settings.bind,
            port = app.port(),
            database = %settings.database_url.redacted(),
            backend,
            "serving"
        );
        if let Some(demo) = app.demo_credentials() {
            let host = settings.bind.rsplit_once(':').map_or("127.0.0.1", |(host, _)| host);
            let host = if host == "0.0.0.0" { "127.0.0.1" } else { host };
            // A closed stdout must not stop the server.
            let message = demo.message(&format!("http://{host}:{}", app.port()));
            let _ = writeln!(std::io::stdout(), "{message}");
        } else if settings.demo {
            let _ = writeln!(
                std::io::stdout(),
                "syndicate demo: the demo world already exists; its secrets were shown when it was created."
            );
        }
        app.run_until_signalled().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// A one-connection pool on a migrated database.
fn migrated_pool(url: &str) -> Result<storage::Pool, AnyError> {
    let url = DatabaseUrl::parse(url)?;
    let pool = storage::pool(
        &url,
        &PoolSettings {
            max_size: 1,
            connection_timeout: std::time::Duration::from_secs(10),
        },
    );
    let applied = storage::migrate::run_pending(&pool)?;
    tracing::info!(count = applied.len(), database = %url.redacted(), "migrations applied");
    Ok(pool)
}

fn migrate(url: &str) -> Result<(), AnyError> {
    migrated_pool(url).map(drop)
}

/// Writes the benchmark dataset and prints what the load needs as JSON.
fn seed(args: syndicate::config::SeedArgs) -> Result<(), AnyError> {
    let pool = migrated_pool(&args.database.database_url)?;
    let mut conn = pool.get()?;
    let size = syndicate::seed::Size {
        publishers: args.publishers,
        licensees: args.licensees,
        articles: args.articles,
        licences_each: args.licences_each,
        events: args.events,
    };
    let seeded = syndicate::seed::seed(&mut conn, size).map_err(explain)?;
    println!("{}", serde_json::to_string(&seeded)?);
    Ok(())
}

/// Creates what was asked and prints it as JSON on stdout. A refusal's
/// message names each invalid field.
fn admin(args: AdminArgs) -> Result<(), AnyError> {
    let pool = migrated_pool(&args.database.database_url)?;
    let mut conn = pool.get()?;
    let created = match args.command {
        AdminCommand::CreateClient {
            name,
            role,
            organisation,
        } => {
            let request = CreateClientRequest {
                name,
                role: role.parse::<Role>()?,
                organisation_id: organisation,
                purposes: None,
            };
            serde_json::to_value(clients::create(&mut conn, &request)?)?
        }
        AdminCommand::CreatePublisher { name, slug } => {
            let request = CreatePublisherRequest { name, slug };
            serde_json::to_value(publishers::create(&mut conn, &request)?)?
        }
        AdminCommand::CreateLicensee { name, territories } => {
            let request = CreateLicenseeRequest {
                name,
                territories,
                status: None,
            };
            serde_json::to_value(licensees::create(&mut conn, &request)?)?
        }
        AdminCommand::ReleaseNode { node } => {
            let released = syndicate::metering::journaled::release_lost_node(&mut conn, &node)?;
            serde_json::json!({"node": node, "leases_released": released})
        }
    };
    println!("{created}");
    Ok(())
}

/// A refusal of the seed (written through the same capabilities as the
/// API) as a message for the terminal, naming each invalid field.
fn explain(error: DemoError) -> AnyError {
    match error.invalid_fields() {
        Some(errors) => describe(errors).into(),
        None => Box::new(error),
    }
}
