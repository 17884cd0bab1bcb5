//! The error log: every failure counted, each kind written once per
//! interval.
//!
//! A failing disk or database fails every request the same way, and a log
//! line per request is a flood (tens of thousands of lines a minute, onto
//! the disk that is full). So the first failure of a kind (the same origin,
//! event, class and cause chain) is written in full; the same failure again
//! within the interval is only counted; when the interval ends, one line
//! says how many times it happened (`repeated`) and a new interval starts.
//! A kind that did not recur for a whole interval is forgotten, so its next
//! occurrence is written in full again. Every failure, written or counted,
//! adds one to `syndicate_errors_total{class, origin}`.
//!
//! Counted repeats are written by a thread that looks four times an
//! interval (so a count is never held back until the next failure, and an
//! interval lasts at most a quarter longer than set), and by
//! [`ErrorLog::flush`] at shutdown.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::{Duration, Instant};

use prometheus::{IntCounterVec, Opts, Registry};

/// How many kinds of failure are tracked at once; beyond that a new kind
/// is written every time (it is not silenced, only not tracked).
const MAX_KINDS: usize = 1024;

/// What identifies a kind of failure: origin, event, class, cause chain.
type Kind = (&'static str, &'static str, &'static str, String);

/// The error log of one node; cheap to clone.
#[derive(Clone)]
pub struct ErrorLog {
    inner: Arc<Inner>,
}

struct Inner {
    counter: IntCounterVec,
    repeats: Mutex<Repeats>,
    /// Dropped with the log, which stops the thread that writes counts.
    _stop: mpsc::Sender<()>,
}

impl std::fmt::Debug for ErrorLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorLog").finish_non_exhaustive()
    }
}

impl ErrorLog {
    /// An error log writing each kind once per `interval`, counting into
    /// `registry`.
    pub fn new(registry: &Registry, interval: Duration) -> Result<Self, prometheus::Error> {
        let counter = IntCounterVec::new(
            Opts::new(
                "syndicate_errors_total",
                "Failures by class and origin: each 5xx answer (origin request), each usage batch the ledger could not write, sync or ship (origin ledger), each database connection the pool could not open (origin pool), each failed read or pruning of the change log by the fact poller (origin facts), each database step the webhook sender could not take (origin webhooks)",
            ),
            &["class", "origin"],
        )?;
        registry.register(Box::new(counter.clone()))?;
        let (stop, stopped) = mpsc::channel();
        let inner = Arc::new(Inner {
            counter,
            repeats: Mutex::new(Repeats::new(interval)),
            _stop: stop,
        });
        let weak = Arc::downgrade(&inner);
        // Without the thread, counts are still written by the next failure
        // of any kind after the interval and at shutdown. It looks four
        // times an interval, so an interval lasts at most a quarter longer.
        let _ = std::thread::Builder::new()
            .name("error-log".to_owned())
            .spawn(move || write_counts_until_dropped(&weak, &stopped, interval / 4));
        Ok(Self { inner })
    }

    /// Records one failure: counted always, written if it is the first of
    /// its kind in the interval. `origin` is the `origin` label (`request`,
    /// `ledger`, `pool`), `event` the log message, `class` the `class` label.
    pub fn record(
        &self,
        origin: &'static str,
        event: &'static str,
        class: &'static str,
        cause: &dyn Display,
    ) {
        self.inner.counter.with_label_values(&[class, origin]).inc();
        let cause = cause.to_string();
        let (write, due) = {
            let mut repeats = lock(&self.inner.repeats);
            let now = Instant::now();
            let due = repeats.due(now);
            let write = repeats.note((origin, event, class, cause.clone()), now);
            (write, due)
        };
        write_counts(due);
        if write {
            tracing::error!(
                error.class = class,
                error.origin = origin,
                error.cause_chain = %cause,
                "{event}"
            );
        }
    }

    /// Writes every count held, ending every interval now (at shutdown).
    pub fn flush(&self) {
        let due = lock(&self.inner.repeats).drain();
        write_counts(due);
    }
}

fn lock(repeats: &Mutex<Repeats>) -> std::sync::MutexGuard<'_, Repeats> {
    // A panic while holding the lock cannot leave the counts inconsistent
    // in a way that matters more than losing the log.
    repeats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_counts_until_dropped(inner: &Weak<Inner>, stopped: &mpsc::Receiver<()>, every: Duration) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
        let Some(inner) = inner.upgrade() else { return };
        let due = lock(&inner.repeats).due(Instant::now());
        write_counts(due);
    }
}

fn write_counts(due: Vec<Repeated>) {
    for ((origin, event, class, cause), repeated, over) in due {
        tracing::error!(
            error.class = class,
            error.origin = origin,
            error.cause_chain = %cause,
            repeated,
            over_ms = u64::try_from(over.as_millis()).unwrap_or(u64::MAX),
            "{event} again"
        );
    }
}

/// A kind, how many times it repeated, over how long.
type Repeated = (Kind, u64, Duration);

/// Which failures to write and which to count, by kind and interval; the
/// decisions without the writing, so they can be tested with any clock.
struct Repeats {
    interval: Duration,
    kinds: HashMap<Kind, Window>,
}

struct Window {
    started: Instant,
    repeated: u64,
}

impl Repeats {
    fn new(interval: Duration) -> Self {
        Self {
            interval,
            kinds: HashMap::new(),
        }
    }

    /// Notes a failure; true when it is to be written in full.
    fn note(&mut self, kind: Kind, now: Instant) -> bool {
        if let Some(window) = self.kinds.get_mut(&kind) {
            window.repeated += 1;
            return false;
        }
        if self.kinds.len() < MAX_KINDS {
            self.kinds.insert(
                kind,
                Window {
                    started: now,
                    repeated: 0,
                },
            );
        }
        true
    }

    /// Ends every interval that is over: the kinds that repeated in it,
    /// with their counts (and a new interval begins for them); kinds that
    /// did not are forgotten.
    fn due(&mut self, now: Instant) -> Vec<Repeated> {
        let interval = self.interval;
        let mut due = Vec::new();
        self.kinds.retain(|kind, window| {
            let over = now.saturating_duration_since(window.started);
            if over < interval {
                return true;
            }
            if window.repeated == 0 {
                return false;
            }
            due.push((kind.clone(), window.repeated, over));
            window.started = now;
            window.repeated = 0;
            true
        });
        due
    }

    /// Ends every interval now.
    fn drain(&mut self) -> Vec<Repeated> {
        let now = Instant::now();
        self.kinds
            .drain()
            .filter(|(_, window)| window.repeated > 0)
            .map(|(kind, window)| {
                let over = now.saturating_duration_since(window.started);
                (kind, window.repeated, over)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(cause: &str) -> Kind {
        (
            "request",
            "request failed",
            "out_of_space",
            cause.to_owned(),
        )
    }

    #[test]
    fn the_first_failure_is_written_and_its_repeats_counted_once_per_interval() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut repeats = Repeats::new(Duration::from_secs(10));

        let written: Vec<bool> = (0..1000)
            .map(|i| repeats.note(kind("disk full"), start + second * i / 100))
            .collect();
        let after_nine = repeats.due(start + second * 9);
        let after_ten = repeats.due(start + second * 10);

        assert_eq!(written.iter().filter(|w| **w).count(), 1);
        assert!(written[0]);
        assert!(after_nine.is_empty(), "an interval ended early");
        assert_eq!(after_ten.len(), 1);
        assert_eq!(after_ten[0].1, 999, "every repeat is counted, exactly");
    }

    #[test]
    fn different_causes_are_different_kinds() {
        let now = Instant::now();
        let mut repeats = Repeats::new(Duration::from_secs(10));

        assert!(repeats.note(kind("disk full"), now));
        assert!(repeats.note(kind("disk I/O error"), now));
        assert!(!repeats.note(kind("disk full"), now));
    }

    #[test]
    fn a_kind_quiet_for_a_whole_interval_is_written_in_full_again() {
        let start = Instant::now();
        let interval = Duration::from_secs(10);
        let mut repeats = Repeats::new(interval);
        repeats.note(kind("disk full"), start);
        repeats.note(kind("disk full"), start);

        let first = repeats.due(start + interval);
        let quiet = repeats.due(start + interval * 2);
        let again = repeats.note(kind("disk full"), start + interval * 2);

        assert_eq!(first.len(), 1);
        assert!(quiet.is_empty());
        assert!(again, "a failure after a quiet interval is news");
    }

    #[test]
    fn a_flush_writes_every_count_held() {
        let now = Instant::now();
        let mut repeats = Repeats::new(Duration::from_secs(10));
        for _ in 0..5 {
            repeats.note(kind("disk full"), now);
        }
        repeats.note(kind("once"), now);

        let drained = repeats.drain();

        assert_eq!(drained.len(), 1);
        assert_eq!(drained[0].1, 4);
        assert!(repeats.kinds.is_empty());
    }

    #[test]
    fn every_failure_is_counted_by_class_and_origin() {
        let registry = Registry::new();
        let log = ErrorLog::new(&registry, Duration::from_secs(10)).unwrap();

        for _ in 0..3 {
            log.record("request", "request failed", "out_of_space", &"disk full");
        }
        log.record("ledger", "usage batch failed", "unavailable", &"gone");

        let count =
            |class: &str, origin: &str| log.inner.counter.with_label_values(&[class, origin]).get();
        assert_eq!(count("out_of_space", "request"), 3);
        assert_eq!(count("unavailable", "ledger"), 1);
    }
}
