//! The compliance report: for each article killed in a range, every
//! licensee that received it (its deliveries and the last one's time, read
//! from the usage ledger now, so the report reconciles with the ledger to
//! the delivery), when it was notified, when it acknowledged and whether it
//! is overdue, and how often it asked for the article after the kill (each
//! such request was refused with 410 and recorded in `killed_fetches`, not
//! in the ledger); and for each licensee its acknowledgement rate and
//! median time to acknowledge. Publishers see their own articles, admins
//! all (or one publisher's).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::NoticesError;
use super::takedowns::NoticeStatus;
use crate::domain::Role;
use crate::identity::Caller;
use crate::storage::notices::{self, NoticeRow};
use crate::storage::{DbConnection, StorageError, now, receipts};

/// One licensee's part in one takedown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TakedownRecipient {
    /// The licensee.
    pub licensee_id: Uuid,
    /// Its deliveries of the article in the usage ledger; for a photo's
    /// end, only those that showed the photo.
    pub deliveries: i64,
    /// The last of them.
    pub last_delivered_at: Option<DateTime<Utc>>,
    /// When it was notified: with the takedown, or when a delivery that was
    /// still in a node's journal then reached the ledger.
    pub notified_at: DateTime<Utc>,
    /// Its deadline.
    pub deadline_at: DateTime<Utc>,
    /// When it acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it says it removed the article (for a photo's end, the photo).
    pub removed_at: Option<DateTime<Utc>>,
    /// `open`, `acknowledged` or `overdue`.
    pub status: NoticeStatus,
    /// Whether it acknowledged after the deadline, or has not and the deadline passed.
    pub overdue: bool,
    /// Requests for the article after the kill (each answered 410); 0 for
    /// a photo's end, after which the story is delivered without it.
    pub fetches_after_kill: i64,
}

/// One takedown (a kill, or a photo's rights ending in a live story) and
/// who received the article.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Takedown {
    /// The event (`webhook-id`).
    pub event_id: Uuid,
    /// `article.killed` or `media.rights_ended`.
    pub kind: String,
    /// The article.
    pub article_id: Uuid,
    /// For `media.rights_ended`: the photo.
    pub media_id: Option<Uuid>,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// When it was killed (or the photo's rights ended).
    pub killed_at: DateTime<Utc>,
    /// The kill's reason.
    pub reason: Option<String>,
    /// Every licensee that received it, by id.
    pub recipients: Vec<TakedownRecipient>,
}

/// One licensee's record across the report's takedowns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LicenseeCompliance {
    /// The licensee.
    pub licensee_id: Uuid,
    /// Notices it got.
    pub notices: i64,
    /// Notices it acknowledged.
    pub acknowledged: i64,
    /// Notices overdue (late or still unanswered past the deadline).
    pub overdue: i64,
    /// `acknowledged / notices`.
    pub acknowledgement_rate: f64,
    /// Median seconds from notice to acknowledgement, of those acknowledged.
    pub median_seconds_to_acknowledge: Option<i64>,
}

/// The report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComplianceReport {
    /// Kills from (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Kills until (exclusive).
    pub to: DateTime<Utc>,
    /// Each killed article, in order of the kill.
    pub takedowns: Vec<Takedown>,
    /// Each licensee, by id.
    pub licensees: Vec<LicenseeCompliance>,
}

/// What the report covers.
#[derive(Debug, Clone)]
pub struct ComplianceRequest {
    /// Kills from (inclusive); none means the beginning.
    pub from: Option<DateTime<Utc>>,
    /// Kills until (exclusive).
    pub to: DateTime<Utc>,
    /// Admins: only this publisher's articles; a publisher may name only itself.
    pub publisher_id: Option<Uuid>,
}

/// Builds the report for the caller.
pub fn report(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &ComplianceRequest,
) -> Result<ComplianceReport, NoticesError> {
    let publisher = match (caller.role, caller.publisher_id(), request.publisher_id) {
        (Role::Admin, _, asked) => asked.map(|p| p.to_string()),
        (Role::Publisher, Some(own), None) => Some(own.to_string()),
        (Role::Publisher, Some(own), Some(asked)) if asked == own.0 => Some(own.to_string()),
        (Role::Publisher, _, _) => {
            return Err(NoticesError::Forbidden(
                "a publisher sees only takedowns of its own articles".to_owned(),
            ));
        }
        _ => {
            return Err(NoticesError::Forbidden(
                "the compliance report is for publishers and admins".to_owned(),
            ));
        }
    };
    let at = now();
    let from = request
        .from
        .map_or(DateTime::UNIX_EPOCH.naive_utc(), |from| from.naive_utc());
    let rows =
        notices::notices_killed_between(conn, publisher.as_deref(), from, request.to.naive_utc())?;
    let mut takedowns: Vec<Takedown> = Vec::new();
    let mut bounds: HashMap<&str, Option<NaiveDateTime>> = HashMap::new();
    let mut per_licensee: std::collections::BTreeMap<String, (i64, i64, i64, Vec<i64>)> =
        std::collections::BTreeMap::new();
    for row in &rows {
        let before = match bounds.entry(&row.event_id) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(new) => *new.insert(carried_until(conn, row)?),
        };
        let recipient = recipient(conn, row, before, at)?;
        let entry = per_licensee.entry(row.licensee_id.clone()).or_default();
        entry.0 += 1;
        if let Some(acknowledged) = row.acknowledged_at {
            entry.1 += 1;
            entry.3.push((acknowledged - row.created_at).num_seconds());
        }
        if recipient.overdue {
            entry.2 += 1;
        }
        match takedowns.last_mut() {
            Some(last) if last.event_id.to_string() == row.event_id => {
                last.recipients.push(recipient);
            }
            _ => takedowns.push(Takedown {
                event_id: uuid(row, "event_id", &row.event_id)?,
                kind: row.kind.clone(),
                article_id: uuid(row, "article_id", &row.article_id)?,
                media_id: row
                    .media_id
                    .as_deref()
                    .map(|m| uuid(row, "media_id", m))
                    .transpose()?,
                publisher_id: uuid(row, "publisher_id", &row.publisher_id)?,
                killed_at: row.killed_at.and_utc(),
                reason: row.reason.clone(),
                recipients: vec![recipient],
            }),
        }
    }
    let licensees = per_licensee
        .into_iter()
        .map(|(licensee, (notices, acknowledged, overdue, mut times))| {
            times.sort_unstable();
            let median = match times.len() {
                0 => None,
                n if n % 2 == 1 => times.get(n / 2).copied(),
                n => Some((times[n / 2 - 1] + times[n / 2]) / 2),
            };
            Ok(LicenseeCompliance {
                licensee_id: licensee.parse().map_err(|_| StorageError::Corrupt {
                    table: "takedown_notices",
                    id: licensee.clone(),
                    detail: "licensee_id is not a UUID".to_owned(),
                })?,
                notices,
                acknowledged,
                overdue,
                acknowledgement_rate: if notices == 0 {
                    0.0
                } else {
                    acknowledged as f64 / notices as f64
                },
                median_seconds_to_acknowledge: median,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(ComplianceReport {
        from: request.from,
        to: request.to,
        takedowns,
        licensees,
    })
}

/// Until when a takedown's deliveries carried what it took down: a kill
/// counts every delivery of the story (any after it came within the
/// freshness bound and matter most); a photo's end only those that still
/// showed the photo, not the story delivered without it since.
fn carried_until(
    conn: &mut DbConnection,
    row: &NoticeRow,
) -> Result<Option<NaiveDateTime>, StorageError> {
    if row.kind == notices::RIGHTS_ENDED {
        notices::withheld_from(conn, &row.event_id)
    } else {
        Ok(None)
    }
}

/// One notice as a row of the report, with the ledger read now (up to
/// `before`, if given).
fn recipient(
    conn: &mut DbConnection,
    row: &NoticeRow,
    before: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> Result<TakedownRecipient, StorageError> {
    let (deliveries, last) =
        receipts::deliveries_to(conn, &row.article_id, &row.licensee_id, before)?;
    let fetches_after_kill = if row.kind == notices::KILLED {
        notices::killed_fetches_of(conn, &row.article_id, &row.licensee_id)?
    } else {
        0
    };
    let overdue = match row.acknowledged_at {
        Some(acknowledged) => acknowledged > row.deadline_at,
        None => row.deadline_at <= at,
    };
    Ok(TakedownRecipient {
        licensee_id: uuid(row, "licensee_id", &row.licensee_id)?,
        deliveries,
        last_delivered_at: last.map(|t| t.and_utc()),
        notified_at: row.created_at.and_utc(),
        deadline_at: row.deadline_at.and_utc(),
        acknowledged_at: row.acknowledged_at.map(|t| t.and_utc()),
        removed_at: row.removed_at.map(|t| t.and_utc()),
        status: NoticeStatus::of(row, at),
        overdue,
        fetches_after_kill,
    })
}

fn uuid(row: &NoticeRow, field: &str, value: &str) -> Result<Uuid, StorageError> {
    crate::storage::error::parse_field("takedown_notices", &row.id, field, value)
}

/// The report as CSV: one line per takedown and licensee, with a header.
pub fn csv(report: &ComplianceReport) -> String {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let mut out = String::from(
        "kind,article_id,media_id,publisher_id,killed_at,licensee_id,deliveries,last_delivered_at,notified_at,deadline_at,acknowledged_at,removed_at,status,overdue,fetches_after_kill\n",
    );
    for takedown in &report.takedowns {
        for r in &takedown.recipients {
            let status = match r.status {
                NoticeStatus::Open => "open",
                NoticeStatus::Acknowledged => "acknowledged",
                NoticeStatus::Overdue => "overdue",
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                takedown.kind,
                takedown.article_id,
                takedown.media_id.map(|m| m.to_string()).unwrap_or_default(),
                takedown.publisher_id,
                takedown.killed_at.to_rfc3339(),
                r.licensee_id,
                r.deliveries,
                time(r.last_delivered_at),
                r.notified_at.to_rfc3339(),
                r.deadline_at.to_rfc3339(),
                time(r.acknowledged_at),
                time(r.removed_at),
                status,
                r.overdue,
                r.fetches_after_kill,
            ));
        }
    }
    out
}
