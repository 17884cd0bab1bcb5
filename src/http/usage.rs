//! `/v1/quota` and `/v1/usage`: where a licensee stands against its quotas,
//! and usage reports for every party, all from the one ledger.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::form_urlencoded;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, db, utc};
use crate::domain::Role;
use crate::identity::Caller;
use crate::metering::Period;
use crate::storage::usage::{self, GroupBy, ReportRow, ReportScope};
use crate::storage::{licences, now};

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
        .ok_or_else(|| ApiError::Forbidden("this client acts for no licensee".to_owned()))?
        .to_string();
    let at = now();
    let list = db(&state, move |conn| {
        let mut out = Vec::new();
        for licence in licences::of_licensee(conn, &licensee)? {
            let in_force = licence.valid_from <= at && licence.valid_until.is_none_or(|u| at < u);
            if !in_force {
                continue;
            }
            let period = Period::from_stored(licence.quota_period.as_deref());
            let start = period.start(at);
            let used = match licence.quota_units {
                Some(_) => usage::counter(conn, &licence.id, start)?,
                None => {
                    usage::billable_between(conn, &licensee, &licence.id, start, period.end(at))?
                }
            };
            out.push(QuotaResponse {
                licence_id: licence.id.parse().unwrap_or_default(),
                period: period.as_str().to_owned(),
                units: licence.quota_units,
                used,
                remaining: licence.quota_units.map(|u| (u - used).max(0)),
                resets_at: utc(period.end(at)),
            });
        }
        Ok(out)
    })
    .await?;
    Ok(web::Json(QuotaList { licences: list }))
}

/// How a report groups deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// By UTC day (`YYYY-MM-DD`).
    #[default]
    Day,
    /// By article id.
    Article,
    /// By publisher id.
    Publisher,
    /// By licensee id.
    Licensee,
    /// By licence id.
    Licence,
}

/// Report output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// JSON (default).
    Json,
    /// CSV with a header row (also chosen by `Accept: text/csv`).
    Csv,
    /// An SVG bar chart (also chosen by `Accept: image/svg+xml`).
    Svg,
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
    /// `day` (default), `article`, `publisher`, `licensee` or `licence`.
    pub group_by: Option<Grouping>,
    /// `json` (default), `csv` or `svg`.
    pub format: Option<ReportFormat>,
    /// Admins and publishers: only this licensee's deliveries. A licensee
    /// may name only itself (else 403).
    pub licensee_id: Option<Uuid>,
    /// Admins and licensees: only deliveries of this publisher's content. A
    /// publisher may name only itself (else 403).
    pub publisher_id: Option<Uuid>,
}

/// One group of deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageRow {
    /// The group: a day, or an article, publisher, licensee or licence id.
    pub key: String,
    /// Deliveries, billable or not.
    pub deliveries: i64,
    /// Billable deliveries.
    pub billable_units: i64,
    /// Billable units × price, in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code of the price; absent when the licence has no price.
    pub currency: Option<String>,
}

/// An amount in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Amount {
    /// ISO 4217 code; absent for unpriced deliveries.
    pub currency: Option<String>,
    /// In minor units.
    pub amount_minor: i64,
}

/// Totals of a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageTotals {
    /// Deliveries, billable or not.
    pub deliveries: i64,
    /// Billable deliveries.
    pub billable_units: i64,
    /// Amounts, one per currency.
    pub amounts: Vec<Amount>,
}

/// A usage report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-11-01T00:00:00Z",
    "to": "2026-12-01T00:00:00Z",
    "group_by": "day",
    "rows": [
        {"key": "2026-11-27", "deliveries": 14, "billable_units": 11, "amount_minor": 275, "currency": "GBP"},
        {"key": "2026-11-28", "deliveries": 9, "billable_units": 6, "amount_minor": 150, "currency": "GBP"}
    ],
    "totals": {"deliveries": 23, "billable_units": 17, "amounts": [{"currency": "GBP", "amount_minor": 425}]},
    "chart": "/v1/usage?from=2026-11-01T00%3A00%3A00%2B00%3A00&to=2026-12-01T00%3A00%3A00%2B00%3A00&group_by=day&format=svg"
}))]
pub struct UsageReport {
    /// Start of the range, if bounded.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive).
    pub to: DateTime<Utc>,
    /// The grouping.
    pub group_by: Grouping,
    /// One row per group and currency, sorted.
    pub rows: Vec<UsageRow>,
    /// Sums over all rows.
    pub totals: UsageTotals,
    /// The same report drawn as an SVG chart.
    pub chart: String,
}

fn totals(rows: &[ReportRow]) -> UsageTotals {
    let mut amounts: Vec<Amount> = Vec::new();
    for row in rows {
        match amounts.iter_mut().find(|a| a.currency == row.currency) {
            Some(amount) => amount.amount_minor += row.amount_minor,
            None => amounts.push(Amount {
                currency: row.currency.clone(),
                amount_minor: row.amount_minor,
            }),
        }
    }
    amounts.sort_by(|a, b| a.currency.cmp(&b.currency));
    UsageTotals {
        deliveries: rows.iter().map(|r| r.deliveries).sum(),
        billable_units: rows.iter().map(|r| r.billable_units).sum(),
        amounts,
    }
}

/// Escapes a CSV field.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// A usage report for a time range, grouped by day, article, publisher,
/// licensee or licence: deliveries, billable units and amounts (billable
/// units × price). A licensee sees its own usage; a publisher sees usage of
/// its content (its royalty statement); an admin sees all. Every view is
/// aggregated from the same ledger, so they agree to the unit and the cent.
/// `format=csv` or `Accept: text/csv` gives CSV with a header row.
///
/// Any authenticated client, scoped by role. Not metered.
#[utoipa::path(
    tag = "usage",
    security(("bearer" = []), ("oauth2" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "The report", content(
            (UsageReport = "application/json"),
            (String = "text/csv", example = "key,currency,deliveries,billable_units,amount_minor\n2026-11-28,GBP,12,9,225\n"),
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
    let to = query.to.unwrap_or_else(Utc::now);
    let mut scope = ReportScope {
        licensee_id: None,
        publisher_id: None,
        from: query.from.map(|t| t.naive_utc()),
        to: Some(to.naive_utc()),
    };
    match caller.role {
        Role::Admin => {
            scope.licensee_id = query.licensee_id.map(|id| id.hyphenated().to_string());
            scope.publisher_id = query.publisher_id.map(|id| id.hyphenated().to_string());
        }
        Role::Licensee => {
            let own = caller.licensee_id().map(|id| id.to_string());
            if query
                .licensee_id
                .is_some_and(|id| Some(id.hyphenated().to_string()) != own)
            {
                return Err(ApiError::Forbidden(
                    "a licensee sees its own usage only; leave out licensee_id".to_owned(),
                ));
            }
            scope.licensee_id = own;
            scope.publisher_id = query.publisher_id.map(|id| id.hyphenated().to_string());
        }
        Role::Publisher => {
            let own = caller.publisher_id().map(|id| id.to_string());
            if query
                .publisher_id
                .is_some_and(|id| Some(id.hyphenated().to_string()) != own)
            {
                return Err(ApiError::Forbidden(
                    "a publisher sees usage of its own content only; leave out publisher_id"
                        .to_owned(),
                ));
            }
            scope.publisher_id = own;
            scope.licensee_id = query.licensee_id.map(|id| id.hyphenated().to_string());
        }
    }
    let grouping = query.group_by.unwrap_or_default();
    let group_by = match grouping {
        Grouping::Day => GroupBy::Day,
        Grouping::Article => GroupBy::Article,
        Grouping::Publisher => GroupBy::Publisher,
        Grouping::Licensee => GroupBy::Licensee,
        Grouping::Licence => GroupBy::Licence,
    };
    let rows = db(&state, move |conn| {
        Ok(usage::report(conn, &scope, group_by)?)
    })
    .await?;
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
    let grouping_name = serde_json::to_value(grouping)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if format == ReportFormat::Svg {
        let title = format!("Deliveries and billable units by {grouping_name}");
        return Ok(HttpResponse::Ok()
            .content_type("image/svg+xml")
            .body(super::chart::render(&title, &grouping_name, &rows)));
    }
    if format == ReportFormat::Csv {
        let mut csv = String::from("key,currency,deliveries,billable_units,amount_minor\n");
        for row in &rows {
            csv.push_str(&format!(
                "{},{},{},{},{}\n",
                csv_field(&row.key),
                csv_field(row.currency.as_deref().unwrap_or("")),
                row.deliveries,
                row.billable_units,
                row.amount_minor
            ));
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv));
    }
    let chart = {
        let mut query_string = form_urlencoded::Serializer::new(String::new());
        if let Some(from) = query.from {
            query_string.append_pair("from", &from.to_rfc3339());
        }
        query_string.append_pair("to", &to.to_rfc3339());
        query_string.append_pair("group_by", &grouping_name);
        for (name, id) in [
            ("licensee_id", query.licensee_id),
            ("publisher_id", query.publisher_id),
        ] {
            if let Some(id) = id {
                query_string.append_pair(name, &id.to_string());
            }
        }
        query_string.append_pair("format", "svg");
        format!("/v1/usage?{}", query_string.finish())
    };
    let report = UsageReport {
        chart,
        from: query.from,
        to,
        group_by: grouping,
        totals: totals(&rows),
        rows: rows
            .into_iter()
            .map(|r| UsageRow {
                key: r.key,
                deliveries: r.deliveries,
                billable_units: r.billable_units,
                amount_minor: r.amount_minor,
                currency: r.currency,
            })
            .collect(),
    };
    Ok(HttpResponse::Ok().json(report))
}
