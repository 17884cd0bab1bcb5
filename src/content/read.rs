//! What a desk reads of its own content: one article or photo, or a page of
//! them. Another publisher's content does not exist for the caller (404),
//! so ids cannot be probed across publishers.

use super::ContentError;
use super::ownership::reader_scope;
use crate::domain::{ArticleId, MediaId};
use crate::identity::Caller;
use crate::storage::articles::{self, ArticleFilter, ArticleRow};
use crate::storage::media::{self, MediaRow};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError};

/// The caller's article (any article for an admin).
pub fn find_article(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ArticleId,
) -> Result<ArticleRow, ContentError> {
    match articles::find(conn, reader_scope(caller).as_deref(), &id.to_string()) {
        Err(StorageError::NotFound) => Err(ContentError::NotFound("no such article".to_owned())),
        other => Ok(other?),
    }
}

/// A page of the caller's articles (all for an admin), oldest first.
pub fn list_articles(
    conn: &mut DbConnection,
    caller: &Caller,
    filter: &ArticleFilter,
    page: &PageRequest,
) -> Result<Page<ArticleRow>, ContentError> {
    Ok(articles::list(
        conn,
        reader_scope(caller).as_deref(),
        filter,
        page,
    )?)
}

/// The caller's photo (any photo for an admin).
pub fn find_media(
    conn: &mut DbConnection,
    caller: &Caller,
    id: MediaId,
) -> Result<MediaRow, ContentError> {
    let id = id.to_string();
    let found = match reader_scope(caller) {
        Some(publisher) => media::find(conn, &publisher, &id),
        None => media::find_any(conn, &id),
    };
    found.map_err(no_such_photo)
}

/// A page of the caller's photos (all for an admin), oldest first.
pub fn list_media(
    conn: &mut DbConnection,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<MediaRow>, ContentError> {
    Ok(media::list(conn, reader_scope(caller).as_deref(), page)?)
}

/// A photo that is missing, or not the caller's, is named as such.
pub(crate) fn no_such_photo(error: StorageError) -> ContentError {
    match error {
        StorageError::NotFound => ContentError::NotFound("no such photo".to_owned()),
        other => other.into(),
    }
}
