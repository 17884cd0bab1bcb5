//! Searching what a licensee may receive now: published, past-embargo
//! articles its licences in force cover, newest versions, metadata only,
//! each article decided by the one access decision.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::DeliveryError;
use super::entitlement::Entitlement;
use crate::domain::access::{self, Tier};
use crate::domain::content::{AgencyCredit, Byline};
use crate::domain::purpose::Purpose;
use crate::domain::{FieldError, LicenseeId};
use crate::storage::articles::{self, ArticleRow, SearchFilter};
use crate::storage::page::{self, PageRequest};
use crate::storage::{DbConnection, StorageError, facts};

/// Longest search text, in characters.
const MAX_QUERY: usize = 200;

/// An article in a content list (metadata, no body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContentSummary {
    /// Article id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The tier it would be delivered in.
    pub tier: Tier,
    /// Current version.
    pub version: i32,
    /// The headline.
    pub headline: String,
    /// The summary.
    pub standfirst: Option<String>,
    /// Who wrote it.
    pub bylines: Vec<Byline>,
    /// Agency credits with their credit lines.
    pub agency_credits: Vec<AgencyCredit>,
    /// The section.
    pub section: String,
    /// BCP 47 language tag.
    pub language: String,
    /// When it first became public.
    pub first_published_at: Option<DateTime<Utc>>,
    /// When the current version was made.
    pub version_created_at: DateTime<Utc>,
}

crate::page_response!(
    /// A page of licensed articles.
    ContentPage,
    ContentSummary
);

/// What a search asks for, beside the page.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words that must all appear in the headline, standfirst or body
    /// ([`search_words`]).
    pub words: Vec<String>,
    /// Only this publisher's articles.
    pub publisher_id: Option<Uuid>,
    /// Only this section.
    pub section: Option<String>,
    /// Only this language.
    pub language: Option<String>,
    /// First published at or after this instant.
    pub published_since: Option<DateTime<Utc>>,
    /// First published before this instant.
    pub published_until: Option<DateTime<Utc>>,
    /// Only articles a licence permits fetching for this purpose.
    pub purpose: Purpose,
}

/// The scope of a licensee's search cursors: one licensee's cursor is
/// refused for another.
pub fn scope(licensee: LicenseeId) -> String {
    format!("content-{licensee}")
}

/// Splits a search into words, so no query syntax reaches the engine.
pub fn search_words(q: &str) -> Result<Vec<String>, DeliveryError> {
    if q.chars().count() > MAX_QUERY || q.chars().any(char::is_control) {
        return Err(DeliveryError::Invalid(vec![FieldError::new(
            "q",
            "must be at most 200 characters of text",
        )]));
    }
    Ok(q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect())
}

/// One page of what `licensee` may receive at `at`.
pub fn search(
    conn: &mut DbConnection,
    licensee: LicenseeId,
    search: &Search,
    page: &PageRequest,
    at: NaiveDateTime,
) -> Result<ContentPage, DeliveryError> {
    let entitlement = Entitlement::load(conn, licensee)?;
    let filter = SearchFilter {
        words: search.words.clone(),
        publishers: entitlement.publishers(Some(at)),
        publisher_id: search.publisher_id.map(|p| p.hyphenated().to_string()),
        section: search.section.clone(),
        language: search.language.clone(),
        published_since: search.published_since.map(|t| t.naive_utc()),
        published_until: search.published_until.map(|t| t.naive_utc()),
    };
    Ok(fill_page(
        conn,
        &entitlement,
        &filter,
        search.purpose,
        page,
        &scope(licensee),
        at,
    )?)
}

/// Fills a page from bounded chunks, deciding each article.
fn fill_page(
    conn: &mut DbConnection,
    entitlement: &Entitlement,
    filter: &SearchFilter,
    purpose: Purpose,
    page: &PageRequest,
    scope: &str,
    at: NaiveDateTime,
) -> Result<ContentPage, StorageError> {
    let limit = usize::try_from(page.limit).unwrap_or(1);
    let chunk = (page.limit * 4).min(400);
    let mut after = page.after.clone();
    let mut items = Vec::new();
    for _ in 0..8 {
        let rows = articles::search(conn, filter, at, after.as_deref(), chunk)?;
        let exhausted = rows.len() < usize::try_from(chunk).unwrap_or(usize::MAX);
        for row in rows {
            after = Some(row.id.clone());
            let decision = access::decide(
                &entitlement.licensee,
                &entitlement.licences,
                &facts::article(&row)?,
                &[],
                purpose,
                at,
            );
            if let Ok(grant) = decision {
                items.push(summary(&row, grant.tier)?);
                if items.len() == limit {
                    return Ok(ContentPage {
                        items,
                        next_cursor: Some(page::encode(&row.id, scope)),
                    });
                }
            }
        }
        if exhausted {
            return Ok(ContentPage {
                items,
                next_cursor: None,
            });
        }
    }
    // Scanned enough for one request; the client continues from here.
    Ok(ContentPage {
        items,
        next_cursor: after.map(|id| page::encode(&id, scope)),
    })
}

/// An article's summary in the tier it would be delivered in.
fn summary(row: &ArticleRow, tier: Tier) -> Result<ContentSummary, StorageError> {
    Ok(ContentSummary {
        id: row.article_id()?.0,
        publisher_id: row.publisher_id()?.0,
        tier,
        version: row.version,
        headline: row.headline.clone(),
        standfirst: row.standfirst.clone(),
        bylines: row.bylines()?,
        agency_credits: row.agency_credits()?,
        section: row.section.clone(),
        language: row.language.clone(),
        first_published_at: row.first_published_at.map(|at| at.and_utc()),
        version_created_at: row.version_created_at.and_utc(),
    })
}
