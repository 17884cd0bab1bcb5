//! The delivery read model: what a delivery is decided on, kept in memory
//! between requests (a client's standing, a licensee's entitlement, and an
//! article with its photos and publisher, [`StoredArticle`]), and how it is
//! kept fresh. Facts are cached, never decisions: every request decides
//! afresh at its own instant, so an embargo that lifts or photo rights that
//! end take effect by themselves.
//!
//! Freshness, all of it in this module. Every change to the tables these facts
//! come from moves the database's change counter and logs what it touched
//! (an article, a photo, a publisher, a licensee, a client) in the change's
//! own transaction (`storage::changes`). The cache has seen the log up to a
//! value of the counter (`seen`): every entry in it is current as of that
//! value. Reading the log after it ([`FactCache::poll`], and whenever facts
//! are read from the database) drops exactly the entries the changes touch
//! (an article: that article; a photo: the articles that show it; a
//! publisher: its articles; a licensee, or one of its licences: its
//! entitlement and the standings of its clients; a client: its standing),
//! or everything, when the log no longer reaches back to `seen`. A change to
//! one article never drops another.
//!
//! Each delivery carries what it depended on ([`Depends`]: `seen`, the
//! client, the licensee, the article, its publisher and photos), and
//! [`on_fresh_facts`] runs one delivery attempt on it:
//! - a delivery that writes is checked by the usage writer and answered
//!   `Recorded::Stale` only if one of its own items changed
//!   ([`Attempt::Stale`]): the synchronous ledger reads the log after its
//!   `seen` inside the transaction that records it; the journal checks it
//!   against the changes this cache has applied since (kept in a window,
//!   [`Recent`]), and refuses every delivery while the cache was last
//!   confirmed current longer than the freshness bound ago;
//! - a refusal writes nothing, so the log after its `seen` is read before
//!   the refusal stands, and it stands unless one of its items changed
//!   ([`Attempt::Refused`]);
//!
//! and either way the cache applies the changes and the attempt is made
//! again on fresh facts, a few times at most (each time counted in
//! `syndicate_delivery_redecisions_total`). So a revoked client, a
//! suspended licensee, a changed licence or photo and a killed article take
//! effect on the next request on the node that made the change (it reads
//! the log before it answers the write), and on every other node on the
//! next request (synchronous ledger) or within the freshness bound
//! (journal); and a write elsewhere delays no delivery.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use prometheus::{IntCounter, Registry};

use super::entitlement::Entitlement;
use super::stored::StoredArticle;
use crate::domain::LicenseeId;
use crate::storage::changes::{self, Change, Confirmed, Content, Depends, Kind, Log, Recent};
use crate::storage::clients::ClientStanding;
use crate::storage::{DbConnection, StorageError};

mod fresh;

pub use fresh::{Attempt, gather, load, on_fresh_facts};

/// Most clients or licensees kept; the cache starts over beyond.
const MAX_PARTIES: usize = 10_000;
/// What an entry costs beside its text, in bytes (maps, rows, allocations).
const ENTRY_OVERHEAD: usize = 1024;

/// Everything one delivery is decided on, all current at one value of the
/// change counter.
pub struct Facts {
    /// The calling client's standing.
    pub standing: ClientStanding,
    /// The licensee and its licences.
    pub entitlement: Arc<Entitlement>,
    /// The article, or `None` if there is no such article.
    pub article: Option<Arc<StoredArticle>>,
    /// What a decision on these facts depends on, with the counter they are
    /// current at: the usage writer checks it.
    pub depends: Arc<Depends>,
}

impl Facts {
    /// The facts of one delivery (`client` for `licensee`, of `article`),
    /// current at `seen`, with what a decision on them depends on.
    fn current_at(
        seen: i64,
        (client, licensee, article): (&str, LicenseeId, &str),
        standing: ClientStanding,
        entitlement: Arc<Entitlement>,
        stored: Option<Arc<StoredArticle>>,
    ) -> Self {
        let licensee = licensee.to_string();
        let depends = Arc::new(Depends {
            seen,
            client: client.to_owned(),
            standing_licensee: standing
                .licensee_id
                .as_ref()
                .filter(|l| **l != licensee)
                .cloned(),
            licensee,
            content: stored.as_ref().map_or_else(
                || {
                    Arc::new(Content {
                        article: article.to_owned(),
                        ..Content::default()
                    })
                },
                |s| s.content.clone(),
            ),
        });
        Self {
            standing,
            entitlement,
            article: stored,
            depends,
        }
    }

    /// The change counter these facts are current at.
    pub fn seen(&self) -> i64 {
        self.depends.seen
    }
}

/// Ids of cached articles by something they show or name (a photo, a
/// publisher), so a change to it finds them without a scan.
#[derive(Default)]
struct Index(HashMap<String, HashSet<String>>);

impl Index {
    fn add(&mut self, key: &str, article: &str) {
        self.0
            .entry(key.to_owned())
            .or_default()
            .insert(article.to_owned());
    }

    fn remove(&mut self, key: &str, article: &str) {
        if let Some(articles) = self.0.get_mut(key) {
            articles.remove(article);
            if articles.is_empty() {
                self.0.remove(key);
            }
        }
    }

    fn take(&mut self, key: &str) -> HashSet<String> {
        self.0.remove(key).unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    /// The change counter every entry is current at; 0 before the first read.
    seen: i64,
    standing: HashMap<String, ClientStanding>,
    entitlements: HashMap<LicenseeId, Arc<Entitlement>>,
    articles: HashMap<String, (Option<Arc<StoredArticle>>, usize)>,
    /// Cached articles by the photos they refer to.
    by_photo: Index,
    /// Cached articles by publisher.
    by_publisher: Index,
    /// Estimated bytes of `articles`.
    article_bytes: usize,
    /// The changes applied lately, up to `seen`, to check decisions made
    /// on facts read before them.
    recent: Recent,
}

impl Inner {
    /// Everything dropped, current at `seen`.
    fn emptied(seen: i64) -> Self {
        Self {
            seen,
            recent: Recent::at(seen),
            ..Self::default()
        }
    }

    fn insert_article(&mut self, id: &str, stored: Option<Arc<StoredArticle>>, weight: usize) {
        self.remove_article(id);
        if let Some(content) = stored.as_ref().map(|s| &s.content) {
            for photo in &content.photos {
                self.by_photo.add(photo, id);
            }
            if let Some(publisher) = &content.publisher {
                self.by_publisher.add(publisher, id);
            }
        }
        self.articles.insert(id.to_owned(), (stored, weight));
        self.article_bytes += weight;
    }

    fn remove_article(&mut self, id: &str) {
        let Some((stored, weight)) = self.articles.remove(id) else {
            return;
        };
        self.article_bytes = self.article_bytes.saturating_sub(weight);
        if let Some(content) = stored.as_ref().map(|s| &s.content) {
            for photo in &content.photos {
                self.by_photo.remove(photo, id);
            }
            if let Some(publisher) = &content.publisher {
                self.by_publisher.remove(publisher, id);
            }
        }
    }

    /// Brings the cache to `log.current`: drops what the changes after
    /// `seen` touch, or everything if the log does not reach back to `seen`.
    /// A log older than the cache changes nothing.
    fn apply(&mut self, log: &Log) {
        if log.current <= self.seen {
            return;
        }
        // The window outlives an emptying: a decision made before it must
        // still meet the changes that caused it.
        let mut recent = std::mem::take(&mut self.recent);
        recent.extend(log);
        if log.covers(self.seen) {
            for change in log.after(self.seen) {
                self.forget(change);
            }
            self.seen = log.current;
        } else {
            *self = Self::emptied(log.current);
        }
        self.recent = recent;
    }

    /// Drops the entries one change touches.
    fn forget(&mut self, change: &Change) {
        let item = change.item.as_str();
        match change.kind {
            Kind::Article => self.remove_article(item),
            Kind::Photo => {
                for article in self.by_photo.take(item) {
                    self.remove_article(&article);
                }
            }
            Kind::Publisher => {
                for article in self.by_publisher.take(item) {
                    self.remove_article(&article);
                }
            }
            Kind::Licensee => {
                if let Ok(licensee) = item.parse::<LicenseeId>() {
                    self.entitlements.remove(&licensee);
                }
                self.standing
                    .retain(|_, standing| standing.licensee_id.as_deref() != Some(item));
            }
            Kind::Client => {
                self.standing.remove(item);
            }
            Kind::Unknown => *self = Self::emptied(self.seen),
        }
    }
}

/// The in-memory facts of this node, within a memory budget.
pub struct FactCache {
    inner: RwLock<Inner>,
    budget: usize,
    /// When the cache was last known current: the instant a read of the
    /// change log began whose changes it has applied.
    confirmed: Mutex<Option<Instant>>,
    /// Deliveries decided again because their facts changed under them.
    redecisions: AtomicU64,
    /// The same, in `/metrics` once registered.
    exported: OnceLock<IntCounter>,
}

impl std::fmt::Debug for FactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactCache").finish_non_exhaustive()
    }
}

impl Confirmed for FactCache {
    fn confirmed_at(&self) -> Option<Instant> {
        FactCache::confirmed_at(self)
    }

    fn changed_since(&self, depends: &Depends) -> Option<i64> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.recent.touches(depends).then_some(inner.seen)
    }
}

/// What a lookup lacked, to read from the database.
#[derive(Debug, Default)]
pub struct Missing {
    standing: bool,
    entitlement: bool,
    article: bool,
}

/// Facts read from the database after the counter and the changes since
/// the cache's `seen`: current at least at `log.current`.
pub struct Loaded {
    log: Log,
    standing: Option<ClientStanding>,
    entitlement: Option<Arc<Entitlement>>,
    article: Option<Option<Arc<StoredArticle>>>,
}

impl FactCache {
    /// A cache that keeps about `budget` bytes of articles.
    pub fn new(budget: usize) -> Self {
        Self {
            inner: RwLock::default(),
            budget,
            confirmed: Mutex::new(None),
            redecisions: AtomicU64::new(0),
            exported: OnceLock::new(),
        }
    }

    /// Reports `syndicate_delivery_redecisions_total` in `registry` (once).
    pub fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        let counter = IntCounter::new(
            "syndicate_delivery_redecisions_total",
            "Deliveries decided again because something they depended on changed while they were decided",
        )?;
        counter.inc_by(self.redecisions());
        registry.register(Box::new(counter.clone()))?;
        let _ = self.exported.set(counter);
        Ok(())
    }

    /// Deliveries decided again so far because their facts changed.
    pub fn redecisions(&self) -> u64 {
        self.redecisions.load(Ordering::Relaxed)
    }

    /// Counts one delivery decided again.
    fn redecided(&self) {
        self.redecisions.fetch_add(1, Ordering::Relaxed);
        if let Some(counter) = self.exported.get() {
            counter.inc();
        }
    }

    /// The change counter the cache is current at (0: never read).
    pub fn seen(&self) -> i64 {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .seen
    }

    /// How many articles (or their absence) are cached.
    pub fn articles_cached(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .articles
            .len()
    }

    /// When the cache was last confirmed current: every change committed
    /// before this instant has been applied. `None` before the first read.
    pub fn confirmed_at(&self) -> Option<Instant> {
        *self
            .confirmed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the change log after what the cache has seen and applies it
    /// ([`FactCache::apply`]): one indexed read of the change counter when
    /// nothing changed. Blocks on the database: call it from a blocking
    /// thread. On success the cache is confirmed current as of the instant
    /// the read began ([`FactCache::confirmed_at`]); returns the counter it
    /// is now current at.
    pub fn poll(&self, conn: &mut DbConnection) -> Result<i64, StorageError> {
        let seen = self.seen();
        let log = changes::after(conn, seen)?;
        if log.current < seen {
            // The database went back (a restore): nothing kept is known to
            // be current, and every decision on it is out of date.
            tracing::warn!(
                seen,
                current = log.current,
                "the change counter went back; the fact cache starts over"
            );
            *self.inner.write().unwrap_or_else(PoisonError::into_inner) =
                Inner::emptied(log.current);
        }
        self.apply(&log);
        Ok(log.current)
    }

    /// Drops what the changes in `log` touch, or everything if `log` does
    /// not reach back to what the cache has seen, and records the
    /// confirmation. `log` must be the changes after some value the cache
    /// has seen up to the counter (as [`changes::after`] reads them).
    pub fn apply(&self, log: &Log) {
        if log.current > self.seen() {
            self.inner
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(log);
        }
        let mut confirmed = self
            .confirmed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if confirmed.is_none_or(|at| at < log.read_at) {
            *confirmed = Some(log.read_at);
        }
    }

    /// The facts for one delivery if all are cached, or what is missing.
    pub fn lookup(
        &self,
        client: &str,
        licensee: LicenseeId,
        article: &str,
    ) -> Result<Facts, Missing> {
        let (seen, standing, entitlement, stored) = {
            let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
            let standing = inner.standing.get(client);
            let entitlement = inner.entitlements.get(&licensee);
            let stored = inner.articles.get(article);
            match (standing, entitlement, stored) {
                (Some(standing), Some(entitlement), Some(stored)) if inner.seen > 0 => (
                    inner.seen,
                    standing.clone(),
                    entitlement.clone(),
                    stored.0.clone(),
                ),
                _ => {
                    return Err(Missing {
                        standing: standing.is_none(),
                        entitlement: entitlement.is_none(),
                        article: stored.is_none(),
                    });
                }
            }
        };
        Ok(Facts::current_at(
            seen,
            (client, licensee, article),
            standing,
            entitlement,
            stored,
        ))
    }

    /// Keeps what was read. Facts read at an older counter than the
    /// cache's are dropped; facts read at a newer one first bring the cache
    /// to it (the changes read with them are applied).
    pub fn keep(&self, client: &str, licensee: LicenseeId, article: &str, loaded: &Loaded) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if loaded.log.current < inner.seen {
            return;
        }
        inner.apply(&loaded.log);
        if inner.standing.len() >= MAX_PARTIES || inner.entitlements.len() >= MAX_PARTIES {
            inner.standing.clear();
            inner.entitlements.clear();
        }
        if let Some(standing) = &loaded.standing {
            inner.standing.insert(client.to_owned(), standing.clone());
        }
        if let Some(entitlement) = &loaded.entitlement {
            inner.entitlements.insert(licensee, entitlement.clone());
        }
        if let Some(stored) = &loaded.article {
            let weight = stored.as_deref().map_or(0, StoredArticle::weight) + ENTRY_OVERHEAD;
            inner.insert_article(article, stored.clone(), weight);
            self.keep_within_budget(&mut inner, article);
        }
        drop(inner);
        let mut confirmed = self
            .confirmed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if confirmed.is_none_or(|at| at < loaded.log.read_at) {
            *confirmed = Some(loaded.log.read_at);
        }
    }

    /// Adds `bytes` to what `article` is charged, if it is still the cached
    /// `stored` (a body rendered from it was kept), and drops articles when
    /// the budget is exceeded.
    pub fn charge(&self, article: &str, stored: &Arc<StoredArticle>, bytes: isize) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Some((Some(cached), weight)) = inner.articles.get_mut(article) else {
            return;
        };
        if !Arc::ptr_eq(cached, stored) {
            return;
        }
        *weight = weight.saturating_add_signed(bytes);
        inner.article_bytes = inner.article_bytes.saturating_add_signed(bytes);
        self.keep_within_budget(&mut inner, article);
    }

    /// Over the budget, drops articles (all but `spared`) down to nine
    /// tenths of it.
    fn keep_within_budget(&self, inner: &mut Inner, spared: &str) {
        if inner.article_bytes > self.budget {
            evict(inner, self.budget / 10 * 9, spared);
        }
    }
}

/// Drops articles in the map's (random) order until `target` bytes
/// remain, all but `spared`, the one just read.
fn evict(inner: &mut Inner, target: usize, spared: &str) {
    let mut dropped = Vec::new();
    let mut bytes = inner.article_bytes;
    for (id, (_, weight)) in &inner.articles {
        if bytes <= target {
            break;
        }
        if id == spared {
            continue;
        }
        bytes = bytes.saturating_sub(*weight);
        dropped.push(id.clone());
    }
    for id in dropped {
        inner.remove_article(&id);
    }
}

#[cfg(test)]
mod tests;
