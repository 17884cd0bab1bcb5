//! `/v1/publishers`: the newsrooms that upload content. Admin only.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::{PublisherId, Role};
use crate::identity::Caller;
use crate::licensing::publishers::{
    self, CreatePublisherRequest, Publisher, UpdatePublisherRequest,
};

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

impl From<Publisher> for PublisherResponse {
    fn from(publisher: Publisher) -> Self {
        Self {
            id: publisher.id.0,
            name: publisher.name,
            slug: publisher.slug.as_str().to_owned(),
            created_at: publisher.created_at,
            updated_at: publisher.updated_at,
        }
    }
}

crate::page_response!(
    /// A page of publishers.
    PublisherPage,
    PublisherResponse
);

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
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
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
    let created = db(&state, move |conn| Ok(publishers::create(conn, &request)?)).await?;
    Ok(HttpResponse::Created().json(PublisherResponse::from(created)))
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
    let page = query.parse(publishers::LIST)?;
    let found = db(&state, move |conn| Ok(publishers::list(conn, &page)?)).await?;
    Ok(web::Json(found.map(PublisherResponse::from).into()))
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
    let id = PublisherId(id.into_inner());
    let publisher = db(&state, move |conn| Ok(publishers::get(conn, id)?)).await?;
    Ok(web::Json(publisher.into()))
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
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
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
    let id = PublisherId(id.into_inner());
    let request = body.into_inner();
    let changed = db(&state, move |conn| {
        Ok(publishers::update(conn, id, &request)?)
    })
    .await?;
    Ok(web::Json(changed.into()))
}
