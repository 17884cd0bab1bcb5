//! `/v1/media`: a publisher's photos with their credit lines and rights.
//! Rights are data, checked on every delivery, so a publisher changes them
//! here (to end or extend them) and the next delivery obeys.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, FieldError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::domain::content::{Rendition, Syndication, valid_mime_type, valid_web_url};
use crate::domain::organisation::CountryCode;
use crate::domain::text::single_line;
use crate::domain::{MediaId, Role, Territories};
use crate::identity::Caller;
use crate::storage::media::{self, MediaRow};
use crate::storage::{DbConnection, StorageError, now, organisations};

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
    "usage_terms": "Editorial use only"
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

/// A stored photo.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a5-3333-7444-8555-666677778888",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "caption": "Fishing boats return to the harbour at dawn after the storm.",
    "credit_line": "Photograph: Lena Varga/Northwire",
    "creator": "Lena Varga", "copyright_holder": "Northwire", "copyright_notice": "© 2026 Northwire", "licensor": "Northwire",
    "renditions": [{"href": "https://images.example.org/harbour-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
    "rights": {"syndication": "allowed", "licensees": null, "territories_allowed": null, "territories_denied": ["US"], "expires_at": "2027-01-31T00:00:00Z", "usage_terms": "Editorial use only"},
    "created_at": "2026-11-28T05:40:00Z", "updated_at": "2026-11-28T05:40:00Z"
}))]
pub struct MediaResponse {
    /// Photo id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// What the photo shows.
    pub caption: String,
    /// The credit shown with it.
    pub credit_line: String,
    /// The photographer.
    pub creator: Option<String>,
    /// Who holds the copyright.
    pub copyright_holder: String,
    /// The copyright notice.
    pub copyright_notice: Option<String>,
    /// The agency that licenses it.
    pub licensor: Option<String>,
    /// The files.
    pub renditions: Vec<Rendition>,
    /// The rights.
    pub rights: MediaRights,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<MediaRow> for MediaResponse {
    fn from(row: MediaRow) -> Self {
        let list = |stored: Option<String>| {
            stored.map(|s| {
                s.split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        Self {
            id: row.id.parse().unwrap_or_default(),
            publisher_id: row.publisher_id.parse().unwrap_or_default(),
            caption: row.caption,
            credit_line: row.credit_line,
            creator: row.creator,
            copyright_holder: row.copyright_holder,
            copyright_notice: row.copyright_notice,
            licensor: row.licensor,
            renditions: serde_json::from_str(&row.renditions).unwrap_or_default(),
            rights: MediaRights {
                syndication: row.syndication.parse().unwrap_or(Syndication::Prohibited),
                licensees: list(row.rights_licensees)
                    .map(|ids| ids.iter().filter_map(|id| id.parse().ok()).collect()),
                territories_allowed: list(row.territories_allowed),
                territories_denied: list(row.territories_denied),
                expires_at: row.rights_expires_at.map(utc),
                usage_terms: row.usage_terms,
            },
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

crate::page_response!(
    /// A page of photos.
    MediaPage,
    MediaResponse
);

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
) -> Result<MediaRow, ApiError> {
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
        return Err(ApiError::Validation(errors));
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
    ApiError::check_fields(errors, unknown)?;
    let (Some(caption), Some(credit_line), Some(copyright_holder)) =
        (caption, credit_line, copyright_holder)
    else {
        return Err(ApiError::Internal("valid text fields were not kept".into()));
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
        renditions: serde_json::to_string(&request.renditions)
            .map_err(|e| ApiError::Internal(Box::new(e)))?,
        syndication: rights.syndication.as_str().to_owned(),
        rights_licensees: licensees,
        territories_allowed: allowed,
        territories_denied: denied,
        rights_expires_at: rights.expires_at.map(|t| t.naive_utc()),
        usage_terms,
        created_at,
        updated_at: at,
    })
}

/// The publisher a write acts for: a publisher's own, or for an admin the
/// `publisher_id` it names (which must exist).
pub fn acting_publisher(
    conn: &mut DbConnection,
    caller: &Caller,
    requested: Option<Uuid>,
) -> Result<String, ApiError> {
    match (caller.publisher_id(), requested) {
        (Some(own), Some(named)) if named.hyphenated().to_string() == own.to_string() => {
            Ok(own.to_string())
        }
        (Some(_), Some(_)) => Err(ApiError::Forbidden(
            "a publisher acts for itself only; leave out publisher_id".to_owned(),
        )),
        (Some(own), None) => Ok(own.to_string()),
        (None, None) => Err(ApiError::Forbidden(
            "an admin acts for a publisher only when it names one in publisher_id".to_owned(),
        )),
        (None, Some(id)) => {
            let id = id.hyphenated().to_string();
            match organisations::find_publisher(conn, &id) {
                Ok(_) => Ok(id),
                Err(StorageError::NotFound) => Err(ApiError::unknown(
                    "publisher_id",
                    "no publisher has this id",
                )),
                Err(other) => Err(other.into()),
            }
        }
    }
}

/// The publisher whose content a read is limited to: its own for a
/// publisher, none (everything) for an admin.
pub fn reader_scope(caller: &Caller) -> Option<String> {
    caller.publisher_id().map(|p| p.to_string())
}

/// Creates a photo for the caller (shared by the API and demo mode).
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &MediaRequest,
) -> Result<MediaRow, ApiError> {
    let publisher_id = acting_publisher(conn, caller, request.publisher_id)?;
    let id = MediaId::generate().to_string();
    let row = validate(conn, request, &id, &publisher_id, now())?;
    Ok(media::insert(conn, &row)?)
}

/// Uploads a photo's metadata, credit line and rights.
///
/// Publishers (their own) and admins (naming `publisher_id`). Not metered.
#[utoipa::path(
    tag = "media",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = MediaRequest,
    responses(
        (status = 201, description = "Created", body = MediaResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[post("/v1/media")]
pub async fn create_media(
    caller: Caller,
    state: web::Data<AppState>,
    body: super::JsonBody<MediaRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let request = body.into_inner();
    let created = db(&state, move |conn| create(conn, &caller, &request)).await?;
    Ok(HttpResponse::Created().json(MediaResponse::from(created)))
}

/// Lists photos, oldest first: a publisher's own, or all for an admin.
///
/// Publishers and admins. Not metered.
#[utoipa::path(
    tag = "media",
    security(("bearer" = []), ("oauth2" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of photos", body = MediaPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/media")]
pub async fn list_media(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<MediaPage>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let page = query.parse(media::MEDIA)?;
    let scope = reader_scope(&caller);
    let rows = db(&state, move |conn| {
        Ok(media::list(conn, scope.as_deref(), &page)?)
    })
    .await?;
    Ok(web::Json(rows.map(MediaResponse::from).into()))
}

/// Shows one photo. Another publisher's photo is 404.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "media",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Photo id")),
    responses(
        (status = 200, description = "The photo", body = MediaResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/media/{id}")]
pub async fn get_media(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediaResponse>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let id = MediaId(id.into_inner()).to_string();
    let scope = reader_scope(&caller);
    let row = db(&state, move |conn| {
        Ok(match scope {
            Some(publisher) => media::find(conn, &publisher, &id)?,
            None => media::find_any(conn, &id)?,
        })
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

/// Replaces a photo's metadata and rights, e.g. to end or extend them. The
/// next delivery of any article using it obeys the new rights.
///
/// Publishers (their own) and admins. Not metered.
#[utoipa::path(
    tag = "media",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Photo id")),
    request_body = MediaRequest,
    responses(
        (status = 200, description = "The replaced photo", body = MediaResponse),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 409, response = responses::Conflict),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[put("/v1/media/{id}")]
pub async fn replace_media(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: super::JsonBody<MediaRequest>,
) -> Result<web::Json<MediaResponse>, ApiError> {
    caller.require_any(&[Role::Publisher, Role::Admin])?;
    let id = MediaId(id.into_inner()).to_string();
    let request = body.into_inner();
    let scope = reader_scope(&caller);
    let row = db(&state, move |conn| {
        let existing = match scope {
            Some(publisher) => media::find(conn, &publisher, &id)?,
            None => media::find_any(conn, &id)?,
        };
        if request
            .publisher_id
            .is_some_and(|named| named.hyphenated().to_string() != existing.publisher_id)
        {
            return Err(ApiError::Conflict(
                "a photo's publisher cannot change; leave out publisher_id".to_owned(),
            ));
        }
        let row = validate(
            conn,
            &request,
            &id,
            &existing.publisher_id,
            existing.created_at,
        )?;
        Ok(media::replace(conn, &row)?)
    })
    .await
    .map_err(not_found)?;
    Ok(web::Json(row.into()))
}

fn not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::NotFound("no such photo".to_owned()),
        other => other,
    }
}
