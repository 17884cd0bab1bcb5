//! Publishers and licensees. Rows are read as their types here: a value
//! that does not convert is [`StorageError::Corrupt`] naming the row and the
//! column.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::parse_field;
use super::page::{Page, PageRequest};
use super::schema::{licensees, publishers};
use super::{DbConnection, StorageError};
use crate::domain::{LicenseeId, LicenseeStatus, PublisherId, Slug, Territories};

/// A stored publisher.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = publishers)]
pub struct PublisherRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns that are not plain text, read as their types.
impl PublisherRow {
    /// Its id.
    pub fn publisher_id(&self) -> Result<PublisherId, StorageError> {
        parse_field("publishers", &self.id, "id", &self.id)
    }

    /// Its unique short name.
    pub fn slug(&self) -> Result<Slug, StorageError> {
        parse_field("publishers", &self.id, "slug", &self.slug)
    }
}

/// A publisher to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = publishers)]
pub struct NewPublisherRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub slug: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a publisher; `None` leaves a field alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = publishers)]
pub struct PublisherChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A stored licensee.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = licensees)]
pub struct LicenseeRow {
    pub id: String,
    pub name: String,
    pub status: String,
    pub territories: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns that are not plain text, read as their types.
impl LicenseeRow {
    /// Its id.
    pub fn licensee_id(&self) -> Result<LicenseeId, StorageError> {
        parse_field("licensees", &self.id, "id", &self.id)
    }

    /// Whether it receives anything.
    pub fn status(&self) -> Result<LicenseeStatus, StorageError> {
        parse_field("licensees", &self.id, "status", &self.status)
    }

    /// Where it distributes: at least one territory, every one a code.
    pub fn territories(&self) -> Result<Territories, StorageError> {
        let codes: Vec<&str> = self.territories.split(',').collect();
        Territories::parse(&codes).map_err(|bad| {
            let detail = bad
                .into_iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join("; ");
            StorageError::Corrupt {
                table: "licensees",
                id: self.id.clone(),
                detail: format!("territories {:?}: {detail}", self.territories),
            }
        })
    }
}

/// A licensee to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = licensees)]
pub struct NewLicenseeRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub status: &'a str,
    pub territories: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Changes to a licensee; `None` leaves a field alone.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = licensees)]
pub struct LicenseeChanges {
    pub name: Option<String>,
    pub status: Option<String>,
    pub territories: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Scope of publisher list cursors.
pub const PUBLISHERS: &str = "publishers";
/// Scope of licensee list cursors.
pub const LICENSEES: &str = "licensees";

/// Inserts a publisher; a taken slug is a conflict.
pub fn insert_publisher(
    conn: &mut DbConnection,
    row: &NewPublisherRow<'_>,
) -> Result<PublisherRow, StorageError> {
    diesel::insert_into(publishers::table)
        .values(row)
        .execute(conn)?;
    find_publisher(conn, row.id)
}

/// One publisher.
pub fn find_publisher(conn: &mut DbConnection, id: &str) -> Result<PublisherRow, StorageError> {
    Ok(publishers::table
        .find(id)
        .select(PublisherRow::as_select())
        .get_result(conn)?)
}

/// A page of publishers in id order.
pub fn list_publishers(
    conn: &mut DbConnection,
    page: &PageRequest,
) -> Result<Page<PublisherRow>, StorageError> {
    let mut query = publishers::table
        .select(PublisherRow::as_select())
        .order(publishers::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(publishers::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, PUBLISHERS, |r| r.id.clone()))
}

/// Applies changes; a missing publisher is `NotFound`.
pub fn update_publisher(
    conn: &mut DbConnection,
    id: &str,
    changes: &PublisherChanges,
) -> Result<PublisherRow, StorageError> {
    let updated = diesel::update(publishers::table.find(id))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    find_publisher(conn, id)
}

/// Inserts a licensee.
pub fn insert_licensee(
    conn: &mut DbConnection,
    row: &NewLicenseeRow<'_>,
) -> Result<LicenseeRow, StorageError> {
    diesel::insert_into(licensees::table)
        .values(row)
        .execute(conn)?;
    find_licensee(conn, row.id)
}

/// One licensee.
pub fn find_licensee(conn: &mut DbConnection, id: &str) -> Result<LicenseeRow, StorageError> {
    Ok(licensees::table
        .find(id)
        .select(LicenseeRow::as_select())
        .get_result(conn)?)
}

/// A page of licensees in id order.
pub fn list_licensees(
    conn: &mut DbConnection,
    page: &PageRequest,
) -> Result<Page<LicenseeRow>, StorageError> {
    let mut query = licensees::table
        .select(LicenseeRow::as_select())
        .order(licensees::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(licensees::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, LICENSEES, |r| r.id.clone()))
}

/// Applies changes; a missing licensee is `NotFound`.
pub fn update_licensee(
    conn: &mut DbConnection,
    id: &str,
    changes: &LicenseeChanges,
) -> Result<LicenseeRow, StorageError> {
    let updated = diesel::update(licensees::table.find(id))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    find_licensee(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01";

    fn licensee(status: &str, territories: &str) -> LicenseeRow {
        let at = NaiveDateTime::default();
        LicenseeRow {
            id: ID.to_owned(),
            name: "Morning Brief".to_owned(),
            status: status.to_owned(),
            territories: territories.to_owned(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_stored_licensee_reads_as_its_types() {
        let row = licensee("suspended", "GB,IE");

        assert_eq!(row.licensee_id().unwrap().to_string(), ID);
        assert_eq!(row.status().unwrap(), LicenseeStatus::Suspended);
        assert_eq!(row.territories().unwrap().to_stored(), "GB,IE");
    }

    #[test]
    fn a_licensee_whose_values_do_not_convert_is_corrupt_naming_the_row_and_field() {
        for (error, field) in [
            (
                licensee("closed", "GB").status().map(drop),
                "status \"closed\"",
            ),
            (
                licensee("active", "GB,XX").territories().map(drop),
                "territories \"GB,XX\"",
            ),
            // A licensee always has a territory: none is not a default.
            (
                licensee("active", "").territories().map(drop),
                "territories \"\"",
            ),
        ] {
            let Err(StorageError::Corrupt { table, id, detail }) = error else {
                panic!("{field}: not Corrupt: {error:?}");
            };
            assert_eq!((table, id.as_str()), ("licensees", ID));
            assert!(detail.starts_with(field), "{detail}");
        }
    }

    #[test]
    fn a_publisher_whose_id_does_not_convert_is_corrupt() {
        let at = NaiveDateTime::default();
        let row = PublisherRow {
            id: "42".to_owned(),
            name: "The Harbour Gazette".to_owned(),
            slug: "harbour-gazette".to_owned(),
            created_at: at,
            updated_at: at,
        };

        let Err(StorageError::Corrupt { table, id, detail }) = row.publisher_id() else {
            panic!("not Corrupt");
        };
        assert_eq!((table, id.as_str()), ("publishers", "42"));
        assert!(detail.starts_with("id \"42\""), "{detail}");
        assert_eq!(row.slug().unwrap().as_str(), "harbour-gazette");
    }
}
