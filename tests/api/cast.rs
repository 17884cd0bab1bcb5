//! Every kind of caller, each with something of its own: the cast of the
//! authorisation matrix and the hostile-input battery.

use serde_json::{Value, json};
use syndicate::domain::Role;

use crate::harness::Backend;
use crate::world::{Party, World};

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
    pub world: World,
    /// Tokens of every caller but nobody and the admin (the world's own).
    tokens: [String; 6],
    /// Ids by name, for `{name}` placeholders in paths and bodies.
    pub ids: Vec<(&'static str, String)>,
}

/// The host the cast's webhook endpoints name (allowed by the operator).
pub const HOOK_HOST: &str = "127.0.0.1:9";

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
    /// Builds the cast on a fresh database. Webhooks may name
    /// `127.0.0.1:9` (discard; nothing listens), so endpoints can be made.
    pub async fn assemble(backend: Backend) -> Cast {
        let app = crate::harness::spawn_app_with(backend, |settings| {
            settings.webhooks.allow_hosts = vec![HOOK_HOST.to_owned()];
        })
        .await;
        Cast::on(World::on(app).await).await
    }

    /// Builds the cast in a world already started.
    pub async fn on(world: World) -> Cast {
        let a = world.publisher("Harbour Gazette").await;
        let b = world.publisher("Valley Courier").await;
        let morning = world.licensee("Morning Brief", &["GB"]).await;
        let evening = world.licensee("Evening Digest", &["GB"]).await;
        let night = world.licensee("Night Wire", &["GB"]).await;
        let doomed = world.client(Role::Licensee, Some(&morning.id)).await;
        let revoked = world.app.token_for(&doomed).await;
        let licence_a = world.licence(&a, &morning, json!({})).await;
        world.licence(&a, &night, json!({})).await;
        world.suspend(&night.id).await;
        world.revoke(&doomed.client_id).await;

        let article = |desk: &Party, external_ref: &str, status: &str| {
            let (world, desk, body) = (&world, desk.clone(), story(external_ref, status));
            async move {
                world.article(&desk, &body).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        };
        let client = |organisation: &Party| {
            let (world, organisation) = (&world, organisation.id.clone());
            async move {
                world
                    .client(Role::Licensee, Some(&organisation))
                    .await
                    .client_id
            }
        };
        // A story Morning Brief received, then killed: its notice.
        let noticed = article(&a, "hg-6", "published").await;
        assert_eq!(world.fetch(&morning.token, &noticed).await.status(), 200);
        let killed = world
            .app
            .post_as(
                &a.token,
                &format!("/v1/articles/{noticed}/kill"),
                &json!({"reason": "Legal: a court order."}),
            )
            .await;
        assert_eq!(killed.status(), 200);
        // The delivery reaches the ledger (and its notice) once shipped.
        world.app.settled().await;
        let notices =
            crate::harness::json_of(world.app.get_as(&morning.token, "/v1/notices").await).await;
        let notice_a = notices["items"][0]["id"].as_str().unwrap().to_owned();
        let webhook = |licensee: &Party| {
            let (world, licensee) = (&world, licensee.clone());
            async move {
                let body = json!({"url": format!("http://{HOOK_HOST}/hooks"), "event_types": ["article.killed"]});
                let created = crate::harness::json_of(
                    world
                        .app
                        .post_as(&licensee.token, "/v1/webhooks", &body)
                        .await,
                )
                .await;
                created["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{created}"))
                    .to_owned()
            }
        };
        let ids = vec![
            ("notice_a", notice_a),
            ("webhook_a", webhook(&morning).await),
            ("doomed_webhook", webhook(&morning).await),
            ("publisher_a", a.id.clone()),
            ("publisher_b", b.id.clone()),
            ("licensee_a", morning.id.clone()),
            ("licensee_b", evening.id.clone()),
            ("licence_a", licence_a),
            ("article_a", article(&a, "hg-1", "published").await),
            ("article_b", article(&b, "vc-1", "published").await),
            ("draft_a", article(&a, "hg-2", "draft").await),
            ("edit_a", article(&a, "hg-3", "published").await),
            ("withhold_a", article(&a, "hg-4", "published").await),
            ("kill_a", article(&a, "hg-5", "published").await),
            ("photo_a", world.photo(&a, &photo()).await),
            ("client_a", client(&morning).await),
            ("spare_client", client(&evening).await),
            ("doomed_client", client(&evening).await),
        ];
        Cast {
            tokens: [
                a.token,
                b.token,
                morning.token,
                evening.token,
                night.token,
                revoked,
            ],
            world,
            ids,
        }
    }

    /// The bearer token `who` sends, if any.
    pub fn token(&self, who: Who) -> Option<&str> {
        let index = match who {
            Who::Nobody => return None,
            Who::Admin => return Some(&self.world.admin),
            Who::PublisherA => 0,
            Who::PublisherB => 1,
            Who::LicenseeA => 2,
            Who::LicenseeB => 3,
            Who::Suspended => 4,
            Who::Revoked => 5,
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
