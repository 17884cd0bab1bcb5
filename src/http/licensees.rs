//! `/v1/licensees`: the aggregator apps that fetch content. Admin only.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::{LicenseeId, LicenseeStatus, Role};
use crate::identity::Caller;
use crate::licensing::licensees::{self, CreateLicenseeRequest, Licensee, UpdateLicenseeRequest};

/// A licensee.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "name": "Morning Brief",
    "status": "active",
    "territories": ["GB", "IE"],
    "created_at": "2026-11-28T09:00:00Z",
    "updated_at": "2026-11-28T09:00:00Z"
}))]
pub struct LicenseeResponse {
    /// Licensee id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// `active` receives what its licences cover; `suspended` receives nothing.
    pub status: LicenseeStatus,
    /// Where it distributes: ISO 3166-1 alpha-2 codes, sorted.
    pub territories: Vec<String>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Licensee> for LicenseeResponse {
    fn from(licensee: Licensee) -> Self {
        Self {
            id: licensee.id.0,
            name: licensee.name,
            status: licensee.status,
            territories: licensee.territories.codes(),
            created_at: licensee.created_at,
            updated_at: licensee.updated_at,
        }
    }
}

crate::page_response!(
    /// A page of licensees.
    LicenseePage,
    LicenseeResponse
);

/// Creates a licensee.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = CreateLicenseeRequest,
    responses(
        (status = 201, description = "Created", body = LicenseeResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/licensees")]
pub async fn create_licensee(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<CreateLicenseeRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let request = body.into_inner();
    let created = db(&state, move |conn| Ok(licensees::create(conn, &request)?)).await?;
    Ok(HttpResponse::Created().json(LicenseeResponse::from(created)))
}

/// Lists licensees, oldest first.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of licensees", body = LicenseePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/licensees")]
pub async fn list_licensees(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<LicenseePage>, ApiError> {
    caller.require(Role::Admin)?;
    let page = query.parse(licensees::LIST)?;
    let found = db(&state, move |conn| Ok(licensees::list(conn, &page)?)).await?;
    Ok(web::Json(found.map(LicenseeResponse::from).into()))
}

/// Shows one licensee.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Licensee id")),
    responses(
        (status = 200, description = "The licensee", body = LicenseeResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/licensees/{id}")]
pub async fn get_licensee(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<web::Json<LicenseeResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = LicenseeId(id.into_inner());
    let licensee = db(&state, move |conn| Ok(licensees::get(conn, id)?)).await?;
    Ok(web::Json(licensee.into()))
}

/// Renames, suspends, reactivates or re-territories a licensee.
///
/// Admin only. Not metered. Suspension takes effect on the licensee's
/// clients' next request (403 with the `suspended` problem type).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Licensee id")),
    request_body = UpdateLicenseeRequest,
    responses(
        (status = 200, description = "The changed licensee", body = LicenseeResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[patch("/v1/licensees/{id}")]
pub async fn update_licensee(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<UpdateLicenseeRequest>,
) -> Result<web::Json<LicenseeResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = LicenseeId(id.into_inner());
    let request = body.into_inner();
    let changed = db(&state, move |conn| {
        Ok(licensees::update(conn, id, &request)?)
    })
    .await?;
    Ok(web::Json(changed.into()))
}
