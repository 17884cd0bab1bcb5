//! The fact cache's own rules: its budget, and what a change drops.

use std::time::Instant;

use bytes::Bytes;

use super::*;
use crate::delivery::document::Format;
use crate::domain::LicenseeStatus;
use crate::domain::access::{Grant, LicenseeFacts};
use crate::storage::articles::ArticleRow;

/// A log read after `since` up to `current`.
fn log(since: i64, current: i64, changes: &[(i64, Kind, &str)]) -> Log {
    let changes = changes
        .iter()
        .map(|(seq, kind, item)| Change {
            seq: *seq,
            kind: *kind,
            item: (*item).to_owned(),
        })
        .collect();
    Log::new(since, current, changes, Instant::now())
}

fn unknown_article(seen: i64) -> Loaded {
    Loaded {
        log: log(seen, seen, &[]),
        standing: None,
        entitlement: None,
        article: Some(None),
    }
}

#[test]
fn articles_stay_within_the_budget() {
    let cache = FactCache::new(10 * ENTRY_OVERHEAD);
    let licensee = LicenseeId(uuid::Uuid::nil());

    for n in 0..100 {
        cache.keep(
            "client",
            licensee,
            &format!("article-{n}"),
            &unknown_article(7),
        );
    }

    let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
    assert!(
        inner.article_bytes <= 10 * ENTRY_OVERHEAD,
        "{}",
        inner.article_bytes
    );
    assert_eq!(inner.article_bytes, inner.articles.len() * ENTRY_OVERHEAD);
    assert!(
        inner.articles.contains_key("article-99"),
        "the newest stays"
    );
}

/// An article of `publisher` that shows `photos`, with its own id.
fn stored_of(id: &str, publisher: &str, photos: &[&str]) -> Arc<StoredArticle> {
    let mut row = ArticleRow::sample(id, "x");
    row.publisher_id = publisher.to_owned();
    let refs: Vec<String> = photos
        .iter()
        .map(|p| format!(r#"{{"media_id": "{p}", "role": "main"}}"#))
        .collect();
    row.media = format!("[{}]", refs.join(","));
    Arc::new(StoredArticle::new(row, &[], "A publisher".to_owned(), &[]).unwrap())
}

/// An article whose row has an id of its own (the cache's key is
/// whatever the test keeps it under).
fn stored(body: &str) -> Arc<StoredArticle> {
    let row = ArticleRow::sample(&uuid::Uuid::now_v7().to_string(), body);
    Arc::new(StoredArticle::new(row, &[], "A publisher".to_owned(), &[]).unwrap())
}

fn loaded(seen: i64, article: &Arc<StoredArticle>) -> Loaded {
    Loaded {
        log: log(seen, seen, &[]),
        standing: None,
        entitlement: None,
        article: Some(Some(article.clone())),
    }
}

#[test]
fn rendered_bodies_are_charged_to_the_budget_and_push_older_articles_out() {
    let cache = FactCache::new(64 * 1024);
    let licensee = LicenseeId(uuid::Uuid::nil());
    let grant = Grant {
        licence_id: "licence".to_owned(),
        tier: crate::domain::access::Tier::Full,
        purpose: crate::domain::purpose::Purpose::Display,
        attribution_required: false,
        delivered: Vec::new(),
        withheld: Vec::new(),
    };
    let bytes = |cache: &FactCache| {
        cache
            .inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .article_bytes
    };
    let first = stored("x");
    cache.keep("client", licensee, "first", &loaded(3, &first));
    let before = bytes(&cache);

    let body = Bytes::from(vec![b'y'; 40 * 1024]);
    let added = first.keep_rendered(&grant, Format::Ninjs, Some(&body), "\"tag\"");
    cache.charge("first", &first, added);
    assert!(bytes(&cache) >= before + 40 * 1024, "{}", bytes(&cache));

    // A copy of the article that is no longer the cached one is not charged.
    let stale = stored("x");
    cache.charge("first", &stale, 1 << 20);
    assert!(bytes(&cache) < 64 * 1024);

    // The next article's body takes the cache over its budget: the
    // older article goes, the newer stays.
    let second = stored("x");
    cache.keep("client", licensee, "second", &loaded(3, &second));
    let added = second.keep_rendered(&grant, Format::Ninjs, Some(&body), "\"tag\"");
    cache.charge("second", &second, added);
    let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
    assert!(inner.article_bytes <= 64 * 1024, "{}", inner.article_bytes);
    assert!(inner.articles.contains_key("second") && !inner.articles.contains_key("first"));
}

#[test]
fn facts_read_at_an_older_counter_are_not_kept_and_a_newer_one_applies_the_changes_between() {
    let cache = FactCache::new(1 << 20);
    let licensee = LicenseeId(uuid::Uuid::nil());
    cache.keep("client", licensee, "a", &unknown_article(5));
    cache.keep("client", licensee, "b", &unknown_article(5));

    cache.keep("client", licensee, "old", &unknown_article(4));
    assert!(!cache.inner.read().unwrap().articles.contains_key("old"));
    let newer = Loaded {
        log: log(5, 6, &[(6, Kind::Article, "a")]),
        ..unknown_article(6)
    };
    cache.keep("client", licensee, "new", &newer);

    let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(inner.seen, 6);
    assert!(inner.articles.contains_key("new") && inner.articles.contains_key("b"));
    assert!(!inner.articles.contains_key("a"), "changed at 6");
}

const L1: &str = "019ac0a4-0000-7000-8000-000000000001";
const L2: &str = "019ac0a4-0000-7000-8000-000000000002";
const PHOTO: &str = "019ac0a4-0000-7000-8000-0000000000f1";
const A1: &str = "019ac0a4-0000-7000-8000-0000000000a1";
const A2: &str = "019ac0a4-0000-7000-8000-0000000000a2";
const A3: &str = "019ac0a4-0000-7000-8000-0000000000a3";
const A4: &str = "019ac0a4-0000-7000-8000-0000000000a4";
const P1: &str = "019ac0a4-0000-7000-8000-0000000000b1";
const P2: &str = "019ac0a4-0000-7000-8000-0000000000b2";

fn entitlement(id: &str) -> Arc<Entitlement> {
    Arc::new(Entitlement {
        licensee: LicenseeFacts {
            id: id.parse().unwrap(),
            status: LicenseeStatus::Active,
            territories: Vec::new(),
        },
        licences: Vec::new(),
        rows: Vec::new(),
    })
}

fn standing(licensee: &str) -> ClientStanding {
    ClientStanding {
        revoked_at: None,
        licensee_status: Some(LicenseeStatus::Active),
        licensee_id: Some(licensee.to_owned()),
    }
}

/// A cache current at 10 with two clients of two licensees and four
/// articles of two publishers, two of them showing the same photo.
fn filled() -> FactCache {
    let cache = FactCache::new(1 << 20);
    for (client, licensee) in [("client-1", L1), ("client-2", L2)] {
        let loaded = Loaded {
            log: log(10, 10, &[]),
            standing: Some(standing(licensee)),
            entitlement: Some(entitlement(licensee)),
            article: None,
        };
        cache.keep(client, licensee.parse().unwrap(), "", &loaded);
    }
    for (id, publisher, photos) in [
        (A1, P1, &[PHOTO][..]),
        (A2, P1, &[][..]),
        (A3, P2, &[PHOTO][..]),
        (A4, P2, &[][..]),
    ] {
        let loaded = loaded(10, &stored_of(id, publisher, photos));
        cache.keep("client-1", L1.parse().unwrap(), id, &loaded);
    }
    cache
}

/// What is cached: article ids, client ids and licensee ids, sorted.
fn cached(cache: &FactCache) -> (Vec<String>, Vec<String>, Vec<String>) {
    let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    (
        sorted(inner.articles.keys().cloned().collect()),
        sorted(inner.standing.keys().cloned().collect()),
        sorted(inner.entitlements.keys().map(ToString::to_string).collect()),
    )
}

#[test]
fn a_change_drops_exactly_what_it_touches() {
    let all_articles = [A1, A2, A3, A4];
    // A change, and the articles, clients and licensees left.
    type Case<'a> = (Kind, &'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let cases: [Case<'_>; 9] = [
        (
            Kind::Article,
            A2,
            &[A1, A3, A4],
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (
            Kind::Article,
            "elsewhere",
            &all_articles,
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (
            Kind::Photo,
            PHOTO,
            &[A2, A4],
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (
            Kind::Photo,
            "another photo",
            &all_articles,
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (
            Kind::Publisher,
            P2,
            &[A1, A2],
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (Kind::Licensee, L2, &all_articles, &["client-1"], &[L1]),
        (
            Kind::Client,
            "client-1",
            &all_articles,
            &["client-2"],
            &[L1, L2],
        ),
        (
            Kind::Client,
            "client-3",
            &all_articles,
            &["client-1", "client-2"],
            &[L1, L2],
        ),
        (Kind::Unknown, "anything", &[], &[], &[]),
    ];
    for (kind, item, articles, clients, licensees) in cases {
        let cache = filled();

        cache.apply(&log(10, 11, &[(11, kind, item)]));

        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            cached(&cache),
            (owned(articles), owned(clients), owned(licensees)),
            "{kind:?} {item}"
        );
        assert_eq!(cache.seen(), 11);
    }
}

#[test]
fn changes_the_cache_has_seen_are_not_applied_again() {
    let cache = filled();

    cache.apply(&log(
        8,
        10,
        &[(9, Kind::Article, A1), (10, Kind::Client, "client-1")],
    ));

    assert_eq!(cache.articles_cached(), 4);
    assert_eq!(cache.seen(), 10);
}

#[test]
fn a_cache_older_than_the_log_drops_everything() {
    let cache = filled();

    // The log now starts at 15: what changed at 11 to 14 is unknown.
    cache.apply(&log(10, 20, &[(15, Kind::Article, "elsewhere")]));

    assert_eq!(cached(&cache), (vec![], vec![], vec![]));
    assert_eq!(cache.seen(), 20);
    assert!(cache.confirmed_at().is_some());
}

#[test]
fn a_dropped_article_leaves_nothing_in_the_indexes() {
    let cache = filled();

    cache.apply(&log(
        10,
        12,
        &[(11, Kind::Article, A1), (12, Kind::Article, A3)],
    ));

    let inner = cache.inner.read().unwrap_or_else(PoisonError::into_inner);
    assert!(inner.by_photo.0.is_empty());
    assert_eq!(inner.by_publisher.0.len(), 2);
}
