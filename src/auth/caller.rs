//! The `Caller` extractor: the verified client behind a bearer token, with
//! its revocation and its licensee's suspension checked on every request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::domain::{ClientId, LicenseeId, PublisherId, Role};
use crate::http::AppState;
use crate::http::problem::ApiError;
use crate::storage::clients::ClientStanding;
use crate::storage::{StorageError, clients};

/// The organisation a caller acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Organisation {
    /// A publisher's client.
    Publisher(PublisherId),
    /// A licensee's client.
    Licensee(LicenseeId),
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The API client.
    pub client_id: ClientId,
    /// Its role.
    pub role: Role,
    /// Its organisation (none for admins).
    pub organisation: Option<Organisation>,
}

impl Caller {
    /// Refuses callers of any other role with 403.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        self.require_any(&[role])
    }

    /// Refuses callers whose role is not listed with 403.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed = roles
                .iter()
                .map(Role::as_str)
                .collect::<Vec<_>>()
                .join(" or ");
            Err(ApiError::Forbidden(format!(
                "this operation is for {allowed} clients; this is a {} client",
                self.role
            )))
        }
    }

    /// The publisher this caller acts for, if it is a publisher's client.
    pub fn publisher_id(&self) -> Option<PublisherId> {
        match self.organisation {
            Some(Organisation::Publisher(id)) => Some(id),
            _ => None,
        }
    }

    /// The licensee this caller acts for, if it is a licensee's client.
    pub fn licensee_id(&self) -> Option<LicenseeId> {
        match self.organisation {
            Some(Organisation::Licensee(id)) => Some(id),
            _ => None,
        }
    }
}

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
    })
}

/// Refuses a revoked client (401) and a suspended licensee's client (403).
pub fn check_standing(standing: &ClientStanding) -> Result<(), ApiError> {
    if standing.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(
            "the token's client has been revoked".to_owned(),
        ));
    }
    if standing.licensee_status.as_deref() == Some("suspended") {
        return Err(ApiError::Suspended("the licensee is suspended".to_owned()));
    }
    Ok(())
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

/// A client's standing as stored; a client that does not exist is 401.
pub fn read_standing(
    conn: &mut crate::storage::DbConnection,
    client: &str,
) -> Result<ClientStanding, ApiError> {
    match clients::standing(conn, client) {
        Ok(standing) => Ok(standing),
        Err(StorageError::NotFound) => Err(ApiError::Unauthorized(
            "the token's client does not exist".to_owned(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Reads a client's standing from the database and refuses it as
/// [`check_standing`] does.
pub async fn in_good_standing(state: &AppState, client: String) -> Result<(), ApiError> {
    let standing = crate::http::db(state, move |conn| read_standing(conn, &client)).await?;
    check_standing(&standing)
}

/// A caller whose token verified but whose standing the handler checks
/// itself, from facts it holds in memory (see `http::facts`).
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
