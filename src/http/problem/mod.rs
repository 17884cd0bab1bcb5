//! RFC 9457 problem details: the one error type handlers return, the table
//! of problem types, and the handlers that turn actix's own extractor errors
//! into problems, so no plain-text error ever leaves the service.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::context;
use crate::domain::purpose::{self, Purpose};
use crate::storage::StorageError;
use crate::storage::error::Fault;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem type: its URI slug, title and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProblemType {
    /// Last path segment of the type URI.
    pub slug: &'static str,
    /// Short, fixed summary of the problem type.
    pub title: &'static str,
    /// HTTP status it is sent with.
    pub status: StatusCode,
}

macro_rules! problem_types {
    ($($name:ident = ($slug:literal, $title:literal, $status:ident);)*) => {
        /// Every problem type the service sends.
        pub mod types {
            use super::{ProblemType, StatusCode};
            $(
                #[doc = $title]
                pub const $name: ProblemType = ProblemType { slug: $slug, title: $title, status: StatusCode::$status };
            )*
            /// All of them, for documentation and tests.
            pub const ALL: &[ProblemType] = &[$($name),*];
        }
    };
}

problem_types! {
    BAD_REQUEST = ("bad-request", "Malformed request", BAD_REQUEST);
    UNAUTHORIZED = ("unauthorized", "Authentication required", UNAUTHORIZED);
    FORBIDDEN = ("forbidden", "Not allowed", FORBIDDEN);
    SUSPENDED = ("suspended", "Organisation suspended", FORBIDDEN);
    NOT_FOUND = ("not-found", "Not found", NOT_FOUND);
    METHOD_NOT_ALLOWED = ("method-not-allowed", "Method not allowed", METHOD_NOT_ALLOWED);
    NOT_ACCEPTABLE = ("not-acceptable", "Not acceptable", NOT_ACCEPTABLE);
    CONFLICT = ("conflict", "Conflict", CONFLICT);
    GONE = ("gone", "Gone", GONE);
    PRECONDITION_FAILED = ("precondition-failed", "Precondition failed", PRECONDITION_FAILED);
    PRECONDITION_REQUIRED = ("precondition-required", "Precondition required", PRECONDITION_REQUIRED);
    REQUEST_TIMEOUT = ("request-timeout", "Request body too slow", REQUEST_TIMEOUT);
    PAYLOAD_TOO_LARGE = ("payload-too-large", "Request body too large", PAYLOAD_TOO_LARGE);
    UNSUPPORTED_MEDIA_TYPE = ("unsupported-media-type", "Unsupported media type", UNSUPPORTED_MEDIA_TYPE);
    VALIDATION = ("validation", "Invalid request fields", UNPROCESSABLE_ENTITY);
    RATE_LIMITED = ("rate-limited", "Too many requests", TOO_MANY_REQUESTS);
    QUOTA_EXCEEDED = ("quota-exceeded", "Quota exceeded", TOO_MANY_REQUESTS);
    PURPOSE_NOT_LICENSED = ("purpose-not-licensed", "Purpose not licensed", FORBIDDEN);
    INSUFFICIENT_SCOPE = ("insufficient-scope", "Purpose not granted to the token", FORBIDDEN);
    HEADERS_TOO_LARGE = ("headers-too-large", "Request headers too large", REQUEST_HEADER_FIELDS_TOO_LARGE);
    INTERNAL = ("internal", "Internal server error", INTERNAL_SERVER_ERROR);
    UNAVAILABLE = ("unavailable", "Service unavailable", SERVICE_UNAVAILABLE);
    INSUFFICIENT_STORAGE = ("insufficient-storage", "Insufficient storage", INSUFFICIENT_STORAGE);
}

/// Seconds a client is told to wait after a 507: space comes back when an
/// operator frees it, not within a second.
pub const INSUFFICIENT_STORAGE_RETRY_AFTER: u64 = 30;

impl ProblemType {
    /// The type URI, relative to the service's base URL.
    pub fn uri(&self) -> String {
        format!("/problems/{}", self.slug)
    }

    /// The problem type that a bare status stands for, when a component
    /// outside our handlers produced the error.
    pub fn for_status(status: StatusCode) -> ProblemType {
        types::ALL
            .iter()
            .copied()
            .find(|t| t.status == status && t.slug != "suspended" && t.slug != "quota-exceeded")
            .unwrap_or(if status.is_server_error() {
                types::INTERNAL
            } else {
                types::BAD_REQUEST
            })
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/not-found",
    "title": "Not found",
    "status": 404,
    "detail": "no route for GET /v1/nothing",
    "instance": "/v1/nothing",
    "request_id": "01939d6e-57b4-7cc1-a8a4-1d9f0f6b2c3a"
}))]
pub struct Problem {
    /// URI reference naming the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type; the same for every occurrence.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a person.
    pub detail: String,
    /// The request path this problem occurred on.
    pub instance: String,
    /// The request id, as in the `X-Request-Id` response header.
    pub request_id: String,
    /// Invalid fields, one entry per problem, when the request named any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds to wait before retrying, on 429, 503 and 507.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// On a 409 for a repeated `external_ref`: the article that has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
    /// On a 410 for a killed article: when it was killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// On a 410 for a killed article: the kill notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On a 403 `purpose-not-licensed` or `insufficient-scope`: the purpose
    /// asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// On a 403 `purpose-not-licensed`: the purposes the licensee's
    /// licences in force permit for the article; on `insufficient-scope`:
    /// the purposes the token grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purposes: Option<Vec<Purpose>>,
}

pub use crate::domain::FieldError;

/// Every way a request can fail. Handlers return `Result<_, ApiError>`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be parsed.
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but this caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's organisation is suspended.
    #[error("{0}")]
    Suspended(String),
    /// Nothing here, or nothing this caller may know of.
    #[error("{0}")]
    NotFound(String),
    /// The body names something (a publisher, a licensee, a photo, …) that
    /// does not exist or that the caller may not use; each field is listed.
    #[error("{}", fields_detail(.0, "name nothing this caller may use"))]
    UnknownReference(Vec<FieldError>),
    /// The path exists but not for this method.
    #[error("{method} is not allowed here")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the path does answer.
        allow: Vec<Method>,
    },
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// An article with this `external_ref` exists with other content.
    #[error(
        "an article with this external_ref already exists with different content; update it with PUT"
    )]
    Duplicate {
        /// The existing article.
        existing_id: uuid::Uuid,
    },
    /// A killed article the caller could see: the kill notice.
    #[error("the article was killed; remove it from publication")]
    Killed {
        /// When.
        killed_at: chrono::DateTime<chrono::Utc>,
        /// The notice.
        reason: Option<String>,
    },
    /// A fetch for a purpose no licence in force permits for the article.
    #[error(
        "no licence of this licensee permits {purpose} for this article; licensed: {}",
        purpose::names(.licensed)
    )]
    PurposeNotLicensed {
        /// The purpose asked for.
        purpose: Purpose,
        /// The purposes that are licensed for it.
        licensed: Vec<Purpose>,
    },
    /// A fetch for a purpose the access token was not issued for.
    #[error(
        "this token is not for {purpose}; it grants {}; ask the token endpoint for scope use:{purpose}",
        purpose::names(.granted)
    )]
    InsufficientScope {
        /// The purpose asked for.
        purpose: Purpose,
        /// The purposes the token grants.
        granted: Vec<Purpose>,
    },
    /// `If-Match` names a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `If-Match` is required and missing.
    #[error("{0}")]
    PreconditionRequired(String),
    /// The body is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body arrived slower than the configured rate and was cut off.
    #[error("{0}")]
    RequestTimeout(String),
    /// The body's media type is not one this operation reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Fields failed validation.
    #[error("{} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// Too many requests; retry after the given seconds.
    #[error("{detail}")]
    RateLimited {
        /// Why.
        detail: String,
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// The licence's billable quota for the period is used up.
    #[error("{detail}")]
    QuotaExceeded {
        /// Why.
        detail: String,
        /// Seconds until the period ends.
        retry_after: u64,
    },
    /// The database cannot be reached or cannot write now (read-only, an
    /// I/O error), or the usage ledger cannot record.
    #[error("unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database is out of space; nothing was written.
    #[error("insufficient storage")]
    InsufficientStorage(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Readiness: what the node cannot do now.
    #[error("not ready")]
    NotReady {
        /// Why, for the problem's detail.
        reason: String,
        /// What failed.
        #[source]
        cause: Box<dyn std::error::Error + Send + Sync>,
    },
    /// This node is draining before it stops; another node will answer.
    #[error("this node is shutting down; retry on another")]
    ShuttingDown,
    /// An OAuth 2.0 token endpoint error (RFC 6749 §5.2), sent as the JSON
    /// body that OAuth clients expect rather than as a problem.
    #[error("{error}: {description}")]
    OAuth {
        /// 400 or 401.
        status: StatusCode,
        /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, …
        error: &'static str,
        /// For a person.
        description: String,
    },
    /// A failure the caller cannot fix; details go to the log only.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The detail of a problem about fields: the one field and its message, or
/// how many fields are wrong, and `what` is wrong with them.
fn fields_detail(errors: &[FieldError], what: &str) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        _ => format!("{} fields {what}; see errors", errors.len()),
    }
}

impl ApiError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// The problem type this error is sent as.
    pub fn problem_type(&self) -> ProblemType {
        match self {
            ApiError::BadRequest(_) => types::BAD_REQUEST,
            ApiError::Unauthorized(_) => types::UNAUTHORIZED,
            ApiError::Forbidden(_) => types::FORBIDDEN,
            ApiError::Suspended(_) => types::SUSPENDED,
            ApiError::NotFound(_) | ApiError::UnknownReference(_) => types::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => types::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::Duplicate { .. } => types::CONFLICT,
            ApiError::PreconditionFailed(_) => types::PRECONDITION_FAILED,
            ApiError::Killed { .. } => types::GONE,
            ApiError::PurposeNotLicensed { .. } => types::PURPOSE_NOT_LICENSED,
            ApiError::InsufficientScope { .. } => types::INSUFFICIENT_SCOPE,
            ApiError::PreconditionRequired(_) => types::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => types::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => types::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => types::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => types::VALIDATION,
            ApiError::RateLimited { .. } => types::RATE_LIMITED,
            ApiError::QuotaExceeded { .. } => types::QUOTA_EXCEEDED,
            ApiError::Unavailable(_) | ApiError::NotReady { .. } | ApiError::ShuttingDown => {
                types::UNAVAILABLE
            }
            ApiError::InsufficientStorage(_) => types::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => types::INTERNAL,
            ApiError::OAuth { status, .. } => ProblemType::for_status(*status),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => fields_detail(errors, "are invalid"),
            ApiError::Unavailable(_) => "the database is unavailable; retry shortly".to_owned(),
            ApiError::InsufficientStorage(_) => {
                "the database is out of space; nothing was written; retry once space is freed"
                    .to_owned()
            }
            ApiError::NotReady { reason, .. } => format!("not ready: {reason}"),
            ApiError::Internal(_) => {
                "an unexpected error occurred; quote the request id when reporting it".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The class of a 5xx, for the error log and the `class` label of
    /// `syndicate_errors_total`: the storage fault behind it where there is
    /// one (`out_of_space`, `read_only`, `io`, `unavailable`, `corrupt`,
    /// `other`), else `unavailable`, `shutting_down` or `internal`.
    pub fn class(&self) -> &'static str {
        let storage = |cause: &(dyn std::error::Error + 'static)| {
            StorageError::find(cause)
                .and_then(StorageError::fault)
                .map(Fault::label)
        };
        match self {
            ApiError::InsufficientStorage(_) => Fault::OutOfSpace.label(),
            ApiError::Unavailable(cause) => storage(&**cause).unwrap_or("unavailable"),
            ApiError::NotReady { cause, .. } => storage(&**cause).unwrap_or("unavailable"),
            ApiError::ShuttingDown => "shutting_down",
            ApiError::Internal(cause) => storage(&**cause).unwrap_or("internal"),
            other => other.problem_type().slug,
        }
    }
}

/// Storage failures, classified once in `storage::error`: out of space is
/// a 507, a database that cannot be reached or cannot write now a 503, and
/// anything else a 500; the storage error itself is kept as the cause.
impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => ApiError::NotFound("not found".to_owned()),
            StorageError::Conflict(what) => ApiError::Conflict(what),
            StorageError::OutOfSpace(_) => ApiError::InsufficientStorage(Box::new(error)),
            StorageError::Unavailable(_) | StorageError::ReadOnly(_) | StorageError::Io(_) => {
                ApiError::Unavailable(Box::new(error))
            }
            StorageError::Other(_) | StorageError::Corrupt { .. } => {
                ApiError::Internal(Box::new(error))
            }
        }
    }
}

impl From<crate::identity::IdentityError> for ApiError {
    fn from(error: crate::identity::IdentityError) -> Self {
        use crate::identity::IdentityError;
        match error {
            IdentityError::Unauthorized(detail) => ApiError::Unauthorized(detail),
            IdentityError::Forbidden(detail) => ApiError::Forbidden(detail),
            IdentityError::Suspended(detail) => ApiError::Suspended(detail),
            IdentityError::Invalid(errors) => ApiError::Validation(errors),
            IdentityError::UnknownReference(errors) => ApiError::UnknownReference(errors),
            IdentityError::NotFound(detail) => ApiError::NotFound(detail),
            IdentityError::Conflict(detail) => ApiError::Conflict(detail),
            IdentityError::Secret(error) => ApiError::Internal(Box::new(error)),
            IdentityError::Storage(error) => error.into(),
        }
    }
}

impl From<crate::delivery::DeliveryError> for ApiError {
    fn from(error: crate::delivery::DeliveryError) -> Self {
        use crate::delivery::DeliveryError;
        match error {
            DeliveryError::Identity(error) => error.into(),
            DeliveryError::NotFound => ApiError::NotFound("no such article".to_owned()),
            DeliveryError::Killed { killed_at, reason } => ApiError::Killed { killed_at, reason },
            DeliveryError::PurposeNotLicensed { purpose, licensed } => {
                ApiError::PurposeNotLicensed { purpose, licensed }
            }
            DeliveryError::RateLimited {
                detail,
                retry_after,
                ..
            } => ApiError::RateLimited {
                detail,
                retry_after,
            },
            DeliveryError::QuotaExceeded {
                detail,
                retry_after,
                ..
            } => ApiError::QuotaExceeded {
                detail,
                retry_after,
            },
            DeliveryError::Invalid(errors) => ApiError::Validation(errors),
            DeliveryError::UnknownCursor => super::unknown_cursor(),
            unavailable @ DeliveryError::KeptChanging => {
                ApiError::Unavailable(unavailable.to_string().into())
            }
            DeliveryError::ShuttingDown => ApiError::ShuttingDown,
            DeliveryError::Ledger(cause) => ApiError::Unavailable(cause),
            DeliveryError::Storage(error) => error.into(),
            DeliveryError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::metering::MeteringError> for ApiError {
    fn from(error: crate::metering::MeteringError) -> Self {
        use crate::metering::MeteringError;
        match error {
            MeteringError::Forbidden(detail) => ApiError::Forbidden(detail),
            MeteringError::Storage(error) => error.into(),
        }
    }
}

impl From<crate::content::ContentError> for ApiError {
    fn from(error: crate::content::ContentError) -> Self {
        use crate::content::ContentError;
        match error {
            ContentError::Invalid(errors) => ApiError::Validation(errors),
            ContentError::UnknownReference(errors) => ApiError::UnknownReference(errors),
            ContentError::NotFound(detail) => ApiError::NotFound(detail),
            ContentError::Forbidden(detail) => ApiError::Forbidden(detail),
            ContentError::Conflict(detail) => ApiError::Conflict(detail),
            ContentError::ExternalRefTaken { existing_id } => ApiError::Duplicate {
                existing_id: existing_id.0,
            },
            ContentError::PreconditionFailed(detail) => ApiError::PreconditionFailed(detail),
            ContentError::PreconditionRequired(detail) => ApiError::PreconditionRequired(detail),
            ContentError::Storage(error) => error.into(),
            ContentError::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl From<crate::licensing::LicensingError> for ApiError {
    fn from(error: crate::licensing::LicensingError) -> Self {
        use crate::licensing::LicensingError;
        match error {
            LicensingError::Invalid(errors) => ApiError::Validation(errors),
            LicensingError::UnknownReference(errors) => ApiError::UnknownReference(errors),
            LicensingError::NotFound(detail) => ApiError::NotFound(detail),
            LicensingError::Conflict(detail) => ApiError::Conflict(detail),
            LicensingError::Storage(error) => error.into(),
        }
    }
}

impl From<crate::notices::NoticesError> for ApiError {
    fn from(error: crate::notices::NoticesError) -> Self {
        use crate::notices::NoticesError;
        match error {
            NoticesError::Invalid(errors) => ApiError::Validation(errors),
            NoticesError::UnknownReference(errors) => ApiError::UnknownReference(errors),
            NoticesError::NotFound(detail) => ApiError::NotFound(detail),
            NoticesError::Forbidden(detail) => ApiError::Forbidden(detail),
            NoticesError::Conflict(detail) => ApiError::Conflict(detail),
            NoticesError::Storage(error) => error.into(),
            NoticesError::Internal(source) => ApiError::Internal(source),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(Box::new(error))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::OAuth { status, .. } => *status,
            _ => self.problem_type().status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::OAuth {
            status,
            error,
            description,
        } = self
        {
            let mut response = HttpResponse::build(*status);
            if *status == StatusCode::UNAUTHORIZED {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"syndicate\""));
            }
            return response
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::PRAGMA, "no-cache"))
                .json(OAuthErrorBody {
                    error: (*error).to_owned(),
                    error_description: description.clone(),
                });
        }
        // A 5xx is logged (once per kind and interval) by the request
        // middleware, which holds the error log; see `request_id`.
        let problem_type = self.problem_type();
        let context = context::current();
        let problem = Problem {
            problem_type: problem_type.uri(),
            title: problem_type.title.to_owned(),
            status: problem_type.status.as_u16(),
            detail: self.detail(),
            instance: context.path,
            request_id: context.id,
            errors: match self {
                ApiError::Validation(errors) | ApiError::UnknownReference(errors) => errors.clone(),
                _ => Vec::new(),
            },
            retry_after: match self {
                ApiError::RateLimited { retry_after, .. }
                | ApiError::QuotaExceeded { retry_after, .. } => Some(*retry_after),
                ApiError::Unavailable(_) | ApiError::NotReady { .. } | ApiError::ShuttingDown => {
                    Some(1)
                }
                ApiError::InsufficientStorage(_) => Some(INSUFFICIENT_STORAGE_RETRY_AFTER),
                _ => None,
            },
            existing_id: match self {
                ApiError::Duplicate { existing_id } => Some(*existing_id),
                _ => None,
            },
            killed_at: match self {
                ApiError::Killed { killed_at, .. } => Some(*killed_at),
                _ => None,
            },
            reason: match self {
                ApiError::Killed { reason, .. } => reason.clone(),
                _ => None,
            },
            purpose: match self {
                ApiError::PurposeNotLicensed { purpose, .. }
                | ApiError::InsufficientScope { purpose, .. } => Some(*purpose),
                _ => None,
            },
            purposes: match self {
                ApiError::PurposeNotLicensed { licensed, .. } => Some(licensed.clone()),
                ApiError::InsufficientScope { granted, .. } => Some(granted.clone()),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(problem_type.status);
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"syndicate\""));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                let allow = allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                response.insert_header((header::ALLOW, allow));
            }
            ApiError::RateLimited { retry_after, .. }
            | ApiError::QuotaExceeded { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable(_) | ApiError::NotReady { .. } | ApiError::ShuttingDown => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::InsufficientStorage(_) => {
                response.insert_header((
                    header::RETRY_AFTER,
                    INSUFFICIENT_STORAGE_RETRY_AFTER.to_string(),
                ));
            }
            ApiError::Duplicate { existing_id } => {
                response.insert_header((header::LOCATION, format!("/v1/articles/{existing_id}")));
            }
            _ => {}
        }
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        problem_response(response, &problem)
    }
}

/// The body of a token endpoint error (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "unknown client or wrong secret"}))]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `unauthorized_client` or `unsupported_grant_type`.
    pub error: String,
    /// What went wrong, for a person.
    pub error_description: String,
}

/// Serialises a problem with its media type.
pub fn problem_response(
    mut builder: actix_web::HttpResponseBuilder,
    problem: &Problem,
) -> HttpResponse {
    match serde_json::to_vec(problem) {
        Ok(body) => builder.content_type(PROBLEM_JSON).body(body),
        // A struct of strings and numbers always serialises.
        Err(_) => builder.content_type(PROBLEM_JSON).body("{}"),
    }
}

/// Turns JSON body errors into problems.
pub fn json_error(
    error: actix_web::error::JsonPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match error {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => too_large(limit),
        E::ContentType => {
            ApiError::UnsupportedMediaType("the body must be application/json".to_owned())
        }
        E::Deserialize(error) => ApiError::BadRequest(format!("invalid JSON body: {error}")),
        E::Payload(error) => payload_error(error),
        other => ApiError::BadRequest(format!("unreadable body: {other}")),
    }
    .into()
}

/// Turns form body errors into problems.
pub fn form_error(
    error: actix_web::error::UrlencodedError,
    _req: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::UrlencodedError as E;
    match error {
        E::Overflow { limit, .. } => too_large(limit),
        E::ContentType => ApiError::UnsupportedMediaType(
            "the body must be application/x-www-form-urlencoded".to_owned(),
        ),
        E::Parse(error) => ApiError::BadRequest(format!("invalid form body: {error}")),
        E::Payload(error) => payload_error(error),
        other => ApiError::BadRequest(format!("unreadable body: {other}")),
    }
    .into()
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "request body is larger than the limit of {limit} bytes"
    ))
}

fn payload_error(error: actix_web::error::PayloadError) -> ApiError {
    match error {
        actix_web::error::PayloadError::Overflow => {
            ApiError::PayloadTooLarge("request body is larger than the limit".to_owned())
        }
        actix_web::error::PayloadError::Io(error)
            if error.kind() == std::io::ErrorKind::TimedOut =>
        {
            ApiError::RequestTimeout(error.to_string())
        }
        other => ApiError::BadRequest(format!("unreadable body: {other}")),
    }
}

/// Turns path parameter errors into problems.
pub fn path_error(error: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path parameter: {error}")).into()
}

/// Turns query string errors into problems.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query parameter: {error}")).into()
}

/// Problem responses as reusable OpenAPI components, named in every
/// operation's `responses(...)`.
pub mod responses;
