//! The storage error type: what went wrong, by kind, without HTTP in sight.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

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

impl StorageError {
    /// A stored value that does not read as its type. Only this service
    /// writes these columns, so the row was changed behind its back: that
    /// is a failure to report, never a value to guess.
    pub fn corrupt(column: &str, value: &str) -> Self {
        StorageError::Other(format!("{column} holds {value:?}, which is not a valid value").into())
    }
}

/// Reads a stored text column as its type, or fails as [`StorageError::corrupt`].
pub fn parse_stored<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StorageError> {
    value
        .parse()
        .map_err(|_| StorageError::corrupt(column, value))
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
