//! Purposes: a licence permits some, a token carries some, a fetch
//! declares one; a photo's data-mining value withholds it from some; a
//! licence may require attribution. Each rule from the outside, over HTTP,
//! with the ledger row it leaves.

use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::harness::{Backend, TestClient, expect_problem, json_of};
use crate::world::{Deal, World};

/// A published story of the desk's, with the photos named.
fn story(external_ref: &str, photos: &[&str]) -> Value {
    let media: Vec<Value> = photos
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"media_id": id, "role": if i == 0 { "main" } else { "inline" }}))
        .collect();
    json!({
        "external_ref": external_ref,
        "headline": "Ferry timetable changes for the winter crossing",
        "body_html": "<p>The late sailing moves to 21:40 from the first of December.</p>",
        "section": "transport", "language": "en-GB", "status": "published",
        "canonical_url": "https://harbourtimes.example/transport/winter-crossing",
        "bylines": [{"name": "Amara Okafor", "location": "in Portmere"}],
        "agency_credits": [{"agency": "Northwire", "role": "contributed",
            "credit_line": "Northwire contributed to this report", "redistribution": "allowed"}],
        "media": media,
    })
}

fn photo(data_mining: &str) -> Value {
    json!({
        "caption": "The late ferry leaves the quay.",
        "credit_line": "Photograph: Lena Varga/Northwire",
        "copyright_holder": "Northwire",
        "renditions": [{"href": "https://images.example.org/ferry.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        "rights": {"syndication": "allowed", "data_mining": data_mining},
    })
}

/// A token for `client` with `scope` asked for, or the token endpoint's
/// refusal.
async fn token_with_scope(w: &World, client: &TestClient, scope: &str) -> reqwest::Response {
    w.app
        .client
        .post(w.app.url("/v1/auth/token"))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap()
}

async fn fetch_for(w: &World, token: &str, id: &str, purpose: &str) -> reqwest::Response {
    w.app
        .get_as(token, &format!("/v1/content/{id}?purpose={purpose}"))
        .await
}

/// One ledger row: its purpose, whether it was billed, its price and its
/// attribution.
#[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
struct Row {
    #[diesel(sql_type = diesel::sql_types::Text)]
    purpose: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    billable: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    unit_price: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    attribution: Option<String>,
}

async fn ledger_rows(w: &World, licence: &str) -> Vec<Row> {
    w.app.settled().await;
    diesel::sql_query(
        "SELECT purpose, billable, unit_price, attribution FROM usage_events \
         WHERE licence_id = $1 ORDER BY at, id",
    )
    .bind::<diesel::sql_types::Text, _>(licence)
    .load(&mut w.app.db.connect())
    .unwrap()
}

/// Harbour Times licenses Morning Brief for display at 25p and ai-input at
/// 40p, with attribution.
async fn deal(backend: Backend) -> (World, Deal) {
    let w = World::new(backend).await;
    let deal = w
        .deal(
            "The Harbour Times",
            "Morning Brief",
            &["GB"],
            json!({
                "price_per_unit": {"amount_minor": 25, "currency": "GBP"},
                "purposes": [
                    {"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}},
                    {"purpose": "display"},
                ],
                "attribution_required": true,
            }),
        )
        .await;
    (w, deal)
}

crate::backend_tests! {
    async fn a_fetch_is_for_a_purpose_its_licence_permits_billed_once_per_purpose_at_its_price(backend: Backend) {
        let (w, d) = deal(backend).await;
        let licence = json_of(w.app.get_as(&w.admin, &format!("/v1/licences/{}", d.licence)).await).await;
        assert_eq!(
            licence["purposes"],
            json!([{"purpose": "display"}, {"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}}])
        );
        assert_eq!(licence["attribution_required"], true);
        let id = w.article(&d.desk, &story("hx-1", &[])).await["id"].as_str().unwrap().to_owned();

        // No purpose named: display, which the token grants.
        let shown = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert_eq!(shown["purpose"], "display");
        let attribution = json!({
            "text": "Amara Okafor in Portmere / The Harbour Times; Northwire contributed to this report",
            "link": "https://harbourtimes.example/transport/winter-crossing",
        });
        assert_eq!(shown["attribution"], attribution);
        let grounded = fetch_for(&w, &d.reader.token, &id, "ai-input").await;
        assert_eq!(grounded.status(), 200);
        assert_eq!(json_of(grounded).await["purpose"], "ai-input");
        assert_eq!(fetch_for(&w, &d.reader.token, &id, "display").await.status(), 200);

        for purpose in ["ai-train", "search", "ai-index"] {
            let problem = expect_problem(fetch_for(&w, &d.reader.token, &id, purpose).await, 403).await;
            assert_eq!(problem["type"], "/problems/purpose-not-licensed");
            assert_eq!(problem["purpose"], purpose);
            assert_eq!(problem["purposes"], json!(["display", "ai-input"]));
            assert!(problem["detail"].as_str().unwrap().contains(purpose), "{problem}");
        }

        // Each purpose billed once, at its own price, with the attribution
        // the licence required; refusals left nothing.
        let text = attribution["text"].as_str().map(str::to_owned);
        let row = |purpose: &str, billable, unit_price| Row {
            purpose: purpose.to_owned(),
            billable,
            unit_price: Some(unit_price),
            attribution: text.clone(),
        };
        let rows = ledger_rows(&w, &d.licence).await;
        assert_eq!(
            rows,
            [row("display", true, 25), row("ai-input", true, 40), row("display", false, 25)]
        );

        // Reports by purpose, from whole days and from the events of part
        // of a day, for the licensee and the publisher: to the unit and the
        // cent of the ledger.
        let ledger = |purpose: &str| {
            let of: Vec<&Row> = rows.iter().filter(|r| r.purpose == purpose).collect();
            let billed: Vec<&&Row> = of.iter().filter(|r| r.billable).collect();
            json!({
                "key": purpose, "label": purpose, "currency": "GBP",
                "deliveries": of.len(), "billable_units": billed.len(),
                "amount_minor": billed.iter().map(|r| r.unit_price.unwrap()).sum::<i64>(),
            })
        };
        let from_an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        for (token, range) in [
            (&d.reader.token, "from=2026-01-01T00:00:00Z".to_owned()),
            (&d.desk.token, format!("from={from_an_hour_ago}")),
        ] {
            let report = json_of(w.app.get_as(token, &format!("/v1/usage?group_by=purpose&{range}")).await).await;
            assert_eq!(report["rows"], json!([ledger("ai-input"), ledger("display")]), "{range}");
            assert_eq!(
                report["totals"],
                json!({"deliveries": 3, "billable_units": 2, "amounts": [{"currency": "GBP", "amount_minor": 65}]}),
                "{report}"
            );
        }
    }

    async fn a_licence_without_purposes_permits_display_and_requires_no_attribution(backend: Backend) {
        let w = World::new(backend).await;
        let d = w.deal("Valley Courier", "Reader Daily", &["GB"], json!({})).await;
        let licence = json_of(w.app.get_as(&w.admin, &format!("/v1/licences/{}", d.licence)).await).await;
        assert_eq!(licence["purposes"], json!([{"purpose": "display"}]));
        assert_eq!(licence["attribution_required"], false);
        let id = w.article(&d.desk, &story("vc-1", &[])).await["id"].as_str().unwrap().to_owned();
        let shown = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert_eq!((&shown["purpose"], &shown["attribution"]), (&json!("display"), &Value::Null));
        let problem = expect_problem(fetch_for(&w, &d.reader.token, &id, "ai-input").await, 403).await;
        assert_eq!(problem["purposes"], json!(["display"]));

        // Changing the licence's purposes takes effect on the next fetch.
        let changed = w.app.send_json(
            reqwest::Method::PATCH, &w.admin, &format!("/v1/licences/{}", d.licence),
            &json!({"purposes": [{"purpose": "ai-input"}], "attribution_required": true}),
        ).await;
        assert_eq!(changed.status(), 200);
        let problem = expect_problem(w.fetch(&d.reader.token, &id).await, 403).await;
        assert_eq!((&problem["purpose"], &problem["purposes"]), (&json!("display"), &json!(["ai-input"])));
        let grounded = json_of(fetch_for(&w, &d.reader.token, &id, "ai-input").await).await;
        assert_eq!(grounded["attribution"]["text"], "Amara Okafor in Portmere / Valley Courier; Northwire contributed to this report");
    }

    async fn licence_purposes_that_repeat_or_are_unknown_are_refused_naming_the_field(backend: Backend) {
        let w = World::new(backend).await;
        let desk = w.publisher("新华社").await;
        let reader = w.licensee("Morning Brief", &["GB"]).await;
        let body = |purposes: Value| json!({
            "licensee_id": reader.id, "publisher_id": desk.id, "tier": "full",
            "include_media": true, "valid_from": "2026-01-01T00:00:00Z", "purposes": purposes,
        });
        for (purposes, field) in [
            (json!([]), "purposes"),
            (json!([{"purpose": "search", "price_per_unit": {"amount_minor": -1, "currency": "GBP"}}]), "purposes.0.price_per_unit.amount_minor"),
            (json!([{"purpose": "search", "price_per_unit": {"amount_minor": 1, "currency": "pounds"}}]), "purposes.0.price_per_unit.currency"),
        ] {
            let problem = expect_problem(w.app.post_as(&w.admin, "/v1/licences", &body(purposes.clone())).await, 422).await;
            let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert_eq!(fields, [field], "{purposes}");
        }
        for unknown in [json!([{"purpose": "ai-all"}]), json!([{"purpose": "display", "extra": 1}]), json!("display")] {
            let response = w.app.post_as(&w.admin, "/v1/licences", &body(unknown)).await;
            assert!(matches!(response.status().as_u16(), 400 | 422), "{}", response.status());
        }
        let listed = json_of(w.app.get_as(&w.admin, "/v1/licences").await).await;
        assert_eq!(listed["items"], json!([]), "nothing refused was written");

        // A purpose listed twice counts once, on its last entry's terms.
        let twice = json!([
            {"purpose": "search", "price_per_unit": {"amount_minor": 5, "currency": "GBP"}},
            {"purpose": "display"},
            {"purpose": "search", "price_per_unit": {"amount_minor": 7, "currency": "GBP"}},
        ]);
        let created = w.app.post_as(&w.admin, "/v1/licences", &body(twice)).await;
        assert_eq!(created.status(), 201);
        assert_eq!(
            json_of(created).await["purposes"],
            json!([{"purpose": "display"}, {"purpose": "search", "price_per_unit": {"amount_minor": 7, "currency": "GBP"}}])
        );
    }

    async fn a_token_carries_only_scopes_its_client_may_have_and_a_fetch_only_its_scopes(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = w.article(&d.desk, &story("hx-2", &[])).await["id"].as_str().unwrap().to_owned();
        let created = w.app.post_as(&w.admin, "/v1/clients", &json!({
            "name": "Answer engine", "role": "licensee", "organisation_id": d.reader.id,
            "purposes": ["ai-input", "search"],
        })).await;
        assert_eq!(created.status(), 201);
        let created = json_of(created).await;
        assert_eq!(created["purposes"], json!(["search", "ai-input"]));
        let client = TestClient {
            client_id: created["client_id"].as_str().unwrap().to_owned(),
            client_secret: created["client_secret"].as_str().unwrap().to_owned(),
        };

        for (scope, description) in [("use:display", "may not fetch for display"), ("use:ai-all", "unknown scope"), ("read", "unknown scope")] {
            let refused = token_with_scope(&w, &client, scope).await;
            assert_eq!(refused.status(), 400, "{scope}");
            let body = json_of(refused).await;
            assert_eq!(body["error"], "invalid_scope");
            assert!(body["error_description"].as_str().unwrap().contains(description), "{body}");
        }
        let desk_scope = token_with_scope(&w, &d.desk.client, "use:display").await;
        assert_eq!(json_of(desk_scope).await["error"], "invalid_scope");

        // One purpose: the fetch is for it without saying so.
        let granted = json_of(token_with_scope(&w, &client, "use:ai-input").await).await;
        assert_eq!(granted["scope"], "use:ai-input");
        let token = granted["access_token"].as_str().unwrap();
        assert_eq!(json_of(w.fetch(token, &id).await).await["purpose"], "ai-input");
        let problem = expect_problem(fetch_for(&w, token, &id, "display").await, 403).await;
        assert_eq!(problem["type"], "/problems/insufficient-scope");
        assert_eq!(problem["purposes"], json!(["ai-input"]));

        // Two purposes without display: the fetch must name one.
        let both = json_of(token_with_scope(&w, &client, "").await).await;
        assert_eq!(both["scope"], "use:search use:ai-input");
        let token = both["access_token"].as_str().unwrap();
        let problem = expect_problem(w.fetch(token, &id).await, 422).await;
        assert_eq!(problem["errors"][0]["field"], "purpose");
        // Search is in the token but not in the licence.
        let problem = expect_problem(fetch_for(&w, token, &id, "search").await, 403).await;
        assert_eq!(problem["type"], "/problems/purpose-not-licensed");
        // And the content list shows only what may be fetched for the purpose.
        let listed = json_of(w.app.get_as(token, "/v1/content?purpose=ai-input").await).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let listed = json_of(w.app.get_as(token, "/v1/content?purpose=search").await).await;
        assert_eq!(listed["items"], json!([]));
        let refused = w.app.post_as(&w.admin, "/v1/clients", &json!({
            "name": "Desk", "role": "publisher", "organisation_id": d.desk.id, "purposes": ["display"],
        })).await;
        let problem = expect_problem(refused, 400).await;
        assert!(problem["detail"].as_str().unwrap().contains("purposes"), "{problem}");
    }

    async fn a_photo_is_withheld_from_every_purpose_its_data_mining_value_forbids(backend: Backend) {
        let w = World::new(backend).await;
        let d = w.deal("The Harbour Times", "Answer Lab", &["GB"], json!({
            "purposes": [{"purpose": "display"}, {"purpose": "search"}, {"purpose": "ai-index"},
                         {"purpose": "ai-input"}, {"purpose": "ai-train"}],
        })).await;
        // Each value, and the purposes it keeps the photo from, written out
        // from the PLUS definitions.
        let table: [(&str, &[&str]); 9] = [
            ("unspecified", &[]),
            ("allowed", &[]),
            ("prohibited_ai_ml_training", &["ai-train"]),
            ("prohibited_gen_ai_ml_training", &["ai-train"]),
            ("prohibited_except_search_engine_indexing", &["ai-index", "ai-input", "ai-train"]),
            ("prohibited", &["search", "ai-index", "ai-input", "ai-train"]),
            ("prohibited_see_constraint", &["search", "ai-index", "ai-input", "ai-train"]),
            ("prohibited_see_embedded_rights_expression", &["search", "ai-index", "ai-input", "ai-train"]),
            ("prohibited_see_linked_rights_expression", &["search", "ai-index", "ai-input", "ai-train"]),
        ];
        let mut photos = Vec::new();
        for (value, _) in table {
            let id = w.photo(&d.desk, &photo(value)).await;
            let stored = json_of(w.app.get_as(&d.desk.token, &format!("/v1/media/{id}")).await).await;
            assert_eq!(stored["rights"]["data_mining"], value);
            photos.push(id);
        }
        let refs: Vec<&str> = photos.iter().map(String::as_str).collect();
        let id = w.article(&d.desk, &story("hx-3", &refs)).await["id"].as_str().unwrap().to_owned();
        for purpose in ["display", "search", "ai-index", "ai-input", "ai-train"] {
            let delivered = json_of(fetch_for(&w, &d.reader.token, &id, purpose).await).await;
            let shown: Vec<&str> = delivered["media"].as_array().unwrap().iter().map(|m| m["data_mining"].as_str().unwrap()).collect();
            let expected: Vec<&str> = table.iter().filter(|(_, kept)| !kept.contains(&purpose)).map(|(v, _)| *v).collect();
            assert_eq!(shown, expected, "{purpose}");
            let withheld = delivered["media_withheld"].as_array().unwrap();
            assert_eq!(withheld.len(), table.len() - expected.len(), "{purpose}");
            assert!(withheld.iter().all(|w| w["reason"] == "data_mining"), "{purpose}: {withheld:?}");
        }
        // ninjs carries the value on each picture's rights, as PLUS's URI.
        let ninjs = json_of(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=ninjs&purpose=search")).await).await;
        let rights: Vec<&str> = ninjs["associations"].as_array().unwrap().iter()
            .map(|a| a["rightsinfo"]["linkedrights"].as_str().unwrap()).collect();
        assert_eq!(rights, [
            "http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED",
            "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING",
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
        ]);
        assert!(ninjs["ednote"].as_str().unwrap().contains("4 photo(s) withheld: data_mining"), "{}", ninjs["ednote"]);
    }
}
