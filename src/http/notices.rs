//! `/v1/notices` and `/v1/compliance`: takedown notices and their
//! acknowledgement, and the publisher's compliance report. The wire only:
//! the work is `notices`'.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::Role;
use crate::identity::Caller;
use crate::notices::compliance::{self, ComplianceReport, ComplianceRequest};
use crate::notices::takedowns::{self, Acknowledgement, Notice, NoticeStatus};
use crate::storage::notices::NOTICE_LIST;

crate::page_response!(
    /// A page of takedown notices.
    NoticePage,
    Notice
);

/// Which notices to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NoticeListQuery {
    /// Only notices that are `open`, `acknowledged` or `overdue`.
    pub status: Option<NoticeStatus>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page; absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A licensee's confirmation that it removed a killed article.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"removed_at": "2026-12-01T09:20:00Z", "note": "Removed from the app and the search index."}))]
pub struct AcknowledgeRequest {
    /// When the article was removed (RFC 3339). An instant in the future is a 409.
    pub removed_at: DateTime<Utc>,
    /// A note for the publisher: one line, 1 to 1000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub note: Option<String>,
}

/// What the compliance report covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplianceQuery {
    /// Kills from this instant (inclusive, RFC 3339); absent means the beginning.
    pub from: Option<DateTime<Utc>>,
    /// Kills until this instant (exclusive, RFC 3339); absent means now.
    pub to: Option<DateTime<Utc>>,
    /// Admins: only this publisher's articles. A publisher may name only itself (else 403).
    pub publisher_id: Option<Uuid>,
    /// `json` (default) or `csv`.
    pub format: Option<ComplianceFormat>,
}

/// The report's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceFormat {
    /// `application/json`.
    Json,
    /// `text/csv`, one line per takedown and licensee.
    Csv,
}

/// Lists takedown notices, oldest first: a licensee its own, a publisher
/// those about its articles, an admin all. A kill makes one notice for
/// each licensee the usage ledger shows received the article.
///
/// Any authenticated client, scoped by role. Not metered.
#[utoipa::path(
    tag = "notices",
    security(("bearer" = []), ("oauth2" = [])),
    params(NoticeListQuery),
    responses(
        (status = 200, description = "A page of notices", body = NoticePage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/notices")]
pub async fn list_notices(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<NoticeListQuery>,
) -> Result<web::Json<NoticePage>, ApiError> {
    let query = query.into_inner();
    super::at_most("cursor", query.cursor.as_deref(), 200)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse(NOTICE_LIST)?;
    let status = query.status;
    let found = db(&state, move |conn| {
        Ok(takedowns::list(conn, &caller, status, &page)?)
    })
    .await?;
    Ok(web::Json(found.into()))
}

/// Confirms that the licensee removed a killed article. Once per notice
/// (again: 409).
///
/// The licensee the notice is for. Not metered.
#[utoipa::path(
    tag = "notices",
    security(("bearer" = []), ("oauth2" = [])),
    params(("notice_id" = Uuid, Path, description = "Notice id")),
    request_body = AcknowledgeRequest,
    responses(
        (status = 200, description = "The notice, acknowledged", body = Notice),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 408, response = responses::RequestTimeout),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/notices/{notice_id}/acknowledge")]
pub async fn acknowledge_notice(
    caller: Caller,
    state: web::Data<AppState>,
    notice_id: web::Path<Uuid>,
    body: super::JsonBody<AcknowledgeRequest>,
) -> Result<web::Json<Notice>, ApiError> {
    caller.require(Role::Licensee)?;
    let id = notice_id.into_inner();
    let body = body.into_inner();
    let ack = Acknowledgement {
        removed_at: body.removed_at,
        note: body.note,
    };
    let notice = db(&state, move |conn| {
        Ok(takedowns::acknowledge(conn, &caller, id, ack)?)
    })
    .await?;
    Ok(web::Json(notice))
}

/// The compliance report: per takedown in the range, each licensee that
/// received the article (deliveries and the last one's time, from the usage
/// ledger), when it was notified and acknowledged, whether it is overdue,
/// and its requests after the kill (answered 410); per licensee the
/// acknowledgement rate and the median time to acknowledge. `format=csv`
/// or `Accept: text/csv` gives one CSV line per takedown and licensee.
///
/// Publishers (their own articles) and admins. Not metered.
#[utoipa::path(
    tag = "notices",
    security(("bearer" = []), ("oauth2" = [])),
    params(ComplianceQuery),
    responses(
        (status = 200, description = "The report", content(
            (ComplianceReport = "application/json"),
            (String = "text/csv", example = "kind,article_id,media_id,publisher_id,killed_at,licensee_id,deliveries,last_delivered_at,notified_at,deadline_at,acknowledged_at,removed_at,status,overdue,fetches_after_kill\n"),
        )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/compliance")]
pub async fn get_compliance(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ComplianceQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Admin, Role::Publisher])?;
    let query = query.into_inner();
    let request = ComplianceRequest {
        from: query.from,
        to: query.to.unwrap_or_else(Utc::now),
        publisher_id: query.publisher_id,
    };
    let report = db(&state, move |conn| {
        Ok(compliance::report(conn, &caller, &request)?)
    })
    .await?;
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = query.format.unwrap_or(if accept.contains("text/csv") {
        ComplianceFormat::Csv
    } else {
        ComplianceFormat::Json
    });
    Ok(match format {
        ComplianceFormat::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(compliance::csv(&report)),
        ComplianceFormat::Json => HttpResponse::Ok().json(report),
    })
}
