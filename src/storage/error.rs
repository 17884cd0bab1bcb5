//! The storage error type: what went wrong, by kind, without HTTP in sight;
//! the one place a database error is classified (a full disk, a read-only
//! or failing one, an unreachable one); and the one way a stored value is
//! read as its type, so that a value that does not convert is
//! [`StorageError::Corrupt`], never a default.

use std::fmt::Display;
use std::str::FromStr;

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind, Error as DieselError};
use serde::de::DeserializeOwned;

/// What a storage call can fail with. Callers map these to problems; the
/// variants are kinds, not constraint names, because SQLite reports none.
/// Every variant that is a failure keeps the driver's error as its source,
/// so the cause is logged as the database reported it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached, no connection was free in time,
    /// or it stayed locked by another writer.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database or the disk under it is full: nothing was written.
    #[error("the database is out of space")]
    OutOfSpace(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database refuses writes (a read-only file, filesystem or server).
    #[error("the database is read-only")]
    ReadOnly(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The disk under the database reported an I/O error.
    #[error("the database reported an I/O error")]
    Io(#[source] Box<dyn std::error::Error + Send + Sync>),
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

/// The class of a storage failure, as the log and the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Unreachable, no connection in time, or locked ([`StorageError::Unavailable`]).
    Unavailable,
    /// Out of space ([`StorageError::OutOfSpace`]).
    OutOfSpace,
    /// Read-only ([`StorageError::ReadOnly`]).
    ReadOnly,
    /// An I/O error ([`StorageError::Io`]).
    Io,
    /// A stored value that does not convert ([`StorageError::Corrupt`]).
    Corrupt,
    /// Anything else ([`StorageError::Other`]).
    Other,
}

impl Fault {
    /// The class's name in logs and in the `class` label of metrics.
    pub const fn label(self) -> &'static str {
        match self {
            Fault::Unavailable => "unavailable",
            Fault::OutOfSpace => "out_of_space",
            Fault::ReadOnly => "read_only",
            Fault::Io => "io",
            Fault::Corrupt => "corrupt",
            Fault::Other => "other",
        }
    }
}

impl StorageError {
    /// The class of failure this is; `None` for an answer rather than a
    /// failure (not found, a conflict).
    pub fn fault(&self) -> Option<Fault> {
        match self {
            StorageError::NotFound | StorageError::Conflict(_) => None,
            StorageError::Unavailable(_) => Some(Fault::Unavailable),
            StorageError::OutOfSpace(_) => Some(Fault::OutOfSpace),
            StorageError::ReadOnly(_) => Some(Fault::ReadOnly),
            StorageError::Io(_) => Some(Fault::Io),
            StorageError::Corrupt { .. } => Some(Fault::Corrupt),
            StorageError::Other(_) => Some(Fault::Other),
        }
    }

    /// The storage failure somewhere in an error's cause chain (the error
    /// itself first), shared or not, if there is one.
    pub fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a StorageError> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<StorageError>() {
                return Some(found);
            }
            if let Some(found) = error.downcast_ref::<std::sync::Arc<StorageError>>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }
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
        let error = match error {
            // A COMMIT that failed and whose rollback failed too: the
            // commit's error is what happened, the rollback's only followed.
            DieselError::RollbackErrorOnCommit { commit_error, .. } => {
                return StorageError::from(*commit_error);
            }
            error => error,
        };
        let fault = match &error {
            DieselError::NotFound => return StorageError::NotFound,
            DieselError::DatabaseError(
                kind
                @ (DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation),
                info,
            ) => {
                let what = match kind {
                    DatabaseErrorKind::UniqueViolation => "unique",
                    _ => "foreign key",
                };
                return StorageError::Conflict(format!("{what} constraint: {}", info.message()));
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
            | DieselError::BrokenTransactionManager => Fault::Unavailable,
            DieselError::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                Fault::ReadOnly
            }
            DieselError::DatabaseError(_, info) => classify(info.as_ref()),
            _ => Fault::Other,
        };
        StorageError::with_fault(fault, Box::new(error))
    }
}

impl StorageError {
    /// A failure of the given class with its cause.
    fn with_fault(fault: Fault, cause: Box<dyn std::error::Error + Send + Sync>) -> Self {
        match fault {
            Fault::Unavailable => StorageError::Unavailable(cause),
            Fault::OutOfSpace => StorageError::OutOfSpace(cause),
            Fault::ReadOnly => StorageError::ReadOnly(cause),
            Fault::Io => StorageError::Io(cause),
            Fault::Corrupt | Fault::Other => StorageError::Other(cause),
        }
    }
}

/// Classifies a database error the driver gave no kind for, by what the
/// database said. diesel keeps neither SQLite's result code nor
/// PostgreSQL's SQLSTATE, only the message: SQLite's are the fixed texts of
/// its result codes (`sqlite3_errstr`), and PostgreSQL reports a full disk
/// (SQLSTATE 53100 `disk_full`) as the operating system's "No space left on
/// device", with the hint "Check free disk space." when extending a file.
fn classify(info: &(dyn DatabaseErrorInformation + Send + Sync)) -> Fault {
    let message = info.message();
    let says = |text: &str| message.contains(text);
    if says("database or disk is full")
        || says("No space left on device")
        || info.hint() == Some("Check free disk space.")
    {
        Fault::OutOfSpace
    } else if says("attempt to write a readonly database") {
        Fault::ReadOnly
    } else if says("disk I/O error") || says("unable to open database file") {
        Fault::Io
    } else if says("database is locked") {
        // Another writer held the lock for the whole busy timeout.
        Fault::Unavailable
    } else {
        Fault::Other
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(error: r2d2::Error) -> Self {
        StorageError::Unavailable(Box::new(error))
    }
}

impl From<super::ConnectError> for StorageError {
    fn from(error: super::ConnectError) -> Self {
        match error {
            super::ConnectError::Connection(error) => StorageError::Unavailable(Box::new(error)),
            // A set-up statement that failed on a fresh connection fails as
            // any statement does (out of space creating the write-ahead
            // log, a read-only file).
            super::ConnectError::Setup(error) => match StorageError::from(error) {
                StorageError::Other(cause) => StorageError::Unavailable(cause),
                classified => classified,
            },
        }
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

    /// What a database said, as diesel passes it on.
    struct Said(&'static str, Option<&'static str>);

    impl DatabaseErrorInformation for Said {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            self.1
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn said(
        kind: DatabaseErrorKind,
        message: &'static str,
        hint: Option<&'static str>,
    ) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Said(message, hint)))
    }

    #[test]
    fn database_errors_are_classified_by_what_the_database_said() {
        use DatabaseErrorKind::{ClosedConnection, ReadOnlyTransaction, Unknown};
        let full = Some("Check free disk space.");
        #[rustfmt::skip]
        let cases = [
            ("SQLITE_FULL", said(Unknown, "database or disk is full", None), Some(Fault::OutOfSpace)),
            ("PostgreSQL 53100 extending a file",
             said(Unknown, "could not extend file \"base/16384/16385\": No space left on device", full), Some(Fault::OutOfSpace)),
            ("PostgreSQL 53100, a short write",
             said(Unknown, "could not extend file \"base/1/2\": wrote only 4096 of 8192 bytes at block 7", full), Some(Fault::OutOfSpace)),
            ("PostgreSQL 53100 in a temporary file",
             said(Unknown, "could not write to file \"base/pgsql_tmp/pgsql_tmp7.0\": No space left on device", None), Some(Fault::OutOfSpace)),
            ("SQLITE_READONLY", said(Unknown, "attempt to write a readonly database", None), Some(Fault::ReadOnly)),
            ("PostgreSQL 25006", said(ReadOnlyTransaction, "cannot execute INSERT in a read-only transaction", None), Some(Fault::ReadOnly)),
            ("SQLITE_IOERR", said(Unknown, "disk I/O error", None), Some(Fault::Io)),
            ("SQLITE_CANTOPEN", said(Unknown, "unable to open database file", None), Some(Fault::Io)),
            ("SQLITE_BUSY after the busy timeout", said(Unknown, "database is locked", None), Some(Fault::Unavailable)),
            ("a dropped PostgreSQL connection", said(ClosedConnection, "server closed the connection unexpectedly", None), Some(Fault::Unavailable)),
            ("a rollback after SQLite's own", said(Unknown, "cannot rollback - no transaction is active", None), Some(Fault::Other)),
            ("a unique key", said(DatabaseErrorKind::UniqueViolation, "UNIQUE constraint failed: publishers.slug", None), None),
            ("no row", DieselError::NotFound, None),
        ];

        for (case, error, expected) in cases {
            assert_eq!(StorageError::from(error).fault(), expected, "{case}");
        }
    }

    #[test]
    fn a_failed_commit_is_classified_by_its_own_error_not_its_rollback() {
        let error = DieselError::RollbackErrorOnCommit {
            commit_error: Box::new(said(
                DatabaseErrorKind::Unknown,
                "database or disk is full",
                None,
            )),
            rollback_error: Box::new(said(
                DatabaseErrorKind::Unknown,
                "cannot rollback - no transaction is active",
                None,
            )),
        };

        let error = StorageError::from(error);

        assert_eq!(error.fault(), Some(Fault::OutOfSpace));
        let cause = std::error::Error::source(&error).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("database or disk is full"));
    }

    #[test]
    fn a_storage_failure_is_found_anywhere_in_a_cause_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("the usage batch failed")]
        struct Batch(#[source] std::sync::Arc<StorageError>);

        let shared = std::sync::Arc::new(StorageError::from(said(
            DatabaseErrorKind::Unknown,
            "database or disk is full",
            None,
        )));
        let batch = Batch(shared);

        let found = StorageError::find(&batch).and_then(StorageError::fault);
        assert_eq!(found, Some(Fault::OutOfSpace));
        assert!(StorageError::find(&std::fmt::Error).is_none());
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
