//! Creating an article. A publisher sends its own id for the story
//! (`external_ref`) with the content; sending the same content again under
//! the same `external_ref` returns the stored article instead of a second
//! one, so a desk may retry an upload whose answer it never got. Other
//! content under a taken `external_ref` is refused, naming the article that
//! has it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ContentError;
use super::ownership::acting_publisher;
use super::validate::{
    ArticleContent, caps, refuse_lapsed_embargo, text, validate_content, validate_references,
};
use super::versions::record;
use super::versions::visible_from;
use crate::domain::content::{
    AgencyCredit, ArticleStatus, Byline, ChangeKind, EventKind, MediaRef,
};
use crate::domain::{ArticleId, field};
use crate::identity::Caller;
use crate::storage::articles::{self, ArticleRow};
use crate::storage::{DbConnection, StorageError, in_transaction, now};

/// A new article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "external_ref": "hg-2026-11-28-flood-barrier",
    "headline": "Flood barrier holds as storm surge hits the estuary",
    "standfirst": "Engineers say the new gates spared three thousand homes.",
    "body_html": "<p>The tidal gates closed at 04:10 as the surge arrived.</p><figure><img src=\"https://images.example.org/gates.jpg\" alt=\"The gates\"><figcaption>The gates at dawn</figcaption></figure>",
    "section": "environment",
    "tags": ["flooding", "infrastructure"],
    "language": "en-GB",
    "bylines": [{"name": "Amara Okafor", "role": "Environment correspondent", "location": "in Portmere"}],
    "located": "PORTMERE",
    "canonical_url": "https://harbourgazette.example.org/environment/flood-barrier-holds",
    "embargo_until": "2026-11-29T06:00:00Z",
    "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
    "media": [{"media_id": "019ac0a6-1111-7222-8333-444455556666", "role": "main"}],
    "status": "published"
}))]
pub struct CreateArticleRequest {
    /// Admins only: the publisher the article belongs to.
    pub publisher_id: Option<Uuid>,
    /// The publisher's own id for the story, unique per publisher, 1 to 200
    /// characters. Sending the same content again returns the stored article.
    #[schema(min_length = 1, max_length = 200)]
    pub external_ref: String,
    /// `draft` (default) or `published`.
    pub status: Option<InitialStatus>,
    /// The headline, 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300)]
    pub headline: String,
    /// The summary, up to 1000 characters.
    #[schema(max_length = 1000)]
    pub standfirst: Option<String>,
    /// The body as HTML (sanitised on ingest).
    #[schema(max_length = 100000)]
    pub body_html: String,
    /// The section, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub section: String,
    /// Tags.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub tags: Vec<String>,
    /// BCP 47 language tag.
    #[schema(example = "en-GB", max_length = 35)]
    pub language: String,
    /// Who wrote it.
    #[schema(max_items = 20)]
    pub bylines: Vec<Byline>,
    /// The dateline place.
    #[schema(max_length = 200)]
    pub located: Option<String>,
    /// The story's page on the publisher's site.
    #[schema(max_length = 2000)]
    pub canonical_url: Option<String>,
    /// Embargo: hidden from licensees until this instant.
    pub embargo_until: Option<DateTime<Utc>>,
    /// Agency credits.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub agency_credits: Vec<AgencyCredit>,
    /// Photos, in order.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub media: Vec<MediaRef>,
    /// Related articles.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub related: Vec<Uuid>,
}

impl CreateArticleRequest {
    /// The editable content it carries.
    pub fn content(&self) -> ArticleContent {
        ArticleContent {
            headline: self.headline.clone(),
            standfirst: self.standfirst.clone(),
            body_html: self.body_html.clone(),
            section: self.section.clone(),
            tags: self.tags.clone(),
            language: self.language.clone(),
            bylines: self.bylines.clone(),
            located: self.located.clone(),
            canonical_url: self.canonical_url.clone(),
            embargo_until: self.embargo_until,
            agency_credits: self.agency_credits.clone(),
            media: self.media.clone(),
            related: self.related.clone(),
        }
    }
}

/// The status a new article starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    /// Only its publisher sees it.
    Draft,
    /// Licensees see it (after any embargo).
    Published,
}

/// What a create request came to.
#[derive(Debug, Clone)]
pub enum Created {
    /// A new article.
    New(ArticleRow),
    /// The same content was already stored under this `external_ref`.
    Existing(ArticleRow),
}

/// Creates an article for the caller's publisher (an admin names one), as
/// version 1, a draft unless the request says `published`.
pub fn create_article(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &CreateArticleRequest,
) -> Result<Created, ContentError> {
    let publisher_id = acting_publisher(conn, caller, request.publisher_id)?;
    let mut errors = Vec::new();
    let external_ref = text(
        "external_ref",
        &request.external_ref,
        caps::EXTERNAL_REF,
        &mut errors,
    );
    let status = match request.status {
        Some(InitialStatus::Published) => ArticleStatus::Published,
        Some(InitialStatus::Draft) | None => ArticleStatus::Draft,
    };
    let content = validate_content(&request.content(), &mut errors);
    if !errors.is_empty() {
        return Err(ContentError::Invalid(errors));
    }
    content.refuse_empty(status)?;
    let at = now();
    refuse_lapsed_embargo(content.embargo_until, at)?;
    let id = ArticleId::generate().to_string();
    let mut unknown = Vec::new();
    validate_references(
        conn,
        &publisher_id,
        &id,
        &content,
        &mut errors,
        &mut unknown,
    )?;
    field::check(errors, unknown)?;
    let same_or_conflict = |existing: ArticleRow| {
        if existing.content_hash == content.hash() {
            Ok(Created::Existing(existing))
        } else {
            Err(ContentError::ExternalRefTaken {
                existing_id: existing.article_id()?,
            })
        }
    };
    if let Some(existing) = articles::find_by_external_ref(conn, &publisher_id, &external_ref)? {
        return same_or_conflict(existing);
    }
    let mut row = ArticleRow {
        id,
        publisher_id: publisher_id.clone(),
        external_ref: external_ref.clone(),
        version: 1,
        status: status.as_str().to_owned(),
        headline: String::new(),
        standfirst: None,
        body_html: String::new(),
        body_text: String::new(),
        word_count: 0,
        section: String::new(),
        tags: String::new(),
        language: String::new(),
        bylines: String::new(),
        located: None,
        canonical_url: None,
        embargo_until: None,
        agency_credits: String::new(),
        media: String::new(),
        related: String::new(),
        content_hash: String::new(),
        status_reason: None,
        redistribution: String::new(),
        first_published_at: None,
        killed_at: None,
        version_created_at: at,
        created_at: at,
        updated_at: at,
    };
    content.write_into(&mut row)?;
    if status == ArticleStatus::Published {
        row.first_published_at = Some(visible_from(&row, at));
    }
    let event = if status == ArticleStatus::Published {
        EventKind::Published
    } else {
        EventKind::Created
    };
    let stored = in_transaction(conn, |conn| {
        articles::insert(conn, &row)?;
        record(conn, &row, ChangeKind::Create, None, event)
    });
    match stored {
        Ok(()) => Ok(Created::New(row)),
        // Another request created it first: the same rule applies.
        Err(ContentError::Storage(StorageError::Conflict(_))) => {
            match articles::find_by_external_ref(conn, &publisher_id, &external_ref)? {
                Some(existing) => same_or_conflict(existing),
                None => Err(ContentError::Conflict(
                    "the article could not be stored; retry".to_owned(),
                )),
            }
        }
        Err(other) => Err(other),
    }
}
