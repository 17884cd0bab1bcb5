//! A licensee's webhook endpoints. Licensees manage their own, admins any
//! licensee's; publishers have none. The signing secret (`whsec_…`, 32
//! random bytes) is shown once, when the endpoint is made or its secret
//! rotated; during a rotation's overlap every message is signed with both
//! secrets (Standard Webhooks allows several signatures), so a receiver can
//! switch at its own pace.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ssrf::AddressGuard;
use super::{NoticesError, to_json};
use crate::domain::{FieldError, LicenseeId, Role};
use crate::identity::Caller;
use crate::storage::page::{Page, PageRequest};
use crate::storage::webhooks::{self, EndpointRow};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// Longest webhook URL.
pub const MAX_URL_CHARS: usize = 2000;
/// Longest overlap of a rotation: a week.
pub const MAX_OVERLAP_SECONDS: i64 = 7 * 24 * 3600;
/// Overlap of a rotation when none is asked for: a day.
pub const DEFAULT_OVERLAP_SECONDS: i64 = 24 * 3600;

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "article.published",
    "article.updated",
    "article.corrected",
    "article.withheld",
    "article.killed",
    "media.rights_ended",
    "licence.ending",
];

/// A webhook endpoint (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ad0a5-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "licensee_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "url": "https://ingest.morningbrief.example/hooks/syndicate",
    "event_types": ["article.killed", "article.corrected"],
    "active": true,
    "failing": false,
    "consecutive_failures": 0,
    "previous_secret_expires_at": null,
    "created_at": "2026-12-01T09:00:00Z",
    "updated_at": "2026-12-01T09:00:00Z"
}))]
pub struct Endpoint {
    /// Endpoint id.
    pub id: Uuid,
    /// The licensee it belongs to.
    pub licensee_id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The event types sent to it.
    pub event_types: Vec<String>,
    /// Whether events are sent to it; an inactive endpoint's deliveries wait.
    pub active: bool,
    /// Whether its last attempts failed (from ten in a row until one succeeds).
    pub failing: bool,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// Until when messages are also signed with the secret before the last rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<&EndpointRow> for Endpoint {
    type Error = StorageError;

    fn try_from(row: &EndpointRow) -> Result<Self, StorageError> {
        let id = |field: &str, value: &str| {
            crate::storage::error::parse_field::<Uuid>("webhook_endpoints", &row.id, field, value)
        };
        Ok(Self {
            id: id("id", &row.id)?,
            licensee_id: id("licensee_id", &row.licensee_id)?,
            url: row.url.clone(),
            event_types: row.event_types()?,
            active: row.active,
            failing: row.failing,
            consecutive_failures: row.consecutive_failures,
            previous_secret_expires_at: row
                .previous_secret_until
                .filter(|until| *until > now())
                .map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// An endpoint with its signing secret: shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointWithSecret {
    /// The signing secret (`whsec_` and base64). Store it now: it is not shown again.
    pub secret: String,
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: Endpoint,
}

/// What a caller asks to create or change; absent fields stay as they are
/// (on creation: `active` defaults to true, `url` and `event_types` are
/// required).
#[derive(Debug, Clone, Default)]
pub struct EndpointInput {
    /// The licensee (admins only; a licensee's own is implied).
    pub licensee_id: Option<Uuid>,
    /// The URL, already checked with [`check_url`].
    pub url: Option<CheckedUrl>,
    /// Event types.
    pub event_types: Option<Vec<String>>,
    /// Whether to send.
    pub active: Option<bool>,
}

/// A URL that passed the address rules.
#[derive(Debug, Clone)]
pub struct CheckedUrl(String);

/// Checks a webhook URL: an absolute http(s) URL of at most
/// [`MAX_URL_CHARS`] whose host is not, and does not resolve to, a
/// forbidden address (see [`super::ssrf`]). Failures name the field `url`.
pub async fn check_url(guard: &AddressGuard, url: &str) -> Result<CheckedUrl, NoticesError> {
    let invalid = |message: String| NoticesError::Invalid(vec![FieldError::new("url", message)]);
    if url.chars().count() > MAX_URL_CHARS {
        return Err(invalid(format!(
            "must be at most {MAX_URL_CHARS} characters"
        )));
    }
    if url.chars().any(char::is_control) {
        return Err(invalid("must not contain control characters".to_owned()));
    }
    let parsed =
        Url::parse(url).map_err(|_| invalid("must be an absolute http or https URL".to_owned()))?;
    guard
        .check(&parsed)
        .await
        .map_err(|refusal| invalid(refusal.to_string()))?;
    Ok(CheckedUrl(parsed.to_string()))
}

/// Checks event types: one to all of [`EVENT_TYPES`], each known.
fn check_event_types(types: &[String], errors: &mut Vec<FieldError>) -> Option<Vec<String>> {
    if types.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            "name at least one event type",
        ));
        return None;
    }
    let mut checked = Vec::new();
    for (i, t) in types.iter().enumerate() {
        if EVENT_TYPES.contains(&t.as_str()) {
            if !checked.contains(t) {
                checked.push(t.clone());
            }
        } else {
            errors.push(FieldError::new(
                format!("event_types.{i}"),
                format!("must be one of {}", EVENT_TYPES.join(", ")),
            ));
        }
    }
    Some(checked)
}

/// A new `whsec_` secret.
fn new_secret() -> Result<String, NoticesError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| NoticesError::Internal(e.to_string().into()))?;
    Ok(format!("whsec_{}", STANDARD.encode(bytes)))
}

/// The licensee a caller creates an endpoint for.
fn owner_for(
    conn: &mut DbConnection,
    caller: &Caller,
    asked: Option<Uuid>,
) -> Result<LicenseeId, NoticesError> {
    let unknown =
        || NoticesError::UnknownReference(vec![FieldError::new("licensee_id", "no such licensee")]);
    match (caller.role, caller.licensee_id(), asked) {
        (Role::Licensee, Some(own), None) => Ok(own),
        (Role::Licensee, Some(own), Some(asked)) if asked == own.0 => Ok(own),
        (Role::Licensee, _, _) => Err(unknown()),
        (Role::Admin, _, Some(asked)) => {
            match organisations::find_licensee(conn, &asked.to_string()) {
                Ok(_) => Ok(LicenseeId(asked)),
                Err(StorageError::NotFound) => Err(unknown()),
                Err(other) => Err(other.into()),
            }
        }
        (Role::Admin, _, None) => Err(NoticesError::Invalid(vec![FieldError::new(
            "licensee_id",
            "an admin names the licensee the endpoint is for",
        )])),
        (Role::Publisher, _, _) => Err(NoticesError::Forbidden(
            "webhook endpoints belong to licensees".to_owned(),
        )),
    }
}

/// Creates an endpoint and returns it with its secret, once.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    input: EndpointInput,
) -> Result<EndpointWithSecret, NoticesError> {
    let mut errors = Vec::new();
    if input.url.is_none() {
        errors.push(FieldError::new("url", "required"));
    }
    let types = match &input.event_types {
        Some(types) => check_event_types(types, &mut errors),
        None => {
            errors.push(FieldError::new("event_types", "required"));
            None
        }
    };
    let (Some(url), Some(types), true) = (input.url, types, errors.is_empty()) else {
        return Err(NoticesError::Invalid(errors));
    };
    let licensee = owner_for(conn, caller, input.licensee_id)?;
    let at = now();
    let secret = new_secret()?;
    let row = EndpointRow {
        id: Uuid::now_v7().to_string(),
        licensee_id: licensee.to_string(),
        url: url.0,
        event_types: to_json(&types)?,
        active: input.active.unwrap_or(true),
        consecutive_failures: 0,
        failing: false,
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_until: None,
        created_at: at,
        updated_at: at,
    };
    webhooks::insert_endpoint(conn, &row)?;
    Ok(EndpointWithSecret {
        secret,
        endpoint: Endpoint::try_from(&row)?,
    })
}

/// The endpoint if the caller may see it: a licensee its own, an admin any.
pub fn find_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<EndpointRow, NoticesError> {
    let not_found = || NoticesError::NotFound("no such webhook endpoint".to_owned());
    if caller.role == Role::Publisher {
        return Err(NoticesError::Forbidden(
            "webhook endpoints belong to licensees".to_owned(),
        ));
    }
    let row = match webhooks::find_endpoint(conn, &id.to_string()) {
        Err(StorageError::NotFound) => return Err(not_found()),
        other => other?,
    };
    match caller.licensee_id() {
        Some(own) if own.to_string() != row.licensee_id => Err(not_found()),
        _ => Ok(row),
    }
}

/// One endpoint.
pub fn get(conn: &mut DbConnection, caller: &Caller, id: Uuid) -> Result<Endpoint, NoticesError> {
    Ok(Endpoint::try_from(&find_visible(conn, caller, id)?)?)
}

/// A page of endpoints: a licensee's own; an admin's all, or one
/// licensee's.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    licensee: Option<Uuid>,
    page: &PageRequest,
) -> Result<Page<Endpoint>, NoticesError> {
    let scope = match (caller.role, caller.licensee_id()) {
        (Role::Licensee, Some(own)) => {
            if licensee.is_some_and(|asked| asked != own.0) {
                return Err(NoticesError::Forbidden(
                    "a licensee sees only its own webhook endpoints".to_owned(),
                ));
            }
            Some(own.to_string())
        }
        (Role::Admin, _) => licensee.map(|l| l.to_string()),
        _ => {
            return Err(NoticesError::Forbidden(
                "webhook endpoints belong to licensees".to_owned(),
            ));
        }
    };
    let page = webhooks::list_endpoints(conn, scope.as_deref(), page)?;
    Ok(page.try_map(|row| Endpoint::try_from(&row))?)
}

/// Changes an endpoint's URL, event types or active flag.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    input: EndpointInput,
) -> Result<Endpoint, NoticesError> {
    let mut errors = Vec::new();
    if input.licensee_id.is_some() {
        errors.push(FieldError::new(
            "licensee_id",
            "an endpoint stays with its licensee",
        ));
    }
    let types = input
        .event_types
        .as_ref()
        .map(|types| check_event_types(types, &mut errors));
    if !errors.is_empty() {
        return Err(NoticesError::Invalid(errors));
    }
    let mut row = find_visible(conn, caller, id)?;
    if let Some(url) = input.url {
        row.url = url.0;
    }
    if let Some(Some(types)) = types {
        row.event_types = to_json(&types)?;
    }
    if let Some(active) = input.active {
        row.active = active;
    }
    row.updated_at = now();
    webhooks::save_endpoint(conn, &row)?;
    Ok(Endpoint::try_from(&row)?)
}

/// Deletes an endpoint with its pending deliveries and its attempts.
pub fn delete(conn: &mut DbConnection, caller: &Caller, id: Uuid) -> Result<(), NoticesError> {
    let row = find_visible(conn, caller, id)?;
    webhooks::delete_endpoint(conn, &row.id)?;
    Ok(())
}

/// Replaces the secret and returns the new one, once; the old one keeps
/// signing (beside the new) for `overlap_seconds` (0 to a week; default a
/// day).
pub fn rotate_secret(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    overlap_seconds: Option<i64>,
) -> Result<EndpointWithSecret, NoticesError> {
    let overlap = overlap_seconds.unwrap_or(DEFAULT_OVERLAP_SECONDS);
    if !(0..=MAX_OVERLAP_SECONDS).contains(&overlap) {
        return Err(NoticesError::Invalid(vec![FieldError::new(
            "overlap_seconds",
            format!("must be between 0 and {MAX_OVERLAP_SECONDS}"),
        )]));
    }
    let mut row = find_visible(conn, caller, id)?;
    let at = now();
    let secret = new_secret()?;
    row.previous_secret = (overlap > 0).then(|| row.secret.clone());
    row.previous_secret_until = (overlap > 0).then(|| at + Duration::seconds(overlap));
    row.secret = secret.clone();
    row.updated_at = at;
    webhooks::save_endpoint(conn, &row)?;
    Ok(EndpointWithSecret {
        secret,
        endpoint: Endpoint::try_from(&row)?,
    })
}

/// The secrets a message is signed with at `at`: the current one, and the
/// one before while the rotation's overlap lasts.
pub fn signing_secrets(row: &EndpointRow, at: NaiveDateTime) -> Vec<String> {
    let mut secrets = vec![row.secret.clone()];
    if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_secret_until)
        && until > at
    {
        secrets.push(previous.clone());
    }
    secrets
}
