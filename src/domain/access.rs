//! The access decision: what a licensee may receive of an article, and of
//! its photos, at an instant. One pure function, so every rule can be tested
//! on its own and in combination; delivery, search and the feed all ask it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::content::{ArticleStatus, Redistribution, Syndication};
use super::{LicenseeId, LicenseeStatus, MediaId, PublisherId, Territory};

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
}

/// What the licensee receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The licence it is delivered under.
    pub licence_id: String,
    /// Full text or preview.
    pub tier: Tier,
    /// Photos delivered, in the article's order.
    pub delivered: Vec<MediaId>,
    /// Photos left out, with why.
    pub withheld: Vec<(MediaId, WithheldReason)>,
}

/// The outcome.
pub type Decision = Result<Grant, Denial>;

/// Decides what `licensee` may receive of `article` and its `photos` at `now`.
pub fn decide(
    licensee: &LicenseeFacts,
    licences: &[LicenceFacts],
    article: &ArticleFacts,
    photos: &[PhotoFacts],
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
    // The best licence in force: full over preview, then one with media.
    let licence = licences
        .iter()
        .filter(|l| l.in_force(now) && l.covers(article.publisher_id, &article.section))
        .max_by_key(|l| (l.tier, l.include_media, std::cmp::Reverse(l.id.clone())))
        .ok_or(Denial::NotLicensed)?;
    if article.embargo_until.is_some_and(|embargo| now < embargo) {
        return Err(Denial::Embargoed);
    }
    let tier = if article.redistribution == Redistribution::PreviewOnly {
        Tier::Preview
    } else {
        licence.tier
    };
    let mut delivered = Vec::new();
    let mut withheld = Vec::new();
    for photo in photos {
        match photo_withheld(licensee, licence, photo, now) {
            None => delivered.push(photo.id),
            Some(reason) => withheld.push((photo.id, reason)),
        }
    }
    Ok(Grant {
        licence_id: licence.id.clone(),
        tier,
        delivered,
        withheld,
    })
}

/// Why a photo is left out, if it is.
fn photo_withheld(
    licensee: &LicenseeFacts,
    licence: &LicenceFacts,
    photo: &PhotoFacts,
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
    None
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
mod tests {
    use chrono::{Duration, NaiveDate};

    use super::*;

    fn noon() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    fn territories(codes: &[&str]) -> Vec<Territory> {
        codes.iter().map(|c| c.parse().unwrap()).collect()
    }

    struct World {
        licensee: LicenseeFacts,
        licences: Vec<LicenceFacts>,
        article: ArticleFacts,
        photos: Vec<PhotoFacts>,
    }

    fn world() -> World {
        let publisher = PublisherId::generate();
        World {
            licensee: LicenseeFacts {
                id: LicenseeId::generate(),
                status: LicenseeStatus::Active,
                territories: territories(&["GB", "IE"]),
            },
            licences: vec![LicenceFacts {
                id: "licence-a".to_owned(),
                publisher_id: publisher,
                sections: None,
                tier: Tier::Full,
                include_media: true,
                valid_from: noon() - Duration::days(30),
                valid_until: None,
            }],
            article: ArticleFacts {
                publisher_id: publisher,
                status: ArticleStatus::Published,
                section: "world".to_owned(),
                embargo_until: None,
                redistribution: Redistribution::Allowed,
                first_published_at: Some(noon() - Duration::hours(2)),
                killed_at: None,
            },
            photos: vec![PhotoFacts {
                id: MediaId::generate(),
                syndication: Syndication::Allowed,
                licensees: None,
                territories_allowed: None,
                territories_denied: Vec::new(),
                expires_at: None,
            }],
        }
    }

    impl World {
        fn decide_at(&self, now: NaiveDateTime) -> Decision {
            decide(
                &self.licensee,
                &self.licences,
                &self.article,
                &self.photos,
                now,
            )
        }

        fn decide(&self) -> Decision {
            self.decide_at(noon())
        }

        fn photo_reason(&self, now: NaiveDateTime) -> Option<WithheldReason> {
            let grant = self.decide_at(now).expect("article delivered");
            grant.withheld.first().map(|(_, reason)| *reason)
        }
    }

    #[test]
    fn a_published_licensed_article_is_delivered_in_full_with_its_photo() {
        let w = world();
        let grant = w.decide().unwrap();
        assert_eq!(grant.tier, Tier::Full);
        assert_eq!(grant.licence_id, "licence-a");
        assert_eq!(grant.delivered, vec![w.photos[0].id]);
        assert!(grant.withheld.is_empty());
    }

    #[test]
    fn article_rules_each_deny_on_their_own() {
        type Change = fn(&mut World);
        let cases: &[(&str, Change, Denial)] = &[
            (
                "suspended licensee",
                |w| w.licensee.status = LicenseeStatus::Suspended,
                Denial::Suspended,
            ),
            (
                "draft",
                |w| w.article.status = ArticleStatus::Draft,
                Denial::NotPublished,
            ),
            (
                "withheld",
                |w| w.article.status = ArticleStatus::Withheld,
                Denial::NotPublished,
            ),
            ("no licence", |w| w.licences.clear(), Denial::NotLicensed),
            (
                "other publisher",
                |w| w.licences[0].publisher_id = PublisherId::generate(),
                Denial::NotLicensed,
            ),
            (
                "licence not yet valid",
                |w| w.licences[0].valid_from = noon() + Duration::seconds(1),
                Denial::NotLicensed,
            ),
            (
                "licence ended",
                |w| w.licences[0].valid_until = Some(noon()),
                Denial::NotLicensed,
            ),
            (
                "section outside scope",
                |w| w.licences[0].sections = Some(vec!["sport".to_owned()]),
                Denial::NotLicensed,
            ),
            (
                "agency prohibits",
                |w| w.article.redistribution = Redistribution::Prohibited,
                Denial::RedistributionProhibited,
            ),
            (
                "embargoed",
                |w| w.article.embargo_until = Some(noon() + Duration::seconds(1)),
                Denial::Embargoed,
            ),
        ];
        for (name, change, expected) in cases {
            let mut w = world();
            change(&mut w);
            assert_eq!(w.decide(), Err(*expected), "{name}");
        }
    }

    #[test]
    fn an_embargo_lifts_at_its_instant() {
        let mut w = world();
        w.article.embargo_until = Some(noon());
        assert_eq!(
            w.decide_at(noon() - Duration::microseconds(1)),
            Err(Denial::Embargoed)
        );
        assert!(w.decide_at(noon()).is_ok());
        assert!(w.decide_at(noon() + Duration::seconds(1)).is_ok());
    }

    #[test]
    fn a_licence_is_in_force_from_its_start_until_just_before_its_end() {
        let mut w = world();
        w.licences[0].valid_from = noon();
        w.licences[0].valid_until = Some(noon() + Duration::hours(1));
        assert!(w.decide_at(noon()).is_ok());
        assert!(
            w.decide_at(noon() + Duration::hours(1) - Duration::microseconds(1))
                .is_ok()
        );
        assert_eq!(
            w.decide_at(noon() + Duration::hours(1)),
            Err(Denial::NotLicensed)
        );
    }

    #[test]
    fn sections_in_scope_are_delivered() {
        let mut w = world();
        w.licences[0].sections = Some(vec!["sport".to_owned(), "world".to_owned()]);
        assert!(w.decide().is_ok());
    }

    #[test]
    fn preview_tier_and_preview_only_credits_give_a_preview() {
        let mut preview_licence = world();
        preview_licence.licences[0].tier = Tier::Preview;
        let mut preview_credit = world();
        preview_credit.article.redistribution = Redistribution::PreviewOnly;
        assert_eq!(preview_licence.decide().unwrap().tier, Tier::Preview);
        assert_eq!(preview_credit.decide().unwrap().tier, Tier::Preview);
    }

    #[test]
    fn prohibited_hides_even_from_a_full_licence_and_beats_preview_only() {
        let mut w = world();
        w.article.redistribution = Redistribution::most_restrictive([
            Redistribution::PreviewOnly,
            Redistribution::Prohibited,
        ]);
        assert_eq!(w.decide(), Err(Denial::RedistributionProhibited));
    }

    #[test]
    fn the_best_licence_in_force_wins() {
        let mut w = world();
        w.licences[0].tier = Tier::Preview;
        let mut full = w.licences[0].clone();
        full.id = "licence-b".to_owned();
        full.tier = Tier::Full;
        full.sections = Some(vec!["world".to_owned()]);
        w.licences.push(full);
        let grant = w.decide().unwrap();
        assert_eq!(
            (grant.licence_id.as_str(), grant.tier),
            ("licence-b", Tier::Full)
        );
    }

    #[test]
    fn a_kill_is_a_410_only_for_a_licensee_that_could_have_seen_it() {
        let mut w = world();
        w.article.status = ArticleStatus::Killed;
        w.article.killed_at = Some(noon() - Duration::hours(1));
        assert_eq!(w.decide(), Err(Denial::Killed));

        let mut never_public = world();
        never_public.article.status = ArticleStatus::Killed;
        never_public.article.first_published_at = None;
        never_public.article.killed_at = Some(noon());
        assert_eq!(never_public.decide(), Err(Denial::NotLicensed));

        let mut licensed_after = world();
        licensed_after.article.status = ArticleStatus::Killed;
        licensed_after.article.killed_at = Some(noon() - Duration::hours(1));
        licensed_after.licences[0].valid_from = noon() - Duration::minutes(30);
        assert_eq!(licensed_after.decide(), Err(Denial::NotLicensed));

        let mut other_section = world();
        other_section.article.status = ArticleStatus::Killed;
        other_section.article.killed_at = Some(noon() - Duration::hours(1));
        other_section.licences[0].sections = Some(vec!["sport".to_owned()]);
        assert_eq!(other_section.decide(), Err(Denial::NotLicensed));
    }

    #[test]
    fn suspension_beats_everything() {
        let mut w = world();
        w.licensee.status = LicenseeStatus::Suspended;
        w.article.status = ArticleStatus::Killed;
        w.article.killed_at = Some(noon());
        assert_eq!(w.decide(), Err(Denial::Suspended));
    }

    #[test]
    fn photo_rules_each_withhold_with_their_reason() {
        type Change = fn(&mut World);
        let cases: &[(&str, Change, WithheldReason)] = &[
            (
                "licence without media",
                |w| w.licences[0].include_media = false,
                WithheldReason::LicenceExcludesMedia,
            ),
            (
                "syndication prohibited",
                |w| w.photos[0].syndication = Syndication::Prohibited,
                WithheldReason::SyndicationProhibited,
            ),
            (
                "other licensees only",
                |w| w.photos[0].licensees = Some(vec![LicenseeId::generate()]),
                WithheldReason::LicenseeNotAllowed,
            ),
            (
                "one territory denied",
                |w| w.photos[0].territories_denied = territories(&["IE"]),
                WithheldReason::Territory,
            ),
            (
                "one territory not allowed",
                |w| w.photos[0].territories_allowed = Some(territories(&["GB"])),
                WithheldReason::Territory,
            ),
            (
                "expired",
                |w| w.photos[0].expires_at = Some(noon()),
                WithheldReason::Expired,
            ),
        ];
        for (name, change, expected) in cases {
            let mut w = world();
            change(&mut w);
            assert_eq!(w.photo_reason(noon()), Some(*expected), "{name}");
        }
    }

    #[test]
    fn photos_allowed_by_licensee_and_territory_are_delivered() {
        let mut w = world();
        w.photos[0].licensees = Some(vec![w.licensee.id]);
        w.photos[0].territories_allowed = Some(territories(&["GB", "IE", "FR"]));
        w.photos[0].territories_denied = territories(&["US"]);
        assert_eq!(w.photo_reason(noon()), None);
    }

    #[test]
    fn a_photo_expiring_at_noon_is_delivered_at_11_59_59_and_not_at_noon() {
        let mut w = world();
        w.photos[0].expires_at = Some(noon());
        assert_eq!(w.photo_reason(noon() - Duration::seconds(1)), None);
        assert_eq!(w.photo_reason(noon()), Some(WithheldReason::Expired));
    }

    #[test]
    fn the_first_failing_photo_rule_is_the_reason_given() {
        let mut w = world();
        w.licences[0].include_media = false;
        w.photos[0].syndication = Syndication::Prohibited;
        w.photos[0].expires_at = Some(noon());
        assert_eq!(
            w.photo_reason(noon()),
            Some(WithheldReason::LicenceExcludesMedia)
        );
    }

    #[test]
    fn each_photo_is_decided_on_its_own() {
        let mut w = world();
        let mut expired = w.photos[0].clone();
        expired.id = MediaId::generate();
        expired.expires_at = Some(noon());
        w.photos.push(expired.clone());
        let grant = w.decide().unwrap();
        assert_eq!(grant.delivered, vec![w.photos[0].id]);
        assert_eq!(grant.withheld, vec![(expired.id, WithheldReason::Expired)]);
    }

    #[test]
    fn the_next_change_is_the_earliest_future_edge() {
        let mut w = world();
        w.licences[0].valid_until = Some(noon() + Duration::hours(3));
        w.photos[0].expires_at = Some(noon() + Duration::hours(1));
        assert_eq!(
            next_change(&w.licences, &w.article, &w.photos, noon()),
            Some(noon() + Duration::hours(1))
        );
        assert_eq!(
            next_change(&w.licences, &w.article, &[], noon()),
            Some(noon() + Duration::hours(3))
        );
    }
}
