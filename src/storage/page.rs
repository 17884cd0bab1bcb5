//! Keyset pagination shared by every list: rows ordered by their UUIDv7 id
//! (time order), an opaque cursor holding the last id seen.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Largest page any list returns.
pub const MAX_LIMIT: i64 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: i64 = 50;

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Return rows with ids after this one.
    pub after: Option<String>,
    /// Rows to return, 1..=`MAX_LIMIT`.
    pub limit: i64,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `limit` out of range.
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    /// The cursor is not one this service issued.
    #[error("cursor is not valid; use next_cursor from a previous page")]
    Cursor,
}

impl PageRequest {
    /// Checks a limit and decodes a cursor. `scope` ties a cursor to the list
    /// it came from, so one list's cursor is refused by another.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>, scope: &str) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PageError::Limit);
        }
        let after = cursor.map(|c| decode(c, scope)).transpose()?;
        Ok(Self { after, limit })
    }

    /// Asks the database for one row more than the page, to know whether a
    /// next page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

/// A page of items and the cursor to the next page, if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts the extra row fetched by `fetch_limit` and makes the cursor.
    pub fn from_rows(
        mut rows: Vec<T>,
        request: &PageRequest,
        scope: &str,
        id: impl Fn(&T) -> String,
    ) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode(&id(last), scope))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// Converts the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// Converts the items, keeping the cursor; the first failure fails all.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// The cursor that continues a list of `scope` after the row `id`, for a
/// list that fills its pages itself.
pub fn encode(id: &str, scope: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{scope}:{id}"))
}

fn decode(cursor: &str, scope: &str) -> Result<String, PageError> {
    if cursor.len() > 200 {
        return Err(PageError::Cursor);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| PageError::Cursor)?;
    let text = String::from_utf8(bytes).map_err(|_| PageError::Cursor)?;
    let (cursor_scope, id) = text.split_once(':').ok_or(PageError::Cursor)?;
    let id = uuid::Uuid::parse_str(id).map_err(|_| PageError::Cursor)?;
    if cursor_scope != scope {
        return Err(PageError::Cursor);
    }
    Ok(id.hyphenated().to_string())
}

/// Declares a page-of-items response type for the OpenAPI document, made
/// from a [`Page`]: every list's answer has this shape.
#[macro_export]
macro_rules! page_response {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            /// The items, oldest first.
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }

        impl From<$crate::storage::page::Page<$item>> for $name {
            fn from(page: $crate::storage::page::Page<$item>) -> Self {
                Self { items: page.items, next_cursor: page.next_cursor }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        for limit in [0, -1, 101, 1_000_000_000] {
            assert_eq!(
                PageRequest::parse(Some(limit), None, "x"),
                Err(PageError::Limit)
            );
        }
        assert_eq!(
            PageRequest::parse(None, None, "x").unwrap().limit,
            DEFAULT_LIMIT
        );
    }

    #[test]
    fn cursors_round_trip_only_within_their_list() {
        let request = PageRequest::parse(Some(1), None, "publishers").unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let page = Page::from_rows(
            vec![id.clone(), "later".to_owned()],
            &request,
            "publishers",
            Clone::clone,
        );
        let cursor = page.next_cursor.unwrap();

        assert_eq!(
            PageRequest::parse(None, Some(&cursor), "publishers")
                .unwrap()
                .after,
            Some(id)
        );
        assert_eq!(
            PageRequest::parse(None, Some(&cursor), "licensees"),
            Err(PageError::Cursor)
        );
        for garbage in ["", "!!!", "bm90LWEtY3Vyc29y", &"A".repeat(500)] {
            assert_eq!(
                PageRequest::parse(None, Some(garbage), "publishers"),
                Err(PageError::Cursor),
                "{garbage}"
            );
        }
    }
}
