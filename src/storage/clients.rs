//! API clients: credentials (hashed) and what they act for. Rows are read
//! as their types here: a value that does not convert, or a role that does
//! not match the organisation columns, is [`StorageError::Corrupt`] naming
//! the client and the column.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{parse_field, parse_json};
use super::page::{Page, PageRequest};
use super::schema::{api_clients, licensees};
use super::{DbConnection, StorageError};
use crate::domain::purpose::Purpose;
use crate::domain::{ClientId, LicenseeStatus, Organisation, Role};

/// The table, as a corrupt row names it.
const TABLE: &str = "api_clients";

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
    /// The purposes a licensee's client may fetch for, as a JSON list;
    /// `None` is every purpose.
    pub purposes: Option<String>,
}

/// The columns that are not plain text, read as their types.
impl ClientRow {
    /// Its id, the OAuth `client_id`.
    pub fn client_id(&self) -> Result<ClientId, StorageError> {
        parse_field(TABLE, &self.id, "id", &self.id)
    }

    /// What it may do.
    pub fn role(&self) -> Result<Role, StorageError> {
        parse_field(TABLE, &self.id, "role", &self.role)
    }

    /// The organisation it acts for: the one column its role names is set
    /// (neither for an admin), or the row is corrupt.
    pub fn organisation(&self) -> Result<Option<Organisation>, StorageError> {
        match (self.role()?, &self.publisher_id, &self.licensee_id) {
            (Role::Admin, None, None) => Ok(None),
            (Role::Publisher, Some(publisher), None) => Ok(Some(Organisation::Publisher(
                parse_field(TABLE, &self.id, "publisher_id", publisher)?,
            ))),
            (Role::Licensee, None, Some(licensee)) => Ok(Some(Organisation::Licensee(
                parse_field(TABLE, &self.id, "licensee_id", licensee)?,
            ))),
            (role, publisher, licensee) => Err(StorageError::Corrupt {
                table: TABLE,
                id: self.id.clone(),
                detail: format!(
                    "role {role} with publisher_id {publisher:?} and licensee_id {licensee:?}"
                ),
            }),
        }
    }

    /// The purposes it may fetch for: those stored for a licensee's client
    /// (every purpose when none are), none for another role.
    pub fn purposes(&self) -> Result<Vec<Purpose>, StorageError> {
        match (self.role()?, &self.purposes) {
            (Role::Licensee, None) => Ok(Purpose::ALL.to_vec()),
            (Role::Licensee, Some(list)) => parse_json(TABLE, &self.id, "purposes", list),
            _ => Ok(Vec::new()),
        }
    }
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
    pub purposes: Option<&'a str>,
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
    /// The licensee's id as stored, for a licensee's client (a change to
    /// the licensee changes the standing).
    pub licensee_id: Option<String>,
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
        .get_result(conn)?)
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
    let (revoked_at, licensee) = api_clients::table
        .left_join(licensees::table)
        .filter(api_clients::id.eq(id))
        .select((
            api_clients::revoked_at,
            (licensees::id, licensees::status).nullable(),
        ))
        .get_result::<(Option<NaiveDateTime>, Option<(String, String)>)>(conn)?;
    let licensee_status = licensee
        .as_ref()
        .map(|(licensee, status)| parse_field("licensees", licensee, "status", status))
        .transpose()?;
    Ok(ClientStanding {
        revoked_at,
        licensee_status,
        licensee_id: licensee.map(|(licensee, _)| licensee),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019ac0a4-1111-7222-8333-444455556666";
    const ORG: &str = "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01";

    fn client(role: &str, publisher: Option<&str>, licensee: Option<&str>) -> ClientRow {
        let at = NaiveDateTime::default();
        ClientRow {
            id: ID.to_owned(),
            name: "Morning Brief ingest".to_owned(),
            role: role.to_owned(),
            publisher_id: publisher.map(str::to_owned),
            licensee_id: licensee.map(str::to_owned),
            secret_hash: String::new(),
            created_at: at,
            secret_rotated_at: at,
            revoked_at: None,
            purposes: None,
        }
    }

    #[test]
    fn a_stored_client_reads_as_its_types() {
        let row = client("licensee", None, Some(ORG));

        assert_eq!(row.client_id().unwrap().to_string(), ID);
        assert_eq!(row.role().unwrap(), Role::Licensee);
        assert_eq!(
            row.organisation().unwrap().map(|o| o.id().to_string()),
            Some(ORG.to_owned())
        );
        assert_eq!(client("admin", None, None).organisation().unwrap(), None);
    }

    #[test]
    fn a_client_whose_values_do_not_convert_is_corrupt_naming_the_row_and_field() {
        for (row, field) in [
            (client("editor", None, None), "role \"editor\""),
            (client("publisher", Some("x"), None), "publisher_id \"x\""),
            // The role and the organisation columns disagree.
            (
                client("admin", Some(ORG), None),
                "role admin with publisher_id Some(",
            ),
            (
                client("licensee", None, None),
                "role licensee with publisher_id None",
            ),
        ] {
            let Err(StorageError::Corrupt { table, id, detail }) = row.organisation() else {
                panic!("{field}: not Corrupt");
            };
            assert_eq!((table, id.as_str()), (TABLE, ID));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
