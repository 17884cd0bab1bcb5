//! Everything that leaves the service as an error is an RFC 9457 problem
//! with the request id, whatever produced it.

use serde_json::json;

use crate::harness::{expect_problem, spawn_app};
use crate::world::{Deal, World};

crate::backend_tests! {
    async fn an_unknown_route_is_a_404_problem(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get("/v1/no-such-thing?x=1").await;

        let problem = expect_problem(response, 404).await;
        let request_id = problem["request_id"].clone();
        assert_eq!(problem, json!({
            "type": "/problems/not-found",
            "title": "Not found",
            "status": 404,
            "detail": "no route for GET /v1/no-such-thing",
            "instance": "/v1/no-such-thing",
            "request_id": request_id,
        }));
    }

    async fn a_known_path_with_the_wrong_method_is_a_405_problem_with_allow(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.client.delete(app.url("/readyz")).send().await.unwrap();

        assert_eq!(response.headers()["allow"], "GET");
        let problem = expect_problem(response, 405).await;
        let request_id = problem["request_id"].clone();
        assert_eq!(problem, json!({
            "type": "/problems/method-not-allowed",
            "title": "Method not allowed",
            "status": 405,
            "detail": "DELETE is not allowed here",
            "instance": "/readyz",
            "request_id": request_id,
        }));
    }

    async fn an_incoming_request_id_is_echoed_in_the_header_and_the_problem(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.client.get(app.url("/nowhere")).header("X-Request-Id", "edge-7f3a:42").send().await.unwrap();

        assert_eq!(response.headers()["x-request-id"], "edge-7f3a:42");
        let problem = expect_problem(response, 404).await;
        assert_eq!(problem["request_id"], "edge-7f3a:42");
    }

    async fn an_unusable_request_id_is_replaced_by_a_fresh_one(backend: Backend) {
        let app = spawn_app(backend).await;
        let cases = ["", "has spaces", "quote\"d", &"x".repeat(129)];

        for incoming in cases {
            let response = app.client.get(app.url("/healthz")).header("X-Request-Id", incoming).send().await.unwrap();

            let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
            assert_ne!(echoed, incoming);
            assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "{echoed} is not a generated id");
        }
    }

    async fn every_response_carries_a_request_id(backend: Backend) {
        let w = World::new(backend).await;
        let app = &w.app;
        let Deal { desk, reader, licence } = w.deal("Harbour Gazette", "Morning Brief", &["GB"], json!({})).await;
        let media = w.photo(&desk, &crate::cast::photo()).await;
        let article = w.article(&desk, &crate::cast::story("hg-1", "published")).await["id"].as_str().unwrap().to_owned();
        let token_request = app.client.post(app.url("/v1/auth/token"))
            .basic_auth(&reader.client.client_id, Some(&reader.client.client_secret))
            .form(&[("grant_type", "client_credentials")]);

        // One answer from each route family, then one of each kind of problem.
        let answers = [
            ("ops: healthz", app.get("/healthz").await, 200),
            ("ops: readyz", app.get("/readyz").await, 200),
            ("ops: metrics", app.get("/metrics").await, 200),
            ("auth: token", token_request.send().await.unwrap(), 200),
            ("auth: jwks", app.get("/.well-known/jwks.json").await, 200),
            ("auth: me", app.get_as(&reader.token, "/v1/me").await, 200),
            ("publishers", app.post_as(&w.admin, "/v1/publishers", &json!({"name": "Coast Herald"})).await, 201),
            ("licensees", app.get_as(&w.admin, &format!("/v1/licensees/{}", reader.id)).await, 200),
            ("clients", app.get_as(&w.admin, "/v1/clients").await, 200),
            ("licences", app.get_as(&w.admin, &format!("/v1/licences/{licence}")).await, 200),
            ("media", app.get_as(&desk.token, &format!("/v1/media/{media}")).await, 200),
            ("articles", app.get_as(&desk.token, &format!("/v1/articles/{article}")).await, 200),
            ("content", w.fetch(&reader.token, &article).await, 200),
            ("feed", app.get_as(&reader.token, "/v1/feed").await, 200),
            ("usage", app.get_as(&reader.token, "/v1/usage").await, 200),
            ("quota", app.get_as(&reader.token, "/v1/quota").await, 200),
            ("docs: spec", app.get("/openapi.json").await, 200),
            ("docs: page", app.get("/docs/").await, 200),
        ];
        let problems = [
            ("unknown route", app.get("/v1/no-such-thing").await, 404),
            ("wrong method", app.client.delete(app.url("/readyz")).send().await.unwrap(), 405),
            ("no token", app.get("/v1/me").await, 401),
            ("wrong role", app.get_as(&reader.token, "/v1/publishers").await, 403),
            ("invalid query", app.get_as(&w.admin, "/v1/publishers?limit=0").await, 422),
        ];

        let mut ids = std::collections::BTreeSet::new();
        for (family, response, status) in answers {
            assert_eq!(response.status().as_u16(), status, "{family}");
            let id = response.headers().get("x-request-id").unwrap_or_else(|| panic!("{family} has no X-Request-Id"));
            assert!(ids.insert(id.to_str().unwrap().to_owned()), "{family} repeats a request id");
        }
        for (case, response, status) in problems {
            let id = response.headers().get("x-request-id").unwrap_or_else(|| panic!("{case} has no X-Request-Id")).to_str().unwrap().to_owned();
            // Also checks that the problem's request_id is the header's.
            expect_problem(response, status).await;
            assert!(ids.insert(id), "{case} repeats a request id");
        }
    }
}

mod bodies {
    use serde_json::json;

    use crate::harness::{expect_problem, spawn_app, spawn_app_with};

    crate::backend_tests! {
        async fn malformed_json_is_a_400_problem(backend: Backend) {
            let app = spawn_app(backend).await;
            let admin = app.admin_token().await;

            let response = app.client.post(app.url("/v1/publishers")).bearer_auth(&admin)
                .header("content-type", "application/json").body("{\"name\": ").send().await.unwrap();

            let problem = expect_problem(response, 400).await;
            assert_eq!(problem["type"], "/problems/bad-request");
            assert!(problem["detail"].as_str().unwrap().starts_with("invalid JSON body"), "{problem}");
        }

        async fn a_body_of_the_wrong_media_type_is_a_415_problem(backend: Backend) {
            let app = spawn_app(backend).await;
            let admin = app.admin_token().await;

            let response = app.client.post(app.url("/v1/publishers")).bearer_auth(&admin)
                .header("content-type", "text/plain").body("{\"name\": \"x\"}").send().await.unwrap();

            let problem = expect_problem(response, 415).await;
            let request_id = problem["request_id"].clone();
            assert_eq!(problem, json!({
                "type": "/problems/unsupported-media-type",
                "title": "Unsupported media type",
                "status": 415,
                "detail": "the body must be application/json",
                "instance": "/v1/publishers",
                "request_id": request_id,
            }));
        }

        async fn a_body_over_the_limit_is_a_413_problem(backend: Backend) {
            let app = spawn_app_with(backend, |s| s.body_limit = 1024).await;
            let admin = app.admin_token().await;
            let padding = "x".repeat(2000);

            let response = app.post_as(&admin, "/v1/publishers", &json!({"name": padding})).await;

            let problem = expect_problem(response, 413).await;
            assert_eq!(problem["detail"], "request body is larger than the limit of 1024 bytes");
            assert!(app.snapshot().iter().all(|l| !l.starts_with("publisher")));
        }

        async fn the_default_body_limit_is_one_mebibyte(backend: Backend) {
            let app = spawn_app(backend).await;
            let admin = app.admin_token().await;
            let mib = 1024 * 1024;
            // Valid JSON for a publisher, padded with trailing spaces to `size` bytes.
            let padded = |name: &str, size: usize| {
                let body = format!("{{\"name\": \"{name}\"}}");
                format!("{body}{}", " ".repeat(size - body.len()))
            };
            let send = |body: String| {
                assert!(body.len() == mib || body.len() == mib + 1);
                app.client.post(app.url("/v1/publishers")).bearer_auth(&admin)
                    .header("content-type", "application/json").body(body).send()
            };

            let at_the_limit = send(padded("Coast Herald", mib)).await.unwrap();
            let one_byte_over = send(padded("Valley Courier", mib + 1)).await.unwrap();

            assert_eq!(at_the_limit.status(), 201, "a body of exactly 1 MiB: {}", at_the_limit.text().await.unwrap());
            let problem = expect_problem(one_byte_over, 413).await;
            assert_eq!(problem["detail"], "request body is larger than the limit of 1048576 bytes");
            let publishers: Vec<String> = app.snapshot().into_iter().filter(|l| l.starts_with("publisher")).collect();
            assert_eq!(publishers.len(), 1, "{publishers:?}");
            assert!(publishers[0].contains("Coast Herald"), "{publishers:?}");
        }

        async fn a_bad_path_parameter_is_a_400_problem(backend: Backend) {
            let app = spawn_app(backend).await;
            let admin = app.admin_token().await;

            let response = app.get_as(&admin, "/v1/licensees/12345").await;

            let problem = expect_problem(response, 400).await;
            assert!(problem["detail"].as_str().unwrap().starts_with("invalid path parameter"), "{problem}");
        }

        async fn a_bad_query_parameter_is_a_400_problem(backend: Backend) {
            let app = spawn_app(backend).await;
            let admin = app.admin_token().await;

            let response = app.get_as(&admin, "/v1/clients?limit=many").await;

            let problem = expect_problem(response, 400).await;
            assert!(problem["detail"].as_str().unwrap().starts_with("invalid query parameter"), "{problem}");
        }
    }
}
