//! Operational endpoints: liveness, readiness, metrics and the spec.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::{ApiError, Problem};
use super::{AppState, Draining};

/// The state of the process or of its dependencies.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `ok` when alive, `ready` when the database answers.
    #[schema(example = "ok")]
    pub status: String,
    /// The database backend in use (`sqlite` or `postgres`).
    #[schema(example = "sqlite")]
    pub database: String,
}

/// Liveness: the process is up and serving HTTP. Never touches the database.
///
/// Anyone may call it. Not metered.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The process is up", body = HealthResponse)),
)]
#[get("/healthz")]
pub async fn get_healthz(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse {
        status: "ok".to_owned(),
        database: state.backend.to_owned(),
    })
}

/// Readiness: what this node can do now. A load balancer should stop
/// sending traffic while this is 503; the problem's detail says why.
///
/// 503 within a second while the database does not answer (a check that
/// takes longer than 0.5 s counts as no answer), while writes fail (out of
/// space, a read-only database, I/O errors; until a write made by this
/// check commits again), while the usage ledger cannot record deliveries
/// (after its log failed to sync; until a restart), and while the node
/// shuts down.
///
/// Anyone may call it. Not metered.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Ready to serve", body = HealthResponse),
        (status = 503, description = "Not ready: the database does not answer, writes fail, the usage ledger cannot record, or the node is shutting down (the detail says which)", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds before checking again"))),
    ),
)]
#[get("/readyz")]
pub async fn get_readyz(
    state: web::Data<AppState>,
    draining: web::Data<Draining>,
) -> Result<HttpResponse, ApiError> {
    if draining.is_draining() {
        return Err(ApiError::ShuttingDown);
    }
    if let Some(broken) = state.usage.broken() {
        return Err(ApiError::NotReady {
            reason: broken.to_string(),
            cause: Box::new(broken),
        });
    }
    state
        .health
        .check()
        .await
        .map_err(|not_ready| ApiError::NotReady {
            reason: not_ready.reason(),
            cause: Box::new(not_ready),
        })?;
    Ok(HttpResponse::Ok().json(HealthResponse {
        status: "ready".to_owned(),
        database: state.backend.to_owned(),
    }))
}

/// Prometheus metrics in the text exposition format: request counts and
/// latency histograms by route pattern, method and status.
///
/// Anyone who can reach the port may call it (keep it off the public
/// network). Not metered.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4")),
)]
#[get("/metrics")]
pub async fn get_metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    use prometheus::Encoder;
    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::new();
    encoder
        .encode(&state.metrics.gather(), &mut body)
        .map_err(|error| ApiError::Internal(Box::new(error)))?;
    Ok(HttpResponse::Ok()
        .content_type(encoder.format_type())
        .body(body))
}

/// This OpenAPI 3.1 document.
///
/// Anyone may call it. Not metered.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json")),
)]
#[get("/openapi.json")]
pub async fn get_openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(state.openapi.clone())
}
