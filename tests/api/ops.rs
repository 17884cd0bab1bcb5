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

/// Starts the application on a PostgreSQL URL that does not answer,
/// without migrating (as a node starts while its database is down), with
/// the default pool timeout (5 s).
async fn start_without_a_database(url: &str) -> crate::harness::TestApp {
    let url = DatabaseUrl::parse(url).unwrap();
    let mut settings = test_settings(url.clone());
    settings.migrate_on_start = false;
    settings.pool.connection_timeout = std::time::Duration::from_secs(5);
    start(settings, TestDatabase::unmanaged(url)).await
}

/// GETs `/readyz` and says how long the answer took.
async fn timed_readyz(app: &crate::harness::TestApp) -> (reqwest::Response, std::time::Duration) {
    let started = std::time::Instant::now();
    let response = app.get("/readyz").await;
    (response, started.elapsed())
}

#[actix_web::test]
async fn readyz_is_a_503_problem_within_a_second_while_the_database_is_unreachable() {
    // Nothing listens on port 1.
    let app = start_without_a_database("postgres://syndicate@127.0.0.1:1/unreachable").await;

    let (response, took) = timed_readyz(&app).await;

    assert!(
        took < std::time::Duration::from_secs(1),
        "readiness took {took:?}"
    );
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = expect_problem(response, 503).await;
    assert_eq!(problem["type"], "/problems/unavailable");
    assert_eq!(problem["detail"], "not ready: the database does not answer");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness must not depend on the database"
    );
}

#[actix_web::test]
async fn readyz_is_a_503_problem_within_a_second_while_the_database_accepts_but_never_answers() {
    // A server that accepts connections and says nothing, as a hung
    // database or a half-dead host does: libpq waits for it forever.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    // Every connection is held open, however many the node's threads try
    // (each gives up after libpq's connect_timeout and tries again).
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in silent.incoming().filter_map(Result::ok) {
            held.push(connection);
        }
    });
    let app =
        start_without_a_database(&format!("postgres://syndicate@127.0.0.1:{port}/silent")).await;

    let (first, first_took) = timed_readyz(&app).await;
    let (second, second_took) = timed_readyz(&app).await;

    assert!(
        first_took < std::time::Duration::from_secs(1),
        "readiness took {first_took:?}"
    );
    assert!(
        second_took < std::time::Duration::from_secs(1),
        "readiness took {second_took:?}"
    );
    let first = expect_problem(first, 503).await;
    let second = expect_problem(second, 503).await;
    assert_eq!(
        first["detail"],
        "not ready: the database did not answer within 500 ms"
    );
    assert_eq!(
        second["detail"], "not ready: the database has not answered the previous check yet",
        "a second check must not wait on the database the first is still waiting on"
    );
}
