//! The shipper: reads the synced journal back, ships it to the SQL ledger
//! exactly once (`storage::shipping`), deletes what it shipped, gives back
//! idle leases and keeps the shipping gauges.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Durable, Gauges, LEASE_IDLE, READ_CHUNK, SHIP_BATCH, SHIP_INTERVAL, SHIPPER_TICK};
use crate::metering::journal::{self, Directory, Item, Position};
use crate::metering::meter::Meter;
use crate::metering::writer::Report;
use crate::storage::shipping::{self, CounterKey, Entry};
use crate::storage::{OwnConnection, StorageError};

/// The shipper's state.
pub(super) struct Shipper {
    /// Where this run's journal starts: everything before is the last run's.
    pub(super) start: Position,
    /// Set once the last run's journal is shipped and its leases given back.
    pub(super) caught_up: Arc<AtomicBool>,
    pub(super) directory: Directory,
    pub(super) position: Position,
    /// The shipper's own connection.
    pub(super) db: OwnConnection,
    pub(super) node: Arc<str>,
    pub(super) meter: Arc<Mutex<Meter>>,
    pub(super) durable: Arc<Durable>,
    pub(super) stop: Arc<AtomicBool>,
    pub(super) gauges: Gauges,
    pub(super) bytes: Arc<AtomicU64>,
    pub(super) appended: Arc<AtomicU64>,
    pub(super) shipped: Arc<AtomicU64>,
    pub(super) report: Report,
    pub(super) last_heartbeat: Option<Instant>,
    /// Whether the last batch read was a full one (more may be waiting).
    pub(super) full: bool,
}

/// Entries read from the journal, and where reading stopped.
struct Read {
    entries: Vec<Entry>,
    next: Position,
    /// The segment was read to its end: delete it once these are shipped.
    finished: bool,
}

impl Shipper {
    /// Ships the last run's journal and gives back that run's leases
    /// (what it spent is billed by then; the rest was unspent), trying
    /// until `deadline`.
    pub(super) fn catch_up(&mut self, deadline: Instant) -> Result<(), StorageError> {
        loop {
            match self.settle_last_run() {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() >= deadline => return Err(error),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// One try at [`Self::catch_up`].
    fn settle_last_run(&mut self) -> Result<(), StorageError> {
        while self.position < self.start {
            if !self.step()? {
                break;
            }
        }
        let node = &self.node;
        self.db.run(|conn| shipping::release(conn, node))?;
        self.caught_up.store(true, Ordering::Release);
        Ok(())
    }

    pub(super) fn run(mut self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let stopping = self.stop.load(Ordering::Relaxed);
            if !self.caught_up.load(Ordering::Acquire) {
                if let Err(error) = self.settle_last_run() {
                    self.report.failed(
                        "the usage journal of the last run could not be shipped; it waits on disk",
                        &error,
                    );
                    if stopping {
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                continue;
            }
            match self.step() {
                Ok(true) => {
                    backoff = Duration::from_millis(100);
                    if !self.full && !stopping {
                        std::thread::sleep(SHIP_INTERVAL);
                    }
                    continue;
                }
                Ok(false) => {
                    if stopping {
                        break;
                    }
                    self.idle();
                    self.durable.wait(self.position, SHIPPER_TICK);
                }
                Err(error) => {
                    self.report.failed(
                        "the usage journal could not be shipped; it waits on disk",
                        &error,
                    );
                    if stopping {
                        break;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        self.give_back_everything();
    }

    /// Ships one batch, if there is one; `Ok(false)` when caught up.
    fn step(&mut self) -> Result<bool, StorageError> {
        let read = self.read().map_err(|e| StorageError::Io(Box::new(e)))?;
        self.full = read.entries.len() >= SHIP_BATCH || read.finished;
        if read.entries.is_empty() && !read.finished && read.next == self.position {
            self.gauges.lag_seconds.set(0);
            return Ok(false);
        }
        if let Some(oldest) = read.entries.first() {
            let lag = (crate::storage::now() - oldest.at).num_seconds().max(0);
            self.gauges.lag_seconds.set(lag);
        }
        if !read.entries.is_empty() {
            let node = &self.node;
            let shipped = self
                .db
                .run(|conn| shipping::ship(conn, node, &read.entries))?;
            tracing::debug!(
                written = shipped.written,
                skipped = shipped.skipped,
                "usage journal shipped"
            );
            let mut billed: HashMap<CounterKey, i64> = HashMap::new();
            for entry in read.entries.iter().filter(|e| e.billable) {
                *billed
                    .entry((entry.licence_id.clone(), entry.period_start))
                    .or_default() += 1;
            }
            let mut meter = self.meter.lock().unwrap_or_else(PoisonError::into_inner);
            meter.settle(&shipped.counters);
            for (counter, n) in &billed {
                meter.add_unshipped(counter, -n);
            }
            drop(meter);
            self.shipped
                .fetch_add(read.entries.len() as u64, Ordering::Relaxed);
            let through = match read.entries.last() {
                Some(last) if read.entries.len() >= SHIP_BATCH => last.at,
                _ => caught_up_through(),
            };
            self.note_progress(through);
        }
        self.position = read.next;
        if read.finished {
            let path = journal::segment_path(self.directory.path(), self.position.segment);
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(StorageError::Io(Box::new(error))),
            }
            self.bytes.fetch_sub(
                size.min(self.bytes.load(Ordering::Relaxed)),
                Ordering::Relaxed,
            );
            self.position = self.next_segment();
        }
        if let Err(error) = self.directory.save_shipped(self.position) {
            tracing::warn!(%error, "where shipping stopped could not be saved; entries will be offered again");
        }
        self.update_gauges();
        Ok(true)
    }

    fn update_gauges(&self) {
        self.gauges
            .update(&self.appended, &self.shipped, &self.bytes);
    }

    /// The first segment after the current one (the syncer's, at worst).
    fn next_segment(&self) -> Position {
        let after = journal::segments(self.directory.path())
            .ok()
            .and_then(|numbers| numbers.into_iter().find(|&n| n > self.position.segment));
        Position {
            segment: after.unwrap_or(self.durable.get().segment),
            offset: 0,
        }
    }

    /// Reads the next entries to ship (at most [`SHIP_BATCH`], from at most
    /// [`READ_CHUNK`] bytes): from an older segment up to its end, or from the
    /// current one up to where it is synced.
    fn read(&mut self) -> std::io::Result<Read> {
        let durable = self.durable.get();
        let from = self.position;
        let end = match from.segment.cmp(&durable.segment) {
            std::cmp::Ordering::Less => None,
            std::cmp::Ordering::Equal if from.offset < durable.offset => Some(durable.offset),
            _ => {
                return Ok(Read {
                    entries: Vec::new(),
                    next: from,
                    finished: false,
                });
            }
        };
        let until = end.map_or(from.offset + READ_CHUNK, |end| {
            end.min(from.offset + READ_CHUNK)
        });
        let bytes = match journal::read_segment(
            self.directory.path(),
            from.segment,
            from.offset,
            Some(until),
        ) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && end.is_none() => {
                return Ok(Read {
                    entries: Vec::new(),
                    next: from,
                    finished: true,
                });
            }
            Err(error) => return Err(error),
        };
        // Read to the segment's end (an older one) or to where it is synced.
        let whole = match end {
            Some(end) => until >= end,
            None => (bytes.len() as u64) < READ_CHUNK,
        };
        let mut entries = Vec::new();
        let mut next = from;
        let mut records = 0;
        for item in journal::scan(&bytes, from, SHIP_BATCH) {
            match item {
                Item::Record {
                    payload,
                    next: after,
                } => {
                    records += 1;
                    next = after;
                    match serde_json::from_slice::<Entry>(&payload) {
                        Ok(entry) => entries.push(entry),
                        Err(error) => {
                            self.corrupt(from.segment, payload.len() as u64, &error.to_string());
                        }
                    }
                }
                Item::Corrupt { at, bytes } => {
                    self.corrupt(at.segment, bytes, "checksum");
                    next = Position {
                        segment: at.segment,
                        offset: at.offset + bytes,
                    };
                }
            }
        }
        if records == 0 && !whole {
            // A whole chunk without one record: skip all but its last
            // record's worth, and read on from there.
            let skipped = (bytes.len() as u64)
                .saturating_sub(journal::MAX_RECORD as u64)
                .max(1);
            self.corrupt(from.segment, skipped, "no record in a whole read");
            next.offset += skipped;
        }
        Ok(Read {
            entries,
            next,
            finished: end.is_none() && whole && records < SHIP_BATCH,
        })
    }

    fn corrupt(&self, segment: u64, bytes: u64, why: &str) {
        self.gauges.corrupt.inc_by(bytes);
        tracing::error!(
            segment,
            bytes,
            why,
            "usage journal bytes skipped: they do not read as an entry"
        );
    }

    /// Between batches: gives back leases no delivery has asked for lately,
    /// and notes in the ledger how far this node has shipped.
    fn idle(&mut self) {
        let back = self
            .meter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reclaim(Some((Instant::now(), LEASE_IDLE)));
        self.give_back(back);
        self.note_progress(caught_up_through());
        self.update_gauges();
    }

    /// Notes in the ledger, at most once a second, that every entry of this
    /// node before `through` is shipped.
    fn note_progress(&mut self, through: chrono::NaiveDateTime) {
        if self
            .last_heartbeat
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_heartbeat = Some(Instant::now());
        let node = &self.node;
        let result = self
            .db
            .run(|conn| shipping::shipped_through(conn, node, through, crate::storage::now()));
        if let Err(error) = result {
            tracing::debug!(%error, "shipping progress not noted");
        }
    }

    fn give_back(&mut self, back: Vec<(CounterKey, i64)>) {
        if back.is_empty() {
            return;
        }
        let node = &self.node;
        let result = self.db.run(|conn| {
            for (counter, units) in &back {
                shipping::give_back(conn, node, &counter.0, counter.1, *units)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            tracing::debug!(%error, "unspent lease units not given back yet");
            let now = Instant::now();
            let mut meter = self.meter.lock().unwrap_or_else(PoisonError::into_inner);
            for (counter, units) in back {
                meter.restore(&counter, units, now);
            }
        }
    }

    /// At shutdown: every unspent unit goes back to its counter.
    fn give_back_everything(&mut self) {
        let back = self
            .meter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reclaim(None);
        self.give_back(back);
        // Shipped in full: the node holds no report back while it is away.
        // Otherwise its row says how far it got, until it starts again.
        let node = self.node.clone();
        if self.read().is_ok_and(|read| read.entries.is_empty())
            && let Err(error) = self.db.run(|conn| shipping::forget_node(conn, &node))
        {
            tracing::debug!(%error, "shipping progress not cleared");
        }
    }
}

/// When the shipper has caught up: every entry synced is shipped, and an
/// entry still being synced was made less than a second ago.
fn caught_up_through() -> chrono::NaiveDateTime {
    crate::storage::now() - chrono::Duration::seconds(1)
}
