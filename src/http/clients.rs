//! `/v1/clients`: API clients and their secrets. Admin only. A secret is
//! shown once, when it is made; only its argon2 hash is kept.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db};
use crate::domain::purpose::Purpose;
use crate::domain::{ClientId, Role};
use crate::identity::Caller;
use crate::identity::clients::{self, Client, ClientCredentials, CreateClientRequest};

/// An API client (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "client_id": "019ac0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "created_at": "2026-11-28T09:05:00Z",
    "secret_rotated_at": "2026-11-28T09:05:00Z",
    "revoked_at": null,
    "purposes": ["display", "ai-input"]
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
    /// The purposes a licensee's client may ask tokens for (`use:…`
    /// scopes); empty for other roles.
    pub purposes: Vec<Purpose>,
}

impl From<Client> for ClientResponse {
    fn from(client: Client) -> Self {
        Self {
            client_id: client.client_id.0,
            name: client.name,
            role: client.role,
            organisation_id: client.organisation.map(|o| o.id()),
            created_at: client.created_at,
            secret_rotated_at: client.secret_rotated_at,
            revoked_at: client.revoked_at,
            purposes: client.purposes,
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
    "revoked_at": null,
    "purposes": ["display", "search", "ai-index", "ai-input", "ai-train"]
}))]
pub struct ClientCredentialsResponse {
    /// The OAuth `client_secret`. Store it now: it is not shown again.
    pub client_secret: String,
    /// The client.
    #[serde(flatten)]
    pub client: ClientResponse,
}

impl From<ClientCredentials> for ClientCredentialsResponse {
    fn from(credentials: ClientCredentials) -> Self {
        Self {
            client_secret: credentials.client_secret,
            client: credentials.client.into(),
        }
    }
}

crate::page_response!(
    /// A page of clients.
    ClientPage,
    ClientResponse
);

/// A new client as sent over HTTP: an admin client names no organisation,
/// a publisher or licensee client names the one it acts for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
#[schema(example = json!({
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "purposes": ["display", "ai-input"]
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
        /// The purposes it may fetch for (1 to 5; one listed twice counts once), which bound
        /// the `use:…` scopes its tokens can carry; absent means every
        /// purpose. Its licences still decide what each fetch may have.
        #[schema(min_items = 1, max_items = 5)]
        purposes: Option<Vec<Purpose>>,
    },
}

impl From<NewClient> for CreateClientRequest {
    fn from(client: NewClient) -> Self {
        let (name, role, organisation_id, purposes) = match client {
            NewClient::Admin { name } => (name, Role::Admin, None, None),
            NewClient::Publisher {
                name,
                organisation_id,
            } => (name, Role::Publisher, Some(organisation_id), None),
            NewClient::Licensee {
                name,
                organisation_id,
                purposes,
            } => (name, Role::Licensee, Some(organisation_id), purposes),
        };
        Self {
            name,
            role,
            organisation_id,
            purposes,
        }
    }
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
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
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
    let created = db(&state, move |conn| Ok(clients::create(conn, &request)?)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientCredentialsResponse::from(created)))
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
    let page = query.parse(clients::LIST)?;
    let found = db(&state, move |conn| Ok(clients::list(conn, &page)?)).await?;
    Ok(web::Json(found.map(ClientResponse::from).into()))
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
    let id = ClientId(client_id.into_inner());
    let client = db(&state, move |conn| Ok(clients::get(conn, id)?)).await?;
    Ok(web::Json(client.into()))
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
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[delete("/v1/clients/{client_id}")]
pub async fn revoke_client(
    caller: Caller,
    state: web::Data<AppState>,
    client_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = ClientId(client_id.into_inner());
    db(&state, move |conn| Ok(clients::revoke(conn, id)?)).await?;
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
        (status = 507, response = responses::InsufficientStorage),
    ),
)]
#[post("/v1/clients/{client_id}/rotate-secret")]
pub async fn rotate_client_secret(
    caller: Caller,
    state: web::Data<AppState>,
    client_id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = ClientId(client_id.into_inner());
    let rotated = db(&state, move |conn| Ok(clients::rotate_secret(conn, id)?)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ClientCredentialsResponse::from(rotated)))
}
