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
