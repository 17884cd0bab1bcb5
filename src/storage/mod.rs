//! Persistence: one connection type over SQLite and PostgreSQL, the pool,
//! migrations, and one module per aggregate. Dialect differences stay here.
//!
//! A row found by its key is read with `get_result`, not `first`: a key
//! matches one row at most, and `first`'s `LIMIT ?` makes SQLite parse the
//! statement again on every execution (its planner reads the bound limit,
//! so binding it expires the prepared statement).

pub mod articles;
pub mod changes;
pub mod clients;
pub mod error;
pub mod facts;
pub mod health;
pub mod late_notices;
pub mod licences;
pub mod media;
pub mod migrate;
pub mod notices;
pub mod organisations;
mod own;
pub mod page;
pub mod receipts;
pub mod reports;
pub mod scheduled;
pub mod schema;
pub mod shipping;
pub mod sqlite_ledger;
pub mod usage;
pub mod versions;
pub mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

pub use error::StorageError;
pub use own::OwnConnection;

/// One connection, to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for production and several nodes.
    Postgresql(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// The pool every request borrows connections from.
pub type Pool = r2d2::Pool<ConnectionManager>;

/// A connection borrowed from the pool.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Runs `work` with a pooled connection on the runtime's blocking threads,
/// so the async threads never wait on the database. (The same thread pool
/// `actix_web::web::block` uses, sized in `startup`.)
pub async fn blocking<T, E, F>(pool: &Pool, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(StorageError::from)?;
        work(&mut conn)
    })
    .await
    .map_err(|error| E::from(StorageError::Other(Box::new(error))))?
}

/// Which database a URL points at, decided by its scheme alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `postgres://` or `postgresql://`, passed to libpq as given.
    Postgres(String),
    /// `sqlite://PATH` (relative to the working directory), `sqlite:///ABS/PATH`
    /// or `sqlite::memory:`.
    Sqlite(SqliteTarget),
}

/// Where an SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// A file, created on first start.
    File(PathBuf),
    /// A private in-memory database (one connection only).
    Memory,
}

/// A database URL that names no backend we run on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unsupported database URL {0:?}: use sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB"
)]
pub struct UnsupportedDatabaseUrl(pub String);

impl DatabaseUrl {
    /// Parses a URL by scheme. Anything unknown is refused, so a typo never
    /// quietly creates an SQLite file named after it.
    pub fn parse(url: &str) -> Result<Self, UnsupportedDatabaseUrl> {
        let unsupported = || UnsupportedDatabaseUrl(redact(url));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            return Ok(DatabaseUrl::Sqlite(SqliteTarget::Memory));
        }
        match url.strip_prefix("sqlite://") {
            Some(path) if !path.is_empty() && !path.contains('?') && !path.contains('\0') => {
                Ok(DatabaseUrl::Sqlite(SqliteTarget::File(PathBuf::from(path))))
            }
            _ => Err(unsupported()),
        }
    }

    /// The backend's name, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgres",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }

    /// The URL with any password hidden, for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => redact(url),
            DatabaseUrl::Sqlite(SqliteTarget::File(path)) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Sqlite(SqliteTarget::Memory) => "sqlite::memory:".to_owned(),
        }
    }
}

/// Hides the password of a `scheme://user:password@host` URL.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting a password only fails for URLs that cannot have one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// How long an SQLite connection waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens connections to the backend named by the URL and keeps the real
/// error when that fails (diesel's stock manager would try every backend).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    /// A manager for the given database.
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

/// How long opening a PostgreSQL connection may take, unless the URL says
/// (libpq's `connect_timeout`, in seconds): without it libpq waits forever
/// on a server that accepts connections and never answers, and so would a
/// thread that holds a connection of its own (`OwnConnection`).
const PG_CONNECT_TIMEOUT_SECONDS: u32 = 5;

/// `url` with libpq's `connect_timeout` set, if it does not set one.
fn with_connect_timeout(url: &str) -> std::borrow::Cow<'_, str> {
    if url.contains("connect_timeout=") {
        return url.into();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={PG_CONNECT_TIMEOUT_SECONDS}").into()
}

/// Why a connection could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The driver could not connect.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// A set-up statement failed on a fresh connection.
    #[error(transparent)]
    Setup(#[from] diesel::result::Error),
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => Ok(DbConnection::Postgresql(PgConnection::establish(
                &with_connect_timeout(url),
            )?)),
            DatabaseUrl::Sqlite(target) => {
                let path = match target {
                    SqliteTarget::File(path) => path.to_string_lossy().into_owned(),
                    SqliteTarget::Memory => ":memory:".to_owned(),
                };
                let mut connection = SqliteConnection::establish(&path)?;
                // WAL lets readers run beside the one writer; FULL makes every
                // commit reach the disk before it is acknowledged. A pool
                // connection keeps 128 KiB of pages (not SQLite's 2 MiB): a
                // delivery reads from the fact cache, and the operating
                // system caches the file for every connection at once.
                connection.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -128;",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                ))?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), ConnectError> {
        Ok(connection.batch_execute("SELECT 1")?)
    }

    /// A connection whose transaction state diesel could not restore (a
    /// rollback that failed, a transaction left open) is closed, not lent
    /// again: the next borrower would fail on it until a restart.
    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(connection)
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a request waits for a free connection before a 503.
    pub connection_timeout: Duration,
}

/// Builds the pool without connecting: a node may start while its database
/// is down, and `/readyz` says so until it is back. A connection that
/// cannot be opened is logged (through the `log` crate) and tried again.
pub fn pool(url: &DatabaseUrl, settings: &PoolSettings) -> Pool {
    pool_reporting_to(url, settings, Box::new(r2d2::LoggingErrorHandler))
}

/// [`pool`], with every connection that cannot be opened handed to
/// `errors`. The pool keeps trying to open the connections waited for, a
/// few times a second while the database is down, so that is where a
/// server sends them: to a log that writes each kind once per interval.
pub fn pool_reporting_to(
    url: &DatabaseUrl,
    settings: &PoolSettings,
    errors: Box<dyn r2d2::HandleError<ConnectError>>,
) -> Pool {
    let max_size = match url {
        // Every in-memory connection is a new, empty database.
        DatabaseUrl::Sqlite(SqliteTarget::Memory) => 1,
        _ => settings.max_size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(settings.connection_timeout)
        .error_handler(errors)
        .build_unchecked(ConnectionManager::new(url.clone()))
}

/// Runs `work` in one transaction: committed when it returns `Ok`, rolled
/// back when it returns `Err` (whatever the error type).
///
/// On SQLite the transaction begins `IMMEDIATE`, taking the write lock (and
/// waiting for it under the busy timeout) before its first read: a deferred
/// transaction in WAL mode that reads and then writes fails at once with
/// "database is locked" when another writer committed in between.
///
/// The first error is the one returned. SQLite rolls a transaction back by
/// itself when a statement fails for lack of space, an I/O error or memory,
/// so the rollback that follows finds no transaction ("cannot rollback - no
/// transaction is active"); that, or any other failed rollback, must not
/// hide why the work failed. A rollback that failed without SQLite's having
/// rolled back leaves diesel's transaction state broken, and the pool then
/// closes the connection instead of lending it again (`has_broken`).
pub fn in_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<StorageError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::result::Error::AlreadyInTransaction;

    let database = |error: diesel::result::Error| E::from(StorageError::from(error));
    let immediate = match conn {
        DbConnection::Sqlite(sqlite) => {
            match AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
                Ok(()) => true,
                Err(AlreadyInTransaction) => false,
                Err(error) => return Err(database(error)),
            }
        }
        DbConnection::Postgresql(_) => false,
    };
    if !immediate {
        // PostgreSQL's BEGIN, or a savepoint inside a transaction, as
        // diesel nests them.
        DbConnection::begin_transaction(conn).map_err(database)?;
    }
    match work(conn) {
        Ok(value) => {
            DbConnection::commit_transaction(conn).map_err(database)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = DbConnection::rollback_transaction(conn) {
                tracing::debug!(error = %rollback, "nothing to roll back after a failed transaction");
            }
            Err(error)
        }
    }
}

/// Runs `work`'s reads in one read-only transaction, so they see one
/// snapshot of the database (PostgreSQL: `REPEATABLE READ READ ONLY`;
/// SQLite: a deferred transaction, whose first read fixes the snapshot),
/// and on PostgreSQL cost one transaction, not one per statement. Inside a
/// transaction already, `work` runs in it.
pub fn in_snapshot<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<StorageError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::result::Error::AlreadyInTransaction;

    let began = match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN")
        }
        DbConnection::Postgresql(pg) => AnsiTransactionManager::begin_transaction_sql(
            pg,
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY",
        ),
    };
    match began {
        Ok(()) => {}
        Err(AlreadyInTransaction) => return work(conn),
        Err(error) => return Err(E::from(StorageError::from(error))),
    }
    let result = work(conn);
    // Nothing was written: a commit and a rollback end it alike.
    let ended = match &result {
        Ok(_) => DbConnection::commit_transaction(conn),
        Err(_) => DbConnection::rollback_transaction(conn),
    };
    match (result, ended) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(error)) => Err(E::from(StorageError::from(error))),
        (Err(error), _) => Err(error),
    }
}

/// Now, truncated to microseconds: PostgreSQL keeps no more, so both
/// backends store and return the same instant.
pub fn now() -> chrono::NaiveDateTime {
    instant(chrono::Utc::now())
}

/// An instant as it is stored, truncated to microseconds as `now` is: an
/// instant a client sends with nanoseconds reads back the same from
/// either backend.
pub fn instant(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_micros(at.timestamp_micros())
        .map_or(at.naive_utc(), |t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_postgres_url_gets_a_connect_timeout_unless_it_has_one() {
        assert_eq!(
            super::with_connect_timeout("postgres://db/x"),
            "postgres://db/x?connect_timeout=5"
        );
        assert_eq!(
            super::with_connect_timeout("postgres://db/x?sslmode=disable"),
            "postgres://db/x?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            super::with_connect_timeout("postgres://db/x?connect_timeout=2"),
            "postgres://db/x?connect_timeout=2"
        );
    }

    use super::*;

    #[test]
    fn an_instant_is_stored_to_the_microsecond() {
        let sent: chrono::DateTime<chrono::Utc> = "2027-01-31T08:15:00.123456789Z".parse().unwrap();
        assert_eq!(
            instant(sent).to_string(),
            "2027-01-31 08:15:00.123456",
            "truncated, as PostgreSQL's binding truncates"
        );
        let before_1970: chrono::DateTime<chrono::Utc> =
            "1969-12-31T23:59:59.999999999Z".parse().unwrap();
        assert_eq!(
            instant(before_1970).to_string(),
            "1969-12-31 23:59:59.999999"
        );
    }

    #[test]
    fn urls_choose_their_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://syndicate.db"),
            Ok(DatabaseUrl::Sqlite(SqliteTarget::File(
                "syndicate.db".into()
            )))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/syndicate/db.sqlite"),
            Ok(DatabaseUrl::Sqlite(SqliteTarget::File(
                "/var/lib/syndicate/db.sqlite".into()
            )))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::Sqlite(SqliteTarget::Memory))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn unknown_schemes_and_bare_paths_are_refused() {
        for url in [
            "mysql://h/db",
            "syndicate.db",
            "host=localhost dbname=x",
            "sqlite://",
            "postgress://h/db",
            "",
        ] {
            assert!(DatabaseUrl::parse(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn passwords_never_reach_logs() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/syndicate").unwrap();
        assert!(!url.redacted().contains("s3cret"));
        let error = DatabaseUrl::parse("mysql://app:s3cret@db/x").unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
    }
}
