//! `/v1/quota` and `/v1/usage`: where a licensee stands against its quotas,
//! and usage reports for every party, all from the one ledger. The wire
//! only: the work is `metering`'s.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, db, utc};
use crate::domain::Role;
use crate::identity::Caller;
use crate::metering::quota;
use crate::metering::reports::{self, Grouping, ReportFormat, ReportRequest, UsageReport};
use crate::storage::now;

/// A licence's standing in its current period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "licence_id": "019ac0a7-2222-7333-8444-555566667777",
    "period": "day",
    "units": 500,
    "used": 42,
    "remaining": 458,
    "resets_at": "2026-11-29T00:00:00Z"
}))]
pub struct QuotaResponse {
    /// The licence.
    pub licence_id: Uuid,
    /// `day` or `month` (UTC calendar periods).
    pub period: String,
    /// Billable units allowed per period; absent means unlimited.
    pub units: Option<i64>,
    /// Billable units used this period.
    pub used: i64,
    /// Units left; absent means unlimited.
    pub remaining: Option<i64>,
    /// When the period ends and the count starts again.
    pub resets_at: DateTime<Utc>,
}

/// The licensee's quotas.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuotaList {
    /// One entry per licence in force.
    pub licences: Vec<QuotaResponse>,
}

/// Where the licensee stands against each licence's billable quota in the
/// current period. Re-fetches of articles already billed this period do not
/// count.
///
/// Licensees only. Not metered.
#[utoipa::path(
    tag = "usage",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "Quotas of the licences in force", body = QuotaList),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/quota")]
pub async fn get_quota(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<QuotaList>, ApiError> {
    caller.require(Role::Licensee)?;
    let licensee = caller
        .licensee_id()
        .ok_or_else(|| ApiError::Forbidden("this client acts for no licensee".to_owned()))?;
    let at = now();
    let usage = state.usage.clone();
    let standings = db(&state, move |conn| {
        Ok(quota::standings(conn, licensee, at, |licence, period| {
            usage.unshipped_units(licence, period)
        })?)
    })
    .await?;
    let licences = standings
        .into_iter()
        .map(|standing| QuotaResponse {
            licence_id: standing.licence_id,
            period: standing.period.as_str().to_owned(),
            units: standing.units,
            used: standing.used,
            remaining: standing.remaining(),
            resets_at: utc(standing.resets_at),
        })
        .collect();
    Ok(web::Json(QuotaList { licences }))
}

/// What a report covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// From this instant (inclusive, RFC 3339); absent means the beginning.
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive, RFC 3339); absent means now. A range
    /// that ends where it starts, or before, holds no deliveries.
    pub to: Option<DateTime<Utc>>,
    /// `day` (default), `article`, `publisher`, `licensee`, `licence` or
    /// `purpose` (what deliveries were fetched for: `display`, `ai-input`, …).
    pub group_by: Option<Grouping>,
    /// `json` (default), `csv` or `svg`. The SVG chart draws every UTC day
    /// of the range (days without deliveries as zero; an open start begins
    /// at the first delivery) in three panels, deliveries, billable units
    /// and the amount per currency, each day's bar stacked by group: the six
    /// largest groups by deliveries, named by their labels in a legend, and
    /// the rest as one "others" series.
    pub format: Option<ReportFormat>,
    /// Admins and publishers: only this licensee's deliveries. A licensee
    /// may name only itself (else 403).
    pub licensee_id: Option<Uuid>,
    /// Admins and licensees: only deliveries of this publisher's content. A
    /// publisher may name only itself (else 403).
    pub publisher_id: Option<Uuid>,
}

/// A usage report for a time range, grouped by day, article, publisher,
/// licensee or licence: deliveries, billable units and amounts (billable
/// units × price). A licensee sees its own usage; a publisher sees usage of
/// its content (its royalty statement); an admin sees all. Every view is
/// aggregated from the same ledger, so they agree to the unit and the cent.
/// Each row has a `label` beside its key: the article's headline, the
/// publisher's or licensee's name, the licence as "licensee ← publisher
/// (tier)", the day. `format=csv` or `Accept: text/csv` gives the same rows
/// as CSV (RFC 4180) with a header row; `format=svg` or `Accept:
/// image/svg+xml` draws the range day by day.
///
/// Any authenticated client, scoped by role. Not metered.
#[utoipa::path(
    tag = "usage",
    security(("bearer" = []), ("oauth2" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "The report", content(
            (UsageReport = "application/json"),
            (String = "text/csv", example = "key,label,currency,deliveries,billable_units,amount_minor\r\n019ac0a7-1111-7222-8333-444455556666,\"Harbour Gazette, Sunday edition\",GBP,12,9,225\r\n019ac0a7-2222-7333-8444-555566667777,新华社,GBP,3,3,75\r\n"),
            (String = "image/svg+xml"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/usage")]
pub async fn get_usage(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<UsageQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let request = ReportRequest {
        from: query.from,
        to: query.to.unwrap_or_else(Utc::now),
        group_by: query.group_by.unwrap_or_default(),
        licensee_id: query.licensee_id,
        publisher_id: query.publisher_id,
    };
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = query.format.unwrap_or(if accept.contains("text/csv") {
        ReportFormat::Csv
    } else if accept.contains("image/svg+xml") {
        ReportFormat::Svg
    } else {
        ReportFormat::Json
    });
    let wanted = request.clone();
    if format == ReportFormat::Svg {
        let series = db(&state, move |conn| {
            Ok(reports::series(conn, &caller, &wanted)?)
        })
        .await?;
        return Ok(HttpResponse::Ok()
            .content_type("image/svg+xml")
            .body(reports::svg(&request, &series)));
    }
    let (rows, as_of) = db(&state, move |conn| {
        Ok(reports::rows(conn, &caller, &wanted)?)
    })
    .await?;
    Ok(if format == ReportFormat::Csv {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(reports::csv(&rows))
    } else {
        let report: UsageReport = reports::report(&request, rows, as_of);
        HttpResponse::Ok().json(report)
    })
}
