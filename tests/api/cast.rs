//! Every kind of caller, each with something of its own: the cast of the
//! authorisation matrix and the hostile-input battery.

use serde_json::{Value, json};
use syndicate::domain::Role;

use crate::harness::{Backend, TestApp, spawn_app};

/// Who sends a request, in the matrix's column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// No `Authorization` header.
    Nobody,
    /// An admin client.
    Admin,
    /// The Harbour Gazette's desk.
    PublisherA,
    /// The Valley Courier's desk, a competitor.
    PublisherB,
    /// Morning Brief, licensed for the Harbour Gazette's content.
    LicenseeA,
    /// Evening Digest, licensed for nothing.
    LicenseeB,
    /// Night Wire, licensed for the Harbour Gazette, then suspended.
    Suspended,
    /// A client of Morning Brief whose token was minted, then revoked.
    Revoked,
}

impl Who {
    /// Every caller, in column order.
    pub const ALL: [Who; 8] = [
        Who::Nobody,
        Who::Admin,
        Who::PublisherA,
        Who::PublisherB,
        Who::LicenseeA,
        Who::LicenseeB,
        Who::Suspended,
        Who::Revoked,
    ];
}

/// The running app and what each caller owns.
pub struct Cast {
    pub app: TestApp,
    tokens: [String; 7],
    /// Ids by name, for `{name}` placeholders in paths and bodies.
    pub ids: Vec<(&'static str, String)>,
}

async fn created(response: reqwest::Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A story written for these tests.
pub fn story(external_ref: &str, status: &str) -> Value {
    json!({
        "external_ref": external_ref,
        "headline": "Ferry timetable changes as the new pier opens",
        "standfirst": "Crossings to the island double on weekdays from Monday.",
        "body_html": "<p>The first crossing from the new pier left at six.</p><p>Commuters welcomed the extra sailings.</p>",
        "section": "transport",
        "language": "en-GB",
        "bylines": [{"name": "Tomas Reyes", "role": "Transport reporter", "location": "in Portmere"}],
        "status": status,
    })
}

/// A photo written for these tests.
pub fn photo() -> Value {
    json!({
        "caption": "The new pier at first light.",
        "credit_line": "Photograph: Ines Moreau/Harbour Gazette",
        "copyright_holder": "Harbour Gazette",
        "renditions": [{"href": "https://images.example.org/pier-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}],
        "rights": {"syndication": "allowed"},
    })
}

impl Cast {
    /// Builds the cast on a fresh database.
    pub async fn assemble(backend: Backend) -> Cast {
        let app = spawn_app(backend).await;
        let admin = app.admin_token().await;
        let publisher_a = app.create_publisher(&admin, "Harbour Gazette").await;
        let publisher_b = app.create_publisher(&admin, "Valley Courier").await;
        let licensee_a = app.create_licensee(&admin, "Morning Brief", &["GB"]).await;
        let licensee_b = app.create_licensee(&admin, "Evening Digest", &["GB"]).await;
        let licensee_c = app.create_licensee(&admin, "Night Wire", &["GB"]).await;
        let token = |role, organisation: &str| {
            let client = app.create_client(role, Some(organisation));
            let app = &app;
            async move { app.token_for(&client).await }
        };
        let desk_a = token(Role::Publisher, &publisher_a).await;
        let desk_b = token(Role::Publisher, &publisher_b).await;
        let reader_a = token(Role::Licensee, &licensee_a).await;
        let reader_b = token(Role::Licensee, &licensee_b).await;
        let reader_c = token(Role::Licensee, &licensee_c).await;
        let doomed = app.create_client(Role::Licensee, Some(&licensee_a));
        let revoked = app.token_for(&doomed).await;

        let mut licences = Vec::new();
        for licensee in [&licensee_a, &licensee_c] {
            let body = json!({"licensee_id": licensee, "publisher_id": publisher_a, "tier": "full",
                              "include_media": true, "valid_from": "2026-01-01T00:00:00Z"});
            licences.push(created(app.post_as(&admin, "/v1/licences", &body).await).await);
        }
        let suspend = json!({"status": "suspended"});
        let path = format!("/v1/licensees/{licensee_c}");
        let response = app
            .send_json(reqwest::Method::PATCH, &admin, &path, &suspend)
            .await;
        assert_eq!(response.status(), 200);
        let response = app
            .client
            .delete(app.url(&format!("/v1/clients/{}", doomed.client_id)))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);

        let article = |token: &String, external_ref: &str, status: &str| {
            let body = story(external_ref, status);
            let app = &app;
            let token = token.clone();
            async move { created(app.post_as(&token, "/v1/articles", &body).await).await }
        };
        let ids = vec![
            ("publisher_a", publisher_a.clone()),
            ("publisher_b", publisher_b.clone()),
            ("licensee_a", licensee_a.clone()),
            ("licensee_b", licensee_b.clone()),
            ("licence_a", licences[0].clone()),
            ("article_a", article(&desk_a, "hg-1", "published").await),
            ("article_b", article(&desk_b, "vc-1", "published").await),
            ("draft_a", article(&desk_a, "hg-2", "draft").await),
            ("edit_a", article(&desk_a, "hg-3", "published").await),
            ("withhold_a", article(&desk_a, "hg-4", "published").await),
            ("kill_a", article(&desk_a, "hg-5", "published").await),
            (
                "photo_a",
                created(app.post_as(&desk_a, "/v1/media", &photo()).await).await,
            ),
            (
                "client_a",
                app.create_client(Role::Licensee, Some(&licensee_a))
                    .client_id,
            ),
            (
                "spare_client",
                app.create_client(Role::Licensee, Some(&licensee_b))
                    .client_id,
            ),
            (
                "doomed_client",
                app.create_client(Role::Licensee, Some(&licensee_b))
                    .client_id,
            ),
        ];
        Cast {
            app,
            tokens: [admin, desk_a, desk_b, reader_a, reader_b, reader_c, revoked],
            ids,
        }
    }

    /// The bearer token `who` sends, if any.
    pub fn token(&self, who: Who) -> Option<&str> {
        let index = match who {
            Who::Nobody => return None,
            Who::Admin => 0,
            Who::PublisherA => 1,
            Who::PublisherB => 2,
            Who::LicenseeA => 3,
            Who::LicenseeB => 4,
            Who::Suspended => 5,
            Who::Revoked => 6,
        };
        Some(&self.tokens[index])
    }

    /// `text` with every `{name}` replaced by that id.
    pub fn fill(&self, text: &str) -> String {
        self.ids.iter().fold(text.to_owned(), |text, (name, id)| {
            text.replace(&format!("{{{name}}}"), id)
        })
    }

    /// The id called `name`.
    pub fn id(&self, name: &str) -> &str {
        &self.ids.iter().find(|(n, _)| *n == name).unwrap().1
    }
}
