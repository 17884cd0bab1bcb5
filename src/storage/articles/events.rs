//! The content-event log: one event per change of an article, appended in
//! the change's transaction, in commit order, and read by the change feed
//! with what it needs to know of each event's article. Rows are read as
//! their types here, named by their sequence number.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::domain::content::{ArticleStatus, EventKind, Redistribution};
use crate::domain::{ArticleId, PublisherId};
use crate::storage::error::parse_field;
use crate::storage::schema::content_events;
use crate::storage::{DbConnection, StorageError};

/// The tables, as a corrupt row names them.
const EVENTS_TABLE: &str = "content_events";
const ARTICLES_TABLE: &str = "articles";

/// A content event to append; its time is taken when it is appended.
#[derive(Debug, Clone)]
pub struct NewEventRow {
    pub article_id: String,
    pub publisher_id: String,
    pub version: i32,
    pub kind: String,
    pub status: String,
    pub section: String,
    /// Licensees may not see it before this instant (an embargo).
    pub not_before: Option<NaiveDateTime>,
}

/// A stored content event.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = content_events)]
pub struct EventRow {
    pub seq: i64,
    pub article_id: String,
    pub publisher_id: String,
    pub version: i32,
    pub kind: String,
    pub status: String,
    pub section: String,
    pub visible_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Key of the transaction-level advisory lock that orders event commits on
/// PostgreSQL, so sequence numbers become visible in commit order and a
/// reader that has seen `seq` n never later finds a smaller one appear.
pub(crate) const EVENT_LOCK_KEY: i64 = 0x5359_4e44_4556_4e54; // "SYNDEVNT"

/// Appends an event. Call inside the transaction that makes the change,
/// after its first write (so that on SQLite the write lock is held). The
/// event's time is taken under the lock and never runs backwards, so the
/// order (`visible_at`, `seq`) of immediate events is their commit order.
pub fn append_event(conn: &mut DbConnection, event: &NewEventRow) -> Result<(), StorageError> {
    if let DbConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({EVENT_LOCK_KEY})"))?;
    }
    let last: Option<NaiveDateTime> = content_events::table
        .order(content_events::seq.desc())
        .select(content_events::created_at)
        .first(conn)
        .optional()?;
    let clock = event_clock(conn)?;
    let at = last.map_or(clock, |last| last.max(clock));
    let visible_at = event.not_before.map_or(at, |not_before| not_before.max(at));
    diesel::insert_into(content_events::table)
        .values((
            content_events::article_id.eq(&event.article_id),
            content_events::publisher_id.eq(&event.publisher_id),
            content_events::version.eq(event.version),
            content_events::kind.eq(&event.kind),
            content_events::status.eq(&event.status),
            content_events::section.eq(&event.section),
            content_events::visible_at.eq(visible_at),
            content_events::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The time of an event appended beside the content events (a scheduled
/// event of the feed): taken under the same lock as [`append_event`]
/// takes its time (on SQLite, call after the transaction's first write),
/// so a feed reader never finds it appear before a position it has passed.
pub fn locked_event_time(conn: &mut DbConnection) -> Result<NaiveDateTime, StorageError> {
    if let DbConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({EVENT_LOCK_KEY})"))?;
    }
    event_clock(conn)
}

/// Every event of an article, in sequence order.
pub fn events_of(conn: &mut DbConnection, article_id: &str) -> Result<Vec<EventRow>, StorageError> {
    Ok(content_events::table
        .filter(content_events::article_id.eq(article_id))
        .order(content_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

/// The columns of a content event the feed reads.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = content_events)]
pub struct FeedEventRow {
    pub seq: i64,
    pub article_id: String,
    pub publisher_id: String,
    pub version: i32,
    pub kind: String,
    pub status: String,
    pub section: String,
    pub visible_at: NaiveDateTime,
}

/// The columns that are not plain text, read as their types; the row is
/// named by its sequence number.
impl FeedEventRow {
    /// What the event records.
    pub fn kind(&self) -> Result<EventKind, StorageError> {
        parse_field(EVENTS_TABLE, &self.seq.to_string(), "kind", &self.kind)
    }

    /// The article it is about.
    pub fn article_id(&self) -> Result<ArticleId, StorageError> {
        parse_field(
            EVENTS_TABLE,
            &self.seq.to_string(),
            "article_id",
            &self.article_id,
        )
    }

    /// The article's publisher.
    pub fn publisher_id(&self) -> Result<PublisherId, StorageError> {
        let seq = self.seq.to_string();
        parse_field(EVENTS_TABLE, &seq, "publisher_id", &self.publisher_id)
    }

    /// The article's status after the change.
    pub fn status(&self) -> Result<ArticleStatus, StorageError> {
        parse_field(EVENTS_TABLE, &self.seq.to_string(), "status", &self.status)
    }
}

/// A content event with what the feed needs to know of its article (read
/// from the `articles_feed` index, not the article's row).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct FeedRow {
    pub event: FeedEventRow,
    pub redistribution: String,
    /// For a `killed` event only (else `None`).
    pub first_published_at: Option<NaiveDateTime>,
    /// For a `killed` event only (else `None`).
    pub killed_at: Option<NaiveDateTime>,
}

impl FeedRow {
    /// The article's redistribution term (read from the article's row).
    pub fn redistribution(&self) -> Result<Redistribution, StorageError> {
        let article = &self.event.article_id;
        parse_field(
            ARTICLES_TABLE,
            article,
            "redistribution",
            &self.redistribution,
        )
    }
}

/// Events of the given publishers visible by `now`, after the position
/// (`visible_at`, `seq`), in that order, at most `limit`.
pub fn feed(
    conn: &mut DbConnection,
    publishers: &[String],
    after: Option<(NaiveDateTime, i64)>,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<FeedRow>, StorageError> {
    if publishers.is_empty() {
        return Ok(Vec::new());
    }
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Text, Timestamp};
    // The article's three columns come from the `articles_feed` index, not
    // from its row (whose body spills over several pages). SQLite's planner
    // prefers the primary key for `id = ?` without statistics, so it is told.
    let index = match conn {
        DbConnection::Sqlite(_) => " INDEXED BY articles_feed",
        DbConnection::Postgresql(_) => "",
    };
    let of_article = |column: &str| {
        format!(
            "(SELECT a.{column} FROM articles AS a{index} WHERE a.id = content_events.article_id)"
        )
    };
    // Only a kill is decided on when the article was first published and
    // killed; other events leave both out.
    let if_killed = |column: &str| {
        format!(
            "(CASE WHEN content_events.kind = 'killed' THEN {} END)",
            of_article(column)
        )
    };
    let mut query = content_events::table
        .select((
            FeedEventRow::as_select(),
            sql::<Text>(&of_article("redistribution")),
            sql::<Nullable<Timestamp>>(&if_killed("first_published_at")),
            sql::<Nullable<Timestamp>>(&if_killed("killed_at")),
        ))
        .filter(content_events::publisher_id.eq_any(publishers.to_vec()))
        .filter(content_events::visible_at.le(now))
        .filter(content_events::kind.ne("created"))
        .order((content_events::visible_at.asc(), content_events::seq.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, seq)) = after {
        // `visible_at >= at` on its own, so that the planner walks the
        // (visible_at, seq) index from the cursor on; written only as
        // `visible_at > at OR (visible_at = at AND seq > seq)` SQLite may
        // serve the OR from the primary key and sort the whole rest.
        query = query.filter(content_events::visible_at.ge(at)).filter(
            content_events::visible_at
                .gt(at)
                .or(content_events::seq.gt(seq)),
        );
    }
    let rows: Vec<(
        FeedEventRow,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    )> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(event, redistribution, first_published_at, killed_at)| FeedRow {
                event,
                redistribution,
                first_published_at,
                killed_at,
            },
        )
        .collect())
}

/// Runs a feed read so that no event can later commit with a position
/// before the read's `now`: writers append under a lock (PostgreSQL: an
/// advisory lock, which the read takes shared; SQLite: the write lock, which
/// the read takes with `BEGIN IMMEDIATE`) and take their event time while
/// holding it. `now` is the database's clock on PostgreSQL.
pub fn consistent_read<T>(
    conn: &mut DbConnection,
    read: impl FnOnce(&mut DbConnection, NaiveDateTime) -> Result<T, StorageError>,
) -> Result<T, StorageError> {
    crate::storage::in_transaction(conn, |conn| {
        if let DbConnection::Postgresql(pg) = conn {
            pg.batch_execute(&format!(
                "SELECT pg_advisory_xact_lock_shared({EVENT_LOCK_KEY})"
            ))?;
        }
        let now = event_clock(conn)?;
        read(conn, now)
    })
}

/// The clock events are stamped with: PostgreSQL's (shared by every node),
/// or this process's on SQLite (one node).
fn event_clock(conn: &mut DbConnection) -> Result<NaiveDateTime, StorageError> {
    #[derive(QueryableByName)]
    struct Clock {
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        now: NaiveDateTime,
    }
    match conn {
        DbConnection::Postgresql(_) => {
            let clock: Clock = diesel::sql_query(
                "SELECT CAST(clock_timestamp() AT TIME ZONE 'UTC' AS TIMESTAMP) AS now",
            )
            .get_result(conn)?;
            Ok(clock.now)
        }
        DbConnection::Sqlite(_) => Ok(crate::storage::now()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "019ac0a6-1111-7222-8333-444455556666";

    fn feed_row(kind: &str, redistribution: &str) -> FeedRow {
        FeedRow {
            event: FeedEventRow {
                seq: 7,
                article_id: ARTICLE.to_owned(),
                publisher_id: uuid::Uuid::nil().to_string(),
                version: 2,
                kind: kind.to_owned(),
                status: "published".to_owned(),
                section: "news".to_owned(),
                visible_at: NaiveDateTime::default(),
            },
            redistribution: redistribution.to_owned(),
            first_published_at: None,
            killed_at: None,
        }
    }

    #[test]
    fn an_event_whose_values_do_not_convert_is_corrupt_naming_its_sequence_number() {
        let row = feed_row("published", "allowed");
        assert_eq!(row.event.kind().unwrap(), EventKind::Published);
        assert_eq!(row.redistribution().unwrap(), Redistribution::Allowed);

        for (error, table, id, field) in [
            (
                feed_row("moved", "allowed").event.kind().map(drop),
                EVENTS_TABLE,
                "7",
                "kind \"moved\"",
            ),
            // The article's column is named as the article's.
            (
                feed_row("published", "maybe").redistribution().map(drop),
                ARTICLES_TABLE,
                ARTICLE,
                "redistribution \"maybe\"",
            ),
        ] {
            let Err(StorageError::Corrupt {
                table: t,
                id: i,
                detail,
            }) = error
            else {
                panic!("{field}: not Corrupt: {error:?}");
            };
            assert_eq!((t, i.as_str()), (table, id));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
