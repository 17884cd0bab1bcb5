//! The OAuth 2.0 client-credentials grant: a client's id and secret become
//! an access token when the secret verifies, the client is not revoked and
//! its licensee (if any) is not suspended. Every refusal of the credentials
//! themselves is the same `invalid_client`, so an answer never tells which
//! client ids exist.

use super::secrets;
use super::tokens::TokenService;
use crate::domain::purpose::Purpose;
use crate::domain::{ClientId, LicenseeStatus, Organisation};
use crate::storage::clients::{self, ClientRow};
use crate::storage::{self, Pool, StorageError, organisations};

/// An access token issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The token (a signed JWT).
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// The scopes it carries, space-separated (none for clients of roles
    /// without purposes).
    pub scope: Option<String>,
}

/// The purpose scopes a token carries: those asked for, each one the
/// client may have, or every one it may have when none are asked for.
/// Scopes are space-separated (RFC 6749 §3.3); a client of a role without
/// purposes may ask for none.
pub fn scopes(requested: Option<&str>, allowed: &[Purpose]) -> Result<Vec<Purpose>, GrantError> {
    let requested: Vec<&str> = requested
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Ok(allowed.to_vec());
    }
    let mut granted = Vec::new();
    for scope in requested {
        let purpose = Purpose::from_scope(scope).ok_or_else(|| {
            GrantError::InvalidScope(format!(
                "unknown scope {scope:?}; the scopes are {}",
                Purpose::ALL
                    .iter()
                    .map(Purpose::scope)
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        })?;
        if !allowed.contains(&purpose) {
            return Err(GrantError::InvalidScope(if allowed.is_empty() {
                format!("{scope} is only for licensee clients")
            } else {
                format!(
                    "this client may not fetch for {purpose}; it may ask for {}",
                    allowed
                        .iter()
                        .map(Purpose::scope)
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }));
        }
        granted.push(purpose);
    }
    granted.sort();
    granted.dedup();
    Ok(granted)
}

/// Why no token was issued.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// No such client, a wrong secret, or a revoked client: alike.
    #[error("the client credentials are not valid")]
    InvalidClient,
    /// The client's licensee is suspended.
    #[error("the client's licensee is suspended")]
    Suspended,
    /// A scope asked for that the client may not have (RFC 6749
    /// `invalid_scope`), named.
    #[error("{0}")]
    InvalidScope(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The token could not be signed.
    #[error("the token could not be issued")]
    Signing(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Issues a token for the client `client_id` with `secret`. The secret is
/// verified off the async threads and without holding a connection (a hash
/// takes milliseconds), and against a decoy when there is no such client,
/// so an unknown id takes as long as a known one.
pub async fn client_credentials(
    pool: &Pool,
    tokens: &TokenService,
    client_id: &str,
    secret: String,
    scope: Option<&str>,
) -> Result<Issued, GrantError> {
    let client = match client_id.parse::<ClientId>() {
        Ok(id) => {
            let id = id.to_string();
            storage::blocking(pool, move |conn| match clients::find_client(conn, &id) {
                Ok(client) => Ok(Some(client)),
                Err(StorageError::NotFound) => Ok(None),
                Err(other) => Err(GrantError::from(other)),
            })
            .await?
        }
        Err(_) => None,
    };
    let client = tokio::task::spawn_blocking(move || verified(client, &secret))
        .await
        .map_err(|error| StorageError::Other(Box::new(error)))?
        .ok_or(GrantError::InvalidClient)?;
    let (id, role, organisation) = (client.client_id()?, client.role()?, client.organisation()?);
    if let Some(Organisation::Licensee(licensee)) = organisation {
        let licensee = storage::blocking(pool, move |conn| {
            Ok::<_, GrantError>(organisations::find_licensee(conn, &licensee.to_string())?)
        })
        .await?;
        if licensee.status()? == LicenseeStatus::Suspended {
            return Err(GrantError::Suspended);
        }
    }
    let granted = scopes(scope, &client.purposes()?)?;
    let scope = (!granted.is_empty()).then(|| {
        granted
            .iter()
            .map(Purpose::scope)
            .collect::<Vec<_>>()
            .join(" ")
    });
    let access_token = tokens
        .issue(
            id,
            role,
            organisation.map(|o| o.id().to_string()),
            scope.clone(),
        )
        .map_err(|error| GrantError::Signing(Box::new(error)))?;
    Ok(Issued {
        access_token,
        expires_in: tokens.ttl_seconds(),
        scope,
    })
}

/// The client, if the secret is its own and it is not revoked.
fn verified(client: Option<ClientRow>, secret: &str) -> Option<ClientRow> {
    match client {
        Some(client) if secrets::verify(secret, &client.secret_hash) => {
            client.revoked_at.is_none().then_some(client)
        }
        Some(_) => None,
        None => {
            secrets::verify_against_nothing(secret);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Purpose::*;

    #[test]
    fn a_token_carries_the_scopes_asked_for_or_every_one_the_client_may_have() {
        let allowed = [Display, AiInput];
        assert_eq!(scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(scopes(Some("  "), &allowed).unwrap(), allowed);
        assert_eq!(
            scopes(Some("use:ai-input  use:ai-input"), &allowed).unwrap(),
            [AiInput]
        );
        assert_eq!(scopes(None, &[]).unwrap(), []);
    }

    #[test]
    fn a_scope_the_client_may_not_have_or_that_does_not_exist_is_refused() {
        let refused = |scope: &str, allowed: &[Purpose]| match scopes(Some(scope), allowed) {
            Err(GrantError::InvalidScope(message)) => message,
            other => panic!("{scope}: {other:?}"),
        };
        assert!(
            refused("use:ai-train", &[Display, AiInput]).contains("may not fetch for ai-train")
        );
        assert!(refused("use:display", &[]).contains("only for licensee clients"));
        assert!(refused("read", &[Display]).contains("unknown scope"));
        assert!(refused("use:ai-all", &Purpose::ALL).contains("unknown scope"));
    }
}
