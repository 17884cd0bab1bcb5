//! The storage error type: what went wrong, by kind, without HTTP in sight;
//! and the one way a stored value is read as its type, so that a value that
//! does not convert is [`StorageError::Corrupt`], never a default.

use std::fmt::Display;
use std::str::FromStr;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::de::DeserializeOwned;

/// What a storage call can fail with. Callers map these to problems; the
/// variants are kinds, not constraint names, because SQLite reports none.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or no connection was free in time.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored row that does not convert to its domain type (a value no
    /// version of this service writes): an error, never a default.
    #[error("stored {table} row {id} does not convert: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's key.
        id: String,
        /// What did not convert.
        detail: String,
    },
    /// Anything else the database or driver reported.
    #[error("storage failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Parses one stored value of a row, or fails as [`StorageError::Corrupt`]
/// naming the table, the row's key and the field. Only this service writes
/// these columns, so a value that does not parse was changed behind its
/// back: a failure to report, never a value to guess.
pub fn parse_field<T>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<T, StorageError>
where
    T: FromStr,
    T::Err: Display,
{
    value.parse().map_err(|error| StorageError::Corrupt {
        table,
        id: id.to_owned(),
        detail: format!("{field} {value:?}: {error}"),
    })
}

/// Parses a stored comma-separated list (an empty string is an empty list),
/// each item as [`parse_field`] does.
pub fn parse_list<T>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<Vec<T>, StorageError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .split(',')
        .filter(|item| !item.is_empty())
        .map(|item| parse_field(table, id, field, item))
        .collect()
}

/// Parses a stored JSON value, or fails as [`StorageError::Corrupt`] naming
/// the table, the row's key and the field.
pub fn parse_json<T: DeserializeOwned>(
    table: &'static str,
    id: &str,
    field: &str,
    value: &str,
) -> Result<T, StorageError> {
    serde_json::from_str(value).map_err(|error| StorageError::Corrupt {
        table,
        id: id.to_owned(),
        detail: format!("{field}: {error}"),
    })
}

impl From<DieselError> for StorageError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StorageError::NotFound,
            DieselError::DatabaseError(
                kind
                @ (DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation),
                info,
            ) => {
                let what = match kind {
                    DatabaseErrorKind::UniqueViolation => "unique",
                    _ => "foreign key",
                };
                StorageError::Conflict(format!("{what} constraint: {}", info.message()))
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::BrokenTransactionManager => StorageError::Unavailable(Box::new(error)),
            other => StorageError::Other(Box::new(other)),
        }
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(error: r2d2::Error) -> Self {
        StorageError::Unavailable(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArticleId;
    use crate::domain::content::{ArticleStatus, Byline};

    fn detail(error: StorageError) -> (&'static str, String, String) {
        match error {
            StorageError::Corrupt { table, id, detail } => (table, id, detail),
            other => panic!("not Corrupt: {other:?}"),
        }
    }

    #[test]
    fn a_value_that_does_not_parse_names_its_table_row_and_field() {
        let error =
            parse_field::<ArticleStatus>("articles", "a1", "status", "archived").unwrap_err();

        let (table, id, detail) = detail(error);
        assert_eq!((table, id.as_str()), ("articles", "a1"));
        assert!(detail.starts_with("status \"archived\": "), "{detail}");
    }

    #[test]
    fn an_id_that_does_not_parse_is_corrupt() {
        let error = parse_field::<ArticleId>("articles", "not-a-uuid", "id", "not-a-uuid");

        let (table, id, detail) = detail(error.unwrap_err());
        assert_eq!((table, id.as_str()), ("articles", "not-a-uuid"));
        assert!(detail.starts_with("id \"not-a-uuid\": "), "{detail}");
    }

    #[test]
    fn json_that_does_not_parse_is_corrupt() {
        let error = parse_json::<Vec<Byline>>("articles", "a1", "bylines", "[{\"nom\": 1}]");

        let (table, id, detail) = detail(error.unwrap_err());
        assert_eq!((table, id.as_str()), ("articles", "a1"));
        assert!(detail.starts_with("bylines: "), "{detail}");
    }

    #[test]
    fn a_list_fails_on_its_first_bad_item_and_reads_empty_as_none() {
        let empty: Vec<crate::domain::Territory> =
            parse_list("media", "m1", "territories_denied", "").unwrap();
        assert!(empty.is_empty());

        let error =
            parse_list::<crate::domain::Territory>("media", "m1", "territories_denied", "GB,XX");
        let (table, id, detail) = detail(error.unwrap_err());
        assert_eq!((table, id.as_str()), ("media", "m1"));
        assert!(
            detail.starts_with("territories_denied \"XX\": "),
            "{detail}"
        );
    }

    #[test]
    fn a_corrupt_row_says_which_row_when_displayed() {
        let error =
            parse_field::<ArticleStatus>("articles", "a1", "status", "archived").unwrap_err();

        assert!(
            error
                .to_string()
                .starts_with("stored articles row a1 does not convert: status \"archived\""),
            "{error}"
        );
    }
}
