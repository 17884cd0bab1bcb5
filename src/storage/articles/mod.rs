//! Articles: the current version of each, the desk's lists and the
//! licensee's search; and, in `events`, the content-event log the change
//! feed reads (their versions are in `storage::versions`). Rows are read as
//! their types here: a value that does not convert is
//! [`StorageError::Corrupt`] naming the row and the column.

mod events;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub(crate) use self::events::EVENT_LOCK_KEY;
pub use self::events::{
    EventRow, FeedEventRow, FeedRow, NewEventRow, append_event, consistent_read, events_of, feed,
    locked_event_time,
};
use super::error::{parse_field, parse_json};
use super::page::{Page, PageRequest};
use super::schema::articles;
use super::{DbConnection, StorageError};
use crate::domain::content::{AgencyCredit, ArticleStatus, Byline, MediaRef, Redistribution};
use crate::domain::{ArticleId, PublisherId};

/// The table, as a corrupt row names it.
const ARTICLES_TABLE: &str = "articles";

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

/// The columns that are not plain text, read as their types.
impl ArticleRow {
    /// Its id.
    pub fn article_id(&self) -> Result<ArticleId, StorageError> {
        parse_field(ARTICLES_TABLE, &self.id, "id", &self.id)
    }

    /// Its publisher.
    pub fn publisher_id(&self) -> Result<PublisherId, StorageError> {
        parse_field(ARTICLES_TABLE, &self.id, "publisher_id", &self.publisher_id)
    }

    /// Where it is in its life.
    pub fn status(&self) -> Result<ArticleStatus, StorageError> {
        parse_field(ARTICLES_TABLE, &self.id, "status", &self.status)
    }

    /// The strictest redistribution term of its agency credits.
    pub fn redistribution(&self) -> Result<Redistribution, StorageError> {
        parse_field(
            ARTICLES_TABLE,
            &self.id,
            "redistribution",
            &self.redistribution,
        )
    }

    /// Its tags.
    pub fn tags(&self) -> Result<Vec<String>, StorageError> {
        parse_json(ARTICLES_TABLE, &self.id, "tags", &self.tags)
    }

    /// Who wrote it.
    pub fn bylines(&self) -> Result<Vec<Byline>, StorageError> {
        parse_json(ARTICLES_TABLE, &self.id, "bylines", &self.bylines)
    }

    /// Its agency credits.
    pub fn agency_credits(&self) -> Result<Vec<AgencyCredit>, StorageError> {
        parse_json(
            ARTICLES_TABLE,
            &self.id,
            "agency_credits",
            &self.agency_credits,
        )
    }

    /// Its photos, in order.
    pub fn media(&self) -> Result<Vec<MediaRef>, StorageError> {
        parse_json(ARTICLES_TABLE, &self.id, "media", &self.media)
    }

    /// The articles it names as related.
    pub fn related(&self) -> Result<Vec<ArticleId>, StorageError> {
        parse_json(ARTICLES_TABLE, &self.id, "related", &self.related)
    }
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
    Ok(query.get_result(conn)?)
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
        .get_result(conn)
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

/// A published article's section, embargo and photos.
pub type PublishedMedia = (String, Option<NaiveDateTime>, Vec<MediaRef>);

/// The section, embargo and photos of each of a publisher's published
/// articles that has photos: which photos a licensee could receive.
pub fn published_media(
    conn: &mut DbConnection,
    publisher_id: &str,
) -> Result<Vec<PublishedMedia>, StorageError> {
    let rows: Vec<(String, String, Option<NaiveDateTime>, String)> = articles::table
        .filter(articles::publisher_id.eq(publisher_id))
        .filter(articles::status.eq(ArticleStatus::Published.as_str()))
        .filter(articles::media.ne("[]"))
        .select((
            articles::id,
            articles::section,
            articles::embargo_until,
            articles::media,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, section, embargo, media)| {
            Ok((
                section,
                embargo,
                parse_json(ARTICLES_TABLE, &id, "media", &media)?,
            ))
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "019ac0a6-1111-7222-8333-444455556666";

    #[test]
    fn a_stored_article_reads_as_its_types() {
        let row = ArticleRow::sample(ID, "<p>Text</p>");

        assert_eq!(row.article_id().unwrap().to_string(), ID);
        assert_eq!(row.status().unwrap(), ArticleStatus::Published);
        assert_eq!(row.redistribution().unwrap(), Redistribution::Allowed);
        assert!(row.bylines().unwrap().is_empty());
    }

    #[test]
    fn an_article_whose_values_do_not_convert_is_corrupt_naming_the_row_and_field() {
        let sample = || ArticleRow::sample(ID, "<p>Text</p>");
        let bad_id = ArticleRow {
            id: "not-a-uuid".to_owned(),
            ..sample()
        };
        let bad_status = ArticleRow {
            status: "archived".to_owned(),
            ..sample()
        };
        let bad_bylines = ArticleRow {
            bylines: r#"[{"nom": "A"}]"#.to_owned(),
            ..sample()
        };
        let bad_media = ArticleRow {
            media: "not json".to_owned(),
            ..sample()
        };

        for (error, row, field) in [
            (
                bad_id.article_id().map(drop),
                "not-a-uuid",
                "id \"not-a-uuid\"",
            ),
            (bad_status.status().map(drop), ID, "status \"archived\""),
            (bad_bylines.bylines().map(drop), ID, "bylines: "),
            (bad_media.media().map(drop), ID, "media: "),
        ] {
            let Err(StorageError::Corrupt { table, id, detail }) = error else {
                panic!("{field}: not Corrupt: {error:?}");
            };
            assert_eq!((table, id.as_str()), ("articles", row));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
