//! Photos (media assets) and their rights.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::media;
use super::{DbConnection, StorageError};

/// A stored photo.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = media, treat_none_as_null = true)]
pub struct MediaRow {
    pub id: String,
    pub publisher_id: String,
    pub caption: String,
    pub credit_line: String,
    pub creator: Option<String>,
    pub copyright_holder: String,
    pub copyright_notice: Option<String>,
    pub licensor: Option<String>,
    pub renditions: String,
    pub syndication: String,
    pub rights_licensees: Option<String>,
    pub territories_allowed: Option<String>,
    pub territories_denied: Option<String>,
    pub rights_expires_at: Option<NaiveDateTime>,
    pub usage_terms: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Scope of media list cursors.
pub const MEDIA: &str = "media";

/// Inserts a photo.
pub fn insert(conn: &mut DbConnection, row: &MediaRow) -> Result<MediaRow, StorageError> {
    diesel::insert_into(media::table)
        .values(row)
        .execute(conn)?;
    find(conn, &row.publisher_id, &row.id)
}

/// One photo of a publisher; another publisher's photo is `NotFound`.
pub fn find(
    conn: &mut DbConnection,
    publisher_id: &str,
    id: &str,
) -> Result<MediaRow, StorageError> {
    Ok(media::table
        .find(id)
        .filter(media::publisher_id.eq(publisher_id))
        .select(MediaRow::as_select())
        .first(conn)?)
}

/// One photo, whoever owns it (admins).
pub fn find_any(conn: &mut DbConnection, id: &str) -> Result<MediaRow, StorageError> {
    Ok(media::table
        .find(id)
        .select(MediaRow::as_select())
        .first(conn)?)
}

/// The photos among `ids` that belong to the publisher.
pub fn owned_ids(
    conn: &mut DbConnection,
    publisher_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::table
        .filter(media::publisher_id.eq(publisher_id))
        .filter(media::id.eq_any(ids))
        .select(media::id)
        .load(conn)?)
}

/// Photos by id, in no particular order.
pub fn find_many(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<MediaRow>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load(conn)?)
}

/// A page of a publisher's photos (all photos for `None`).
pub fn list(
    conn: &mut DbConnection,
    publisher_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<MediaRow>, StorageError> {
    let mut query = media::table
        .select(MediaRow::as_select())
        .order(media::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(publisher_id) = publisher_id {
        query = query.filter(media::publisher_id.eq(publisher_id.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(media::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, MEDIA, |r| r.id.clone()))
}

/// Replaces a photo's fields (not its id, owner or creation time).
pub fn replace(conn: &mut DbConnection, row: &MediaRow) -> Result<MediaRow, StorageError> {
    let updated = diesel::update(
        media::table
            .find(&row.id)
            .filter(media::publisher_id.eq(&row.publisher_id)),
    )
    .set((
        media::caption.eq(&row.caption),
        media::credit_line.eq(&row.credit_line),
        media::creator.eq(&row.creator),
        media::copyright_holder.eq(&row.copyright_holder),
        media::copyright_notice.eq(&row.copyright_notice),
        media::licensor.eq(&row.licensor),
        media::renditions.eq(&row.renditions),
        media::syndication.eq(&row.syndication),
        media::rights_licensees.eq(&row.rights_licensees),
        media::territories_allowed.eq(&row.territories_allowed),
        media::territories_denied.eq(&row.territories_denied),
        media::rights_expires_at.eq(&row.rights_expires_at),
        media::usage_terms.eq(&row.usage_terms),
        media::updated_at.eq(&row.updated_at),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    find(conn, &row.publisher_id, &row.id)
}
