//! Problem responses as reusable OpenAPI components, named in every
//! operation's `responses(...)`.

use super::{OAuthErrorBody, Problem};

macro_rules! problem_response {
    ($($name:ident = $description:literal, $example:expr;)*) => {$(
        #[doc = $description]
        #[derive(utoipa::ToResponse)]
        #[response(description = $description, content_type = "application/problem+json", example = $example)]
        pub struct $name(pub Problem);
    )*};
}

problem_response! {
    BadRequest = "Malformed JSON, form, path or query", json!({
        "type": "/problems/bad-request", "title": "Malformed request", "status": 400,
        "detail": "invalid JSON body: expected `,` or `}` at line 1 column 24",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f80"});
    Forbidden = "The caller's role may not do this, or its organisation is suspended", json!({
        "type": "/problems/forbidden", "title": "Not allowed", "status": 403,
        "detail": "this operation is for admin clients; this is a licensee client",
        "instance": "/v1/licences", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f81"});
    ForbiddenPurpose = "The fetch's purpose is not licensed for the article (`type` /problems/purpose-not-licensed, naming the purposes that are), not among the token's scopes (`type` /problems/insufficient-scope, naming the token's), or the caller's role may not do this or its organisation is suspended", json!({
        "type": "/problems/purpose-not-licensed", "title": "Purpose not licensed", "status": 403,
        "detail": "no licence of this licensee permits ai-train for this article; licensed: display, ai-input",
        "instance": "/v1/content/019ac0a6-1111-7222-8333-444455556666", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f8a",
        "purpose": "ai-train", "purposes": ["display", "ai-input"]});
    NotFound = "Nothing here that the caller may see", json!({
        "type": "/problems/not-found", "title": "Not found", "status": 404,
        "detail": "no such article", "instance": "/v1/content/019ac0a6-1111-7222-8333-444455556666",
        "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f82"});
    Conflict = "Conflicts with the current state", json!({
        "type": "/problems/conflict", "title": "Conflict", "status": 409,
        "detail": "an article with this external_ref already exists with different content; update it with PUT",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f83",
        "existing_id": "019ac0a6-1111-7222-8333-444455556666"});
    PreconditionFailed = "`If-Match` does not name the current version", json!({
        "type": "/problems/precondition-failed", "title": "Precondition failed", "status": 412,
        "detail": "If-Match names version 2; the current version is 3",
        "instance": "/v1/articles/019ac0a6-1111-7222-8333-444455556666", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f84"});
    Gone = "The article was killed; `killed_at` and `reason` give the kill notice", json!({
        "type": "/problems/gone", "title": "Gone", "status": 410,
        "detail": "the article was killed; remove it from publication",
        "instance": "/v1/content/019ac0a6-1111-7222-8333-444455556666", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f85",
        "killed_at": "2026-11-28T10:15:00Z", "reason": "Legal: the story must be removed."});
    PreconditionRequired = "`If-Match` is required", json!({
        "type": "/problems/precondition-required", "title": "Precondition required", "status": 428,
        "detail": "send If-Match with the article's ETag to replace it",
        "instance": "/v1/articles/019ac0a6-1111-7222-8333-444455556666", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f86"});
    PayloadTooLarge = "The body is larger than the limit", json!({
        "type": "/problems/payload-too-large", "title": "Request body too large", "status": 413,
        "detail": "request body is larger than the limit of 1048576 bytes",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f87"});
    RequestTimeout = "The body arrived slower than the service accepts and was cut off; the connection is closed", json!({
        "type": "/problems/request-timeout", "title": "Request body too slow", "status": 408,
        "detail": "the request body arrived slower than 4096 bytes a second after the first 10 s; it was cut off",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f8a"});
    UnsupportedMediaType = "The body is not of a media type this operation reads", json!({
        "type": "/problems/unsupported-media-type", "title": "Unsupported media type", "status": 415,
        "detail": "the body must be application/json",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f88"});
    Validation = "Fields failed validation; `errors` names each", json!({
        "type": "/problems/validation", "title": "Invalid request fields", "status": 422,
        "detail": "2 fields are invalid; see errors", "instance": "/v1/media",
        "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f89",
        "errors": [{"field": "caption", "message": "is required"}, {"field": "credit_line", "message": "is required"}]});
}

/// No token, or a token that does not verify, or a revoked client.
#[derive(utoipa::ToResponse)]
#[response(
    description = "No token, a token that does not verify, or a revoked client",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"syndicate\"`"))
)]
pub struct Unauthorized(pub Problem);

/// Too many requests.
#[derive(utoipa::ToResponse)]
#[response(
    description = "Too many requests",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds before a retry may succeed"))
)]
pub struct TooManyRequests(pub Problem);

/// Over a licence's rate limit or billable quota.
#[derive(utoipa::ToResponse)]
#[response(
    description = "Over the licence's rate limit (`type` /problems/rate-limited) or billable quota (`type` /problems/quota-exceeded)",
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds before a retry may succeed (for a quota: until the period ends)"),
        ("RateLimit-Policy" = String, description = "The licence's policies, e.g. `\"requests\";q=600;w=60, \"billable\";q=500;w=86400;qu=\"billable-units\"`"),
        ("RateLimit" = String, description = "Where the caller stands, e.g. `\"requests\";r=0;t=2, \"billable\";r=0;t=3600`"),
    )
)]
pub struct TooManyRequestsMetered(pub Problem);

/// The database is unreachable or cannot write now.
#[derive(utoipa::ToResponse)]
#[response(
    description = "The database is unreachable or cannot write now (read-only, an I/O error), or the node is shutting down",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds before a retry may succeed"))
)]
pub struct Unavailable(pub Problem);

/// The database is out of space.
#[derive(utoipa::ToResponse)]
#[response(
    description = "The database is out of space: nothing was written",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds before a retry may succeed")),
    example = json!({
        "type": "/problems/insufficient-storage", "title": "Insufficient storage", "status": 507,
        "detail": "the database is out of space; nothing was written; retry once space is freed",
        "instance": "/v1/articles", "request_id": "019ac0b1-5c2e-7d41-9f0a-3b4c5d6e7f8b",
        "retry_after": 30})
)]
pub struct InsufficientStorage(pub Problem);

/// An OAuth 2.0 error from the token endpoint.
#[derive(utoipa::ToResponse)]
#[response(
    description = "An OAuth 2.0 error (RFC 6749 §5.2)",
    content_type = "application/json"
)]
pub struct OAuthError(pub OAuthErrorBody);

/// Client authentication failed.
#[derive(utoipa::ToResponse)]
#[response(
    description = "`invalid_client`: unknown client, wrong secret or revoked client (RFC 6749 §5.2)",
    content_type = "application/json",
    headers(("WWW-Authenticate" = String, description = "`Basic realm=\"syndicate\"`"))
)]
pub struct OAuthInvalidClient(pub OAuthErrorBody);
