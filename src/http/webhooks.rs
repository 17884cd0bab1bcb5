//! `/v1/webhooks`: a licensee's webhook endpoints, their attempts, and
//! sending again. Licensees manage their own, admins any licensee's;
//! publishers none. The wire only: the work is `notices`'.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::Role;
use crate::identity::Caller;
use crate::notices::attempts::{self, Attempt};
use crate::notices::endpoints::{self, Endpoint, EndpointInput, EndpointWithSecret};
use crate::storage::webhooks::{ATTEMPT_LIST, ENDPOINT_LIST};

crate::page_response!(
    /// A page of webhook endpoints.
    WebhookPage,
    Endpoint
);

crate::page_response!(
    /// A page of delivery attempts.
    AttemptPage,
    Attempt
);

/// A new webhook endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://ingest.morningbrief.example/hooks/syndicate",
    "event_types": ["article.killed", "article.corrected"]
}))]
pub struct CreateWebhookRequest {
    /// Where to POST events: an absolute http(s) URL, at most 2000
    /// characters, whose host is not and does not resolve to a loopback,
    /// private, shared, link-local or metadata address (nor `localhost`),
    /// unless the operator allows the host; else 422.
    #[schema(max_length = 2000, format = "uri")]
    pub url: String,
    /// Event types to send, at least one.
    #[schema(min_items = 1, inline)]
    pub event_types: Vec<EventType>,
    /// Whether to send (default true).
    pub active: Option<bool>,
    /// Admins: the licensee the endpoint is for (required). A licensee may
    /// name only itself.
    pub licensee_id: Option<Uuid>,
}

/// An event type a webhook endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An article became public (at its embargo, if any).
    #[serde(rename = "article.published")]
    Published,
    /// A public article was edited.
    #[serde(rename = "article.updated")]
    Updated,
    /// A public article was corrected (with the correction's note).
    #[serde(rename = "article.corrected")]
    Corrected,
    /// An article was withheld for now.
    #[serde(rename = "article.withheld")]
    Withheld,
    /// An article was killed for good: remove it.
    #[serde(rename = "article.killed")]
    Killed,
    /// A photo's rights ended while it appears in a live story the licensee received: remove the photo.
    #[serde(rename = "media.rights_ended")]
    RightsEnded,
    /// A licence of the licensee ends within the operator's notice period (`--licence-ending-notice-hours`).
    #[serde(rename = "licence.ending")]
    LicenceEnding,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Published => "article.published",
            EventType::Updated => "article.updated",
            EventType::Corrected => "article.corrected",
            EventType::Withheld => "article.withheld",
            EventType::Killed => "article.killed",
            EventType::RightsEnded => "media.rights_ended",
            EventType::LicenceEnding => "licence.ending",
        }
    }
}

fn type_names(types: &[EventType]) -> Vec<String> {
    types.iter().map(|t| t.as_str().to_owned()).collect()
}

/// Changes to a webhook endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": false}))]
pub struct UpdateWebhookRequest {
    /// A new URL, under the rules of creation.
    #[schema(max_length = 2000, format = "uri")]
    pub url: Option<String>,
    /// New event types, at least one.
    #[schema(min_items = 1, inline)]
    pub event_types: Option<Vec<EventType>>,
    /// Whether to send; an inactive endpoint's deliveries wait.
    pub active: Option<bool>,
}

/// Which endpoints to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WebhookListQuery {
    /// Admins: only this licensee's endpoints. A licensee may name only itself (else 403).
    pub licensee_id: Option<Uuid>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page; absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// A rotation's overlap.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RotateQuery {
    /// Seconds the old secret keeps signing beside the new one, 0 to 604800 (default 86400).
    #[param(minimum = 0, maximum = 604800, example = 86400)]
    pub overlap_seconds: Option<i64>,
}

/// What to send again.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RedeliverQuery {
    /// This event once more (it must have been sent to this endpoint);
    /// absent: every delivery that was given up.
    pub event_id: Option<Uuid>,
}

/// How many deliveries were queued.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"requeued": 1}))]
pub struct RedeliverResponse {
    /// Deliveries queued to be sent now.
    pub requeued: u64,
}

/// Registers a webhook endpoint and returns its signing secret, once.
///
/// Every event of the types named, about content the licensee's licences
/// cover, is POSTed to the URL, signed (Standard Webhooks). Licensees
/// create their own; admins name the licensee. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created; the secret is in this response only", body = EndpointWithSecret),
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
#[post("/v1/webhooks")]
pub async fn create_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let body = body.into_inner();
    let url = endpoints::check_url(&state.webhook_guard, &body.url).await?;
    let input = EndpointInput {
        licensee_id: body.licensee_id,
        url: Some(url),
        event_types: Some(type_names(&body.event_types)),
        active: body.active,
    };
    let created = db(&state, move |conn| {
        Ok(endpoints::create(conn, &caller, input)?)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::LOCATION,
            format!("/v1/webhooks/{}", created.endpoint.id),
        ))
        .json(created))
}

/// Lists webhook endpoints, oldest first: a licensee's own; an admin's all
/// (or one licensee's).
///
/// Licensees and admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(WebhookListQuery),
    responses(
        (status = 200, description = "A page of endpoints", body = WebhookPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/webhooks")]
pub async fn list_webhooks(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<WebhookListQuery>,
) -> Result<web::Json<WebhookPage>, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let query = query.into_inner();
    super::at_most("cursor", query.cursor.as_deref(), 200)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse(ENDPOINT_LIST)?;
    let licensee = query.licensee_id;
    let found = db(&state, move |conn| {
        Ok(endpoints::list(conn, &caller, licensee, &page)?)
    })
    .await?;
    Ok(web::Json(found.into()))
}

/// Shows one webhook endpoint (never its secret).
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = Endpoint),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/webhooks/{webhook_id}")]
pub async fn get_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
) -> Result<web::Json<Endpoint>, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    let found = db(&state, move |conn| Ok(endpoints::get(conn, &caller, id)?)).await?;
    Ok(web::Json(found))
}

/// Changes a webhook endpoint's URL, event types or active flag.
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The endpoint as changed", body = Endpoint),
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
#[patch("/v1/webhooks/{webhook_id}")]
pub async fn update_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
    body: super::JsonBody<UpdateWebhookRequest>,
) -> Result<web::Json<Endpoint>, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    let body = body.into_inner();
    let url = match &body.url {
        Some(url) => Some(endpoints::check_url(&state.webhook_guard, url).await?),
        None => None,
    };
    let input = EndpointInput {
        licensee_id: None,
        url,
        event_types: body.event_types.as_deref().map(type_names),
        active: body.active,
    };
    let updated = db(&state, move |conn| {
        Ok(endpoints::update(conn, &caller, id, input)?)
    })
    .await?;
    Ok(web::Json(updated))
}

/// Deletes a webhook endpoint with its pending deliveries and attempts.
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[delete("/v1/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    db(&state, move |conn| {
        Ok(endpoints::delete(conn, &caller, id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces the endpoint's signing secret and returns the new one, once.
/// For `overlap_seconds` (default a day) every message is signed with both
/// the new and the old secret (two signatures in `webhook-signature`), so
/// the receiver can switch when it is ready.
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id"), RotateQuery),
    responses(
        (status = 200, description = "The new secret, in this response only", body = EndpointWithSecret),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/webhooks/{webhook_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
    query: web::Query<RotateQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    let overlap = query.overlap_seconds;
    let rotated = db(&state, move |conn| {
        Ok(endpoints::rotate_secret(conn, &caller, id, overlap)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(rotated))
}

/// Lists every attempt to deliver to the endpoint, oldest first: when,
/// how long, the outcome, the status and the first bytes of the answer.
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id"), PageQuery),
    responses(
        (status = 200, description = "A page of attempts", body = AttemptPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/webhooks/{webhook_id}/attempts")]
pub async fn list_webhook_attempts(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<AttemptPage>, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    let page = query.parse(ATTEMPT_LIST)?;
    let found = db(&state, move |conn| {
        Ok(attempts::list(conn, &caller, id, &page)?)
    })
    .await?;
    Ok(web::Json(found.into()))
}

/// Sends again: one event (with its original `webhook-id`), or every
/// delivery to the endpoint that was given up after its retries.
///
/// The licensee's own, or any for admins. Not metered.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = [])),
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id"), RedeliverQuery),
    responses(
        (status = 202, description = "Queued", body = RedeliverResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/webhooks/{webhook_id}/redeliver")]
pub async fn redeliver_webhook(
    caller: Caller,
    state: web::Data<AppState>,
    webhook_id: web::Path<Uuid>,
    query: web::Query<RedeliverQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Admin, Role::Licensee])?;
    let id = webhook_id.into_inner();
    let event = query.event_id;
    let requeued = db(&state, move |conn| {
        Ok(attempts::redeliver(conn, &caller, id, event)?)
    })
    .await?;
    Ok(HttpResponse::Accepted().json(RedeliverResponse {
        requeued: u64::try_from(requeued).unwrap_or(u64::MAX),
    }))
}
