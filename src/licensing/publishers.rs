//! Publishers: the newsrooms whose content is licensed. Creating one (with
//! a slug given or derived from its name), renaming it, reading it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{LicensingError, display_name};
use crate::domain::{FieldError, PublisherId, Slug};
use crate::storage::organisations::{self, NewPublisherRow, PublisherChanges, PublisherRow};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError, now};

/// The list whose cursors [`list`] takes.
pub const LIST: &str = organisations::PUBLISHERS;

/// A publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Publisher {
    /// Its id.
    pub id: PublisherId,
    /// Its display name.
    pub name: String,
    /// Its unique short name.
    pub slug: Slug,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<PublisherRow> for Publisher {
    type Error = StorageError;

    fn try_from(row: PublisherRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.publisher_id()?,
            slug: row.slug()?,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new publisher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "The Harbour Gazette", "slug": "harbour-gazette"}))]
pub struct CreatePublisherRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Unique short name (lower-case letters, digits, single hyphens).
    /// When absent it is derived from the name, transliterated into Latin
    /// letters whatever its script; a name with no letter or digit gives the
    /// publisher's id.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

/// Changes to a publisher; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "The Harbour Gazette & Mail"}))]
pub struct UpdatePublisherRequest {
    /// Display name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Unique short name.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
}

fn parse_slug(slug: &str, errors: &mut Vec<FieldError>) -> Option<Slug> {
    slug.parse::<Slug>()
        .map_err(|e| errors.push(FieldError::new("slug", e)))
        .ok()
}

/// A unique constraint on a publisher can only be its slug's.
fn slug_conflict(error: StorageError, slug: &str) -> LicensingError {
    match error {
        StorageError::Conflict(_) => {
            LicensingError::Conflict(format!("the slug {slug:?} is taken"))
        }
        other => other.into(),
    }
}

fn no_such_publisher(error: StorageError) -> LicensingError {
    match error {
        StorageError::NotFound => LicensingError::NotFound("no such publisher".to_owned()),
        other => other.into(),
    }
}

/// Creates a publisher.
pub fn create(
    conn: &mut DbConnection,
    request: &CreatePublisherRequest,
) -> Result<Publisher, LicensingError> {
    let mut errors = Vec::new();
    let id = PublisherId::generate();
    let name = display_name(&request.name, &mut errors);
    let slug = match &request.slug {
        Some(slug) => parse_slug(slug, &mut errors),
        // Every valid name gets a slug, whatever its script; one with no
        // letter or digit at all takes the publisher's id.
        None => name
            .as_deref()
            .map(|name| Slug::from_name(name).unwrap_or_else(|| Slug::from_id(id.0))),
    };
    let (Some(name), Some(slug), true) = (name, slug, errors.is_empty()) else {
        return Err(LicensingError::Invalid(errors));
    };
    let id = id.to_string();
    let at = now();
    let row = NewPublisherRow {
        id: &id,
        name: &name,
        slug: slug.as_str(),
        created_at: at,
        updated_at: at,
    };
    let row =
        organisations::insert_publisher(conn, &row).map_err(|e| slug_conflict(e, slug.as_str()))?;
    Ok(row.try_into()?)
}

/// A page of publishers, oldest first.
pub fn list(
    conn: &mut DbConnection,
    page: &PageRequest,
) -> Result<Page<Publisher>, LicensingError> {
    Ok(organisations::list_publishers(conn, page)?.try_map(Publisher::try_from)?)
}

/// One publisher.
pub fn get(conn: &mut DbConnection, id: PublisherId) -> Result<Publisher, LicensingError> {
    let row = organisations::find_publisher(conn, &id.to_string()).map_err(no_such_publisher)?;
    Ok(row.try_into()?)
}

/// Renames a publisher or changes its slug. The fields are checked before
/// the publisher is looked for.
pub fn update(
    conn: &mut DbConnection,
    id: PublisherId,
    request: &UpdatePublisherRequest,
) -> Result<Publisher, LicensingError> {
    let mut errors = Vec::new();
    let name = request
        .name
        .as_deref()
        .and_then(|n| display_name(n, &mut errors));
    let slug = request
        .slug
        .as_deref()
        .and_then(|s| parse_slug(s, &mut errors));
    if !errors.is_empty() {
        return Err(LicensingError::Invalid(errors));
    }
    let slug_text = slug
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let changes = PublisherChanges {
        name,
        slug: slug.map(|s| s.as_str().to_owned()),
        updated_at: Some(now()),
    };
    let row =
        organisations::update_publisher(conn, &id.to_string(), &changes).map_err(|error| {
            match error {
                StorageError::NotFound => no_such_publisher(error),
                other => slug_conflict(other, &slug_text),
            }
        })?;
    Ok(row.try_into()?)
}
