//! Publishers and licensees.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{licensees, publishers};
use super::{DbConnection, StorageError};

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
        .first(conn)?)
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
        .first(conn)?)
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
