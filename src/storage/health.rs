//! What the node can do with its database right now, for readiness.
//!
//! Two questions, each answered within a bound:
//!
//! - **Does the database answer?** A `SELECT 1` on a connection of its own
//!   (not one of the pool's: a busy pool is load, not an outage, and a
//!   probe must not queue behind requests). The check runs on a thread of
//!   its own and is given [`CHECK_TIMEOUT`]; probes that arrive while it
//!   runs wait for its outcome. A database that does not answer in time (a
//!   host that drops packets, a server that hangs) is reported as such
//!   then, while that thread waits on; until it returns, later probes answer
//!   at once that the last check has not. So a hung database ties up one
//!   thread, never one per probe, and never one of the runtime's (whose
//!   shutdown waits for its blocking threads).
//! - **Can it take writes?** A write that failed for lack of space, on a
//!   read-only database or with an I/O error says so ([`Health::note`],
//!   from wherever it failed). From then on each check also writes: 64 KiB
//!   into `write_probe` and out again, in one transaction, so nothing
//!   stays. Until that commits, the node is not ready; once it commits
//!   (space freed, the database writable again), the node is ready again,
//!   without a restart. The probe needs new pages as a real insert does (on
//!   SQLite a write-ahead log frame for each, on PostgreSQL a TOAST row that
//!   compression cannot shrink), so a disk that only still takes updates in
//!   place does not pass it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Binary, Text};
use r2d2::ManageConnection;
use tokio::sync::watch;

use super::error::Fault;
use super::{ConnectionManager, DatabaseUrl, DbConnection, StorageError, in_transaction};

/// How long a readiness check may take, so that `/readyz` answers within a
/// second whatever the database does.
pub const CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// Bytes the write probe writes (and deletes again).
const PROBE_BYTES: usize = 64 * 1024;

/// How long the check's own SQLite connection waits for the write lock.
const PROBE_BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the node is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// The database did not answer, or failed to.
    #[error("the database does not answer")]
    Unreachable(#[source] StorageError),
    /// The database took longer than [`CHECK_TIMEOUT`].
    #[error("the database did not answer within {} ms", CHECK_TIMEOUT.as_millis())]
    TimedOut,
    /// The previous check is still waiting for the database.
    #[error("the database has not answered the previous check yet")]
    StillChecking,
    /// Writes fail (out of space, read-only, I/O errors, …).
    #[error("writes fail")]
    WritesFail(#[source] StorageError),
}

impl NotReady {
    /// Why, for a person: the message, and for failing writes what the
    /// storage error says of itself (`writes fail: the database is out of
    /// space`), never the database's own words.
    pub fn reason(&self) -> String {
        match self {
            NotReady::WritesFail(error) => format!("{self}: {error}"),
            other => other.to_string(),
        }
    }
}

/// What a check found; shared by every probe that waited for it.
pub type Outcome = Result<(), Arc<NotReady>>;

/// The node's view of its database; cheap to clone, one per node.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    manager: ConnectionManager,
    /// The check under way, if any: when it began, and where its outcome
    /// will be.
    running: Mutex<Option<(Instant, watch::Receiver<Option<Outcome>>)>>,
    /// The checks' own connection.
    connection: Mutex<Option<DbConnection>>,
    /// A write failed for a reason that may last, and no probe write has
    /// committed since.
    writes_fail: AtomicBool,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field(
                "writes_fail",
                &self.inner.writes_fail.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Health {
    /// Checks the database at `url`; connects on the first check.
    pub fn new(url: &DatabaseUrl) -> Self {
        Self {
            inner: Arc::new(Inner {
                manager: ConnectionManager::new(url.clone()),
                running: Mutex::new(None),
                connection: Mutex::new(None),
                writes_fail: AtomicBool::new(false),
            }),
        }
    }

    /// Notes a storage failure: one that says writes fail (out of space,
    /// read-only, an I/O error) makes the node unready until a probe write
    /// commits; others (an unreachable database, which each check sees for
    /// itself, a bug) change nothing here.
    pub fn note(&self, fault: Fault) {
        if matches!(fault, Fault::OutOfSpace | Fault::ReadOnly | Fault::Io)
            && !self.inner.writes_fail.swap(true, Ordering::SeqCst)
        {
            tracing::warn!(
                error.class = fault.label(),
                "writes fail; not ready until a write succeeds again"
            );
        }
    }

    /// Whether writes were last seen failing.
    pub fn writes_fail(&self) -> bool {
        self.inner.writes_fail.load(Ordering::SeqCst)
    }

    /// Checks that the database answers and, after writes failed, that a
    /// write commits; within [`CHECK_TIMEOUT`].
    pub async fn check(&self) -> Outcome {
        let (began, mut outcome) = self.join_or_start()?;
        let left = CHECK_TIMEOUT.saturating_sub(began.elapsed());
        match tokio::time::timeout(left, outcome.wait_for(Option::is_some)).await {
            Ok(Ok(found)) => (*found)
                .clone()
                .unwrap_or(Err(Arc::new(NotReady::TimedOut))),
            Ok(Err(_)) => Err(Arc::new(NotReady::Unreachable(StorageError::Other(
                "the readiness check stopped without an answer".into(),
            )))),
            Err(_) => Err(Arc::new(NotReady::TimedOut)),
        }
    }

    /// The check under way, or a new one: when it began and where its
    /// outcome will be; or, when the one under way has outlived
    /// [`CHECK_TIMEOUT`], that it has not answered.
    fn join_or_start(&self) -> Result<(Instant, watch::Receiver<Option<Outcome>>), Arc<NotReady>> {
        let mut running = lock(&self.inner.running);
        if let Some((began, outcome)) = &*running {
            if began.elapsed() < CHECK_TIMEOUT {
                return Ok((*began, outcome.clone()));
            }
            return Err(Arc::new(NotReady::StillChecking));
        }
        let (found, outcome) = watch::channel(None);
        let check = Running(self.inner.clone());
        std::thread::Builder::new()
            .name("readiness".to_owned())
            .spawn(move || {
                let result = check.0.check().map_err(Arc::new);
                drop(check);
                let _ = found.send(Some(result));
            })
            .map_err(|error| {
                Arc::new(NotReady::Unreachable(StorageError::Other(Box::new(error))))
            })?;
        let began = Instant::now();
        *running = Some((began, outcome.clone()));
        Ok((began, outcome))
    }
}

/// A check under way; it ends (even by a panic) when this is dropped.
struct Running(Arc<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        *lock(&self.0.running) = None;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Inner {
    fn check(&self) -> Result<(), NotReady> {
        let mut slot = lock(&self.connection);
        let mut connection = match slot.take() {
            Some(connection) => connection,
            None => self.connect().map_err(NotReady::Unreachable)?,
        };
        connection
            .batch_execute("SELECT 1")
            .map_err(|error| NotReady::Unreachable(StorageError::from(error)))?;
        let written = if self.writes_fail.load(Ordering::SeqCst) {
            probe_write(&mut connection)
        } else {
            Ok(())
        };
        // A commit that failed can leave diesel's transaction state broken
        // (SQLite had rolled back already); such a connection is closed.
        if !diesel::r2d2::R2D2Connection::is_broken(&mut connection) {
            *slot = Some(connection);
        }
        match written {
            Ok(()) => {
                if self.writes_fail.swap(false, Ordering::SeqCst) {
                    tracing::info!("a write succeeded again; ready");
                }
                Ok(())
            }
            Err(error) => Err(NotReady::WritesFail(error)),
        }
    }

    fn connect(&self) -> Result<DbConnection, StorageError> {
        let mut connection = self.manager.connect()?;
        if let DbConnection::Sqlite(_) = connection {
            connection.batch_execute(&format!(
                "PRAGMA busy_timeout = {}",
                PROBE_BUSY_TIMEOUT.as_millis()
            ))?;
        }
        Ok(connection)
    }
}

/// Writes [`PROBE_BYTES`] into `write_probe` and deletes them again, in one
/// transaction that must commit.
pub fn probe_write(conn: &mut DbConnection) -> Result<(), StorageError> {
    let id = uuid::Uuid::now_v7().to_string();
    let filler = incompressible(PROBE_BYTES);
    in_transaction(conn, |conn| {
        diesel::sql_query("INSERT INTO write_probe (id, filler) VALUES ($1, $2)")
            .bind::<Text, _>(&id)
            .bind::<Binary, _>(&filler)
            .execute(conn)?;
        diesel::sql_query("DELETE FROM write_probe WHERE id = $1")
            .bind::<Text, _>(&id)
            .execute(conn)?;
        Ok(())
    })
}

/// Bytes no compressor shrinks (PostgreSQL compresses large values before
/// storing them): a xorshift sequence.
fn incompressible(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_bytes_do_not_repeat_in_any_short_period() {
        let bytes = incompressible(PROBE_BYTES);

        assert_eq!(bytes.len(), PROBE_BYTES);
        let first = &bytes[..64];
        assert!(bytes[64..].windows(64).all(|w| w != first));
    }
}
