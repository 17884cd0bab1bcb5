//! `/v1/licences`: which licensee may have which publisher's content, in
//! which tier, with or without photos, for how long, how much and at what
//! price. Admins manage them; licensees and publishers read their own.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, FieldError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::domain::access::Tier;
use crate::domain::text::single_line;
use crate::domain::{LicenceId, Role};
use crate::identity::Caller;
use crate::storage::licences::{self, LicenceFilter, LicenceRow};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// A quota period: UTC calendar days or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaPeriod {
    /// A UTC calendar day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl QuotaPeriod {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        }
    }
}

/// Billable units allowed per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"units": 500, "period": "day"}))]
pub struct Quota {
    /// Billable deliveries allowed per period, at least 1.
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub units: i64,
    /// The period.
    pub period: QuotaPeriod,
}

/// A price per billable unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 25, "currency": "GBP"}))]
pub struct Price {
    /// In minor units (pence, cents), zero or more.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_minor: i64,
    /// ISO 4217 code.
    #[schema(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub currency: String,
}

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
    /// Price per billable unit.
    pub price_per_unit: Option<Price>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<LicenceRow> for LicenceResponse {
    fn from(row: LicenceRow) -> Self {
        Self {
            id: row.id.parse().unwrap_or_default(),
            licensee_id: row.licensee_id.parse().unwrap_or_default(),
            publisher_id: row.publisher_id.parse().unwrap_or_default(),
            sections: row.sections.and_then(|s| serde_json::from_str(&s).ok()),
            tier: row.tier.parse().unwrap_or(Tier::Preview),
            include_media: row.include_media,
            valid_from: utc(row.valid_from),
            valid_until: row.valid_until.map(utc),
            quota: match (row.quota_units, row.quota_period.as_deref()) {
                (Some(units), Some("day")) => Some(Quota {
                    units,
                    period: QuotaPeriod::Day,
                }),
                (Some(units), Some("month")) => Some(Quota {
                    units,
                    period: QuotaPeriod::Month,
                }),
                _ => None,
            },
            rate_limit_per_minute: row.rate_limit_per_minute,
            price_per_unit: match (row.price_amount_minor, row.price_currency) {
                (Some(amount_minor), Some(currency)) => Some(Price {
                    amount_minor,
                    currency,
                }),
                _ => None,
            },
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

crate::page_response!(
    /// A page of licences.
    LicencePage,
    LicenceResponse
);

/// A new licence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "licensee_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "sections": ["environment", "world"],
    "tier": "full",
    "include_media": true,
    "valid_from": "2026-11-01T00:00:00Z",
    "quota": {"units": 500, "period": "day"},
    "rate_limit_per_minute": 600,
    "price_per_unit": {"amount_minor": 25, "currency": "GBP"}
}))]
pub struct CreateLicenceRequest {
    /// Who may receive content.
    pub licensee_id: Uuid,
    /// Whose content.
    pub publisher_id: Uuid,
    /// The sections covered (1 to 100 names); absent means all.
    #[schema(min_items = 1, max_items = 100)]
    pub sections: Option<Vec<String>>,
    /// `full` or `preview`.
    pub tier: Tier,
    /// Whether photos are delivered.
    pub include_media: bool,
    /// In force from this instant.
    pub valid_from: DateTime<Utc>,
    /// Ends at this instant, if it ends. At or before `valid_from`, the
    /// licence is never in force (how a licence not yet begun is cancelled).
    pub valid_until: Option<DateTime<Utc>>,
    /// Billable units per period; absent means unlimited.
    pub quota: Option<Quota>,
    /// Requests per minute (1 to 1000000); absent means unlimited.
    #[schema(minimum = 1, maximum = 1000000)]
    pub rate_limit_per_minute: Option<i32>,
    /// Price per billable unit.
    pub price_per_unit: Option<Price>,
}

/// Reads a field that may be absent (leave alone), `null` (clear) or a value.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Changes to a licence; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_until": "2026-12-31T00:00:00Z"}))]
pub struct UpdateLicenceRequest {
    /// The sections covered; `null` means all.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub sections: Option<Option<Vec<String>>>,
    /// `full` or `preview`.
    pub tier: Option<Tier>,
    /// Whether photos are delivered.
    pub include_media: Option<bool>,
    /// In force from this instant.
    pub valid_from: Option<DateTime<Utc>>,
    /// Ends at this instant; `null` means never. Ending a licence early takes
    /// effect on the next request.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// Billable units per period; `null` means unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Quota>)]
    pub quota: Option<Option<Quota>>,
    /// Requests per minute; `null` means unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 1000000)]
    pub rate_limit_per_minute: Option<Option<i32>>,
    /// Price per billable unit; `null` means none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Price>)]
    pub price_per_unit: Option<Option<Price>>,
}

fn sections_json(sections: Option<&Vec<String>>, errors: &mut Vec<FieldError>) -> Option<String> {
    let sections = sections?;
    if sections.is_empty() || sections.len() > 100 {
        errors.push(FieldError::new(
            "sections",
            "list 1 to 100 sections, or leave it out for all",
        ));
        return None;
    }
    let mut clean: Vec<String> = sections
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            single_line(s, 100)
                .map_err(|e| errors.push(FieldError::new(format!("sections.{i}"), e.to_string())))
                .ok()
        })
        .collect();
    clean.sort();
    clean.dedup();
    serde_json::to_string(&clean).ok()
}

/// Checks the rules that span fields and writes them into the row.
fn check(row: &LicenceRow, errors: &mut Vec<FieldError>) {
    if row
        .quota_units
        .is_some_and(|u| !(1..=1_000_000_000_000).contains(&u))
    {
        errors.push(FieldError::new("quota.units", "must be 1 to 10^12"));
    }
    if row
        .rate_limit_per_minute
        .is_some_and(|r| !(1..=1_000_000).contains(&r))
    {
        errors.push(FieldError::new(
            "rate_limit_per_minute",
            "must be 1 to 1000000",
        ));
    }
    if row
        .price_amount_minor
        .is_some_and(|a| !(0..=1_000_000_000_000).contains(&a))
    {
        errors.push(FieldError::new(
            "price_per_unit.amount_minor",
            "must be 0 to 10^12",
        ));
    }
    if row
        .price_currency
        .as_deref()
        .is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        errors.push(FieldError::new(
            "price_per_unit.currency",
            "must be an ISO 4217 code such as GBP",
        ));
    }
}

fn create(conn: &mut DbConnection, request: &CreateLicenceRequest) -> Result<LicenceRow, ApiError> {
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    let licensee = request.licensee_id.hyphenated().to_string();
    let publisher = request.publisher_id.hyphenated().to_string();
    match organisations::find_licensee(conn, &licensee) {
        Err(StorageError::NotFound) => {
            unknown.push(FieldError::new("licensee_id", "no licensee has this id"))
        }
        other => drop(other?),
    }
    match organisations::find_publisher(conn, &publisher) {
        Err(StorageError::NotFound) => {
            unknown.push(FieldError::new("publisher_id", "no publisher has this id"))
        }
        other => drop(other?),
    }
    let sections = sections_json(request.sections.as_ref(), &mut errors);
    let at = now();
    let row = LicenceRow {
        id: LicenceId::generate().to_string(),
        licensee_id: licensee,
        publisher_id: publisher,
        sections,
        tier: request.tier.as_str().to_owned(),
        include_media: request.include_media,
        valid_from: request.valid_from.naive_utc(),
        valid_until: request.valid_until.map(|t| t.naive_utc()),
        quota_units: request.quota.as_ref().map(|q| q.units),
        quota_period: request.quota.as_ref().map(|q| q.period.as_str().to_owned()),
        rate_limit_per_minute: request.rate_limit_per_minute,
        price_amount_minor: request.price_per_unit.as_ref().map(|p| p.amount_minor),
        price_currency: request.price_per_unit.as_ref().map(|p| p.currency.clone()),
        created_at: at,
        updated_at: at,
    };
    check(&row, &mut errors);
    ApiError::check_fields(errors, unknown)?;
    licences::insert(conn, &row)?;
    Ok(row)
}

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
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
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
    let row = db(&state, move |conn| create(conn, &request)).await?;
    Ok(HttpResponse::Created().json(LicenceResponse::from(row)))
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

/// The licences a caller may see: all for admins, its own for a licensee,
/// those on its content for a publisher.
fn visible_to(caller: &Caller, query: &LicenceQuery) -> LicenceFilter {
    match caller.role {
        Role::Admin => LicenceFilter {
            licensee_id: query.licensee_id.map(|id| id.hyphenated().to_string()),
            publisher_id: query.publisher_id.map(|id| id.hyphenated().to_string()),
        },
        Role::Licensee => LicenceFilter {
            licensee_id: caller.licensee_id().map(|id| id.to_string()),
            publisher_id: query.publisher_id.map(|id| id.hyphenated().to_string()),
        },
        Role::Publisher => LicenceFilter {
            licensee_id: query.licensee_id.map(|id| id.hyphenated().to_string()),
            publisher_id: caller.publisher_id().map(|id| id.to_string()),
        },
    }
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
    .parse(licences::LICENCES)?;
    let filter = visible_to(&caller, &query);
    let rows = db(&state, move |conn| {
        Ok(licences::list(conn, &filter, &page)?)
    })
    .await?;
    Ok(web::Json(rows.map(LicenceResponse::from).into()))
}

fn load_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: &str,
) -> Result<LicenceRow, ApiError> {
    let row = match licences::find(conn, id) {
        Err(StorageError::NotFound) => {
            return Err(ApiError::NotFound("no such licence".to_owned()));
        }
        other => other?,
    };
    let mine = match caller.role {
        Role::Admin => true,
        Role::Licensee => caller
            .licensee_id()
            .is_some_and(|l| l.to_string() == row.licensee_id),
        Role::Publisher => caller
            .publisher_id()
            .is_some_and(|p| p.to_string() == row.publisher_id),
    };
    if mine {
        Ok(row)
    } else {
        Err(ApiError::NotFound("no such licence".to_owned()))
    }
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
    let id = LicenceId(id.into_inner()).to_string();
    let row = db(&state, move |conn| load_visible(conn, &caller, &id)).await?;
    Ok(web::Json(row.into()))
}

/// Changes a licence, e.g. ends it early (`valid_until`), changes its tier,
/// quota, rate limit or price. Takes effect on the next request.
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
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
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
    let id = LicenceId(id.into_inner()).to_string();
    let request = body.into_inner();
    let row = db(&state, move |conn| {
        let mut row = load_visible(conn, &caller, &id)?;
        let mut errors = Vec::new();
        if let Some(sections) = &request.sections {
            row.sections = match sections {
                Some(list) => sections_json(Some(list), &mut errors),
                None => None,
            };
        }
        if let Some(tier) = request.tier {
            row.tier = tier.as_str().to_owned();
        }
        if let Some(include_media) = request.include_media {
            row.include_media = include_media;
        }
        if let Some(valid_from) = request.valid_from {
            row.valid_from = valid_from.naive_utc();
        }
        if let Some(valid_until) = request.valid_until {
            row.valid_until = valid_until.map(|t| t.naive_utc());
        }
        if let Some(quota) = &request.quota {
            row.quota_units = quota.as_ref().map(|q| q.units);
            row.quota_period = quota.as_ref().map(|q| q.period.as_str().to_owned());
        }
        if let Some(rate) = request.rate_limit_per_minute {
            row.rate_limit_per_minute = rate;
        }
        if let Some(price) = &request.price_per_unit {
            row.price_amount_minor = price.as_ref().map(|p| p.amount_minor);
            row.price_currency = price.as_ref().map(|p| p.currency.clone());
        }
        check(&row, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        row.updated_at = now();
        licences::update(conn, &row)?;
        Ok(row)
    })
    .await?;
    Ok(web::Json(row.into()))
}
