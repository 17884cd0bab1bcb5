//! An article's parts as every delivery of it writes them, prepared once
//! when its facts are read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::{RawValue, to_raw_value};
use uuid::Uuid;

use super::document::{CorrectionNote, DeliveredPhoto};
use crate::domain::MediaId;
use crate::domain::content::{AgencyCredit, Byline, MediaRef};
use crate::domain::licence::Attribution;
use crate::storage::StorageError;
use crate::storage::articles::ArticleRow;
use crate::storage::media::MediaRow;

/// An article's parts as a delivery writes them, prepared once when its
/// facts are read: the body's HTML and text escaped for JSON (and held
/// nowhere else), each photo as JSON in the article's order, and the runs
/// of members of the JSON document that are the same under every grant. A
/// JSON delivery is written from these per request by copying, so an
/// article's text is kept once however many licences it goes out under.
#[derive(Debug)]
pub struct Prepared {
    pub(super) id: Uuid,
    pub(super) publisher_id: Uuid,
    pub(super) body_html: Box<RawValue>,
    pub(super) body_text: Box<RawValue>,
    /// Every photo of the article that exists, in its order, as JSON.
    pub(super) photos: Vec<(MediaId, Box<RawValue>)>,
    /// `"id":…,"publisher_id":…`
    pub(super) ids: Box<str>,
    /// `"version":…` to `"standfirst":…`
    pub(super) opening: Box<str>,
    /// `"word_count":…` to `"agency_credits":…`
    pub(super) details: Box<str>,
    /// The attribution a licence that requires it delivers, as JSON.
    pub(super) attribution: Box<RawValue>,
    /// The corrections, oldest first, as JSON.
    pub(super) corrections: Box<RawValue>,
}

/// The members of a JSON delivery from `version` to `standfirst`.
#[derive(Serialize)]
struct Opening<'a> {
    version: i32,
    status: &'a str,
    headline: &'a str,
    standfirst: Option<&'a str>,
}

/// The members of a JSON delivery from `word_count` to `agency_credits`.
#[derive(Serialize)]
struct Details<'a> {
    word_count: i32,
    bylines: &'a [Byline],
    located: Option<&'a str>,
    section: &'a str,
    tags: &'a [String],
    language: &'a str,
    version_created_at: DateTime<Utc>,
    first_published_at: Option<DateTime<Utc>>,
    canonical_url: Option<&'a str>,
    agency_credits: &'a [AgencyCredit],
}

/// The members of a JSON delivery from `id` to `publisher_id`.
#[derive(Serialize)]
struct Ids {
    id: Uuid,
    publisher_id: Uuid,
}

/// What an article's prepared parts are written from besides its row.
pub struct Sources<'a> {
    /// Its photos that exist, each with the article's reference to it, in
    /// the article's order.
    pub photos: &'a [(&'a MediaRef, &'a MediaRow)],
    pub bylines: &'a [Byline],
    pub tags: &'a [String],
    pub agency_credits: &'a [AgencyCredit],
    pub attribution: &'a Attribution,
    pub corrections: &'a [CorrectionNote],
}

impl Prepared {
    /// Prepares `row` from `sources`, moving the body's HTML and text out
    /// of the row (they are left empty there).
    pub fn new(row: &mut ArticleRow, sources: &Sources<'_>) -> Result<Self, StorageError> {
        let body_html = std::mem::take(&mut row.body_html);
        let body_text = std::mem::take(&mut row.body_text);
        let row = &*row;
        let corrupt = |error: serde_json::Error| StorageError::Corrupt {
            table: "articles",
            id: row.id.clone(),
            detail: format!("not written as JSON: {error}"),
        };
        let photos = sources
            .photos
            .iter()
            .map(|(r, photo)| {
                let delivered = DeliveredPhoto {
                    id: r.media_id,
                    role: r.role,
                    caption: photo.caption.clone(),
                    credit_line: photo.credit_line.clone(),
                    creator: photo.creator.clone(),
                    copyright_holder: photo.copyright_holder.clone(),
                    copyright_notice: photo.copyright_notice.clone(),
                    licensor: photo.licensor.clone(),
                    usage_terms: photo.usage_terms.clone(),
                    data_mining: photo.data_mining()?,
                    renditions: photo.renditions()?,
                };
                Ok((
                    MediaId(r.media_id),
                    to_raw_value(&delivered).map_err(corrupt)?,
                ))
            })
            .collect::<Result<_, StorageError>>()?;
        let (id, publisher_id) = (row.article_id()?.0, row.publisher_id()?.0);
        let opening = Opening {
            version: row.version,
            status: &row.status,
            headline: &row.headline,
            standfirst: row.standfirst.as_deref(),
        };
        let details = Details {
            word_count: row.word_count,
            bylines: sources.bylines,
            located: row.located.as_deref(),
            section: &row.section,
            tags: sources.tags,
            language: &row.language,
            version_created_at: row.version_created_at.and_utc(),
            first_published_at: row.first_published_at.map(|at| at.and_utc()),
            canonical_url: row.canonical_url.as_deref(),
            agency_credits: sources.agency_credits,
        };
        Ok(Self {
            id,
            publisher_id,
            body_html: to_raw_value(&body_html).map_err(corrupt)?,
            body_text: to_raw_value(&body_text).map_err(corrupt)?,
            photos,
            ids: members(&Ids { id, publisher_id }).map_err(corrupt)?,
            opening: members(&opening).map_err(corrupt)?,
            details: members(&details).map_err(corrupt)?,
            attribution: to_raw_value(sources.attribution).map_err(corrupt)?,
            corrections: to_raw_value(sources.corrections).map_err(corrupt)?,
        })
    }

    /// Bytes it holds, about.
    pub fn weight(&self) -> usize {
        let photos: usize = self.photos.iter().map(|(_, p)| p.get().len() + 48).sum();
        self.body_html.get().len()
            + self.body_text.get().len()
            + photos
            + self.ids.len()
            + self.opening.len()
            + self.details.len()
            + self.attribution.get().len()
            + self.corrections.get().len()
            + 160
    }

    /// About how long a JSON delivery of it is, to write it without growing
    /// the buffer.
    pub fn json_size_hint(&self) -> usize {
        self.weight() + 256
    }
}

/// The members of a value that serialises as a JSON object, without its
/// braces: `{"a":1,"b":2}` gives `"a":1,"b":2`.
fn members<T: Serialize>(value: &T) -> Result<Box<str>, serde_json::Error> {
    let object = serde_json::to_string(value)?;
    match object.strip_prefix('{').and_then(|o| o.strip_suffix('}')) {
        Some(members) => Ok(members.into()),
        None => Err(serde::ser::Error::custom("not written as an object")),
    }
}
