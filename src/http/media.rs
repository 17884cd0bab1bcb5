//! `/v1/media`: a publisher's photos with their credit lines and rights.
//! Rights are data, checked on every delivery, so a publisher changes them
//! here (to end or extend them) and the next delivery obeys. The workflows
//! are in [`crate::content::media`]; this is their wire.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::problem::{ApiError, responses};
use super::{AppState, PageQuery, db, utc};
use crate::content::media::{MediaRequest, MediaRights};
use crate::content::{self, read};
use crate::domain::content::Rendition;
use crate::domain::{MediaId, Role, Territory};
use crate::identity::Caller;
use crate::storage::StorageError;
use crate::storage::media::{self, MediaRow};

/// Whose content a caller writes and reads; the rules live in content, and
/// code outside it still finds them here.
pub use crate::content::ownership::{acting_publisher, reader_scope};

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

impl TryFrom<MediaRow> for MediaResponse {
    type Error = StorageError;

    fn try_from(row: MediaRow) -> Result<Self, StorageError> {
        let codes = |territories: Option<Vec<Territory>>| {
            territories.map(|list| list.iter().map(ToString::to_string).collect())
        };
        Ok(Self {
            id: row.media_id()?.0,
            publisher_id: row.publisher_id()?.0,
            renditions: row.renditions()?,
            rights: MediaRights {
                syndication: row.syndication()?,
                licensees: row
                    .rights_licensees()?
                    .map(|ids| ids.into_iter().map(|id| id.0).collect()),
                territories_allowed: codes(row.territories_allowed()?),
                territories_denied: codes(row.territories_denied()?),
                expires_at: row.rights_expires_at.map(utc),
                data_mining: row.data_mining()?,
                usage_terms: row.usage_terms,
            },
            caption: row.caption,
            credit_line: row.credit_line,
            creator: row.creator,
            copyright_holder: row.copyright_holder,
            copyright_notice: row.copyright_notice,
            licensor: row.licensor,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

crate::page_response!(
    /// A page of photos.
    MediaPage,
    MediaResponse
);

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
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
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
    let created = db(&state, move |conn| {
        Ok(content::media::create_media(conn, &caller, &request)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(MediaResponse::try_from(created)?))
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
    let rows = db(&state, move |conn| {
        Ok(read::list_media(conn, &caller, &page)?)
    })
    .await?;
    Ok(web::Json(rows.try_map(MediaResponse::try_from)?.into()))
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
    let id = MediaId(id.into_inner());
    let row = db(&state, move |conn| Ok(read::find_media(conn, &caller, id)?)).await?;
    Ok(web::Json(row.try_into()?))
}

/// Replaces a photo's metadata and rights, e.g. to end or extend them. The
/// next delivery of any article using it obeys the new rights. Turning its
/// syndication from `allowed` to `prohibited` ends its rights at once: the
/// licensees that received a live story showing it get `media.rights_ended`
/// (webhook and feed) and a takedown notice, once (as when it expires).
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
        (status = 408, response = responses::RequestTimeout),
        (status = 413, response = responses::PayloadTooLarge),
        (status = 415, response = responses::UnsupportedMediaType),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
        (status = 507, response = responses::InsufficientStorage),
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
    let id = MediaId(id.into_inner());
    let request = body.into_inner();
    let row = db(&state, move |conn| {
        Ok(content::media::replace_media(conn, &caller, id, &request)?)
    })
    .await?;
    Ok(web::Json(row.try_into()?))
}
