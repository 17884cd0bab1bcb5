//! The delivery read model: what a delivery is decided on, kept in memory
//! between requests (a client's standing, a licensee's entitlement, and an
//! article with its photos and publisher, [`StoredArticle`]), and how it is
//! kept fresh. Facts are cached, never decisions: every request decides
//! afresh at its own instant, so an embargo that lifts or photo rights that
//! end take effect by themselves.
//!
//! Freshness, all of it in this file. Every change to the tables these facts
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
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use prometheus::{IntCounter, Registry};

use super::DeliveryError;
use super::document::CorrectionNote;
use super::entitlement::Entitlement;
use super::stored::StoredArticle;
use super::stored::media_refs;
use crate::domain::LicenseeId;
use crate::identity::caller::read_standing;
use crate::storage::articles::{self, ArticleRow};
use crate::storage::changes::{self, Change, Confirmed, Content, Depends, Kind, Log, Recent};
use crate::storage::clients::ClientStanding;
use crate::storage::{self, DbConnection, Pool, StorageError, media, organisations, versions};

/// How often a delivery is decided again when its facts changed under it
/// before it gives up with [`DeliveryError::KeptChanging`].
const ATTEMPTS: usize = 4;
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
    /// The change counter these facts are current at.
    pub fn seen(&self) -> i64 {
        self.depends.seen
    }
}

/// What one delivery depends on, for facts current at `seen`.
fn depends(
    seen: i64,
    client: &str,
    licensee: LicenseeId,
    article: &str,
    standing: &ClientStanding,
    stored: Option<&StoredArticle>,
) -> Arc<Depends> {
    let licensee = licensee.to_string();
    Arc::new(Depends {
        seen,
        client: client.to_owned(),
        standing_licensee: standing
            .licensee_id
            .as_ref()
            .filter(|l| **l != licensee)
            .cloned(),
        licensee,
        content: stored.map_or_else(
            || {
                Arc::new(Content {
                    article: article.to_owned(),
                    ..Content::default()
                })
            },
            |s| s.content.clone(),
        ),
    })
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
        Ok(Facts {
            depends: depends(
                seen,
                client,
                licensee,
                article,
                &standing,
                stored.as_deref(),
            ),
            standing,
            entitlement,
            article: stored,
        })
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

/// What one delivery attempt came to, for [`on_fresh_facts`].
pub enum Attempt<T> {
    /// Delivered (or refused by the ledger, as over quota) on facts the
    /// usage writer found current.
    Done(T),
    /// Refused on these facts, before anything was written: it stands only
    /// if none of the items it depended on changed since they were read.
    Refused(DeliveryError),
    /// The usage writer found that one of the items the facts came from
    /// changed since they were read: nothing was written.
    Stale,
}

/// Runs `attempt` on the facts for one delivery (see the module
/// documentation), with the attempt's number, until it is done on current
/// facts, or gives up after a few tries.
pub async fn on_fresh_facts<T, F, Fut>(
    pool: &Pool,
    cache: &FactCache,
    client: &str,
    licensee: LicenseeId,
    article: &str,
    mut attempt: F,
) -> Result<T, DeliveryError>
where
    F: FnMut(Facts, usize) -> Fut,
    Fut: Future<Output = Result<Attempt<T>, DeliveryError>>,
{
    for number in 0..ATTEMPTS {
        let facts = gather(pool, cache, client, licensee, article).await?;
        let depends = facts.depends.clone();
        match attempt(facts, number).await? {
            Attempt::Done(done) => return Ok(done),
            Attempt::Refused(refusal) => {
                let seen = depends.seen;
                let log = storage::blocking(pool, move |conn| changes::after(conn, seen)).await?;
                cache.apply(&log);
                if !log.touches(&depends) {
                    return Err(refusal);
                }
            }
            Attempt::Stale => {
                let log = storage::blocking(pool, {
                    let seen = cache.seen();
                    move |conn| changes::after(conn, seen)
                })
                .await?;
                cache.apply(&log);
            }
        }
        cache.redecided();
    }
    Err(DeliveryError::KeptChanging)
}

/// The facts for one delivery: from memory when all are there, else read
/// from the database (only what is missing) and kept.
pub async fn gather(
    pool: &Pool,
    cache: &FactCache,
    client: &str,
    licensee: LicenseeId,
    article: &str,
) -> Result<Facts, DeliveryError> {
    let missing = match cache.lookup(client, licensee, article) {
        Ok(facts) => return Ok(facts),
        Err(missing) => missing,
    };
    let loaded = read(pool, cache.seen(), missing, client, licensee, article).await?;
    cache.keep(client, licensee, article, &loaded);
    if let Ok(facts) = cache.lookup(client, licensee, article) {
        return Ok(facts);
    }
    // The cache moved past what was read: read everything at one counter.
    let everything = Missing {
        standing: true,
        entitlement: true,
        article: true,
    };
    let loaded = read(pool, cache.seen(), everything, client, licensee, article).await?;
    cache.keep(client, licensee, article, &loaded);
    match loaded {
        Loaded {
            log,
            standing: Some(standing),
            entitlement: Some(entitlement),
            article: Some(stored),
        } => Ok(Facts {
            depends: depends(
                log.current,
                client,
                licensee,
                article,
                &standing,
                stored.as_deref(),
            ),
            standing,
            entitlement,
            article: stored,
        }),
        _ => Err(DeliveryError::internal(
            "facts read in full came back partial",
        )),
    }
}

async fn read(
    pool: &Pool,
    since: i64,
    missing: Missing,
    client: &str,
    licensee: LicenseeId,
    article: &str,
) -> Result<Loaded, DeliveryError> {
    let (client, article) = (client.to_owned(), article.to_owned());
    storage::blocking(pool, move |conn| {
        load(conn, since, &missing, &client, licensee, &article)
    })
    .await
}

/// Reads what `missing` names, after reading the counter and the changes
/// after `since` (the cache's `seen`), all in one snapshot
/// (`storage::in_snapshot`): the facts are as of the counter they are
/// stamped with, and the cache can be brought to it.
pub fn load(
    conn: &mut DbConnection,
    since: i64,
    missing: &Missing,
    client: &str,
    licensee: LicenseeId,
    article: &str,
) -> Result<Loaded, DeliveryError> {
    storage::in_snapshot(conn, |conn| {
        let log = changes::after(conn, since)?;
        let standing = if missing.standing {
            Some(read_standing(conn, client)?)
        } else {
            None
        };
        let entitlement = if missing.entitlement {
            Some(Arc::new(Entitlement::load(conn, licensee)?))
        } else {
            None
        };
        let article = if missing.article {
            Some(match articles::find(conn, None, article) {
                Ok(row) => Some(Arc::new(stored_article(conn, row)?)),
                Err(StorageError::NotFound) => None,
                Err(other) => return Err(other.into()),
            })
        } else {
            None
        };
        Ok(Loaded {
            log,
            standing,
            entitlement,
            article,
        })
    })
}

fn stored_article(conn: &mut DbConnection, row: ArticleRow) -> Result<StoredArticle, StorageError> {
    let ids: Vec<String> = media_refs(&row)?
        .iter()
        .map(|r| r.media_id.hyphenated().to_string())
        .collect();
    let photos = media::find_many(conn, &ids)?;
    let publisher_name = organisations::find_publisher(conn, &row.publisher_id)?.name;
    let corrections: Vec<_> = versions::corrections(conn, &row.id)?
        .into_iter()
        .map(|c| CorrectionNote {
            version: c.version,
            corrected_at: c.created_at.and_utc(),
            note: c.change_note.unwrap_or_default(),
        })
        .collect();
    StoredArticle::new(row, &photos, publisher_name, &corrections)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use bytes::Bytes;

    use super::*;
    use crate::delivery::document::Format;
    use crate::domain::LicenseeStatus;
    use crate::domain::access::{Grant, LicenseeFacts};

    /// A log read after `since` up to `current`.
    fn log(since: i64, current: i64, changes: &[(i64, Kind, &str)]) -> Log {
        let changes = changes
            .iter()
            .map(|(seq, kind, item)| Change {
                seq: *seq,
                kind: *kind,
                item: (*item).to_owned(),
            })
            .collect();
        Log::new(since, current, changes, Instant::now())
    }

    fn unknown_article(seen: i64) -> Loaded {
        Loaded {
            log: log(seen, seen, &[]),
            standing: None,
            entitlement: None,
            article: Some(None),
        }
    }

    #[test]
    fn articles_stay_within_the_budget() {
        let cache = FactCache::new(10 * ENTRY_OVERHEAD);
        let licensee = LicenseeId(uuid::Uuid::nil());

        for n in 0..100 {
            cache.keep(
                "client",
                licensee,
                &format!("article-{n}"),
                &unknown_article(7),
            );
        }

        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        assert!(
            inner.article_bytes <= 10 * ENTRY_OVERHEAD,
            "{}",
            inner.article_bytes
        );
        assert_eq!(inner.article_bytes, inner.articles.len() * ENTRY_OVERHEAD);
        assert!(
            inner.articles.contains_key("article-99"),
            "the newest stays"
        );
    }

    /// An article of `publisher` that shows `photos`, with its own id.
    fn stored_of(id: &str, publisher: &str, photos: &[&str]) -> Arc<StoredArticle> {
        let mut row = ArticleRow::sample(id, "x");
        row.publisher_id = publisher.to_owned();
        let refs: Vec<String> = photos
            .iter()
            .map(|p| format!(r#"{{"media_id": "{p}", "role": "main"}}"#))
            .collect();
        row.media = format!("[{}]", refs.join(","));
        Arc::new(StoredArticle::new(row, &[], "A publisher".to_owned(), &[]).unwrap())
    }

    /// An article whose row has an id of its own (the cache's key is
    /// whatever the test keeps it under).
    fn stored(body: &str) -> Arc<StoredArticle> {
        let row = ArticleRow::sample(&uuid::Uuid::now_v7().to_string(), body);
        Arc::new(StoredArticle::new(row, &[], "A publisher".to_owned(), &[]).unwrap())
    }

    fn loaded(seen: i64, article: &Arc<StoredArticle>) -> Loaded {
        Loaded {
            log: log(seen, seen, &[]),
            standing: None,
            entitlement: None,
            article: Some(Some(article.clone())),
        }
    }

    #[test]
    fn rendered_bodies_are_charged_to_the_budget_and_push_older_articles_out() {
        let cache = FactCache::new(64 * 1024);
        let licensee = LicenseeId(uuid::Uuid::nil());
        let grant = Grant {
            licence_id: "licence".to_owned(),
            tier: crate::domain::access::Tier::Full,
            purpose: crate::domain::purpose::Purpose::Display,
            attribution_required: false,
            delivered: Vec::new(),
            withheld: Vec::new(),
        };
        let bytes = |cache: &FactCache| {
            cache
                .inner
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .article_bytes
        };
        let first = stored("x");
        cache.keep("client", licensee, "first", &loaded(3, &first));
        let before = bytes(&cache);

        let body = Bytes::from(vec![b'y'; 40 * 1024]);
        let added = first.keep_rendered(&grant, Format::Ninjs, Some(&body), "\"tag\"");
        cache.charge("first", &first, added);
        assert!(bytes(&cache) >= before + 40 * 1024, "{}", bytes(&cache));

        // A copy of the article that is no longer the cached one is not charged.
        let stale = stored("x");
        cache.charge("first", &stale, 1 << 20);
        assert!(bytes(&cache) < 64 * 1024);

        // The next article's body takes the cache over its budget: the
        // older article goes, the newer stays.
        let second = stored("x");
        cache.keep("client", licensee, "second", &loaded(3, &second));
        let added = second.keep_rendered(&grant, Format::Ninjs, Some(&body), "\"tag\"");
        cache.charge("second", &second, added);
        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        assert!(inner.article_bytes <= 64 * 1024, "{}", inner.article_bytes);
        assert!(inner.articles.contains_key("second") && !inner.articles.contains_key("first"));
    }

    #[test]
    fn facts_read_at_an_older_counter_are_not_kept_and_a_newer_one_applies_the_changes_between() {
        let cache = FactCache::new(1 << 20);
        let licensee = LicenseeId(uuid::Uuid::nil());
        cache.keep("client", licensee, "a", &unknown_article(5));
        cache.keep("client", licensee, "b", &unknown_article(5));

        cache.keep("client", licensee, "old", &unknown_article(4));
        assert!(!cache.inner.read().unwrap().articles.contains_key("old"));
        let newer = Loaded {
            log: log(5, 6, &[(6, Kind::Article, "a")]),
            ..unknown_article(6)
        };
        cache.keep("client", licensee, "new", &newer);

        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(inner.seen, 6);
        assert!(inner.articles.contains_key("new") && inner.articles.contains_key("b"));
        assert!(!inner.articles.contains_key("a"), "changed at 6");
    }

    const L1: &str = "019ac0a4-0000-7000-8000-000000000001";
    const L2: &str = "019ac0a4-0000-7000-8000-000000000002";
    const PHOTO: &str = "019ac0a4-0000-7000-8000-0000000000f1";
    const A1: &str = "019ac0a4-0000-7000-8000-0000000000a1";
    const A2: &str = "019ac0a4-0000-7000-8000-0000000000a2";
    const A3: &str = "019ac0a4-0000-7000-8000-0000000000a3";
    const A4: &str = "019ac0a4-0000-7000-8000-0000000000a4";
    const P1: &str = "019ac0a4-0000-7000-8000-0000000000b1";
    const P2: &str = "019ac0a4-0000-7000-8000-0000000000b2";

    fn entitlement(id: &str) -> Arc<Entitlement> {
        Arc::new(Entitlement {
            licensee: LicenseeFacts {
                id: id.parse().unwrap(),
                status: LicenseeStatus::Active,
                territories: Vec::new(),
            },
            licences: Vec::new(),
            rows: Vec::new(),
        })
    }

    fn standing(licensee: &str) -> ClientStanding {
        ClientStanding {
            revoked_at: None,
            licensee_status: Some(LicenseeStatus::Active),
            licensee_id: Some(licensee.to_owned()),
        }
    }

    /// A cache current at 10 with two clients of two licensees and four
    /// articles of two publishers, two of them showing the same photo.
    fn filled() -> FactCache {
        let cache = FactCache::new(1 << 20);
        for (client, licensee) in [("client-1", L1), ("client-2", L2)] {
            let loaded = Loaded {
                log: log(10, 10, &[]),
                standing: Some(standing(licensee)),
                entitlement: Some(entitlement(licensee)),
                article: None,
            };
            cache.keep(client, licensee.parse().unwrap(), "", &loaded);
        }
        for (id, publisher, photos) in [
            (A1, P1, &[PHOTO][..]),
            (A2, P1, &[][..]),
            (A3, P2, &[PHOTO][..]),
            (A4, P2, &[][..]),
        ] {
            let loaded = loaded(10, &stored_of(id, publisher, photos));
            cache.keep("client-1", L1.parse().unwrap(), id, &loaded);
        }
        cache
    }

    /// What is cached: article ids, client ids and licensee ids, sorted.
    fn cached(cache: &FactCache) -> (Vec<String>, Vec<String>, Vec<String>) {
        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        (
            sorted(inner.articles.keys().cloned().collect()),
            sorted(inner.standing.keys().cloned().collect()),
            sorted(inner.entitlements.keys().map(ToString::to_string).collect()),
        )
    }

    #[test]
    fn a_change_drops_exactly_what_it_touches() {
        let all_articles = [A1, A2, A3, A4];
        // A change, and the articles, clients and licensees left.
        type Case<'a> = (Kind, &'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
        let cases: [Case<'_>; 9] = [
            (
                Kind::Article,
                A2,
                &[A1, A3, A4],
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (
                Kind::Article,
                "elsewhere",
                &all_articles,
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (
                Kind::Photo,
                PHOTO,
                &[A2, A4],
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (
                Kind::Photo,
                "another photo",
                &all_articles,
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (
                Kind::Publisher,
                P2,
                &[A1, A2],
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (Kind::Licensee, L2, &all_articles, &["client-1"], &[L1]),
            (
                Kind::Client,
                "client-1",
                &all_articles,
                &["client-2"],
                &[L1, L2],
            ),
            (
                Kind::Client,
                "client-3",
                &all_articles,
                &["client-1", "client-2"],
                &[L1, L2],
            ),
            (Kind::Unknown, "anything", &[], &[], &[]),
        ];
        for (kind, item, articles, clients, licensees) in cases {
            let cache = filled();

            cache.apply(&log(10, 11, &[(11, kind, item)]));

            let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            assert_eq!(
                cached(&cache),
                (owned(articles), owned(clients), owned(licensees)),
                "{kind:?} {item}"
            );
            assert_eq!(cache.seen(), 11);
        }
    }

    #[test]
    fn changes_the_cache_has_seen_are_not_applied_again() {
        let cache = filled();

        cache.apply(&log(
            8,
            10,
            &[(9, Kind::Article, A1), (10, Kind::Client, "client-1")],
        ));

        assert_eq!(cache.articles_cached(), 4);
        assert_eq!(cache.seen(), 10);
    }

    #[test]
    fn a_cache_older_than_the_log_drops_everything() {
        let cache = filled();

        // The log now starts at 15: what changed at 11 to 14 is unknown.
        cache.apply(&log(10, 20, &[(15, Kind::Article, "elsewhere")]));

        assert_eq!(cached(&cache), (vec![], vec![], vec![]));
        assert_eq!(cache.seen(), 20);
        assert!(cache.confirmed_at().is_some());
    }

    #[test]
    fn a_dropped_article_leaves_nothing_in_the_indexes() {
        let cache = filled();

        cache.apply(&log(
            10,
            12,
            &[(11, Kind::Article, A1), (12, Kind::Article, A3)],
        ));

        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        assert!(inner.by_photo.0.is_empty());
        assert_eq!(inner.by_publisher.0.len(), 2);
    }
}
