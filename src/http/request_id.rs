//! Per-request context: the request id (an incoming `X-Request-Id` when it
//! is sane, else a new UUIDv7), the request's log span, the access log line,
//! the error log of every 5xx (once per kind and interval, through the
//! node's [`ErrorLog`](crate::telemetry::ErrorLog)), the watch on the request
//! body ([`body`](super::body)), and a last line of defence that turns any
//! error response without a body of ours (actix internals, static assets)
//! into a problem.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use tracing::Instrument;

use super::body::{BodyPolicy, Watch};
use super::context::{CONTEXT, RequestContext};
use super::problem::{ApiError, Problem, ProblemType, problem_response};
use super::{AppState, Draining};
use crate::storage::StorageError;
use crate::telemetry::CauseChain;

/// The request id header, read and echoed.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest incoming request id that is honoured.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Keeps an incoming id if it is short and plain, else makes a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// The middleware: see the module documentation.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let context = RequestContext {
        id: request_id(&req),
        path: req.path().to_owned(),
    };
    let span = tracing::info_span!(
        "request",
        request_id = %context.id,
        http.method = %req.method(),
        http.path = %context.path,
    );
    let started = Instant::now();
    let draining = req
        .app_data::<web::Data<Draining>>()
        .is_some_and(|d| d.is_draining());
    let id = context.id.clone();
    let body = Watch::take(&mut req, |req| {
        req.app_data::<web::Data<BodyPolicy>>()
            .map(|policy| ***policy)
    });
    let result = CONTEXT
        .scope(context.clone(), next.call(req).instrument(span.clone()))
        .await;
    let mut response = match result {
        Ok(response) => normalise(response.map_into_boxed_body(), &context),
        Err(error) => return Err(error),
    };
    if let Some(body) = body {
        if let Some(refusal) = body.cut_off() {
            response = answer(response, &context, ApiError::RequestTimeout(refusal));
        }
        response = body.hold_until_sent(response);
    }
    if response.status().is_server_error() {
        span.in_scope(|| record_failure(&response));
    }
    if draining {
        // Shutting down: finish this response, then close the connection so
        // keep-alive clients reconnect elsewhere instead of sending into a
        // connection that is about to be dropped.
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    span.in_scope(|| {
        tracing::info!(
            http.status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request completed"
        );
    });
    Ok(response)
}

/// Counts and logs a 5xx (once per kind and interval) with its cause
/// chain, and tells readiness of the storage failure behind it.
fn record_failure(response: &ServiceResponse<BoxBody>) {
    let Some(state) = response.request().app_data::<web::Data<AppState>>() else {
        return;
    };
    let error = response
        .response()
        .error()
        .and_then(|error| error.as_error::<ApiError>());
    match error {
        Some(error) => {
            if let Some(fault) = StorageError::find(error).and_then(StorageError::fault) {
                state.health.note(fault);
            }
            let class = error.class();
            state
                .errors
                .record("request", "request failed", class, &CauseChain(error));
        }
        None => state.errors.record(
            "request",
            "request failed",
            "internal",
            &format_args!("{} without an error of ours", response.status()),
        ),
    }
}

/// Replaces a response with the problem `error` is sent as.
fn answer(
    response: ServiceResponse<BoxBody>,
    context: &RequestContext,
    error: ApiError,
) -> ServiceResponse<BoxBody> {
    use actix_web::ResponseError;
    let problem = CONTEXT.sync_scope(context.clone(), || error.error_response());
    let (request, _) = response.into_parts();
    ServiceResponse::new(request, problem)
}

/// Replaces an error response that has no body of ours with a problem.
fn normalise(
    response: ServiceResponse<BoxBody>,
    context: &RequestContext,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let problem_type = ProblemType::for_status(status);
    let detail = match status.as_u16() {
        404 => format!("nothing at {}", context.path),
        405 => "this method is not allowed here".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let problem = Problem {
        problem_type: problem_type.uri(),
        title: problem_type.title.to_owned(),
        status: status.as_u16(),
        detail,
        instance: context.path.clone(),
        request_id: context.id.clone(),
        errors: Vec::new(),
        retry_after: None,
        existing_id: None,
        killed_at: None,
        reason: None,
        purpose: None,
        purposes: None,
    };
    let mut builder = HttpResponse::build(status);
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_ENCODING
        {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let (request, _) = response.into_parts();
    ServiceResponse::new(request, problem_response(builder, &problem))
}
