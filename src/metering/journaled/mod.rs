//! The usage writer's journal mode: a delivery is answered once its entry
//! is in the node's journal on disk, not once it is in the SQL ledger.
//!
//! Per batch the writer thread runs no SQL when it knows the batch's
//! billing keys and holds the quota it needs. It checks each delivery
//! against the changes the node's fact cache has applied since the
//! delivery's facts were read (`storage::changes::Confirmed`; one that
//! changed is decided again), decides billing and quotas in memory
//! (`metering::meter`, looking up in the ledger only billing keys it has not
//! seen, and taking quota leases when its own run out), appends the batch's
//! entries to the journal and hands them to the syncer thread, which
//! `fdatasync`s the journal once for every batch written before it began,
//! then answers them. The shipper thread reads the synced journal back and
//! ships it to the SQL ledger in large transactions (`storage::shipping`),
//! exactly once, then deletes the segments it has shipped.
//!
//! The fact cache is confirmed current by the node's poller every 200 ms
//! (and by every read of facts, and after every write through this node).
//! Once its last confirmation is older than the freshness bound (the
//! database unreachable, say), every delivery is refused (503) until it is
//! confirmed again; within the bound, deliveries decided on cached facts go
//! on, spending what the node's leases hold. The journal keeps what the
//! shipper cannot ship, up to its size limit (503 past it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge, Registry};

use super::journal::{self, Appender, Directory, Position};
use super::meter::Meter;
use super::writer::{Failure, Pending, Reply, Report};
use crate::storage::changes::Confirmed;
use crate::storage::shipping;
use crate::storage::usage::Recorded;
use crate::storage::{DatabaseUrl, DbConnection, OwnConnection, Pool, StorageError};

mod decide;
mod shipper;

use decide::{Decision, decide, entry, undo};
use shipper::Shipper;

/// Entries shipped in one transaction, at most.
const SHIP_BATCH: usize = 4096;
/// Between two shipments of less than a full batch, the shipper waits
/// this long: a transaction (and the database's flush) four times a
/// second, not per delivery, so shipping stays off the journal's disk and
/// the database sees a few transactions a second per node.
const SHIP_INTERVAL: Duration = Duration::from_millis(250);
/// Bytes of journal read at once, at most.
const READ_CHUNK: u64 = 4 * 1024 * 1024;
/// A lease not asked for this long gives its unspent units back.
const LEASE_IDLE: Duration = Duration::from_secs(2);
/// How long the shipper waits for new entries before its idle work.
const SHIPPER_TICK: Duration = Duration::from_millis(200);
/// At start, how long the node waits for the last run's journal to ship
/// before it serves anyway (shipping goes on meanwhile).
const CATCH_UP: Duration = Duration::from_secs(10);

/// How a node keeps its journal.
#[derive(Debug, Clone)]
pub struct JournalSettings {
    /// The journal's directory (one per node).
    pub dir: PathBuf,
    /// Most bytes of unshipped journal kept; past it deliveries are refused.
    pub max_bytes: u64,
    /// Longest a node delivers after it last confirmed its facts current.
    pub freshness: Duration,
}

/// The journal's figures, exported in `/metrics`.
#[derive(Clone)]
struct Gauges {
    unshipped: IntGauge,
    lag_seconds: IntGauge,
    bytes: IntGauge,
    corrupt: IntCounter,
}

impl Gauges {
    /// Sets the entries not yet shipped and the journal's bytes.
    fn update(&self, appended: &AtomicU64, shipped: &AtomicU64, bytes: &AtomicU64) {
        let unshipped = appended
            .load(Ordering::Relaxed)
            .saturating_sub(shipped.load(Ordering::Relaxed));
        self.unshipped
            .set(i64::try_from(unshipped).unwrap_or(i64::MAX));
        self.bytes
            .set(i64::try_from(bytes.load(Ordering::Relaxed)).unwrap_or(i64::MAX));
    }

    fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let gauges = Self {
            unshipped: IntGauge::new(
                "syndicate_journal_unshipped_entries",
                "Deliveries in this node's usage journal not yet shipped to the SQL ledger",
            )?,
            lag_seconds: IntGauge::new(
                "syndicate_journal_lag_seconds",
                "Age of the oldest delivery in this node's usage journal not yet shipped (0 when all are)",
            )?,
            bytes: IntGauge::new(
                "syndicate_journal_bytes",
                "Bytes of this node's usage journal on disk",
            )?,
            corrupt: IntCounter::new(
                "syndicate_journal_corrupt_bytes_total",
                "Bytes of the usage journal skipped because they failed their checksum",
            )?,
        };
        registry.register(Box::new(gauges.unshipped.clone()))?;
        registry.register(Box::new(gauges.lag_seconds.clone()))?;
        registry.register(Box::new(gauges.bytes.clone()))?;
        registry.register(Box::new(gauges.corrupt.clone()))?;
        Ok(gauges)
    }
}

/// Where the journal is synced to, for the shipper.
#[derive(Default)]
struct Durable {
    position: Mutex<Position>,
    moved: Condvar,
}

impl Durable {
    fn get(&self) -> Position {
        *self.position.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn advance(&self, to: Position) {
        let mut position = self.position.lock().unwrap_or_else(PoisonError::into_inner);
        if to > *position {
            *position = to;
        }
        self.moved.notify_all();
    }

    fn wait(&self, past: Position, timeout: Duration) {
        let position = self.position.lock().unwrap_or_else(PoisonError::into_inner);
        if *position == past {
            let _ = self.moved.wait_timeout(position, timeout);
        }
    }
}

/// A synced batch's answers.
type Synced = (
    std::fs::File,
    Position,
    Vec<(Reply, Result<Recorded, Failure>)>,
);

/// The writer's side of journal mode.
pub(super) struct Journaled {
    appender: Appender,
    own: OwnConnection,
    node: Arc<str>,
    meter: Arc<Mutex<Meter>>,
    freshness: Duration,
    facts: Arc<dyn Confirmed>,
    max_bytes: u64,
    bytes: Arc<AtomicU64>,
    appended: Arc<AtomicU64>,
    shipped: Arc<AtomicU64>,
    gauges: Gauges,
    syncer: mpsc::Sender<Synced>,
    syncer_handle: JoinHandle<()>,
    stop_shipper: Arc<AtomicBool>,
    durable: Arc<Durable>,
    shipper_handle: JoinHandle<()>,
    /// Whether the journal of the node's last run is shipped and its
    /// leases given back: until then no lease is taken.
    caught_up: Arc<AtomicBool>,
}

impl Journaled {
    /// Opens the journal, ships whatever an earlier run left in it, gives
    /// back the node's leases, and starts the syncer and the shipper.
    pub(super) fn open(
        settings: &JournalSettings,
        url: &DatabaseUrl,
        pool: &Pool,
        facts: Arc<dyn Confirmed>,
        registry: &Registry,
        report: Report,
    ) -> std::io::Result<Self> {
        let other = |e: String| std::io::Error::other(e);
        let directory = Directory::open(&settings.dir)?;
        let node: Arc<str> = directory.node_id()?.into();
        let appender = Appender::start(directory.path())?;
        let durable = Arc::new(Durable::default());
        durable.advance(appender.end());
        let gauges = Gauges::new(registry).map_err(|e| other(e.to_string()))?;
        let bytes = Arc::new(AtomicU64::new(journal::size(directory.path())?));
        let appended = Arc::new(AtomicU64::new(0));
        let shipped = Arc::new(AtomicU64::new(0));
        let meter = Arc::new(Mutex::new(Meter::default()));
        let stop_shipper = Arc::new(AtomicBool::new(false));
        let caught_up = Arc::new(AtomicBool::new(false));
        let mut shipper = Shipper {
            caught_up: caught_up.clone(),
            start: appender.end(),
            position: directory.shipped(),
            directory,
            db: OwnConnection::to(url, pool),
            node: node.clone(),
            meter: meter.clone(),
            durable: durable.clone(),
            stop: stop_shipper.clone(),
            gauges: gauges.clone(),
            bytes: bytes.clone(),
            appended: appended.clone(),
            shipped: shipped.clone(),
            report: report.clone(),
            last_heartbeat: None,
            full: false,
        };
        // Ship what the last run left before serving, if the database lets
        // us within a few seconds; else the shipper goes on while the node
        // serves (taking no lease until it is done).
        if let Err(error) = shipper.catch_up(Instant::now() + CATCH_UP) {
            tracing::warn!(
                %error,
                "the usage journal of the last run is not shipped yet; it ships while the node serves"
            );
        }
        let syncer_report = report.clone();
        let syncer_durable = durable.clone();
        let (syncer, receiver) = mpsc::channel();
        let syncer_handle = std::thread::Builder::new()
            .name("journal-sync".to_owned())
            .spawn(move || sync_and_answer(&receiver, &syncer_durable, &syncer_report))?;
        let shipper_handle = std::thread::Builder::new()
            .name("journal-ship".to_owned())
            .spawn(move || shipper.run())?;
        Ok(Self {
            appender,
            own: OwnConnection::to(url, pool),
            node,
            meter,
            freshness: settings.freshness,
            facts,
            max_bytes: settings.max_bytes,
            bytes,
            appended,
            shipped,
            gauges,
            syncer,
            syncer_handle,
            stop_shipper,
            durable,
            shipper_handle,
            caught_up,
        })
    }

    /// What the node knows and holds, shared with the node's readers.
    pub(super) fn meter(&self) -> Arc<Mutex<Meter>> {
        self.meter.clone()
    }

    /// Decides a batch, appends it to the journal and hands it to the
    /// syncer, which answers it once it is on disk.
    pub(super) fn commit(&mut self, batch: Vec<Pending>, report: &Report) {
        let now = Instant::now();
        // The node's facts must have been confirmed current within the
        // bound; a delivery one of whose items changed since its facts were
        // read is decided again.
        let confirmed = self.facts.confirmed_at();
        if confirmed.is_none_or(|at| now.saturating_duration_since(at) > self.freshness) {
            let unconfirmed = StorageError::Unavailable(
                format!(
                    "this node could not confirm its rights facts current within {} ms",
                    self.freshness.as_millis()
                )
                .into(),
            );
            report.failed("rights facts could not be confirmed current", &unconfirmed);
            super::writer::fail(batch.into_iter().map(|(_, r)| r), &Arc::new(unconfirmed));
            return;
        }
        let mut answers = Vec::with_capacity(batch.len());
        let mut kept = Vec::with_capacity(batch.len());
        for (delivery, reply) in batch {
            match delivery
                .decided_on
                .as_deref()
                .and_then(|depends| self.facts.changed_since(depends))
            {
                Some(current) => {
                    let _ = reply.send(Ok(Recorded::Stale { current }));
                }
                None => kept.push((delivery, reply)),
            }
        }
        if kept.is_empty() {
            return;
        }
        let mut meter = self.meter.lock().unwrap_or_else(PoisonError::into_inner);
        let leasing = self.caught_up.load(Ordering::Acquire);
        let decisions = decide(&mut meter, &mut self.own, &self.node, leasing, &kept, now);
        let mut framed = Vec::new();
        let mut entries = 0_u64;
        for ((delivery, _), decision) in kept.iter().zip(&decisions) {
            if let Decision::Delivered {
                billable, leased, ..
            } = decision
            {
                let entry = entry(delivery, *billable, *leased);
                match serde_json::to_vec(&entry) {
                    Ok(payload) => journal::frame(&payload, &mut framed),
                    Err(error) => {
                        tracing::error!(%error, "a usage entry could not be encoded");
                    }
                }
                entries += 1;
            }
        }
        let full = self.bytes.load(Ordering::Relaxed) + framed.len() as u64 > self.max_bytes;
        let appended = if full {
            Err(StorageError::Unavailable(
                format!(
                    "the usage journal holds {} MiB not yet shipped to the database, its limit",
                    self.max_bytes / (1024 * 1024)
                )
                .into(),
            ))
        } else if framed.is_empty() {
            Ok(None)
        } else {
            self.appender.append(&framed).map(Some).map_err(|e| {
                if e.raw_os_error() == Some(libc::ENOSPC) {
                    StorageError::OutOfSpace(Box::new(e))
                } else {
                    StorageError::Io(Box::new(e))
                }
            })
        };
        let appended = match appended {
            Ok(appended) => appended,
            Err(error) => {
                undo(&mut meter, &kept, &decisions);
                drop(meter);
                report.failed("usage entries could not be written to the journal", &error);
                let error = Arc::new(error);
                super::writer::fail(kept.into_iter().map(|(_, r)| r), &error);
                return;
            }
        };
        drop(meter);
        self.bytes.fetch_add(framed.len() as u64, Ordering::Relaxed);
        self.appended.fetch_add(entries, Ordering::Relaxed);
        self.gauges
            .update(&self.appended, &self.shipped, &self.bytes);
        for ((_, reply), decision) in kept.into_iter().zip(decisions) {
            answers.push((reply, decision.answer()));
        }
        match appended {
            Some((end, file)) => {
                if let Err(mpsc::SendError((_, _, answers))) =
                    self.syncer.send((file, end, answers))
                {
                    let stopped =
                        Arc::new(StorageError::Other("the journal syncer stopped".into()));
                    super::writer::fail(answers.into_iter().map(|(r, _)| r), &stopped);
                }
            }
            None => super::writer::answer(answers),
        }
    }

    /// Stops the syncer (answering what it holds), then the shipper, which
    /// ships what it can and gives back the node's unspent leases.
    pub(super) fn close(self) {
        drop(self.syncer);
        if self.syncer_handle.join().is_err() {
            tracing::error!("the journal syncer panicked");
        }
        self.stop_shipper.store(true, Ordering::Relaxed);
        self.durable.advance(self.appender.end());
        if self.shipper_handle.join().is_err() {
            tracing::error!("the journal shipper panicked");
        }
    }
}

/// Gives back every quota lease of a node lost with its disk, and forgets
/// its shipping progress (what it had not shipped is lost with it); returns
/// how many leases it held. A node that still runs would spend units no
/// longer leased to it: this is for a node that never comes back.
pub fn release_lost_node(conn: &mut DbConnection, node: &str) -> Result<usize, StorageError> {
    crate::storage::in_transaction(conn, |conn| {
        let released = shipping::release(conn, node)?;
        shipping::forget_node(conn, node)?;
        Ok(released)
    })
}

/// The syncer: syncs the journal once for every batch written so far, lets
/// the shipper read up to there, then answers them. After a failed sync it
/// answers everything with an error until the node is restarted (as the
/// SQLite syncer does: the kernel may have dropped what it failed to write).
fn sync_and_answer(receiver: &mpsc::Receiver<Synced>, durable: &Durable, report: &Report) {
    let mut failed: Option<Failure> = None;
    while let Ok((mut file, mut end, mut answers)) = receiver.recv() {
        for (later, later_end, more) in receiver.try_iter() {
            file = later;
            end = later_end;
            answers.extend(more);
        }
        if failed.is_none() {
            match file.sync_data() {
                Ok(()) => {
                    durable.advance(end);
                    super::writer::answer(answers);
                    continue;
                }
                Err(error) => {
                    let error = StorageError::Io(Box::new(error));
                    report.failed(
                        "the usage journal could not be synced; deliveries fail until the node is restarted",
                        &error,
                    );
                    let error = Arc::new(error);
                    let _ = report.broken.set(error.clone());
                    failed = Some(error);
                }
            }
        }
        if let Some(error) = &failed {
            super::writer::fail(answers.into_iter().map(|(reply, _)| reply), error);
        }
    }
}
