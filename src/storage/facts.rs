//! Rows as the access decision sees them: the facts of `domain::access`,
//! built from the rows' typed columns (`ArticleRow::status` and the like),
//! so each stored value is converted in one place. A row that does not
//! convert is an error naming the row ([`StorageError::Corrupt`]), never a
//! default: a licence that does not parse must not vanish from an
//! entitlement, and a photo whose rights do not parse must not become
//! deliverable.

use super::StorageError;
use super::articles::{ArticleRow, FeedRow};
use super::licences::LicenceRow;
use super::media::MediaRow;
use super::organisations::LicenseeRow;
use crate::domain::access::{ArticleFacts, EventFacts, LicenceFacts, LicenseeFacts, PhotoFacts};

/// An article's facts.
pub fn article(row: &ArticleRow) -> Result<ArticleFacts, StorageError> {
    Ok(ArticleFacts {
        publisher_id: row.publisher_id()?,
        status: row.status()?,
        section: row.section.clone(),
        embargo_until: row.embargo_until,
        redistribution: row.redistribution()?,
        first_published_at: row.first_published_at,
        killed_at: row.killed_at,
    })
}

/// A photo's facts. No denied territories stored means none are denied.
pub fn photo(row: &MediaRow) -> Result<PhotoFacts, StorageError> {
    Ok(PhotoFacts {
        id: row.media_id()?,
        syndication: row.syndication()?,
        licensees: row.rights_licensees()?,
        territories_allowed: row.territories_allowed()?,
        territories_denied: row.territories_denied()?.unwrap_or_default(),
        expires_at: row.rights_expires_at,
        data_mining: row.data_mining()?,
    })
}

/// A licence's facts.
pub fn licence(row: &LicenceRow) -> Result<LicenceFacts, StorageError> {
    Ok(LicenceFacts {
        publisher_id: row.publisher_id()?,
        sections: row.sections()?,
        tier: row.tier()?,
        include_media: row.include_media,
        purposes: {
            let mut purposes: Vec<_> = row.purposes()?.iter().map(|t| t.purpose).collect();
            purposes.sort();
            purposes.dedup();
            purposes
        },
        attribution_required: row.attribution_required,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        id: row.id.clone(),
    })
}

/// A licensee's facts.
pub fn licensee(row: &LicenseeRow) -> Result<LicenseeFacts, StorageError> {
    Ok(LicenseeFacts {
        id: row.licensee_id()?,
        status: row.status()?,
        territories: row.territories()?.as_slice().to_vec(),
    })
}

/// A content event's facts, for the feed's decision.
pub fn event(row: &FeedRow) -> Result<EventFacts, StorageError> {
    let event = &row.event;
    Ok(EventFacts {
        kind: event.kind()?,
        article_id: event.article_id()?,
        version: event.version,
        visible_at: event.visible_at,
        article: ArticleFacts {
            publisher_id: event.publisher_id()?,
            status: event.status()?,
            section: event.section.clone(),
            embargo_until: None,
            redistribution: row.redistribution()?,
            first_published_at: row.first_published_at,
            killed_at: row.killed_at,
        },
    })
}
