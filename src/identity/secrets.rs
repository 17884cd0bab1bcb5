//! Client secrets: random, shown once, stored only as an argon2id hash.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a secret could not be made or hashed.
#[derive(Debug, thiserror::Error)]
#[error("could not create a client secret: {0}")]
pub struct SecretError(String);

/// Longest secret accepted for checking; longer ones cannot be ours.
pub const MAX_SECRET_LEN: usize = 256;

/// A new secret: 32 random bytes, base64url (43 characters).
pub fn generate() -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SecretError(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The PHC string stored for a secret.
pub fn hash(secret: &str) -> Result<String, SecretError> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| SecretError(e.to_string()))
}

/// Whether `secret` matches the stored hash (constant-time comparison).
pub fn verify(secret: &str, stored_hash: &str) -> bool {
    secret.len() <= MAX_SECRET_LEN
        && Argon2::default()
            .verify_password(secret.as_bytes(), stored_hash)
            .is_ok()
}

/// Spends the same effort as a real check, for a client id that does not
/// exist, so response times do not reveal which ids do.
pub fn verify_against_nothing(secret: &str) {
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| generate().ok().and_then(|s| hash(&s).ok()));
    if let Some(decoy) = decoy {
        let _ = verify(secret, decoy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_against_its_hash_only() {
        let secret = generate().unwrap();
        let stored = hash(&secret).unwrap();

        assert_eq!(secret.len(), 43);
        assert!(stored.starts_with("$argon2id$"));
        assert!(!stored.contains(&secret));
        assert!(verify(&secret, &stored));
        assert!(!verify("wrong", &stored));
        assert!(!verify(&secret, "not a hash"));
    }
}
