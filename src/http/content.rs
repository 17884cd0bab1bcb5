//! What a licensee's ingest uses: `GET /v1/content/{id}` (the licensed
//! article, as JSON or IPTC ninjs), `GET /v1/content` (search what it may
//! see now) and `GET /v1/feed` (every change it should hear of, in order).
//! Every answer comes from the one access decision in `domain::access`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, ResponseError, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::caller::{Claimed, in_good_standing};
use super::facts::{self, FactCache, Facts, StoredArticle};
use super::problem::{ApiError, responses};
use super::{AppState, db, utc};
use crate::domain::access::{
    self, ArticleFacts, Denial, Grant, LicenceFacts, LicenseeFacts, PhotoFacts, Tier,
    WithheldReason,
};
use crate::domain::content::{
    AgencyCredit, ArticleStatus, Byline, EventKind, MediaRef, Redistribution, Rendition,
    Syndication,
};
use crate::domain::{
    ArticleId, LicenseeId, LicenseeStatus, MediaId, PublisherId, Role, Territories,
};
use crate::identity::Caller;
use crate::identity::caller::check_standing;
use crate::metering::Period;
use crate::metering::headers::{self, QuotaState};
use crate::metering::ratelimit::RateState;
use crate::metering::writer::WriteError;
use crate::storage::articles::{self, ArticleRow, FeedRow, SearchFilter};
use crate::storage::media::MediaRow;
use crate::storage::page::PageRequest;
use crate::storage::usage::{self, Recorded};
use crate::storage::{DbConnection, licences, now, organisations};

/// How often a delivery is decided again when its facts changed under it
/// before it gives up with 503.
const DELIVERY_ATTEMPTS: usize = 4;
/// Longest a delivered article may be cached, in seconds.
const MAX_CACHE_SECONDS: i64 = 300;
/// Longest a feed request may wait for an event, in seconds.
const MAX_WAIT_SECONDS: u64 = 30;
/// Most events one feed page may hold.
const MAX_FEED_PAGE: i64 = 1000;

/// How often a waiting feed request looks again.
const FEED_POLL: Duration = Duration::from_millis(250);

/// The licensee and its licences, as the access decision sees them.
pub struct Entitlement {
    /// The licensee.
    pub licensee: LicenseeFacts,
    /// All its licences, in force or not.
    pub licences: Vec<LicenceFacts>,
    /// The same licences as stored (quota, rate, price).
    pub rows: Vec<crate::storage::licences::LicenceRow>,
}

impl Entitlement {
    /// Loads a licensee's facts and licences.
    pub fn load(conn: &mut DbConnection, licensee_id: LicenseeId) -> Result<Self, ApiError> {
        let id = licensee_id.to_string();
        let row = organisations::find_licensee(conn, &id)?;
        let rows = licences::of_licensee(conn, &id)?;
        let licences = rows
            .iter()
            .filter_map(|l| {
                Some(LicenceFacts {
                    publisher_id: l.publisher_id.parse().ok()?,
                    sections: l
                        .sections
                        .as_deref()
                        .and_then(|s| serde_json::from_str(s).ok()),
                    tier: l.tier.parse().ok()?,
                    include_media: l.include_media,
                    valid_from: l.valid_from,
                    valid_until: l.valid_until,
                    id: l.id.clone(),
                })
            })
            .collect();
        Ok(Self {
            licensee: LicenseeFacts {
                id: licensee_id,
                status: row.status.parse().unwrap_or(LicenseeStatus::Suspended),
                territories: Territories::from_stored(&row.territories)
                    .as_slice()
                    .to_vec(),
            },
            licences,
            rows,
        })
    }

    /// Publishers covered by a licence in force at `at`.
    fn publishers(&self, at: NaiveDateTime) -> Vec<String> {
        let mut publishers: Vec<String> = self
            .licences
            .iter()
            .filter(|l| l.in_force(at))
            .map(|l| l.publisher_id.to_string())
            .collect();
        publishers.sort();
        publishers.dedup();
        publishers
    }
}

/// The decision's view of an article row.
pub fn article_facts(row: &ArticleRow) -> ArticleFacts {
    ArticleFacts {
        publisher_id: row.publisher_id.parse().unwrap_or(PublisherId(Uuid::nil())),
        status: row.status.parse().unwrap_or(ArticleStatus::Draft),
        section: row.section.clone(),
        embargo_until: row.embargo_until,
        redistribution: row
            .redistribution
            .parse()
            .unwrap_or(Redistribution::Prohibited),
        first_published_at: row.first_published_at,
        killed_at: row.killed_at,
    }
}

/// The decision's view of a photo row.
pub fn photo_facts(row: &MediaRow) -> PhotoFacts {
    let territories = |stored: &Option<String>| {
        stored
            .as_deref()
            .map(|s| Territories::from_stored(s).as_slice().to_vec())
    };
    PhotoFacts {
        id: row.id.parse().unwrap_or(MediaId(Uuid::nil())),
        syndication: row.syndication.parse().unwrap_or(Syndication::Prohibited),
        licensees: row
            .rights_licensees
            .as_deref()
            .map(|s| s.split(',').filter_map(|id| id.parse().ok()).collect()),
        territories_allowed: territories(&row.territories_allowed),
        territories_denied: territories(&row.territories_denied).unwrap_or_default(),
        expires_at: row.rights_expires_at,
    }
}

/// A delivered photo, always with its credit line, copyright and terms.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveredPhoto {
    /// Photo id.
    pub id: Uuid,
    /// `main` or `inline`.
    pub role: crate::domain::content::MediaRole,
    /// What it shows.
    pub caption: String,
    /// The credit to print with it.
    pub credit_line: String,
    /// The photographer.
    pub creator: Option<String>,
    /// Who holds the copyright.
    pub copyright_holder: String,
    /// The copyright notice.
    pub copyright_notice: Option<String>,
    /// The agency that licenses it.
    pub licensor: Option<String>,
    /// Terms that come with it ("Editorial use only").
    pub usage_terms: Option<String>,
    /// The files.
    pub renditions: Vec<Rendition>,
}

/// A photo left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WithheldPhoto {
    /// Why it was left out.
    pub reason: WithheldReason,
}

/// A licensed article as delivered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a6-1111-7222-8333-444455556666",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "licence_id": "019ac0a7-2222-7333-8444-555566667777",
    "tier": "full",
    "version": 2,
    "headline": "Tidal barrier holds as storm surge reaches Portmere",
    "standfirst": "Engineers say the new gates kept the water out of three thousand homes.",
    "body_html": "<p>The tidal gates closed at ten past four in the morning, forty minutes before the surge peaked.</p>",
    "body_text": "The tidal gates closed at ten past four in the morning, forty minutes before the surge peaked.",
    "word_count": 18,
    "bylines": [{"name": "Amara Okafor", "role": "Reporter", "location": "in Portmere"}],
    "located": "PORTMERE",
    "section": "environment",
    "tags": ["flooding"],
    "language": "en-GB",
    "version_created_at": "2026-11-28T07:12:00Z",
    "first_published_at": "2026-11-28T06:00:00Z",
    "canonical_url": "https://news.example.org/environment/hg-demo-01",
    "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
    "media": [{
        "id": "019ac0a5-3333-7444-8555-666677778888", "role": "main",
        "caption": "The tidal gates at Portmere, closed against the surge at dawn.",
        "credit_line": "Photograph: Lena Varga/Northwire", "creator": "Lena Varga",
        "copyright_holder": "Northwire", "copyright_notice": null, "licensor": "Northwire",
        "usage_terms": "Editorial use only",
        "renditions": [{"href": "https://images.example.org/demo/gates-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}]
    }],
    "media_withheld": [{"reason": "territory"}]
}))]
pub struct ContentResponse {
    /// Article id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The licence it is delivered under.
    pub licence_id: Uuid,
    /// `full` (with body) or `preview` (without).
    pub tier: Tier,
    /// The version delivered.
    pub version: i32,
    /// The headline.
    pub headline: String,
    /// The summary.
    pub standfirst: Option<String>,
    /// The sanitised body (full tier only).
    pub body_html: Option<String>,
    /// The body as plain text (full tier only).
    pub body_text: Option<String>,
    /// Words in the body.
    pub word_count: i32,
    /// Who wrote it.
    pub bylines: Vec<Byline>,
    /// The dateline place.
    pub located: Option<String>,
    /// The section.
    pub section: String,
    /// Tags.
    pub tags: Vec<String>,
    /// BCP 47 language tag.
    pub language: String,
    /// When this version was made.
    pub version_created_at: DateTime<Utc>,
    /// When it first became public.
    pub first_published_at: Option<DateTime<Utc>>,
    /// The story's page on the publisher's site.
    pub canonical_url: Option<String>,
    /// Agency credits with their credit lines (always delivered).
    pub agency_credits: Vec<AgencyCredit>,
    /// Photos this licensee may have, in order.
    pub media: Vec<DeliveredPhoto>,
    /// Photos left out, one entry each, with why.
    pub media_withheld: Vec<WithheldPhoto>,
}

/// An article's parts as a delivery writes them, prepared once when its
/// facts are read: the body's HTML and text escaped for JSON (and held
/// nowhere else), its lists parsed, its photos in the article's order. A
/// JSON delivery is written from these per request, mostly by copying, so
/// an article's text is kept once however many licences it goes out under.
#[derive(Debug)]
pub struct Prepared {
    id: Uuid,
    publisher_id: Uuid,
    body_html: Box<RawValue>,
    body_text: Box<RawValue>,
    bylines: Vec<Byline>,
    tags: Vec<String>,
    agency_credits: Vec<AgencyCredit>,
    /// Every photo of the article that exists, in its order.
    photos: Vec<DeliveredPhoto>,
}

impl Prepared {
    /// Prepares `row` with its photos (each with the article's reference
    /// to it, in the article's order), moving the body's HTML and text out
    /// of the row (they are left empty there).
    pub fn new(row: &mut ArticleRow, photos: &[(&MediaRef, &MediaRow)]) -> Result<Self, ApiError> {
        let escaped = |text: String| {
            serde_json::value::to_raw_value(&text).map_err(|e| ApiError::Internal(Box::new(e)))
        };
        let photos = photos
            .iter()
            .map(|(r, photo)| DeliveredPhoto {
                id: r.media_id,
                role: r.role,
                caption: photo.caption.clone(),
                credit_line: photo.credit_line.clone(),
                creator: photo.creator.clone(),
                copyright_holder: photo.copyright_holder.clone(),
                copyright_notice: photo.copyright_notice.clone(),
                licensor: photo.licensor.clone(),
                usage_terms: photo.usage_terms.clone(),
                renditions: serde_json::from_str(&photo.renditions).unwrap_or_default(),
            })
            .collect();
        Ok(Self {
            id: row.id.parse().unwrap_or_default(),
            publisher_id: row.publisher_id.parse().unwrap_or_default(),
            body_html: escaped(std::mem::take(&mut row.body_html))?,
            body_text: escaped(std::mem::take(&mut row.body_text))?,
            bylines: serde_json::from_str(&row.bylines).unwrap_or_default(),
            tags: serde_json::from_str(&row.tags).unwrap_or_default(),
            agency_credits: serde_json::from_str(&row.agency_credits).unwrap_or_default(),
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

/// A JSON delivery, written straight from an article's prepared parts: the
/// same document as [`ContentResponse`], field for field.
#[derive(Serialize)]
struct ContentView<'a> {
    id: Uuid,
    publisher_id: Uuid,
    licence_id: Uuid,
    tier: Tier,
    version: i32,
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
            licence_id: grant.licence_id.parse().unwrap_or_default(),
            tier: grant.tier,
            version: row.version,
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
            version_created_at: utc(row.version_created_at),
            first_published_at: row.first_published_at.map(utc),
            canonical_url: row.canonical_url.as_deref(),
            agency_credits: &prepared.agency_credits,
            media: PhotosGranted(&prepared.photos, grant),
            media_withheld: PhotosWithheld(grant),
        }
    }

    /// The document's bytes.
    fn write(&self, capacity: usize) -> Result<Vec<u8>, ApiError> {
        let mut body = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut body, self).map_err(|e| ApiError::Internal(Box::new(e)))?;
        Ok(body)
    }
}

/// The delivery as [`ContentResponse`] (for the ninjs document, which is
/// rendered once per grant and kept).
fn delivered(stored: &StoredArticle, grant: &Grant) -> Result<ContentResponse, ApiError> {
    let view = ContentView::new(stored, grant);
    let unescaped = |raw: Option<&RawValue>| {
        raw.map(|raw| serde_json::from_str::<String>(raw.get()))
            .transpose()
            .map_err(|e| ApiError::Internal(Box::new(e)))
    };
    Ok(ContentResponse {
        id: view.id,
        publisher_id: view.publisher_id,
        licence_id: view.licence_id,
        tier: view.tier,
        version: view.version,
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
    })
}

/// The delivery as an IPTC ninjs 2.2 document.
pub fn ninjs(content: &ContentResponse, publisher_name: &str) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = json!({
        "uri": format!("urn:syndicate:article:{}", content.id),
        "type": "text",
        "representationtype": if content.tier == Tier::Full { "full" } else { "partial" },
        "standard": {"name": "ninjs", "version": "2.2", "schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json#"},
        "version": content.version.to_string(),
        "versioncreated": content.version_created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "pubstatus": "usable",
        "language": content.language,
        "headlines": [{"role": "main", "value": content.headline}],
        "copyrightholder": publisher_name,
        "subjects": std::iter::once(json!({"name": content.section, "rel": "section"}))
            .chain(content.tags.iter().map(|t| json!({"name": t, "rel": "tag"})))
            .collect::<Vec<_>>(),
        "infosources": content.agency_credits.iter().map(|c| json!({
            "name": c.agency, "role": c.role.as_str(), "literal": c.credit_line,
        })).collect::<Vec<_>>(),
        "rightsinfo": {"encodedrights": json!({"licence": content.licence_id, "tier": content.tier.as_str()}).to_string()},
        "associations": content.media.iter().enumerate().map(|(i, photo)| {
            let mut association = json!({
                "name": if photo.role == crate::domain::content::MediaRole::Main { "main".to_owned() } else { format!("inline-{i}") },
                "uri": format!("urn:syndicate:media:{}", photo.id),
                "type": "picture",
                "descriptions": [
                    {"role": "caption", "value": photo.caption},
                    {"role": "creditline", "value": photo.credit_line},
                ],
                "copyrightholder": photo.copyright_holder,
                "renditions": photo.renditions.iter().map(|r| json!({
                    "name": format!("{}x{}", r.width, r.height), "href": r.href,
                    "contenttype": r.mime_type, "width": r.width, "height": r.height,
                })).collect::<Vec<_>>(),
            });
            for (key, value) in [("by", &photo.creator), ("copyrightnotice", &photo.copyright_notice), ("usageterms", &photo.usage_terms)] {
                if let Some(value) = value {
                    association[key] = Value::String(value.clone());
                }
            }
            if let Some(licensor) = &photo.licensor {
                association["infosources"] = json!([{"name": licensor, "role": "licensor"}]);
            }
            association
        }).collect::<Vec<_>>(),
    });
    if let Some(first) = content.first_published_at {
        doc["firstcreated"] =
            Value::String(first.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
    if let Some(standfirst) = &content.standfirst {
        doc["descriptions"] = json!([{"role": "summary", "value": standfirst}]);
    }
    if let (Some(html), Some(text)) = (&content.body_html, &content.body_text) {
        doc["bodies"] = json!([
            {"role": "main", "contenttype": "text/html", "value": html, "wordcount": content.word_count},
            {"role": "plain", "contenttype": "text/plain", "value": text, "wordcount": content.word_count},
        ]);
    }
    let by: Vec<String> = content
        .bylines
        .iter()
        .map(|b| {
            [
                Some(b.name.as_str()),
                b.role.as_deref(),
                b.location.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
        .collect();
    if !by.is_empty() {
        doc["by"] = Value::String(by.join("; "));
    }
    if let Some(located) = &content.located {
        doc["located"] = Value::String(located.clone());
    }
    if let Some(url) = &content.canonical_url {
        doc["altids"] = json!([{"role": "canonical_url", "value": url}]);
    }
    if !content.media_withheld.is_empty() {
        let reasons: Vec<&str> = content
            .media_withheld
            .iter()
            .map(|w| match w.reason {
                WithheldReason::LicenceExcludesMedia => "licence_excludes_media",
                WithheldReason::SyndicationProhibited => "syndication_prohibited",
                WithheldReason::LicenseeNotAllowed => "licensee_not_allowed",
                WithheldReason::Territory => "territory",
                WithheldReason::Expired => "expired",
            })
            .collect();
        doc["ednote"] = Value::String(format!(
            "{} photo(s) withheld: {}",
            reasons.len(),
            reasons.join(", ")
        ));
    }
    doc
}

/// The body of a delivery: [`ContentResponse`], or with `format=ninjs` an
/// IPTC ninjs 2.2 document (which always has `uri`).
pub struct DeliveryBody;

impl utoipa::PartialSchema for DeliveryBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("ContentResponse"))
            .item(
                ObjectBuilder::new()
                    .description(Some(
                        "An IPTC ninjs 2.2 document (format=ninjs); see http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json",
                    ))
                    .required("uri"),
            )
            .description(Some("This service's JSON, or IPTC ninjs 2.2 with format=ninjs"))
            .into()
    }
}

impl utoipa::ToSchema for DeliveryBody {}

/// Output format of a delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// This service's JSON.
    #[default]
    Json,
    /// An IPTC ninjs 2.2 document.
    Ninjs,
}

/// Options of a delivery.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContentQuery {
    /// `json` (default) or `ninjs` (IPTC ninjs 2.2).
    pub format: Option<Format>,
}

/// What one delivery decided, for the response and its headers.
pub struct Delivery {
    /// What is delivered: the licence, the tier and the photos.
    pub grant: Grant,
    /// When the decision could next change by itself.
    pub next_change: Option<NaiveDateTime>,
    /// The licence it is delivered under.
    pub licence: crate::storage::licences::LicenceRow,
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
) -> Result<(Bytes, String), ApiError> {
    let kept = stored.rendered(grant, format);
    let body = match (format, &kept) {
        (Format::Ninjs, Some((Some(body), _))) => body.clone(),
        (Format::Ninjs, _) => Bytes::from(
            serde_json::to_vec(&ninjs(&delivered(stored, grant)?, &stored.publisher_name))
                .map_err(|e| ApiError::Internal(Box::new(e)))?,
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

/// Decides one delivery at `at` from its facts: the licensee's licences
/// and the article with its photos.
pub fn decide(facts: &Facts, at: NaiveDateTime) -> Result<Delivery, ApiError> {
    let hidden = || ApiError::NotFound("no such article".to_owned());
    let entitlement = &facts.entitlement;
    let stored = facts.article.as_deref().ok_or_else(hidden)?;
    let row = &stored.row;
    let facts = &stored.facts;
    let ordered = &stored.photo_facts;
    match access::decide(
        &entitlement.licensee,
        &entitlement.licences,
        facts,
        ordered,
        at,
    ) {
        Ok(grant) => {
            let covering: Vec<LicenceFacts> = entitlement
                .licences
                .iter()
                .filter(|l| l.covers(facts.publisher_id, &facts.section))
                .cloned()
                .collect();
            let licence = entitlement
                .rows
                .iter()
                .find(|l| l.id == grant.licence_id)
                .cloned()
                .ok_or_else(|| ApiError::Internal("the granting licence vanished".into()))?;
            Ok(Delivery {
                grant,
                next_change: access::next_change(&covering, facts, ordered, at),
                licence,
            })
        }
        Err(Denial::Killed) => Err(ApiError::Killed {
            killed_at: row.killed_at.map_or_else(Utc::now, utc),
            reason: row.status_reason.clone(),
        }),
        Err(_) => Err(hidden()),
    }
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

/// Fetches one licensed article: the full text or a preview as the licence
/// and agency terms allow, with the photos this licensee may have (credit
/// lines, copyright and usage terms always included) and the photos left
/// out with why. Unlicensed, draft, withheld, embargoed or unknown articles
/// are 404, alike; an article killed after this licensee could see it is
/// 410 with the kill notice.
///
/// Licensees only. This is the metered delivery.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(("id" = Uuid, Path, description = "Article id"), ContentQuery),
    responses(
        (status = 200, description = "The licensed article (JSON or IPTC ninjs 2.2 with format=ninjs); its usage event is durable before this response is sent", body = DeliveryBody,
            headers(
                ("ETag" = String, description = "Changes with the version, tier and delivered photos"),
                ("Cache-Control" = String, description = "`private, max-age=N`, never beyond the next rights change"),
                ("RateLimit-Policy" = String, description = "The licence's rate and quota policies (IETF structured fields), when it has any"),
                ("RateLimit" = String, description = "Requests and billable units left, and seconds until each resets"),
            )),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 403, response = responses::Forbidden),
        (status = 404, response = responses::NotFound),
        (status = 410, response = responses::Gone),
        (status = 429, response = responses::TooManyRequestsMetered),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/content/{id}")]
pub async fn get_content(
    caller: Claimed,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<ContentQuery>,
) -> Result<HttpResponse, ApiError> {
    let Claimed(caller) = caller;
    let client = caller.client_id.to_string();
    let Some(licensee) = caller.licensee_id() else {
        in_good_standing(&state, client).await?;
        caller.require(Role::Licensee)?;
        return Err(ApiError::Forbidden(
            "this client acts for no licensee".to_owned(),
        ));
    };
    let id = ArticleId(id.into_inner()).to_string();
    let format = query.format.unwrap_or_default();
    let mut rate = None;
    for attempt in 0..DELIVERY_ATTEMPTS {
        let at = now();
        let facts = facts::gather(&state, &client, licensee, &id).await?;
        let delivery = match check_standing(&facts.standing)
            .map_err(ApiError::from)
            .and_then(|()| decide(&facts, at))
        {
            Ok(delivery) => delivery,
            Err(refusal) => {
                // A refusal writes nothing for the usage writer to check:
                // confirm here that it was decided on current facts.
                let current = facts::current(&state).await?;
                if current != facts.generation {
                    state.facts.outdated(current);
                    continue;
                }
                return Err(refusal);
            }
        };
        let licence = &delivery.licence;

        // The rate limit (once), then the quota; a refused request writes
        // nothing.
        if attempt == 0
            && let Some(per_minute) = licence
                .rate_limit_per_minute
                .and_then(|r| u32::try_from(r).ok())
        {
            match state.rate_limits.check(&licence.id, per_minute) {
                Ok(state) => rate = Some((state, per_minute)),
                Err((state, retry_after)) => {
                    let error = ApiError::RateLimited {
                        detail: format!("this licence allows {per_minute} requests a minute"),
                        retry_after,
                    };
                    return Ok(with_rate_headers(
                        error.error_response(),
                        Some((state, per_minute)),
                        None,
                    ));
                }
            }
        }
        let period = Period::from_stored(licence.quota_period.as_deref());
        let Some(stored) = facts.article.as_ref() else {
            return Err(ApiError::Internal("a delivery without its article".into()));
        };
        let record = usage::Delivery {
            id: Uuid::now_v7().to_string(),
            licensee_id: licensee.to_string(),
            licence_id: licence.id.clone(),
            publisher_id: stored.row.publisher_id.clone(),
            article_id: stored.row.id.clone(),
            article_version: stored.row.version,
            tier: delivery.grant.tier.as_str().to_owned(),
            format: match format {
                Format::Json => "json",
                Format::Ninjs => "ninjs",
            }
            .to_owned(),
            at,
            period_start: period.start(at),
            request_id: super::context::current().id,
            quota: licence.quota_units,
            unit_price: licence.price_amount_minor,
            currency: licence.price_currency.clone(),
            generation: Some(facts.generation),
        };
        let quota_state = |used: i64| {
            licence.quota_units.map(|limit| QuotaState {
                limit,
                remaining: limit - used,
                reset: period.seconds_left(at),
                window: period.window_seconds(at),
            })
        };
        return match state.usage.record(record).await {
            Ok(Recorded::Stale { current }) => {
                state.facts.outdated(current);
                continue;
            }
            Ok(Recorded::Delivered { used, .. }) => {
                let (body, etag) = render(&state.facts, &id, stored, &delivery.grant, format)?;
                let max_age = delivery.next_change.map_or(MAX_CACHE_SECONDS, |change| {
                    (change - at).num_seconds().clamp(0, MAX_CACHE_SECONDS)
                });
                let response = HttpResponse::Ok()
                    .insert_header((header::ETAG, etag))
                    .insert_header((header::CACHE_CONTROL, format!("private, max-age={max_age}")))
                    .content_type("application/json")
                    .body(body);
                Ok(with_rate_headers(response, rate, quota_state(used)))
            }
            Ok(Recorded::OverQuota { used }) => {
                let error = ApiError::QuotaExceeded {
                    detail: format!(
                        "this licence's quota of {} billable deliveries a {} is used up; articles already delivered this {} can still be fetched",
                        licence.quota_units.unwrap_or(0),
                        period.as_str(),
                        period.as_str()
                    ),
                    retry_after: period.seconds_left(at),
                };
                Ok(with_rate_headers(
                    error.error_response(),
                    rate,
                    quota_state(used),
                ))
            }
            Err(WriteError::Stopped) => Err(ApiError::ShuttingDown),
            Err(WriteError::Failed(cause)) => Err(ApiError::Unavailable(cause.into())),
        };
    }
    Err(ApiError::Unavailable(
        "the article or its licence kept changing while it was delivered; retry".into(),
    ))
}

/// Adds the `RateLimit-Policy` and `RateLimit` fields to a response.
fn with_rate_headers(
    mut response: HttpResponse,
    rate: Option<(RateState, u32)>,
    quota: Option<QuotaState>,
) -> HttpResponse {
    if let Some((policy, state)) = headers::fields(rate, quota)
        && let (Ok(policy), Ok(state)) = (
            header::HeaderValue::from_str(&policy),
            header::HeaderValue::from_str(&state),
        )
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("ratelimit-policy"), policy);
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("ratelimit"), state);
    }
    response
}

/// An article in a content list (metadata, no body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContentSummary {
    /// Article id.
    pub id: Uuid,
    /// Its publisher.
    pub publisher_id: Uuid,
    /// The tier it would be delivered in.
    pub tier: Tier,
    /// Current version.
    pub version: i32,
    /// The headline.
    pub headline: String,
    /// The summary.
    pub standfirst: Option<String>,
    /// Who wrote it.
    pub bylines: Vec<Byline>,
    /// Agency credits with their credit lines.
    pub agency_credits: Vec<AgencyCredit>,
    /// The section.
    pub section: String,
    /// BCP 47 language tag.
    pub language: String,
    /// When it first became public.
    pub first_published_at: Option<DateTime<Utc>>,
    /// When the current version was made.
    pub version_created_at: DateTime<Utc>,
}

crate::page_response!(
    /// A page of licensed articles.
    ContentPage,
    ContentSummary
);

/// Filters of the content list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentListQuery {
    /// Words that must all appear in the headline, standfirst or body (at
    /// most 200 characters; anything but letters and digits separates words).
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub q: Option<String>,
    /// Only this publisher's articles.
    pub publisher_id: Option<Uuid>,
    /// Only this section.
    #[param(max_length = 100)]
    pub section: Option<String>,
    /// Only this language (BCP 47).
    #[param(max_length = 35)]
    pub language: Option<String>,
    /// First published at or after this instant.
    pub published_since: Option<DateTime<Utc>>,
    /// First published before this instant.
    pub published_until: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// Splits a search into words, so no query syntax reaches the engine.
fn search_words(q: &str) -> Result<Vec<String>, ApiError> {
    if q.chars().count() > 200 || q.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "q",
            "must be at most 200 characters of text",
        ));
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    Ok(words)
}

/// Lists and searches what the licensee may receive now: published,
/// past-embargo articles its licences cover, newest versions, metadata only.
///
/// Licensees only. Not metered.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(ContentListQuery),
    responses(
        (status = 200, description = "A page of licensed articles", body = ContentPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/content")]
pub async fn list_content(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ContentListQuery>,
) -> Result<web::Json<ContentPage>, ApiError> {
    caller.require(Role::Licensee)?;
    let licensee = caller
        .licensee_id()
        .ok_or_else(|| ApiError::Forbidden("this client acts for no licensee".to_owned()))?;
    let query = query.into_inner();
    let scope = format!("content-{licensee}");
    let page = super::PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .parse(&scope)?;
    super::at_most("section", query.section.as_deref(), 100)?;
    super::at_most("language", query.language.as_deref(), 35)?;
    let words = match &query.q {
        Some(q) => search_words(q)?,
        None => Vec::new(),
    };
    let at = now();
    let result = db(&state, move |conn| {
        let entitlement = Entitlement::load(conn, licensee)?;
        let filter = SearchFilter {
            words,
            publishers: entitlement.publishers(at),
            publisher_id: query.publisher_id.map(|p| p.hyphenated().to_string()),
            section: query.section.clone(),
            language: query.language.clone(),
            published_since: query.published_since.map(|t| t.naive_utc()),
            published_until: query.published_until.map(|t| t.naive_utc()),
        };
        list_page(conn, &entitlement, &filter, &page, &scope, at)
    })
    .await?;
    Ok(web::Json(result))
}

/// Fills a page from bounded chunks, deciding each article.
fn list_page(
    conn: &mut DbConnection,
    entitlement: &Entitlement,
    filter: &SearchFilter,
    page: &PageRequest,
    scope: &str,
    at: NaiveDateTime,
) -> Result<ContentPage, ApiError> {
    let limit = usize::try_from(page.limit).unwrap_or(1);
    let chunk = (page.limit * 4).min(400);
    let mut after = page.after.clone();
    let mut items = Vec::new();
    for _ in 0..8 {
        let rows = articles::search(conn, filter, at, after.as_deref(), chunk)?;
        let exhausted = rows.len() < usize::try_from(chunk).unwrap_or(usize::MAX);
        for row in rows {
            after = Some(row.id.clone());
            if let Ok(grant) = access::decide(
                &entitlement.licensee,
                &entitlement.licences,
                &article_facts(&row),
                &[],
                at,
            ) {
                items.push(summary(&row, grant.tier));
                if items.len() == limit {
                    let next = crate::storage::page::Page::from_rows(
                        vec![row.id.clone(), String::new()],
                        &PageRequest {
                            after: None,
                            limit: 1,
                        },
                        scope,
                        Clone::clone,
                    )
                    .next_cursor;
                    return Ok(ContentPage {
                        items,
                        next_cursor: next,
                    });
                }
            }
        }
        if exhausted {
            return Ok(ContentPage {
                items,
                next_cursor: None,
            });
        }
    }
    // Scanned enough for one request; the client continues from here.
    let next = after.and_then(|id| {
        crate::storage::page::Page::from_rows(
            vec![id, String::new()],
            &PageRequest {
                after: None,
                limit: 1,
            },
            scope,
            Clone::clone,
        )
        .next_cursor
    });
    Ok(ContentPage {
        items,
        next_cursor: next,
    })
}

fn summary(row: &ArticleRow, tier: Tier) -> ContentSummary {
    ContentSummary {
        id: row.id.parse().unwrap_or_default(),
        publisher_id: row.publisher_id.parse().unwrap_or_default(),
        tier,
        version: row.version,
        headline: row.headline.clone(),
        standfirst: row.standfirst.clone(),
        bylines: serde_json::from_str(&row.bylines).unwrap_or_default(),
        agency_credits: serde_json::from_str(&row.agency_credits).unwrap_or_default(),
        section: row.section.clone(),
        language: row.language.clone(),
        first_published_at: row.first_published_at.map(utc),
        version_created_at: utc(row.version_created_at),
    }
}

/// One change a licensee should hear of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedEvent {
    /// Resume after this event by passing it as `cursor`.
    pub cursor: String,
    /// `published`, `updated`, `corrected`, `withheld` or `killed`.
    #[schema(value_type = String, example = "published")]
    pub kind: EventKind,
    /// The article.
    pub article_id: Uuid,
    /// Its version after the change.
    pub version: i32,
    /// When the change became visible to licensees.
    pub at: DateTime<Utc>,
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "events": [
        {"cursor": "ZmVlZDo...MTc", "kind": "published", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 1, "at": "2026-11-28T06:00:00Z"},
        {"cursor": "ZmVlZDo...MjE", "kind": "corrected", "article_id": "019ac0a6-1111-7222-8333-444455556666", "version": 2, "at": "2026-11-28T07:12:00Z"}
    ],
    "next_cursor": "ZmVlZDo...MjE"
}))]
pub struct FeedPage {
    /// Events in order.
    pub events: Vec<FeedEvent>,
    /// Pass as `cursor` next time (always present; cursors do not expire).
    pub next_cursor: String,
}

/// Options of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `next_cursor` (or an event's `cursor`) from before; absent starts
    /// from the beginning.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Events per page, 1 to 1000 (default 50). Catching up from the
    /// beginning goes fastest with the largest pages.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Seconds to wait for an event when there is none yet, 0 to 30.
    #[param(minimum = 0, maximum = 30)]
    pub wait: Option<u64>,
}

fn encode_feed_cursor(licensee: LicenseeId, position: Option<(NaiveDateTime, i64)>) -> String {
    let (micros, seq) = position.map_or((0, 0), |(at, seq)| (at.and_utc().timestamp_micros(), seq));
    URL_SAFE_NO_PAD.encode(format!("feed:{licensee}:{micros}:{seq}"))
}

/// Writes the cursors of one page: the part every cursor of a licensee
/// shares, `feed:<licensee>:`, is 42 bytes, a whole number of base64
/// groups, so it is encoded once and each cursor appends its own part.
struct FeedCursors {
    licensee: LicenseeId,
    encoded_prefix: Option<String>,
}

impl FeedCursors {
    fn new(licensee: LicenseeId) -> Self {
        let prefix = format!("feed:{licensee}:");
        Self {
            licensee,
            encoded_prefix: (prefix.len() % 3 == 0).then(|| URL_SAFE_NO_PAD.encode(prefix)),
        }
    }

    fn at(&self, position: (NaiveDateTime, i64)) -> String {
        let Some(prefix) = &self.encoded_prefix else {
            return encode_feed_cursor(self.licensee, Some(position));
        };
        let (at, seq) = position;
        let mut cursor = prefix.clone();
        URL_SAFE_NO_PAD.encode_string(
            format!("{}:{seq}", at.and_utc().timestamp_micros()),
            &mut cursor,
        );
        cursor
    }
}

fn decode_feed_cursor(
    licensee: LicenseeId,
    cursor: &str,
) -> Result<Option<(NaiveDateTime, i64)>, ApiError> {
    let invalid = super::unknown_cursor;
    if cursor.len() > 200 {
        return Err(invalid());
    }
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let parts: Vec<&str> = text.split(':').collect();
    let [tag, owner, micros, seq] = parts.as_slice() else {
        return Err(invalid());
    };
    if *tag != "feed" || *owner != licensee.to_string() {
        return Err(invalid());
    }
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let seq: i64 = seq.parse().map_err(|_| invalid())?;
    if micros == 0 && seq == 0 {
        return Ok(None);
    }
    let at = DateTime::from_timestamp_micros(micros)
        .ok_or_else(invalid)?
        .naive_utc();
    Ok(Some((at, seq)))
}

/// Whether the licensee should hear of this event.
fn should_hear(entitlement: &Entitlement, row: &FeedRow, now: NaiveDateTime) -> bool {
    let event = &row.event;
    let Ok(publisher) = event.publisher_id.parse::<PublisherId>() else {
        return false;
    };
    if row.redistribution == Redistribution::Prohibited.as_str() {
        return false;
    }
    let Ok(kind) = event.kind.parse::<EventKind>() else {
        return false;
    };
    match kind {
        EventKind::Created => false,
        EventKind::Published | EventKind::Updated | EventKind::Corrected => {
            event.status == ArticleStatus::Published.as_str()
                && entitlement
                    .licences
                    .iter()
                    .any(|l| l.in_force(now) && l.covers(publisher, &event.section))
        }
        EventKind::Withheld => entitlement
            .licences
            .iter()
            .any(|l| l.in_force(now) && l.covers(publisher, &event.section)),
        EventKind::Killed => {
            let facts = ArticleFacts {
                publisher_id: publisher,
                status: ArticleStatus::Killed,
                section: event.section.clone(),
                embargo_until: None,
                redistribution: Redistribution::Allowed,
                first_published_at: row.first_published_at,
                killed_at: row.killed_at,
            };
            access::was_visible(&entitlement.licences, &facts)
        }
    }
}

/// Reads one page of the feed after `position`.
fn feed_page(
    conn: &mut DbConnection,
    licensee: LicenseeId,
    position: Option<(NaiveDateTime, i64)>,
    limit: usize,
) -> Result<FeedPage, ApiError> {
    let entitlement = Entitlement::load(conn, licensee)?;
    let publishers: Vec<String> = {
        let mut all: Vec<String> = entitlement
            .licences
            .iter()
            .map(|l| l.publisher_id.to_string())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    // Reads `limit` events at a time, and at most 32 times that, so a
    // licensee that hears few of the events still gets an answer soon (with
    // a cursor past what was read).
    let chunk = i64::try_from(limit).unwrap_or(MAX_FEED_PAGE);
    let cursors = FeedCursors::new(licensee);
    let read = articles::consistent_read(conn, |conn, now| {
        let mut cursor = position;
        let mut events = Vec::new();
        for _ in 0..32 {
            let rows = articles::feed(conn, &publishers, cursor, now, chunk)?;
            let exhausted = rows.len() < usize::try_from(chunk).unwrap_or(usize::MAX);
            for row in rows {
                let position = (row.event.visible_at, row.event.seq);
                cursor = Some(position);
                if should_hear(&entitlement, &row, now) {
                    events.push(FeedEvent {
                        cursor: cursors.at(position),
                        kind: row.event.kind.parse().unwrap_or(EventKind::Updated),
                        article_id: row.event.article_id.parse().unwrap_or_default(),
                        version: row.event.version,
                        at: utc(row.event.visible_at),
                    });
                    if events.len() == limit {
                        return Ok((events, cursor));
                    }
                }
            }
            if exhausted {
                break;
            }
        }
        Ok((events, cursor))
    })?;
    let (events, cursor) = read;
    Ok(FeedPage {
        events,
        next_cursor: encode_feed_cursor(licensee, cursor),
    })
}

/// The change feed: every `published`, `updated`, `corrected`, `withheld`
/// and `killed` event of content the licensee's licences cover, in one
/// order, resumable from an opaque cursor that never expires and never
/// skips an event (an embargoed story appears when its embargo lifts, after
/// any cursor taken before; a kill reaches every licensee that could see
/// the story). With `wait`, an empty page waits up to that many seconds for
/// the next event.
///
/// Licensees only. Not metered.
#[utoipa::path(
    tag = "content",
    security(("bearer" = []), ("oauth2" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "Events and the cursor to continue from", body = FeedPage),
        (status = 400, response = responses::BadRequest),
        (status = 401, response = responses::Unauthorized),
        (status = 404, response = responses::NotFound),
        (status = 403, response = responses::Forbidden),
        (status = 422, response = responses::Validation),
        (status = 503, response = responses::Unavailable),
    ),
)]
#[get("/v1/feed")]
pub async fn get_feed(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<FeedQuery>,
) -> Result<web::Json<FeedPage>, ApiError> {
    caller.require(Role::Licensee)?;
    let licensee = caller
        .licensee_id()
        .ok_or_else(|| ApiError::Forbidden("this client acts for no licensee".to_owned()))?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_FEED_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be between 1 and {MAX_FEED_PAGE}"),
        ));
    }
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(ApiError::invalid(
            "wait",
            format!("at most {MAX_WAIT_SECONDS} seconds"),
        ));
    }
    let position = match &query.cursor {
        Some(cursor) => decode_feed_cursor(licensee, cursor)?,
        None => None,
    };
    let limit = usize::try_from(limit).unwrap_or(50);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let page = db(&state, move |conn| {
            feed_page(conn, licensee, position, limit)
        })
        .await?;
        if !page.events.is_empty() || tokio::time::Instant::now() + FEED_POLL > deadline {
            return Ok(web::Json(page));
        }
        tokio::time::sleep(FEED_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::content::MediaRole;

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
        }
    }

    /// The document a JSON delivery must be, written out by hand.
    fn photo_json(id: Uuid, role: &str, caption: &str) -> serde_json::Value {
        serde_json::json!({
            "id": id, "role": role, "caption": caption,
            "credit_line": "Photograph: Tove Brannick/Harbourlight", "creator": "Tove Brannick",
            "copyright_holder": "Harbourlight", "copyright_notice": null, "licensor": "Harbourlight",
            "usage_terms": "Editorial use only",
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
        let stored = StoredArticle::new(row, &photos, "Harbourlight News".to_owned()).unwrap();
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
                "tier": if full { "full" } else { "preview" }, "version": 3,
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
    }

    #[test]
    fn a_page_writes_the_cursors_one_at_a_time_would() {
        let licensee = LicenseeId(Uuid::now_v7());
        let cursors = FeedCursors::new(licensee);
        assert!(cursors.encoded_prefix.is_some());
        for (micros, seq) in [
            (1, 1),
            (1_764_000_000_123_456, 42),
            (4_102_444_800_000_000, i64::MAX),
        ] {
            let at = DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            let cursor = cursors.at((at, seq));
            assert_eq!(cursor, encode_feed_cursor(licensee, Some((at, seq))));
            assert_eq!(
                decode_feed_cursor(licensee, &cursor).unwrap(),
                Some((at, seq))
            );
        }
    }
}
