//! Articles, their versions, and the content-event log the change feed
//! reads.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::{article_versions, articles, content_events};
use super::{DbConnection, StorageError};

/// A stored article (its current version).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: String,
    pub publisher_id: String,
    pub external_ref: String,
    pub version: i32,
    pub status: String,
    pub headline: String,
    pub standfirst: Option<String>,
    pub body_html: String,
    pub body_text: String,
    pub word_count: i32,
    pub section: String,
    pub tags: String,
    pub language: String,
    pub bylines: String,
    pub located: Option<String>,
    pub canonical_url: Option<String>,
    pub embargo_until: Option<NaiveDateTime>,
    pub agency_credits: String,
    pub media: String,
    pub related: String,
    pub content_hash: String,
    pub status_reason: Option<String>,
    pub redistribution: String,
    pub first_published_at: Option<NaiveDateTime>,
    pub killed_at: Option<NaiveDateTime>,
    pub version_created_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[cfg(test)]
impl ArticleRow {
    /// A published article with `body` as its HTML and text, for unit tests.
    pub fn sample(id: &str, body: &str) -> Self {
        let at = NaiveDateTime::default();
        let text = |s: &str| s.to_owned();
        Self {
            id: text(id),
            publisher_id: uuid::Uuid::nil().to_string(),
            external_ref: text(id),
            version: 1,
            status: text("published"),
            headline: text("A headline"),
            standfirst: None,
            body_html: text(body),
            body_text: text(body),
            word_count: 1,
            section: text("news"),
            tags: text("[]"),
            language: text("en"),
            bylines: text("[]"),
            located: None,
            canonical_url: None,
            embargo_until: None,
            agency_credits: text("[]"),
            media: text("[]"),
            related: text("[]"),
            content_hash: text(""),
            status_reason: None,
            redistribution: text("allowed"),
            first_published_at: Some(at),
            killed_at: None,
            version_created_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}

/// One version of an article.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = article_versions)]
pub struct VersionRow {
    pub article_id: String,
    pub version: i32,
    pub change_kind: String,
    pub change_note: Option<String>,
    pub status: String,
    pub snapshot: String,
    pub created_at: NaiveDateTime,
}

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

/// Filters of the publisher's article list.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this section.
    pub section: Option<String>,
    /// Only articles changed at or after this instant.
    pub updated_since: Option<NaiveDateTime>,
}

/// Scope of article list cursors.
pub const ARTICLES: &str = "articles";

/// Key of the transaction-level advisory lock that orders event commits on
/// PostgreSQL, so sequence numbers become visible in commit order and a
/// reader that has seen `seq` n never later finds a smaller one appear.
const EVENT_LOCK_KEY: i64 = 0x5359_4e44_4556_4e54; // "SYNDEVNT"

/// Inserts a new article.
pub fn insert(conn: &mut DbConnection, row: &ArticleRow) -> Result<(), StorageError> {
    diesel::insert_into(articles::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One article; with a publisher, only if it is that publisher's.
pub fn find(
    conn: &mut DbConnection,
    publisher_id: Option<&str>,
    id: &str,
) -> Result<ArticleRow, StorageError> {
    let mut query = articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .into_boxed();
    if let Some(publisher_id) = publisher_id {
        query = query.filter(articles::publisher_id.eq(publisher_id.to_owned()));
    }
    Ok(query.first(conn)?)
}

/// The publisher's article with this external reference, if any.
pub fn find_by_external_ref(
    conn: &mut DbConnection,
    publisher_id: &str,
    external_ref: &str,
) -> Result<Option<ArticleRow>, StorageError> {
    Ok(articles::table
        .filter(articles::publisher_id.eq(publisher_id))
        .filter(articles::external_ref.eq(external_ref))
        .select(ArticleRow::as_select())
        .first(conn)
        .optional()?)
}

/// The articles among `ids` that belong to the publisher.
pub fn owned_ids(
    conn: &mut DbConnection,
    publisher_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(articles::table
        .filter(articles::publisher_id.eq(publisher_id))
        .filter(articles::id.eq_any(ids))
        .select(articles::id)
        .load(conn)?)
}

/// A page of articles, optionally of one publisher, filtered.
pub fn list(
    conn: &mut DbConnection,
    publisher_id: Option<&str>,
    filter: &ArticleFilter,
    page: &PageRequest,
) -> Result<Page<ArticleRow>, StorageError> {
    let mut query = articles::table
        .select(ArticleRow::as_select())
        .order(articles::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(publisher_id) = publisher_id {
        query = query.filter(articles::publisher_id.eq(publisher_id.to_owned()));
    }
    if let Some(status) = &filter.status {
        query = query.filter(articles::status.eq(status.clone()));
    }
    if let Some(section) = &filter.section {
        query = query.filter(articles::section.eq(section.clone()));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(articles::updated_at.ge(since));
    }
    if let Some(after) = &page.after {
        query = query.filter(articles::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, ARTICLES, |r| r.id.clone()))
}

/// Writes `row` as the next version if the stored version is still
/// `expected`; `Ok(false)` when someone else changed it first.
pub fn replace_if_version(
    conn: &mut DbConnection,
    row: &ArticleRow,
    expected: i32,
) -> Result<bool, StorageError> {
    let updated = diesel::update(
        articles::table
            .find(&row.id)
            .filter(articles::version.eq(expected)),
    )
    .set((
        articles::version.eq(row.version),
        articles::status.eq(&row.status),
        articles::headline.eq(&row.headline),
        articles::standfirst.eq(&row.standfirst),
        articles::body_html.eq(&row.body_html),
        articles::body_text.eq(&row.body_text),
        articles::word_count.eq(row.word_count),
        articles::section.eq(&row.section),
        articles::tags.eq(&row.tags),
        articles::language.eq(&row.language),
        articles::bylines.eq(&row.bylines),
        articles::located.eq(&row.located),
        articles::canonical_url.eq(&row.canonical_url),
        articles::embargo_until.eq(&row.embargo_until),
        articles::agency_credits.eq(&row.agency_credits),
        articles::media.eq(&row.media),
        articles::related.eq(&row.related),
        articles::content_hash.eq(&row.content_hash),
        articles::status_reason.eq(&row.status_reason),
        articles::redistribution.eq(&row.redistribution),
        articles::first_published_at.eq(&row.first_published_at),
        articles::killed_at.eq(&row.killed_at),
        articles::version_created_at.eq(&row.version_created_at),
        articles::updated_at.eq(&row.updated_at),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Records a version.
pub fn insert_version(conn: &mut DbConnection, row: &VersionRow) -> Result<(), StorageError> {
    diesel::insert_into(article_versions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Versions after `after_version`, oldest first, at most `limit`.
pub fn list_versions(
    conn: &mut DbConnection,
    article_id: &str,
    after_version: i32,
    limit: i64,
) -> Result<Vec<VersionRow>, StorageError> {
    Ok(article_versions::table
        .filter(article_versions::article_id.eq(article_id))
        .filter(article_versions::version.gt(after_version))
        .order(article_versions::version.asc())
        .limit(limit)
        .select(VersionRow::as_select())
        .load(conn)?)
}

/// One version.
pub fn find_version(
    conn: &mut DbConnection,
    article_id: &str,
    version: i32,
) -> Result<VersionRow, StorageError> {
    Ok(article_versions::table
        .find((article_id, version))
        .select(VersionRow::as_select())
        .first(conn)?)
}

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

/// Every event of an article, in sequence order.
pub fn events_of(conn: &mut DbConnection, article_id: &str) -> Result<Vec<EventRow>, StorageError> {
    Ok(content_events::table
        .filter(content_events::article_id.eq(article_id))
        .order(content_events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?)
}

/// What a licensee's content search asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    /// Words that must all occur in headline, standfirst or body.
    pub words: Vec<String>,
    /// Only these publishers (the licensee's licensed ones).
    pub publishers: Vec<String>,
    /// Only this publisher.
    pub publisher_id: Option<String>,
    /// Only this section.
    pub section: Option<String>,
    /// Only this language.
    pub language: Option<String>,
    /// First published at or after.
    pub published_since: Option<NaiveDateTime>,
    /// First published before.
    pub published_until: Option<NaiveDateTime>,
}

/// Published, past-embargo, syndicable articles of the given publishers,
/// in id order after `after`, at most `limit`. The caller applies the access
/// decision to each row (sections, licence validity).
pub fn search(
    conn: &mut DbConnection,
    filter: &SearchFilter,
    now: NaiveDateTime,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ArticleRow>, StorageError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    if filter.publishers.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = articles::table
        .select(ArticleRow::as_select())
        .filter(articles::publisher_id.eq_any(filter.publishers.clone()))
        .filter(articles::status.eq("published"))
        .filter(articles::redistribution.ne("prohibited"))
        .filter(
            articles::embargo_until
                .is_null()
                .or(articles::embargo_until.le(now)),
        )
        .order(articles::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(articles::id.gt(after.to_owned()));
    }
    if let Some(publisher) = &filter.publisher_id {
        query = query.filter(articles::publisher_id.eq(publisher.clone()));
    }
    if let Some(section) = &filter.section {
        query = query.filter(articles::section.eq(section.clone()));
    }
    if let Some(language) = &filter.language {
        query = query.filter(articles::language.eq(language.clone()));
    }
    if let Some(since) = filter.published_since {
        query = query.filter(articles::first_published_at.ge(since));
    }
    if let Some(until) = filter.published_until {
        query = query.filter(articles::first_published_at.lt(until));
    }
    if !filter.words.is_empty() {
        // Each word is quoted (FTS5) or passed as plain text (PostgreSQL), so
        // no query syntax from the caller ever reaches the engine.
        let matches = match conn {
            DbConnection::Sqlite(_) => {
                let phrase = filter
                    .words
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "")))
                    .collect::<Vec<_>>()
                    .join(" ");
                sql::<Bool>(
                    "articles.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ",
                )
                .bind::<Text, _>(phrase)
                .sql(")")
            }
            DbConnection::Postgresql(_) => {
                sql::<Bool>("articles.search @@ plainto_tsquery('simple', ")
                    .bind::<Text, _>(filter.words.join(" "))
                    .sql(")")
            }
        };
        query = query.filter(matches);
    }
    Ok(query.load(conn)?)
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
    super::in_transaction(conn, |conn| {
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
        DbConnection::Sqlite(_) => Ok(super::now()),
    }
}
