//! The delivery read model: what a delivery is decided on, kept in memory
//! between requests (a client's standing, a licensee's entitlement, and an
//! article with its photos and publisher), and how it is kept fresh. Facts
//! are cached, never decisions: every request decides afresh at its own
//! instant, so an embargo that lifts or photo rights that end take effect by
//! themselves.
//!
//! Freshness, all of it in this file. Every change to the tables these facts
//! come from moves the database's change counter in the change's own
//! transaction (`storage::counter`). Cached facts carry the counter they
//! were read at, and [`on_fresh_facts`] runs one delivery attempt on them:
//! - a delivery that writes is checked by the usage writer, which compares
//!   the facts' counter with the database's inside the transaction that
//!   records it and answers `Recorded::Stale` if it moved
//!   ([`Attempt::Stale`]);
//! - a refusal writes nothing, so the counter is read again before the
//!   refusal stands ([`Attempt::Refused`]);
//!
//! and either way the cache is dropped and the attempt made again on fresh
//! facts, a few times at most. So a revoked client, a suspended licensee, a
//! changed licence or photo and a killed article all take effect on the
//! next request, on every node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use std::future::Future;

use bytes::Bytes;

use super::DeliveryError;
use super::document::Format;
use super::entitlement::Entitlement;
use super::prepared::Prepared;
use crate::domain::LicenseeId;
use crate::domain::access::{ArticleFacts, Grant, PhotoFacts};
use crate::domain::content::MediaRef;
use crate::identity::caller::read_standing;
use crate::storage::articles::{self, ArticleRow};
use crate::storage::clients::ClientStanding;
use crate::storage::media::{self, MediaRow};
use crate::storage::{self, DbConnection, Pool, StorageError, counter, facts, organisations};

/// How often a delivery is decided again when its facts changed under it
/// before it gives up with [`DeliveryError::KeptChanging`].
const ATTEMPTS: usize = 4;
/// Most clients or licensees kept; the cache starts over beyond.
const MAX_PARTIES: usize = 10_000;
/// What an entry costs beside its text, in bytes (maps, rows, allocations).
const ENTRY_OVERHEAD: usize = 1024;

/// An article as a delivery needs it.
#[derive(Debug)]
pub struct StoredArticle {
    /// The article, without its body's HTML and text (they are in
    /// `prepared`, escaped, and empty here).
    pub row: ArticleRow,
    /// Its parts as a delivery writes them, with its photos.
    pub prepared: Prepared,
    /// Its publisher's name (ninjs `copyrightholder`).
    pub publisher_name: String,
    /// The access decision's view of it, read once from `row`.
    pub facts: ArticleFacts,
    /// The decision's view of its photos, in the article's order.
    pub photo_facts: Vec<PhotoFacts>,
    /// What was rendered from it, by grant and format.
    rendered: Mutex<Vec<Rendered>>,
}

/// The `ETag` of one delivery of an article, and its body when kept.
#[derive(Debug)]
struct Rendered {
    grant: Grant,
    format: Format,
    body: Option<Bytes>,
    etag: String,
}

impl Rendered {
    /// Bytes it holds: its body, its `ETag` and its grant's photo lists.
    fn weight(&self) -> isize {
        let photos = self.grant.delivered.len() + self.grant.withheld.len();
        let body = self.body.as_ref().map_or(0, Bytes::len);
        isize::try_from(body + self.etag.len() + 32 * photos + 128).unwrap_or(isize::MAX)
    }
}

/// Most renderings kept per article (grants differ by licence).
const MAX_RENDERED: usize = 16;

impl StoredArticle {
    /// An article as read, with its photos (any order; those it names that
    /// do not exist are left out) and its publisher's name.
    pub fn new(
        mut row: ArticleRow,
        photos: &[MediaRow],
        publisher_name: String,
    ) -> Result<Self, StorageError> {
        let refs = media_refs(&row)?;
        let found: Vec<(&MediaRef, &MediaRow)> = refs
            .iter()
            .filter_map(|r| {
                let id = r.media_id.hyphenated().to_string();
                photos.iter().find(|p| p.id == id).map(|p| (r, p))
            })
            .collect();
        Ok(Self {
            facts: facts::article(&row)?,
            photo_facts: found
                .iter()
                .map(|(_, p)| facts::photo(p))
                .collect::<Result<_, _>>()?,
            prepared: Prepared::new(&mut row, &found)?,
            row,
            publisher_name,
            rendered: Mutex::default(),
        })
    }

    /// Estimated bytes it holds before anything is rendered from it (each
    /// rendering is charged when it is kept).
    fn weight(&self) -> usize {
        let row = &self.row;
        let text = row.headline.len()
            + row.standfirst.as_ref().map_or(0, String::len)
            + row.media.len()
            + row.bylines.len()
            + row.agency_credits.len()
            + row.tags.len()
            + row.related.len()
            + row.content_hash.len()
            + 512;
        text + self.prepared.weight() + 64 * self.photo_facts.len()
    }

    /// What was rendered for this grant and format: its `ETag`, and its
    /// body if that was kept.
    pub fn rendered(&self, grant: &Grant, format: Format) -> Option<(Option<Bytes>, String)> {
        self.rendered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|r| r.format == format && &r.grant == grant)
            .map(|r| (r.body.clone(), r.etag.clone()))
    }

    /// Keeps a rendering's `ETag`, and its body if given; returns the bytes
    /// it added (negative when the kept ones were dropped to make room).
    pub fn keep_rendered(
        &self,
        grant: &Grant,
        format: Format,
        body: Option<&Bytes>,
        etag: &str,
    ) -> isize {
        let mut rendered = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        let mut added = 0;
        if rendered.len() >= MAX_RENDERED {
            added -= rendered.iter().map(Rendered::weight).sum::<isize>();
            rendered.clear();
        }
        let kept = Rendered {
            grant: grant.clone(),
            format,
            body: body.cloned(),
            etag: etag.to_owned(),
        };
        added += kept.weight();
        rendered.push(kept);
        added
    }
}

/// Everything one delivery is decided on, all read at one counter value.
pub struct Facts {
    /// The change counter the facts were read at.
    pub generation: i64,
    /// The calling client's standing.
    pub standing: ClientStanding,
    /// The licensee and its licences.
    pub entitlement: Arc<Entitlement>,
    /// The article, or `None` if there is no such article.
    pub article: Option<Arc<StoredArticle>>,
}

#[derive(Default)]
struct Inner {
    generation: i64,
    standing: HashMap<String, ClientStanding>,
    entitlements: HashMap<LicenseeId, Arc<Entitlement>>,
    articles: HashMap<String, (Option<Arc<StoredArticle>>, usize)>,
    /// Estimated bytes of `articles`.
    article_bytes: usize,
}

/// The in-memory facts of this node, within a memory budget.
pub struct FactCache {
    inner: RwLock<Inner>,
    budget: usize,
}

impl std::fmt::Debug for FactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactCache").finish_non_exhaustive()
    }
}

/// What a lookup lacked, to read from the database.
#[derive(Debug, Default)]
pub struct Missing {
    standing: bool,
    entitlement: bool,
    article: bool,
}

/// Facts read from the database, stamped with the counter read first.
pub struct Loaded {
    generation: i64,
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
        }
    }

    /// The facts for one delivery if all are cached, or what is missing.
    pub fn lookup(
        &self,
        client: &str,
        licensee: LicenseeId,
        article: &str,
    ) -> Result<Facts, Missing> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let standing = inner.standing.get(client);
        let entitlement = inner.entitlements.get(&licensee);
        let stored = inner.articles.get(article);
        match (standing, entitlement, stored) {
            (Some(standing), Some(entitlement), Some(stored)) if inner.generation > 0 => {
                Ok(Facts {
                    generation: inner.generation,
                    standing: standing.clone(),
                    entitlement: entitlement.clone(),
                    article: stored.0.clone(),
                })
            }
            _ => Err(Missing {
                standing: standing.is_none(),
                entitlement: entitlement.is_none(),
                article: stored.is_none(),
            }),
        }
    }

    /// Keeps what was read. Facts read at a newer counter replace the whole
    /// cache; facts read at an older counter than the cache's are dropped.
    pub fn keep(&self, client: &str, licensee: LicenseeId, article: &str, loaded: &Loaded) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if loaded.generation < inner.generation {
            return;
        }
        if loaded.generation > inner.generation {
            *inner = Inner {
                generation: loaded.generation,
                ..Inner::default()
            };
        }
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
            if let Some((_, old)) = inner
                .articles
                .insert(article.to_owned(), (stored.clone(), weight))
            {
                inner.article_bytes = inner.article_bytes.saturating_sub(old);
            }
            inner.article_bytes += weight;
            self.keep_within_budget(&mut inner, article);
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

    /// Forgets everything cached before `generation`: the usage writer saw
    /// the database's counter move past what a delivery was decided on.
    pub fn outdated(&self, generation: i64) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if generation > inner.generation {
            *inner = Inner::default();
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
        inner.articles.remove(&id);
    }
    inner.article_bytes = bytes;
}

/// What one delivery attempt came to, for [`on_fresh_facts`].
pub enum Attempt<T> {
    /// Delivered (or refused by the ledger, as over quota) on facts the
    /// usage writer found current.
    Done(T),
    /// Refused on these facts, before anything was written: it stands only
    /// if the facts were current.
    Refused(DeliveryError),
    /// The usage writer found the database's counter at `current`, past
    /// the facts': nothing was written.
    Stale {
        /// The change counter now.
        current: i64,
    },
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
        let generation = facts.generation;
        match attempt(facts, number).await? {
            Attempt::Done(done) => return Ok(done),
            Attempt::Refused(refusal) => {
                let current = storage::blocking(pool, counter::read).await?;
                if current == generation {
                    return Err(refusal);
                }
                cache.outdated(current);
            }
            Attempt::Stale { current } => cache.outdated(current),
        }
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
    let loaded = read(pool, missing, client, licensee, article).await?;
    cache.keep(client, licensee, article, &loaded);
    if let Ok(facts) = cache.lookup(client, licensee, article) {
        return Ok(facts);
    }
    // The counter moved while reading: read everything at one counter.
    let everything = Missing {
        standing: true,
        entitlement: true,
        article: true,
    };
    let loaded = read(pool, everything, client, licensee, article).await?;
    cache.keep(client, licensee, article, &loaded);
    match loaded {
        Loaded {
            generation,
            standing: Some(standing),
            entitlement: Some(entitlement),
            article: Some(article),
        } => Ok(Facts {
            generation,
            standing,
            entitlement,
            article,
        }),
        _ => Err(DeliveryError::internal(
            "facts read in full came back partial",
        )),
    }
}

async fn read(
    pool: &Pool,
    missing: Missing,
    client: &str,
    licensee: LicenseeId,
    article: &str,
) -> Result<Loaded, DeliveryError> {
    let (client, article) = (client.to_owned(), article.to_owned());
    storage::blocking(pool, move |conn| {
        load(conn, &missing, &client, licensee, &article)
    })
    .await
}

/// Reads what `missing` names, after reading the counter, so the facts are
/// at least as new as the counter they are stamped with.
pub fn load(
    conn: &mut DbConnection,
    missing: &Missing,
    client: &str,
    licensee: LicenseeId,
    article: &str,
) -> Result<Loaded, DeliveryError> {
    let generation = counter::read(conn)?;
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
        generation,
        standing,
        entitlement,
        article,
    })
}

/// The photos an article refers to, in its order.
fn media_refs(row: &ArticleRow) -> Result<Vec<MediaRef>, StorageError> {
    row.media()
}

fn stored_article(conn: &mut DbConnection, row: ArticleRow) -> Result<StoredArticle, StorageError> {
    let ids: Vec<String> = media_refs(&row)?
        .iter()
        .map(|r| r.media_id.hyphenated().to_string())
        .collect();
    let photos = media::find_many(conn, &ids)?;
    let publisher_name = organisations::find_publisher(conn, &row.publisher_id)?.name;
    StoredArticle::new(row, &photos, publisher_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown_article(generation: i64) -> Loaded {
        Loaded {
            generation,
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

    /// An article whose row has an id of its own (the cache's key is
    /// whatever the test keeps it under).
    fn stored(body: &str) -> Arc<StoredArticle> {
        let row = ArticleRow::sample(&uuid::Uuid::now_v7().to_string(), body);
        Arc::new(StoredArticle::new(row, &[], "A publisher".to_owned()).unwrap())
    }

    fn loaded(generation: i64, article: &Arc<StoredArticle>) -> Loaded {
        Loaded {
            generation,
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
    fn facts_read_at_an_older_counter_are_not_kept_and_a_newer_one_starts_over() {
        let cache = FactCache::new(1 << 20);
        let licensee = LicenseeId(uuid::Uuid::nil());
        cache.keep("client", licensee, "a", &unknown_article(5));

        cache.keep("client", licensee, "old", &unknown_article(4));
        assert!(!cache.inner.read().unwrap().articles.contains_key("old"));
        cache.keep("client", licensee, "new", &unknown_article(6));

        let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(inner.generation, 6);
        assert!(inner.articles.contains_key("new") && !inner.articles.contains_key("a"));
    }
}
