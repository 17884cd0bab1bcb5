//! The access decision's rules, one table row at a time.

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
    purpose: Purpose,
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
            purposes: vec![Purpose::Display],
            attribution_required: false,
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
            data_mining: DataMining::Unspecified,
        }],
        purpose: Purpose::Display,
    }
}

impl World {
    fn decide_at(&self, now: NaiveDateTime) -> Decision {
        decide(
            &self.licensee,
            &self.licences,
            &self.article,
            &self.photos,
            self.purpose,
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
    w.article.redistribution =
        Redistribution::most_restrictive([Redistribution::PreviewOnly, Redistribution::Prohibited]);
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

impl World {
    /// Whether the licensee hears of a `kind` event that left the article
    /// as it stands.
    fn hears(&self, kind: EventKind) -> bool {
        let event = EventFacts {
            kind,
            article_id: ArticleId::generate(),
            version: 1,
            visible_at: noon() - Duration::hours(1),
            article: self.article.clone(),
        };
        hears(&self.licences, &event, noon())
    }
}

#[test]
fn the_feed_tells_of_published_changes_to_covered_articles_and_nothing_of_drafts() {
    let w = world();
    for kind in [
        EventKind::Published,
        EventKind::Updated,
        EventKind::Corrected,
    ] {
        assert!(w.hears(kind), "{kind:?}");
    }
    assert!(!w.hears(EventKind::Created), "a draft is nobody's business");

    let mut withheld = world();
    withheld.article.status = ArticleStatus::Withheld;
    assert!(withheld.hears(EventKind::Withheld));
    assert!(
        !withheld.hears(EventKind::Updated),
        "an update of an article no longer published"
    );
}

#[test]
fn the_feed_is_silent_without_a_covering_licence_in_force() {
    let mut other_section = world();
    other_section.licences[0].sections = Some(vec!["sport".to_owned()]);
    assert!(!other_section.hears(EventKind::Published));
    assert!(!other_section.hears(EventKind::Withheld));

    let mut ended = world();
    ended.licences[0].valid_until = Some(noon() - Duration::hours(3));
    assert!(!ended.hears(EventKind::Published));

    let mut prohibited = world();
    prohibited.article.redistribution = Redistribution::Prohibited;
    assert!(!prohibited.hears(EventKind::Published));
}

#[test]
fn a_kill_reaches_a_licensee_that_could_have_the_story_even_after_its_licence_ended() {
    let mut w = world();
    w.article.status = ArticleStatus::Killed;
    w.article.killed_at = Some(noon() - Duration::hours(1));
    w.licences[0].valid_until = Some(noon() - Duration::minutes(30));
    assert!(w.hears(EventKind::Killed));

    // Killed before it was ever public: there was nothing to have.
    w.article.first_published_at = None;
    assert!(!w.hears(EventKind::Killed));
}

#[test]
fn the_publishers_of_an_entitlement_are_listed_once_and_in_force_when_asked() {
    let w = world();
    let publisher = w.licences[0].publisher_id;
    let mut licences = w.licences.clone();
    let mut second = licences[0].clone();
    second.id = "licence-b".to_owned();
    second.sections = Some(vec!["sport".to_owned()]);
    licences.push(second);
    let mut ended = licences[0].clone();
    ended.id = "licence-c".to_owned();
    ended.publisher_id = PublisherId::generate();
    ended.valid_until = Some(noon() - Duration::days(1));
    licences.push(ended.clone());

    assert_eq!(publishers(&licences, Some(noon())), vec![publisher]);
    let all = publishers(&licences, None);
    assert_eq!(all.len(), 2);
    assert!(all.contains(&publisher) && all.contains(&ended.publisher_id));
}

#[test]
fn a_purpose_no_licence_in_force_permits_is_refused_and_the_licensed_ones_are_named() {
    let mut w = world();
    w.licences[0].purposes = vec![Purpose::Display, Purpose::AiInput];
    let mut second = w.licences[0].clone();
    second.id = "licence-b".to_owned();
    second.purposes = vec![Purpose::Search];
    second.tier = Tier::Preview;
    w.licences.push(second);

    for (purpose, expected) in [
        (Purpose::Display, Ok(("licence-a", Tier::Full))),
        (Purpose::AiInput, Ok(("licence-a", Tier::Full))),
        (Purpose::Search, Ok(("licence-b", Tier::Preview))),
        (Purpose::AiTrain, Err(Denial::PurposeNotLicensed)),
        (Purpose::AiIndex, Err(Denial::PurposeNotLicensed)),
    ] {
        w.purpose = purpose;
        let got = w.decide().map(|g| {
            assert_eq!(g.purpose, purpose);
            (
                if g.licence_id == "licence-a" {
                    "licence-a"
                } else {
                    "licence-b"
                },
                g.tier,
            )
        });
        assert_eq!(got, expected, "{purpose}");
    }
    assert_eq!(
        licensed_purposes(&w.licences, &w.article, noon()),
        [Purpose::Display, Purpose::Search, Purpose::AiInput]
    );

    // A licence that has ended permits nothing any more, and an article
    // no licence covers is not found, whatever the purpose.
    w.licences[1].valid_until = Some(noon() - Duration::hours(1));
    w.purpose = Purpose::Search;
    assert_eq!(w.decide(), Err(Denial::PurposeNotLicensed));
    w.article.section = "sport".to_owned();
    w.licences[0].sections = Some(vec!["world".to_owned()]);
    w.licences[1].sections = Some(vec!["world".to_owned()]);
    assert_eq!(w.decide(), Err(Denial::NotLicensed));
}

#[test]
fn an_embargoed_article_is_not_found_before_its_purpose_is_looked_at() {
    let mut w = world();
    w.article.embargo_until = Some(noon() + Duration::hours(1));
    w.purpose = Purpose::AiTrain;
    assert_eq!(w.decide(), Err(Denial::Embargoed));
}

#[test]
fn a_photo_is_withheld_from_the_purposes_its_data_mining_value_forbids() {
    let mut w = world();
    w.licences[0].purposes = Purpose::ALL.to_vec();
    for value in DataMining::ALL {
        w.photos[0].data_mining = value;
        for purpose in Purpose::ALL {
            w.purpose = purpose;
            let expected = (!value.allows(purpose)).then_some(WithheldReason::DataMining);
            assert_eq!(w.photo_reason(noon()), expected, "{value} for {purpose}");
        }
    }
    // Other reasons come first: a photo the licence excludes is excluded
    // for that reason, whatever its data-mining value.
    w.licences[0].include_media = false;
    w.photos[0].data_mining = DataMining::Prohibited;
    w.purpose = Purpose::AiTrain;
    assert_eq!(
        w.photo_reason(noon()),
        Some(WithheldReason::LicenceExcludesMedia)
    );
}
