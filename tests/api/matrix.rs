//! The authorisation matrix: every operation as every kind of caller, with
//! the status each must get, in one table; a refused request changes no row.
//!
//! Columns: nobody, admin, publisher A, publisher B, licensee A (licensed
//! for A's content), licensee B (licensed for nothing), a suspended
//! licensee, a revoked client. Cells run left to right, so a state change
//! made by an earlier column shows in a later one (admin publishes the
//! draft, then publisher A gets 409 for publishing it again).

use serde_json::{Value, json};

use crate::cast::{Cast, Who};

/// One operation and the status for each column.
pub struct Row {
    pub method: &'static str,
    pub path: &'static str,
    pub body: Option<Value>,
    pub expect: [u16; 8],
}

impl Row {
    /// The status `who` must get.
    pub fn expected(&self, who: Who) -> u16 {
        let column = Who::ALL.iter().position(|w| *w == who).unwrap();
        self.expect[column]
    }

    /// Sends this row's request as `who`.
    pub async fn send(&self, cast: &Cast, who: Who) -> reqwest::Response {
        let app = &cast.world.app;
        let path = cast.fill(self.path);
        let body = self
            .body
            .as_ref()
            .map(|b| serde_json::from_str::<Value>(&cast.fill(&b.to_string())).unwrap());
        let mut request = app
            .client
            .request(self.method.parse().unwrap(), app.url(&path));
        if let Some(token) = cast.token(who) {
            request = request.bearer_auth(token);
        }
        if self.method == "PUT" && path.starts_with("/v1/articles/") {
            request = request.header("If-Match", "*");
        }
        if let Some(body) = &body {
            request = request.json(body);
        } else if self.path == "/v1/auth/token" {
            request = request.form(&[("grant_type", "client_credentials")]);
        }
        request.send().await.unwrap()
    }
}

fn row(method: &'static str, path: &'static str, body: Option<Value>, expect: [u16; 8]) -> Row {
    Row {
        method,
        path,
        body,
        expect,
    }
}

/// Every operation, with what each caller must get.
#[rustfmt::skip]
pub fn table() -> Vec<Row> {
    let reason = || Some(json!({"reason": "Legal: reporting restrictions."}));
    vec![
        //                                                                          none admin  pubA  pubB  licA  licB  susp  revk
        row("GET",    "/healthz", None,                                             [200,  200,  200,  200,  200,  200,  200,  200]),
        row("GET",    "/readyz", None,                                              [200,  200,  200,  200,  200,  200,  200,  200]),
        row("GET",    "/metrics", None,                                             [200,  200,  200,  200,  200,  200,  200,  200]),
        row("GET",    "/openapi.json", None,                                        [200,  200,  200,  200,  200,  200,  200,  200]),
        row("GET",    "/.well-known/jwks.json", None,                               [200,  200,  200,  200,  200,  200,  200,  200]),
        row("GET",    "/v1/me", None,                                               [401,  200,  200,  200,  200,  200,  403,  401]),
        row("GET",    "/v1/publishers", None,                                       [401,  200,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/publishers/{publisher_a}", None,                         [401,  200,  403,  403,  403,  403,  403,  401]),
        row("PATCH",  "/v1/publishers/{publisher_a}", Some(json!({"name": "The Harbour Gazette"})),
                                                                                    [401,  200,  403,  403,  403,  403,  403,  401]),
        row("POST",   "/v1/publishers", Some(json!({"name": "Coast Herald"})),      [401,  201,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/licensees", None,                                        [401,  200,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/licensees/{licensee_a}", None,                           [401,  200,  403,  403,  403,  403,  403,  401]),
        row("PATCH",  "/v1/licensees/{licensee_a}", Some(json!({"territories": ["GB", "IE"]})),
                                                                                    [401,  200,  403,  403,  403,  403,  403,  401]),
        row("POST",   "/v1/licensees", Some(json!({"name": "Dawn Post", "territories": ["IE"]})),
                                                                                    [401,  201,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/clients", None,                                          [401,  200,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/clients/{client_a}", None,                               [401,  200,  403,  403,  403,  403,  403,  401]),
        row("POST",   "/v1/clients", Some(json!({"name": "ops", "role": "admin"})), [401,  201,  403,  403,  403,  403,  403,  401]),
        row("POST",   "/v1/clients/{spare_client}/rotate-secret", None,             [401,  200,  403,  403,  403,  403,  403,  401]),
        row("DELETE", "/v1/clients/{doomed_client}", None,                          [401,  204,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/licences", None,                                         [401,  200,  200,  200,  200,  200,  403,  401]),
        row("GET",    "/v1/licences/{licence_a}", None,                             [401,  200,  200,  404,  200,  404,  403,  401]),
        row("GET",    "/v1/licences/{licence_a}/tdm-policy.json", None,             [401,  200,  200,  404,  200,  404,  403,  401]),
        row("GET",    "/v1/publishers/{publisher_a}/license.xml", None,             [401,  200,  200,  404,  200,  404,  403,  401]),
        row("PATCH",  "/v1/licences/{licence_a}", Some(json!({"rate_limit_per_minute": 600})),
                                                                                    [401,  200,  403,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/content/{article_a}", None,                              [401,  403,  403,  403,  200,  404,  403,  401]),
        row("GET",    "/v1/content/{article_b}", None,                              [401,  403,  403,  403,  404,  404,  403,  401]),
        row("GET",    "/v1/content", None,                                          [401,  403,  403,  403,  200,  200,  403,  401]),
        row("GET",    "/v1/feed", None,                                             [401,  403,  403,  403,  200,  200,  403,  401]),
        row("GET",    "/v1/quota", None,                                            [401,  403,  403,  403,  200,  200,  403,  401]),
        row("GET",    "/v1/usage", None,                                            [401,  200,  200,  200,  200,  200,  403,  401]),
        row("GET",    "/v1/usage?licensee_id={licensee_a}", None,                   [401,  200,  200,  200,  200,  403,  403,  401]),
        row("GET",    "/v1/usage?publisher_id={publisher_a}", None,                 [401,  200,  200,  403,  200,  200,  403,  401]),
        row("GET",    "/v1/media", None,                                            [401,  200,  200,  200,  403,  403,  403,  401]),
        row("GET",    "/v1/media/{photo_a}", None,                                  [401,  200,  200,  404,  403,  403,  403,  401]),
        row("PUT",    "/v1/media/{photo_a}", Some(crate::cast::photo()),            [401,  200,  200,  404,  403,  403,  403,  401]),
        row("POST",   "/v1/media", Some(json!({"publisher_id": "{publisher_a}", "caption": "The old pier.",
                                               "credit_line": "Photograph: Harbour Gazette", "copyright_holder": "Harbour Gazette",
                                               "rights": {"syndication": "allowed"}})),
                                                                                    [401,  201,  201,  403,  403,  403,  403,  401]),
        row("GET",    "/v1/articles", None,                                         [401,  200,  200,  200,  403,  403,  403,  401]),
        row("GET",    "/v1/articles/{article_a}", None,                             [401,  200,  200,  404,  403,  403,  403,  401]),
        row("GET",    "/v1/articles/{article_a}/versions", None,                    [401,  200,  200,  404,  403,  403,  403,  401]),
        row("GET",    "/v1/articles/{article_a}/versions/1", None,                  [401,  200,  200,  404,  403,  403,  403,  401]),
        row("POST",   "/v1/articles", Some({
                          let mut story = crate::cast::story("hg-9", "draft");
                          story["publisher_id"] = json!("{publisher_a}");
                          story
                      }),
                                                                                    [401,  201,  200,  403,  403,  403,  403,  401]),
        row("PUT",    "/v1/articles/{edit_a}", Some(json!({"content": {
                          "headline": "Ferry timetable changes again", "body_html": "<p>More sailings.</p>",
                          "section": "transport", "language": "en-GB", "bylines": []},
                          "change": {"kind": "update"}})),
                                                                                    [401,  200,  200,  404,  403,  403,  403,  401]),
        row("POST",   "/v1/articles/{draft_a}/publish", None,                       [401,  200,  409,  404,  403,  403,  403,  401]),
        row("POST",   "/v1/articles/{withhold_a}/withhold", reason(),               [401,  200,  409,  404,  403,  403,  403,  401]),
        row("POST",   "/v1/articles/{kill_a}/kill", reason(),                       [401,  200,  409,  404,  403,  403,  403,  401]),
        row("GET",    "/v1/webhooks", None,                                         [401,  200,  403,  403,  200,  200,  403,  401]),
        row("GET",    "/v1/webhooks/{webhook_a}", None,                             [401,  200,  403,  403,  200,  404,  403,  401]),
        row("PATCH",  "/v1/webhooks/{webhook_a}", Some(json!({"active": true})),    [401,  200,  403,  403,  200,  404,  403,  401]),
        row("POST",   "/v1/webhooks", Some(json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["article.killed"],
                                                  "licensee_id": "{licensee_a}"})),
                                                                                    [401,  201,  403,  403,  201,  404,  403,  401]),
        row("POST",   "/v1/webhooks/{webhook_a}/rotate-secret", None,               [401,  200,  403,  403,  200,  404,  403,  401]),
        row("GET",    "/v1/webhooks/{webhook_a}/attempts", None,                    [401,  200,  403,  403,  200,  404,  403,  401]),
        row("POST",   "/v1/webhooks/{webhook_a}/redeliver", None,                   [401,  202,  403,  403,  202,  404,  403,  401]),
        row("DELETE", "/v1/webhooks/{doomed_webhook}", None,                        [401,  204,  403,  403,  404,  404,  403,  401]),
        row("GET",    "/v1/notices", None,                                          [401,  200,  200,  200,  200,  200,  403,  401]),
        row("POST",   "/v1/notices/{notice_a}/acknowledge", Some(json!({"removed_at": "2026-01-01T00:00:00Z"})),
                                                                                    [401,  403,  403,  403,  200,  404,  403,  401]),
        row("GET",    "/v1/compliance", None,                                       [401,  200,  200,  200,  403,  403,  403,  401]),
        // Last: it licenses B, which would change the content rows above.
        row("POST",   "/v1/licences", Some(json!({"licensee_id": "{licensee_b}", "publisher_id": "{publisher_b}", "tier": "preview",
                                                  "include_media": false, "valid_from": "2026-01-01T00:00:00Z"})),
                                                                                    [401,  201,  403,  403,  403,  403,  403,  401]),
        row("POST",   "/v1/auth/token", None,                                       [401,  401,  401,  401,  401,  401,  401,  401]),
    ]
}

crate::backend_tests! {
    async fn every_operation_answers_every_caller_as_the_matrix_says(backend: Backend) {
        let cast = Cast::assemble(backend).await;
        let app = &cast.world.app;
        let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
        let table = table();
        let covered: std::collections::BTreeSet<(String, String)> = table.iter()
            .map(|r| (r.method.to_lowercase(), r.path.split('?').next().unwrap().to_owned()))
            .collect();
        let mut misses = Vec::new();

        for (path, item) in spec["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let templated = covered.iter().any(|(m, p)| m == method && same_route(p, path));
                assert!(templated, "the matrix has no row for {method} {path}");
            }
        }
        for row in &table {
            for (who, expected) in Who::ALL.into_iter().zip(row.expect) {
                // What earlier cells delivered is in the ledger first.
                app.settled().await;
                let before = app.snapshot();
                let response = row.send(&cast, who).await;
                let status = response.status().as_u16();
                if status != expected {
                    let text = response.text().await.unwrap();
                    misses.push(format!("{} {} as {who:?}: {status}, expected {expected}: {text}", row.method, row.path));
                    continue;
                }
                if status >= 400 {
                    assert_eq!(app.snapshot(), before, "{} {} as {who:?} was refused but wrote", row.method, row.path);
                }
            }
        }
        assert!(misses.is_empty(), "{}", misses.join("\n"));
    }
}

/// Whether a concrete matrix path (`/v1/articles/{draft_a}/publish`) is the
/// spec's route (`/v1/articles/{id}/publish`).
fn same_route(concrete: &str, route: &str) -> bool {
    let a: Vec<&str> = concrete.split('/').collect();
    let b: Vec<&str> = route.split('/').collect();
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y
                || (y.starts_with('{')
                    && (x.starts_with('{') || x.chars().all(|c| c.is_ascii_digit())))
        })
}
