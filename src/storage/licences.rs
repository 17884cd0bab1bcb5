//! Licences: which licensee may have which publisher's content, how, and
//! at what price.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::licences;
use super::{DbConnection, StorageError};

/// A stored licence.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = licences)]
pub struct LicenceRow {
    pub id: String,
    pub licensee_id: String,
    pub publisher_id: String,
    pub sections: Option<String>,
    pub tier: String,
    pub include_media: bool,
    pub valid_from: NaiveDateTime,
    pub valid_until: Option<NaiveDateTime>,
    pub quota_units: Option<i64>,
    pub quota_period: Option<String>,
    pub rate_limit_per_minute: Option<i32>,
    pub price_amount_minor: Option<i64>,
    pub price_currency: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Which licences a list shows.
#[derive(Debug, Clone, Default)]
pub struct LicenceFilter {
    /// Only this licensee's.
    pub licensee_id: Option<String>,
    /// Only those on this publisher's content.
    pub publisher_id: Option<String>,
}

/// Scope of licence list cursors.
pub const LICENCES: &str = "licences";

/// Inserts a licence.
pub fn insert(conn: &mut DbConnection, row: &LicenceRow) -> Result<(), StorageError> {
    diesel::insert_into(licences::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One licence.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<LicenceRow, StorageError> {
    Ok(licences::table
        .find(id)
        .select(LicenceRow::as_select())
        .first(conn)?)
}

/// Every licence of a licensee (a licensee has few).
pub fn of_licensee(
    conn: &mut DbConnection,
    licensee_id: &str,
) -> Result<Vec<LicenceRow>, StorageError> {
    Ok(licences::table
        .filter(licences::licensee_id.eq(licensee_id))
        .order(licences::id.asc())
        .select(LicenceRow::as_select())
        .load(conn)?)
}

/// A page of licences.
pub fn list(
    conn: &mut DbConnection,
    filter: &LicenceFilter,
    page: &PageRequest,
) -> Result<Page<LicenceRow>, StorageError> {
    let mut query = licences::table
        .select(LicenceRow::as_select())
        .order(licences::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(licensee) = &filter.licensee_id {
        query = query.filter(licences::licensee_id.eq(licensee.clone()));
    }
    if let Some(publisher) = &filter.publisher_id {
        query = query.filter(licences::publisher_id.eq(publisher.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(licences::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, LICENCES, |r| r.id.clone()))
}

/// Replaces the changeable fields of a licence.
pub fn update(conn: &mut DbConnection, row: &LicenceRow) -> Result<(), StorageError> {
    let updated = diesel::update(licences::table.find(&row.id))
        .set((
            licences::sections.eq(&row.sections),
            licences::tier.eq(&row.tier),
            licences::include_media.eq(row.include_media),
            licences::valid_from.eq(row.valid_from),
            licences::valid_until.eq(row.valid_until),
            licences::quota_units.eq(row.quota_units),
            licences::quota_period.eq(&row.quota_period),
            licences::rate_limit_per_minute.eq(row.rate_limit_per_minute),
            licences::price_amount_minor.eq(row.price_amount_minor),
            licences::price_currency.eq(&row.price_currency),
            licences::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}
