//! Delivery facts kept in memory: every change a delivery depends on takes
//! effect on the next request, whether made through this node's API,
//! through another node, or by hand in the database.

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use syndicate::domain::Role;
use syndicate::storage::DbConnection;

use crate::harness::{TestApp, TestDatabase, expect_problem, spawn_app, start, test_settings};

struct Desk {
    app: TestApp,
    admin: String,
    desk: String,
    licensee: String,
    reader_id: String,
    reader: String,
    licence: String,
}

async fn json_of(response: reqwest::Response) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap();
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"))
}

async fn desk(backend: crate::harness::Backend) -> Desk {
    let app = spawn_app(backend).await;
    let admin = app.admin_token().await;
    let publisher = app.create_publisher(&admin, "Portmere Courier").await;
    let desk = app
        .token_for(&app.create_client(Role::Publisher, Some(&publisher)))
        .await;
    let licensee = app
        .create_licensee(&admin, "Daybreak Digest", &["GB"])
        .await;
    let client = app.create_client(Role::Licensee, Some(&licensee));
    let reader = app.token_for(&client).await;
    let body = json!({
        "licensee_id": licensee, "publisher_id": publisher, "tier": "full", "include_media": true,
        "valid_from": "2026-01-01T00:00:00Z",
    });
    let created = app.post_as(&admin, "/v1/licences", &body).await;
    assert_eq!(created.status(), 201);
    let licence = json_of(created).await["id"].as_str().unwrap().to_owned();
    Desk {
        app,
        admin,
        desk,
        licensee,
        reader_id: client.client_id,
        reader,
        licence,
    }
}

fn photo_body(syndication: &str) -> Value {
    json!({
        "caption": "Lifeboat crews train off the Portmere breakwater.",
        "credit_line": "Photograph: Ines Calloway/Coastline Pictures",
        "copyright_holder": "Coastline Pictures",
        "renditions": [{"href": "https://images.example.org/lifeboat.jpg", "width": 1600, "height": 1067, "mime_type": "image/jpeg"}],
        "rights": {"syndication": syndication},
    })
}

impl Desk {
    async fn photo(&self) -> String {
        let response = self
            .app
            .post_as(&self.desk, "/v1/media", &photo_body("allowed"))
            .await;
        assert_eq!(response.status(), 201);
        json_of(response).await["id"].as_str().unwrap().to_owned()
    }

    async fn article(&self, external_ref: &str, photo: Option<&str>) -> String {
        let media = photo.map_or(json!([]), |id| json!([{"media_id": id, "role": "main"}]));
        let body = json!({
            "external_ref": external_ref,
            "headline": "Lifeboat volunteers mark a century of rescues",
            "body_html": "<p>The crew launched four times in the first week of winter.</p>",
            "section": "community", "language": "en-GB", "status": "published", "media": media,
            "bylines": [{"name": "Tomasz Reyes"}],
        });
        let response = self.app.post_as(&self.desk, "/v1/articles", &body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        json_of(response).await["id"].as_str().unwrap().to_owned()
    }

    async fn fetch(&self, id: &str) -> reqwest::Response {
        self.app
            .get_as(&self.reader, &format!("/v1/content/{id}"))
            .await
    }

    /// Runs SQL behind the service's back, as another node or an operator would.
    fn by_hand(&self, sql: &str) {
        match &mut self.app.db.connect() {
            DbConnection::Sqlite(c) => c.batch_execute(sql).unwrap(),
            DbConnection::Postgresql(c) => c.batch_execute(sql).unwrap(),
        }
    }
}

crate::backend_tests! {
    async fn a_photo_whose_rights_change_is_withheld_on_the_next_request(backend: Backend) {
        let d = desk(backend).await;
        let photo = d.photo().await;
        let id = d.article("pc-1", Some(&photo)).await;
        let before = json_of(d.fetch(&id).await).await;

        let replaced = d.app.send_json(Method::PUT, &d.desk, &format!("/v1/media/{photo}"), &photo_body("prohibited")).await;

        assert_eq!(replaced.status(), 200, "{}", replaced.text().await.unwrap());
        let after = json_of(d.fetch(&id).await).await;
        assert_eq!(before["media"].as_array().unwrap().len(), 1);
        assert!(after["media"].as_array().unwrap().is_empty(), "{after}");
        assert_eq!(after["media_withheld"][0]["reason"], "syndication_prohibited");
    }

    async fn a_suspended_licensee_is_refused_on_the_next_request_and_served_once_reinstated(backend: Backend) {
        let d = desk(backend).await;
        let id = d.article("pc-2", None).await;
        assert_eq!(d.fetch(&id).await.status(), 200);
        let path = format!("/v1/licensees/{}", d.licensee);

        let suspended = d.app.send_json(Method::PATCH, &d.admin, &path, &json!({"status": "suspended"})).await;
        assert_eq!(suspended.status(), 200);
        expect_problem(d.fetch(&id).await, 403).await;
        let reinstated = d.app.send_json(Method::PATCH, &d.admin, &path, &json!({"status": "active"})).await;

        assert_eq!(reinstated.status(), 200);
        assert_eq!(d.fetch(&id).await.status(), 200);
    }

    async fn a_revoked_client_is_refused_on_the_next_request(backend: Backend) {
        let d = desk(backend).await;
        let id = d.article("pc-3", None).await;
        assert_eq!(d.fetch(&id).await.status(), 200);

        let revoked = d.app.send_json(Method::DELETE, &d.admin, &format!("/v1/clients/{}", d.reader_id), &json!({})).await;

        assert_eq!(revoked.status(), 204);
        let problem = expect_problem(d.fetch(&id).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("revoked"), "{problem}");
    }

    async fn changes_made_by_hand_in_the_database_take_effect_on_the_next_request(backend: Backend) {
        let d = desk(backend).await;
        let id = d.article("pc-4", None).await;
        let other = d.article("pc-5", None).await;
        assert_eq!(d.fetch(&id).await.status(), 200);
        assert_eq!(d.fetch(&other).await.status(), 200);

        d.by_hand(&format!("UPDATE articles SET status = 'withheld' WHERE id = '{id}'"));
        expect_problem(d.fetch(&id).await, 404).await;
        d.by_hand(&format!("UPDATE licences SET valid_until = valid_from WHERE id = '{}'", d.licence));
        expect_problem(d.fetch(&other).await, 404).await;
        d.by_hand(&format!("UPDATE licences SET valid_until = NULL WHERE id = '{}'", d.licence));
        assert_eq!(d.fetch(&other).await.status(), 200);
        d.by_hand(&format!("UPDATE licensees SET status = 'suspended' WHERE id = '{}'", d.licensee));

        expect_problem(d.fetch(&other).await, 403).await;
        let mut conn = d.app.db.connect();
        let (events, billable) = syndicate::storage::usage::count_events(&mut conn, &d.licence).unwrap();
        assert_eq!((events, billable), (3, 2), "refusals write nothing");
    }

    async fn one_article_renders_apart_for_each_grant_and_format(backend: Backend) {
        let d = desk(backend).await;
        let id = d.article("pc-7", None).await;
        let publisher = publisher_of(&d, &id).await;
        let browser = d.app.create_licensee(&d.admin, "Noon Headlines", &["GB"]).await;
        let browsing = d.app.token_for(&d.app.create_client(Role::Licensee, Some(&browser))).await;
        let preview = json!({"licensee_id": browser, "publisher_id": publisher, "tier": "preview", "include_media": false, "valid_from": "2026-01-01T00:00:00Z"});
        assert_eq!(d.app.post_as(&d.admin, "/v1/licences", &preview).await.status(), 201);

        let full = json_of(d.fetch(&id).await).await;
        let previewed = json_of(d.app.get_as(&browsing, &format!("/v1/content/{id}")).await).await;
        let ninjs = json_of(d.app.get_as(&d.reader, &format!("/v1/content/{id}?format=ninjs")).await).await;
        let full_again = json_of(d.fetch(&id).await).await;

        assert!(full["body_html"].is_string(), "{full}");
        assert!(previewed["body_html"].is_null(), "{previewed}");
        assert_ne!(previewed["licence_id"], full["licence_id"]);
        assert!(ninjs["uri"].is_string() && ninjs.get("licence_id").is_none(), "{ninjs}");
        assert_eq!(full_again, full);
    }

    async fn a_kill_through_another_node_is_a_410_on_this_one_at_once(backend: Backend) {
        let d = desk(backend).await;
        let id = d.article("pc-6", None).await;
        assert_eq!(d.fetch(&id).await.status(), 200);
        let url = d.app.db.url.clone();
        let other = start(test_settings(url.clone()), TestDatabase::unmanaged(url)).await;
        let other_desk = other.token_for(&other.create_client(Role::Publisher, Some(&publisher_of(&d, &id).await))).await;

        let kill = other.post_as(&other_desk, &format!("/v1/articles/{id}/kill"), &json!({"reason": "Legal: a court order names the lifeboat crew."})).await;

        assert_eq!(kill.status(), 200, "{}", kill.text().await.unwrap());
        let problem = expect_problem(d.fetch(&id).await, 410).await;
        assert_eq!(problem["reason"], "Legal: a court order names the lifeboat crew.");
    }
}

async fn publisher_of(d: &Desk, id: &str) -> String {
    json_of(d.app.get_as(&d.desk, &format!("/v1/articles/{id}")).await).await["publisher_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
