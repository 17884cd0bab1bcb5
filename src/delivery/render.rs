//! Writing a delivery: the JSON document ([`ContentResponse`]) straight from
//! an article's prepared parts, or an IPTC ninjs 2.2 document, and the
//! `ETag` of either. What a grant may include was decided before; this only
//! writes it.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::DeliveryError;
use super::document::{ContentResponse, Format, WithheldPhoto};
use super::facts::FactCache;
use super::prepared::Prepared;
use super::stored::StoredArticle;
use crate::domain::MediaId;
use crate::domain::access::{Grant, Tier};

/// A JSON delivery, the same document as [`ContentResponse`] member for
/// member: the runs of members every grant shares are copied from the
/// article's prepared parts, and what the grant decides (the licence, tier
/// and purpose, the attribution, the body, which photos) is written
/// between them.
fn write_json(stored: &StoredArticle, grant: &Grant) -> Result<Vec<u8>, DeliveryError> {
    let prepared = &stored.prepared;
    let full = grant.tier == Tier::Full;
    let mut out = Vec::with_capacity(prepared.json_size_hint());
    out.push(b'{');
    out.extend_from_slice(prepared.ids.as_bytes());
    member(&mut out, "licence_id", &grant.licence_id)?;
    member(&mut out, "tier", &grant.tier)?;
    member(&mut out, "purpose", &grant.purpose)?;
    raw_member(
        &mut out,
        "attribution",
        grant.attribution_required.then_some(&*prepared.attribution),
    );
    out.push(b',');
    out.extend_from_slice(prepared.opening.as_bytes());
    raw_member(&mut out, "body_html", full.then_some(&*prepared.body_html));
    raw_member(&mut out, "body_text", full.then_some(&*prepared.body_text));
    out.push(b',');
    out.extend_from_slice(prepared.details.as_bytes());
    out.extend_from_slice(b",\"media\":[");
    for (i, (_, photo)) in granted(prepared, grant).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(photo.get().as_bytes());
    }
    out.push(b']');
    member(
        &mut out,
        "media_withheld",
        &withheld(grant).collect::<Vec<_>>(),
    )?;
    raw_member(&mut out, "corrections", Some(&*prepared.corrections));
    out.push(b'}');
    Ok(out)
}

/// `,"key":` and the value as JSON.
fn member<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    key: &str,
    value: &T,
) -> Result<(), DeliveryError> {
    raw_key(out, key);
    serde_json::to_writer(&mut *out, value).map_err(DeliveryError::internal)
}

/// `,"key":` and the JSON given, or `null`.
fn raw_member(out: &mut Vec<u8>, key: &str, value: Option<&RawValue>) {
    raw_key(out, key);
    out.extend_from_slice(value.map_or("null", RawValue::get).as_bytes());
}

/// `,"key":` (every key is a plain ASCII name).
fn raw_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// The photos a grant delivers, in the article's order.
fn granted<'a>(
    prepared: &'a Prepared,
    grant: &'a Grant,
) -> impl Iterator<Item = &'a (MediaId, Box<RawValue>)> {
    prepared
        .photos
        .iter()
        .filter(|(id, _)| grant.delivered.contains(id))
}

/// The photos a grant leaves out, with why.
fn withheld(grant: &Grant) -> impl Iterator<Item = WithheldPhoto> + '_ {
    grant
        .withheld
        .iter()
        .map(|(_, reason)| WithheldPhoto { reason: *reason })
}

/// A value read back from the JSON it was prepared as.
fn read<T: serde::de::DeserializeOwned>(raw: &RawValue) -> Result<T, DeliveryError> {
    serde_json::from_str(raw.get()).map_err(DeliveryError::internal)
}

/// The delivery as [`ContentResponse`] (for the ninjs document, which is
/// rendered once per grant and kept).
fn delivered(stored: &StoredArticle, grant: &Grant) -> Result<ContentResponse, DeliveryError> {
    let (row, prepared) = (&stored.row, &stored.prepared);
    let full = grant.tier == Tier::Full;
    Ok(ContentResponse {
        id: prepared.id,
        publisher_id: prepared.publisher_id,
        licence_id: grant.licence_id.parse().map_err(DeliveryError::internal)?,
        tier: grant.tier,
        purpose: grant.purpose,
        attribution: grant
            .attribution_required
            .then(|| stored.attribution.clone()),
        version: row.version,
        status: row.status()?,
        headline: row.headline.clone(),
        standfirst: row.standfirst.clone(),
        body_html: full.then(|| read(&prepared.body_html)).transpose()?,
        body_text: full.then(|| read(&prepared.body_text)).transpose()?,
        word_count: row.word_count,
        bylines: row.bylines()?,
        located: row.located.clone(),
        section: row.section.clone(),
        tags: row.tags()?,
        language: row.language.clone(),
        version_created_at: row.version_created_at.and_utc(),
        first_published_at: row.first_published_at.map(|at| at.and_utc()),
        canonical_url: row.canonical_url.clone(),
        agency_credits: row.agency_credits()?,
        media: granted(prepared, grant)
            .map(|(_, photo)| read(photo))
            .collect::<Result<_, _>>()?,
        media_withheld: withheld(grant).collect(),
        corrections: read(&prepared.corrections)?,
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
        (Format::Json, _) => Bytes::from(write_json(stored, grant)?),
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
    use uuid::Uuid;

    use super::*;
    use crate::delivery::document::CorrectionNote;
    use crate::domain::access::WithheldReason;
    use crate::domain::content::{MediaRef, MediaRole};
    use crate::domain::purpose::Purpose;
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
        let stored =
            StoredArticle::new(row, &photos, "Harbourlight News".to_owned(), &[correction])
                .unwrap();
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
            let written = write_json(&stored, &grant).unwrap();
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
        let bare = StoredArticle::new(bare, &[], "Harbourlight News".to_owned(), &[]).unwrap();
        let grant = Grant {
            licence_id: licence.to_string(),
            tier: Tier::Preview,
            purpose: crate::domain::purpose::Purpose::Display,
            attribution_required: false,
            delivered: Vec::new(),
            withheld: Vec::new(),
        };
        let written = write_json(&bare, &grant).unwrap();
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
