//! The group-commit usage writer: one thread writes the ledger;
//! requests hand it their delivery and wait; it takes everything queued,
//! records it in one transaction, commits, and only then answers each
//! request. No timer: under light load a batch is one delivery, under heavy
//! load the batch grows by itself, so the fsync is shared.
//!
//! On an SQLite file the disk wait is taken off the writer: it commits on
//! its own connection without syncing (`synchronous = NORMAL`) and hands
//! the batch's answers to a second thread, which syncs the write-ahead log
//! (one `fdatasync` for every batch committed before it began) and only
//! then answers. So the next batch is written while the last one reaches
//! the disk, and every answer still waits until its event is on disk.
//!
//! A failed batch is answered with its storage error (shared by every
//! request in the batch, so each maps it to the same problem), goes to the
//! error log (once per kind and interval), and, when it failed for lack of
//! space (or on a read-only or failing disk), makes the node unready until
//! a write succeeds again. A failed sync breaks the ledger until a
//! restart, and readiness says so.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::journaled::{JournalSettings, Journaled};
use super::meter::Meter;
use crate::storage::changes::Confirmed;
use crate::storage::error::Fault;
use crate::storage::health::Health;
use crate::storage::sqlite_ledger::{self, WriteAheadLog};
use crate::storage::usage::{self, Delivery, Recorded};
use crate::storage::{
    ConnectionManager, DatabaseUrl, DbConnection, Pool, SqliteTarget, StorageError,
};
use crate::telemetry::{CauseChain, ErrorLog};

/// Largest batch committed at once.
const MAX_BATCH: usize = 1024;

/// A batch's failure, shared by every delivery in it.
pub(super) type Failure = Arc<StorageError>;

enum Message {
    Record(Box<Delivery>, oneshot::Sender<Result<Recorded, Failure>>),
    Stop,
}

/// Why a delivery could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer has stopped (the node is shutting down).
    #[error("the usage writer has stopped")]
    Stopped,
    /// The batch failed; nothing of it was written.
    #[error("the usage batch failed")]
    Failed(#[source] Failure),
}

/// The usage log could not be synced: the ledger records nothing more
/// until the node is restarted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the usage ledger could not sync its log; deliveries fail until the node is restarted")]
pub struct LedgerBroken(#[source] Failure);

/// Hands deliveries to the writer thread.
#[derive(Clone)]
pub struct UsageWriter {
    sender: mpsc::Sender<Message>,
    broken: Arc<OnceLock<Failure>>,
    /// In journal mode, the node's billing and quota leases.
    meter: Option<Arc<Mutex<Meter>>>,
}

impl std::fmt::Debug for UsageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageWriter").finish_non_exhaustive()
    }
}

/// The writer thread, to stop and join at shutdown.
pub struct WriterThread {
    sender: mpsc::Sender<Message>,
    handle: Option<JoinHandle<()>>,
}

impl UsageWriter {
    /// Starts the writer thread for the database at `url`: in journal mode
    /// (`journal` given) on the node's usage journal, shipped to the ledger
    /// on connections from `pool`; else on connections from `pool`
    /// (PostgreSQL, in-memory SQLite) or on its own (an SQLite file). Its
    /// failures go to `errors`, and a lack of space to `health`.
    pub fn start(
        pool: Pool,
        url: &DatabaseUrl,
        journal: Option<&JournalSettings>,
        facts: Arc<dyn Confirmed>,
        registry: &prometheus::Registry,
        errors: ErrorLog,
        health: Health,
    ) -> std::io::Result<(Self, WriterThread)> {
        let broken = Arc::new(OnceLock::new());
        let report = Report {
            errors,
            health,
            broken: broken.clone(),
        };
        let ledger = match (journal, url) {
            (Some(settings), _) => Ledger::Journal(Box::new(Journaled::open(
                settings,
                url,
                &pool,
                facts,
                registry,
                report.clone(),
            )?)),
            (None, DatabaseUrl::Sqlite(SqliteTarget::File(_))) => Ledger::Sql(
                SqlLedger::sqlite_file(ConnectionManager::new(url.clone()), report.clone())?,
            ),
            (None, _) => Ledger::Sql(SqlLedger::Pool(pool)),
        };
        let meter = match &ledger {
            Ledger::Journal(journal) => Some(journal.meter()),
            Ledger::Sql(_) => None,
        };
        let (sender, receiver) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("usage-writer".to_owned())
            .spawn(move || run(ledger, &receiver, &report))?;
        Ok((
            Self {
                sender: sender.clone(),
                broken,
                meter,
            },
            WriterThread {
                sender,
                handle: Some(handle),
            },
        ))
    }

    /// Records a delivery and waits until its batch is committed.
    pub async fn record(&self, delivery: Delivery) -> Result<Recorded, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Message::Record(Box::new(delivery), reply))
            .map_err(|_| WriteError::Stopped)?;
        answer
            .await
            .map_err(|_| WriteError::Stopped)?
            .map_err(WriteError::Failed)
    }

    /// Billable units this node delivered under a licence in the period
    /// starting at `period_start` that are in its journal, not yet in the
    /// ledger (none in sync mode, where the ledger has every one).
    pub fn unshipped_units(&self, licence_id: &str, period_start: chrono::NaiveDateTime) -> i64 {
        self.meter.as_ref().map_or(0, |meter| {
            meter
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .unshipped(&(licence_id.to_owned(), period_start))
        })
    }

    /// Why the ledger records nothing more, once its log failed to sync.
    pub fn broken(&self) -> Option<LedgerBroken> {
        self.broken.get().cloned().map(LedgerBroken)
    }
}

/// Where the writer's and the syncer's failures go.
#[derive(Clone)]
pub(super) struct Report {
    errors: ErrorLog,
    health: Health,
    pub(super) broken: Arc<OnceLock<Failure>>,
}

impl Report {
    /// Logs and counts a failed batch (once per kind and interval), and
    /// tells readiness (a lack of space makes the node unready).
    pub(super) fn failed(&self, event: &'static str, failure: &StorageError) {
        let class = failure.fault().unwrap_or(Fault::Other);
        self.health.note(class);
        self.errors
            .record("ledger", event, class.label(), &CauseChain(failure));
    }
}

impl WriterThread {
    /// Lets the writer finish what is queued, then stops it.
    pub fn stop(mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!("the usage writer panicked");
        }
    }
}

pub(super) type Reply = oneshot::Sender<Result<Recorded, Failure>>;
pub(super) type Pending = (Delivery, Reply);

/// Answers for a batch committed to the database whose write-ahead log is
/// at the path, sent once its events are durable.
type Answers = (Arc<Path>, Vec<(Reply, Result<Recorded, Failure>)>);

fn run(mut ledger: Ledger, receiver: &mpsc::Receiver<Message>, report: &Report) {
    let mut stopping = false;
    while !stopping {
        let Ok(first) = receiver.recv() else { break };
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Record(delivery, reply) => batch.push((*delivery, reply)),
                Message::Stop => stopping = true,
            }
            if batch.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            ledger.commit(batch, report);
        }
    }
    // Stop was asked: record whatever is still queued before leaving.
    let rest: Vec<_> = receiver
        .try_iter()
        .filter_map(|m| match m {
            Message::Record(delivery, reply) => Some((*delivery, reply)),
            Message::Stop => None,
        })
        .collect();
    if !rest.is_empty() {
        ledger.commit(rest, report);
    }
    ledger.close();
}

/// The writer's side of the ledger: where batches are recorded, and who
/// answers them.
enum Ledger {
    /// In the SQL ledger, before each delivery is answered.
    Sql(SqlLedger),
    /// In the node's usage journal, shipped to the ledger by its own thread.
    Journal(Box<Journaled>),
}

impl Ledger {
    fn commit(&mut self, batch: Vec<Pending>, report: &Report) {
        match self {
            Self::Sql(sql) => sql.commit(batch, report),
            Self::Journal(journal) => journal.commit(batch, report),
        }
    }

    fn close(self) {
        match self {
            Self::Sql(sql) => sql.close(),
            Self::Journal(journal) => journal.close(),
        }
    }
}

/// The synchronous SQL ledger.
enum SqlLedger {
    /// Pooled connections; each commit syncs, so a batch is answered as
    /// soon as it commits.
    Pool(Pool),
    /// The writer's own connection to an SQLite file, committing without
    /// syncing; the syncer thread answers each batch once the log holding
    /// it is on disk.
    SqliteFile {
        manager: ConnectionManager,
        /// The connection and the path of its write-ahead log, opened on
        /// first use and again after a failed batch.
        own: Option<(DbConnection, Arc<Path>)>,
        syncer: mpsc::Sender<Answers>,
        handle: JoinHandle<()>,
    },
}

impl SqlLedger {
    /// The ledger on an SQLite file, with its syncer thread started.
    fn sqlite_file(manager: ConnectionManager, report: Report) -> std::io::Result<Self> {
        let (syncer, receiver) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("usage-sync".to_owned())
            .spawn(move || sync_and_answer(&receiver, &report))?;
        Ok(Self::SqliteFile {
            manager,
            own: None,
            syncer,
            handle,
        })
    }

    /// Records a batch in one transaction; answers it once it is durable.
    fn commit(&mut self, batch: Vec<Pending>, report: &Report) {
        let (deliveries, replies): (Vec<Delivery>, Vec<_>) = batch.into_iter().unzip();
        let failed = match self {
            Self::Pool(pool) => match pool
                .get()
                .map_err(StorageError::from)
                .and_then(|mut conn| usage::record_batch(&mut conn, &deliveries))
            {
                Ok(results) => return answer(paired(replies, results)),
                Err(error) => error,
            },
            Self::SqliteFile {
                manager,
                own,
                syncer,
                ..
            } => match record_own(manager, own, &deliveries) {
                Ok((results, wal)) => {
                    if let Err(mpsc::SendError((_, answers))) =
                        syncer.send((wal, paired(replies, results)))
                    {
                        let stopped = StorageError::Other("the usage syncer stopped".into());
                        fail(
                            answers.into_iter().map(|(reply, _)| reply),
                            &Arc::new(stopped),
                        );
                    }
                    return;
                }
                Err(error) => error,
            },
        };
        report.failed("usage batch failed; nothing of it was written", &failed);
        fail(replies, &Arc::new(failed));
    }

    /// Waits until the syncer has answered everything handed to it.
    fn close(self) {
        match self {
            Self::SqliteFile { syncer, handle, .. } => {
                drop(syncer);
                if handle.join().is_err() {
                    tracing::error!("the usage syncer panicked");
                }
            }
            Self::Pool(_) => {}
        }
    }
}

/// A committed batch's answers, one for each request.
fn paired(replies: Vec<Reply>, results: Vec<Recorded>) -> Vec<(Reply, Result<Recorded, Failure>)> {
    tracing::debug!(batch = results.len(), "usage batch committed");
    replies
        .into_iter()
        .zip(results.into_iter().map(Ok))
        .collect()
}

/// Records a batch on the writer's own connection (opened if it is not);
/// returns the log to sync before answering it.
fn record_own(
    manager: &ConnectionManager,
    own: &mut Option<(DbConnection, Arc<Path>)>,
    deliveries: &[Delivery],
) -> Result<(Vec<Recorded>, Arc<Path>), StorageError> {
    let (mut conn, wal) = match own.take() {
        Some(open) => open,
        None => sqlite_ledger::unsynced_connection(manager)?,
    };
    let results = usage::record_batch(&mut conn, deliveries)?;
    *own = Some((conn, wal.clone()));
    Ok((results, wal))
}

/// The syncer: takes every batch committed so far, syncs the log once
/// (which holds them all), then answers them. After a failed sync it
/// answers every batch with an error until the node is restarted: the
/// kernel may have dropped the pages it failed to write and not report
/// them again, and the batches after them in the log would be lost with
/// them.
fn sync_and_answer(receiver: &mpsc::Receiver<Answers>, report: &Report) {
    let mut log: Option<WriteAheadLog> = None;
    let mut failed: Option<Failure> = None;
    while let Ok((path, first)) = receiver.recv() {
        let mut answers = first;
        for (_, more) in receiver.try_iter() {
            answers.extend(more);
        }
        if failed.is_none() {
            let synced = WriteAheadLog::current(log.take(), &path).and_then(|current| {
                current.sync()?;
                Ok(current)
            });
            match synced {
                Ok(current) => {
                    log = Some(current);
                    answer(answers);
                    continue;
                }
                Err(error) => {
                    let error = StorageError::Io(Box::new(error));
                    report.failed(
                        "the usage log could not be synced; deliveries fail until the node is restarted",
                        &error,
                    );
                    let error = Arc::new(error);
                    let _ = report.broken.set(error.clone());
                    failed = Some(error);
                }
            }
        }
        if let Some(error) = &failed {
            fail(answers.into_iter().map(|(reply, _)| reply), error);
        }
    }
}

pub(super) fn answer(answers: Vec<(Reply, Result<Recorded, Failure>)>) {
    for (reply, result) in answers {
        let _ = reply.send(result);
    }
}

pub(super) fn fail(replies: impl IntoIterator<Item = Reply>, error: &Failure) {
    for reply in replies {
        let _ = reply.send(Err(error.clone()));
    }
}
