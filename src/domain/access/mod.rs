//! The access decision: what a licensee may receive of an article, and of
//! its photos, at an instant. One pure function, so every rule can be tested
//! on its own and in combination; delivery, search and the feed all ask it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::content::{ArticleStatus, EventKind, Redistribution, Syndication};
use super::purpose::{DataMining, Purpose};
use super::{ArticleId, LicenseeId, LicenseeStatus, MediaId, PublisherId, Territory};

/// How much of an article a licence grants.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Headline, standfirst, bylines, credits and canonical URL; no body.
    Preview,
    /// Everything, body included.
    Full,
}

impl Tier {
    /// The stored and serialised name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Preview => "preview",
            Tier::Full => "full",
        }
    }
}

impl std::str::FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Tier::Full),
            "preview" => Ok(Tier::Preview),
            other => Err(format!("unknown tier {other:?}")),
        }
    }
}

/// The licensee asking.
#[derive(Debug, Clone)]
pub struct LicenseeFacts {
    /// Its id.
    pub id: LicenseeId,
    /// Active or suspended.
    pub status: LicenseeStatus,
    /// Where it distributes.
    pub territories: Vec<Territory>,
}

/// One of its licences.
#[derive(Debug, Clone)]
pub struct LicenceFacts {
    /// The licence id (reported back in the decision).
    pub id: String,
    /// The publisher whose content it covers.
    pub publisher_id: PublisherId,
    /// The sections it covers; `None` is all.
    pub sections: Option<Vec<String>>,
    /// Full or preview.
    pub tier: Tier,
    /// Whether photos come with the articles.
    pub include_media: bool,
    /// The purposes it permits, sorted, at least one.
    pub purposes: Vec<Purpose>,
    /// Whether a delivery under it must carry the article's attribution.
    pub attribution_required: bool,
    /// In force from this instant…
    pub valid_from: NaiveDateTime,
    /// …until this one (exclusive), if it ends.
    pub valid_until: Option<NaiveDateTime>,
}

impl LicenceFacts {
    /// Whether the licence is in force at `at`.
    pub fn in_force(&self, at: NaiveDateTime) -> bool {
        self.valid_from <= at && self.valid_until.is_none_or(|until| at < until)
    }

    /// Whether it covers a publisher's section.
    pub fn covers(&self, publisher: PublisherId, section: &str) -> bool {
        self.publisher_id == publisher
            && self
                .sections
                .as_ref()
                .is_none_or(|s| s.iter().any(|x| x == section))
    }

    /// Whether it permits fetching for `purpose`.
    pub fn permits(&self, purpose: Purpose) -> bool {
        self.purposes.contains(&purpose)
    }
}

/// The article.
#[derive(Debug, Clone)]
pub struct ArticleFacts {
    /// Its publisher.
    pub publisher_id: PublisherId,
    /// Its status.
    pub status: ArticleStatus,
    /// Its section.
    pub section: String,
    /// Hidden until this instant (inclusive: visible at it).
    pub embargo_until: Option<NaiveDateTime>,
    /// The strictest agency redistribution term among its credits.
    pub redistribution: Redistribution,
    /// When it first became public, if ever.
    pub first_published_at: Option<NaiveDateTime>,
    /// When it was killed, if it was.
    pub killed_at: Option<NaiveDateTime>,
}

/// One of the article's photos.
#[derive(Debug, Clone)]
pub struct PhotoFacts {
    /// Its id.
    pub id: MediaId,
    /// Whether it may be syndicated at all.
    pub syndication: Syndication,
    /// If present, only these licensees may have it.
    pub licensees: Option<Vec<LicenseeId>>,
    /// If present, every licensee territory must be listed.
    pub territories_allowed: Option<Vec<Territory>>,
    /// No licensee territory may be listed.
    pub territories_denied: Vec<Territory>,
    /// Not delivered from this instant on.
    pub expires_at: Option<NaiveDateTime>,
    /// Its IPTC/PLUS data-mining value.
    pub data_mining: DataMining,
}

/// Why an article is not delivered. Every reason is a 404 to the licensee
/// (never a hint that the article exists) except `Killed`, which is a 410.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The licensee is suspended.
    Suspended,
    /// A draft, or withheld.
    NotPublished,
    /// Published but still under embargo.
    Embargoed,
    /// No licence in force covers its publisher and section.
    NotLicensed,
    /// Licences in force cover it, but none for the purpose asked (a 403
    /// naming the purposes that are licensed: see [`licensed_purposes`]).
    PurposeNotLicensed,
    /// An agency's terms prohibit syndicating it.
    RedistributionProhibited,
    /// Killed after this licensee could have seen it.
    Killed,
}

/// Why a photo was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithheldReason {
    /// The licence does not include media.
    LicenceExcludesMedia,
    /// The photo may not be syndicated.
    SyndicationProhibited,
    /// The photo is limited to other licensees.
    LicenseeNotAllowed,
    /// A territory of the licensee is not allowed, or is denied.
    Territory,
    /// The photo's rights have expired.
    Expired,
    /// The photo's data-mining value forbids the purpose of the fetch.
    DataMining,
}

/// What the licensee receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The licence it is delivered under.
    pub licence_id: String,
    /// The purpose it is delivered for.
    pub purpose: Purpose,
    /// Full text or preview.
    pub tier: Tier,
    /// Whether the delivery carries the article's attribution, which the
    /// licensee must show.
    pub attribution_required: bool,
    /// Photos delivered, in the article's order.
    pub delivered: Vec<MediaId>,
    /// Photos left out, with why.
    pub withheld: Vec<(MediaId, WithheldReason)>,
}

/// The outcome.
pub type Decision = Result<Grant, Denial>;

/// Decides what `licensee` may receive of `article` and its `photos` at
/// `now`, fetching for `purpose`.
pub fn decide(
    licensee: &LicenseeFacts,
    licences: &[LicenceFacts],
    article: &ArticleFacts,
    photos: &[PhotoFacts],
    purpose: Purpose,
    now: NaiveDateTime,
) -> Decision {
    if licensee.status == LicenseeStatus::Suspended {
        return Err(Denial::Suspended);
    }
    if article.redistribution == Redistribution::Prohibited {
        return Err(Denial::RedistributionProhibited);
    }
    if article.status == ArticleStatus::Killed {
        return if was_visible(licences, article) {
            Err(Denial::Killed)
        } else {
            Err(Denial::NotLicensed)
        };
    }
    if article.status != ArticleStatus::Published {
        return Err(Denial::NotPublished);
    }
    let mut covering = licences
        .iter()
        .filter(|l| l.in_force(now) && l.covers(article.publisher_id, &article.section))
        .peekable();
    if covering.peek().is_none() {
        return Err(Denial::NotLicensed);
    }
    if article.embargo_until.is_some_and(|embargo| now < embargo) {
        return Err(Denial::Embargoed);
    }
    // The best licence in force for the purpose: full over preview, then
    // one with media.
    let licence = covering
        .filter(|l| l.permits(purpose))
        .max_by_key(|l| (l.tier, l.include_media, std::cmp::Reverse(l.id.clone())))
        .ok_or(Denial::PurposeNotLicensed)?;
    let tier = if article.redistribution == Redistribution::PreviewOnly {
        Tier::Preview
    } else {
        licence.tier
    };
    let mut delivered = Vec::new();
    let mut withheld = Vec::new();
    for photo in photos {
        match photo_withheld(licensee, licence, photo, purpose, now) {
            None => delivered.push(photo.id),
            Some(reason) => withheld.push((photo.id, reason)),
        }
    }
    Ok(Grant {
        licence_id: licence.id.clone(),
        purpose,
        tier,
        attribution_required: licence.attribution_required,
        delivered,
        withheld,
    })
}

/// Why a photo is left out, if it is.
fn photo_withheld(
    licensee: &LicenseeFacts,
    licence: &LicenceFacts,
    photo: &PhotoFacts,
    purpose: Purpose,
    now: NaiveDateTime,
) -> Option<WithheldReason> {
    if !licence.include_media {
        return Some(WithheldReason::LicenceExcludesMedia);
    }
    if photo.syndication == Syndication::Prohibited {
        return Some(WithheldReason::SyndicationProhibited);
    }
    if photo
        .licensees
        .as_ref()
        .is_some_and(|allowed| !allowed.contains(&licensee.id))
    {
        return Some(WithheldReason::LicenseeNotAllowed);
    }
    let outside_allowed = photo
        .territories_allowed
        .as_ref()
        .is_some_and(|allowed| licensee.territories.iter().any(|t| !allowed.contains(t)));
    let denied = licensee
        .territories
        .iter()
        .any(|t| photo.territories_denied.contains(t));
    if outside_allowed || denied {
        return Some(WithheldReason::Territory);
    }
    if photo.expires_at.is_some_and(|expiry| now >= expiry) {
        return Some(WithheldReason::Expired);
    }
    if !photo.data_mining.allows(purpose) {
        return Some(WithheldReason::DataMining);
    }
    None
}

/// The purposes the licences in force at `now` permit for `article`, each
/// once and in order: what a refusal for another purpose names.
pub fn licensed_purposes(
    licences: &[LicenceFacts],
    article: &ArticleFacts,
    now: NaiveDateTime,
) -> Vec<Purpose> {
    let mut purposes: Vec<Purpose> = licences
        .iter()
        .filter(|l| l.in_force(now) && l.covers(article.publisher_id, &article.section))
        .flat_map(|l| l.purposes.iter().copied())
        .collect();
    purposes.sort();
    purposes.dedup();
    purposes
}

/// Whether a killed article was public while some licence of this licensee
/// covered it, so that the licensee may have it and must hear of the kill.
pub fn was_visible(licences: &[LicenceFacts], article: &ArticleFacts) -> bool {
    let (Some(public_from), Some(killed_at)) = (article.first_published_at, article.killed_at)
    else {
        return false;
    };
    public_from < killed_at
        && licences.iter().any(|l| {
            l.covers(article.publisher_id, &article.section)
                && l.valid_from < killed_at
                && l.valid_until.is_none_or(|until| public_from < until)
        })
}

/// A change to an article, as the feed sees it.
#[derive(Debug, Clone)]
pub struct EventFacts {
    /// What happened.
    pub kind: EventKind,
    /// The article.
    pub article_id: ArticleId,
    /// Its version after the change.
    pub version: i32,
    /// When the change became visible to licensees.
    pub visible_at: NaiveDateTime,
    /// The article as the event left it (its status after the change; no
    /// embargo, since an event becomes visible only once it has lifted).
    pub article: ArticleFacts,
}

/// Whether a licensee with `licences` hears of `event` in its feed at
/// `now`: a publication, update or correction of a published article a
/// licence in force covers; a withholding of an article a licence in force
/// covers; and a kill of an article the licensee may have received (see
/// [`was_visible`]), whatever its licences say now. Nothing of an article
/// whose agency terms prohibit redistribution, and no creation (a draft).
pub fn hears(licences: &[LicenceFacts], event: &EventFacts, now: NaiveDateTime) -> bool {
    let article = &event.article;
    if article.redistribution == Redistribution::Prohibited {
        return false;
    }
    let covered = || {
        licences
            .iter()
            .any(|l| l.in_force(now) && l.covers(article.publisher_id, &article.section))
    };
    match event.kind {
        EventKind::Created => false,
        EventKind::Published | EventKind::Updated | EventKind::Corrected => {
            article.status == ArticleStatus::Published && covered()
        }
        EventKind::Withheld => covered(),
        EventKind::Killed => was_visible(licences, article),
    }
}

/// The publishers whose content `licences` cover, each once and in order:
/// those of licences in force at `at`, or of every licence when `at` is
/// `None` (the feed, which must still tell of kills after a licence ends).
pub fn publishers(licences: &[LicenceFacts], at: Option<NaiveDateTime>) -> Vec<PublisherId> {
    let mut publishers: Vec<PublisherId> = licences
        .iter()
        .filter(|l| at.is_none_or(|at| l.in_force(at)))
        .map(|l| l.publisher_id)
        .collect();
    publishers.sort_by_key(ToString::to_string);
    publishers.dedup();
    publishers
}

/// The next instant at which the decision for this article could change by
/// itself (a licence ending or starting, a photo expiring, an embargo
/// lifting), so caches never outlive it.
pub fn next_change(
    licences: &[LicenceFacts],
    article: &ArticleFacts,
    photos: &[PhotoFacts],
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let licence_edges = licences
        .iter()
        .flat_map(|l| [Some(l.valid_from), l.valid_until])
        .flatten();
    let photo_edges = photos.iter().filter_map(|p| p.expires_at);
    licence_edges
        .chain(photo_edges)
        .chain(article.embargo_until)
        .filter(|t| *t > now)
        .min()
}

#[cfg(test)]
mod tests;
