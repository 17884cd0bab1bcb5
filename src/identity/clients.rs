//! API clients: creating one with a new secret, rotating its secret,
//! revoking it, reading it. A secret is returned once, when it is made;
//! only its argon2 hash is kept (`secrets`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{IdentityError, Organisation, secrets};
use crate::domain::organisation::MAX_NAME_CHARS;
use crate::domain::purpose::{self, Purpose};
use crate::domain::text::single_line;
use crate::domain::{ClientId, FieldError, LicenseeId, PublisherId, Role};
use crate::storage::clients::{self, ClientRow, NewClientRow};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// The list whose cursors [`list`] takes.
pub const LIST: &str = clients::CLIENTS;

/// An API client (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Client {
    /// The OAuth `client_id`.
    pub client_id: ClientId,
    /// What the client is for.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The publisher or licensee it acts for (none for admins), written as
    /// its id: the role says which kind.
    #[serde(rename = "organisation_id", serialize_with = "organisation_id")]
    pub organisation: Option<Organisation>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its current secret was made.
    pub secret_rotated_at: DateTime<Utc>,
    /// When it was revoked; its tokens are refused from then on.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The purposes a licensee's client may ask tokens for (`use:…`
    /// scopes); empty for other roles.
    pub purposes: Vec<Purpose>,
}

fn organisation_id<S: serde::Serializer>(
    organisation: &Option<Organisation>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    organisation.map(|o| o.id()).serialize(serializer)
}

impl TryFrom<ClientRow> for Client {
    type Error = StorageError;

    fn try_from(row: ClientRow) -> Result<Self, StorageError> {
        Ok(Self {
            client_id: row.client_id()?,
            role: row.role()?,
            organisation: row.organisation()?,
            purposes: row.purposes()?,
            name: row.name,
            created_at: row.created_at.and_utc(),
            secret_rotated_at: row.secret_rotated_at.and_utc(),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
        })
    }
}

/// A client with its secret: returned once, at creation or rotation.
#[derive(Debug, Clone, Serialize)]
pub struct ClientCredentials {
    /// The OAuth `client_secret`.
    pub client_secret: String,
    /// The client.
    #[serde(flatten)]
    pub client: Client,
}

/// A new client.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Morning Brief ingest",
    "role": "licensee",
    "organisation_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "purposes": ["display", "ai-input"]
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
    /// For a licensee's client: the purposes it may fetch for (1 to 5; a
    /// purpose listed twice counts once), which bound the `use:…` scopes its tokens can carry.
    /// Absent means every purpose; its licences still decide what each
    /// fetch may have. Must be absent for other roles.
    #[schema(min_items = 1, max_items = 5)]
    pub purposes: Option<Vec<Purpose>>,
}

fn no_such_client(error: StorageError) -> IdentityError {
    match error {
        StorageError::NotFound => IdentityError::NotFound("no such client".to_owned()),
        other => other.into(),
    }
}

/// The organisation a new client acts for: the one its role implies, which
/// must exist. Fields in the wrong form go to `invalid`, ids naming nothing
/// to `unknown`.
fn organisation_of(
    conn: &mut DbConnection,
    request: &CreateClientRequest,
    invalid: &mut Vec<FieldError>,
    unknown: &mut Vec<FieldError>,
) -> Result<Option<Organisation>, StorageError> {
    let field = "organisation_id";
    let (role, id) = match (request.role, request.organisation_id) {
        (Role::Admin, None) => return Ok(None),
        (Role::Admin, Some(_)) => {
            invalid.push(FieldError::new(field, "must be absent for admin clients"));
            return Ok(None);
        }
        (_, None) => {
            invalid.push(FieldError::new(
                field,
                "is required for publisher and licensee clients",
            ));
            return Ok(None);
        }
        (role, Some(id)) => (role, id),
    };
    let (found, organisation, kind) = if role == Role::Publisher {
        let id = PublisherId(id);
        let found = organisations::find_publisher(conn, &id.to_string()).map(drop);
        (found, Organisation::Publisher(id), "publisher")
    } else {
        let id = LicenseeId(id);
        let found = organisations::find_licensee(conn, &id.to_string()).map(drop);
        (found, Organisation::Licensee(id), "licensee")
    };
    match found {
        Ok(()) => Ok(Some(organisation)),
        Err(StorageError::NotFound) => {
            unknown.push(FieldError::new(field, format!("no {kind} has this id")));
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// Creates a client with a new secret.
pub fn create(
    conn: &mut DbConnection,
    request: &CreateClientRequest,
) -> Result<ClientCredentials, IdentityError> {
    let mut invalid = Vec::new();
    let mut unknown = Vec::new();
    let name = single_line(&request.name, MAX_NAME_CHARS)
        .map_err(|e| invalid.push(FieldError::new("name", e.to_string())))
        .ok();
    let organisation = organisation_of(conn, request, &mut invalid, &mut unknown)?;
    let purposes = match (&request.purposes, request.role) {
        (None, _) => None,
        (Some(_), Role::Admin | Role::Publisher) => {
            invalid.push(FieldError::new("purposes", "is only for licensee clients"));
            None
        }
        (Some(list), Role::Licensee) => {
            let mut sorted = list.clone();
            sorted.sort();
            sorted.dedup();
            if list.is_empty() {
                invalid.push(FieldError::new(
                    "purposes",
                    format!("list 1 to 5 purposes of {}", purpose::names(&Purpose::ALL)),
                ));
            }
            serde_json::to_string(&sorted).ok()
        }
    };
    // Invalid fields first (a name that failed is among them): a request
    // wrong in form is told so before it learns what exists.
    let name = match (name, invalid.is_empty(), unknown.is_empty()) {
        (Some(name), true, true) => name,
        (_, false, _) => return Err(IdentityError::Invalid(invalid)),
        _ => return Err(IdentityError::UnknownReference(unknown)),
    };
    let secret = secrets::generate()?;
    let hash = secrets::hash(&secret)?;
    let id = ClientId::generate().to_string();
    let at = now();
    let publisher = match organisation {
        Some(Organisation::Publisher(id)) => Some(id.to_string()),
        _ => None,
    };
    let licensee = match organisation {
        Some(Organisation::Licensee(id)) => Some(id.to_string()),
        _ => None,
    };
    let row = NewClientRow {
        id: &id,
        name: &name,
        role: request.role.as_str(),
        publisher_id: publisher.as_deref(),
        licensee_id: licensee.as_deref(),
        secret_hash: &hash,
        created_at: at,
        secret_rotated_at: at,
        purposes: purposes.as_deref(),
    };
    Ok(ClientCredentials {
        client_secret: secret,
        client: clients::insert_client(conn, &row)?.try_into()?,
    })
}

/// A page of clients, revoked ones included, oldest first.
pub fn list(conn: &mut DbConnection, page: &PageRequest) -> Result<Page<Client>, IdentityError> {
    Ok(clients::list_clients(conn, page)?.try_map(Client::try_from)?)
}

/// One client, revoked or not.
pub fn get(conn: &mut DbConnection, id: ClientId) -> Result<Client, IdentityError> {
    let row = clients::find_client(conn, &id.to_string()).map_err(no_such_client)?;
    Ok(row.try_into()?)
}

/// Revokes a client: its secret stops working and its live tokens are
/// refused from the next request on. Revoking twice keeps the first time.
pub fn revoke(conn: &mut DbConnection, id: ClientId) -> Result<(), IdentityError> {
    clients::revoke_client(conn, &id.to_string(), now()).map_err(no_such_client)?;
    Ok(())
}

/// Replaces a live client's secret. The old secret stops working at once;
/// tokens already issued stay valid until they expire. A revoked client
/// keeps no secret: make a new client instead.
pub fn rotate_secret(
    conn: &mut DbConnection,
    id: ClientId,
) -> Result<ClientCredentials, IdentityError> {
    let secret = secrets::generate()?;
    let id = id.to_string();
    let existing = clients::find_client(conn, &id).map_err(no_such_client)?;
    if existing.revoked_at.is_some() {
        return Err(IdentityError::Conflict(
            "the client is revoked; create a new one".to_owned(),
        ));
    }
    let hash = secrets::hash(&secret)?;
    // Revoked since the read above: as gone as one that never was.
    let row = clients::rotate_secret(conn, &id, &hash, now()).map_err(no_such_client)?;
    Ok(ClientCredentials {
        client_secret: secret,
        client: row.try_into()?,
    })
}
