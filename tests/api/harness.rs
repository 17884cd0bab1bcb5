//! Starts the real application on port 0 against a fresh database per test:
//! a temporary SQLite file, or a new PostgreSQL database (created here,
//! dropped afterwards) when `TEST_DATABASE_URL` names a PostgreSQL server.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use syndicate::config::Settings;
use syndicate::startup::Application;
use syndicate::storage::{self, DatabaseUrl, DbConnection, SqliteTarget};

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes each test twice: once on SQLite, once on PostgreSQL. The
/// PostgreSQL half is reported as ignored, with the reason, when
/// `TEST_DATABASE_URL` was not set at build time.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident: Backend) $body:block)+) => {
        $(async fn $name($backend: $crate::harness::Backend) $body)+

        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
            )+
        }

        mod postgres {
            $(
                #[actix_web::test]
                #[cfg_attr(not(postgres_tests), ignore = "PostgreSQL not configured: set TEST_DATABASE_URL=postgres://…")]
                async fn $name() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            )+
        }
    };
}

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates an empty database on the backend.
    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("syndicate.db");
                Self {
                    url: DatabaseUrl::Sqlite(SqliteTarget::File(path)),
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect(
                    "TEST_DATABASE_URL must name a PostgreSQL server for the PostgreSQL half",
                );
                let name = format!("syndicate_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap();
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&name);
                Self {
                    url: DatabaseUrl::parse(url.as_str()).unwrap(),
                    _dir: None,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// A database this harness neither creates nor drops.
    pub fn unmanaged(url: DatabaseUrl) -> Self {
        Self {
            url,
            _dir: None,
            postgres: None,
        }
    }

    /// A direct connection, for looking behind the API.
    pub fn connect(&self) -> DbConnection {
        use r2d2::ManageConnection;
        storage::ConnectionManager::new(self.url.clone())
            .connect()
            .unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    #[expect(dead_code, reason = "kept alive for the app; read by later tests")]
    pub db: TestDatabase,
    handle: ServerHandle,
}

impl TestApp {
    /// An absolute URL for a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the database is dropped after this.
        let handle = self.handle.clone();
        actix_web::rt::spawn(async move { handle.stop(false).await });
    }
}

/// Settings for tests: port 0, two workers, short pool timeout.
pub fn test_settings(url: DatabaseUrl) -> Settings {
    let mut settings = Settings::for_database(url);
    settings.bind = "127.0.0.1:0".to_owned();
    settings.workers = Some(2);
    settings.pool.connection_timeout = Duration::from_secs(2);
    settings
}

/// Starts the application on a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Starts the application on a fresh database after adjusting its settings.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let db = TestDatabase::create(backend);
    let mut settings = test_settings(db.url.clone());
    adjust(&mut settings);
    start(settings, db).await
}

/// Starts the application with the given settings on the given database.
pub async fn start(settings: Settings, db: TestDatabase) -> TestApp {
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        db,
        handle,
    }
}

/// Logs show up only when `TEST_LOG` is set.
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        syndicate::telemetry::init(syndicate::config::LogFormat::Text, "info");
    }
}

/// Asserts the status and problem media type, and returns the problem.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap(),
        "application/problem+json"
    );
    let request_id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status);
    assert_eq!(
        problem["request_id"],
        request_id.as_str(),
        "problem and header disagree on the request id"
    );
    problem
}
