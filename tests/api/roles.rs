//! Every admin operation refuses publishers (403), licensees (403) and the
//! anonymous (401), and a refused call changes nothing.

use reqwest::Method;
use serde_json::json;
use syndicate::domain::Role;

use crate::harness::{expect_problem, spawn_app};

crate::backend_tests! {
    async fn admin_operations_refuse_every_other_caller_and_change_nothing(backend: Backend) {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let publisher = app.create_publisher(&admin, "Valley Courier").await;
        let licensee = app.create_licensee(&admin, "Morning Brief", &["GB"]).await;
        let client = app.create_client(Role::Admin, None).client_id;
        let publisher_token = app.token_for(&app.create_client(Role::Publisher, Some(&publisher))).await;
        let licensee_token = app.token_for(&app.create_client(Role::Licensee, Some(&licensee))).await;
        let operations = [
            (Method::POST, "/v1/publishers".to_owned(), json!({"name": "Intruder"})),
            (Method::GET, "/v1/publishers".to_owned(), json!(null)),
            (Method::GET, format!("/v1/publishers/{publisher}"), json!(null)),
            (Method::PATCH, format!("/v1/publishers/{publisher}"), json!({"name": "Renamed"})),
            (Method::POST, "/v1/licensees".to_owned(), json!({"name": "Intruder", "territories": ["GB"]})),
            (Method::GET, "/v1/licensees".to_owned(), json!(null)),
            (Method::GET, format!("/v1/licensees/{licensee}"), json!(null)),
            (Method::PATCH, format!("/v1/licensees/{licensee}"), json!({"status": "suspended"})),
            (Method::POST, "/v1/clients".to_owned(), json!({"name": "x", "role": "admin"})),
            (Method::GET, "/v1/clients".to_owned(), json!(null)),
            (Method::GET, format!("/v1/clients/{client}"), json!(null)),
            (Method::DELETE, format!("/v1/clients/{client}"), json!(null)),
            (Method::POST, format!("/v1/clients/{client}/rotate-secret"), json!(null)),
        ];
        let callers = [("publisher", Some(&publisher_token), 403), ("licensee", Some(&licensee_token), 403), ("anonymous", None, 401)];
        let before = app.snapshot();

        for (method, path, body) in &operations {
            for (caller, token, status) in &callers {
                let mut request = app.client.request(method.clone(), app.url(path));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if !body.is_null() {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();

                assert_eq!(response.status().as_u16(), *status, "{method} {path} as {caller}");
                expect_problem(response, *status).await;
            }
        }

        assert_eq!(app.snapshot(), before, "a refused call changed the database");
    }
}
