//! Everything that leaves the service as an error is an RFC 9457 problem
//! with the request id, whatever produced it.

use serde_json::json;

use crate::harness::{expect_problem, spawn_app};

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
        let app = spawn_app(backend).await;

        let ok = app.get("/healthz").await;
        let other = app.get("/healthz").await;

        let (a, b) = (ok.headers()["x-request-id"].clone(), other.headers()["x-request-id"].clone());
        assert_ne!(a, b);
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
            let body = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024));

            let response = app.client.post(app.url("/v1/publishers")).bearer_auth(&admin)
                .header("content-type", "application/json").body(body).send().await.unwrap();

            expect_problem(response, 413).await;
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
