//! Who is asking: API client secrets, signing keys, JWT access tokens, the
//! `Caller` extractor with its role checks, and the token endpoint's
//! brute-force throttle.

pub mod caller;
pub mod keys;
pub mod secrets;
pub mod throttle;
pub mod tokens;

pub use caller::{Caller, Organisation};
pub use keys::KeyStore;
pub use tokens::{Claims, TokenError, TokenService, TokenSettings};
