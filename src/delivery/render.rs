//! Writing a delivery: the JSON document ([`ContentResponse`]) straight from
//! an article's prepared parts, or an IPTC ninjs 2.2 document, and the
//! `ETag` of either. What a grant may include was decided before; this only
//! writes it.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::DeliveryError;
use super::document::{ContentResponse, CorrectionNote, DeliveredPhoto, Format, WithheldPhoto};
use super::facts::FactCache;
use super::stored::StoredArticle;
use crate::domain::MediaId;
use crate::domain::access::{Grant, Tier};
use crate::domain::content::{AgencyCredit, Byline};
use crate::domain::licence::Attribution;
use crate::domain::purpose::Purpose;

/// A JSON delivery, written straight from an article's prepared parts: the
/// same document as [`ContentResponse`], field for field.
#[derive(Serialize)]
struct ContentView<'a> {
    id: Uuid,
    publisher_id: Uuid,
    licence_id: &'a str,
    tier: Tier,
    purpose: Purpose,
    attribution: Option<&'a Attribution>,
    version: i32,
    status: &'a str,
    headline: &'a str,
    standfirst: Option<&'a str>,
    body_html: Option<&'a RawValue>,
    body_text: Option<&'a RawValue>,
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
    media: PhotosGranted<'a>,
    media_withheld: PhotosWithheld<'a>,
    corrections: &'a [CorrectionNote],
}

/// The photos a grant delivers, in the article's order.
struct PhotosGranted<'a>(&'a [DeliveredPhoto], &'a Grant);

impl<'a> PhotosGranted<'a> {
    fn iter(&self) -> impl Iterator<Item = &'a DeliveredPhoto> {
        let Self(photos, grant) = *self;
        photos
            .iter()
            .filter(|p| grant.delivered.contains(&MediaId(p.id)))
    }
}

impl Serialize for PhotosGranted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// The photos a grant leaves out, with why.
struct PhotosWithheld<'a>(&'a Grant);

impl<'a> PhotosWithheld<'a> {
    fn iter(&self) -> impl Iterator<Item = WithheldPhoto> + 'a {
        self.0
            .withheld
            .iter()
            .map(|(_, reason)| WithheldPhoto { reason: *reason })
    }
}

impl Serialize for PhotosWithheld<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'a> ContentView<'a> {
    fn new(stored: &'a StoredArticle, grant: &'a Grant) -> Self {
        let (row, prepared) = (&stored.row, &stored.prepared);
        let full = grant.tier == Tier::Full;
        Self {
            id: prepared.id,
            publisher_id: prepared.publisher_id,
            licence_id: &grant.licence_id,
            tier: grant.tier,
            purpose: grant.purpose,
            attribution: grant.attribution_required.then_some(&stored.attribution),
            version: row.version,
            status: &row.status,
            headline: &row.headline,
            standfirst: row.standfirst.as_deref(),
            body_html: full.then_some(&*prepared.body_html),
            body_text: full.then_some(&*prepared.body_text),
            word_count: row.word_count,
            bylines: &prepared.bylines,
            located: row.located.as_deref(),
            section: &row.section,
            tags: &prepared.tags,
            language: &row.language,
            version_created_at: row.version_created_at.and_utc(),
            first_published_at: row.first_published_at.map(|at| at.and_utc()),
            canonical_url: row.canonical_url.as_deref(),
            agency_credits: &prepared.agency_credits,
            media: PhotosGranted(&prepared.photos, grant),
            media_withheld: PhotosWithheld(grant),
            corrections: &stored.corrections,
        }
    }

    /// The document's bytes.
    fn write(&self, capacity: usize) -> Result<Vec<u8>, DeliveryError> {
        let mut body = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut body, self).map_err(DeliveryError::internal)?;
        Ok(body)
    }
}

/// The delivery as [`ContentResponse`] (for the ninjs document, which is
/// rendered once per grant and kept).
fn delivered(stored: &StoredArticle, grant: &Grant) -> Result<ContentResponse, DeliveryError> {
    let view = ContentView::new(stored, grant);
    let unescaped = |raw: Option<&RawValue>| {
        raw.map(|raw| serde_json::from_str::<String>(raw.get()))
            .transpose()
            .map_err(DeliveryError::internal)
    };
    Ok(ContentResponse {
        id: view.id,
        publisher_id: view.publisher_id,
        licence_id: view.licence_id.parse().map_err(DeliveryError::internal)?,
        tier: view.tier,
        purpose: view.purpose,
        attribution: view.attribution.cloned(),
        version: view.version,
        status: stored.row.status()?,
        headline: view.headline.to_owned(),
        standfirst: view.standfirst.map(str::to_owned),
        body_html: unescaped(view.body_html)?,
        body_text: unescaped(view.body_text)?,
        word_count: view.word_count,
        bylines: view.bylines.to_vec(),
        located: view.located.map(str::to_owned),
        section: view.section.to_owned(),
        tags: view.tags.to_vec(),
        language: view.language.to_owned(),
        version_created_at: view.version_created_at,
        first_published_at: view.first_published_at,
        canonical_url: view.canonical_url.map(str::to_owned),
        agency_credits: view.agency_credits.to_vec(),
        media: view.media.iter().cloned().collect(),
        media_withheld: view.media_withheld.iter().collect(),
        corrections: view.corrections.to_vec(),
    })
}

/// The body of a delivery and its `ETag`. JSON is written per request from
/// the article's prepared parts; a ninjs document is rendered once per
/// article version and grant and kept with the article's facts. Either
/// body's `ETag` is kept, charged to the fact cache's budget.
pub fn render(
    cache: &FactCache,
    id: &str,
    stored: &Arc<StoredArticle>,
    grant: &Grant,
    format: Format,
) -> Result<(Bytes, String), DeliveryError> {
    let kept = stored.rendered(grant, format);
    let body = match (format, &kept) {
        (Format::Ninjs, Some((Some(body), _))) => body.clone(),
        (Format::Ninjs, _) => Bytes::from(
            serde_json::to_vec(&super::ninjs::document(
                &delivered(stored, grant)?,
                &stored.publisher_name,
            ))
            .map_err(DeliveryError::internal)?,
        ),
        (Format::Json, _) => {
            Bytes::from(ContentView::new(stored, grant).write(stored.prepared.json_size_hint())?)
        }
    };
    if let Some((_, etag)) = kept {
        return Ok((body, etag));
    }
    let etag = delivery_etag(&body);
    let added = stored.keep_rendered(
        grant,
        format,
        (format == Format::Ninjs).then_some(&body),
        &etag,
    );
    cache.charge(id, stored, added);
    Ok((body, etag))
}

/// `ETag` of a delivery: changes with the version, tier and photos.
fn delivery_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!(
        "\"{}\"",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;
    use crate::domain::access::WithheldReason;
    use crate::domain::content::{MediaRef, MediaRole};
    use crate::storage::articles::ArticleRow;
    use crate::storage::media::MediaRow;

    fn photo(id: Uuid, caption: &str) -> MediaRow {
        let at = NaiveDateTime::default();
        MediaRow {
            id: id.to_string(),
            publisher_id: Uuid::nil().to_string(),
            caption: caption.to_owned(),
            credit_line: "Photograph: Tove Brannick/Harbourlight".to_owned(),
            creator: Some("Tove Brannick".to_owned()),
            copyright_holder: "Harbourlight".to_owned(),
            copyright_notice: None,
            licensor: Some("Harbourlight".to_owned()),
            renditions: r#"[{"href":"https://images.example.org/quay-1200.jpg","width":1200,"height":800,"mime_type":"image/jpeg"}]"#.to_owned(),
            syndication: "allowed".to_owned(),
            rights_licensees: None,
            territories_allowed: None,
            territories_denied: None,
            rights_expires_at: None,
            usage_terms: Some("Editorial use only".to_owned()),
            created_at: at,
            updated_at: at,
            data_mining: "unspecified".to_owned(),
        }
    }

    /// The document a JSON delivery must be, written out by hand.
    fn photo_json(id: Uuid, role: &str, caption: &str) -> serde_json::Value {
        serde_json::json!({
            "id": id, "role": role, "caption": caption,
            "credit_line": "Photograph: Tove Brannick/Harbourlight", "creator": "Tove Brannick",
            "copyright_holder": "Harbourlight", "copyright_notice": null, "licensor": "Harbourlight",
            "usage_terms": "Editorial use only", "data_mining": "unspecified",
            "renditions": [{"href": "https://images.example.org/quay-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        })
    }

    #[test]
    fn a_json_delivery_is_the_content_response_field_for_field() {
        let html = "<p class=\"lead\">The \"Saoirse\" ferry docked at 06:40 \u{2014} \u{fc}ber-late, \\ </script>\t&amp;</p>\n<p>Passengers \u{1f6a2} waited.</p>";
        let text = "The \"Saoirse\" ferry docked at 06:40 \u{2014} \u{fc}ber-late.\n\nPassengers waited.\u{7f}";
        let ids = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        let article = Uuid::now_v7();
        let publisher = Uuid::now_v7();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let mut row = ArticleRow::sample(&article.to_string(), html);
        row.publisher_id = publisher.to_string();
        row.version = 3;
        row.headline = "Fog delays the morning ferry".to_owned();
        row.section = "transport".to_owned();
        row.language = "en-GB".to_owned();
        row.word_count = 11;
        row.version_created_at = at("2026-11-28 07:12:00");
        row.first_published_at = Some(at("2026-11-28 06:00:00"));
        row.body_text = text.to_owned();
        row.standfirst = Some("Fog held the morning crossing for an hour.".to_owned());
        row.located = Some("KILLOWEN QUAY".to_owned());
        row.canonical_url = Some("https://news.example.org/ferries/late-crossing".to_owned());
        row.bylines =
            r#"[{"name":"Ines Marlow","role":"Transport correspondent","location":null}]"#
                .to_owned();
        row.tags = r#"["ferries","fog"]"#.to_owned();
        row.agency_credits = r#"[{"agency":"Northwire","role":"contributed","credit_line":"Northwire contributed to this report","redistribution":"allowed"}]"#.to_owned();
        let refs: Vec<MediaRef> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| MediaRef {
                media_id: *id,
                role: if i == 0 {
                    MediaRole::Main
                } else {
                    MediaRole::Inline
                },
            })
            .collect();
        row.media = serde_json::to_string(&refs).unwrap();
        // Out of order, and the second photo no longer exists.
        let photos = [
            photo(ids[2], "The quay at dawn"),
            photo(ids[0], "Fog over the \"harbour\""),
        ];
        let correction = CorrectionNote {
            version: 2,
            corrected_at: at("2026-11-28 06:30:00").and_utc(),
            note: "The ferry is the \"Saoirse\", not the \"Sorcha\".".to_owned(),
        };
        let stored = StoredArticle::new(row, &photos, "Harbourlight News".to_owned())
            .unwrap()
            .with_corrections(vec![correction]);
        assert!(stored.row.body_html.is_empty() && stored.row.body_text.is_empty());

        let licence = Uuid::now_v7();
        let main = photo_json(ids[0], "main", "Fog over the \"harbour\"");
        let inline = photo_json(ids[2], "inline", "The quay at dawn");
        for (tier, delivered_ids, withheld, media, reasons) in [
            (
                Tier::Full,
                vec![ids[0], ids[2]],
                vec![],
                vec![main.clone(), inline.clone()],
                vec![],
            ),
            (
                Tier::Full,
                vec![ids[2]],
                vec![(ids[0], WithheldReason::Territory)],
                vec![inline.clone()],
                vec!["territory"],
            ),
            (
                Tier::Preview,
                vec![],
                vec![
                    (ids[0], WithheldReason::LicenceExcludesMedia),
                    (ids[2], WithheldReason::Expired),
                ],
                vec![],
                vec!["licence_excludes_media", "expired"],
            ),
        ] {
            let grant = Grant {
                licence_id: licence.to_string(),
                tier,
                // The preview is for an AI licensee whose licence requires
                // attribution.
                purpose: if tier == Tier::Full {
                    Purpose::Display
                } else {
                    Purpose::AiInput
                },
                attribution_required: tier == Tier::Preview,
                delivered: delivered_ids.iter().copied().map(MediaId).collect(),
                withheld: withheld
                    .iter()
                    .map(|(id, why)| (MediaId(*id), *why))
                    .collect(),
            };
            let written = ContentView::new(&stored, &grant).write(0).unwrap();
            // Field order and names: those of the documented response.
            assert_eq!(
                String::from_utf8(written.clone()).unwrap(),
                serde_json::to_string(&delivered(&stored, &grant).unwrap()).unwrap()
            );
            // Every value, against the article as it was written.
            let full = tier == Tier::Full;
            let expected = serde_json::json!({
                "id": article, "publisher_id": publisher, "licence_id": licence,
                "tier": if full { "full" } else { "preview" },
                "purpose": if full { "display" } else { "ai-input" },
                "attribution": (!full).then(|| serde_json::json!({
                    "text": "Ines Marlow / Harbourlight News; Northwire contributed to this report",
                    "link": "https://news.example.org/ferries/late-crossing",
                })),
                "version": 3, "status": "published",
                "headline": "Fog delays the morning ferry",
                "standfirst": "Fog held the morning crossing for an hour.",
                "body_html": full.then_some(html), "body_text": full.then_some(text),
                "word_count": 11,
                "bylines": [{"name": "Ines Marlow", "role": "Transport correspondent", "location": null}],
                "located": "KILLOWEN QUAY", "section": "transport", "tags": ["ferries", "fog"],
                "language": "en-GB", "version_created_at": "2026-11-28T07:12:00Z",
                "first_published_at": "2026-11-28T06:00:00Z",
                "canonical_url": "https://news.example.org/ferries/late-crossing",
                "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
                "media": media,
                "media_withheld": reasons.iter().map(|r| serde_json::json!({"reason": r})).collect::<Vec<_>>(),
                "corrections": [{"version": 2, "corrected_at": "2026-11-28T06:30:00Z", "note": "The ferry is the \"Saoirse\", not the \"Sorcha\"."}],
            });
            let read: serde_json::Value = serde_json::from_slice(&written).unwrap();
            assert_eq!(read, expected);
        }

        // What an article leaves out is null, not missing.
        let bare = ArticleRow {
            first_published_at: None,
            ..ArticleRow::sample(&article.to_string(), "<p>One line.</p>")
        };
        let bare = StoredArticle::new(bare, &[], "Harbourlight News".to_owned()).unwrap();
        let grant = Grant {
            licence_id: licence.to_string(),
            tier: Tier::Preview,
            purpose: crate::domain::purpose::Purpose::Display,
            attribution_required: false,
            delivered: Vec::new(),
            withheld: Vec::new(),
        };
        let written = ContentView::new(&bare, &grant).write(0).unwrap();
        let read: serde_json::Value = serde_json::from_slice(&written).unwrap();
        for field in [
            "standfirst",
            "body_html",
            "body_text",
            "located",
            "first_published_at",
            "canonical_url",
        ] {
            assert_eq!(read[field], serde_json::Value::Null, "{field}");
        }
        assert_eq!(read["media"], serde_json::json!([]));
        assert_eq!(read["media_withheld"], serde_json::json!([]));
        assert_eq!(read["corrections"], serde_json::json!([]));
    }
}
