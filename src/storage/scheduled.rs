//! The scheduled events of the feed: the end of a photo's rights in a
//! story a licensee received, and the coming end of a licensee's licence.
//! They have no content change to ride on, so they are not content events;
//! each is one row per licensee that hears of it, appended in the
//! transaction that takes the end, with a time taken under the content
//! events' lock, and read by that licensee's feed beside its content events.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::parse_field;
use super::schema::scheduled_feed_events;
use super::{DbConnection, StorageError, articles};

/// The table, as a corrupt row names it.
const TABLE: &str = "scheduled_feed_events";

/// `kind` of a photo's rights ending in a story the licensee received.
pub const RIGHTS_ENDED: &str = "rights_ended";
/// `kind` of a licence about to end.
pub const LICENCE_ENDING: &str = "licence_ending";

/// A scheduled event to append for one licensee; its time is taken when
/// it is appended.
#[derive(Debug, Clone)]
pub struct NewScheduledRow {
    pub licensee_id: String,
    pub kind: &'static str,
    pub article_id: Option<String>,
    pub version: Option<i32>,
    pub media_id: Option<String>,
    pub licence_id: Option<String>,
    pub ends_at: NaiveDateTime,
    pub event_id: String,
}

/// A stored scheduled event.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = scheduled_feed_events)]
pub struct ScheduledRow {
    pub seq: i64,
    pub licensee_id: String,
    pub kind: String,
    pub article_id: Option<String>,
    pub version: Option<i32>,
    pub media_id: Option<String>,
    pub licence_id: Option<String>,
    pub ends_at: NaiveDateTime,
    pub event_id: String,
    pub visible_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl ScheduledRow {
    /// An optional id column read as its type; the row is named by its
    /// sequence number.
    pub fn id_of<T: std::str::FromStr>(
        &self,
        column: &str,
        value: Option<&str>,
    ) -> Result<Option<T>, StorageError>
    where
        T::Err: std::fmt::Display,
    {
        value
            .map(|v| parse_field(TABLE, &self.seq.to_string(), column, v))
            .transpose()
    }
}

/// Appends one licensee's scheduled event. Call inside the transaction
/// that takes the end, after its first write.
pub fn append(conn: &mut DbConnection, row: &NewScheduledRow) -> Result<(), StorageError> {
    let at = articles::locked_event_time(conn)?;
    diesel::insert_into(scheduled_feed_events::table)
        .values((
            scheduled_feed_events::licensee_id.eq(&row.licensee_id),
            scheduled_feed_events::kind.eq(row.kind),
            scheduled_feed_events::article_id.eq(&row.article_id),
            scheduled_feed_events::version.eq(row.version),
            scheduled_feed_events::media_id.eq(&row.media_id),
            scheduled_feed_events::licence_id.eq(&row.licence_id),
            scheduled_feed_events::ends_at.eq(row.ends_at),
            scheduled_feed_events::event_id.eq(&row.event_id),
            scheduled_feed_events::visible_at.eq(at),
            scheduled_feed_events::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A licensee's scheduled events visible before `now` (strictly: one
/// appended later may carry `now` itself), after the position
/// (`visible_at`, `seq`) — `seq` 0 for every event at `visible_at` — in
/// that order, at most `limit`.
pub fn feed(
    conn: &mut DbConnection,
    licensee_id: &str,
    after: Option<(NaiveDateTime, i64)>,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<ScheduledRow>, StorageError> {
    use scheduled_feed_events::dsl as s;
    let mut query = s::scheduled_feed_events
        .filter(s::licensee_id.eq(licensee_id.to_owned()))
        .filter(s::visible_at.lt(now))
        .order((s::visible_at.asc(), s::seq.asc()))
        .limit(limit)
        .select(ScheduledRow::as_select())
        .into_boxed();
    if let Some((at, seq)) = after {
        query = query
            .filter(s::visible_at.ge(at))
            .filter(s::visible_at.gt(at).or(s::seq.gt(seq)));
    }
    Ok(query.load(conn)?)
}
