//! Licences, licensed delivery (JSON and ninjs), search and the change feed.

use std::time::Duration;

mod without_http;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{expect_problem, json_of, merged};
use crate::world::{Deal, Party, World};

/// Sleeps until just after an RFC 3339 instant.
async fn sleep_until(instant: &str) {
    let at: chrono::DateTime<chrono::Utc> = instant.parse().unwrap();
    let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(300)).await;
}

fn in_secs(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A desk of the Harbour Gazette and a reader of Morning Brief (in GB and
/// IE) with a full licence with media and `terms` on top.
async fn deal(backend: crate::harness::Backend, terms: Value) -> (World, Deal) {
    let w = World::new(backend).await;
    let deal = w
        .deal("Harbour Gazette", "Morning Brief", &["GB", "IE"], terms)
        .await;
    (w, deal)
}

/// A licensee in FR with no licence at all.
async fn stranger(w: &World) -> Party {
    w.licensee("Evening Digest", &["FR"]).await
}

/// A photo written for these tests, with `rights`.
fn photo_body(rights: Value) -> Value {
    json!({
        "caption": "Fishing boats return to Portmere harbour at dawn.",
        "credit_line": "Photograph: Lena Varga/Northwire",
        "creator": "Lena Varga",
        "copyright_holder": "Northwire",
        "licensor": "Northwire",
        "renditions": [{"href": "https://images.example.org/portmere.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        "rights": rights,
    })
}

/// A published story written for these tests, with `changes` on top.
fn story(external_ref: &str, changes: Value) -> Value {
    merged(
        json!({
            "external_ref": external_ref,
            "headline": "Flood barrier holds as storm surge hits the estuary",
            "standfirst": "Engineers say the new tidal gates spared three thousand homes.",
            "body_html": "<p>The tidal gates closed at dawn as the surge arrived.</p>",
            "section": "environment",
            "language": "en-GB",
            "bylines": [{"name": "Amara Okafor", "role": "Environment correspondent", "location": "in Portmere"}],
            "located": "PORTMERE",
            "canonical_url": "https://harbourgazette.example.org/environment/flood-barrier",
            "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
            "status": "published",
        }),
        changes,
    )
}

/// ninjs 2.2 refers to the GeoJSON schema for `places[].geojson`, which
/// this service never emits; with no network, that one reference resolves
/// to a schema that accepts anything, and nothing else may be fetched.
struct OnlyGeoJson;

impl jsonschema::Retrieve for OnlyGeoJson {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri
            .as_str()
            .starts_with("https://geojson.org/schema/GeoJSON.json")
        {
            Ok(json!({}))
        } else {
            Err(format!("refusing to fetch {uri}").into())
        }
    }
}

fn ninjs_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/ninjs-schema_2.2.json")).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_retriever(OnlyGeoJson)
        .build(&schema)
        .unwrap()
}

pub(crate) fn assert_valid_ninjs(document: &Value) {
    let validator = ninjs_validator();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid ninjs 2.2: {errors:?}\n{document:#}"
    );
}

/// Reads the whole feed from a cursor, in pages of `limit`.
async fn drain_feed(
    w: &World,
    token: &str,
    mut cursor: Option<String>,
    limit: u32,
) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/feed?limit={limit}&cursor={c}"),
            None => format!("/v1/feed?limit={limit}"),
        };
        let page = json_of(w.app.get_as(token, &path).await).await;
        let batch = page["events"].as_array().unwrap().clone();
        cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
        if batch.is_empty() {
            return (events, cursor.unwrap());
        }
        events.extend(batch);
    }
}

crate::backend_tests! {
    async fn a_licensed_article_is_delivered_in_full_with_credits_and_photo_rights(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let photo = w.photo(&d.desk, &photo_body(json!({"syndication": "allowed", "territories_denied": ["US"], "usage_terms": "Editorial use only"}))).await;
        let article = w.article(&d.desk, &story("hg-1", json!({"media": [{"media_id": photo, "role": "main"}]}))).await;

        let response = w.fetch(&d.reader.token, article["id"].as_str().unwrap()).await;

        assert_eq!(response.status(), 200);
        assert!(response.headers()["etag"].to_str().unwrap().starts_with('"'));
        assert!(response.headers()["cache-control"].to_str().unwrap().starts_with("private, max-age="));
        let body = json_of(response).await;
        assert_eq!(body["tier"], "full");
        assert_eq!(body["licence_id"], d.licence.as_str());
        assert_eq!(body["body_html"], "<p>The tidal gates closed at dawn as the surge arrived.</p>");
        assert_eq!(body["agency_credits"][0]["credit_line"], "Northwire contributed to this report");
        assert_eq!(body["bylines"][0]["location"], "in Portmere");
        assert_eq!(body["media"][0]["credit_line"], "Photograph: Lena Varga/Northwire");
        assert_eq!(body["media"][0]["usage_terms"], "Editorial use only");
        assert_eq!(body["media_withheld"], json!([]));
    }

    async fn a_preview_licence_or_a_preview_only_credit_delivers_no_body(backend: Backend) {
        let (w, d) = deal(backend, json!({"tier": "preview"})).await;
        let article = w.article(&d.desk, &story("hg-2", json!({}))).await;

        let body = json_of(w.fetch(&d.reader.token, article["id"].as_str().unwrap()).await).await;

        assert_eq!(body["tier"], "preview");
        assert!(body["body_html"].is_null() && body["body_text"].is_null(), "{body}");
        assert_eq!(body["headline"], article["headline"]);
        assert_eq!(body["agency_credits"][0]["credit_line"], "Northwire contributed to this report");
        assert_eq!(body["canonical_url"], article["canonical_url"]);

        let (full, fd) = deal(backend, json!({})).await;
        let capped = full.article(&fd.desk, &story("hg-3", json!({"agency_credits": [
            {"agency": "Northwire", "role": "source", "credit_line": "Northwire", "redistribution": "preview_only"}
        ]}))).await;
        let prohibited = full.article(&fd.desk, &story("hg-4", json!({"agency_credits": [
            {"agency": "Eastwire", "role": "source", "credit_line": "Eastwire", "redistribution": "prohibited"}
        ]}))).await;
        let body = json_of(full.fetch(&fd.reader.token, capped["id"].as_str().unwrap()).await).await;
        assert_eq!(body["tier"], "preview");
        expect_problem(full.fetch(&fd.reader.token, prohibited["id"].as_str().unwrap()).await, 404).await;
    }

    async fn photos_withheld_by_territory_and_by_expiry_are_reported(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let denied = w.photo(&d.desk, &photo_body(json!({"syndication": "allowed", "territories_denied": ["IE"]}))).await;
        let expiry = in_secs(5);
        let expiring = w.photo(&d.desk, &photo_body(json!({"syndication": "allowed", "expires_at": expiry}))).await;
        let article = w.article(&d.desk, &story("hg-5", json!({"media": [{"media_id": denied, "role": "main"}, {"media_id": expiring, "role": "inline"}]}))).await;
        let id = article["id"].as_str().unwrap();

        let before = json_of(w.fetch(&d.reader.token, id).await).await;
        sleep_until(&expiry).await;
        let after = json_of(w.fetch(&d.reader.token, id).await).await;

        assert_eq!(before["media"].as_array().unwrap().len(), 1);
        assert_eq!(before["media"][0]["id"], expiring.as_str());
        assert_eq!(before["media_withheld"], json!([{"reason": "territory"}]));
        assert!(after["media"].as_array().unwrap().is_empty());
        assert_eq!(after["media_withheld"], json!([{"reason": "territory"}, {"reason": "expired"}]));
    }

    async fn the_cache_lifetime_never_outlives_the_next_rights_change(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let expiring = w.photo(&d.desk, &photo_body(json!({"syndication": "allowed", "expires_at": in_secs(40)}))).await;
        let article = w.article(&d.desk, &story("hg-6", json!({"media": [{"media_id": expiring, "role": "main"}]}))).await;

        let response = w.fetch(&d.reader.token, article["id"].as_str().unwrap()).await;

        let cache = response.headers()["cache-control"].to_str().unwrap().to_owned();
        let max_age: i64 = cache.trim_start_matches("private, max-age=").parse().unwrap();
        assert!((25..=40).contains(&max_age), "{cache}");
    }

    async fn what_a_licensee_may_not_see_is_a_404_with_no_hint(backend: Backend) {
        let (w, d) = deal(backend, json!({"sections": ["world"]})).await;
        let stranger = stranger(&w).await;
        let outside = w.article(&d.desk, &story("hg-7", json!({}))).await;
        let mut draft = w.article(&d.desk, &story("hg-8", json!({"status": "draft", "section": "world"}))).await;
        draft = json_of(w.app.get_as(&d.desk.token, &format!("/v1/articles/{}", draft["id"].as_str().unwrap())).await).await;
        let world_story = w.article(&d.desk, &story("hg-9", json!({"section": "world"}))).await;
        let unknown = "019ac0a6-1111-7222-8333-444455556666";

        let mut details = Vec::new();
        for (token, id) in [
            (&d.reader.token, outside["id"].as_str().unwrap()),
            (&d.reader.token, draft["id"].as_str().unwrap()),
            (&stranger.token, world_story["id"].as_str().unwrap()),
            (&d.reader.token, unknown),
        ] {
            let problem = expect_problem(w.fetch(token, id).await, 404).await;
            details.push((problem["title"].clone(), problem["detail"].clone()));
        }

        assert!(details.windows(2).all(|p| p[0] == p[1]), "responses differ: {details:?}");
        assert_eq!(w.fetch(&d.reader.token, world_story["id"].as_str().unwrap()).await.status(), 200);
        expect_problem(w.fetch(&d.desk.token, world_story["id"].as_str().unwrap()).await, 403).await;
    }

    async fn an_embargoed_story_appears_at_its_instant_in_fetch_list_and_feed(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let (_, cursor) = drain_feed(&w, &d.reader.token, None, 10).await;
        let embargo = in_secs(5);
        let embargoed = w.article(&d.desk, &story("hg-10", json!({"embargo_until": embargo}))).await;
        let id = embargoed["id"].as_str().unwrap();

        let early = w.fetch(&d.reader.token, id).await;
        let early_list = json_of(w.app.get_as(&d.reader.token, "/v1/content").await).await;
        let (early_events, later_cursor) = drain_feed(&w, &d.reader.token, Some(cursor.clone()), 10).await;
        sleep_until(&embargo).await;
        let late = w.fetch(&d.reader.token, id).await;
        let late_list = json_of(w.app.get_as(&d.reader.token, "/v1/content").await).await;
        let (late_events, _) = drain_feed(&w, &d.reader.token, Some(later_cursor), 10).await;

        expect_problem(early, 404).await;
        assert!(early_list["items"].as_array().unwrap().is_empty());
        assert!(early_events.is_empty(), "{early_events:?}");
        assert_eq!(late.status(), 200);
        assert_eq!(late_list["items"][0]["id"], id);
        assert_eq!(late_events.len(), 1);
        assert_eq!((late_events[0]["kind"].as_str(), late_events[0]["article_id"].as_str()), (Some("published"), Some(id)));
    }

    async fn a_kill_is_a_410_with_the_notice_and_a_killed_event(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let stranger = stranger(&w).await;
        let article = w.article(&d.desk, &story("hg-11", json!({}))).await;
        let id = article["id"].as_str().unwrap();
        assert_eq!(w.fetch(&d.reader.token, id).await.status(), 200);

        let kill = w.app.post_as(&d.desk.token, &format!("/v1/articles/{id}/kill"), &json!({"reason": "Legal: the story must be removed."})).await;

        assert_eq!(kill.status(), 200);
        let problem = expect_problem(w.fetch(&d.reader.token, id).await, 410).await;
        assert_eq!(problem["reason"], "Legal: the story must be removed.");
        assert!(problem["killed_at"].is_string());
        expect_problem(w.fetch(&stranger.token, id).await, 404).await;
        let (events, _) = drain_feed(&w, &d.reader.token, None, 10).await;
        let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["published", "killed"]);
        let (stranger_events, _) = drain_feed(&w, &stranger.token, None, 10).await;
        assert!(stranger_events.is_empty());
    }

    async fn a_correction_is_a_corrected_event_and_the_new_version_is_delivered(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let article = w.article(&d.desk, &story("hg-12", json!({}))).await;
        let id = article["id"].as_str().unwrap();
        let mut content = json!({});
        for field in ["headline", "standfirst", "body_html", "section", "tags", "language", "bylines", "located", "canonical_url", "agency_credits", "media", "related"] {
            content[field] = article[field].clone();
        }
        content["body_html"] = json!("<p>The tidal gates closed at 04:10, not at dawn.</p>");

        let corrected = w.app.client.put(w.app.url(&format!("/v1/articles/{id}"))).bearer_auth(&d.desk.token).header("If-Match", "\"v1\"")
            .json(&json!({"content": content, "change": {"kind": "correction", "note": "The gates closed at 04:10."}})).send().await.unwrap();

        assert_eq!(corrected.status(), 200);
        let delivered = json_of(w.fetch(&d.reader.token, id).await).await;
        assert_eq!(delivered["version"], 2);
        assert_eq!(delivered["body_html"], "<p>The tidal gates closed at 04:10, not at dawn.</p>");
        let (events, _) = drain_feed(&w, &d.reader.token, None, 10).await;
        let kinds: Vec<(&str, i64)> = events.iter().map(|e| (e["kind"].as_str().unwrap(), e["version"].as_i64().unwrap())).collect();
        assert_eq!(kinds, [("published", 1), ("corrected", 2)]);
    }

    async fn a_feed_consumer_paging_during_concurrent_publishing_gets_each_event_once_in_order(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let publishing = async {
            let mut handles = Vec::new();
            for batch in 0..5 {
                let requests = (0..10).map(|n| {
                    let body = story(&format!("burst-{batch}-{n}"), json!({}));
                    let (w, desk) = (&w, &d.desk);
                    async move { w.article(desk, &body).await }
                });
                handles.push(futures_util::future::join_all(requests));
            }
            for handle in handles {
                handle.await;
            }
        };
        let consuming = async {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while seen.len() < 50 && tokio::time::Instant::now() < deadline {
                let path = match &cursor {
                    Some(c) => format!("/v1/feed?limit=3&cursor={c}"),
                    None => "/v1/feed?limit=3".to_owned(),
                };
                let page = json_of(w.app.get_as(&d.reader.token, &path).await).await;
                seen.extend(page["events"].as_array().unwrap().iter().cloned());
                cursor = Some(page["next_cursor"].as_str().unwrap().to_owned());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (seen, cursor)
        };

        let ((), (seen, cursor)) = tokio::join!(publishing, consuming);

        let (rest, _) = drain_feed(&w, &d.reader.token, cursor, 3).await;
        let all: Vec<Value> = seen.into_iter().chain(rest).collect();
        let ids: std::collections::HashSet<&str> = all.iter().map(|e| e["article_id"].as_str().unwrap()).collect();
        assert_eq!(all.len(), 50, "each event exactly once");
        assert_eq!(ids.len(), 50);
        let (full, _) = drain_feed(&w, &d.reader.token, None, 100).await;
        let order = |events: &[Value]| events.iter().map(|e| e["cursor"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(order(&all), order(&full), "paged order differs from the feed's order");
    }

    async fn delivered_articles_validate_as_ninjs_2_2(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let photo = w.photo(&d.desk, &photo_body(json!({"syndication": "allowed", "usage_terms": "Editorial use only"}))).await;
        let withheld = w.photo(&d.desk, &photo_body(json!({"syndication": "prohibited"}))).await;
        let article = w.article(&d.desk, &story("hg-13", json!({"tags": ["flooding"], "media": [{"media_id": photo, "role": "main"}, {"media_id": withheld, "role": "inline"}]}))).await;
        let id = article["id"].as_str().unwrap();

        let full = json_of(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=ninjs")).await).await;
        w.app.send_json(Method::PATCH, &w.admin, &format!("/v1/licences/{}", d.licence), &json!({"tier": "preview"})).await;
        let preview = json_of(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=ninjs")).await).await;

        assert_valid_ninjs(&full);
        assert_valid_ninjs(&preview);
        assert_eq!(full["representationtype"], "full");
        assert_eq!(full["bodies"][0]["contenttype"], "text/html");
        assert_eq!(full["infosources"][0]["literal"], "Northwire contributed to this report");
        assert_eq!(full["associations"][0]["usageterms"], "Editorial use only");
        assert_eq!(full["associations"][0]["descriptions"][1], json!({"role": "creditline", "value": "Photograph: Lena Varga/Northwire"}));
        assert_eq!(full["ednote"], "1 photo(s) withheld: syndication_prohibited");
        assert_eq!(preview["representationtype"], "partial");
        assert!(preview.get("bodies").is_none());
        expect_problem(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=xml")).await, 400).await;
    }

    async fn search_finds_the_same_words_on_both_backends_and_ignores_query_syntax(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        w.article(&d.desk, &story("hg-14", json!({"headline": "Harbour crane collapses in gale", "body_html": "<p>Dockers were evacuated.</p>"}))).await;
        w.article(&d.desk, &story("hg-15", json!({"headline": "Council approves seawall budget", "body_html": "<p>The harbour levy rises.</p>", "language": "cy"}))).await;
        let withheld = w.article(&d.desk, &story("hg-16", json!({"headline": "Harbour story withdrawn"}))).await;
        w.app.post_as(&d.desk.token, &format!("/v1/articles/{}/withhold", withheld["id"].as_str().unwrap()), &json!({"reason": "checking"})).await;
        let stranger = stranger(&w).await;
        let (w, reader) = (&w, &d.reader.token);
        let find = |q: &str| {
            let path = format!("/v1/content?q={}", urlencode(q));
            async move { json_of(w.app.get_as(reader, &path).await).await }
        };

        let harbour = find("harbour").await;
        let both = find("HARBOUR crane").await;
        let body_word = find("evacuated").await;
        let welsh = json_of(w.app.get_as(&d.reader.token, "/v1/content?language=cy").await).await;

        let headlines = |page: &Value| page["items"].as_array().unwrap().iter().map(|i| i["headline"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(headlines(&harbour), ["Harbour crane collapses in gale", "Council approves seawall budget"]);
        assert_eq!(headlines(&both), ["Harbour crane collapses in gale"]);
        assert_eq!(headlines(&body_word), ["Harbour crane collapses in gale"]);
        assert_eq!(headlines(&welsh), ["Council approves seawall budget"]);
        for hostile in ["'; DROP TABLE articles; --", "%_%", "\"unbalanced", "harbour* OR NEAR(a b)", "a:b ^c -d"] {
            let response = w.app.get_as(&d.reader.token, &format!("/v1/content?q={}", urlencode(hostile))).await;
            assert_eq!(response.status(), 200, "{hostile}");
        }
        expect_problem(w.app.get_as(&d.reader.token, &format!("/v1/content?q={}", "x".repeat(201))).await, 422).await;
        let stranger = json_of(w.app.get_as(&stranger.token, "/v1/content").await).await;
        assert!(stranger["items"].as_array().unwrap().is_empty());
    }

    async fn feed_cursors_are_refused_when_garbage_or_another_licensees(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let stranger = stranger(&w).await;
        w.article(&d.desk, &story("hg-17", json!({}))).await;
        let (_, mine) = drain_feed(&w, &d.reader.token, None, 10).await;

        let foreign = w.app.get_as(&stranger.token, &format!("/v1/feed?cursor={mine}")).await;
        let garbage = w.app.get_as(&d.reader.token, "/v1/feed?cursor=bm90LWEtY3Vyc29y").await;
        let too_long_wait = w.app.get_as(&d.reader.token, "/v1/feed?wait=31").await;

        // A cursor this licensee was not given names no page: 404.
        assert!(expect_problem(foreign, 404).await["detail"].as_str().unwrap().contains("cursor"));
        expect_problem(garbage, 404).await;
        expect_problem(too_long_wait, 422).await;
    }

    async fn a_waiting_feed_request_returns_as_soon_as_an_event_arrives(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let (_, cursor) = drain_feed(&w, &d.reader.token, None, 10).await;
        let started = std::time::Instant::now();

        let (page, _) = tokio::join!(
            async { json_of(w.app.get_as(&d.reader.token, &format!("/v1/feed?wait=10&cursor={cursor}")).await).await },
            async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                w.article(&d.desk, &story("hg-18", json!({}))).await
            },
        );

        assert_eq!(page["events"].as_array().unwrap().len(), 1);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    async fn licences_are_admin_managed_and_each_party_sees_its_own(backend: Backend) {
        let (w, d) = deal(backend, json!({"quota": {"units": 100, "period": "day"}, "price_per_unit": {"amount_minor": 25, "currency": "GBP"}})).await;
        let stranger = stranger(&w).await;
        let path = format!("/v1/licences/{}", d.licence);

        let as_reader = json_of(w.app.get_as(&d.reader.token, "/v1/licences").await).await;
        let as_stranger = json_of(w.app.get_as(&stranger.token, "/v1/licences").await).await;
        let as_desk = json_of(w.app.get_as(&d.desk.token, "/v1/licences").await).await;
        let stranger_one = w.app.get_as(&stranger.token, &path).await;
        let mass_assignment = w.app.send_json(Method::PATCH, &d.reader.token, &path, &json!({"quota": {"units": 1000000, "period": "day"}})).await;
        let bad = [
            json!({"price_per_unit": {"amount_minor": -1, "currency": "GBP"}}),
            json!({"price_per_unit": {"amount_minor": 1, "currency": "pounds"}}),
            json!({"quota": {"units": 0, "period": "day"}}),
            json!({"sections": []}),
        ];

        assert_eq!(as_reader["items"][0]["id"], d.licence.as_str());
        assert_eq!(as_reader["items"][0]["quota"], json!({"units": 100, "period": "day"}));
        assert!(as_stranger["items"].as_array().unwrap().is_empty());
        assert_eq!(as_desk["items"].as_array().unwrap().len(), 1);
        expect_problem(stranger_one, 404).await;
        expect_problem(mass_assignment, 403).await;
        for body in bad {
            expect_problem(w.app.send_json(Method::PATCH, &w.admin, &path, &body).await, 422).await;
        }
        let unchanged = json_of(w.app.get_as(&w.admin, &path).await).await;
        assert_eq!(unchanged["quota"]["units"], 100);
        assert_eq!(d.reader.id.len(), 36);
        assert_eq!(d.desk.id.len(), 36);
    }

    async fn ending_a_licence_early_takes_effect_on_the_next_request(backend: Backend) {
        let (w, d) = deal(backend, json!({})).await;
        let article = w.article(&d.desk, &story("hg-19", json!({}))).await;
        let id = article["id"].as_str().unwrap();
        assert_eq!(w.fetch(&d.reader.token, id).await.status(), 200);

        let ended = w.app.send_json(Method::PATCH, &w.admin, &format!("/v1/licences/{}", d.licence), &json!({"valid_until": in_secs(0)})).await;

        assert_eq!(ended.status(), 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
        expect_problem(w.fetch(&d.reader.token, id).await, 404).await;
    }
}

/// Percent-encodes a query value.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
