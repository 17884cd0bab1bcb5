//! An article's history: every change makes a new version, recorded with a
//! snapshot of the article as it then was, with a content event for the
//! change feed and its webhooks and takedown notices (`notices::outbox`),
//! all in the transaction that makes the change. The row is
//! written only if its version is still the one the change was based on, so
//! two concurrent changes cannot both win.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::read::find_article;
use super::{ContentError, to_json};
use crate::domain::ArticleId;
use crate::domain::content::{
    AgencyCredit, ArticleStatus, Byline, ChangeKind, EventKind, MediaRef,
};
use crate::identity::Caller;
use crate::storage::articles::{self, ArticleRow, NewEventRow};
use crate::storage::versions::{self, VersionRow};
use crate::storage::{DbConnection, StorageError, in_transaction};

/// When licensees may first see a change made `at`: after any embargo.
pub(crate) fn visible_from(row: &ArticleRow, at: NaiveDateTime) -> NaiveDateTime {
    row.embargo_until.map_or(at, |embargo| embargo.max(at))
}

/// The version a change is based on, as the client names it (`If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current version.
    Any,
    /// `"vN"`: exactly version N.
    Version(i32),
    /// Something that is not one of our ETags, so no version matches it.
    Never,
}

impl Precondition {
    /// Whether the current version satisfies it.
    pub fn holds(self, current: i32) -> bool {
        match self {
            Precondition::Any => true,
            Precondition::Version(expected) => expected == current,
            Precondition::Never => false,
        }
    }
}

/// Refuses a change based on a version that is not the current one.
pub(crate) fn refuse_stale(
    expected: Precondition,
    current: &ArticleRow,
) -> Result<(), ContentError> {
    if expected.holds(current.version) {
        Ok(())
    } else {
        Err(ContentError::PreconditionFailed(format!(
            "If-Match names another version; the current version is {}",
            current.version
        )))
    }
}

/// The tag of an article version (`"v3"`): what a client sends back to
/// say which version its change is based on.
pub fn etag(version: i32) -> String {
    format!("\"v{version}\"")
}

/// An article as one of its versions records it. The API shows a past
/// version in this shape, the shape of the article itself, so the field
/// names and order are those of the article response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleSnapshot {
    /// Article id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The publisher's own id for it.
    pub external_ref: String,
    /// The version number.
    pub version: i32,
    /// The version's tag, as [`etag`] makes it.
    pub etag: String,
    /// Where it was in its life.
    pub status: ArticleStatus,
    /// The headline.
    pub headline: String,
    /// The summary.
    pub standfirst: Option<String>,
    /// The sanitised body.
    pub body_html: String,
    /// The body as plain text.
    pub body_text: String,
    /// Words in the body.
    pub word_count: i32,
    /// The section.
    pub section: String,
    /// Tags.
    pub tags: Vec<String>,
    /// BCP 47 language tag.
    pub language: String,
    /// Who wrote it.
    pub bylines: Vec<Byline>,
    /// The dateline place.
    pub located: Option<String>,
    /// The story's page on the publisher's site.
    pub canonical_url: Option<String>,
    /// Hidden from licensees until this instant.
    pub embargo_until: Option<DateTime<Utc>>,
    /// Agency credits.
    pub agency_credits: Vec<AgencyCredit>,
    /// Photos, in order.
    pub media: Vec<MediaRef>,
    /// Related articles.
    pub related: Vec<Uuid>,
    /// Why it was withheld or killed.
    pub status_reason: Option<String>,
    /// When it first became public (its embargo, if it had one).
    pub first_published_at: Option<DateTime<Utc>>,
    /// When it was killed.
    pub killed_at: Option<DateTime<Utc>>,
    /// When this version was made.
    pub version_created_at: DateTime<Utc>,
    /// When the article was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<&ArticleRow> for ArticleSnapshot {
    type Error = StorageError;

    /// The row with its columns read as their types: a value that does not
    /// convert fails the whole article, never shows as an empty one.
    fn try_from(row: &ArticleRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.article_id()?.0,
            publisher_id: row.publisher_id()?.0,
            external_ref: row.external_ref.clone(),
            version: row.version,
            etag: etag(row.version),
            status: row.status()?,
            headline: row.headline.clone(),
            standfirst: row.standfirst.clone(),
            body_html: row.body_html.clone(),
            body_text: row.body_text.clone(),
            word_count: row.word_count,
            section: row.section.clone(),
            tags: row.tags()?,
            language: row.language.clone(),
            bylines: row.bylines()?,
            located: row.located.clone(),
            canonical_url: row.canonical_url.clone(),
            embargo_until: row.embargo_until.map(|t| t.and_utc()),
            agency_credits: row.agency_credits()?,
            media: row.media()?,
            related: row.related()?.into_iter().map(|id| id.0).collect(),
            status_reason: row.status_reason.clone(),
            first_published_at: row.first_published_at.map(|t| t.and_utc()),
            killed_at: row.killed_at.map(|t| t.and_utc()),
            version_created_at: row.version_created_at.and_utc(),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// Records the row's current version and its event, in the caller's
/// transaction.
pub(crate) fn record(
    conn: &mut DbConnection,
    row: &ArticleRow,
    kind: ChangeKind,
    note: Option<String>,
    event: EventKind,
) -> Result<(), ContentError> {
    let snapshot = to_json(&ArticleSnapshot::try_from(row)?)?;
    let outbox_note = note.clone();
    versions::insert(
        conn,
        &VersionRow {
            article_id: row.id.clone(),
            version: row.version,
            change_kind: kind.as_str().to_owned(),
            change_note: note,
            status: row.status.clone(),
            snapshot,
            created_at: row.version_created_at,
        },
    )?;
    // Licensees learn of a publish or an edit when the embargo lifts; of a
    // take-down at once, so they remove the story without delay.
    let not_before = match event {
        EventKind::Withheld | EventKind::Killed | EventKind::Created => None,
        _ => row.embargo_until,
    };
    articles::append_event(
        conn,
        &NewEventRow {
            article_id: row.id.clone(),
            publisher_id: row.publisher_id.clone(),
            version: row.version,
            kind: event.as_str().to_owned(),
            status: row.status.clone(),
            section: row.section.clone(),
            not_before,
        },
    )?;
    // Webhooks and takedown notices, in the same transaction.
    crate::notices::outbox::record_change(conn, row, event, outbox_note.as_deref())?;
    Ok(())
}

/// The row a change made `at` starts from: the current one, one version on.
pub(crate) fn next_version(current: &ArticleRow, at: NaiveDateTime) -> ArticleRow {
    let mut next = current.clone();
    next.version = current.version + 1;
    next.version_created_at = at;
    next.updated_at = at;
    next
}

/// Writes `next` over `current` and records it, in one transaction; 412
/// when another change got there first.
pub(crate) fn commit_next(
    conn: &mut DbConnection,
    current: &ArticleRow,
    next: &ArticleRow,
    kind: ChangeKind,
    note: Option<String>,
    event: EventKind,
) -> Result<(), ContentError> {
    in_transaction(conn, |conn| {
        if !articles::replace_if_version(conn, next, current.version)? {
            return Err(ContentError::PreconditionFailed(
                "the article changed meanwhile; fetch it and retry with its new ETag".to_owned(),
            ));
        }
        record(conn, next, kind, note, event)
    })
}

/// Some of an article's versions, oldest first.
#[derive(Debug, Clone)]
pub struct VersionList {
    /// The versions.
    pub items: Vec<VersionRow>,
    /// The last version listed, when more follow it.
    pub more_after: Option<i32>,
}

/// Up to `limit` (1 to 100) versions of the caller's article after
/// version `after`.
pub fn list_versions(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    after: i32,
    limit: i64,
) -> Result<VersionList, ContentError> {
    find_article(conn, caller, id)?;
    // The caller checks the page size; clamped so that a bad one can never
    // ask for every version at once.
    let limit = limit.clamp(1, crate::storage::page::MAX_LIMIT);
    // One more than asked for tells whether another page follows.
    let mut items = versions::list(conn, &id.to_string(), after, limit + 1)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more_after = if items.len() > limit {
        items.get(limit - 1).map(|last| last.version)
    } else {
        None
    };
    items.truncate(limit);
    Ok(VersionList { items, more_after })
}

/// One version of an article and the article as it then was.
#[derive(Debug, Clone)]
pub struct ArticleVersion {
    /// The version's change.
    pub change: VersionRow,
    /// The article at that version.
    pub article: ArticleSnapshot,
}

/// One version of the caller's article.
pub fn find_version(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
    version: i32,
) -> Result<ArticleVersion, ContentError> {
    find_article(conn, caller, id)?;
    let change = match versions::find(conn, &id.to_string(), version) {
        Err(StorageError::NotFound) => {
            return Err(ContentError::NotFound("no such version".to_owned()));
        }
        other => other?,
    };
    let article = change.snapshot()?;
    Ok(ArticleVersion { change, article })
}
