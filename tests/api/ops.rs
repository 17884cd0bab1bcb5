//! Liveness, readiness, metrics and the offline docs UI.

use crate::harness::{Backend, TestDatabase, expect_problem, spawn_app, start, test_settings};
use syndicate::storage::DatabaseUrl;

crate::backend_tests! {
    async fn healthz_says_the_process_is_up(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get("/healthz").await;

        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }

    async fn readyz_is_ready_when_the_database_answers(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get("/readyz").await;

        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        let expected = match backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" };
        assert_eq!(body, serde_json::json!({"status": "ready", "database": expected}));
    }

    async fn metrics_count_requests_by_route_pattern_and_status(backend: Backend) {
        let app = spawn_app(backend).await;
        app.get("/healthz").await;
        app.get("/no/such/route").await;

        let response = app.get("/metrics").await;

        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        let text = response.text().await.unwrap();
        assert!(text.contains(r#"syndicate_http_requests_total{endpoint="/healthz",method="GET",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"endpoint="UNMATCHED",method="GET",status="404""#), "{text}");
        assert!(text.contains("syndicate_http_requests_duration_seconds_bucket{endpoint=\"/healthz\""), "{text}");
    }

    async fn docs_are_served_from_the_binary_with_nothing_fetched_from_elsewhere(backend: Backend) {
        let app = spawn_app(backend).await;

        let redirect = app.get("/docs").await;
        let page = app.get("/docs/").await;
        let initializer = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();

        assert_eq!(redirect.status(), 307);
        assert_eq!(redirect.headers()["location"], "/docs/");
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for asset in ["./swagger-ui.css", "./swagger-ui-bundle.js", "./swagger-ui-standalone-preset.js"] {
            assert!(html.contains(asset), "page does not load {asset}");
            let served = app.get(&format!("/docs/{}", asset.trim_start_matches("./"))).await;
            assert_eq!(served.status(), 200, "{asset} is not served");
        }
        assert!(!html.contains("http://") && !html.contains("https://"), "the page loads something from elsewhere: {html}");
        assert!(initializer.contains(r#""url": "/openapi.json""#), "{initializer}");
        assert!(initializer.contains(r#""validatorUrl": "none""#), "the online validator would be called: {initializer}");
    }

    async fn a_missing_docs_asset_is_a_problem_not_an_empty_page(backend: Backend) {
        let app = spawn_app(backend).await;

        let response = app.get("/docs/no-such-file.js").await;

        expect_problem(response, 404).await;
    }
}

#[actix_web::test]
async fn readyz_is_a_503_problem_while_the_database_is_unreachable() {
    // Nothing listens on port 1; the node starts without migrating, as it
    // would while its database is down, and must say it is not ready.
    let url = DatabaseUrl::parse("postgres://syndicate@127.0.0.1:1/unreachable?connect_timeout=1")
        .unwrap();
    let mut settings = test_settings(url.clone());
    settings.migrate_on_start = false;
    settings.pool.connection_timeout = std::time::Duration::from_secs(1);
    let db = TestDatabase::unmanaged(url);
    let app = start(settings, db).await;

    let response = app.get("/readyz").await;

    assert_eq!(response.headers()["retry-after"], "1");
    let problem = expect_problem(response, 503).await;
    assert_eq!(problem["type"], "/problems/unavailable");
    assert_eq!(
        problem["detail"],
        "the database is unavailable; retry shortly"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness must not depend on the database"
    );
}
