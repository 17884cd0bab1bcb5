//! `/v1/articles`: what a publisher's syndication desk uses. Create (by
//! `external_ref`, idempotently), read, replace with `If-Match`, publish,
//! withhold and kill; every change is a new version and a content event.
//! The workflows are in [`crate::content`]; this is their wire.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::content::edit::{Edit, ReplaceArticleRequest};
use crate::content::ingest::{CreateArticleRequest, Created};
use crate::content::lifecycle::{self, Reason};
use crate::content::versions::ArticleSnapshot;
use crate::content::versions::Precondition;
use crate::content::{self, read};
use crate::domain::content::{AgencyCredit, ArticleStatus, Byline, MediaRef};
use crate::domain::{ArticleId, Role};
use crate::identity::Caller;
use crate::storage::StorageError;
use crate::storage::articles::{self, ArticleFilter, ArticleRow};

/// The `ETag` of an article version; the version rules live in content, and
/// code outside it still finds the tag here.
pub use crate::content::versions::etag;

/// A reason for withholding or killing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Legal: the court has imposed reporting restrictions."}))]
pub struct ReasonRequest {
    /// Why, 1 to 1000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// An article as stored: its current version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a6-1111-7222-8333-444455556666",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "external_ref": "hg-2026-11-28-flood-barrier",
    "version": 1, "etag": "\"v1\"", "status": "published",
    "headline": "Flood barrier holds as storm surge hits the estuary",
    "standfirst": "Engineers say the new gates spared three thousand homes.",
    "body_html": "<p>The tidal gates closed at 04:10 as the surge arrived.</p>",
    "body_text": "The tidal gates closed at 04:10 as the surge arrived.",
    "word_count": 10, "section": "environment", "tags": ["flooding"], "language": "en-GB",
    "bylines": [{"name": "Amara Okafor", "role": "Environment correspondent", "location": "in Portmere"}],
    "located": "PORTMERE",
    "canonical_url": "https://harbourgazette.example.org/environment/flood-barrier-holds",
    "embargo_until": null,
    "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
    "media": [{"media_id": "019ac0a5-3333-7444-8555-666677778888", "role": "main"}],
    "related": [], "status_reason": null,
    "first_published_at": "2026-11-28T06:00:00Z", "killed_at": null,
    "version_created_at": "2026-11-28T06:00:00Z", "created_at": "2026-11-28T06:00:00Z", "updated_at": "2026-11-28T06:00:00Z"
}))]
pub struct ArticleResponse {
    /// Article id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The publisher's own id for it.
    pub external_ref: String,
    /// Starts at 1; +1 on every change.
    pub version: i32,
    /// Send as `If-Match` to replace this version.
    pub etag: String,
    /// Where it is in its life.
    pub status: ArticleStatus,
    /// The headline.
    pub headline: String,
    /// The summary.
    pub standfirst: Option<String>,
    /// The sanitised body.
    pub body_html: String,
    /// The body as plain text.
    pub body_text: String,
    /// Words in the body.
    pub word_count: i32,
    /// The section.
    pub section: String,
    /// Tags.
    pub tags: Vec<String>,
    /// BCP 47 language tag.
    pub language: String,
    /// Who wrote it.
    pub bylines: Vec<Byline>,
    /// The dateline place.
    pub located: Option<String>,
    /// The story's page on the publisher's site.
    pub canonical_url: Option<String>,
    /// Hidden from licensees until this instant.
    pub embargo_until: Option<DateTime<Utc>>,
    /// Agency credits.
    pub agency_credits: Vec<AgencyCredit>,
    /// Photos, in order.
    pub media: Vec<MediaRef>,
    /// Related articles.
    pub related: Vec<Uuid>,
    /// Why it was withheld or killed.
    pub status_reason: Option<String>,
    /// When it first became public (its embargo, if it had one).
    pub first_published_at: Option<DateTime<Utc>>,
    /// When it was killed.
    pub killed_at: Option<DateTime<Utc>>,
    /// When this version was made.
    pub version_created_at: DateTime<Utc>,
    /// When the article was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An article in a list (no body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArticleSummary {
    /// Article id.
    pub id: Uuid,
    /// The publisher's own id for it.
    pub external_ref: String,
    /// Current version.
    pub version: i32,
    /// Where it is in its life.
    pub status: ArticleStatus,
    /// The headline.
    pub headline: String,
    /// The section.
    pub section: String,
    /// BCP 47 language tag.
    pub language: String,
    /// Hidden from licensees until this instant.
    pub embargo_until: Option<DateTime<Utc>>,
    /// When it first became public.
    pub first_published_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

crate::page_response!(
    /// A page of articles.
    ArticlePage,
    ArticleSummary
);

impl TryFrom<&ArticleRow> for ArticleResponse {
    type Error = StorageError;

    fn try_from(row: &ArticleRow) -> Result<Self, StorageError> {
        ArticleSnapshot::try_from(row).map(Self::from)
    }
}

impl From<ArticleSnapshot> for ArticleResponse {
    fn from(snapshot: ArticleSnapshot) -> Self {
        // Every field by name: a field added to either type and not to the
        // other stops the build, so a past version and the current one keep
        // showing the same shape.
        let ArticleSnapshot {
            id,
            publisher_id,
            external_ref,
            version,
            etag,
            status,
            headline,
            standfirst,
            body_html,
            body_text,
            word_count,
            section,
            tags,
            language,
            bylines,
            located,
            canonical_url,
            embargo_until,
            agency_credits,
            media,
            related,
            status_reason,
            first_published_at,
            killed_at,
            version_created_at,
            created_at,
            updated_at,
        } = snapshot;
        Self {
            id,
            publisher_id,
            external_ref,
            version,
            etag,
            status,
            headline,
            standfirst,
            body_html,
            body_text,
            word_count,
            section,
            tags,
            language,
            bylines,
            located,
            canonical_url,
            embargo_until,
            agency_credits,
            media,
            related,
            status_reason,
            first_published_at,
            killed_at,
            version_created_at,
            created_at,
            updated_at,
        }
    }
}

impl TryFrom<ArticleRow> for ArticleSummary {
    type Error = StorageError;

    fn try_from(row: ArticleRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.article_id()?.0,
            status: row.status()?,
            external_ref: row.external_ref,
            version: row.version,
            headline: row.headline,
            section: row.section,
            language: row.language,
            embargo_until: row.embargo_until.map(utc),
            first_published_at: row.first_published_at.map(utc),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A response carrying an article and its `ETag`.
fn article_response(
    mut builder: actix_web::HttpResponseBuilder,
    row: &ArticleRow,
) -> Result<HttpResponse, ApiError> {
    let article = ArticleResponse::try_from(row)?;
    Ok(builder
        .insert_header((header::ETAG, etag(row.version)))
        .json(article))
}

/// Creates an article, or returns the stored one when the same content is
/// sent again under the same `external_ref` (200, no new version). Other
/// content under a taken `external_ref` is 409 naming the existing article.
///
/// Publishers (their own) and admins (naming `publisher_id`). Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = CreateArticleRequest,
    responses(
        (status = 201, description = "Created", body = ArticleResponse,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "The article"))),
        (status = 200, description = "The same content was already stored under this external_ref", body = ArticleResponse,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/articles")]
pub async fn create_article(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<CreateArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let request = body.into_inner();
    let created = db(&state, move |conn| {
        Ok(content::ingest::create_article(conn, &caller, &request)?)
    })
    .await?;
    match created {
        Created::New(row) => {
            let mut builder = HttpResponse::Created();
            builder.insert_header((header::LOCATION, format!("/v1/articles/{}", row.id)));
            article_response(builder, &row)
        }
        Created::Existing(row) => article_response(HttpResponse::Ok(), &row),
    }
}

/// Filters of the article list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Only articles with this status.
    pub status: Option<ArticleStatus>,
    /// Only articles in this section.
    #[param(max_length = 100)]
    pub section: Option<String>,
    /// Only articles changed at or after this instant (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Lists articles, oldest first: a publisher's own, or all for an admin.
///
/// Publishers and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(ArticleQuery),
    responses(
        (status = 200, description = "A page of articles", body = ArticlePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/articles")]
pub async fn list_articles(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ArticleQuery>,
) -> Result<web::Json<ArticlePage>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    super::at_most("section", query.section.as_deref(), 100)?;
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse(articles::ARTICLES)?;
    let filter = ArticleFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        section: query.section,
        updated_since: query.updated_since.map(|t| t.naive_utc()),
    };
    let rows = db(&state, move |conn| {
        Ok(read::list_articles(conn, &caller, &filter, &page)?)
    })
    .await?;
    Ok(web::Json(rows.try_map(ArticleSummary::try_from)?.into()))
}

/// Shows an article's current version. Another publisher's article is 404.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Article id")),
    responses(
        (status = 200, description = "The article", body = ArticleResponse,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/articles/{id}")]
pub async fn get_article(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let id = ArticleId(id.into_inner());
    let row = db(&state, move |conn| {
        Ok(read::find_article(conn, &caller, id)?)
    })
    .await?;
    article_response(HttpResponse::Ok(), &row)
}

/// Reads `If-Match`: `*` or one of our ETags (`"v3"`). Anything else names
/// no version, so the condition is false (412), as for a stale ETag.
fn if_match(req: &HttpRequest) -> Result<Option<Precondition>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    if value.len() > 100 {
        return Err(ApiError::BadRequest(
            "If-Match is longer than any ETag (at most 100 bytes)".to_owned(),
        ));
    }
    let value = value.to_str().map(str::trim).unwrap_or_default();
    if value == "*" {
        return Ok(Some(Precondition::Any));
    }
    let version = value
        .strip_prefix("\"v")
        .and_then(|v| v.strip_suffix('"'))
        .filter(|v| (1..=9).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i32>().ok());
    Ok(Some(
        version.map_or(Precondition::Never, Precondition::Version),
    ))
}

/// Replaces an article's editable content as a new version, marked as an
/// update or a correction with its note. `If-Match` with the current `ETag`
/// is required (missing: 428; stale: 412). A killed article cannot change
/// (409). An embargo can be set or moved only while the article is not yet
/// public.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(
        ("id" = Uuid, Path, description = "Article id"),
        ("If-Match" = String, Header, description = "The ETag of the version being replaced (e.g. \"v3\") or *; a value that names no version is answered with 412", max_length = 100),
    ),
    request_body = ReplaceArticleRequest,
    responses(
        (status = 200, description = "The new version", body = ArticleResponse,
            headers(("ETag" = String, description = "The new version, for If-Match"))),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 428, response = responses::PreconditionRequired),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[put("/v1/articles/{id}")]
pub async fn replace_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<ReplaceArticleRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    // A missing If-Match (428) and malformed fields (422) are refused before
    // the article's state or the database is looked at.
    let edit = Edit::new(if_match(&req)?, &body)?;
    let id = ArticleId(id.into_inner());
    let row = db(&state, move |conn| {
        Ok(content::edit::replace_article(conn, &caller, id, edit)?)
    })
    .await?;
    article_response(HttpResponse::Ok(), &row)
}

/// Publishes a draft or withheld article (a new version). It reaches
/// licensees at once, or at `embargo_until` if that is later. `If-Match` is
/// optional; when sent it must be current.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(
        ("id" = Uuid, Path, description = "Article id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the current version (e.g. \"v3\") or *; a value that names no version is answered with 412", max_length = 100),
    ),
    responses(
        (status = 200, description = "Published", body = ArticleResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/articles/{id}/publish")]
pub async fn publish_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let expected = if_match(&req)?;
    let id = ArticleId(id.into_inner());
    let row = db(&state, move |conn| {
        Ok(lifecycle::publish(conn, &caller, id, expected)?)
    })
    .await?;
    article_response(HttpResponse::Ok(), &row)
}

/// Withholds a published article from licensees for now (a new version with
/// the reason). It may be published again.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(
        ("id" = Uuid, Path, description = "Article id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the current version (e.g. \"v3\") or *; a value that names no version is answered with 412", max_length = 100),
    ),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Withheld", body = ArticleResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/articles/{id}/withhold")]
pub async fn withhold_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let expected = if_match(&req)?;
    let reason = Reason::parse(&body.reason)?;
    let id = ArticleId(id.into_inner());
    let row = db(&state, move |conn| {
        Ok(lifecycle::withhold(conn, &caller, id, expected, reason)?)
    })
    .await?;
    article_response(HttpResponse::Ok(), &row)
}

/// Kills an article for good (a new version with the reason). Licensees
/// that could see it get 410 with the kill notice from then on; it can
/// never be edited or published again.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "articles",
    security(("bearer" = []), ("oauth2" = [])),
    params(
        ("id" = Uuid, Path, description = "Article id"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the current version (e.g. \"v3\") or *; a value that names no version is answered with 412", max_length = 100),
    ),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Killed", body = ArticleResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 412, response = responses::PreconditionFailed),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/articles/{id}/kill")]
pub async fn kill_article(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<ReasonRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let expected = if_match(&req)?;
    let reason = Reason::parse(&body.reason)?;
    let id = ArticleId(id.into_inner());
    let row = db(&state, move |conn| {
        Ok(lifecycle::kill(conn, &caller, id, expected, reason)?)
    })
    .await?;
    article_response(HttpResponse::Ok(), &row)
}
