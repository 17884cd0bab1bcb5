//! A publisher's desk: photos with rights, articles with versions, the
//! lifecycle, sanitising, validation, tenant isolation and the event log.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{TestApp, expect_problem, json_of};
use crate::world::{Party, World};

mod without_http;

/// A photo written for these tests.
fn photo() -> Value {
    json!({
        "caption": "Fishing boats return to Portmere harbour at dawn after the storm.",
        "credit_line": "Photograph: Lena Varga/Northwire",
        "creator": "Lena Varga",
        "copyright_holder": "Northwire",
        "copyright_notice": "© 2026 Northwire",
        "licensor": "Northwire",
        "renditions": [{"href": "https://images.example.org/portmere-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        "rights": {"syndication": "allowed", "territories_denied": ["US"], "usage_terms": "Editorial use only"}
    })
}

/// An article written for these tests, with a located byline, a section,
/// an agency credit, a main photo and an embargo.
fn story(external_ref: &str, media_id: &str) -> Value {
    let embargo = (chrono::Utc::now() + chrono::Duration::hours(6))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "external_ref": external_ref,
        "headline": "Flood barrier holds as storm surge hits the Portmere estuary",
        "standfirst": "Engineers say the new tidal gates spared three thousand homes.",
        "body_html": "<p>The tidal gates closed at 04:10 as the surge arrived.</p><script>steal()</script>\
                      <figure><img src=\"https://images.example.org/gates.jpg\" alt=\"The gates\" onerror=\"x()\">\
                      <figcaption>The gates at dawn</figcaption></figure><p>Residents returned by noon.</p>",
        "section": "environment",
        "tags": ["flooding", "infrastructure"],
        "language": "en-GB",
        "bylines": [{"name": "Amara Okafor", "role": "Environment correspondent", "location": "in Portmere"}],
        "located": "PORTMERE",
        "canonical_url": "https://harbourgazette.example.org/environment/flood-barrier-holds",
        "embargo_until": embargo,
        "agency_credits": [{"agency": "Northwire", "role": "contributed", "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
        "media": [{"media_id": media_id, "role": "main"}],
        "status": "published"
    })
}

/// Uploads the photo and creates the story with it as the main picture.
async fn create_story(w: &World, desk: &Party, external_ref: &str) -> Value {
    let media = w.photo(desk, &photo()).await;
    w.article(desk, &story(external_ref, &media)).await
}

async fn put_article(
    app: &TestApp,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.url(&format!("/v1/articles/{id}")))
        .bearer_auth(token)
        .json(body);
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    request.send().await.unwrap()
}

/// The editable content of the story, changed, as a PUT body.
fn edit(article: &Value, headline: &str, kind: &str, note: Option<&str>) -> Value {
    let mut content = json!({});
    for field in [
        "headline",
        "standfirst",
        "body_html",
        "section",
        "tags",
        "language",
        "bylines",
        "located",
        "canonical_url",
        "embargo_until",
        "agency_credits",
        "media",
        "related",
    ] {
        content[field] = article[field].clone();
    }
    content["headline"] = json!(headline);
    json!({"content": content, "change": {"kind": kind, "note": note}})
}

crate::backend_tests! {
    async fn the_fixture_round_trips_sanitised_with_derived_text(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;

        let created = create_story(&w, &desk, "hg-1").await;

        assert_eq!(created["version"], 1);
        assert_eq!(created["etag"], "\"v1\"");
        assert_eq!(created["status"], "published");
        let body = created["body_html"].as_str().unwrap();
        assert!(!body.contains("script") && !body.contains("steal") && !body.contains("onerror"), "{body}");
        assert!(body.contains("<figure>") && body.contains("<figcaption>The gates at dawn</figcaption>"), "{body}");
        assert_eq!(created["body_text"], "The tidal gates closed at 04:10 as the surge arrived.\n\nThe gates at dawn\n\nResidents returned by noon.");
        assert_eq!(created["word_count"], 18);
        assert_eq!(created["bylines"][0]["location"], "in Portmere");
        assert_eq!(created["agency_credits"][0]["credit_line"], "Northwire contributed to this report");
        assert_eq!(created["first_published_at"], created["embargo_until"], "an embargoed story is first public at its embargo");
        let fetched = app.get_as(&desk.token, &format!("/v1/articles/{}", created["id"].as_str().unwrap())).await;
        assert_eq!(fetched.headers()["etag"], "\"v1\"");
        assert_eq!(json_of(fetched).await, created);
    }

    async fn the_same_content_sent_again_returns_the_stored_article(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let body = story("hg-2", &media);
        let first = w.article(&desk, &body).await;
        let before = app.snapshot();

        let again = app.post_as(&desk.token, "/v1/articles", &body).await;

        assert_eq!(again.status(), 200);
        let again = json_of(again).await;
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["version"], 1);
        assert_eq!(app.snapshot(), before, "an identical re-upload wrote something");
    }

    async fn other_content_under_a_taken_external_ref_is_a_409_naming_the_article(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let first = w.article(&desk, &story("hg-3", &media)).await;
        let mut changed = story("hg-3", &media);
        changed["headline"] = json!("A different headline");

        let response = app.post_as(&desk.token, "/v1/articles", &changed).await;

        assert_eq!(response.headers()["location"], format!("/v1/articles/{}", first["id"].as_str().unwrap()).as_str());
        let problem = expect_problem(response, 409).await;
        assert_eq!(problem["existing_id"], first["id"]);
    }

    async fn replacing_needs_the_current_etag(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let article = create_story(&w, &desk, "hg-4").await;
        let id = article["id"].as_str().unwrap();
        let body = edit(&article, "Flood barrier holds; 3,000 homes spared", "update", None);

        let missing = put_article(app, &desk.token, id, None, &body).await;
        let stale = put_article(app, &desk.token, id, Some("\"v7\""), &body).await;
        let garbage = put_article(app, &desk.token, id, Some("v1"), &body).await;
        let ok = put_article(app, &desk.token, id, Some("\"v1\""), &body).await;
        let replay = put_article(app, &desk.token, id, Some("\"v1\""), &body).await;

        expect_problem(missing, 428).await;
        expect_problem(stale, 412).await;
        // An If-Match that is not one of our ETags names no version.
        expect_problem(garbage, 412).await;
        assert_eq!(ok.headers()["etag"], "\"v2\"");
        let updated = json_of(ok).await;
        assert_eq!(updated["version"], 2);
        assert_eq!(updated["headline"], "Flood barrier holds; 3,000 homes spared");
        expect_problem(replay, 412).await;
        let any = put_article(app, &desk.token, id, Some("*"), &edit(&article, "Any version will do", "update", None)).await;
        assert_eq!(any.headers()["etag"], "\"v3\"", "If-Match: * accepts the current version");
    }

    async fn of_two_concurrent_updates_one_wins_and_the_other_gets_412(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let article = create_story(&w, &desk, "hg-5").await;
        let id = article["id"].as_str().unwrap();
        let a = edit(&article, "Version A", "update", None);
        let b = edit(&article, "Version B", "update", None);

        let (first, second) = tokio::join!(
            put_article(app, &desk.token, id, Some("\"v1\""), &a),
            put_article(app, &desk.token, id, Some("\"v1\""), &b),
        );

        let mut statuses = [first.status().as_u16(), second.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412]);
        let versions = json_of(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions")).await).await;
        assert_eq!(versions["items"].as_array().unwrap().len(), 2);
    }

    async fn a_correction_and_its_note_appear_in_the_version_history(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let article = create_story(&w, &desk, "hg-6").await;
        let id = article["id"].as_str().unwrap();
        let note = "An earlier version gave the wrong closing time for the gates.";

        let without_note = put_article(app, &desk.token, id, Some("\"v1\""), &edit(&article, "Corrected", "correction", None)).await;
        let corrected = put_article(app, &desk.token, id, Some("\"v1\""), &edit(&article, "Corrected", "correction", Some(note))).await;

        // A correction without a note does not fit the request type.
        expect_problem(without_note, 400).await;
        assert_eq!(corrected.status(), 200);
        let history = json_of(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions")).await).await;
        let kinds: Vec<&str> = history["items"].as_array().unwrap().iter().map(|v| v["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["create", "correction"]);
        assert_eq!(history["items"][1]["note"], note);
        let first = json_of(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions/1")).await).await;
        assert_eq!(first["article"]["headline"], article["headline"]);
        assert_eq!(first["kind"], "create");
        let page = json_of(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions?limit=1")).await).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let rest = json_of(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions?cursor={}", page["next_cursor"].as_str().unwrap())).await).await;
        assert_eq!(rest["items"][0]["version"], 2);
        expect_problem(app.get_as(&desk.token, &format!("/v1/articles/{id}/versions/9")).await, 404).await;
    }

    async fn the_lifecycle_refuses_what_makes_no_sense_and_kill_is_terminal(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let article = create_story(&w, &desk, "hg-7").await;
        let id = article["id"].as_str().unwrap();
        let reason = json!({"reason": "Legal: reporting restrictions imposed."});

        let publish_again = app.post_as(&desk.token, &format!("/v1/articles/{id}/publish"), &json!({})).await;
        let withheld = app.post_as(&desk.token, &format!("/v1/articles/{id}/withhold"), &reason).await;
        let withhold_again = app.post_as(&desk.token, &format!("/v1/articles/{id}/withhold"), &reason).await;
        let empty_reason = app.post_as(&desk.token, &format!("/v1/articles/{id}/kill"), &json!({"reason": " "})).await;
        let killed = app.post_as(&desk.token, &format!("/v1/articles/{id}/kill"), &reason).await;
        let republish = app.post_as(&desk.token, &format!("/v1/articles/{id}/publish"), &json!({})).await;
        let edit_after_kill = put_article(app, &desk.token, id, Some("\"v3\""), &edit(&article, "Zombie", "update", None)).await;

        expect_problem(publish_again, 409).await;
        assert_eq!(json_of(withheld).await["status"], "withheld");
        expect_problem(withhold_again, 409).await;
        expect_problem(empty_reason, 422).await;
        let killed = json_of(killed).await;
        assert_eq!((killed["status"].as_str(), killed["version"].as_i64()), (Some("killed"), Some(3)));
        assert_eq!(killed["status_reason"], "Legal: reporting restrictions imposed.");
        assert!(killed["killed_at"].is_string());
        expect_problem(republish, 409).await;
        expect_problem(edit_after_kill, 409).await;
    }

    async fn every_change_appends_exactly_one_event_in_commit_order(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let mut draft = story("hg-8", &media);
        draft["status"] = json!("draft");
        draft.as_object_mut().unwrap().remove("embargo_until");
        let article = w.article(&desk, &draft).await;
        let id = article["id"].as_str().unwrap().to_owned();
        let reason = json!({"reason": "Checking a claim"});

        app.post_as(&desk.token, &format!("/v1/articles/{id}/publish"), &json!({})).await;
        put_article(app, &desk.token, &id, Some("\"v2\""), &edit(&article, "Fixed", "correction", Some("Name corrected"))).await;
        put_article(app, &desk.token, &id, Some("\"v3\""), &edit(&article, "Updated", "update", None)).await;
        app.post_as(&desk.token, &format!("/v1/articles/{id}/withhold"), &reason).await;
        app.post_as(&desk.token, &format!("/v1/articles/{id}/publish"), &json!({})).await;
        app.post_as(&desk.token, &format!("/v1/articles/{id}/kill"), &reason).await;

        let mut conn = app.db.connect();
        let events = syndicate::storage::articles::events_of(&mut conn, &id).unwrap();
        let kinds: Vec<(&str, i32)> = events.iter().map(|e| (e.kind.as_str(), e.version)).collect();
        assert_eq!(kinds, [("created", 1), ("published", 2), ("corrected", 3), ("updated", 4), ("withheld", 5), ("published", 6), ("killed", 7)]);
        assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(events.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    }

    async fn an_embargoed_publish_is_visible_from_the_embargo_instant(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;

        let article = create_story(&w, &desk, "hg-9").await;

        let mut conn = app.db.connect();
        let events = syndicate::storage::articles::events_of(&mut conn, article["id"].as_str().unwrap()).unwrap();
        let embargo: chrono::DateTime<chrono::Utc> = article["embargo_until"].as_str().unwrap().parse().unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "published");
        assert_eq!(events[0].visible_at, embargo.naive_utc());
    }

    async fn each_validation_rule_is_a_422_naming_the_field_and_writes_nothing(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let another = w.publisher("Another Paper").await;
        let other = w.photo(&another, &photo()).await;
        let other_publisher = another.id.clone();
        let media = w.photo(&desk, &photo()).await;
        let base = story("hg-10", &media);
        let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
        let with = |field: &str, value: Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        // 422 names a field that breaks a rule; 404 names a reference to
        // nothing this publisher may use; 409 conflicts with the present
        // (an embargo already past, a published story without text); 400 is
        // a body that does not even parse into the request type.
        let cases = [
            (with("headline", json!("")), 422, "headline"),
            (with("headline", json!("h".repeat(301))), 422, "headline"),
            (with("headline", json!("Null\u{0}byte")), 422, "headline"),
            (with("headline", json!("   ")), 422, "headline"),
            (with("external_ref", json!("")), 422, "external_ref"),
            (with("language", json!("english")), 422, "language"),
            (with("canonical_url", json!("/relative/path")), 422, "canonical_url"),
            (with("canonical_url", json!("javascript:alert(1)")), 422, "canonical_url"),
            (with("embargo_until", json!(past)), 409, ""),
            (with("media", json!([{"media_id": other, "role": "main"}])), 404, "media.0.media_id"),
            (with("media", json!([{"media_id": "019ac0a6-1111-7222-8333-444455556666", "role": "inline"}])), 404, "media.0.media_id"),
            (with("media", json!([{"media_id": media, "role": "main"}, {"media_id": media, "role": "main"}])), 422, "media"),
            (with("related", json!(["019ac0a6-1111-7222-8333-444455556666"])), 404, "related.0"),
            (with("bylines", json!([{"name": ""}])), 422, "bylines.0.name"),
            (with("tags", json!(vec!["t"; 51])), 422, "tags"),
            (with("status", json!("killed")), 400, ""),
            (with("body_html", json!("<script>only()</script>")), 409, ""),
            (with("body_html", json!("<p>bell\u{7}</p>")), 422, "body_html"),
            (with("publisher_id", json!(other_publisher)), 403, ""),
            (with("agency_credits", json!([{"agency": "", "role": "source", "credit_line": "x", "redistribution": "allowed"}])), 422, "agency_credits.0.agency"),
        ];
        let before = app.snapshot();

        for (body, status, field) in cases {
            let response = app.post_as(&desk.token, "/v1/articles", &body).await;

            let problem = expect_problem(response, status).await;
            if !field.is_empty() {
                let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
                assert!(fields.contains(&field), "{field} not named: {problem}");
            }
        }
        assert_eq!(app.snapshot(), before, "a refused article left a row behind");
    }

    async fn headlines_are_counted_in_characters(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let mut emoji = story("hg-11", &media);
        emoji["headline"] = json!("🌊".repeat(300));
        let mut rtl = story("hg-12", &media);
        rtl["headline"] = json!("الحاجز يصمد أمام العاصفة");
        rtl["language"] = json!("ar");
        let mut too_long = story("hg-13", &media);
        too_long["headline"] = json!("🌊".repeat(301));

        assert_eq!(app.post_as(&desk.token, "/v1/articles", &emoji).await.status(), 201);
        assert_eq!(app.post_as(&desk.token, "/v1/articles", &rtl).await.status(), 201);
        expect_problem(app.post_as(&desk.token, "/v1/articles", &too_long).await, 422).await;
    }

    async fn malformed_article_bodies_are_400s(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let mut unknown = story("hg-14", &media);
        unknown["paywall"] = json!(true);
        let mut naive_time = story("hg-15", &media);
        naive_time["embargo_until"] = json!("2030-01-01T06:00:00");
        let mut wrong_type = story("hg-16", &media);
        wrong_type["tags"] = json!("flooding");
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));

        for body in [unknown, naive_time, wrong_type] {
            expect_problem(app.post_as(&desk.token, "/v1/articles", &body).await, 400).await;
        }
        let response = app.client.post(app.url("/v1/articles")).bearer_auth(&desk.token)
            .header("content-type", "application/json").body(deep).send().await.unwrap();
        expect_problem(response, 400).await;
        let lone_surrogate = r#"{"external_ref": "x", "headline": "\ud800"}"#;
        let response = app.client.post(app.url("/v1/articles")).bearer_auth(&desk.token)
            .header("content-type", "application/json").body(lone_surrogate).send().await.unwrap();
        expect_problem(response, 400).await;
    }

    async fn photos_need_caption_credit_line_and_copyright_holder(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let mut bare = photo();
        for field in ["caption", "credit_line", "copyright_holder"] {
            bare.as_object_mut().unwrap().remove(field);
        }
        let mut bad = photo();
        bad["renditions"][0]["href"] = json!("ftp://images.example.org/a.jpg");
        bad["rights"]["territories_allowed"] = json!(["GB", "UK"]);
        bad["rights"]["licensees"] = json!(["019ac0a6-1111-7222-8333-444455556666"]);

        let missing = expect_problem(app.post_as(&desk.token, "/v1/media", &bare).await, 422).await;
        let invalid = expect_problem(app.post_as(&desk.token, "/v1/media", &bad).await, 422).await;
        bad["renditions"][0]["href"] = json!("https://images.example.org/a.jpg");
        bad["rights"]["territories_allowed"] = json!(["GB", "IE"]);
        let unknown = expect_problem(app.post_as(&desk.token, "/v1/media", &bad).await, 404).await;

        let fields = |p: &Value| p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(fields(&missing), ["caption", "credit_line", "copyright_holder"]);
        assert_eq!(fields(&invalid), ["renditions.0.href", "rights.territories_allowed.1"]);
        assert_eq!(fields(&unknown), ["rights.licensees.0"]);
    }

    async fn a_publisher_can_end_or_extend_a_photos_rights(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let id = w.photo(&desk, &photo()).await;
        let mut ended = photo();
        // Sent to the nanosecond, kept to the microsecond on both backends.
        ended["rights"]["expires_at"] = json!("2026-12-31T12:00:00.123456789Z");
        ended["rights"]["syndication"] = json!("prohibited");

        let response = app.send_json(Method::PUT, &desk.token, &format!("/v1/media/{id}"), &ended).await;

        assert_eq!(response.status(), 200);
        let stored = json_of(app.get_as(&desk.token, &format!("/v1/media/{id}")).await).await;
        assert_eq!(stored["rights"]["syndication"], "prohibited");
        assert_eq!(stored["rights"]["expires_at"], "2026-12-31T12:00:00.123456Z");
        assert_eq!(stored["rights"]["territories_denied"], json!(["US"]));
        let listed = json_of(app.get_as(&desk.token, "/v1/media").await).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    }

    async fn publishers_never_see_or_touch_each_others_content(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let a = w.publisher("Harbour Gazette").await;
        let b = w.publisher("Valley Courier").await;
        let article = create_story(&w, &a, "hg-17").await;
        let id = article["id"].as_str().unwrap();
        let media = article["media"][0]["media_id"].as_str().unwrap();
        let reason = json!({"reason": "mine now"});
        let before = app.snapshot();
        let attempts = [
            (Method::GET, format!("/v1/articles/{id}"), Value::Null),
            (Method::PUT, format!("/v1/articles/{id}"), edit(&article, "Hijacked", "update", None)),
            (Method::POST, format!("/v1/articles/{id}/publish"), json!({})),
            (Method::POST, format!("/v1/articles/{id}/withhold"), reason.clone()),
            (Method::POST, format!("/v1/articles/{id}/kill"), reason.clone()),
            (Method::GET, format!("/v1/articles/{id}/versions"), Value::Null),
            (Method::GET, format!("/v1/articles/{id}/versions/1"), Value::Null),
            (Method::GET, format!("/v1/media/{media}"), Value::Null),
            (Method::PUT, format!("/v1/media/{media}"), photo()),
        ];

        for (method, path, body) in attempts {
            let mut request = app.client.request(method.clone(), app.url(&path)).bearer_auth(&b.token).header("If-Match", "\"v1\"");
            if !body.is_null() {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        let borrowed = app.post_as(&b.token, "/v1/articles", &story("vc-1", media)).await;
        assert_eq!(expect_problem(borrowed, 404).await["errors"][0]["field"], "media.0.media_id");
        let mut relating = story("vc-2", &w.photo(&b, &photo()).await);
        relating["related"] = json!([id]);
        assert_eq!(expect_problem(app.post_as(&b.token, "/v1/articles", &relating).await, 404).await["errors"][0]["field"], "related.0");
        let lists = [json_of(app.get_as(&b.token, "/v1/articles").await).await, json_of(app.get_as(&b.token, "/v1/media").await).await];
        assert!(lists[0]["items"].as_array().unwrap().is_empty());
        assert_eq!(lists[1]["items"].as_array().unwrap().len(), 1, "only B's own photo");
        let after = app.snapshot();
        let changed: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
        assert!(changed.is_empty(), "A's content changed: {changed:?}");
    }

    async fn admins_act_for_a_named_publisher_and_licensees_are_refused(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let licensee_token = w.licensee("Morning Brief", &["GB"]).await.token;
        let mut on_behalf = photo();
        on_behalf["publisher_id"] = json!(desk.id);

        let created = app.post_as(&w.admin, "/v1/media", &on_behalf).await;
        let unnamed = app.post_as(&w.admin, "/v1/media", &photo()).await;

        assert_eq!(created.status(), 201);
        assert_eq!(json_of(created).await["publisher_id"], desk.id.as_str());
        assert!(expect_problem(unnamed, 403).await["detail"].as_str().unwrap().contains("publisher_id"));
        let media = json_of(app.get_as(&desk.token, "/v1/media").await).await["items"][0]["id"].as_str().unwrap().to_owned();
        for (path, body) in [("/v1/articles", story("hg-x", &media)), ("/v1/media", photo())] {
            expect_problem(app.get_as(&licensee_token, path).await, 403).await;
            expect_problem(app.post_as(&licensee_token, path, &body).await, 403).await;
            expect_problem(app.get(path).await, 401).await;
        }
    }

    async fn the_article_list_filters_by_status_section_and_time(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let desk = w.publisher("Harbour Gazette").await;
        let media = w.photo(&desk, &photo()).await;
        let mut draft = story("hg-18", &media);
        draft["status"] = json!("draft");
        draft["section"] = json!("business");
        w.article(&desk, &draft).await;
        w.article(&desk, &story("hg-19", &media)).await;

        let drafts = json_of(app.get_as(&desk.token, "/v1/articles?status=draft").await).await;
        let environment = json_of(app.get_as(&desk.token, "/v1/articles?section=environment").await).await;
        let future = json_of(app.get_as(&desk.token, "/v1/articles?updated_since=2099-01-01T00:00:00Z").await).await;

        assert_eq!(drafts["items"].as_array().unwrap().len(), 1);
        assert_eq!(drafts["items"][0]["external_ref"], "hg-18");
        assert_eq!(environment["items"][0]["external_ref"], "hg-19");
        assert!(future["items"].as_array().unwrap().is_empty());
        expect_problem(app.get_as(&desk.token, "/v1/articles?status=deleted").await, 400).await;
    }
}
