//! Publishers and licensees: creation, validation, pages, changes.

use reqwest::Method;
use serde_json::json;

use crate::harness::{expect_problem, spawn_app};

crate::backend_tests! {
    async fn a_publisher_is_created_with_a_derived_slug_and_read_back(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;

        let created = app.post_as(&admin, "/v1/publishers", &json!({"name": "The Harbour Gazette"})).await;

        assert_eq!(created.status(), 201);
        let created: serde_json::Value = created.json().await.unwrap();
        assert_eq!(created["slug"], "the-harbour-gazette");
        let read: serde_json::Value = app.get_as(&admin, &format!("/v1/publishers/{}", created["id"].as_str().unwrap())).await.json().await.unwrap();
        assert_eq!(read, created);
    }

    async fn a_publisher_named_in_any_script_gets_a_slug_in_latin_letters(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let cases = [
            ("新华社", "xin-hua-she"),
            ("الجزيرة", "ljzyr"),
            ("Известия", "izvestiia"),
            ("Καθημερινή", "kathemerine"),
            ("दैनिक जागरण", "dainik-jaagrnn"),
            ("朝日新聞", "zhao-ri-xin-wen"),
            ("よみうり", "yomiuri"),
            ("🦀📰", "crab-newspaper"),
        ];

        for (name, slug) in cases {
            let response = app.post_as(&admin, "/v1/publishers", &json!({"name": name})).await;

            assert_eq!(response.status(), 201, "{name}");
            let created: serde_json::Value = response.json().await.unwrap();
            assert_eq!(created["name"], name);
            assert_eq!(created["slug"], slug, "{name}");
        }
    }

    async fn a_publisher_whose_name_has_no_letter_or_digit_takes_its_id_as_slug(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;

        for name in ["!!!", "★ ★", "— · —"] {
            let response = app.post_as(&admin, "/v1/publishers", &json!({"name": name})).await;

            assert_eq!(response.status(), 201, "{name}");
            let created: serde_json::Value = response.json().await.unwrap();
            let slug = created["slug"].as_str().unwrap();
            assert_eq!(slug, created["id"].as_str().unwrap(), "{name}");
            assert!(slug.split('-').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())), "{slug}");
            let read: serde_json::Value = app.get_as(&admin, &format!("/v1/publishers/{slug}")).await.json().await.unwrap();
            assert_eq!(read, created);
        }
    }

    async fn a_taken_slug_is_a_409(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        app.create_publisher(&admin, "Valley Courier").await;

        let again = app.post_as(&admin, "/v1/publishers", &json!({"name": "Another", "slug": "valley-courier"})).await;

        let problem = expect_problem(again, 409).await;
        assert_eq!(problem["detail"], "the slug \"valley-courier\" is taken");
    }

    async fn invalid_organisation_fields_are_422s_naming_each_field(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let long = "x".repeat(201);
        let cases = [
            ("/v1/publishers", json!({"name": ""}), vec!["name"]),
            ("/v1/publishers", json!({"name": long}), vec!["name"]),
            ("/v1/publishers", json!({"name": "Null\u{0}Byte"}), vec!["name"]),
            ("/v1/publishers", json!({"name": "Fine", "slug": "Not A Slug"}), vec!["slug"]),
            ("/v1/licensees", json!({"name": "", "territories": ["GB", "XX", "gb"]}), vec!["name", "territories.1", "territories.2"]),
            ("/v1/licensees", json!({"name": "No Territory", "territories": []}), vec!["territories.0"]),
        ];

        for (path, body, fields) in cases {
            let response = app.post_as(&admin, path, &body).await;

            let problem = expect_problem(response, 422).await;
            let named: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
            assert_eq!(named, fields, "{body}");
        }
        assert_eq!(app.snapshot().iter().filter(|l| !l.starts_with("client")).count(), 0, "a refused request wrote something");
    }

    async fn unknown_fields_and_wrong_types_are_400s(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;

        let unknown = app.post_as(&admin, "/v1/publishers", &json!({"name": "X", "owner": "me"})).await;
        let wrong_type = app.post_as(&admin, "/v1/licensees", &json!({"name": "X", "territories": "GB"})).await;
        let missing = app.post_as(&admin, "/v1/licensees", &json!({"name": "X"})).await;
        let array = app.send_json(reqwest::Method::PATCH, &admin, &format!("/v1/publishers/{}", app.create_publisher(&admin, "Arrays").await), &json!([null, null])).await;

        assert!(expect_problem(unknown, 400).await["detail"].as_str().unwrap().contains("unknown field `owner`"));
        expect_problem(wrong_type, 400).await;
        assert!(expect_problem(missing, 400).await["detail"].as_str().unwrap().contains("missing field `territories`"));
        assert_eq!(expect_problem(array, 400).await["detail"], "invalid JSON body: it must be a JSON object");
    }

    async fn lists_page_through_every_item_once_in_creation_order(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let mut created = Vec::new();
        for n in 0..5 {
            created.push(app.create_licensee(&admin, &format!("Aggregator {n}"), &["IE"]).await);
        }

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/licensees?limit=2&cursor={c}"),
                None => "/v1/licensees?limit=2".to_owned(),
            };
            let page: serde_json::Value = app.get_as(&admin, &path).await.json().await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2);
            seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }

        assert_eq!(seen, created);
    }

    async fn bad_page_parameters_are_4xx_problems(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let publishers_cursor = {
            app.create_publisher(&admin, "One").await;
            app.create_publisher(&admin, "Two").await;
            let page: serde_json::Value = app.get_as(&admin, "/v1/publishers?limit=1").await.json().await.unwrap();
            page["next_cursor"].as_str().unwrap().to_owned()
        };
        let cases = [
            ("limit=0", 422), ("limit=-1", 422), ("limit=101", 422), ("limit=1e9", 400), ("limit=abc", 400),
            ("cursor=garbage!", 404), ("cursor=Zm9vOmJhcg", 404),
        ];

        for (query, status) in cases {
            let response = app.get_as(&admin, &format!("/v1/licensees?{query}")).await;
            expect_problem(response, status).await;
        }
        let foreign = app.get_as(&admin, &format!("/v1/licensees?cursor={publishers_cursor}")).await;
        assert!(expect_problem(foreign, 404).await["detail"].as_str().unwrap().contains("cursor"));
    }

    async fn a_licensee_is_patched_field_by_field(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let id = app.create_licensee(&admin, "Morning Brief", &["GB"]).await;

        let renamed = app.send_json(Method::PATCH, &admin, &format!("/v1/licensees/{id}"), &json!({"name": "Morning Brief Daily", "territories": ["IE", "GB", "IE"]})).await;

        assert_eq!(renamed.status(), 200);
        let body: serde_json::Value = renamed.json().await.unwrap();
        assert_eq!(body["name"], "Morning Brief Daily");
        assert_eq!(body["territories"], json!(["GB", "IE"]));
        assert_eq!(body["status"], "active");
    }

    async fn an_unknown_or_malformed_id_is_a_4xx_problem(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;

        let unknown = app.get_as(&admin, "/v1/publishers/019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40").await;
        let malformed = app.get_as(&admin, "/v1/publishers/not-a-uuid").await;
        let overlong = app.get_as(&admin, &format!("/v1/licensees/{}", "9".repeat(5000))).await;
        let patch_unknown = app.send_json(Method::PATCH, &admin, "/v1/licensees/019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40", &json!({"status": "active"})).await;

        assert_eq!(expect_problem(unknown, 404).await["detail"], "no such publisher");
        expect_problem(malformed, 400).await;
        expect_problem(overlong, 400).await;
        expect_problem(patch_unknown, 404).await;
    }

    async fn clients_need_the_organisation_their_role_implies(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let publisher = app.create_publisher(&admin, "Valley Courier").await;
        let licensee = app.create_licensee(&admin, "Morning Brief", &["GB"]).await;
        // The role decides the shape of the body (400 when it does not
        // fit); an organisation that does not exist is 404.
        let malformed = [
            (json!({"name": "a", "role": "admin", "organisation_id": publisher}), "unknown field `organisation_id`"),
            (json!({"name": "p", "role": "publisher"}), "missing field `organisation_id`"),
        ];
        for (body, message) in malformed {
            let problem = expect_problem(app.post_as(&admin, "/v1/clients", &body).await, 400).await;
            assert!(problem["detail"].as_str().unwrap().contains(message), "{body}: {problem}");
        }
        let unknown = [
            (json!({"name": "p", "role": "publisher", "organisation_id": licensee}), "no publisher has this id"),
            (json!({"name": "l", "role": "licensee", "organisation_id": publisher}), "no licensee has this id"),
        ];
        for (body, message) in unknown {
            let problem = expect_problem(app.post_as(&admin, "/v1/clients", &body).await, 404).await;
            assert_eq!(problem["errors"][0], json!({"field": "organisation_id", "message": message}), "{body}");
        }
        let ok = app.post_as(&admin, "/v1/clients", &json!({"name": "desk", "role": "publisher", "organisation_id": publisher})).await;
        assert_eq!(ok.status(), 201);
        let body: serde_json::Value = ok.json().await.unwrap();
        assert_eq!(body["organisation_id"], publisher.as_str());
        assert_eq!(body["client_secret"].as_str().unwrap().len(), 43);
        let listed: serde_json::Value = app.get_as(&admin, "/v1/clients").await.json().await.unwrap();
        assert!(listed["items"].as_array().unwrap().iter().all(|c| c.get("client_secret").is_none()), "a listing shows a secret");
    }
}
