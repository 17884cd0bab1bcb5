//! Whose content a caller touches: a publisher's client acts for and reads
//! its own publisher only; an admin reads everything and writes for the
//! publisher it names.

use uuid::Uuid;

use super::ContentError;
use crate::domain::FieldError;
use crate::identity::Caller;
use crate::storage::{DbConnection, StorageError, organisations};

/// The publisher a write acts for: a publisher's own, or for an admin the
/// `publisher_id` it names (which must exist).
pub fn acting_publisher(
    conn: &mut DbConnection,
    caller: &Caller,
    requested: Option<Uuid>,
) -> Result<String, ContentError> {
    match (caller.publisher_id(), requested) {
        (Some(own), Some(named)) if named.hyphenated().to_string() == own.to_string() => {
            Ok(own.to_string())
        }
        (Some(_), Some(_)) => Err(ContentError::Forbidden(
            "a publisher acts for itself only; leave out publisher_id".to_owned(),
        )),
        (Some(own), None) => Ok(own.to_string()),
        (None, None) => Err(ContentError::Forbidden(
            "an admin acts for a publisher only when it names one in publisher_id".to_owned(),
        )),
        (None, Some(id)) => {
            let id = id.hyphenated().to_string();
            match organisations::find_publisher(conn, &id) {
                Ok(_) => Ok(id),
                Err(StorageError::NotFound) => {
                    Err(ContentError::UnknownReference(vec![FieldError::new(
                        "publisher_id",
                        "no publisher has this id",
                    )]))
                }
                Err(other) => Err(other.into()),
            }
        }
    }
}

/// The publisher whose content a read is limited to: its own for a
/// publisher, none (everything) for an admin.
pub fn reader_scope(caller: &Caller) -> Option<String> {
    caller.publisher_id().map(|p| p.to_string())
}
