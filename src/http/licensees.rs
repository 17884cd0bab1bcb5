//! `/v1/licensees`: the aggregator apps that fetch content. Admin only.

use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, FieldError, responses};
use super::publishers::MAX_NAME_CHARS;
use super::{AppState, PageQuery, db, utc};
use crate::domain::organisation::CountryCode;
use crate::domain::text::single_line;
use crate::domain::{LicenseeId, LicenseeStatus, Role, Territories};
use crate::identity::Caller;
use crate::storage::organisations::{self, LicenseeChanges, LicenseeRow, NewLicenseeRow};
use crate::storage::{DbConnection, now};

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

impl From<LicenseeRow> for LicenseeResponse {
    fn from(row: LicenseeRow) -> Self {
        Self {
            id: row.id.parse().unwrap_or_default(),
            name: row.name,
            status: row.status.parse().unwrap_or(LicenseeStatus::Suspended),
            territories: Territories::from_stored(&row.territories).codes(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

crate::page_response!(
    /// A page of licensees.
    LicenseePage,
    LicenseeResponse
);

/// A new licensee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Morning Brief", "territories": ["GB", "IE"]}))]
pub struct CreateLicenseeRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where it distributes: ISO 3166-1 alpha-2 codes (upper case), at least one.
    #[schema(min_items = 1, max_items = 250, value_type = Vec<CountryCode>)]
    pub territories: Vec<String>,
    /// Starts `active` unless given.
    pub status: Option<LicenseeStatus>,
}

/// Changes to a licensee; absent fields stay as they are.
/// `{"status": "suspended"}` suspends it, `{"status": "active"}` reactivates it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended"}))]
pub struct UpdateLicenseeRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `active` or `suspended`; takes effect on its clients' next request.
    pub status: Option<LicenseeStatus>,
    /// Replaces the territories.
    #[schema(min_items = 1, max_items = 250, value_type = Option<Vec<CountryCode>>)]
    pub territories: Option<Vec<String>>,
}

fn parse_territories(codes: &[String], errors: &mut Vec<FieldError>) -> Option<Territories> {
    Territories::parse(codes)
        .map_err(|bad| {
            errors.extend(
                bad.into_iter().map(|(index, message)| {
                    FieldError::new(format!("territories.{index}"), message)
                }),
            );
        })
        .ok()
}

/// Creates a licensee (shared by the API and the `admin` command).
pub fn create(
    conn: &mut DbConnection,
    request: &CreateLicenseeRequest,
) -> Result<LicenseeResponse, ApiError> {
    let mut errors = Vec::new();
    let name = single_line(&request.name, MAX_NAME_CHARS)
        .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        .ok();
    let territories = parse_territories(&request.territories, &mut errors);
    let (Some(name), Some(territories), true) = (name, territories, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let id = LicenseeId::generate().to_string();
    let at = now();
    let stored = territories.to_stored();
    let row = NewLicenseeRow {
        id: &id,
        name: &name,
        status: request.status.unwrap_or(LicenseeStatus::Active).as_str(),
        territories: &stored,
        created_at: at,
        updated_at: at,
    };
    Ok(organisations::insert_licensee(conn, &row)?.into())
}

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
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
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
    let created = db(&state, move |conn| create(conn, &request)).await?;
    Ok(HttpResponse::Created().json(created))
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
    let page = query.parse(organisations::LICENSEES)?;
    let rows = db(&state, move |conn| {
        Ok(organisations::list_licensees(conn, &page)?)
    })
    .await?;
    Ok(web::Json(rows.map(LicenseeResponse::from).into()))
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
    let id = LicenseeId(id.into_inner()).to_string();
    let row = db(&state, move |conn| {
        Ok(organisations::find_licensee(conn, &id)?)
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
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
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
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
    let request = body.into_inner();
    let mut errors = Vec::new();
    let name = request.name.as_deref().and_then(|n| {
        single_line(n, MAX_NAME_CHARS)
            .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
            .ok()
    });
    let territories = request
        .territories
        .as_deref()
        .and_then(|codes| parse_territories(codes, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let changes = LicenseeChanges {
        name,
        status: request.status.map(|s| s.as_str().to_owned()),
        territories: territories.map(|t| t.to_stored()),
        updated_at: Some(now()),
    };
    let id = LicenseeId(id.into_inner()).to_string();
    let row = db(&state, move |conn| {
        Ok(organisations::update_licensee(conn, &id, &changes)?)
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

fn not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound("no such licensee".to_owned()),
        other => other,
    }
}
