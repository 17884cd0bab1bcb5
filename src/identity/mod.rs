//! Who is asking: API client secrets, signing keys, JWT access tokens, the
//! caller with its role checks and standing, and the token endpoint's
//! brute-force throttle.

pub mod caller;
pub mod keys;
pub mod secrets;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Organisation};
pub use keys::KeyStore;
pub use tokens::{Claims, TokenError, TokenService, TokenSettings};

use crate::storage::StorageError;

/// Why an identity check refused a caller.
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
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
