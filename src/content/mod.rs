//! Content: what a publisher's syndication desk makes and changes, without
//! HTTP. Articles are validated and sanitised on the way in, created once
//! per `external_ref`, replaced under a precondition, moved through their
//! lifecycle (publish, withhold, kill), and every change is a new version
//! plus a content event written in the same transaction. Photos carry their
//! credit lines and rights.
//!
//! Every workflow takes typed arguments and a connection, and fails with
//! [`ContentError`]; the HTTP layer maps that to a problem, and the demo and
//! the benchmark seed call the same functions, so what they write is what
//! the API would have written.
//!
//! - [`validate`]: the field rules and sanitising, and the references an
//!   article makes to photos and other articles.
//! - [`ingest`]: creating an article (idempotent per `external_ref`).
//! - [`edit`]: replacing an article's content under a precondition.
//! - [`lifecycle`]: publish, withhold and kill.
//! - [`versions`]: the version history and the event every change records.
//! - [`media`]: photos and their rights.
//! - [`ownership`]: the publisher a write acts for and a read is limited to.
//! - [`read`]: a desk's own articles and photos.

pub mod edit;
pub mod ingest;
pub mod lifecycle;
pub mod media;
pub mod ownership;
pub mod read;
pub mod validate;
pub mod versions;

use crate::domain::field::Refused;
use crate::domain::{ArticleId, FieldError};
use crate::storage::StorageError;

/// Why a content workflow refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Fields break the rules; each one is named.
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// Fields name something (a publisher, a licensee, a photo, an article)
    /// that does not exist or that the caller may not use.
    #[error("{} field(s) name nothing this caller may use", .0.len())]
    UnknownReference(Vec<FieldError>),
    /// The article or photo does not exist, or is not the caller's.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not act this way (e.g. for another publisher).
    #[error("{0}")]
    Forbidden(String),
    /// The change conflicts with the content's current state.
    #[error("{0}")]
    Conflict(String),
    /// The publisher already has an article with this `external_ref`, with
    /// other content: the caller should replace that one instead.
    #[error("an article with this external_ref already exists with different content")]
    ExternalRefTaken {
        /// The article that has it.
        existing_id: ArticleId,
    },
    /// The precondition names a version that is not the current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The change needs a precondition and none was given.
    #[error("{0}")]
    PreconditionRequired(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A failure the caller cannot fix (a value that would not serialise).
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<Refused> for ContentError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(errors) => ContentError::Invalid(errors),
            Refused::Unknown(errors) => ContentError::UnknownReference(errors),
        }
    }
}

/// Serialises a value stored as JSON text; failing is a bug, not the
/// caller's fault.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ContentError> {
    serde_json::to_string(value).map_err(|e| ContentError::Internal(Box::new(e)))
}
