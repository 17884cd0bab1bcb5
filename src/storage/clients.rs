//! API clients: credentials (hashed) and what they act for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::parse_stored;
use super::page::{Page, PageRequest};
use super::schema::{api_clients, licensees};
use super::{DbConnection, StorageError};
use crate::domain::LicenseeStatus;

/// A stored API client.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub publisher_id: Option<String>,
    pub licensee_id: Option<String>,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub secret_rotated_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A client to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = api_clients)]
pub struct NewClientRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub publisher_id: Option<&'a str>,
    pub licensee_id: Option<&'a str>,
    pub secret_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub secret_rotated_at: NaiveDateTime,
}

/// Scope of client list cursors.
pub const CLIENTS: &str = "clients";

/// What a request needs to know about its caller's client, fresh from the
/// database: whether it is revoked, and its licensee's status if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStanding {
    /// When the client was revoked, if it was.
    pub revoked_at: Option<NaiveDateTime>,
    /// Whether the licensee is active, for a licensee's client.
    pub licensee_status: Option<LicenseeStatus>,
}

/// Inserts a client. An organisation that does not exist is a conflict
/// (foreign key), which callers check for beforehand to say which.
pub fn insert_client(
    conn: &mut DbConnection,
    row: &NewClientRow<'_>,
) -> Result<ClientRow, StorageError> {
    diesel::insert_into(api_clients::table)
        .values(row)
        .execute(conn)?;
    find_client(conn, row.id)
}

/// One client, revoked or not.
pub fn find_client(conn: &mut DbConnection, id: &str) -> Result<ClientRow, StorageError> {
    Ok(api_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)?)
}

/// A page of clients in id order.
pub fn list_clients(
    conn: &mut DbConnection,
    page: &PageRequest,
) -> Result<Page<ClientRow>, StorageError> {
    let mut query = api_clients::table
        .select(ClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(api_clients::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, CLIENTS, |r| r.id.clone()))
}

/// Marks a client revoked (idempotent: the first revocation time stays).
pub fn revoke_client(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> Result<ClientRow, StorageError> {
    diesel::update(
        api_clients::table
            .find(id)
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::revoked_at.eq(Some(at)))
    .execute(conn)?;
    find_client(conn, id)
}

/// Replaces a live client's secret hash. A revoked client is `NotFound`.
pub fn rotate_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
    at: NaiveDateTime,
) -> Result<ClientRow, StorageError> {
    let updated = diesel::update(
        api_clients::table
            .find(id)
            .filter(api_clients::revoked_at.is_null()),
    )
    .set((
        api_clients::secret_hash.eq(secret_hash),
        api_clients::secret_rotated_at.eq(at),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    find_client(conn, id)
}

/// The client's revocation and its licensee's status, in one query.
pub fn standing(conn: &mut DbConnection, id: &str) -> Result<ClientStanding, StorageError> {
    let (revoked_at, licensee_status) = api_clients::table
        .left_join(licensees::table)
        .filter(api_clients::id.eq(id))
        .select((api_clients::revoked_at, licensees::status.nullable()))
        .first::<(Option<NaiveDateTime>, Option<String>)>(conn)?;
    Ok(ClientStanding {
        revoked_at,
        licensee_status: licensee_status
            .map(|status| parse_stored("licensees.status", &status))
            .transpose()?,
    })
}
