//! The `syndicate` command: serve, migrate, print the spec.

use std::process::ExitCode;

use clap::Parser;

use syndicate::config::{Cli, Command, Settings};
use syndicate::startup::Application;
use syndicate::storage::{self, DatabaseUrl, PoolSettings};
use syndicate::{openapi, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, &cli.log);
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(&args.database_url),
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            Ok(())
        }
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
        app.run_until_signalled().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

fn migrate(url: &str) -> Result<(), AnyError> {
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
    Ok(())
}
