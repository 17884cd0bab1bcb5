//! The `Caller` extractor: the verified client behind a bearer token, with
//! its revocation and its licensee's suspension checked on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::AppState;
use super::problem::ApiError;
use crate::domain::{ClientId, LicenseeId, PublisherId, Role};
use crate::identity::caller::{check_standing, read_standing};
use crate::identity::{Caller, Organisation};

/// The token from `Authorization: Bearer …`.
fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("an Authorization: Bearer token is required".to_owned())
    })?;
    let value = value.to_str().map_err(|_| {
        ApiError::Unauthorized("the Authorization header is not readable".to_owned())
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".to_owned(),
        )),
    }
}

/// The caller a verified token names, before its standing is checked.
fn claimed(token: &str, state: &AppState) -> Result<Caller, ApiError> {
    let claims = state
        .tokens
        .verify(token)
        .map_err(|error| ApiError::Unauthorized(error.to_string()))?;
    let client_id: ClientId = claims
        .sub
        .parse()
        .map_err(|_| ApiError::Unauthorized("the token's subject is not a client".to_owned()))?;
    let organisation = match (
        claims.role,
        claims.org.as_deref().map(str::parse::<uuid::Uuid>),
    ) {
        (Role::Admin, None) => None,
        (Role::Publisher, Some(Ok(id))) => Some(Organisation::Publisher(PublisherId(id))),
        (Role::Licensee, Some(Ok(id))) => Some(Organisation::Licensee(LicenseeId(id))),
        _ => {
            return Err(ApiError::Unauthorized(
                "the token's role and organisation disagree".to_owned(),
            ));
        }
    };
    Ok(Caller {
        client_id,
        role: claims.role,
        organisation,
        purposes: crate::identity::caller::purposes_of(claims.role, claims.scope.as_deref()),
    })
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = bearer_token(req).and_then(|token| {
            let state = state_of(req)?;
            Ok((claimed(&token, &state)?, state))
        });
        Box::pin(async move {
            let (caller, state) = caller?;
            // Revocation and suspension take effect on the next request.
            in_good_standing(&state, caller.client_id.to_string()).await?;
            Ok(caller)
        })
    }
}

/// Reads a client's standing from the database and refuses it as
/// [`check_standing`] does.
pub async fn in_good_standing(state: &AppState, client: String) -> Result<(), ApiError> {
    let standing = super::db(state, move |conn| Ok(read_standing(conn, &client)?)).await?;
    Ok(check_standing(&standing)?)
}

/// A caller whose token verified but whose standing the handler checks
/// itself, from facts it holds in memory (see `delivery::facts`).
#[derive(Debug, Clone)]
pub struct Claimed(pub Caller);

impl FromRequest for Claimed {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            bearer_token(req)
                .and_then(|token| claimed(&token, &*state_of(req)?))
                .map(Claimed),
        )
    }
}
