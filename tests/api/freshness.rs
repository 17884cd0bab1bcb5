//! Freshness per item: a change invalidates what it touches and nothing
//! else. Writes to other articles (of the same publisher or another)
//! neither refuse nor re-decide a delivery, which `/metrics` shows
//! (`syndicate_delivery_redecisions_total` stays 0), while every kind of
//! change a delivery depends on still takes effect on the next request.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{expect_problem, json_of};
use crate::world::{Deal, Party, World};

/// A story of the desk's, published, with the photos named.
fn story(external_ref: &str, photos: &[&str]) -> Value {
    let media: Vec<Value> = photos
        .iter()
        .map(|id| json!({"media_id": id, "role": "main"}))
        .collect();
    json!({
        "external_ref": external_ref,
        "headline": format!("Tide tables for {external_ref}"),
        "body_html": "<p>High water at the harbour mouth is at 06:12.</p>",
        "section": "weather", "language": "en-GB", "status": "published", "media": media,
        "bylines": [{"name": "Anouk Veldman"}],
    })
}

fn photo_body(syndication: &str) -> Value {
    json!({
        "caption": "Fog over the harbour mouth at dawn.",
        "credit_line": "Photograph: Ravi Okafor/Harbour Pictures",
        "copyright_holder": "Harbour Pictures",
        "renditions": [{"href": "https://images.example.org/fog.jpg", "width": 1600, "height": 1067, "mime_type": "image/jpeg"}],
        "rights": {"syndication": syndication},
    })
}

async fn article(w: &World, desk: &Party, external_ref: &str, photos: &[&str]) -> String {
    w.article(desk, &story(external_ref, photos)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The Tidewater Gazette's desk, a reader of Coastal Morning (GB) with a
/// full licence with media, and a second publisher whose desk also writes.
async fn deal(backend: crate::harness::Backend) -> (World, Deal, Party) {
    let w = World::new(backend).await;
    let deal = w
        .deal("Tidewater Gazette", "Coastal Morning", &["GB"], json!({}))
        .await;
    let other = w.publisher("Inland Courier").await;
    (w, deal, other)
}

/// Deliveries decided again so far, as `/metrics` tells.
async fn redecisions(w: &World) -> f64 {
    let metrics = w.app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("syndicate_delivery_redecisions_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no redecision counter in {metrics}"))
}

crate::backend_tests! {
    async fn writes_to_other_articles_between_deliveries_decide_nothing_again(backend: Backend) {
        let (w, d, other) = deal(backend).await;
        let shown = w.photo(&d.desk, &photo_body("allowed")).await;
        let id = article(&w, &d.desk, "tw-x", &[&shown]).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        for n in 0..5 {
            // Another article of the same publisher, one of another, a new
            // photo of the same publisher and an edit of another article.
            let sibling = article(&w, &d.desk, &format!("tw-{n}"), &[]).await;
            article(&w, &other, &format!("ic-{n}"), &[]).await;
            let unshown = w.photo(&d.desk, &photo_body("allowed")).await;
            let replaced = w.app.send_json(Method::PUT, &d.desk.token, &format!("/v1/media/{unshown}"), &photo_body("prohibited")).await;
            assert_eq!(replaced.status(), 200);
            let sibling_path = format!("/v1/articles/{sibling}/withhold");
            let withheld = w.app.post_as(&d.desk.token, &sibling_path, &json!({"reason": "Checking a figure."})).await;
            assert_eq!(withheld.status(), 200, "{}", withheld.text().await.unwrap());

            let delivered = w.fetch(&d.reader.token, &id).await;

            assert_eq!(delivered.status(), 200);
            assert_eq!(json_of(delivered).await["media"].as_array().unwrap().len(), 1);
        }
        assert_eq!(redecisions(&w).await, 0.0);
    }

    async fn deliveries_while_four_desks_ingest_other_articles_are_all_served_and_never_decided_again(backend: Backend) {
        let (w, d, other) = deal(backend).await;
        let third = w.publisher("Estuary Weekly").await;
        let ids = [
            article(&w, &d.desk, "tw-a", &[]).await,
            article(&w, &d.desk, "tw-b", &[]).await,
        ];
        for id in &ids {
            assert_eq!(w.fetch(&d.reader.token, id).await.status(), 200);
        }
        let ingest = |desk: &'static str, party: &Party| {
            let token = party.token.clone();
            let w = &w;
            async move {
                for n in 0..15 {
                    let body = story(&format!("{desk}-{n}"), &[]);
                    let created = w.app.post_as(&token, "/v1/articles", &body).await;
                    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
                }
            }
        };
        let deliver = |id: &str| {
            let (id, w, token) = (id.to_owned(), &w, d.reader.token.clone());
            async move {
                let mut statuses = Vec::new();
                for _ in 0..20 {
                    statuses.push(w.fetch(&token, &id).await.status().as_u16());
                }
                statuses
            }
        };

        let (_, _, _, _, first, second, third_reads) = tokio::join!(
            ingest("same-a", &d.desk),
            ingest("same-b", &d.desk),
            ingest("other", &other),
            ingest("third", &third),
            deliver(&ids[0]),
            deliver(&ids[1]),
            deliver(&ids[0]),
        );

        let refused: Vec<_> = [first, second, third_reads].concat().into_iter().filter(|s| *s != 200).collect();
        assert_eq!(refused, Vec::<u16>::new());
        assert_eq!(redecisions(&w).await, 0.0);
        assert_eq!(w.ledger(&d.licence).await, (62, 2));
    }

    async fn each_kind_of_change_still_takes_effect_on_the_next_request_while_others_write(backend: Backend) {
        let (w, d, other) = deal(backend).await;
        let shown = w.photo(&d.desk, &photo_body("allowed")).await;
        let id = article(&w, &d.desk, "tw-1", &[&shown]).await;
        let ninjs_path = format!("/v1/content/{id}?format=ninjs");
        let fetch_ninjs = || w.app.get_as(&d.reader.token, &ninjs_path);
        let unrelated = |n: usize| {
            let (w, other) = (&w, &other);
            async move { article(w, other, &format!("ic-{n}"), &[]).await }
        };
        assert_eq!(json_of(fetch_ninjs().await).await["copyrightholder"], "Tidewater Gazette");

        // A publisher rename: its name is in the article's ninjs.
        unrelated(1).await;
        let renamed = w.app.send_json(Method::PATCH, &w.admin, &format!("/v1/publishers/{}", d.desk.id), &json!({"name": "Tidewater Gazette & Star"})).await;
        assert_eq!(renamed.status(), 200, "{}", renamed.text().await.unwrap());
        assert_eq!(json_of(fetch_ninjs().await).await["copyrightholder"], "Tidewater Gazette & Star");

        // Photo rights.
        unrelated(2).await;
        let replaced = w.app.send_json(Method::PUT, &d.desk.token, &format!("/v1/media/{shown}"), &photo_body("prohibited")).await;
        assert_eq!(replaced.status(), 200);
        let after = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert!(after["media"].as_array().unwrap().is_empty(), "{after}");

        // A licence change: the tier goes down to a preview.
        unrelated(3).await;
        let changed = w.app.send_json(Method::PATCH, &w.admin, &format!("/v1/licences/{}", d.licence), &json!({"tier": "preview"})).await;
        assert_eq!(changed.status(), 200, "{}", changed.text().await.unwrap());
        let previewed = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert!(previewed["body_html"].is_null(), "{previewed}");

        // The licensee suspended, then reinstated.
        unrelated(4).await;
        w.suspend(&d.reader.id).await;
        expect_problem(w.fetch(&d.reader.token, &id).await, 403).await;
        let path = format!("/v1/licensees/{}", d.reader.id);
        let reinstated = w.app.send_json(Method::PATCH, &w.admin, &path, &json!({"status": "active"})).await;
        assert_eq!(reinstated.status(), 200);
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        // The article killed.
        unrelated(5).await;
        let kill = w.app.post_as(&d.desk.token, &format!("/v1/articles/{id}/kill"), &json!({"reason": "Legal: wrong tide times."})).await;
        assert_eq!(kill.status(), 200, "{}", kill.text().await.unwrap());
        expect_problem(w.fetch(&d.reader.token, &id).await, 410).await;

        // The client revoked.
        unrelated(6).await;
        let sibling = article(&w, &d.desk, "tw-2", &[]).await;
        assert_eq!(w.fetch(&d.reader.token, &sibling).await.status(), 200);
        w.revoke(&d.reader.client.client_id.to_string()).await;
        expect_problem(w.fetch(&d.reader.token, &sibling).await, 401).await;
    }
}
