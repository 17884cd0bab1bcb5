//! The change feed: every event of content a licensee's licences cover, in
//! one order, resumable from an opaque cursor that never expires and never
//! skips an event. Which events a licensee hears of is decided by
//! `domain::access::hears`.
//!
//! Beside the content events run the licensee's scheduled events (a
//! photo's rights ended in a story it received, one of its licences
//! ending; `storage::scheduled`), written for it alone when the end is
//! taken. The two logs merge by time; at one instant content events come
//! first. A position names its log, so the cursor of either resumes both.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::DeliveryError;
use super::entitlement::Entitlement;
use crate::domain::access;
use crate::domain::content::EventKind;
use crate::domain::{FieldError, LicenseeId};
use crate::storage::scheduled::{self, ScheduledRow};
use crate::storage::{self, DbConnection, Pool, StorageError, articles, facts};

/// Most events one page may hold.
pub const MAX_PAGE: i64 = 1000;
/// Longest a request may wait for an event, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How often a waiting request looks again.
const POLL: Duration = Duration::from_millis(250);

/// What a feed event tells: a change of an article (`published`,
/// `updated`, `corrected`, `withheld`, `killed`: the webhooks'
/// `article.*`), or a scheduled event: `rights_ended` (`media.rights_ended`:
/// a photo's rights ended while it showed in a live story this licensee
/// received) or `licence_ending` (`licence.ending`: one of its licences
/// ends within the notice period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// The article was published (at its embargo, if any).
    Published,
    /// The article was updated.
    Updated,
    /// The article was corrected.
    Corrected,
    /// The article was withheld.
    Withheld,
    /// The article was killed.
    Killed,
    /// A photo's rights ended while it showed in the story.
    RightsEnded,
    /// A licence ends soon.
    LicenceEnding,
}

impl FeedKind {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Published => "published",
            FeedKind::Updated => "updated",
            FeedKind::Corrected => "corrected",
            FeedKind::Withheld => "withheld",
            FeedKind::Killed => "killed",
            FeedKind::RightsEnded => "rights_ended",
            FeedKind::LicenceEnding => "licence_ending",
        }
    }

    /// The kind of a content event (`None` for one the feed leaves out).
    fn of_content(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::Created => None,
            EventKind::Published => Some(FeedKind::Published),
            EventKind::Updated => Some(FeedKind::Updated),
            EventKind::Corrected => Some(FeedKind::Corrected),
            EventKind::Withheld => Some(FeedKind::Withheld),
            EventKind::Killed => Some(FeedKind::Killed),
        }
    }
}

/// One change a licensee should hear of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedEvent {
    /// Resume after this event by passing it as `cursor`.
    pub cursor: String,
    /// What happened.
    pub kind: FeedKind,
    /// The article (for `rights_ended`, the story that showed the photo);
    /// absent for `licence_ending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<Uuid>,
    /// Its version after the change (for `rights_ended`, the story's
    /// version then); absent for `licence_ending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// When the change became visible to licensees (for a scheduled event,
    /// when it was taken: within about a second of the end or the notice).
    pub at: DateTime<Utc>,
    /// `rights_ended`: the photo whose rights ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<Uuid>,
    /// `licence_ending`: the licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<Uuid>,
    /// `rights_ended`: when the rights ended; `licence_ending`: when the
    /// licence ends (its `valid_until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// The `webhook-id` of the same event sent to webhooks (scheduled
    /// events only), to tell a notice already taken by webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
}

impl FeedEvent {
    /// A licensee's scheduled event as the feed tells it.
    fn scheduled(row: &ScheduledRow, cursor: String) -> Result<Self, StorageError> {
        let kind = match row.kind.as_str() {
            scheduled::RIGHTS_ENDED => FeedKind::RightsEnded,
            scheduled::LICENCE_ENDING => FeedKind::LicenceEnding,
            other => {
                return Err(StorageError::Corrupt {
                    table: "scheduled_feed_events",
                    id: row.seq.to_string(),
                    detail: format!("kind {other:?}"),
                });
            }
        };
        Ok(FeedEvent {
            cursor,
            kind,
            article_id: row.id_of("article_id", row.article_id.as_deref())?,
            version: row.version,
            at: row.visible_at.and_utc(),
            media_id: row.id_of("media_id", row.media_id.as_deref())?,
            licence_id: row.id_of("licence_id", row.licence_id.as_deref())?,
            ends_at: Some(row.ends_at.and_utc()),
            event_id: row.id_of("event_id", Some(&row.event_id))?,
        })
    }
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "events": [
        {"cursor": "ZmVlZDo...MTc", "kind": "published", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 1, "at": "2026-11-28T06:00:00Z"},
        {"cursor": "ZmVlZDo...MjE", "kind": "corrected", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 2, "at": "2026-11-28T07:12:00Z"},
        {"cursor": "ZmVlZDo...cw", "kind": "rights_ended", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 2, "at": "2026-11-28T12:00:01Z",
         "media_id": "019ac0a5-3333-7444-8555-666677778888", "ends_at": "2026-11-28T12:00:00Z", "event_id": "019ac0b1-4444-7555-8666-777788889999"},
        {"cursor": "ZmVlZDo...cx", "kind": "licence_ending", "at": "2026-11-28T13:00:00Z",
         "licence_id": "019ac0a7-2222-7333-8444-555566667777", "ends_at": "2026-12-05T13:00:00Z", "event_id": "019ac0b1-5555-7666-8777-88889999aaaa"}
    ],
    "next_cursor": "ZmVlZDo...cx"
}))]
pub struct FeedPage {
    /// Events in order.
    pub events: Vec<FeedEvent>,
    /// Pass as `cursor` next time (always present; cursors do not expire).
    pub next_cursor: String,
}

/// The log a feed event comes from; at one instant, content events come
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Log {
    /// `content_events`, shared by every licensee.
    Content,
    /// The licensee's own scheduled events.
    Scheduled,
}

/// A position in the feed: after the event at (`visible_at`, log, `seq`).
type Position = (NaiveDateTime, Log, i64);

/// A position in one log: after its event at (`visible_at`, `seq`).
type LogPosition = (NaiveDateTime, i64);

/// Where each log, content then scheduled, resumes after a position.
fn resume(position: Option<Position>) -> (Option<LogPosition>, Option<LogPosition>) {
    match position {
        None => (None, None),
        // After a content event: the rest of the content events, and every
        // scheduled event at its instant or later.
        Some((at, Log::Content, seq)) => (Some((at, seq)), Some((at, 0))),
        // After a scheduled event: content events after its instant.
        Some((at, Log::Scheduled, seq)) => (Some((at, i64::MAX)), Some((at, seq))),
    }
}

/// One feed request.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    /// `next_cursor` or an event's `cursor` from before.
    pub cursor: Option<String>,
    /// Events per page, 1 to [`MAX_PAGE`].
    pub limit: i64,
    /// Seconds to wait for an event when there is none yet.
    pub wait: u64,
}

/// A page of `licensee`'s feed; with `wait`, an empty page waits up to that
/// many seconds for the next event.
pub async fn feed(
    pool: &Pool,
    licensee: LicenseeId,
    request: &FeedRequest,
) -> Result<FeedPage, DeliveryError> {
    let invalid = |field: &str, message: String| {
        DeliveryError::Invalid(vec![FieldError::new(field, message)])
    };
    if !(1..=MAX_PAGE).contains(&request.limit) {
        return Err(invalid(
            "limit",
            format!("limit must be between 1 and {MAX_PAGE}"),
        ));
    }
    if request.wait > MAX_WAIT_SECONDS {
        return Err(invalid(
            "wait",
            format!("at most {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let position = match &request.cursor {
        Some(cursor) => decode_cursor(licensee, cursor)?,
        None => None,
    };
    let limit = usize::try_from(request.limit).unwrap_or(50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(request.wait);
    loop {
        let page =
            storage::blocking(pool, move |conn| read_page(conn, licensee, position, limit)).await?;
        if !page.events.is_empty() || tokio::time::Instant::now() + POLL > deadline {
            return Ok(page);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Reads one page of the feed after `position`.
fn read_page(
    conn: &mut DbConnection,
    licensee: LicenseeId,
    position: Option<Position>,
    limit: usize,
) -> Result<FeedPage, DeliveryError> {
    let entitlement = Entitlement::load(conn, licensee)?;
    // Every licence's publishers, in force or not: a kill reaches a
    // licensee that could see the story after its licence ended.
    let publishers = entitlement.publishers(None);
    // Reads `limit` events at a time, and at most 32 times that, so a
    // licensee that hears few of the events still gets an answer soon (with
    // a cursor past what was read).
    let chunk = i64::try_from(limit).unwrap_or(MAX_PAGE);
    let cursors = Cursors::new(licensee);
    let (events, cursor) = articles::consistent_read(conn, |conn, now| {
        let (content_after, scheduled_after) = resume(position);
        // The licensee's own scheduled events are few: one read of a page's
        // worth, merged in before the content event that follows each.
        let own = scheduled::feed(conn, &licensee.to_string(), scheduled_after, now, chunk)?;
        let mut own = own.iter().peekable();
        let mut cursor = position;
        let mut events = Vec::new();
        // Tells the scheduled events before `until` (all for `None`); true
        // when the page is full.
        let mut tell_own = |until: Option<Position>,
                            events: &mut Vec<FeedEvent>,
                            cursor: &mut Option<Position>|
         -> Result<bool, StorageError> {
            while let Some(&row) = own.peek() {
                let at = (row.visible_at, Log::Scheduled, row.seq);
                if until.is_some_and(|until| at > until) {
                    break;
                }
                own.next();
                *cursor = Some(at);
                events.push(FeedEvent::scheduled(row, cursors.at(at))?);
                if events.len() == limit {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let mut content_cursor = content_after;
        for _ in 0..32 {
            let rows = articles::feed(conn, &publishers, content_cursor, now, chunk)?;
            let exhausted = rows.len() < usize::try_from(chunk).unwrap_or(usize::MAX);
            for row in rows {
                let event = facts::event(&row)?;
                let position = (event.visible_at, Log::Content, row.event.seq);
                if tell_own(Some(position), &mut events, &mut cursor)? {
                    return Ok((events, cursor));
                }
                cursor = Some(position);
                content_cursor = Some((event.visible_at, row.event.seq));
                let Some(kind) = FeedKind::of_content(event.kind) else {
                    continue;
                };
                if access::hears(&entitlement.licences, &event, now) {
                    events.push(FeedEvent {
                        cursor: cursors.at(position),
                        kind,
                        article_id: Some(event.article_id.0),
                        version: Some(event.version),
                        at: event.visible_at.and_utc(),
                        media_id: None,
                        licence_id: None,
                        ends_at: None,
                        event_id: None,
                    });
                    if events.len() == limit {
                        return Ok((events, cursor));
                    }
                }
            }
            if exhausted {
                // Every content event before `now` was read: the rest of
                // the scheduled ones follow.
                tell_own(None, &mut events, &mut cursor)?;
                return Ok((events, cursor));
            }
        }
        Ok((events, cursor))
    })?;
    Ok(FeedPage {
        events,
        next_cursor: encode_cursor(licensee, cursor),
    })
}

/// What a cursor holds after the licensee: `micros:seq` for a content
/// event (cursors given before scheduled events existed read the same), and
/// `micros:seq:s` for a scheduled one.
fn position_text(position: Option<Position>) -> String {
    match position {
        None => "0:0".to_owned(),
        Some((at, log, seq)) => {
            let micros = at.and_utc().timestamp_micros();
            match log {
                Log::Content => format!("{micros}:{seq}"),
                Log::Scheduled => format!("{micros}:{seq}:s"),
            }
        }
    }
}

/// A licensee's cursor at `position` (the start of the feed for `None`).
fn encode_cursor(licensee: LicenseeId, position: Option<Position>) -> String {
    let text = position_text(position);
    URL_SAFE_NO_PAD.encode(format!("feed:{licensee}:{text}"))
}

/// Writes the cursors of one page: the part every cursor of a licensee
/// shares, `feed:<licensee>:`, is 42 bytes, a whole number of base64
/// groups, so it is encoded once and each cursor appends its own part.
struct Cursors {
    licensee: LicenseeId,
    encoded_prefix: Option<String>,
}

impl Cursors {
    fn new(licensee: LicenseeId) -> Self {
        let prefix = format!("feed:{licensee}:");
        Self {
            licensee,
            encoded_prefix: (prefix.len() % 3 == 0).then(|| URL_SAFE_NO_PAD.encode(prefix)),
        }
    }

    fn at(&self, position: Position) -> String {
        let Some(prefix) = &self.encoded_prefix else {
            return encode_cursor(self.licensee, Some(position));
        };
        let mut cursor = prefix.clone();
        URL_SAFE_NO_PAD.encode_string(position_text(Some(position)), &mut cursor);
        cursor
    }
}

/// The position a cursor names, if this licensee was given it.
fn decode_cursor(licensee: LicenseeId, cursor: &str) -> Result<Option<Position>, DeliveryError> {
    let invalid = || DeliveryError::UnknownCursor;
    if cursor.len() > 200 {
        return Err(invalid());
    }
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let parts: Vec<&str> = text.split(':').collect();
    let (tag, owner, micros, seq, log) = match parts.as_slice() {
        [tag, owner, micros, seq] => (tag, owner, micros, seq, Log::Content),
        [tag, owner, micros, seq, "s"] => (tag, owner, micros, seq, Log::Scheduled),
        _ => return Err(invalid()),
    };
    if *tag != "feed" || *owner != licensee.to_string() {
        return Err(invalid());
    }
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let seq: i64 = seq.parse().map_err(|_| invalid())?;
    if micros == 0 && seq == 0 && log == Log::Content {
        return Ok(None);
    }
    let at = DateTime::from_timestamp_micros(micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok(Some((at, log, seq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_writes_the_cursors_one_at_a_time_would() {
        let licensee = LicenseeId(Uuid::now_v7());
        let cursors = Cursors::new(licensee);
        assert!(cursors.encoded_prefix.is_some());
        for (micros, log, seq) in [
            (1, Log::Content, 1),
            (1_764_000_000_123_456, Log::Content, 42),
            (1_764_000_000_123_456, Log::Scheduled, 42),
            (4_102_444_800_000_000, Log::Content, i64::MAX),
            (4_102_444_800_000_000, Log::Scheduled, 1),
        ] {
            let at = DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            let cursor = cursors.at((at, log, seq));
            assert_eq!(cursor, encode_cursor(licensee, Some((at, log, seq))));
            assert_eq!(
                decode_cursor(licensee, &cursor).unwrap(),
                Some((at, log, seq))
            );
        }
        // A cursor given before scheduled events existed reads as before.
        let old = URL_SAFE_NO_PAD.encode(format!("feed:{licensee}:1764000000123456:42"));
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456)
            .unwrap()
            .naive_utc();
        assert_eq!(
            decode_cursor(licensee, &old).unwrap(),
            Some((at, Log::Content, 42))
        );
    }

    #[test]
    fn each_log_resumes_after_a_position_of_either() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456)
            .unwrap()
            .naive_utc();
        assert_eq!(resume(None), (None, None));
        assert_eq!(
            resume(Some((at, Log::Content, 7))),
            (Some((at, 7)), Some((at, 0)))
        );
        assert_eq!(
            resume(Some((at, Log::Scheduled, 7))),
            (Some((at, i64::MAX)), Some((at, 7)))
        );
    }
}
