//! A connection of a thread's own, outside the pool: for the threads that
//! reach the database many times a second (the usage writer, the journal
//! shipper, the fact poller). A pooled connection is checked with a round
//! trip every time it is lent (on PostgreSQL a transaction of its own); this
//! one is trusted until it fails, and is then opened again, at most every
//! [`RECONNECT_AFTER`]. On PostgreSQL its statements are planned for
//! their values on every run (`plan_cache_mode`), never from a generic plan
//! kept from when the tables were smaller.

use std::time::{Duration, Instant};

use r2d2::ManageConnection;

use super::{ConnectionManager, DatabaseUrl, DbConnection, Pool, SqliteTarget, StorageError};

/// After a failed connection, the next is tried no sooner than this.
pub const RECONNECT_AFTER: Duration = Duration::from_millis(200);

/// A thread's own connection (see the module documentation).
pub struct OwnConnection {
    source: Source,
    conn: Option<DbConnection>,
    failed_at: Option<Instant>,
}

enum Source {
    Manager(ConnectionManager),
    /// An in-memory SQLite database exists on its one pooled connection.
    Pool(Pool),
}

impl OwnConnection {
    /// A connection opened by `manager` when first needed.
    pub fn new(manager: ConnectionManager) -> Self {
        Self {
            source: Source::Manager(manager),
            conn: None,
            failed_at: None,
        }
    }

    /// A connection of its own to `url`, or the pool's when the database
    /// is in memory (another connection would be another database).
    pub fn to(url: &DatabaseUrl, pool: &Pool) -> Self {
        match url {
            DatabaseUrl::Sqlite(SqliteTarget::Memory) => Self {
                source: Source::Pool(pool.clone()),
                conn: None,
                failed_at: None,
            },
            _ => Self::new(ConnectionManager::new(url.clone())),
        }
    }

    /// Runs `work` on the connection, opening it first if need be. A
    /// connection that failed (unreachable, I/O) or was left in a broken
    /// transaction is closed; the next run opens another, no sooner than
    /// [`RECONNECT_AFTER`] after a failure to connect.
    pub fn run<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let manager = match &self.source {
            Source::Pool(pool) => {
                let mut conn = pool.get().map_err(StorageError::from)?;
                return work(&mut conn);
            }
            Source::Manager(manager) => manager,
        };
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            None => connect(manager, &mut self.failed_at)?,
        };
        let result = work(&mut conn);
        let broken = diesel::r2d2::R2D2Connection::is_broken(&mut conn);
        match &result {
            Err(StorageError::Unavailable(_) | StorageError::Io(_) | StorageError::Other(_)) => {
                self.failed_at = Some(Instant::now());
            }
            _ if broken => {}
            _ => self.conn = Some(conn),
        }
        result
    }
}

fn connect(
    manager: &ConnectionManager,
    failed_at: &mut Option<Instant>,
) -> Result<DbConnection, StorageError> {
    if let Some(failed) = *failed_at
        && failed.elapsed() < RECONNECT_AFTER
    {
        return Err(StorageError::Unavailable(
            "the database was unreachable a moment ago".into(),
        ));
    }
    let opened = manager
        .connect()
        .map_err(StorageError::from)
        .and_then(|mut conn| {
            if let DbConnection::Postgresql(pg) = &mut conn {
                // The connection lives as long as the node and the ledger
                // grows under it. PostgreSQL settles on a generic plan for a
                // prepared statement after five runs and keeps it until the
                // table's statistics change (never, without autovacuum):
                // one made while `usage_events` was small scans the whole
                // table for each lookup of shipped event ids, until
                // shipping stalls. Planning each run for its values costs
                // little beside a batch's work.
                diesel::connection::SimpleConnection::batch_execute(
                    pg,
                    "SET plan_cache_mode = force_custom_plan",
                )?;
            }
            Ok(conn)
        });
    if opened.is_err() {
        *failed_at = Some(Instant::now());
    }
    opened
}
