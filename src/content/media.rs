//! Photos: a publisher's images with their credit lines and rights. Rights
//! are data, checked on every delivery, so a publisher changes them here (to
//! end or extend them) and the next delivery obeys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ownership::acting_publisher;
use super::read::{find_media, no_such_photo};
use super::{ContentError, to_json};
use crate::domain::content::{Rendition, Syndication, valid_mime_type, valid_web_url};
use crate::domain::organisation::CountryCode;
use crate::domain::purpose::DataMining;
use crate::domain::text::single_line;
use crate::domain::{FieldError, MediaId, Territories, field};
use crate::identity::Caller;
use crate::notices::outbox;
use crate::storage::media::{self, MediaRow};
use crate::storage::{DbConnection, StorageError, in_transaction, now, organisations};

/// Most renditions of one photo.
const MAX_RENDITIONS: usize = 20;
/// Most licensees one photo may be limited to.
const MAX_RIGHTS_LICENSEES: usize = 1000;

/// Who may have a photo, where and until when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "syndication": "allowed",
    "territories_denied": ["US"],
    "expires_at": "2027-01-31T00:00:00Z",
    "usage_terms": "Editorial use only",
    "data_mining": "prohibited_gen_ai_ml_training"
}))]
pub struct MediaRights {
    /// `prohibited` keeps the photo from every licensee.
    pub syndication: Syndication,
    /// When present, only these licensees may receive the photo.
    #[schema(max_items = 1000)]
    pub licensees: Option<Vec<Uuid>>,
    /// When present, every territory of a licensee must be listed here.
    #[schema(max_items = 250, value_type = Option<Vec<CountryCode>>)]
    pub territories_allowed: Option<Vec<String>>,
    /// No territory of a licensee may be listed here.
    #[schema(max_items = 250, value_type = Option<Vec<CountryCode>>)]
    pub territories_denied: Option<Vec<String>>,
    /// The photo may not be delivered from this instant on.
    pub expires_at: Option<DateTime<Utc>>,
    /// Terms delivered with the photo ("Editorial use only"), up to 500 characters.
    #[schema(max_length = 500)]
    pub usage_terms: Option<String>,
    /// Its IPTC/PLUS data-mining value (`plus:DataMining`); absent is
    /// `unspecified`. A value that prohibits a use keeps the photo out of
    /// deliveries for it, listed in `media_withheld` with the reason
    /// `data_mining`: the AI/ML training values keep it from `ai-train`,
    /// `prohibited_except_search_engine_indexing` from every purpose but
    /// `display` and `search`, and the other prohibited values from every
    /// purpose but `display`.
    #[serde(default)]
    pub data_mining: DataMining,
}

/// A photo as sent by a publisher (create or replace).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "caption": "Fishing boats return to the harbour at dawn after the storm.",
    "credit_line": "Photograph: Lena Varga/Northwire",
    "creator": "Lena Varga",
    "copyright_holder": "Northwire",
    "copyright_notice": "© 2026 Northwire",
    "licensor": "Northwire",
    "renditions": [{"href": "https://images.example.org/harbour-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
    "rights": {"syndication": "allowed", "territories_denied": ["US"], "usage_terms": "Editorial use only"}
}))]
pub struct MediaRequest {
    /// Admins only: the publisher the photo belongs to.
    pub publisher_id: Option<Uuid>,
    /// What the photo shows, 1 to 2000 characters. Required.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 2000)]
    pub caption: Option<String>,
    /// The credit shown with it ("Photograph: Lena Varga/Northwire"), 1 to 300 characters. Required.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 300)]
    pub credit_line: Option<String>,
    /// The photographer, up to 200 characters.
    #[schema(max_length = 200)]
    pub creator: Option<String>,
    /// Who holds the copyright, 1 to 200 characters. Required.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub copyright_holder: Option<String>,
    /// The copyright notice, up to 300 characters.
    #[schema(max_length = 300)]
    pub copyright_notice: Option<String>,
    /// The agency that licenses it, up to 200 characters.
    #[schema(max_length = 200)]
    pub licensor: Option<String>,
    /// The files, up to 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub renditions: Vec<Rendition>,
    /// The rights. Required.
    #[schema(value_type = MediaRights, required = true)]
    pub rights: Option<MediaRights>,
}

/// Checks a required text field, naming it when missing or bad.
fn required(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match value {
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(value) => optional(field, Some(value), max, errors),
    }
}

/// Checks an optional text field.
fn optional(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    value.and_then(|value| {
        single_line(value, max)
            .map_err(|e| errors.push(FieldError::new(field, e.to_string())))
            .ok()
    })
}

fn territories(
    field: &str,
    codes: Option<&Vec<String>>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let codes = codes?;
    if codes.is_empty() {
        return Some(String::new());
    }
    match Territories::parse(codes) {
        Ok(parsed) => Some(parsed.to_stored()),
        Err(bad) => {
            errors.extend(
                bad.into_iter()
                    .map(|(i, m)| FieldError::new(format!("{field}.{i}"), m)),
            );
            None
        }
    }
}

/// Validates a photo request into a row for `publisher_id` (existence of
/// referenced licensees is checked against the database).
fn validate(
    conn: &mut DbConnection,
    request: &MediaRequest,
    id: &str,
    publisher_id: &str,
    created_at: chrono::NaiveDateTime,
) -> Result<MediaRow, ContentError> {
    let mut errors = Vec::new();
    let caption = required("caption", request.caption.as_deref(), 2000, &mut errors);
    let credit_line = required(
        "credit_line",
        request.credit_line.as_deref(),
        300,
        &mut errors,
    );
    let copyright_holder = required(
        "copyright_holder",
        request.copyright_holder.as_deref(),
        200,
        &mut errors,
    );
    let creator = optional("creator", request.creator.as_deref(), 200, &mut errors);
    let copyright_notice = optional(
        "copyright_notice",
        request.copyright_notice.as_deref(),
        300,
        &mut errors,
    );
    let licensor = optional("licensor", request.licensor.as_deref(), 200, &mut errors);
    if request.renditions.len() > MAX_RENDITIONS {
        errors.push(FieldError::new(
            "renditions",
            format!("at most {MAX_RENDITIONS}"),
        ));
    }
    for (i, rendition) in request.renditions.iter().enumerate() {
        if !valid_web_url(&rendition.href) {
            errors.push(FieldError::new(
                format!("renditions.{i}.href"),
                "must be an absolute http(s) URL",
            ));
        }
        for (name, value) in [("width", rendition.width), ("height", rendition.height)] {
            if !(1..=100_000).contains(&value) {
                errors.push(FieldError::new(
                    format!("renditions.{i}.{name}"),
                    "must be 1 to 100000 pixels",
                ));
            }
        }
        if !valid_mime_type(&rendition.mime_type) {
            errors.push(FieldError::new(
                format!("renditions.{i}.mime_type"),
                "must be a media type such as image/jpeg",
            ));
        }
    }
    let Some(rights) = &request.rights else {
        errors.push(FieldError::new("rights", "is required"));
        return Err(ContentError::Invalid(errors));
    };
    let allowed = territories(
        "rights.territories_allowed",
        rights.territories_allowed.as_ref(),
        &mut errors,
    );
    let denied = territories(
        "rights.territories_denied",
        rights.territories_denied.as_ref(),
        &mut errors,
    );
    let usage_terms = optional(
        "rights.usage_terms",
        rights.usage_terms.as_deref(),
        500,
        &mut errors,
    );
    let mut unknown = Vec::new();
    let licensees = match &rights.licensees {
        Some(ids) if ids.len() > MAX_RIGHTS_LICENSEES => {
            errors.push(FieldError::new(
                "rights.licensees",
                format!("at most {MAX_RIGHTS_LICENSEES}"),
            ));
            None
        }
        Some(ids) => {
            let mut stored = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                let id = id.hyphenated().to_string();
                match organisations::find_licensee(conn, &id) {
                    Ok(_) => stored.push(id),
                    Err(StorageError::NotFound) => {
                        unknown.push(FieldError::new(
                            format!("rights.licensees.{i}"),
                            "no licensee has this id",
                        ));
                    }
                    Err(other) => return Err(other.into()),
                }
            }
            stored.sort();
            stored.dedup();
            Some(stored.join(","))
        }
        None => None,
    };
    field::check(errors, unknown)?;
    let (Some(caption), Some(credit_line), Some(copyright_holder)) =
        (caption, credit_line, copyright_holder)
    else {
        return Err(ContentError::Internal(
            "valid text fields were not kept".into(),
        ));
    };
    let at = now();
    Ok(MediaRow {
        id: id.to_owned(),
        publisher_id: publisher_id.to_owned(),
        caption,
        credit_line,
        creator,
        copyright_holder,
        copyright_notice,
        licensor,
        renditions: to_json(&request.renditions)?,
        syndication: rights.syndication.as_str().to_owned(),
        rights_licensees: licensees,
        territories_allowed: allowed,
        territories_denied: denied,
        rights_expires_at: rights.expires_at.map(crate::storage::instant),
        usage_terms,
        created_at,
        updated_at: at,
        data_mining: rights.data_mining.as_str().to_owned(),
    })
}

/// Creates a photo for the caller's publisher (an admin names one).
pub fn create_media(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &MediaRequest,
) -> Result<MediaRow, ContentError> {
    let publisher_id = acting_publisher(conn, caller, request.publisher_id)?;
    let id = MediaId::generate().to_string();
    let row = validate(conn, request, &id, &publisher_id, now())?;
    Ok(media::insert(conn, &row)?)
}

/// Replaces the metadata and rights of the caller's photo, e.g. to end or
/// extend them. Its publisher and creation time stay as they were. A turn
/// of its syndication to `prohibited` ends its rights in every live story
/// showing it, as an expiry does (`media.rights_ended` and notices to the
/// licensees that received the story), in the same transaction and once.
pub fn replace_media(
    conn: &mut DbConnection,
    caller: &Caller,
    id: MediaId,
    request: &MediaRequest,
) -> Result<MediaRow, ContentError> {
    let existing = find_media(conn, caller, id)?;
    let id = id.to_string();
    if request
        .publisher_id
        .is_some_and(|named| named.hyphenated().to_string() != existing.publisher_id)
    {
        return Err(ContentError::Conflict(
            "a photo's publisher cannot change; leave out publisher_id".to_owned(),
        ));
    }
    let row = validate(
        conn,
        request,
        &id,
        &existing.publisher_id,
        existing.created_at,
    )?;
    let at = now();
    in_transaction(conn, |conn| {
        // Only the change that turns the syndication sees the turn, and
        // reads the expiry the photo had then under the row's lock.
        let to = row.syndication.as_str();
        let turned = media::turn_syndication(conn, &row.publisher_id, &id, to)?;
        let was = if turned {
            Some(media::find(conn, &row.publisher_id, &id)?)
        } else {
            None
        };
        let replaced = media::replace(conn, &row)?;
        if let Some(was) = was {
            if to == Syndication::Prohibited.as_str() {
                outbox::syndication_prohibited(conn, &id, was.rights_expires_at, at)?;
            } else {
                outbox::syndication_allowed_again(conn, &id, replaced.rights_expires_at, at)?;
            }
        }
        Ok(replaced)
    })
    .map_err(no_such_photo)
}
