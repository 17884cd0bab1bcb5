//! Delivery facts kept in memory: every change a delivery depends on takes
//! effect on the next request when made through this node's API, and
//! within the freshness bound when made through another node or by hand in
//! the database (at once with the synchronous ledger, which reads the change
//! log in every batch's transaction).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use syndicate::domain::Role;
use syndicate::storage::DbConnection;

use crate::harness::{TestApp, TestDatabase, expect_problem, json_of, start, test_settings};
use crate::world::{Deal, Party, World};

/// A desk of the Portmere Courier and a reader of Daybreak Digest (in GB)
/// with a full licence with media.
async fn deal(backend: crate::harness::Backend) -> (World, Deal) {
    let w = World::new(backend).await;
    let deal = w
        .deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({}))
        .await;
    (w, deal)
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

/// A published story, with the photo as its main picture if there is one.
fn story(external_ref: &str, photo: Option<&str>) -> Value {
    let media = photo.map_or(json!([]), |id| json!([{"media_id": id, "role": "main"}]));
    json!({
        "external_ref": external_ref,
        "headline": "Lifeboat volunteers mark a century of rescues",
        "body_html": "<p>The crew launched four times in the first week of winter.</p>",
        "section": "community", "language": "en-GB", "status": "published", "media": media,
        "bylines": [{"name": "Tomasz Reyes"}],
    })
}

/// Creates the story as the desk and returns its id.
async fn article(w: &World, desk: &Party, external_ref: &str, photo: Option<&str>) -> String {
    w.article(desk, &story(external_ref, photo)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs SQL behind the service's back, as another node or an operator would.
fn by_hand(app: &TestApp, sql: &str) {
    match &mut app.db.connect() {
        DbConnection::Sqlite(c) => c.batch_execute(sql).unwrap(),
        DbConnection::Postgresql(c) => c.batch_execute(sql).unwrap(),
    }
}

/// The test apps' freshness bound (`harness::journal`).
const BOUND: Duration = Duration::from_secs(1);

/// Fetches `id` until it is refused with `status`, as a change made
/// elsewhere at `changed` reaches this node: a 200 on the way may only
/// answer a request made within the freshness bound of the change, and
/// the refusal stands once the bound has passed. Returns the refusal and
/// how many 200s came before it.
async fn refused_within_the_bound(
    w: &World,
    token: &str,
    id: &str,
    changed: Instant,
    status: u16,
) -> (Value, i64) {
    let mut served = 0;
    loop {
        let asked = Instant::now();
        let response = w.fetch(token, id).await;
        if response.status() == status {
            break;
        }
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        assert!(
            asked.duration_since(changed) < BOUND,
            "a 200 for a request made {:?} after the change",
            asked.duration_since(changed)
        );
        served += 1;
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let past = changed + BOUND;
    if let Some(wait) = past.checked_duration_since(Instant::now()) {
        actix_web::rt::time::sleep(wait).await;
    }
    (
        expect_problem(w.fetch(token, id).await, status).await,
        served,
    )
}

crate::backend_tests! {
    async fn facts_are_read_in_one_snapshot_of_the_database(backend: Backend) {
        use syndicate::storage::{self, StorageError, changes};
        let db = TestDatabase::create(backend);
        let mut reader = db.connect();
        syndicate::storage::migrate::run_pending_on(&mut reader).unwrap();
        let mut writer = db.connect();

        let (first, second) = storage::in_snapshot(&mut reader, |conn| -> Result<_, StorageError> {
            let first = changes::read(conn)?;
            // A change commits on another connection between two reads.
            writer.batch_execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")?;
            Ok((first, changes::read(conn)?))
        })
        .unwrap();

        assert_eq!(second, first, "both reads in one snapshot");
        assert_eq!(changes::read(&mut reader).unwrap(), first + 1, "the next read sees the change");
        if backend == crate::harness::Backend::Postgres {
            let written = storage::in_snapshot(&mut reader, |conn| -> Result<(), StorageError> {
                Ok(conn.batch_execute("UPDATE change_counter SET value = value + 1 WHERE id = 1")?)
            });
            assert!(written.is_err(), "a snapshot writes nothing");
        }
    }

    async fn a_photo_whose_rights_change_is_withheld_on_the_next_request(backend: Backend) {
        let (w, d) = deal(backend).await;
        let photo = w.photo(&d.desk, &photo_body("allowed")).await;
        let id = article(&w, &d.desk, "pc-1", Some(&photo)).await;
        let before = json_of(w.fetch(&d.reader.token, &id).await).await;

        let replaced = w.app.send_json(Method::PUT, &d.desk.token, &format!("/v1/media/{photo}"), &photo_body("prohibited")).await;

        assert_eq!(replaced.status(), 200, "{}", replaced.text().await.unwrap());
        let after = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert_eq!(before["media"].as_array().unwrap().len(), 1);
        assert!(after["media"].as_array().unwrap().is_empty(), "{after}");
        assert_eq!(after["media_withheld"][0]["reason"], "syndication_prohibited");
    }

    async fn a_suspended_licensee_is_refused_on_the_next_request_and_served_once_reinstated(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = article(&w, &d.desk, "pc-2", None).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        let path = format!("/v1/licensees/{}", d.reader.id);

        let suspended = w.app.send_json(Method::PATCH, &w.admin, &path, &json!({"status": "suspended"})).await;
        assert_eq!(suspended.status(), 200);
        expect_problem(w.fetch(&d.reader.token, &id).await, 403).await;
        let reinstated = w.app.send_json(Method::PATCH, &w.admin, &path, &json!({"status": "active"})).await;

        assert_eq!(reinstated.status(), 200);
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
    }

    async fn a_revoked_client_is_refused_on_the_next_request(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = article(&w, &d.desk, "pc-3", None).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        let revoked = w.app.send_json(Method::DELETE, &w.admin, &format!("/v1/clients/{}", d.reader.client.client_id), &json!({})).await;

        assert_eq!(revoked.status(), 204);
        let problem = expect_problem(w.fetch(&d.reader.token, &id).await, 401).await;
        assert!(problem["detail"].as_str().unwrap().contains("revoked"), "{problem}");
    }

    async fn changes_made_by_hand_in_the_database_take_effect_within_the_bound(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = article(&w, &d.desk, "pc-4", None).await;
        let other = article(&w, &d.desk, "pc-5", None).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        assert_eq!(w.fetch(&d.reader.token, &other).await.status(), 200);

        by_hand(&w.app, &format!("UPDATE articles SET status = 'withheld' WHERE id = '{id}'"));
        let (_, late) = refused_within_the_bound(&w, &d.reader.token, &id, Instant::now(), 404).await;
        let mut served = 2 + late;
        by_hand(&w.app, &format!("UPDATE licences SET valid_until = valid_from WHERE id = '{}'", d.licence));
        served += refused_within_the_bound(&w, &d.reader.token, &other, Instant::now(), 404).await.1;
        by_hand(&w.app, &format!("UPDATE licences SET valid_until = NULL WHERE id = '{}'", d.licence));
        let reopened = Instant::now();
        while w.fetch(&d.reader.token, &other).await.status() != 200 {
            assert!(reopened.elapsed() < BOUND * 5, "the licence never came back");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        served += 1;
        by_hand(&w.app, &format!("UPDATE licensees SET status = 'suspended' WHERE id = '{}'", d.reader.id));
        served += refused_within_the_bound(&w, &d.reader.token, &other, Instant::now(), 403).await.1;

        // Refusals write nothing: the ledger holds the 200s alone (two
        // articles, so two billable).
        assert_eq!(w.ledger(&d.licence).await, (served, 2));
    }

    async fn a_stored_value_made_nonsense_by_hand_is_a_500_never_a_default(backend: Backend) {
        let (w, d) = deal(backend).await;
        let photo = w.photo(&d.desk, &photo_body("allowed")).await;
        let id = article(&w, &d.desk, "pc-8", Some(&photo)).await;
        assert_eq!(w.app.get_as(&d.desk.token, &format!("/v1/articles/{id}")).await.status(), 200);

        by_hand(&w.app, &format!(r#"UPDATE articles SET bylines = '[{{"nom": "T. Reyes"}}]' WHERE id = '{id}'"#));
        by_hand(&w.app, &format!("UPDATE media SET renditions = 'not json' WHERE id = '{photo}'"));

        for (token, path) in [
            (&d.desk.token, format!("/v1/articles/{id}")),
            (&d.desk.token, format!("/v1/media/{photo}")),
            (&d.reader.token, format!("/v1/content/{id}")),
        ] {
            let problem = expect_problem(w.app.get_as(token, &path).await, 500).await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(!detail.contains("nom") && !detail.contains("renditions"), "{path}: {problem}");
        }
        assert_eq!(w.ledger(&d.licence).await, (0, 0), "a failed delivery writes nothing");
    }

    async fn one_article_renders_apart_for_each_grant_and_format(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = article(&w, &d.desk, "pc-7", None).await;
        let browser = w.licensee("Noon Headlines", &["GB"]).await;
        w.licence(&d.desk, &browser, json!({"tier": "preview", "include_media": false})).await;

        let full = json_of(w.fetch(&d.reader.token, &id).await).await;
        let previewed = json_of(w.app.get_as(&browser.token, &format!("/v1/content/{id}")).await).await;
        let ninjs = json_of(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=ninjs")).await).await;
        let full_again = json_of(w.fetch(&d.reader.token, &id).await).await;

        assert!(full["body_html"].is_string(), "{full}");
        assert!(previewed["body_html"].is_null(), "{previewed}");
        assert_ne!(previewed["licence_id"], full["licence_id"]);
        assert!(ninjs["uri"].is_string() && ninjs.get("licence_id").is_none(), "{ninjs}");
        assert_eq!(full_again, full);
    }

    async fn a_kill_through_another_node_is_a_410_on_this_one_within_the_bound(backend: Backend) {
        let (w, d) = deal(backend).await;
        let id = article(&w, &d.desk, "pc-6", None).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        let url = w.app.db.url.clone();
        let other = start(test_settings(url.clone()), TestDatabase::unmanaged(url)).await;
        let other_desk = other.token_for(&other.create_client(Role::Publisher, Some(&d.desk.id))).await;

        let kill = other.post_as(&other_desk, &format!("/v1/articles/{id}/kill"), &json!({"reason": "Legal: a court order names the lifeboat crew."})).await;

        assert_eq!(kill.status(), 200, "{}", kill.text().await.unwrap());
        let (problem, _) = refused_within_the_bound(&w, &d.reader.token, &id, Instant::now(), 410).await;
        assert_eq!(problem["reason"], "Legal: a court order names the lifeboat crew.");
        // Through the node that took it, at once.
        let reader = other.token_for(&d.reader.client).await;
        expect_problem(other.get_as(&reader, &format!("/v1/content/{id}")).await, 410).await;
    }
}
