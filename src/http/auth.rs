//! The OAuth 2.0 token endpoint (client-credentials grant), the public
//! signing keys, and `/v1/me`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, db};
use crate::domain::Role;
use crate::identity::caller::describe;
use crate::identity::grant::{self, GrantError};
use crate::identity::{Caller, Organisation};

/// A token request (RFC 6749 §4.4.2), as a form or as JSON. Credentials go
/// in HTTP Basic or in `client_id` and `client_secret`, not both.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({
    "grant_type": "client_credentials",
    "client_id": "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "client_secret": "q3Jt9Zp0bXq2nB7cYwL4sK1vR8uE6hA5dF3gH2jK0mN"
}))]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: Option<String>,
    /// The client id, unless sent with HTTP Basic.
    pub client_id: Option<String>,
    /// The client secret, unless sent with HTTP Basic.
    pub client_secret: Option<String>,
    /// For a licensee's client: the purposes the token is for, as
    /// space-separated scopes `use:display`, `use:search`, `use:ai-index`,
    /// `use:ai-input`, `use:ai-train`. Each must be one the client may have
    /// (else `invalid_scope`); absent means every one it may have. Clients
    /// of other roles send none. The role comes with the client.
    #[schema(example = "use:ai-input")]
    pub scope: Option<String>,
}

/// An issued access token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYxMTI4VDA5MDAwMFotYTFiMmMzIn0.eyJpc3MiOiJzeW5kaWNhdGUifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "use:display use:ai-input"
}))]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The purpose scopes it carries, space-separated; absent for clients
    /// of roles without purposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "use:display use:ai-input")]
    pub scope: Option<String>,
}

fn oauth(status: StatusCode, error: &'static str, description: &str) -> ApiError {
    ApiError::OAuth {
        status,
        error,
        description: description.to_owned(),
    }
}

fn invalid_request(description: &str) -> ApiError {
    oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn invalid_client() -> ApiError {
    oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "unknown client or wrong secret",
    )
}

/// Reads the body by its media type.
fn parse_body(req: &HttpRequest, body: &[u8]) -> Result<TokenRequest, ApiError> {
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match media_type.as_deref() {
        Some("application/x-www-form-urlencoded") => serde_urlencoded::from_bytes(body)
            .map_err(|e| invalid_request(&format!("unreadable form: {e}"))),
        Some("application/json") => serde_json::from_slice(body)
            .map_err(|e| invalid_request(&format!("unreadable JSON: {e}"))),
        None if body.is_empty() => Ok(TokenRequest::default()),
        _ => Err(ApiError::UnsupportedMediaType(
            "send application/x-www-form-urlencoded (or application/json)".to_owned(),
        )),
    }
}

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part
/// form-url-encoded before base64).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid_client())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(invalid_client());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid_client())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
    let unescape = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| invalid_client())
    };
    Ok(Some((unescape(id)?, unescape(secret)?)))
}

/// Issues an access token for a client's id and secret (OAuth 2.0
/// client-credentials grant, RFC 6749 §4.4).
///
/// Anyone may call it; it is how every client starts. Not metered. Attempts
/// are limited per source address and per client id (429 with
/// `Retry-After`). Errors follow RFC 6749 §5.2, not RFC 9457.
#[utoipa::path(
    tag = "auth",
    request_body(
        content(
            (TokenRequest = "application/x-www-form-urlencoded"),
            (TokenRequest = "application/json"),
        ),
        description = "grant_type=client_credentials, with client_id and client_secret unless sent with HTTP Basic",
    ),
    responses(
        (status = 200, description = "An access token", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = responses::OAuthError),
        (status = 401, response = responses::OAuthInvalidClient),
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 429, response = responses::TooManyRequests),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[post("/v1/auth/token")]
pub async fn create_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if let Some(address) = req.peer_addr() {
        state
            .throttle
            .check_address(address.ip())
            .map_err(|retry_after| ApiError::RateLimited {
                detail: "too many token requests from this address".to_owned(),
                retry_after,
            })?;
    }
    let form = parse_body(&req, &body)?;
    let (client_id, secret) = match (basic_credentials(&req)?, form.client_id, form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(invalid_request(
                "send credentials with HTTP Basic or in the body, not both",
            ));
        }
        (Some(credentials), None, None) => credentials,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => return Err(invalid_client()),
    };
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            ));
        }
        None => return Err(invalid_request("grant_type is required")),
    }
    state
        .throttle
        .check_client(&client_id)
        .map_err(|retry_after| ApiError::RateLimited {
            detail: "too many token requests for this client".to_owned(),
            retry_after,
        })?;

    let issued = grant::client_credentials(
        &state.pool,
        &state.tokens,
        &client_id,
        secret,
        form.scope.as_deref(),
    )
    .await
    .map_err(|error| match error {
        GrantError::InvalidClient => invalid_client(),
        GrantError::Suspended => oauth(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client's licensee is suspended",
        ),
        GrantError::InvalidScope(description) => {
            oauth(StatusCode::BAD_REQUEST, "invalid_scope", &description)
        }
        GrantError::Storage(error) => error.into(),
        GrantError::Signing(cause) => ApiError::Internal(cause),
    })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: issued.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: issued.expires_in,
            scope: issued.scope,
        }))
}

/// The public keys that verify access tokens, as a JSON Web Key Set
/// (RFC 7517). Keys are Ed25519 (`kty` OKP, `alg` EdDSA), named by `kid`.
///
/// Anyone may call it. Not metered.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The key set", body = Object, content_type = "application/json",
        example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "20261128T090000Z-a1b2c3", "alg": "EdDSA", "use": "sig"}]}))),
)]
#[get("/.well-known/jwks.json")]
pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.tokens.keys().jwks())
}

/// The organisation a client acts for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganisationRef {
    /// Its id.
    pub id: Uuid,
    /// `publisher` or `licensee`.
    pub kind: Role,
    /// Its display name.
    pub name: String,
}

/// The caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "client_id": "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation": {"id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01", "kind": "licensee", "name": "Morning Brief"}
}))]
pub struct MeResponse {
    /// The client id.
    pub client_id: Uuid,
    /// The client's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The organisation it acts for; absent for admins.
    pub organisation: Option<OrganisationRef>,
}

/// Who the token belongs to: the client, its role and its organisation.
///
/// Any authenticated client. Not metered.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/me")]
pub async fn get_me(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<web::Json<MeResponse>, ApiError> {
    let described = caller.clone();
    let (client_name, organisation_name) =
        db(&state, move |conn| Ok(describe(conn, &described)?)).await?;
    let organisation = match (caller.organisation, organisation_name) {
        (Some(Organisation::Publisher(p)), Some(name)) => Some(OrganisationRef {
            id: p.0,
            kind: Role::Publisher,
            name,
        }),
        (Some(Organisation::Licensee(l)), Some(name)) => Some(OrganisationRef {
            id: l.0,
            kind: Role::Licensee,
            name,
        }),
        _ => None,
    };
    Ok(web::Json(MeResponse {
        client_id: caller.client_id.0,
        name: client_name,
        role: caller.role,
        organisation,
    }))
}
