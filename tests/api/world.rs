//! What a test needs in the database, made over the API as a deployment
//! makes it: an admin token (its client bootstrapped in the database, as
//! `syndicate admin create-client` does), then publishers, licensees, their
//! clients and tokens, licences, photos and stories, one small method each.
//! Every method stops the test at the first refusal, so a broken setup
//! names itself instead of failing an assertion further on.

use serde_json::{Value, json};
use syndicate::domain::Role;

use crate::harness::{Backend, TestApp, TestClient, count_events, json_of, merged, spawn_app};

/// A running application and an admin token to shape it with.
pub struct World {
    pub app: TestApp,
    /// A token of an admin client.
    pub admin: String,
}

/// A publisher or a licensee, with one client acting for it and a token of
/// that client.
#[derive(Debug, Clone)]
pub struct Party {
    /// The organisation's id.
    pub id: String,
    /// The client's credentials.
    pub client: TestClient,
    /// A live token of the client.
    pub token: String,
}

/// A publisher's desk, a licensee's reader and the licence between them:
/// where delivery and metering tests start.
#[derive(Debug, Clone)]
pub struct Deal {
    pub desk: Party,
    pub reader: Party,
    /// The licence's id.
    pub licence: String,
}

impl World {
    /// A fresh application on a fresh database, with an admin token.
    pub async fn new(backend: Backend) -> World {
        World::on(spawn_app(backend).await).await
    }

    /// An application already started, with an admin token.
    pub async fn on(app: TestApp) -> World {
        let admin = app.admin_token().await;
        World { app, admin }
    }

    /// Creates a publisher and a desk client for it.
    pub async fn publisher(&self, name: &str) -> Party {
        let id = self.app.create_publisher(&self.admin, name).await;
        self.party(Role::Publisher, id).await
    }

    /// Creates a licensee in `territories` and a reader client for it.
    pub async fn licensee(&self, name: &str, territories: &[&str]) -> Party {
        let id = self
            .app
            .create_licensee(&self.admin, name, territories)
            .await;
        self.party(Role::Licensee, id).await
    }

    /// Creates a further client with `role` for an organisation (none for
    /// an admin), without a token.
    pub async fn client(&self, role: Role, organisation: Option<&str>) -> TestClient {
        let body = json!({"name": format!("test {role} client"), "role": role, "organisation_id": organisation});
        let created = self.create("/v1/clients", &body).await;
        TestClient {
            client_id: field(&created, "client_id"),
            client_secret: field(&created, "client_secret"),
        }
    }

    /// A full licence with media from 2026 for the reader's licensee to the
    /// desk's publisher, with `terms` put over it; returns its id.
    pub async fn licence(&self, desk: &Party, reader: &Party, terms: Value) -> String {
        let body = merged(
            json!({
                "licensee_id": reader.id, "publisher_id": desk.id, "tier": "full",
                "include_media": true, "valid_from": "2026-01-01T00:00:00Z",
            }),
            terms,
        );
        id_of(&self.create("/v1/licences", &body).await)
    }

    /// A publisher, a licensee in `territories` and a licence between them
    /// on `terms` (see [`World::licence`]).
    pub async fn deal(
        &self,
        publisher: &str,
        licensee: &str,
        territories: &[&str],
        terms: Value,
    ) -> Deal {
        let desk = self.publisher(publisher).await;
        let reader = self.licensee(licensee, territories).await;
        let licence = self.licence(&desk, &reader, terms).await;
        Deal {
            desk,
            reader,
            licence,
        }
    }

    /// Uploads a photo as the desk and returns its id.
    pub async fn photo(&self, desk: &Party, body: &Value) -> String {
        let response = self.app.post_as(&desk.token, "/v1/media", body).await;
        assert_eq!(
            response.status(),
            201,
            "photo refused: {}",
            response.text().await.unwrap()
        );
        id_of(&json_of(response).await)
    }

    /// Creates an article as the desk and returns it as stored.
    pub async fn article(&self, desk: &Party, body: &Value) -> Value {
        let response = self.app.post_as(&desk.token, "/v1/articles", body).await;
        assert_eq!(
            response.status(),
            201,
            "article refused: {}",
            response.text().await.unwrap()
        );
        json_of(response).await
    }

    /// Suspends a licensee.
    pub async fn suspend(&self, licensee: &str) {
        let path = format!("/v1/licensees/{licensee}");
        let body = json!({"status": "suspended"});
        let response = self
            .app
            .send_json(reqwest::Method::PATCH, &self.admin, &path, &body)
            .await;
        assert_eq!(
            response.status(),
            200,
            "suspension refused: {}",
            response.text().await.unwrap()
        );
    }

    /// Revokes a client; its tokens are refused from then on.
    pub async fn revoke(&self, client_id: &str) {
        let response = self
            .app
            .client
            .delete(self.app.url(&format!("/v1/clients/{client_id}")))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            204,
            "revocation refused: {}",
            response.text().await.unwrap()
        );
    }

    /// Fetches an article from `/v1/content` with `token`.
    pub async fn fetch(&self, token: &str, id: &str) -> reqwest::Response {
        self.app.get_as(token, &format!("/v1/content/{id}")).await
    }

    /// The usage events of a licence and how many are billable.
    pub async fn ledger(&self, licence: &str) -> (i64, i64) {
        self.app.settled().await;
        count_events(&mut self.app.db.connect(), licence)
    }

    /// A client with `role` for the organisation, and its token.
    async fn party(&self, role: Role, id: String) -> Party {
        let client = self.client(role, Some(&id)).await;
        let token = self.app.token_for(&client).await;
        Party { id, client, token }
    }

    /// POSTs as the admin, expects 201 and returns what was created.
    async fn create(&self, path: &str, body: &Value) -> Value {
        let response = self.app.post_as(&self.admin, path, body).await;
        assert_eq!(
            response.status(),
            201,
            "POST {path} refused: {}",
            response.text().await.unwrap()
        );
        json_of(response).await
    }
}

/// The `id` of something just created.
fn id_of(created: &Value) -> String {
    field(created, "id")
}

/// A text field of something just created.
fn field(created: &Value, name: &str) -> String {
    created[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {created}"))
        .to_owned()
}
