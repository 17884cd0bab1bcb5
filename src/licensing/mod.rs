//! Licensing: the publishers whose content is licensed, the licensees who
//! receive it, and the licences between them. Each workflow validates its
//! input, writes through `storage`, and reads rows back as the types below,
//! failing on a stored value that does not parse. Nothing here knows HTTP:
//! the API, the `admin` command, the demo and the seed all call these.

pub mod licences;
pub mod licensees;
pub mod published;
pub mod publishers;

use crate::domain::field::{Refused, describe};
use crate::domain::text::single_line;
use crate::domain::{FieldError, organisation::MAX_NAME_CHARS};
use crate::storage::StorageError;

/// Why a licensing workflow refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LicensingError {
    /// Fields of the input are invalid; each is named.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// Fields of the input name a publisher or licensee that does not
    /// exist; each is named.
    #[error("{}", describe(.0))]
    UnknownReference(Vec<FieldError>),
    /// The publisher, licensee or licence does not exist, or the caller may
    /// not know of it.
    #[error("{0}")]
    NotFound(String),
    /// The write conflicts with what is stored (a slug that is taken).
    #[error("{0}")]
    Conflict(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Refused> for LicensingError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(errors) => LicensingError::Invalid(errors),
            Refused::Unknown(errors) => LicensingError::UnknownReference(errors),
        }
    }
}

/// A display name: one trimmed line of 1 to [`MAX_NAME_CHARS`] characters;
/// a bad one is noted against `name`.
fn display_name(name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    single_line(name, MAX_NAME_CHARS)
        .map_err(|e| errors.push(FieldError::new("name", e.to_string())))
        .ok()
}
