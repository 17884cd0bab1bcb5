//! The change feed: every event of content a licensee's licences cover, in
//! one order, resumable from an opaque cursor that never expires and never
//! skips an event. Which events a licensee hears of is decided by
//! `domain::access::hears`.

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
use crate::storage::{self, DbConnection, Pool, articles, facts};

/// Most events one page may hold.
pub const MAX_PAGE: i64 = 1000;
/// Longest a request may wait for an event, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// How often a waiting request looks again.
const POLL: Duration = Duration::from_millis(250);

/// One change a licensee should hear of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedEvent {
    /// Resume after this event by passing it as `cursor`.
    pub cursor: String,
    /// `published`, `updated`, `corrected`, `withheld` or `killed`.
    #[schema(value_type = String, example = "published")]
    pub kind: EventKind,
    /// The article.
    pub article_id: Uuid,
    /// Its version after the change.
    pub version: i32,
    /// When the change became visible to licensees.
    pub at: DateTime<Utc>,
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "events": [
        {"cursor": "ZmVlZDo...MTc", "kind": "published", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 1, "at": "2026-11-28T06:00:00Z"},
        {"cursor": "ZmVlZDo...MjE", "kind": "corrected", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 2, "at": "2026-11-28T07:12:00Z"}
    ],
    "next_cursor": "ZmVlZDo...MjE"
}))]
pub struct FeedPage {
    /// Events in order.
    pub events: Vec<FeedEvent>,
    /// Pass as `cursor` next time (always present; cursors do not expire).
    pub next_cursor: String,
}

/// A position in the feed: after the event at (`visible_at`, `seq`).
type Position = (NaiveDateTime, i64);

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
        let mut cursor = position;
        let mut events = Vec::new();
        for _ in 0..32 {
            let rows = articles::feed(conn, &publishers, cursor, now, chunk)?;
            let exhausted = rows.len() < usize::try_from(chunk).unwrap_or(usize::MAX);
            for row in rows {
                let event = facts::event(&row)?;
                let position = (event.visible_at, row.event.seq);
                cursor = Some(position);
                if access::hears(&entitlement.licences, &event, now) {
                    events.push(FeedEvent {
                        cursor: cursors.at(position),
                        kind: event.kind,
                        article_id: event.article_id.0,
                        version: event.version,
                        at: event.visible_at.and_utc(),
                    });
                    if events.len() == limit {
                        return Ok((events, cursor));
                    }
                }
            }
            if exhausted {
                break;
            }
        }
        Ok((events, cursor))
    })?;
    Ok(FeedPage {
        events,
        next_cursor: encode_cursor(licensee, cursor),
    })
}

/// A licensee's cursor at `position` (the start of the feed for `None`).
fn encode_cursor(licensee: LicenseeId, position: Option<Position>) -> String {
    let (micros, seq) = position.map_or((0, 0), |(at, seq)| (at.and_utc().timestamp_micros(), seq));
    URL_SAFE_NO_PAD.encode(format!("feed:{licensee}:{micros}:{seq}"))
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
        let (at, seq) = position;
        let mut cursor = prefix.clone();
        URL_SAFE_NO_PAD.encode_string(
            format!("{}:{seq}", at.and_utc().timestamp_micros()),
            &mut cursor,
        );
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
    let [tag, owner, micros, seq] = parts.as_slice() else {
        return Err(invalid());
    };
    if *tag != "feed" || *owner != licensee.to_string() {
        return Err(invalid());
    }
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let seq: i64 = seq.parse().map_err(|_| invalid())?;
    if micros == 0 && seq == 0 {
        return Ok(None);
    }
    let at = DateTime::from_timestamp_micros(micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok(Some((at, seq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_writes_the_cursors_one_at_a_time_would() {
        let licensee = LicenseeId(Uuid::now_v7());
        let cursors = Cursors::new(licensee);
        assert!(cursors.encoded_prefix.is_some());
        for (micros, seq) in [
            (1, 1),
            (1_764_000_000_123_456, 42),
            (4_102_444_800_000_000, i64::MAX),
        ] {
            let at = DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            let cursor = cursors.at((at, seq));
            assert_eq!(cursor, encode_cursor(licensee, Some((at, seq))));
            assert_eq!(decode_cursor(licensee, &cursor).unwrap(), Some((at, seq)));
        }
    }
}
