//! `/v1/licences`: which licensee may have which publisher's content, in
//! which tier, with or without photos, for how long, how much and at what
//! price. Admins manage them; licensees and publishers read their own.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::access::Tier;
use crate::domain::{LicenceId, LicenseeId, PublisherId, Role};
use crate::identity::Caller;
use crate::licensing::licences::{
    self, CreateLicenceRequest, Licence, Price, PurposeTerms, Quota, UpdateLicenceRequest,
};

/// A licence.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a7-2222-7333-8444-555566667777",
    "licensee_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "sections": ["environment", "world"],
    "tier": "full",
    "include_media": true,
    "valid_from": "2026-11-01T00:00:00Z",
    "valid_until": null,
    "quota": {"units": 500, "period": "day"},
    "rate_limit_per_minute": 600,
    "price_per_unit": {"amount_minor": 25, "currency": "GBP"},
    "purposes": [
        {"purpose": "display"},
        {"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}}
    ],
    "attribution_required": true,
    "takedown_hours": 24,
    "created_at": "2026-11-01T09:00:00Z",
    "updated_at": "2026-11-01T09:00:00Z"
}))]
pub struct LicenceResponse {
    /// Licence id.
    pub id: Uuid,
    /// Who may receive content.
    pub licensee_id: Uuid,
    /// Whose content.
    pub publisher_id: Uuid,
    /// The sections covered; absent means all.
    pub sections: Option<Vec<String>>,
    /// `full` or `preview`.
    pub tier: Tier,
    /// Whether photos are delivered.
    pub include_media: bool,
    /// In force from this instant…
    pub valid_from: DateTime<Utc>,
    /// …until this one (exclusive), if it ends.
    pub valid_until: Option<DateTime<Utc>>,
    /// Billable units per period; absent means unlimited.
    pub quota: Option<Quota>,
    /// Requests per minute; absent means unlimited.
    pub rate_limit_per_minute: Option<i32>,
    /// Price per billable unit, for purposes without a price of their own.
    pub price_per_unit: Option<Price>,
    /// The purposes it permits, in order, each with its own price if it
    /// has one (else `price_per_unit`).
    pub purposes: Vec<PurposeTerms>,
    /// Whether deliveries carry the article's attribution, which the
    /// licensee must show.
    pub attribution_required: bool,
    /// Hours the licensee has to confirm a takedown notice before it is
    /// overdue (the deadline of a notice is counted from the kill or the
    /// end of a photo's rights).
    #[schema(minimum = 1, maximum = 720, example = 24)]
    pub takedown_hours: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Licence> for LicenceResponse {
    fn from(licence: Licence) -> Self {
        Self {
            id: licence.id.0,
            licensee_id: licence.licensee_id.0,
            publisher_id: licence.publisher_id.0,
            sections: licence.sections,
            tier: licence.tier,
            include_media: licence.include_media,
            valid_from: licence.valid_from,
            valid_until: licence.valid_until,
            quota: licence.quota,
            rate_limit_per_minute: licence.rate_limit_per_minute,
            price_per_unit: licence.price_per_unit,
            purposes: licence.purposes,
            attribution_required: licence.attribution_required,
            takedown_hours: licence.takedown_hours,
            created_at: licence.created_at,
            updated_at: licence.updated_at,
        }
    }
}

crate::page_response!(
    /// A page of licences.
    LicencePage,
    LicenceResponse
);

/// Grants a licensee a licence to a publisher's content.
///
/// Admin only. Not metered. Quota, rate limit and price are enforced on
/// metered delivery.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = CreateLicenceRequest,
    responses(
        (status = 201, description = "Created", body = LicenceResponse),
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
#[post("/v1/licences")]
pub async fn create_licence(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<CreateLicenceRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let request = body.into_inner();
    let created = db(&state, move |conn| Ok(licences::create(conn, &request)?)).await?;
    Ok(HttpResponse::Created().json(LicenceResponse::from(created)))
}

/// Filters of the licence list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LicenceQuery {
    /// Admins: only this licensee's licences.
    pub licensee_id: Option<Uuid>,
    /// Admins: only licences on this publisher's content.
    pub publisher_id: Option<Uuid>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Lists licences, oldest first.
///
/// Admins see all (filterable by licensee and publisher); a licensee sees
/// its own; a publisher sees those on its content. Not metered.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    params(LicenceQuery),
    responses(
        (status = 200, description = "A page of licences", body = LicencePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/licences")]
pub async fn list_licences(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<LicenceQuery>,
) -> Result<web::Json<LicencePage>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse(licences::LIST)?;
    let licensee = query.licensee_id.map(LicenseeId);
    let publisher = query.publisher_id.map(PublisherId);
    let found = db(&state, move |conn| {
        Ok(licences::list(conn, &caller, licensee, publisher, &page)?)
    })
    .await?;
    Ok(web::Json(found.map(LicenceResponse::from).into()))
}

/// Shows one licence.
///
/// Admins; or the licensee or publisher it names (others get 404). Not metered.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Licence id")),
    responses(
        (status = 200, description = "The licence", body = LicenceResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/licences/{id}")]
pub async fn get_licence(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<web::Json<LicenceResponse>, ApiError> {
    let id = LicenceId(id.into_inner());
    let licence = db(&state, move |conn| Ok(licences::get(conn, &caller, id)?)).await?;
    Ok(web::Json(licence.into()))
}

/// Changes a licence, e.g. ends it early (`valid_until`), changes its tier,
/// quota, rate limit, price or hours to confirm a takedown. Takes effect on
/// the next request.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "licences",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Licence id")),
    request_body = UpdateLicenceRequest,
    responses(
        (status = 200, description = "The changed licence", body = LicenceResponse),
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
#[patch("/v1/licences/{id}")]
pub async fn update_licence(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<UpdateLicenceRequest>,
) -> Result<web::Json<LicenceResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = LicenceId(id.into_inner());
    let request = body.into_inner();
    let changed = db(&state, move |conn| {
        Ok(licences::update(conn, &caller, id, &request)?)
    })
    .await?;
    Ok(web::Json(changed.into()))
}
