//! Keeps a node's fact cache close to the database: a thread reads the
//! change log every [`POLL_INTERVAL`] ([`FactCache::poll`], one indexed
//! read when nothing changed) and prunes it once a minute.
//!
//! Freshness does not wait for it (the usage writer checks every delivery
//! against the log, see `delivery::facts`); it keeps the log that check
//! reads short, drops changed facts before a delivery trips over them, and
//! records when the cache was last confirmed current
//! ([`FactCache::confirmed_at`]). The log holds [`RETAIN`] of changes (at
//! most [`RETAIN_CHANGES`]): a node that has not read it for longer drops
//! everything it caches on its next read.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::FactCache;
use crate::storage::error::Fault;
use crate::storage::{Pool, StorageError, changes, now};
use crate::telemetry::{CauseChain, ErrorLog};

/// How often the change log is read.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How often the log is pruned (by each node).
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);
/// How long a change stays in the log.
pub const RETAIN: Duration = Duration::from_secs(600);
/// Most changes (values of the counter) the log keeps, however recent.
pub const RETAIN_CHANGES: i64 = 100_000;

/// The poller thread, to stop at shutdown (it also stops when dropped).
pub struct Poller {
    stop: mpsc::Sender<()>,
    handle: Option<JoinHandle<()>>,
}

impl Poller {
    /// Starts polling the change log into `facts`; failures go to `errors`
    /// (once per kind and interval).
    pub fn start(pool: Pool, facts: Arc<FactCache>, errors: ErrorLog) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("fact-poller".to_owned())
            .spawn(move || run(&pool, &facts, &errors, &stopped))?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        let _ = self.stop.send(());
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!("the fact poller panicked");
        }
    }
}

fn run(pool: &Pool, facts: &FactCache, errors: &ErrorLog, stopped: &mpsc::Receiver<()>) {
    let mut pruned = Instant::now();
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(POLL_INTERVAL) {
        let polled = pool.get().map_err(StorageError::from).and_then(|mut conn| {
            facts.poll(&mut conn)?;
            if pruned.elapsed() >= PRUNE_INTERVAL {
                pruned = Instant::now();
                let before = now() - chrono::Duration::from_std(RETAIN).unwrap_or_default();
                let deleted = changes::prune(&mut conn, before, RETAIN_CHANGES)?;
                tracing::debug!(deleted, "change log pruned");
            }
            Ok(())
        });
        if let Err(error) = polled {
            let class = error.fault().unwrap_or(Fault::Other);
            errors.record(
                "facts",
                "the change log could not be read or pruned",
                class.label(),
                &CauseChain(&error),
            );
        }
    }
}
