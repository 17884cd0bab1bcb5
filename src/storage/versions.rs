//! An article's versions: one row per change, with the kind of change, its
//! note, the status it left and a snapshot of the article as it then was.
//! The row is read as its types here; a value that does not convert is
//! [`StorageError::Corrupt`] naming the version.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::de::DeserializeOwned;

use super::error::{parse_field, parse_json};
use super::schema::article_versions;
use super::{DbConnection, StorageError};
use crate::domain::content::{ArticleStatus, ChangeKind};

/// The table, as a corrupt row names it.
const TABLE: &str = "article_versions";

/// One version of an article.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = article_versions)]
pub struct VersionRow {
    pub article_id: String,
    pub version: i32,
    pub change_kind: String,
    pub change_note: Option<String>,
    pub status: String,
    pub snapshot: String,
    pub created_at: NaiveDateTime,
}

impl VersionRow {
    /// The row's key as a corrupt row is named: the article and the version.
    fn key(&self) -> String {
        format!("{} v{}", self.article_id, self.version)
    }

    /// Why the version exists.
    pub fn change_kind(&self) -> Result<ChangeKind, StorageError> {
        parse_field(TABLE, &self.key(), "change_kind", &self.change_kind)
    }

    /// The article's status after the change.
    pub fn status(&self) -> Result<ArticleStatus, StorageError> {
        parse_field(TABLE, &self.key(), "status", &self.status)
    }

    /// The article as this version recorded it, read as the type its
    /// writer stored (`content::versions::ArticleSnapshot`).
    pub fn snapshot<T: DeserializeOwned>(&self) -> Result<T, StorageError> {
        parse_json(TABLE, &self.key(), "snapshot", &self.snapshot)
    }
}

/// Records a version.
pub fn insert(conn: &mut DbConnection, row: &VersionRow) -> Result<(), StorageError> {
    diesel::insert_into(article_versions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Versions after `after_version`, oldest first, at most `limit`.
pub fn list(
    conn: &mut DbConnection,
    article_id: &str,
    after_version: i32,
    limit: i64,
) -> Result<Vec<VersionRow>, StorageError> {
    Ok(article_versions::table
        .filter(article_versions::article_id.eq(article_id))
        .filter(article_versions::version.gt(after_version))
        .order(article_versions::version.asc())
        .limit(limit)
        .select(VersionRow::as_select())
        .load(conn)?)
}

/// One version.
pub fn find(
    conn: &mut DbConnection,
    article_id: &str,
    version: i32,
) -> Result<VersionRow, StorageError> {
    Ok(article_versions::table
        .find((article_id, version))
        .select(VersionRow::as_select())
        .get_result(conn)?)
}

/// A correction of an article as delivered with it: the version it made,
/// its note and when it was made (without the version's snapshot).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CorrectionRow {
    pub version: i32,
    pub change_note: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The corrections of an article, oldest first.
pub fn corrections(
    conn: &mut DbConnection,
    article_id: &str,
) -> Result<Vec<CorrectionRow>, StorageError> {
    use article_versions::dsl as v;
    Ok(v::article_versions
        .filter(v::article_id.eq(article_id))
        .filter(v::change_kind.eq(ChangeKind::Correction.as_str()))
        .order(v::version.asc())
        .select((v::version, v::change_note, v::created_at))
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version() -> VersionRow {
        VersionRow {
            article_id: "019ac0a6-1111-7222-8333-444455556666".to_owned(),
            version: 3,
            change_kind: "correction".to_owned(),
            change_note: Some("The height was wrong.".to_owned()),
            status: "published".to_owned(),
            snapshot: r#"{"version": 3}"#.to_owned(),
            created_at: NaiveDateTime::default(),
        }
    }

    fn corrupt(error: StorageError) -> (&'static str, String, String) {
        match error {
            StorageError::Corrupt { table, id, detail } => (table, id, detail),
            other => panic!("not Corrupt: {other:?}"),
        }
    }

    #[test]
    fn a_stored_version_reads_as_its_types() {
        let row = version();

        assert_eq!(row.change_kind().unwrap(), ChangeKind::Correction);
        assert_eq!(row.status().unwrap(), ArticleStatus::Published);
        assert_eq!(
            row.snapshot::<serde_json::Value>().unwrap(),
            serde_json::json!({"version": 3})
        );
    }

    #[test]
    fn a_version_whose_values_do_not_convert_is_corrupt_naming_the_version_and_field() {
        let key = "019ac0a6-1111-7222-8333-444455556666 v3";
        let bad_kind = VersionRow {
            change_kind: "rewrite".to_owned(),
            ..version()
        };
        let bad_status = VersionRow {
            status: "archived".to_owned(),
            ..version()
        };
        let bad_snapshot = VersionRow {
            snapshot: "{not json".to_owned(),
            ..version()
        };

        for (error, field) in [
            (
                bad_kind.change_kind().unwrap_err(),
                "change_kind \"rewrite\"",
            ),
            (bad_status.status().unwrap_err(), "status \"archived\""),
            (
                bad_snapshot.snapshot::<serde_json::Value>().unwrap_err(),
                "snapshot: ",
            ),
        ] {
            let (table, id, detail) = corrupt(error);
            assert_eq!((table, id.as_str()), (TABLE, key));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
