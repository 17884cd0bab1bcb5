//! Who is asking: the verified client behind a bearer token, its role and
//! organisation, and the standing (revocation, suspension) checked on every
//! request.

use super::IdentityError;
/// The organisation a caller acts for; a domain type, found here too.
pub use crate::domain::Organisation;
use crate::domain::purpose::Purpose;
use crate::domain::{ClientId, LicenseeId, LicenseeStatus, PublisherId, Role};
use crate::storage::clients::ClientStanding;
use crate::storage::{DbConnection, StorageError, clients, organisations};

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The API client.
    pub client_id: ClientId,
    /// Its role.
    pub role: Role,
    /// Its organisation (none for admins).
    pub organisation: Option<Organisation>,
    /// The purposes its token may fetch for (a licensee's client only).
    pub purposes: Vec<Purpose>,
}

impl Caller {
    /// Refuses callers of any other role with 403.
    pub fn require(&self, role: Role) -> Result<(), IdentityError> {
        self.require_any(&[role])
    }

    /// Refuses callers whose role is not listed with 403.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), IdentityError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed = roles
                .iter()
                .map(Role::as_str)
                .collect::<Vec<_>>()
                .join(" or ");
            Err(IdentityError::Forbidden(format!(
                "this operation is for {allowed} clients; this is a {} client",
                self.role
            )))
        }
    }

    /// The publisher this caller acts for, if it is a publisher's client.
    pub fn publisher_id(&self) -> Option<PublisherId> {
        match self.organisation {
            Some(Organisation::Publisher(id)) => Some(id),
            _ => None,
        }
    }

    /// The purpose of a fetch: the one asked for, which the token must
    /// grant; else `display` if the token grants it, else the token's only
    /// purpose. A token of several purposes without `display` must be told
    /// which (a 400 naming them).
    pub fn purpose(&self, asked: Option<Purpose>) -> Result<Purpose, PurposeError> {
        match (asked, self.purposes.as_slice()) {
            (Some(purpose), granted) if granted.contains(&purpose) => Ok(purpose),
            (Some(purpose), granted) => Err(PurposeError::NotGranted {
                purpose,
                granted: granted.to_vec(),
            }),
            (None, granted) if granted.contains(&Purpose::Display) => Ok(Purpose::Display),
            (None, [only]) => Ok(*only),
            (None, granted) => Err(PurposeError::Unstated(granted.to_vec())),
        }
    }

    /// The licensee this caller acts for, if it is a licensee's client.
    pub fn licensee_id(&self) -> Option<LicenseeId> {
        match self.organisation {
            Some(Organisation::Licensee(id)) => Some(id),
            _ => None,
        }
    }
}

/// Why a fetch has no purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurposeError {
    /// The purpose asked for is not among the token's.
    NotGranted {
        /// Asked for.
        purpose: Purpose,
        /// The token's.
        granted: Vec<Purpose>,
    },
    /// None was asked for and the token has several (or none).
    Unstated(Vec<Purpose>),
}

/// The purposes a token's `scope` claim grants a licensee's client: those
/// it names (`display` for a token from before purposes); none for other
/// roles.
pub fn purposes_of(role: Role, scope: Option<&str>) -> Vec<Purpose> {
    match (role, scope) {
        (Role::Licensee, None) => vec![Purpose::Display],
        (Role::Licensee, Some(scope)) => scope.split(' ').filter_map(Purpose::from_scope).collect(),
        _ => Vec::new(),
    }
}

/// Refuses a revoked client (401) and a suspended licensee's client (403).
pub fn check_standing(standing: &ClientStanding) -> Result<(), IdentityError> {
    if standing.revoked_at.is_some() {
        return Err(IdentityError::Unauthorized(
            "the token's client has been revoked".to_owned(),
        ));
    }
    if standing.licensee_status == Some(LicenseeStatus::Suspended) {
        return Err(IdentityError::Suspended(
            "the licensee is suspended".to_owned(),
        ));
    }
    Ok(())
}

/// A client's standing as stored; a client that does not exist is 401.
pub fn read_standing(
    conn: &mut DbConnection,
    client: &str,
) -> Result<ClientStanding, IdentityError> {
    match clients::standing(conn, client) {
        Ok(standing) => Ok(standing),
        Err(StorageError::NotFound) => Err(IdentityError::Unauthorized(
            "the token's client does not exist".to_owned(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// The caller's client name and its organisation's name, as stored.
pub fn describe(
    conn: &mut DbConnection,
    caller: &Caller,
) -> Result<(String, Option<String>), IdentityError> {
    let client = clients::find_client(conn, &caller.client_id.to_string())?;
    let organisation = match caller.organisation {
        Some(Organisation::Publisher(p)) => {
            Some(organisations::find_publisher(conn, &p.to_string())?.name)
        }
        Some(Organisation::Licensee(l)) => {
            Some(organisations::find_licensee(conn, &l.to_string())?.name)
        }
        None => None,
    };
    Ok((client.name, organisation))
}
