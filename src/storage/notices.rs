//! Takedown notices: the notice each licensee that received a killed
//! article, or a story while it showed a photo whose rights then ended,
//! gets (its receivers come from `storage::receipts`) and its
//! acknowledgement, the ends of photo rights taken in each story, and the
//! fetches of killed articles that were refused with 410. Notices for deliveries that reach the ledger after
//! their takedown are made in the shipping transaction, by
//! `storage::late_notices`.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::page::{Page, PageRequest};
use super::schema::{killed_fetches, rights_ended_stories, takedown_notices};
use super::{DbConnection, StorageError};

/// `kind` (and webhook event type) of a kill's notice.
pub const KILLED: &str = "article.killed";
/// `kind` (and webhook event type) of the notice of a photo's rights
/// ending in a story.
pub const RIGHTS_ENDED: &str = "media.rights_ended";
/// The `reason` of a notice of a photo's rights ending.
pub const RIGHTS_ENDED_REASON: &str = "the photo's rights ended";

/// The list scope of notice cursors.
pub const NOTICE_LIST: &str = "notices";

pub use super::receipts::Receiver;

/// Key of the transaction-level advisory lock that orders taking a story's
/// receivers from the ledger (a kill, an end of rights) against shipping
/// deliveries of it (`late_notices`) on PostgreSQL. Without it the
/// two can pass each other: the kill reads the ledger before a shipment of
/// the story commits, the shipment reads the article before the kill
/// commits, and a licensee that received the story is never told. SQLite
/// has one writer at a time, which orders them already.
const TAKEDOWN_LOCK_KEY: i64 = 0x5359_4e44_4b49_4c4c; // "SYNDKILL"

/// What a transaction takes the takedown lock for (see [`lock_takedowns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakedownLock {
    /// To read a story's receivers for its notices (a kill, an end of a
    /// photo's rights): exclusively.
    Takedown,
    /// To ship deliveries: shared (ships do not wait on each other, only
    /// on a takedown, and a takedown on them).
    Ship,
    /// To ship deliveries whose late notices append feed events, which
    /// takes the content events' lock: shared, as [`Self::Ship`].
    ShipAndAppend,
}

/// Takes the takedown lock until the transaction ends. A takedown takes
/// the content events' lock first, as every content change does before it,
/// and so does a shipment that will append feed events: the two locks are
/// always taken in the same order (a shipment that took the takedown lock
/// alone must not wait for the events' lock, which a takedown waiting for
/// the shipment may hold). Call inside the transaction, before the read it
/// orders.
pub fn lock_takedowns(conn: &mut DbConnection, purpose: TakedownLock) -> Result<(), StorageError> {
    if let DbConnection::Postgresql(pg) = conn {
        let events = super::articles::EVENT_LOCK_KEY;
        let statement = match purpose {
            TakedownLock::Takedown => format!(
                "SELECT pg_advisory_xact_lock({events}); SELECT pg_advisory_xact_lock({TAKEDOWN_LOCK_KEY})"
            ),
            TakedownLock::Ship => {
                format!("SELECT pg_advisory_xact_lock_shared({TAKEDOWN_LOCK_KEY})")
            }
            TakedownLock::ShipAndAppend => format!(
                "SELECT pg_advisory_xact_lock({events}); SELECT pg_advisory_xact_lock_shared({TAKEDOWN_LOCK_KEY})"
            ),
        };
        pg.batch_execute(&statement)?;
    }
    Ok(())
}

/// A stored takedown notice.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = takedown_notices)]
pub struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub article_id: String,
    pub media_id: Option<String>,
    pub publisher_id: String,
    pub licensee_id: String,
    pub event_id: String,
    pub reason: Option<String>,
    pub killed_at: NaiveDateTime,
    pub deliveries: i64,
    pub last_delivered_at: NaiveDateTime,
    pub deadline_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub removed_at: Option<NaiveDateTime>,
    pub note: Option<String>,
}

/// What a takedown notice is about, whoever received it: its kind, the
/// story (and the photo, for an end of rights), its publisher, the event
/// that announced it, why, and the instant it was taken down.
#[derive(Debug, Clone, Copy)]
pub struct Takedown<'a> {
    pub kind: &'a str,
    pub article_id: &'a str,
    pub media_id: Option<&'a str>,
    pub publisher_id: &'a str,
    pub event_id: &'a str,
    pub reason: Option<&'a str>,
    pub at: NaiveDateTime,
}

impl NoticeRow {
    /// A new notice of `takedown` for one receiver, made at `created_at`,
    /// due the receiver's licence's takedown hours after the takedown.
    pub fn for_receiver(
        takedown: &Takedown<'_>,
        receiver: Receiver,
        created_at: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            kind: takedown.kind.to_owned(),
            article_id: takedown.article_id.to_owned(),
            media_id: takedown.media_id.map(str::to_owned),
            publisher_id: takedown.publisher_id.to_owned(),
            licensee_id: receiver.licensee_id,
            event_id: takedown.event_id.to_owned(),
            reason: takedown.reason.map(str::to_owned),
            killed_at: takedown.at,
            deliveries: receiver.deliveries,
            last_delivered_at: receiver.last_delivered_at,
            deadline_at: takedown.at
                + chrono::Duration::hours(i64::from(receiver.takedown_hours.max(0))),
            created_at,
            acknowledged_at: None,
            removed_at: None,
            note: None,
        }
    }
}

/// Inserts a notice.
pub fn insert_notice(conn: &mut DbConnection, row: &NoticeRow) -> Result<(), StorageError> {
    diesel::insert_into(takedown_notices::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// Inserts a notice unless the licensee has one for the same takedown (the
/// unique key: kind, article, photo, instant, licensee); whether it was
/// inserted. On PostgreSQL an insert of the same notice by a transaction
/// not yet committed is waited for, so of two nodes shipping at once one
/// makes the notice and the other sees it made.
pub fn insert_notice_once(conn: &mut DbConnection, row: &NoticeRow) -> Result<bool, StorageError> {
    let insert = diesel::insert_into(takedown_notices::table)
        .values(row.clone())
        .on_conflict_do_nothing();
    let inserted = match conn {
        DbConnection::Sqlite(c) => insert.execute(c)?,
        DbConnection::Postgresql(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

/// One notice.
pub fn find_notice(conn: &mut DbConnection, id: &str) -> Result<NoticeRow, StorageError> {
    Ok(takedown_notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .get_result(conn)?)
}

/// Whose notices a list shows.
#[derive(Debug, Clone)]
pub enum NoticeScope {
    /// Everyone's.
    All,
    /// One licensee's.
    Licensee(String),
    /// Those about one publisher's articles.
    Publisher(String),
}

/// Which notices by their state at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeState {
    /// Not acknowledged, deadline not passed.
    Open,
    /// Acknowledged.
    Acknowledged,
    /// Not acknowledged, deadline passed.
    Overdue,
}

/// A page of notices, oldest first.
pub fn list_notices(
    conn: &mut DbConnection,
    scope: &NoticeScope,
    state: Option<NoticeState>,
    now: NaiveDateTime,
    page: &PageRequest,
) -> Result<Page<NoticeRow>, StorageError> {
    use takedown_notices::dsl as n;
    let mut query = n::takedown_notices
        .select(NoticeRow::as_select())
        .order(n::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    match scope {
        NoticeScope::All => {}
        NoticeScope::Licensee(id) => query = query.filter(n::licensee_id.eq(id.clone())),
        NoticeScope::Publisher(id) => query = query.filter(n::publisher_id.eq(id.clone())),
    }
    match state {
        None => {}
        Some(NoticeState::Acknowledged) => query = query.filter(n::acknowledged_at.is_not_null()),
        Some(NoticeState::Open) => {
            query = query
                .filter(n::acknowledged_at.is_null())
                .filter(n::deadline_at.gt(now));
        }
        Some(NoticeState::Overdue) => {
            query = query
                .filter(n::acknowledged_at.is_null())
                .filter(n::deadline_at.le(now));
        }
    }
    if let Some(after) = &page.after {
        query = query.filter(n::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, NOTICE_LIST, |r| r.id.clone()))
}

/// Records an acknowledgement unless there is one; whether it was recorded.
pub fn acknowledge(
    conn: &mut DbConnection,
    id: &str,
    removed_at: NaiveDateTime,
    note: Option<&str>,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    use takedown_notices::dsl as n;
    let updated = diesel::update(
        n::takedown_notices
            .find(id)
            .filter(n::acknowledged_at.is_null()),
    )
    .set((
        n::acknowledged_at.eq(Some(at)),
        n::removed_at.eq(Some(removed_at)),
        n::note.eq(note),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Notices of kills and ends of photo rights in [`from`, `to`), of one
/// publisher or all, by event then licensee.
pub fn notices_killed_between(
    conn: &mut DbConnection,
    publisher: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<NoticeRow>, StorageError> {
    use takedown_notices::dsl as n;
    let mut query = n::takedown_notices
        .select(NoticeRow::as_select())
        .filter(n::killed_at.ge(from))
        .filter(n::killed_at.lt(to))
        .order((n::killed_at.asc(), n::event_id.asc(), n::licensee_id.asc()))
        .into_boxed();
    if let Some(publisher) = publisher {
        query = query.filter(n::publisher_id.eq(publisher.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Records a fetch of a killed article, refused with 410.
pub fn record_killed_fetch(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    diesel::insert_into(killed_fetches::table)
        .values((
            killed_fetches::id.eq(uuid::Uuid::now_v7().to_string()),
            killed_fetches::article_id.eq(article_id),
            killed_fetches::licensee_id.eq(licensee_id),
            killed_fetches::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Refused fetches of a killed article by one licensee.
pub fn killed_fetches_of(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
) -> Result<i64, StorageError> {
    Ok(killed_fetches::table
        .filter(killed_fetches::article_id.eq(article_id))
        .filter(killed_fetches::licensee_id.eq(licensee_id))
        .count()
        .get_result(conn)?)
}

/// Photos whose rights ended by `now` and whose end has not been acted on:
/// (photo id, the instant its rights ended). A photo whose syndication is
/// prohibited is left out: its rights ended when it was prohibited.
pub fn due_rights_endings(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime)>, StorageError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Text)]
        id: String,
        #[diesel(sql_type = Timestamp)]
        ends_at: NaiveDateTime,
    }
    let rows: Vec<Due> = diesel::sql_query(
        "SELECT m.id AS id, m.rights_expires_at AS ends_at FROM media m \
         WHERE m.rights_expires_at IS NOT NULL AND m.rights_expires_at <= $1 \
           AND m.syndication <> 'prohibited' \
           AND NOT EXISTS (SELECT 1 FROM rights_endings r \
                WHERE r.media_id = m.id AND r.ends_at = m.rights_expires_at) \
         ORDER BY m.rights_expires_at LIMIT 100",
    )
    .bind::<Timestamp, _>(now)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.ends_at)).collect())
}

/// Marks the end of a photo's rights as acted on; a conflict when another
/// node (or an earlier run) already did.
pub fn mark_rights_ended(
    conn: &mut DbConnection,
    media_id: &str,
    ends_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    use super::schema::rights_endings::dsl as r;
    diesel::insert_into(r::rights_endings)
        .values((
            r::media_id.eq(media_id),
            r::ends_at.eq(ends_at),
            r::fired_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// When the photo's row last changed (`None` if it is gone): an end of its
/// rights takes effect for deliveries then, if that is after the end
/// itself (an expiry set in the past, a prohibition).
pub fn media_changed_at(
    conn: &mut DbConnection,
    media_id: &str,
) -> Result<Option<NaiveDateTime>, StorageError> {
    use super::schema::media;
    Ok(media::table
        .find(media_id)
        .select(media::updated_at)
        .get_result(conn)
        .optional()?)
}

/// One end of a photo's rights in one live story, and the story's
/// `media.rights_ended` event.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = rights_ended_stories)]
pub struct StoryEndRow {
    pub media_id: String,
    pub ends_at: NaiveDateTime,
    pub article_id: String,
    pub event_id: String,
    /// Deliveries decided before this instant carried the photo.
    pub withheld_from: NaiveDateTime,
}

/// Records an end of a photo's rights in a story (in the end's
/// transaction, with its event); a conflict if it was recorded before.
pub fn insert_story_end(conn: &mut DbConnection, row: &StoryEndRow) -> Result<(), StorageError> {
    diesel::insert_into(rights_ended_stories::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// For a `media.rights_ended` event, the instant from which its story's
/// deliveries no longer carried the photo.
pub fn withheld_from(
    conn: &mut DbConnection,
    event_id: &str,
) -> Result<Option<NaiveDateTime>, StorageError> {
    Ok(rights_ended_stories::table
        .filter(rights_ended_stories::event_id.eq(event_id))
        .select(rights_ended_stories::withheld_from)
        .get_result(conn)
        .optional()?)
}

/// Published articles that show the photo (their `media` names it).
pub fn live_articles_with(
    conn: &mut DbConnection,
    media_id: &str,
) -> Result<Vec<super::articles::ArticleRow>, StorageError> {
    use super::articles::ArticleRow;
    use super::schema::articles::dsl as a;
    let rows: Vec<ArticleRow> = a::articles
        .filter(a::status.eq("published"))
        .filter(a::media.like(format!("%{media_id}%")))
        .select(ArticleRow::as_select())
        .load(conn)?;
    // The text match finds candidates; the parsed list decides.
    let mut live = Vec::new();
    for row in rows {
        if row
            .media()?
            .iter()
            .any(|m| m.media_id.to_string() == media_id)
        {
            live.push(row);
        }
    }
    Ok(live)
}

/// A licence that ends by `horizon` whose end has not been announced.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct EndingLicence {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub licensee_id: String,
    #[diesel(sql_type = Text)]
    pub publisher_id: String,
    #[diesel(sql_type = Timestamp)]
    pub valid_until: NaiveDateTime,
}

/// Licences in force at some point (`valid_until` after `valid_from`) that
/// end by `horizon` and whose end has not been announced.
pub fn due_licence_endings(
    conn: &mut DbConnection,
    horizon: NaiveDateTime,
) -> Result<Vec<EndingLicence>, StorageError> {
    Ok(diesel::sql_query(
        "SELECT l.id AS id, l.licensee_id AS licensee_id, l.publisher_id AS publisher_id, \
                l.valid_until AS valid_until FROM licences l \
         WHERE l.valid_until IS NOT NULL AND l.valid_until <= $1 AND l.valid_until > l.valid_from \
           AND NOT EXISTS (SELECT 1 FROM licence_endings e \
                WHERE e.licence_id = l.id AND e.ends_at = l.valid_until) \
         ORDER BY l.valid_until LIMIT 100",
    )
    .bind::<Timestamp, _>(horizon)
    .load(conn)?)
}

/// Marks a licence's end as announced; a conflict when it already was.
pub fn mark_licence_ending(
    conn: &mut DbConnection,
    licence_id: &str,
    ends_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    use super::schema::licence_endings::dsl as e;
    diesel::insert_into(e::licence_endings)
        .values((
            e::licence_id.eq(licence_id),
            e::ends_at.eq(ends_at),
            e::fired_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
