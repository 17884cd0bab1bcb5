//! `/v1/publishers`: the newsrooms that upload content. Admin only.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, FieldError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::domain::text::single_line;
use crate::domain::{PublisherId, Role, Slug};
use crate::identity::Caller;
use crate::storage::organisations::{self, NewPublisherRow, PublisherChanges, PublisherRow};
use crate::storage::{DbConnection, StorageError, now};

/// Longest organisation name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A publisher.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "name": "The Harbour Gazette",
    "slug": "harbour-gazette",
    "created_at": "2026-11-28T09:00:00Z",
    "updated_at": "2026-11-28T09:00:00Z"
}))]
pub struct PublisherResponse {
    /// Publisher id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Unique short name.
    pub slug: String,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<PublisherRow> for PublisherResponse {
    fn from(row: PublisherRow) -> Self {
        Self {
            id: row.id.parse().unwrap_or_default(),
            name: row.name,
            slug: row.slug,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

crate::page_response!(
    /// A page of publishers.
    PublisherPage,
    PublisherResponse
);

/// A new publisher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "The Harbour Gazette", "slug": "harbour-gazette"}))]
pub struct CreatePublisherRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Unique short name (lower-case letters, digits, single hyphens);
    /// derived from the name when absent.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

/// Changes to a publisher; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "The Harbour Gazette & Mail"}))]
pub struct UpdatePublisherRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Unique short name.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

fn parse_name(name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    single_line(name, MAX_NAME_CHARS)
        .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        .ok()
}

fn parse_slug(slug: &str, errors: &mut Vec<FieldError>) -> Option<Slug> {
    slug.parse::<Slug>()
        .map_err(|e| errors.push(FieldError::new("slug", e)))
        .ok()
}

fn slug_conflict(error: StorageError, slug: &str) -> ApiError {
    match error {
        StorageError::Conflict(_) => ApiError::Conflict(format!("the slug {slug:?} is taken")),
        other => other.into(),
    }
}

/// Creates a publisher (shared by the API and the `admin` command).
pub fn create(
    conn: &mut DbConnection,
    request: &CreatePublisherRequest,
) -> Result<PublisherResponse, ApiError> {
    let mut errors = Vec::new();
    let name = parse_name(&request.name, &mut errors);
    let slug = match &request.slug {
        Some(slug) => parse_slug(slug, &mut errors),
        None => name.as_deref().and_then(|name| {
            Slug::from_name(name).or_else(|| {
                errors.push(FieldError::new(
                    "slug",
                    "cannot be derived from this name; give one",
                ));
                None
            })
        }),
    };
    let (Some(name), Some(slug), true) = (name, slug, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let id = PublisherId::generate().to_string();
    let at = now();
    let row = NewPublisherRow {
        id: &id,
        name: &name,
        slug: slug.as_str(),
        created_at: at,
        updated_at: at,
    };
    organisations::insert_publisher(conn, &row)
        .map(Into::into)
        .map_err(|e| slug_conflict(e, slug.as_str()))
}

/// Creates a publisher.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = CreatePublisherRequest,
    responses(
        (status = 201, description = "Created", body = PublisherResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[post("/v1/publishers")]
pub async fn create_publisher(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<CreatePublisherRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let request = body.into_inner();
    let created = db(&state, move |conn| create(conn, &request)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Lists publishers, oldest first.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of publishers", body = PublisherPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/publishers")]
pub async fn list_publishers(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PublisherPage>, ApiError> {
    caller.require(Role::Admin)?;
    let page = query.parse(organisations::PUBLISHERS)?;
    let rows = db(&state, move |conn| {
        Ok(organisations::list_publishers(conn, &page)?)
    })
    .await?;
    Ok(web::Json(rows.map(PublisherResponse::from).into()))
}

/// Shows one publisher.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Publisher id")),
    responses(
        (status = 200, description = "The publisher", body = PublisherResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/publishers/{id}")]
pub async fn get_publisher(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<web::Json<PublisherResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = PublisherId(id.into_inner()).to_string();
    let row = db(&state, move |conn| {
        Ok(organisations::find_publisher(conn, &id)?)
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

/// Renames a publisher or changes its slug.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Publisher id")),
    request_body = UpdatePublisherRequest,
    responses(
        (status = 200, description = "The changed publisher", body = PublisherResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[patch("/v1/publishers/{id}")]
pub async fn update_publisher(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<UpdatePublisherRequest>,
) -> Result<web::Json<PublisherResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let request = body.into_inner();
    let mut errors = Vec::new();
    let name = request
        .name
        .as_deref()
        .and_then(|n| parse_name(n, &mut errors));
    let slug = request
        .slug
        .as_deref()
        .and_then(|s| parse_slug(s, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = PublisherId(id.into_inner()).to_string();
    let slug_text = slug
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let changes = PublisherChanges {
        name,
        slug: slug.map(|s| s.as_str().to_owned()),
        updated_at: Some(now()),
    };
    let row = db(&state, move |conn| {
        organisations::update_publisher(conn, &id, &changes)
            .map_err(|e| slug_conflict(e, &slug_text))
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

fn not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound("no such publisher".to_owned()),
        other => other,
    }
}
