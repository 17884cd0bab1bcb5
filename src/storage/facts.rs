//! Rows as the access decision sees them: each stored row is converted here,
//! once, into the facts of `domain::access`. A row that does not convert is
//! an error naming the row ([`StorageError::Corrupt`]), never a default: a
//! licence that does not parse must not vanish from an entitlement, and a
//! photo whose rights do not parse must not become deliverable.

use std::fmt::Display;
use std::str::FromStr;

use super::StorageError;
use super::articles::{ArticleRow, FeedRow};
use super::licences::LicenceRow;
use super::media::MediaRow;
use super::organisations::LicenseeRow;
use crate::domain::access::{ArticleFacts, EventFacts, LicenceFacts, LicenseeFacts, PhotoFacts};
use crate::domain::{LicenseeId, Territory};

/// Parses one stored value of a row, or says which row and field did not.
pub fn parse_field<T>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<T, StorageError>
where
    T: FromStr,
    T::Err: Display,
{
    value.parse().map_err(|error| StorageError::Corrupt {
        table,
        id: id.to_owned(),
        detail: format!("{field} {value:?}: {error}"),
    })
}

/// Parses a stored comma-separated list (an empty string is an empty list).
fn parse_list<T>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<Vec<T>, StorageError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .split(',')
        .filter(|item| !item.is_empty())
        .map(|item| parse_field(table, id, field, item))
        .collect()
}

/// Parses a stored JSON value.
pub fn json<T: serde::de::DeserializeOwned>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<T, StorageError> {
    serde_json::from_str(value).map_err(|error| StorageError::Corrupt {
        table,
        id: id.to_owned(),
        detail: format!("{field}: {error}"),
    })
}

/// An article's facts.
pub fn article(row: &ArticleRow) -> Result<ArticleFacts, StorageError> {
    Ok(ArticleFacts {
        publisher_id: parse_field("articles", &row.id, "publisher_id", &row.publisher_id)?,
        status: parse_field("articles", &row.id, "status", &row.status)?,
        section: row.section.clone(),
        embargo_until: row.embargo_until,
        redistribution: parse_field("articles", &row.id, "redistribution", &row.redistribution)?,
        first_published_at: row.first_published_at,
        killed_at: row.killed_at,
    })
}

/// A photo's facts.
pub fn photo(row: &MediaRow) -> Result<PhotoFacts, StorageError> {
    let id = &row.id;
    let territories = |field, stored: &Option<String>| {
        stored
            .as_deref()
            .map(|s| parse_list::<Territory>("media", id, field, s))
            .transpose()
    };
    Ok(PhotoFacts {
        id: parse_field("media", id, "id", id)?,
        syndication: parse_field("media", id, "syndication", &row.syndication)?,
        licensees: row
            .rights_licensees
            .as_deref()
            .map(|s| parse_list::<LicenseeId>("media", id, "rights_licensees", s))
            .transpose()?,
        territories_allowed: territories("territories_allowed", &row.territories_allowed)?,
        territories_denied: territories("territories_denied", &row.territories_denied)?
            .unwrap_or_default(),
        expires_at: row.rights_expires_at,
    })
}

/// A licence's facts.
pub fn licence(row: &LicenceRow) -> Result<LicenceFacts, StorageError> {
    let id = &row.id;
    Ok(LicenceFacts {
        publisher_id: parse_field("licences", id, "publisher_id", &row.publisher_id)?,
        sections: row
            .sections
            .as_deref()
            .map(|s| json("licences", id, "sections", s))
            .transpose()?,
        tier: parse_field("licences", id, "tier", &row.tier)?,
        include_media: row.include_media,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        id: id.clone(),
    })
}

/// A licensee's facts.
pub fn licensee(row: &LicenseeRow) -> Result<LicenseeFacts, StorageError> {
    let id = &row.id;
    Ok(LicenseeFacts {
        id: parse_field("licensees", id, "id", id)?,
        status: parse_field("licensees", id, "status", &row.status)?,
        territories: parse_list("licensees", id, "territories", &row.territories)?,
    })
}

/// A content event's facts, for the feed's decision.
pub fn event(row: &FeedRow) -> Result<EventFacts, StorageError> {
    let event = &row.event;
    let key = event.seq.to_string();
    Ok(EventFacts {
        kind: parse_field("content_events", &key, "kind", &event.kind)?,
        article_id: parse_field("content_events", &key, "article_id", &event.article_id)?,
        version: event.version,
        visible_at: event.visible_at,
        article: ArticleFacts {
            publisher_id: parse_field("content_events", &key, "publisher_id", &event.publisher_id)?,
            status: parse_field("content_events", &key, "status", &event.status)?,
            section: event.section.clone(),
            embargo_until: None,
            redistribution: parse_field(
                "articles",
                &event.article_id,
                "redistribution",
                &row.redistribution,
            )?,
            first_published_at: row.first_published_at,
            killed_at: row.killed_at,
        },
    })
}
