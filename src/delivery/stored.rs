//! An article as a delivery needs it, kept in the fact cache: the row,
//! its prepared parts with its photos, its publisher's name, the access
//! decision's view of it, what a delivery of it depends on, and what was
//! rendered from it.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use super::document::{CorrectionNote, Format};
use super::prepared::{Prepared, Sources};
use crate::domain::access::{ArticleFacts, Grant, PhotoFacts};
use crate::domain::content::MediaRef;
use crate::domain::licence::Attribution;
use crate::storage::articles::ArticleRow;
use crate::storage::changes::Content;
use crate::storage::media::MediaRow;
use crate::storage::{StorageError, facts};

/// An article as a delivery needs it.
#[derive(Debug)]
pub struct StoredArticle {
    /// The article, without its body's HTML and text (they are in
    /// `prepared`, escaped, and empty here).
    pub row: ArticleRow,
    /// Its parts as a delivery writes them, with its photos.
    pub prepared: Prepared,
    /// Its publisher's name (ninjs `copyrightholder`).
    pub publisher_name: String,
    /// The credit a licence that requires attribution delivers with it.
    pub attribution: Attribution,
    /// The access decision's view of it, read once from `row`.
    pub facts: ArticleFacts,
    /// The decision's view of its photos, in the article's order.
    pub photo_facts: Vec<PhotoFacts>,
    /// What a delivery of it depends on: its id, its publisher and the
    /// photos it refers to (found or not), to tell which changes touch it.
    pub content: Arc<Content>,
    /// What was rendered from it, by grant and format.
    rendered: Mutex<Vec<Rendered>>,
}

/// The `ETag` of one delivery of an article, and its body when kept.
#[derive(Debug)]
struct Rendered {
    grant: Grant,
    format: Format,
    body: Option<Bytes>,
    etag: String,
}

impl Rendered {
    /// Bytes it holds: its body, its `ETag` and its grant's photo lists.
    fn weight(&self) -> isize {
        let photos = self.grant.delivered.len() + self.grant.withheld.len();
        let body = self.body.as_ref().map_or(0, Bytes::len);
        isize::try_from(body + self.etag.len() + 32 * photos + 128).unwrap_or(isize::MAX)
    }
}

/// Most renderings kept per article (grants differ by licence).
const MAX_RENDERED: usize = 16;

impl StoredArticle {
    /// An article as read, with its photos (any order; those it names that
    /// do not exist are left out), its publisher's name and its
    /// corrections, oldest first (read with its facts so that no delivery
    /// reads them again).
    pub fn new(
        mut row: ArticleRow,
        photos: &[MediaRow],
        publisher_name: String,
        corrections: &[CorrectionNote],
    ) -> Result<Self, StorageError> {
        let refs = media_refs(&row)?;
        let found: Vec<(&MediaRef, &MediaRow)> = refs
            .iter()
            .filter_map(|r| {
                let id = r.media_id.hyphenated().to_string();
                photos.iter().find(|p| p.id == id).map(|p| (r, p))
            })
            .collect();
        let content = Content {
            article: row.id.clone(),
            publisher: Some(row.publisher_id.clone()),
            photos: refs
                .iter()
                .map(|r| r.media_id.hyphenated().to_string())
                .collect(),
        };
        let (bylines, tags, agency_credits) = (row.bylines()?, row.tags()?, row.agency_credits()?);
        let attribution = Attribution::of(
            &publisher_name,
            &bylines,
            &agency_credits,
            row.canonical_url.as_deref(),
        );
        let prepared = Prepared::new(
            &mut row,
            &Sources {
                photos: &found,
                bylines: &bylines,
                tags: &tags,
                agency_credits: &agency_credits,
                attribution: &attribution,
                corrections,
            },
        )?;
        Ok(Self {
            facts: facts::article(&row)?,
            photo_facts: found
                .iter()
                .map(|(_, p)| facts::photo(p))
                .collect::<Result<_, _>>()?,
            prepared,
            attribution,
            row,
            publisher_name,
            content: Arc::new(content),
            rendered: Mutex::default(),
        })
    }

    /// Estimated bytes it holds before anything is rendered from it (each
    /// rendering is charged when it is kept).
    pub(super) fn weight(&self) -> usize {
        let row = &self.row;
        let text = row.headline.len()
            + row.standfirst.as_ref().map_or(0, String::len)
            + row.media.len()
            + row.bylines.len()
            + row.agency_credits.len()
            + row.tags.len()
            + row.related.len()
            + row.content_hash.len()
            + self.attribution.text.len()
            + 512;
        text + self.prepared.weight() + 64 * self.photo_facts.len()
    }

    /// What was rendered for this grant and format: its `ETag`, and its
    /// body if that was kept.
    pub fn rendered(&self, grant: &Grant, format: Format) -> Option<(Option<Bytes>, String)> {
        self.rendered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|r| r.format == format && &r.grant == grant)
            .map(|r| (r.body.clone(), r.etag.clone()))
    }

    /// Keeps a rendering's `ETag`, and its body if given; returns the bytes
    /// it added (negative when the kept ones were dropped to make room).
    pub fn keep_rendered(
        &self,
        grant: &Grant,
        format: Format,
        body: Option<&Bytes>,
        etag: &str,
    ) -> isize {
        let mut rendered = self.rendered.lock().unwrap_or_else(PoisonError::into_inner);
        let mut added = 0;
        if rendered.len() >= MAX_RENDERED {
            added -= rendered.iter().map(Rendered::weight).sum::<isize>();
            rendered.clear();
        }
        let kept = Rendered {
            grant: grant.clone(),
            format,
            body: body.cloned(),
            etag: etag.to_owned(),
        };
        added += kept.weight();
        rendered.push(kept);
        added
    }
}

/// The photos an article refers to, in its order.
pub(super) fn media_refs(row: &ArticleRow) -> Result<Vec<MediaRef>, StorageError> {
    row.media()
}
