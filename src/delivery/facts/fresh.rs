//! Deciding on fresh facts: the facts of one delivery gathered from the
//! cache, or read from the database in one snapshot where the cache lacks
//! them, and a delivery attempted on them again, a few times at most,
//! while the items it depended on change under it (see the parent module).

use std::future::Future;
use std::sync::Arc;

use super::{FactCache, Facts, Loaded, Missing};
use crate::delivery::DeliveryError;
use crate::delivery::document::CorrectionNote;
use crate::delivery::entitlement::Entitlement;
use crate::delivery::stored::{StoredArticle, media_refs};
use crate::domain::LicenseeId;
use crate::identity::caller::read_standing;
use crate::storage::articles::{self, ArticleRow};
use crate::storage::changes;
use crate::storage::{self, DbConnection, Pool, StorageError, media, organisations, versions};

/// How often a delivery is decided again when its facts changed under it
/// before it gives up with [`DeliveryError::KeptChanging`].
const ATTEMPTS: usize = 4;

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
        } => Ok(Facts::current_at(
            log.current,
            (client, licensee, article),
            standing,
            entitlement,
            stored,
        )),
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
