//! The OAuth 2.0 client-credentials grant: a client's id and secret become
//! an access token when the secret verifies, the client is not revoked and
//! its licensee (if any) is not suspended. Every refusal of the credentials
//! themselves is the same `invalid_client`, so an answer never tells which
//! client ids exist.

use super::secrets;
use super::tokens::TokenService;
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
    let access_token = tokens
        .issue(id, role, organisation.map(|o| o.id().to_string()))
        .map_err(|error| GrantError::Signing(Box::new(error)))?;
    Ok(Issued {
        access_token,
        expires_in: tokens.ttl_seconds(),
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
