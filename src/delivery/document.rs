//! The documents a delivery is written as: this service's JSON
//! ([`ContentResponse`]) and the formats a licensee may ask for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::access::{Tier, WithheldReason};
use crate::domain::content::{AgencyCredit, ArticleStatus, Byline, Rendition};
use crate::domain::licence::Attribution;
use crate::domain::purpose::{DataMining, Purpose};

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

impl Format {
    /// The name the usage ledger records.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ninjs => "ninjs",
        }
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
    /// Its IPTC/PLUS data-mining value (`plus:DataMining`), which binds
    /// whoever receives it.
    pub data_mining: DataMining,
    /// The files.
    pub renditions: Vec<Rendition>,
}

/// A photo left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WithheldPhoto {
    /// Why it was left out.
    pub reason: WithheldReason,
}

/// A correction of the article, for an aggregator to show with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"version": 2, "corrected_at": "2026-11-28T07:12:00Z", "note": "An earlier version gave the wrong height for the gates."}))]
pub struct CorrectionNote {
    /// The version the correction made.
    pub version: i32,
    /// When it was made.
    pub corrected_at: DateTime<Utc>,
    /// What was wrong, as the publisher wrote it for readers.
    pub note: String,
}

/// A licensed article as delivered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ac0a6-1111-7222-8333-444455556666",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "licence_id": "019ac0a7-2222-7333-8444-555566667777",
    "tier": "full",
    "purpose": "ai-input",
    "attribution": {
        "text": "Amara Okafor in Portmere / The Harbour Times; Northwire contributed to this report",
        "link": "https://news.example.org/environment/hg-demo-01"
    },
    "version": 2,
    "status": "published",
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
        "usage_terms": "Editorial use only", "data_mining": "prohibited_gen_ai_ml_training",
        "renditions": [{"href": "https://images.example.org/demo/gates-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}]
    }],
    "media_withheld": [{"reason": "territory"}],
    "corrections": [{"version": 2, "corrected_at": "2026-11-28T07:12:00Z", "note": "An earlier version gave the wrong height for the gates."}]
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
    /// What it was delivered for, as the request declared.
    pub purpose: Purpose,
    /// When the licence requires attribution: the credit the licensee must
    /// show with the article (also recorded in the usage ledger).
    pub attribution: Option<Attribution>,
    /// The version delivered.
    pub version: i32,
    /// The article's status now (a delivered article is `published`; in
    /// ninjs, `pubstatus` `usable`).
    pub status: ArticleStatus,
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
    /// Every correction of the article, oldest first, with its note, for
    /// an aggregator to show (empty when it was never corrected). In ninjs,
    /// each is a `descriptions` entry with the role `correction` whose value
    /// reads "Corrected in version N (time): note".
    pub corrections: Vec<CorrectionNote>,
}
