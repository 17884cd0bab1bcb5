//! Keeps a node's fact cache close to the database: a thread reads the
//! change log every [`POLL_INTERVAL`] ([`FactCache::poll`], one indexed
//! read when nothing changed, on a connection of its own) and prunes it
//! once a minute.
//!
//! In journal mode this is what keeps a node's decisions fresh: the usage
//! writer checks every delivery against the changes the cache has applied
//! and refuses to answer once the cache was last confirmed current longer
//! than the freshness bound ago, so a change made through another node or
//! by hand reaches this node's deliveries within [`POLL_INTERVAL`] (plus a
//! read) while the database answers. Changes made through this node are
//! read at once, before the write is answered (`http::own_writes`). The
//! synchronous ledger reads the log in every batch's transaction and does
//! not wait for this thread. The log holds [`RETAIN`] of changes (at most
//! [`RETAIN_CHANGES`]): a node that has not read it for longer drops
//! everything it caches on its next read.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::FactCache;
use crate::storage::error::Fault;
use crate::storage::{DatabaseUrl, OwnConnection, Pool, changes, now};
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
    pub fn start(
        url: &DatabaseUrl,
        pool: &Pool,
        facts: Arc<FactCache>,
        errors: ErrorLog,
    ) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel();
        let mut conn = OwnConnection::to(url, pool);
        let handle = std::thread::Builder::new()
            .name("fact-poller".to_owned())
            .spawn(move || run(&mut conn, &facts, &errors, &stopped))?;
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

fn run(
    conn: &mut OwnConnection,
    facts: &FactCache,
    errors: &ErrorLog,
    stopped: &mpsc::Receiver<()>,
) {
    let mut pruned = Instant::now();
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(POLL_INTERVAL) {
        let polled = conn.run(|conn| {
            facts.poll(conn)?;
            if pruned.elapsed() >= PRUNE_INTERVAL {
                pruned = Instant::now();
                let before = now() - chrono::Duration::from_std(RETAIN).unwrap_or_default();
                let deleted = changes::prune(conn, before, RETAIN_CHANGES)?;
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
