//! An article's parts as every delivery of it writes them, prepared once
//! when its facts are read.

use serde_json::value::RawValue;
use uuid::Uuid;

use super::document::DeliveredPhoto;
use crate::domain::content::{AgencyCredit, Byline, MediaRef};
use crate::storage::StorageError;
use crate::storage::articles::ArticleRow;
use crate::storage::media::MediaRow;

/// An article's parts as a delivery writes them, prepared once when its
/// facts are read: the body's HTML and text escaped for JSON (and held
/// nowhere else), its lists parsed, its photos in the article's order. A
/// JSON delivery is written from these per request, mostly by copying, so
/// an article's text is kept once however many licences it goes out under.
#[derive(Debug)]
pub struct Prepared {
    pub(super) id: Uuid,
    pub(super) publisher_id: Uuid,
    pub(super) body_html: Box<RawValue>,
    pub(super) body_text: Box<RawValue>,
    pub(super) bylines: Vec<Byline>,
    pub(super) tags: Vec<String>,
    pub(super) agency_credits: Vec<AgencyCredit>,
    /// Every photo of the article that exists, in its order.
    pub(super) photos: Vec<DeliveredPhoto>,
}

impl Prepared {
    /// Prepares `row` with its photos (each with the article's reference
    /// to it, in the article's order), moving the body's HTML and text out
    /// of the row (they are left empty there).
    pub fn new(
        row: &mut ArticleRow,
        photos: &[(&MediaRef, &MediaRow)],
    ) -> Result<Self, StorageError> {
        let photos = photos
            .iter()
            .map(|(r, photo)| {
                Ok(DeliveredPhoto {
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
                })
            })
            .collect::<Result<_, StorageError>>()?;
        let (bylines, tags, agency_credits) = (row.bylines()?, row.tags()?, row.agency_credits()?);
        let escaped = |text: String| {
            serde_json::value::to_raw_value(&text).map_err(|error| StorageError::Corrupt {
                table: "articles",
                id: row.id.clone(),
                detail: format!("body: {error}"),
            })
        };
        Ok(Self {
            id: row.article_id()?.0,
            publisher_id: row.publisher_id()?.0,
            body_html: escaped(std::mem::take(&mut row.body_html))?,
            body_text: escaped(std::mem::take(&mut row.body_text))?,
            bylines,
            tags,
            agency_credits,
            photos,
        })
    }

    /// Bytes it holds, about.
    pub fn weight(&self) -> usize {
        let text = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        let photos: usize = self
            .photos
            .iter()
            .map(|p| {
                let renditions: usize = p
                    .renditions
                    .iter()
                    .map(|r| r.href.len() + r.mime_type.len() + 64)
                    .sum();
                p.caption.len()
                    + p.credit_line.len()
                    + p.copyright_holder.len()
                    + text(&p.creator)
                    + text(&p.copyright_notice)
                    + text(&p.licensor)
                    + text(&p.usage_terms)
                    + renditions
                    + 256
            })
            .sum();
        let bylines: usize = self
            .bylines
            .iter()
            .map(|b| b.name.len() + text(&b.role) + text(&b.location) + 64)
            .sum();
        let tags: usize = self.tags.iter().map(|t| t.len() + 24).sum();
        let credits: usize = self
            .agency_credits
            .iter()
            .map(|c| c.agency.len() + c.credit_line.len() + 64)
            .sum();
        self.body_html.get().len() + self.body_text.get().len() + photos + bylines + tags + credits
    }

    /// About how long a JSON delivery of it is, to write it without growing
    /// the buffer.
    pub fn json_size_hint(&self) -> usize {
        self.body_html.get().len() + self.body_text.get().len() + 1024 + 512 * self.photos.len()
    }
}
