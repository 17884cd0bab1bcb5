//! `/v1/clients`: API clients and their secrets. Admin only. A secret is
//! shown once, when it is made; only its argon2 hash is kept.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, FieldError, responses};
use super::publishers::MAX_NAME_CHARS;
use super::{AppState, PageQuery, db, utc};
use crate::domain::text::single_line;
use crate::domain::{ClientId, Role};
use crate::identity::{Caller, secrets};
use crate::storage::clients::{self, ClientRow, NewClientRow};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// An API client (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "client_id": "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "created_at": "2026-11-28T09:05:00Z",
    "secret_rotated_at": "2026-11-28T09:05:00Z",
    "revoked_at": null
}))]
pub struct ClientResponse {
    /// The OAuth `client_id`.
    pub client_id: Uuid,
    /// What the client is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The publisher or licensee it acts for (none for admins).
    pub organisation_id: Option<Uuid>,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When its current secret was made.
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
    /// When it was revoked; its tokens are refused from then on.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<ClientRow> for ClientResponse {
    fn from(row: ClientRow) -> Self {
        Self {
            client_id: row.id.parse().unwrap_or_default(),
            name: row.name,
            role: row.role.parse().unwrap_or(Role::Licensee),
            organisation_id: row
                .publisher_id
                .or(row.licensee_id)
                .and_then(|id| id.parse().ok()),
            created_at: utc(row.created_at),
            secret_rotated_at: utc(row.secret_rotated_at),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A client with its secret: shown once, at creation or rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "client_id": "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "client_secret": "q3Jt9Zp0bXq2nB7cYwL4sK1vR8uE6hA5dF3gH2jK0mN",
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "created_at": "2026-11-28T09:05:00Z",
    "secret_rotated_at": "2026-11-28T09:05:00Z",
    "revoked_at": null
}))]
pub struct ClientCredentialsResponse {
    /// The OAuth `client_secret`. Store it now: it is not shown again.
    pub client_secret: String,
    /// The client.
    #[serde(flatten)]
    pub client: ClientResponse,
}

crate::page_response!(
    /// A page of clients.
    ClientPage,
    ClientResponse
);

/// A new client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01"
}))]
pub struct CreateClientRequest {
    /// What the client is for, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The publisher (role `publisher`) or licensee (role `licensee`) it
    /// acts for; must be absent for `admin`.
    pub organisation_id: Option<Uuid>,
}

/// A new client as sent over HTTP: an admin client names no organisation,
/// a publisher or licensee client names the one it acts for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
#[schema(example = json!({
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01"
}))]
pub enum NewClient {
    /// An operator.
    Admin {
        /// What the client is for, 1 to 200 characters.
        #[schema(min_length = 1, max_length = 200)]
        name: String,
    },
    /// A publisher's desk.
    Publisher {
        /// What the client is for, 1 to 200 characters.
        #[schema(min_length = 1, max_length = 200)]
        name: String,
        /// The publisher it acts for.
        organisation_id: Uuid,
    },
    /// A licensee's ingest.
    Licensee {
        /// What the client is for, 1 to 200 characters.
        #[schema(min_length = 1, max_length = 200)]
        name: String,
        /// The licensee it acts for.
        organisation_id: Uuid,
    },
}

impl From<NewClient> for CreateClientRequest {
    fn from(client: NewClient) -> Self {
        let (name, role, organisation_id) = match client {
            NewClient::Admin { name } => (name, Role::Admin, None),
            NewClient::Publisher {
                name,
                organisation_id,
            } => (name, Role::Publisher, Some(organisation_id)),
            NewClient::Licensee {
                name,
                organisation_id,
            } => (name, Role::Licensee, Some(organisation_id)),
        };
        Self {
            name,
            role,
            organisation_id,
        }
    }
}

/// Creates a client with a new secret (shared by the API and the `admin`
/// command).
pub fn create(
    conn: &mut DbConnection,
    request: &CreateClientRequest,
) -> Result<ClientCredentialsResponse, ApiError> {
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    let name = single_line(&request.name, MAX_NAME_CHARS)
        .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        .ok();
    let organisation = request
        .organisation_id
        .map(|id| id.hyphenated().to_string());
    let (publisher_id, licensee_id) = match (request.role, organisation) {
        (Role::Admin, None) => (None, None),
        (Role::Admin, Some(_)) => {
            errors.push(FieldError::new(
                "organisation_id",
                "must be absent for admin clients",
            ));
            (None, None)
        }
        (_, None) => {
            errors.push(FieldError::new(
                "organisation_id",
                "is required for publisher and licensee clients",
            ));
            (None, None)
        }
        (Role::Publisher, Some(id)) => match organisations::find_publisher(conn, &id) {
            Ok(_) => (Some(id), None),
            Err(StorageError::NotFound) => {
                unknown.push(FieldError::new(
                    "organisation_id",
                    "no publisher has this id",
                ));
                (None, None)
            }
            Err(other) => return Err(other.into()),
        },
        (Role::Licensee, Some(id)) => match organisations::find_licensee(conn, &id) {
            Ok(_) => (None, Some(id)),
            Err(StorageError::NotFound) => {
                unknown.push(FieldError::new(
                    "organisation_id",
                    "no licensee has this id",
                ));
                (None, None)
            }
            Err(other) => return Err(other.into()),
        },
    };
    ApiError::check_fields(errors, unknown)?;
    let Some(name) = name else {
        return Err(ApiError::Internal("a valid name was not kept".into()));
    };
    let secret = secrets::generate().map_err(|e| ApiError::Internal(Box::new(e)))?;
    let hash = secrets::hash(&secret).map_err(|e| ApiError::Internal(Box::new(e)))?;
    let id = ClientId::generate().to_string();
    let at = now();
    let row = NewClientRow {
        id: &id,
        name: &name,
        role: request.role.as_str(),
        publisher_id: publisher_id.as_deref(),
        licensee_id: licensee_id.as_deref(),
        secret_hash: &hash,
        created_at: at,
        secret_rotated_at: at,
    };
    let client = clients::insert_client(conn, &row)?;
    Ok(ClientCredentialsResponse {
        client_secret: secret,
        client: client.into(),
    })
}

/// Creates an API client and returns its secret, once.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = NewClient,
    responses(
        (status = 201, description = "Created; the secret is in this response only", body = ClientCredentialsResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[post("/v1/clients")]
pub async fn create_client(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<NewClient>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let request = CreateClientRequest::from(body.into_inner());
    let created = db(&state, move |conn| create(conn, &request)).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// Lists API clients, revoked ones included, oldest first.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = []), ("oauth2" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of clients", body = ClientPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/clients")]
pub async fn list_clients(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<ClientPage>, ApiError> {
    caller.require(Role::Admin)?;
    let page = query.parse(clients::CLIENTS)?;
    let rows = db(&state, move |conn| Ok(clients::list_clients(conn, &page)?)).await?;
    Ok(web::Json(rows.map(ClientResponse::from).into()))
}

/// Shows one API client.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = []), ("oauth2" = [])),
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 200, description = "The client", body = ClientResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/clients/{client_id}")]
pub async fn get_client(
    caller: Caller,
    state: web::Data<AppState>,
    client_id: web::Path<Uuid>,
) -> Result<web::Json<ClientResponse>, ApiError> {
    caller.require(Role::Admin)?;
    let id = ClientId(client_id.into_inner()).to_string();
    let row = db(&state, move |conn| Ok(clients::find_client(conn, &id)?))
        .await
        .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

/// Revokes an API client: its secret stops working and its live tokens are
/// refused from the next request on. Revoking twice is harmless.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = []), ("oauth2" = [])),
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[delete("/v1/clients/{client_id}")]
pub async fn revoke_client(
    caller: Caller,
    state: web::Data<AppState>,
    client_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = ClientId(client_id.into_inner()).to_string();
    db(&state, move |conn| {
        Ok(clients::revoke_client(conn, &id, now())?)
    })
    .await
    .map_err(not_found)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces a client's secret and returns the new one, once. The old secret
/// stops working at once; tokens already issued stay valid until they expire.
///
/// Admin only. Not metered.
#[utoipa::path(
    tag = "clients",
    security(("bearer" = []), ("oauth2" = [])),
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 200, description = "The new secret, in this response only", body = ClientCredentialsResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[post("/v1/clients/{client_id}/rotate-secret")]
pub async fn rotate_client_secret(
    caller: Caller,
    state: web::Data<AppState>,
    client_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = ClientId(client_id.into_inner()).to_string();
    let secret = secrets::generate().map_err(|e| ApiError::Internal(Box::new(e)))?;
    let rotated = db(&state, move |conn| {
        let existing = clients::find_client(conn, &id)?;
        if existing.revoked_at.is_some() {
            return Err(ApiError::Conflict(
                "the client is revoked; create a new one".to_owned(),
            ));
        }
        let hash = secrets::hash(&secret).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let row = clients::rotate_secret(conn, &id, &hash, now())?;
        Ok(ClientCredentialsResponse {
            client_secret: secret,
            client: row.into(),
        })
    })
    .await
    .map_err(not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(rotated))
}

fn not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound("no such client".to_owned()),
        other => other,
    }
}
