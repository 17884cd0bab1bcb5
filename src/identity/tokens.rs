//! Access tokens: EdDSA-signed JWTs with `kid`, pinned algorithm, issuer
//! and audience, and every time claim checked.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::KeyStore;
use crate::domain::{ClientId, Role};

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: the client id.
    pub sub: String,
    /// The client's role.
    pub role: Role,
    /// The organisation the client acts for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// For a licensee's client: the purposes the token may fetch for, as
    /// OAuth scopes (`use:display use:ai-input`). A token without it
    /// (issued before purposes) fetches for `display` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Token settings from configuration.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `iss` of issued tokens, and the only one accepted.
    pub issuer: String,
    /// `aud` of issued tokens, and the only one accepted.
    pub audience: String,
    /// Lifetime of an access token.
    pub ttl: Duration,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: "syndicate".to_owned(),
            audience: "syndicate-api".to_owned(),
            ttl: Duration::from_secs(15 * 60),
            leeway: Duration::from_secs(5),
        }
    }
}

/// Why a token was refused. Each becomes a 401 naming the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Longer than any token this service issues.
    #[error("the token is too long")]
    TooLong,
    /// Not a JWT, or a part does not decode.
    #[error("the token is malformed")]
    Malformed,
    /// The header names no key, or one we do not have.
    #[error("the token's key (kid) is unknown")]
    UnknownKey,
    /// Not signed with EdDSA.
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    Signature,
    /// Past `exp`.
    #[error("the token has expired")]
    Expired,
    /// Before `nbf`, or issued in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Wrong or missing `iss`, `aud`, `sub` or another required claim.
    #[error("the token's claims are not accepted: {0}")]
    Claims(String),
    /// The token could not be signed.
    #[error("the token could not be signed")]
    Signing,
}

/// Longest token accepted for checking.
pub const MAX_TOKEN_LEN: usize = 4096;

/// Most verified tokens remembered; the memory starts over beyond.
const MAX_VERIFIED: usize = 10_000;

/// Issues and verifies access tokens.
#[derive(Debug, Clone)]
pub struct TokenService {
    keys: Arc<KeyStore>,
    settings: TokenSettings,
    /// Tokens whose signature and claims verified, with their claims: a
    /// token never changes, so only its time claims are checked again.
    verified: Arc<RwLock<HashMap<String, Claims>>>,
}

impl TokenService {
    /// A service over the given keys.
    pub fn new(keys: KeyStore, settings: TokenSettings) -> Self {
        Self {
            keys: Arc::new(keys),
            settings,
            verified: Arc::default(),
        }
    }

    /// The keys, for the JWKS endpoint.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Token lifetime in seconds.
    pub fn ttl_seconds(&self) -> u64 {
        self.settings.ttl.as_secs()
    }

    /// Signs a token for a client.
    pub fn issue(
        &self,
        client: ClientId,
        role: Role,
        organisation: Option<String>,
        scope: Option<String>,
    ) -> Result<String, TokenError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: client.to_string(),
            role,
            org: organisation,
            iat: now,
            nbf: now,
            exp: now + i64::try_from(self.settings.ttl.as_secs()).unwrap_or(900),
            jti: uuid::Uuid::now_v7().to_string(),
            scope,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.keys.signing_kid().to_owned());
        jsonwebtoken::encode(&header, &claims, self.keys.encoding_key())
            .map_err(|_| TokenError::Signing)
    }

    /// Verifies a token and returns its claims. The signature of a token
    /// is checked once; its time claims on every call.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong);
        }
        let known = self
            .verified
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned();
        if let Some(claims) = known {
            self.check_times(&claims)?;
            return Ok(claims);
        }
        let claims = self.verify_signed(token)?;
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
        Ok(claims)
    }

    /// `exp`, `nbf` and `iat` against the clock, with the leeway.
    fn check_times(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = chrono::Utc::now().timestamp();
        let leeway = i64::try_from(self.settings.leeway.as_secs()).unwrap_or(0);
        if claims.exp < now - leeway {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now + leeway || claims.iat > now + leeway {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }

    fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Algorithm);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.decoding_key(kid))
            .ok_or(TokenError::UnknownKey)?;
        let leeway = self.settings.leeway.as_secs();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = leeway;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|error| classify(&error))?
            .claims;
        // jsonwebtoken never looks at iat: a token "issued" in the future is
        // not one we made.
        if claims.iat > chrono::Utc::now().timestamp() + i64::try_from(leeway).unwrap_or(0) {
            return Err(TokenError::NotYetValid);
        }
        if claims.sub.parse::<ClientId>().is_err() {
            return Err(TokenError::Claims("sub is not a client id".to_owned()));
        }
        Ok(claims)
    }
}

fn classify(error: &jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    match error.kind() {
        K::InvalidSignature => TokenError::Signature,
        K::ExpiredSignature => TokenError::Expired,
        K::ImmatureSignature => TokenError::NotYetValid,
        K::InvalidAlgorithm | K::InvalidAlgorithmName => TokenError::Algorithm,
        K::InvalidIssuer => TokenError::Claims("wrong issuer".to_owned()),
        K::InvalidAudience => TokenError::Claims("wrong audience".to_owned()),
        K::InvalidSubject => TokenError::Claims("wrong subject".to_owned()),
        K::MissingRequiredClaim(claim) => TokenError::Claims(format!("missing {claim}")),
        K::Json(_) => TokenError::Claims("claims of the wrong shape".to_owned()),
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> TokenService {
        TokenService::new(KeyStore::ephemeral().unwrap(), TokenSettings::default())
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let tokens = service();
        let client = ClientId::generate();

        let token = tokens
            .issue(
                client,
                Role::Licensee,
                Some("org".to_owned()),
                Some("use:display use:ai-input".to_owned()),
            )
            .unwrap();
        let claims = tokens.verify(&token).unwrap();

        assert_eq!(claims.sub, client.to_string());
        assert_eq!(claims.role, Role::Licensee);
        assert_eq!(claims.org.as_deref(), Some("org"));
        assert_eq!(claims.scope.as_deref(), Some("use:display use:ai-input"));
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn a_token_from_another_key_set_is_refused() {
        let token = service()
            .issue(ClientId::generate(), Role::Admin, None, None)
            .unwrap();

        assert_eq!(service().verify(&token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let settings = TokenSettings {
            ttl: Duration::from_secs(1),
            leeway: Duration::ZERO,
            ..TokenSettings::default()
        };
        let tokens = TokenService::new(KeyStore::ephemeral().unwrap(), settings);
        let token = tokens
            .issue(ClientId::generate(), Role::Admin, None, None)
            .unwrap();
        assert!(tokens.verify(&token).is_ok());

        std::thread::sleep(Duration::from_millis(2100));

        assert_eq!(tokens.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn remembering_a_token_accepts_no_other() {
        let tokens = service();
        let token = tokens
            .issue(ClientId::generate(), Role::Admin, None, None)
            .unwrap();
        assert!(tokens.verify(&token).is_ok());

        let (signed, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{signed}.{flipped}{}", &signature[1..]);

        assert_eq!(tokens.verify(&forged), Err(TokenError::Signature));
    }
}
