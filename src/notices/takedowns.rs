//! Takedown notices as their parties see them: a licensee lists and
//! acknowledges its own; a publisher lists those about its articles; an
//! admin lists all. A notice is `open` until acknowledged, `overdue` once
//! its deadline passes unacknowledged, and `acknowledged` once the licensee
//! confirms removal (once; a second acknowledgement is a conflict).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::NoticesError;
use crate::domain::text::single_line;
use crate::domain::{ArticleId, FieldError, LicenseeId, Role};
use crate::identity::Caller;
use crate::storage::notices::{self, NoticeRow, NoticeScope, NoticeState};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError, now};

/// Longest acknowledgement note.
pub const MAX_NOTE_CHARS: usize = 1000;
/// How far in the future a `removed_at` may be (clock skew).
const CLOCK_SKEW_SECONDS: i64 = 60;

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Waiting for the licensee; the deadline has not passed.
    Open,
    /// The licensee confirmed removal.
    Acknowledged,
    /// Not acknowledged and the deadline has passed.
    Overdue,
}

impl NoticeStatus {
    /// The storage filter for this status.
    pub fn state(self) -> NoticeState {
        match self {
            NoticeStatus::Open => NoticeState::Open,
            NoticeStatus::Acknowledged => NoticeState::Acknowledged,
            NoticeStatus::Overdue => NoticeState::Overdue,
        }
    }

    /// A notice's status at `at`.
    pub fn of(row: &NoticeRow, at: NaiveDateTime) -> Self {
        if row.acknowledged_at.is_some() {
            NoticeStatus::Acknowledged
        } else if row.deadline_at <= at {
            NoticeStatus::Overdue
        } else {
            NoticeStatus::Open
        }
    }
}

/// A takedown notice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ad0b0-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "kind": "article.killed",
    "article_id": "019ac0a6-1111-7222-8333-444455556666",
    "media_id": null,
    "publisher_id": "019ac0a4-1d2f-7e10-8b42-5a6b7c8d9e01",
    "licensee_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "event_id": "019ad0af-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "status": "open",
    "reason": "Legal: reporting restrictions.",
    "killed_at": "2026-12-01T09:00:00Z",
    "deliveries": 3,
    "last_delivered_at": "2026-12-01T08:41:07Z",
    "deadline_at": "2026-12-02T09:00:00Z",
    "notified_at": "2026-12-01T09:00:00Z",
    "acknowledged_at": null,
    "removed_at": null,
    "note": null
}))]
pub struct Notice {
    /// Notice id.
    pub id: Uuid,
    /// `article.killed` (remove the story) or `media.rights_ended` (remove the photo from it).
    pub kind: String,
    /// The article.
    pub article_id: Uuid,
    /// For `media.rights_ended`: the photo.
    pub media_id: Option<Uuid>,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The licensee that received it and must remove it.
    pub licensee_id: Uuid,
    /// The `webhook-id` of the takedown's event, `article.killed` or
    /// `media.rights_ended` (the same id on every endpoint; set even for a
    /// licensee whose endpoints are not subscribed to it).
    pub event_id: Uuid,
    /// Where it stands now.
    pub status: NoticeStatus,
    /// The kill's reason; for a photo's end, "the photo's rights ended".
    pub reason: Option<String>,
    /// When the article was killed, or the photo's rights ended.
    pub killed_at: DateTime<Utc>,
    /// The licensee's deliveries of the article in the usage ledger when
    /// the notice was made; for a photo's end, only those that showed the
    /// photo. The compliance report reads the same count from the ledger
    /// now.
    pub deliveries: i64,
    /// The last of those deliveries.
    pub last_delivered_at: DateTime<Utc>,
    /// Acknowledge by then.
    pub deadline_at: DateTime<Utc>,
    /// When the notice was made: with the takedown, in its transaction, or,
    /// for a delivery that was still in a node's journal then, when that
    /// delivery reached the ledger.
    pub notified_at: DateTime<Utc>,
    /// When the licensee acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When the licensee says it removed the article (for a photo's end,
    /// the photo).
    pub removed_at: Option<DateTime<Utc>>,
    /// The licensee's note.
    pub note: Option<String>,
}

impl Notice {
    /// The row as seen at `at`.
    pub fn from_row(row: &NoticeRow, at: NaiveDateTime) -> Result<Self, StorageError> {
        let id = |field: &str, value: &str| {
            crate::storage::error::parse_field::<Uuid>("takedown_notices", &row.id, field, value)
        };
        Ok(Self {
            id: id("id", &row.id)?,
            kind: row.kind.clone(),
            article_id: id("article_id", &row.article_id)?,
            media_id: row
                .media_id
                .as_deref()
                .map(|m| id("media_id", m))
                .transpose()?,
            publisher_id: id("publisher_id", &row.publisher_id)?,
            licensee_id: id("licensee_id", &row.licensee_id)?,
            event_id: id("event_id", &row.event_id)?,
            status: NoticeStatus::of(row, at),
            reason: row.reason.clone(),
            killed_at: row.killed_at.and_utc(),
            deliveries: row.deliveries,
            last_delivered_at: row.last_delivered_at.and_utc(),
            deadline_at: row.deadline_at.and_utc(),
            notified_at: row.created_at.and_utc(),
            acknowledged_at: row.acknowledged_at.map(|t| t.and_utc()),
            removed_at: row.removed_at.map(|t| t.and_utc()),
            note: row.note.clone(),
        })
    }
}

/// A page of the notices the caller may see, of one status or all.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    status: Option<NoticeStatus>,
    page: &PageRequest,
) -> Result<Page<Notice>, NoticesError> {
    let scope = scope_of(caller)?;
    let at = now();
    let rows = notices::list_notices(conn, &scope, status.map(NoticeStatus::state), at, page)?;
    Ok(rows.try_map(|row| Notice::from_row(&row, at))?)
}

/// What a caller's lists hold.
fn scope_of(caller: &Caller) -> Result<NoticeScope, NoticesError> {
    match (caller.role, caller.licensee_id(), caller.publisher_id()) {
        (Role::Admin, _, _) => Ok(NoticeScope::All),
        (Role::Licensee, Some(own), _) => Ok(NoticeScope::Licensee(own.to_string())),
        (Role::Publisher, _, Some(own)) => Ok(NoticeScope::Publisher(own.to_string())),
        _ => Err(NoticesError::Forbidden(
            "no notices for this client".to_owned(),
        )),
    }
}

/// A licensee's confirmation that it removed the article.
#[derive(Debug, Clone)]
pub struct Acknowledgement {
    /// When it was removed (not in the future).
    pub removed_at: DateTime<Utc>,
    /// A note for the publisher.
    pub note: Option<String>,
}

/// Acknowledges the licensee's own notice.
pub fn acknowledge(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    ack: Acknowledgement,
) -> Result<Notice, NoticesError> {
    let Some(own) = caller.licensee_id() else {
        return Err(NoticesError::Forbidden(
            "only the licensee the notice is for acknowledges it".to_owned(),
        ));
    };
    let at = now();
    let mut errors = Vec::new();
    let note = match ack.note.as_deref() {
        None => None,
        Some(note) => single_line(note, MAX_NOTE_CHARS)
            .map_err(|e| errors.push(FieldError::new("note", e.to_string())))
            .ok(),
    };
    if !errors.is_empty() {
        return Err(NoticesError::Invalid(errors));
    }
    let not_found = || NoticesError::NotFound("no such notice".to_owned());
    let row = match notices::find_notice(conn, &id.to_string()) {
        Err(StorageError::NotFound) => return Err(not_found()),
        other => other?,
    };
    if row.licensee_id != own.to_string() {
        return Err(not_found());
    }
    // Like an embargo already past, an instant still to come conflicts
    // with the present rather than with the field's form: 409.
    if ack.removed_at.naive_utc() > at + chrono::Duration::seconds(CLOCK_SKEW_SECONDS) {
        return Err(NoticesError::Conflict(
            "removed_at is in the future; acknowledge once the article is removed".to_owned(),
        ));
    }
    let removed_at = crate::storage::instant(ack.removed_at);
    if !notices::acknowledge(conn, &row.id, removed_at, note.as_deref(), at)? {
        return Err(NoticesError::Conflict(
            "the notice was already acknowledged".to_owned(),
        ));
    }
    let row = notices::find_notice(conn, &row.id)?;
    Ok(Notice::from_row(&row, at)?)
}

/// Records that a licensee asked for a killed article and was refused
/// (410), for the compliance report. A failure is logged, not passed on:
/// the 410 is the answer either way.
pub fn record_killed_fetch(conn: &mut DbConnection, article: ArticleId, licensee: LicenseeId) {
    if let Err(error) =
        notices::record_killed_fetch(conn, &article.to_string(), &licensee.to_string(), now())
    {
        tracing::warn!(error = %error, "could not record a fetch of a killed article");
    }
}
