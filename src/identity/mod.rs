//! Who is asking: API clients and their secrets, signing keys, JWT access
//! tokens, the caller with its role checks and standing, and the token
//! endpoint's brute-force throttle.

pub mod caller;
pub mod clients;
pub mod grant;
pub mod keys;
pub mod secrets;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Organisation};
pub use keys::KeyStore;
pub use tokens::{Claims, TokenError, TokenService, TokenSettings};

use crate::domain::FieldError;
use crate::domain::field::describe;
use crate::storage::StorageError;

/// Why an identity check refused a caller, or a change to an API client
/// was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// No credentials, or ones that do not verify or name no client (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller's role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The caller's licensee is suspended (403).
    #[error("{0}")]
    Suspended(String),
    /// Fields of a new client are invalid; each is named.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// Fields of a new client name an organisation that does not exist;
    /// each is named.
    #[error("{}", describe(.0))]
    UnknownReference(Vec<FieldError>),
    /// No such client.
    #[error("{0}")]
    NotFound(String),
    /// The client's state rules the change out (a revoked client's secret
    /// is not rotated).
    #[error("{0}")]
    Conflict(String),
    /// A secret could not be made or hashed.
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
