//! Licensees: the aggregator apps that receive licensed content. Creating
//! one, renaming, suspending, reactivating or re-territorying it, reading
//! it. A suspended licensee's clients are refused on their next request
//! (`identity::caller`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{LicensingError, display_name};
use crate::domain::organisation::CountryCode;
use crate::domain::{FieldError, LicenseeId, LicenseeStatus, Territories};
use crate::storage::organisations::{self, LicenseeChanges, LicenseeRow, NewLicenseeRow};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError, now};

/// The list whose cursors [`list`] takes.
pub const LIST: &str = organisations::LICENSEES;

/// A licensee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Licensee {
    /// Its id.
    pub id: LicenseeId,
    /// Its display name.
    pub name: String,
    /// Whether it receives anything.
    pub status: LicenseeStatus,
    /// Where it distributes.
    pub territories: Territories,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<LicenseeRow> for Licensee {
    type Error = StorageError;

    fn try_from(row: LicenseeRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.licensee_id()?,
            status: row.status()?,
            territories: row.territories()?,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new licensee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Morning Brief", "territories": ["GB", "IE"]}))]
pub struct CreateLicenseeRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where it distributes: ISO 3166-1 alpha-2 codes (upper case), at least one.
    #[schema(min_items = 1, max_items = 250, value_type = Vec<CountryCode>)]
    pub territories: Vec<String>,
    /// Starts `active` unless given.
    pub status: Option<LicenseeStatus>,
}

/// Changes to a licensee; absent fields stay as they are.
/// `{"status": "suspended"}` suspends it, `{"status": "active"}` reactivates it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended"}))]
pub struct UpdateLicenseeRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `active` or `suspended`; takes effect on its clients' next request.
    pub status: Option<LicenseeStatus>,
    /// Replaces the territories.
    #[schema(min_items = 1, max_items = 250, value_type = Option<Vec<CountryCode>>)]
    pub territories: Option<Vec<String>>,
}

fn parse_territories(codes: &[String], errors: &mut Vec<FieldError>) -> Option<Territories> {
    Territories::parse(codes)
        .map_err(|bad| {
            errors.extend(
                bad.into_iter().map(|(index, message)| {
                    FieldError::new(format!("territories.{index}"), message)
                }),
            );
        })
        .ok()
}

fn no_such_licensee(error: StorageError) -> LicensingError {
    match error {
        StorageError::NotFound => LicensingError::NotFound("no such licensee".to_owned()),
        other => other.into(),
    }
}

/// Creates a licensee, `active` unless the request says otherwise.
pub fn create(
    conn: &mut DbConnection,
    request: &CreateLicenseeRequest,
) -> Result<Licensee, LicensingError> {
    let mut errors = Vec::new();
    let name = display_name(&request.name, &mut errors);
    let territories = parse_territories(&request.territories, &mut errors);
    let (Some(name), Some(territories), true) = (name, territories, errors.is_empty()) else {
        return Err(LicensingError::Invalid(errors));
    };
    let id = LicenseeId::generate().to_string();
    let at = now();
    let stored = territories.to_stored();
    let row = NewLicenseeRow {
        id: &id,
        name: &name,
        status: request.status.unwrap_or(LicenseeStatus::Active).as_str(),
        territories: &stored,
        created_at: at,
        updated_at: at,
    };
    Ok(organisations::insert_licensee(conn, &row)?.try_into()?)
}

/// A page of licensees, oldest first.
pub fn list(conn: &mut DbConnection, page: &PageRequest) -> Result<Page<Licensee>, LicensingError> {
    Ok(organisations::list_licensees(conn, page)?.try_map(Licensee::try_from)?)
}

/// One licensee.
pub fn get(conn: &mut DbConnection, id: LicenseeId) -> Result<Licensee, LicensingError> {
    let row = organisations::find_licensee(conn, &id.to_string()).map_err(no_such_licensee)?;
    Ok(row.try_into()?)
}

/// Renames, suspends, reactivates or re-territories a licensee. The fields
/// are checked before the licensee is looked for.
pub fn update(
    conn: &mut DbConnection,
    id: LicenseeId,
    request: &UpdateLicenseeRequest,
) -> Result<Licensee, LicensingError> {
    let mut errors = Vec::new();
    let name = request
        .name
        .as_deref()
        .and_then(|n| display_name(n, &mut errors));
    let territories = request
        .territories
        .as_deref()
        .and_then(|codes| parse_territories(codes, &mut errors));
    if !errors.is_empty() {
        return Err(LicensingError::Invalid(errors));
    }
    let changes = LicenseeChanges {
        name,
        status: request.status.map(|s| s.as_str().to_owned()),
        territories: territories.map(|t| t.to_stored()),
        updated_at: Some(now()),
    };
    let row = organisations::update_licensee(conn, &id.to_string(), &changes)
        .map_err(no_such_licensee)?;
    Ok(row.try_into()?)
}
