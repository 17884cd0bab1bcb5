//! Starts the real application on port 0 against a fresh database per test:
//! a temporary SQLite file, or a new PostgreSQL database (created here,
//! dropped afterwards) when `TEST_DATABASE_URL` names a PostgreSQL server.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
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
                let admin_url = without_tls(&std::env::var("TEST_DATABASE_URL").expect(
                    "TEST_DATABASE_URL must name a PostgreSQL server for the PostgreSQL half",
                ));
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

/// The URL with `sslmode=disable` unless it names a mode. TLS to a local
/// test server buys nothing, and libpq's OpenSSL clean-up at process exit
/// crashes while other threads of the test binary are still connecting.
fn without_tls(url: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    if !parsed.query_pairs().any(|(key, _)| key == "sslmode") {
        parsed.query_pairs_mut().append_pair("sslmode", "disable");
    }
    parsed.to_string()
}

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    /// Where the app's token signing keys are.
    pub keys_dir: std::path::PathBuf,
    handle: ServerHandle,
    _keys: tempfile::TempDir,
}

impl TestApp {
    /// Waits until the app's usage journal, if it keeps one, has shipped
    /// every delivery it answered to the SQL ledger.
    pub async fn settled(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let metrics = self.get("/metrics").await.text().await.unwrap();
            let unshipped = metrics
                .lines()
                .find_map(|l| l.strip_prefix("syndicate_journal_unshipped_entries "));
            match unshipped {
                None | Some("0") => return,
                Some(n) => assert!(
                    std::time::Instant::now() < deadline,
                    "{n} deliveries still unshipped"
                ),
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Journal-mode settings for a test app: the journal goes in a directory
/// of the app's own (`start` makes it).
pub fn journal() -> syndicate::metering::JournalSettings {
    syndicate::metering::JournalSettings {
        dir: std::path::PathBuf::new(),
        max_bytes: 64 << 20,
        freshness: Duration::from_secs(1),
    }
}

/// Credentials of an API client made for a test.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub client_id: String,
    pub client_secret: String,
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

    /// GET a path with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Sends JSON with a bearer token.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs JSON with a bearer token.
    pub async fn post_as(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.send_json(reqwest::Method::POST, token, path, body)
            .await
    }

    /// Creates an API client straight in the database, as `syndicate admin
    /// create-client` does.
    pub fn create_client(
        &self,
        role: syndicate::domain::Role,
        organisation: Option<&str>,
    ) -> TestClient {
        let mut conn = self.db.connect();
        let request = syndicate::identity::clients::CreateClientRequest {
            name: format!("test {role} client"),
            role,
            organisation_id: organisation.map(|id| id.parse().unwrap()),
            purposes: None,
        };
        let created = syndicate::identity::clients::create(&mut conn, &request).unwrap();
        TestClient {
            client_id: created.client.client_id.to_string(),
            client_secret: created.client_secret,
        }
    }

    /// Exchanges credentials for an access token over HTTP.
    pub async fn token_for(&self, client: &TestClient) -> String {
        let response = self
            .client
            .post(self.url("/v1/auth/token"))
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "token request failed");
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A token for a new admin client.
    pub async fn admin_token(&self) -> String {
        let admin = self.create_client(syndicate::domain::Role::Admin, None);
        self.token_for(&admin).await
    }

    /// Creates a publisher through the API and returns its id.
    pub async fn create_publisher(&self, admin: &str, name: &str) -> String {
        let response = self
            .post_as(admin, "/v1/publishers", &serde_json::json!({"name": name}))
            .await;
        assert_eq!(response.status(), 201);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a licensee through the API and returns its id.
    pub async fn create_licensee(&self, admin: &str, name: &str, territories: &[&str]) -> String {
        let body = serde_json::json!({"name": name, "territories": territories});
        let response = self.post_as(admin, "/v1/licensees", &body).await;
        assert_eq!(response.status(), 201);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Signs arbitrary claims with the app's own signing key.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let keys = syndicate::identity::KeyStore::load_or_generate(&self.keys_dir).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(keys.signing_kid().to_owned());
        jsonwebtoken::encode(&header, claims, keys.encoding_key()).unwrap()
    }

    /// Every row of every table (its key and what a change would touch),
    /// one line each, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text)]
            line: String,
        }
        let mut conn = self.db.connect();
        let queries = [
            "SELECT 'publisher ' || id || ' ' || name || ' ' || slug || ' ' || CAST(updated_at AS TEXT) AS line FROM publishers",
            "SELECT 'licensee ' || id || ' ' || name || ' ' || status || ' ' || territories || ' ' || CAST(updated_at AS TEXT) AS line FROM licensees",
            "SELECT 'client ' || id || ' ' || name || ' ' || secret_hash || ' ' || COALESCE(CAST(revoked_at AS TEXT), '-') AS line FROM api_clients",
            "SELECT 'media ' || id || ' ' || caption || ' ' || syndication || ' ' || CAST(updated_at AS TEXT) AS line FROM media",
            "SELECT 'article ' || id || ' ' || CAST(version AS TEXT) || ' ' || status || ' ' || content_hash AS line FROM articles",
            "SELECT 'version ' || article_id || ' ' || CAST(version AS TEXT) AS line FROM article_versions",
            "SELECT 'event ' || CAST(seq AS TEXT) || ' ' || article_id || ' ' || kind AS line FROM content_events",
            "SELECT 'licence ' || id || ' ' || tier || ' ' || CAST(updated_at AS TEXT) AS line FROM licences",
            "SELECT 'usage ' || id || ' ' || request_id AS line FROM usage_events",
            "SELECT 'billed ' || licence_id || ' ' || article_id AS line FROM billed_deliveries",
            "SELECT 'quota ' || licence_id || ' ' || CAST(used AS TEXT) AS line FROM quota_usage",
            "SELECT 'receipt ' || article_id || ' ' || licensee_id || ' ' || day || ' ' || CAST(deliveries AS TEXT) AS line FROM article_receipts",
        ];
        let mut lines: Vec<String> = queries
            .iter()
            .flat_map(|q| diesel::sql_query(*q).load::<Line>(&mut conn).unwrap())
            .map(|l| l.line)
            .collect();
        lines.sort();
        lines
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
    // Journal mode, as by default, in a directory of the app's own;
    // `SYNDICATE_TEST_LEDGER=sync` runs every test on the synchronous ledger.
    if settings.journal.is_some() {
        settings.journal = Some(journal());
    }
    if std::env::var("SYNDICATE_TEST_LEDGER").is_ok_and(|mode| mode == "sync") {
        settings.journal = None;
    }
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
pub async fn start(mut settings: Settings, db: TestDatabase) -> TestApp {
    let keys = tempfile::tempdir().unwrap();
    let keys_dir = keys.path().join("keys");
    if let Some(journal) = &mut settings.journal
        && journal.dir.as_os_str().is_empty()
    {
        journal.dir = keys.path().join("journal");
    }
    if settings.auth.keys != syndicate::config::KeyLocation::Ephemeral {
        settings.auth.keys = syndicate::config::KeyLocation::Directory(keys_dir.clone());
    }
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
        keys_dir,
        handle,
        _keys: keys,
    }
}

/// Logs show up only when `TEST_LOG` is set.
fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        syndicate::telemetry::init(syndicate::config::LogFormat::Text, "info");
    }
}

/// The body as JSON; a body that is not JSON stops the test with the
/// status and the text, so a surprise names itself.
pub async fn json_of(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
}

/// `base` with each top-level field of `changes` put over it.
pub fn merged(mut base: serde_json::Value, changes: serde_json::Value) -> serde_json::Value {
    for (key, value) in changes.as_object().unwrap() {
        base[key] = value.clone();
    }
    base
}

/// The usage events of a licence and how many of them are billable, read
/// behind the API: the ledger itself, not a report computed from it (after
/// shipping, where the app keeps a journal: see [`TestApp::settled`]).
/// The stories' receipts (`article_receipts`) and the same counted from
/// the ledger's events, one line per (story, licensee, day): deliveries,
/// first and last time, the last one's licence. Equal whenever the ledger
/// is whole.
pub fn receipts_and_ledger(conn: &mut DbConnection) -> (Vec<String>, Vec<String>) {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let mut lines = |sql: &str| -> Vec<String> {
        let mut lines: Vec<String> = diesel::sql_query(sql)
            .load::<Line>(conn)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect();
        lines.sort();
        lines
    };
    let receipts = lines(
        "SELECT article_id || ' ' || licensee_id || ' ' || day || ' ' || CAST(deliveries AS TEXT) \
                || ' ' || CAST(first_at AS TEXT) || ' ' || CAST(last_at AS TEXT) || ' ' || last_licence_id AS line \
         FROM article_receipts",
    );
    let ledger = lines(
        "SELECT g.article_id || ' ' || g.licensee_id || ' ' || g.day || ' ' || CAST(g.n AS TEXT) \
                || ' ' || CAST(g.first_at AS TEXT) || ' ' || CAST(g.last_at AS TEXT) || ' ' || \
                (SELECT w.licence_id FROM usage_events w WHERE w.article_id = g.article_id \
                   AND w.licensee_id = g.licensee_id AND w.day = g.day ORDER BY w.at DESC LIMIT 1) AS line \
         FROM (SELECT article_id, licensee_id, day, COUNT(*) AS n, MIN(at) AS first_at, MAX(at) AS last_at \
               FROM usage_events GROUP BY article_id, licensee_id, day) g",
    );
    (receipts, ledger)
}

pub fn count_events(conn: &mut DbConnection, licence_id: &str) -> (i64, i64) {
    #[derive(diesel::QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        events: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        billable: i64,
    }
    let counts: Counts = diesel::sql_query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS events, \
                CAST(COALESCE(SUM(CASE WHEN billable THEN 1 ELSE 0 END), 0) AS BIGINT) AS billable \
         FROM usage_events WHERE licence_id = $1",
    )
    .bind::<diesel::sql_types::Text, _>(licence_id)
    .get_result(conn)
    .unwrap();
    (counts.events, counts.billable)
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
