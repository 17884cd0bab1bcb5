//! Photos (media assets) and their rights. Rows are read as their types
//! here: a value that does not convert is [`StorageError::Corrupt`] naming
//! the photo and the column.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{parse_field, parse_json, parse_list};
use super::page::{Page, PageRequest};
use super::schema::media;
use super::{DbConnection, StorageError};
use crate::domain::content::{Rendition, Syndication};
use crate::domain::purpose::DataMining;
use crate::domain::{LicenseeId, MediaId, PublisherId, Territory};

/// The table, as a corrupt row names it.
const TABLE: &str = "media";

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
    pub data_mining: String,
}

/// The columns that are not plain text, read as their types.
impl MediaRow {
    /// Its id.
    pub fn media_id(&self) -> Result<MediaId, StorageError> {
        parse_field(TABLE, &self.id, "id", &self.id)
    }

    /// Its publisher.
    pub fn publisher_id(&self) -> Result<PublisherId, StorageError> {
        parse_field(TABLE, &self.id, "publisher_id", &self.publisher_id)
    }

    /// Its files.
    pub fn renditions(&self) -> Result<Vec<Rendition>, StorageError> {
        parse_json(TABLE, &self.id, "renditions", &self.renditions)
    }

    /// Whether it may be syndicated at all.
    pub fn syndication(&self) -> Result<Syndication, StorageError> {
        parse_field(TABLE, &self.id, "syndication", &self.syndication)
    }

    /// Its IPTC/PLUS data-mining value.
    pub fn data_mining(&self) -> Result<DataMining, StorageError> {
        parse_field(TABLE, &self.id, "data_mining", &self.data_mining)
    }

    /// The only licensees that may have it, if it is limited to some.
    pub fn rights_licensees(&self) -> Result<Option<Vec<LicenseeId>>, StorageError> {
        self.list("rights_licensees", self.rights_licensees.as_deref())
    }

    /// The territories every licensee territory must be among, if limited.
    pub fn territories_allowed(&self) -> Result<Option<Vec<Territory>>, StorageError> {
        self.list("territories_allowed", self.territories_allowed.as_deref())
    }

    /// The territories no licensee territory may be among, if any are named.
    pub fn territories_denied(&self) -> Result<Option<Vec<Territory>>, StorageError> {
        self.list("territories_denied", self.territories_denied.as_deref())
    }

    /// A nullable comma-separated column.
    fn list<T>(&self, field: &str, stored: Option<&str>) -> Result<Option<Vec<T>>, StorageError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        stored
            .map(|value| parse_list(TABLE, &self.id, field, value))
            .transpose()
    }
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
        .get_result(conn)?)
}

/// One photo, whoever owns it (admins).
pub fn find_any(conn: &mut DbConnection, id: &str) -> Result<MediaRow, StorageError> {
    Ok(media::table
        .find(id)
        .select(MediaRow::as_select())
        .get_result(conn)?)
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

/// A publisher's photos whose data-mining value is not one of `open`
/// (those that forbid some purpose).
pub fn mining_restricted(
    conn: &mut DbConnection,
    publisher_id: &str,
    open: &[&str],
) -> Result<Vec<MediaRow>, StorageError> {
    Ok(media::table
        .filter(media::publisher_id.eq(publisher_id))
        .filter(media::data_mining.ne_all(open))
        .order(media::id.asc())
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

/// Sets a photo's syndication to `to` (`allowed` or `prohibited`) if it
/// was the other; whether it changed. The conditional update takes the
/// row's lock, so of two changes at once only one sees the turn.
pub fn turn_syndication(
    conn: &mut DbConnection,
    publisher_id: &str,
    id: &str,
    to: &str,
) -> Result<bool, StorageError> {
    let turned = diesel::update(
        media::table
            .find(id)
            .filter(media::publisher_id.eq(publisher_id))
            .filter(media::syndication.ne(to)),
    )
    .set(media::syndication.eq(to))
    .execute(conn)?;
    Ok(turned == 1)
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
        media::data_mining.eq(&row.data_mining),
        media::updated_at.eq(&row.updated_at),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    find(conn, &row.publisher_id, &row.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019ac0a5-3333-7444-8555-666677778888";

    fn photo() -> MediaRow {
        let at = NaiveDateTime::default();
        MediaRow {
            id: ID.to_owned(),
            publisher_id: uuid::Uuid::nil().to_string(),
            caption: "Boats at dawn".to_owned(),
            credit_line: "Photograph: Lena Varga".to_owned(),
            creator: None,
            copyright_holder: "Northwire".to_owned(),
            copyright_notice: None,
            licensor: None,
            renditions: "[]".to_owned(),
            syndication: "allowed".to_owned(),
            rights_licensees: None,
            territories_allowed: None,
            territories_denied: Some("US".to_owned()),
            rights_expires_at: None,
            usage_terms: None,
            created_at: at,
            updated_at: at,
            data_mining: "prohibited_gen_ai_ml_training".to_owned(),
        }
    }

    #[test]
    fn a_stored_photo_reads_as_its_types() {
        let row = photo();

        assert_eq!(row.media_id().unwrap().to_string(), ID);
        assert_eq!(row.syndication().unwrap(), Syndication::Allowed);
        assert_eq!(
            row.data_mining().unwrap(),
            DataMining::ProhibitedGenAiMlTraining
        );
        assert_eq!(row.rights_licensees().unwrap(), None);
        assert_eq!(row.territories_denied().unwrap().unwrap().len(), 1);
    }

    #[test]
    fn a_photo_whose_values_do_not_convert_is_corrupt_naming_the_row_and_field() {
        let bad_syndication = MediaRow {
            syndication: "sometimes".to_owned(),
            ..photo()
        };
        let bad_licensee = MediaRow {
            rights_licensees: Some("not-a-uuid".to_owned()),
            ..photo()
        };
        let bad_renditions = MediaRow {
            renditions: r#"[{"href": 1}]"#.to_owned(),
            ..photo()
        };

        for (error, field) in [
            (
                bad_syndication.syndication().map(drop),
                "syndication \"sometimes\"",
            ),
            (
                bad_licensee.rights_licensees().map(drop),
                "rights_licensees \"not-a-uuid\"",
            ),
            (bad_renditions.renditions().map(drop), "renditions: "),
        ] {
            let Err(StorageError::Corrupt { table, id, detail }) = error else {
                panic!("{field}: not Corrupt: {error:?}");
            };
            assert_eq!((table, id.as_str()), ("media", ID));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
