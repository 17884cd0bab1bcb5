//! Takedowns and webhooks: endpoints and the addresses they may not name,
//! signed deliveries to a real receiver in this process (verified by the
//! Rust crate and, independently, by Python's reference implementation),
//! retries while the receiver is down, takedown notices to the licensees
//! that received a story, and the compliance report against the ledger.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};
use syndicate::metering::journal::{Appender, Directory, frame};
use syndicate::metering::period::Period;
use syndicate::storage::DbConnection;
use syndicate::storage::shipping::{self, Entry};

use crate::harness::{
    Backend, TestDatabase, expect_problem, journal, json_of, spawn_app_with, start, test_settings,
};
use crate::world::{Deal, Party, World};

/// A message the receiver got.
#[derive(Debug, Clone)]
struct Message {
    headers: Vec<(String, String)>,
    body: String,
    /// Whether the receiver answered 2xx.
    accepted: bool,
    /// When it arrived.
    received_at: chrono::DateTime<chrono::Utc>,
}

impl Message {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1 that records every request and
/// answers 204, or 503 while it is down.
#[derive(Clone)]
struct Receiver {
    port: u16,
    messages: Arc<Mutex<Vec<Message>>>,
    down: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> Receiver {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicBool::new(false));
        let (m, d) = (messages.clone(), down.clone());
        let server = HttpServer::new(move || {
            let (m, d) = (m.clone(), d.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (m, d) = (m.clone(), d.clone());
                async move {
                    let accepted = !d.load(Ordering::SeqCst);
                    m.lock().unwrap().push(Message {
                        headers: req
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        accepted,
                        received_at: chrono::Utc::now(),
                    });
                    if accepted {
                        HttpResponse::NoContent().finish()
                    } else {
                        HttpResponse::ServiceUnavailable().body("receiver is down for maintenance")
                    }
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Receiver {
            port,
            messages,
            down,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/syndicate", self.port)
    }

    fn accepted(&self) -> Vec<Message> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.accepted)
            .cloned()
            .collect()
    }

    fn all(&self) -> Vec<Message> {
        self.messages.lock().unwrap().clone()
    }
}

/// An app whose webhooks may reach the receiver, sending and retrying fast.
async fn world_with(backend: Backend, receiver: &Receiver) -> World {
    let host = format!("127.0.0.1:{}", receiver.port);
    let app = spawn_app_with(backend, move |settings| {
        settings.webhooks.allow_hosts = vec![host];
        settings.webhooks.poll = Duration::from_millis(50);
        settings.webhooks.retry_base = Duration::from_millis(100);
        settings.webhooks.retry_cap = Duration::from_millis(300);
    })
    .await;
    World::on(app).await
}

/// Waits up to ten seconds for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A published story written for these tests.
fn story(external_ref: &str) -> Value {
    json!({
        "external_ref": external_ref,
        "headline": "Harbour wall repairs finish ahead of the winter storms",
        "body_html": "<p>Engineers replaced forty metres of the old sea wall.</p>",
        "section": "local", "language": "en-GB", "status": "published",
        "bylines": [{"name": "Maren Holt"}],
    })
}

async fn publish(w: &World, desk: &Party, external_ref: &str) -> String {
    w.article(desk, &story(external_ref)).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn kill(w: &World, desk: &Party, id: &str) {
    let response = w
        .app
        .post_as(
            &desk.token,
            &format!("/v1/articles/{id}/kill"),
            &json!({"reason": "Legal: the story names a protected witness."}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // Deliveries still in the journal reach the ledger, and their notices.
    w.app.settled().await;
}

async fn correct(w: &World, desk: &Party, id: &str, version: i64) {
    let response = w.app.client.put(w.app.url(&format!("/v1/articles/{id}")))
        .bearer_auth(&desk.token)
        .header("If-Match", format!("\"v{version}\""))
        .json(&json!({"content": {
            "headline": "Harbour wall repairs finish ahead of the winter storms",
            "body_html": "<p>Engineers replaced thirty metres of the old sea wall.</p>",
            "section": "local", "language": "en-GB", "bylines": [{"name": "Maren Holt"}]},
            "change": {"kind": "correction", "note": "The repaired length was thirty metres, not forty."}}))
        .send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// A photo for these tests with the given rights.
fn harbour_photo(rights: Value) -> Value {
    json!({
        "caption": "Storm clouds over the harbour wall.", "credit_line": "Photograph: Ines Calloway/Coastline Pictures",
        "copyright_holder": "Coastline Pictures",
        "renditions": [{"href": "https://images.example.org/wall.jpg", "width": 1600, "height": 1067, "mime_type": "image/jpeg"}],
        "rights": rights,
    })
}

/// Replaces the photo's rights as its desk.
async fn set_rights(w: &World, desk: &Party, photo: &str, rights: Value) {
    let path = format!("/v1/media/{photo}");
    let response = w
        .app
        .send_json(
            reqwest::Method::PUT,
            &desk.token,
            &path,
            &harbour_photo(rights),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Registers an endpoint as the licensee; its id and secret.
async fn endpoint(w: &World, reader: &Party, url: &str, types: &[&str]) -> (String, String) {
    let body = json!({"url": url, "event_types": types});
    let created = w.app.post_as(&reader.token, "/v1/webhooks", &body).await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let created = json_of(created).await;
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

fn by_hand(w: &World, sql: &str) {
    match &mut w.app.db.connect() {
        DbConnection::Sqlite(c) => c.batch_execute(sql).unwrap(),
        DbConnection::Postgresql(c) => c.batch_execute(sql).unwrap(),
    }
}

/// A delivery of a story to a licensee decided at `at`, as a node's usage
/// journal keeps it until it is shipped.
fn journal_entry(
    article: &str,
    publisher: &str,
    licensee: &str,
    licence: &str,
    at: chrono::NaiveDateTime,
) -> Entry {
    Entry {
        id: uuid::Uuid::now_v7().to_string(),
        licensee_id: licensee.to_owned(),
        licence_id: licence.to_owned(),
        publisher_id: publisher.to_owned(),
        article_id: article.to_owned(),
        article_version: 1,
        tier: "full".to_owned(),
        format: "json".to_owned(),
        at,
        period_start: Period::Month.start(at),
        request_id: uuid::Uuid::now_v7().to_string(),
        quota: None,
        unit_price: None,
        currency: None,
        purpose: syndicate::domain::purpose::Purpose::Display,
        attribution: None,
        billable: true,
        leased: false,
    }
}

/// Leaves `entries` in a node's usage journal in `dir`, unshipped, as a
/// node that stopped before shipping them does.
fn leave_in_journal(dir: &std::path::Path, entries: &[Entry]) {
    let _held = Directory::open(dir).unwrap();
    let mut appender = Appender::start(dir).unwrap();
    let mut bytes = Vec::new();
    for entry in entries {
        frame(&serde_json::to_vec(entry).unwrap(), &mut bytes);
    }
    appender.append(&bytes).unwrap();
}

/// A count read behind the API (`sql` selects it as `n`).
fn count(w: &World, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .get_result::<Count>(&mut w.app.db.connect())
        .unwrap()
        .n
}

/// Verifies a message with the Rust crate.
fn verifies(secret: &str, message: &Message) -> bool {
    let mut headers = http::HeaderMap::new();
    for (name, value) in &message.headers {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(message.body.as_bytes(), &headers)
        .is_ok()
}

/// A name other than `localhost` that resolves only to loopback here (from
/// /etc/hosts: the machine's own name, or a common alias).
fn loopback_name() -> String {
    use std::net::ToSocketAddrs;
    let hostname = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    [
        hostname.as_str(),
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
    ]
    .into_iter()
    .filter(|name| !name.is_empty())
    .find(|name| {
        (*name, 80).to_socket_addrs().is_ok_and(|mut addrs| {
            let addrs: Vec<_> = addrs.by_ref().collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        })
    })
    .expect("no host name resolving to loopback on this machine")
    .to_owned()
}

crate::backend_tests! {
    async fn a_kill_reaches_the_receiver_signed_once_with_the_reason(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let (_, secret) = endpoint(&w, &d.reader, &receiver.url(), &["article.killed"]).await;
        let id = publish(&w, &d.desk, "pc-kill").await;

        kill(&w, &d.desk, &id).await;

        eventually("the kill", || !receiver.accepted().is_empty()).await;
        let message = receiver.accepted().remove(0);
        let body = message.json();
        assert_eq!(body["type"], "article.killed");
        assert_eq!(body["data"]["article_id"], id.as_str());
        assert_eq!(body["data"]["reason"], "Legal: the story names a protected witness.");
        assert!(verifies(&secret, &message), "{message:?}");
        let mut tampered = message.clone();
        tampered.body = tampered.body.replace("protected", "unprotected");
        assert!(!verifies(&secret, &tampered));
        // Only the subscribed type, and only once.
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.all().len(), 1, "{:?}", receiver.all());
    }

    async fn while_the_receiver_is_down_notices_wait_and_then_arrive_once_each_in_order(backend: Backend) {
        let receiver = Receiver::start().await;
        receiver.down.store(true, Ordering::SeqCst);
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let all = ["article.published", "article.updated", "article.corrected", "article.withheld", "article.killed"];
        let (hook, _) = endpoint(&w, &d.reader, &receiver.url(), &all).await;
        let first = publish(&w, &d.desk, "pc-a").await;
        let second = publish(&w, &d.desk, "pc-b").await;
        correct(&w, &d.desk, &first, 1).await;
        kill(&w, &d.desk, &first).await;
        eventually("some failed attempts", || receiver.all().len() >= 4).await;

        receiver.down.store(false, Ordering::SeqCst);

        eventually("every notice", || receiver.accepted().len() == 4).await;
        actix_web::rt::time::sleep(Duration::from_millis(400)).await;
        let accepted = receiver.accepted();
        assert_eq!(accepted.len(), 4, "a notice arrived twice: {accepted:?}");
        let mut ids: Vec<&str> = accepted.iter().map(|m| m.header("webhook-id")).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 4);
        let of_first: Vec<(String, i64)> = accepted.iter().map(Message::json)
            .filter(|b| b["data"]["article_id"] == first.as_str())
            .map(|b| (b["type"].as_str().unwrap().to_owned(), b["data"]["version"].as_i64().unwrap()))
            .collect();
        assert_eq!(of_first, [("article.published".to_owned(), 1), ("article.corrected".to_owned(), 2), ("article.killed".to_owned(), 3)]);
        assert!(accepted.iter().any(|m| m.json()["data"]["article_id"] == second.as_str()));
        // The feed tells the same events.
        let feed = json_of(w.app.get_as(&d.reader.token, "/v1/feed?limit=100").await).await;
        let mut told: Vec<(String, String, i64)> = feed["events"].as_array().unwrap().iter()
            .map(|e| (format!("article.{}", e["kind"].as_str().unwrap()), e["article_id"].as_str().unwrap().to_owned(), e["version"].as_i64().unwrap()))
            .collect();
        let mut sent: Vec<(String, String, i64)> = accepted.iter().map(Message::json)
            .map(|b| (b["type"].as_str().unwrap().to_owned(), b["data"]["article_id"].as_str().unwrap().to_owned(), b["data"]["version"].as_i64().unwrap()))
            .collect();
        told.sort();
        sent.sort();
        assert_eq!(told, sent);
        let corrected = accepted.iter().map(Message::json).find(|b| b["type"] == "article.corrected").unwrap();
        assert_eq!(corrected["data"]["correction_note"], "The repaired length was thirty metres, not forty.");
        // Every attempt is kept: failures with the receiver's answer, then one success each.
        let attempts = json_of(w.app.get_as(&d.reader.token, &format!("/v1/webhooks/{hook}/attempts?limit=100")).await).await;
        let attempts = attempts["items"].as_array().unwrap();
        assert_eq!(attempts.iter().filter(|a| a["outcome"] == "delivered").count(), 4);
        let failed = attempts.iter().find(|a| a["outcome"] == "failed").unwrap();
        assert_eq!(failed["response_status"], 503);
        assert_eq!(failed["response_excerpt"], "receiver is down for maintenance");
    }

    async fn webhook_urls_on_internal_addresses_are_refused_unless_the_operator_allows_them(backend: Backend) {
        let w = World::new(backend).await;
        let reader = w.licensee("Daybreak Digest", &["GB"]).await;
        let desk = w.publisher("Portmere Courier").await;
        let loopback = loopback_name();

        for url in [
            "http://127.0.0.1/hooks".to_owned(),
            "http://127.9.9.9:8080/hooks".to_owned(),
            "http://10.0.0.1/hooks".to_owned(),
            "http://10.200.3.4:443/hooks".to_owned(),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://192.168.1.20/hooks".to_owned(),
            "http://[::1]/hooks".to_owned(),
            "http://[fd12::1]/hooks".to_owned(),
            "http://localhost:8080/hooks".to_owned(),
            format!("http://{loopback}/hooks"),
            "http://no-such-host.invalid/hooks".to_owned(),
            "ftp://files.example.org/hooks".to_owned(),
            "not a url".to_owned(),
        ] {
            let response = w.app.post_as(&reader.token, "/v1/webhooks", &json!({"url": url, "event_types": ["article.killed"]})).await;
            let problem = expect_problem(response, 422).await;
            assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        }
        let by_publisher = w.app.post_as(&desk.token, "/v1/webhooks",
            &json!({"url": "https://hooks.example.org/", "event_types": ["article.killed"]})).await;
        expect_problem(by_publisher, 403).await;
        let unknown_type = w.app.post_as(&reader.token, "/v1/webhooks",
            &json!({"url": "http://127.0.0.1/hooks", "event_types": ["article.exploded"]})).await;
        expect_problem(unknown_type, 400).await;
    }

    async fn a_kill_gives_notices_only_to_licensees_that_received_the_story(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let idle = w.licensee("Evening Lantern", &["GB"]).await;
        w.licence(&d.desk, &idle, json!({})).await;
        let id = publish(&w, &d.desk, "pc-n").await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        kill(&w, &d.desk, &id).await;

        let mine = json_of(w.app.get_as(&d.reader.token, "/v1/notices").await).await;
        let none = json_of(w.app.get_as(&idle.token, "/v1/notices").await).await;
        let desk = json_of(w.app.get_as(&d.desk.token, "/v1/notices?status=open").await).await;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
        assert_eq!(desk["items"][0]["id"], mine["items"][0]["id"]);
        let notice = &mine["items"][0];
        assert_eq!(notice["status"], "open");
        assert_eq!(notice["deliveries"], 1);
        let path = format!("/v1/notices/{}/acknowledge", notice["id"].as_str().unwrap());
        let ack = json!({"removed_at": chrono::Utc::now().to_rfc3339(), "note": "Removed from the app."});
        let acknowledged = w.app.post_as(&d.reader.token, &path, &ack).await;
        assert_eq!(acknowledged.status(), 200);
        assert_eq!(json_of(acknowledged).await["status"], "acknowledged");
        expect_problem(w.app.post_as(&d.reader.token, &path, &ack).await, 409).await;
        expect_problem(w.app.post_as(&idle.token, &path, &ack).await, 404).await;
    }

    async fn an_unacknowledged_notice_is_overdue_after_its_licences_deadline(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        by_hand(&w, &format!("UPDATE licences SET takedown_hours = 0 WHERE id = '{}'", d.licence));
        let id = publish(&w, &d.desk, "pc-o").await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        kill(&w, &d.desk, &id).await;

        let overdue = json_of(w.app.get_as(&d.reader.token, "/v1/notices?status=overdue").await).await;
        let open = json_of(w.app.get_as(&d.reader.token, "/v1/notices?status=open").await).await;
        assert_eq!(overdue["items"].as_array().unwrap().len(), 1, "{overdue}");
        assert!(open["items"].as_array().unwrap().is_empty());
        assert_eq!(overdue["items"][0]["status"], "overdue");
    }

    async fn the_compliance_report_reconciles_with_the_ledger(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let Deal { desk, reader, licence } = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let other = w.licensee("Evening Lantern", &["GB"]).await;
        let other_licence = w.licence(&desk, &other, json!({})).await;
        let id = publish(&w, &desk, "pc-c").await;
        for _ in 0..3 {
            assert_eq!(w.fetch(&reader.token, &id).await.status(), 200);
        }
        assert_eq!(w.fetch(&other.token, &id).await.status(), 200);
        kill(&w, &desk, &id).await;
        assert_eq!(w.fetch(&reader.token, &id).await.status(), 410);
        // A delivery still in the node's journal at the kill gets its
        // notice when it reaches the ledger.
        w.app.settled().await;
        let notices = json_of(w.app.get_as(&other.token, "/v1/notices").await).await;
        let path = format!("/v1/notices/{}/acknowledge", notices["items"][0]["id"].as_str().unwrap());
        let ack = w.app.post_as(&other.token, &path, &json!({"removed_at": chrono::Utc::now().to_rfc3339()})).await;
        assert_eq!(ack.status(), 200);

        let report = json_of(w.app.get_as(&desk.token, "/v1/compliance").await).await;
        let csv = w.app.get_as(&desk.token, "/v1/compliance?format=csv").await.text().await.unwrap();

        let takedown = &report["takedowns"][0];
        assert_eq!(takedown["article_id"], id.as_str());
        let row = |licensee: &str| takedown["recipients"].as_array().unwrap().iter()
            .find(|r| r["licensee_id"] == licensee).cloned().unwrap();
        assert_eq!(row(&reader.id)["deliveries"].as_i64().unwrap(), w.ledger(&licence).await.0);
        assert_eq!(row(&other.id)["deliveries"].as_i64().unwrap(), w.ledger(&other_licence).await.0);
        assert_eq!(row(&reader.id)["fetches_after_kill"], 1);
        assert_eq!(row(&reader.id)["status"], "open");
        assert_eq!(row(&other.id)["status"], "acknowledged");
        let rates: Vec<(String, f64)> = report["licensees"].as_array().unwrap().iter()
            .map(|l| (l["licensee_id"].as_str().unwrap().to_owned(), l["acknowledgement_rate"].as_f64().unwrap()))
            .collect();
        assert!(rates.contains(&(other.id.clone(), 1.0)) && rates.contains(&(reader.id.clone(), 0.0)), "{rates:?}");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.starts_with("kind,article_id,media_id,publisher_id,killed_at,licensee_id,deliveries,"));
        expect_problem(w.app.get_as(&reader.token, "/v1/compliance").await, 403).await;
    }

    async fn two_nodes_on_one_database_send_each_notice_once(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let mut settings = test_settings(w.app.db.url.clone());
        settings.webhooks.allow_hosts = vec![format!("127.0.0.1:{}", receiver.port)];
        settings.webhooks.poll = Duration::from_millis(20);
        let _second = start(settings, TestDatabase::unmanaged(w.app.db.url.clone())).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        endpoint(&w, &d.reader, &receiver.url(), &["article.published"]).await;

        for i in 0..12 {
            publish(&w, &d.desk, &format!("pc-node-{i}")).await;
        }

        eventually("twelve notices", || receiver.accepted().len() >= 12).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let mut ids: Vec<String> = receiver.all().iter().map(|m| m.header("webhook-id").to_owned()).collect();
        assert_eq!(ids.len(), 12, "{ids:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 12);
    }

    async fn a_photo_whose_rights_end_in_a_live_story_is_announced_once_within_a_second(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let mut settings = test_settings(w.app.db.url.clone());
        settings.webhooks.allow_hosts = vec![format!("127.0.0.1:{}", receiver.port)];
        settings.webhooks.poll = Duration::from_millis(50);
        let _second = start(settings, TestDatabase::unmanaged(w.app.db.url.clone())).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let idle = w.licensee("Evening Lantern", &["GB"]).await;
        w.licence(&d.desk, &idle, json!({})).await;
        endpoint(&w, &d.reader, &receiver.url(), &["media.rights_ended"]).await;
        endpoint(&w, &idle, &receiver.url(), &["media.rights_ended"]).await;
        let ends = chrono::Utc::now() + chrono::Duration::seconds(3);
        let photo = w.photo(&d.desk, &json!({
            "caption": "Storm clouds over the harbour wall.", "credit_line": "Photograph: Ines Calloway/Coastline Pictures",
            "copyright_holder": "Coastline Pictures",
            "renditions": [{"href": "https://images.example.org/wall.jpg", "width": 1600, "height": 1067, "mime_type": "image/jpeg"}],
            "rights": {"syndication": "allowed", "expires_at": ends.to_rfc3339()},
        })).await;
        let mut body = story("pc-photo");
        body["media"] = json!([{"media_id": photo, "role": "main"}]);
        let id = w.article(&d.desk, &body).await["id"].as_str().unwrap().to_owned();
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        eventually("the end of the photo's rights", || !receiver.accepted().is_empty()).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;

        let messages = receiver.all();
        assert_eq!(messages.len(), 1, "{messages:?}");
        let message = &messages[0];
        let body = message.json();
        assert_eq!(body["type"], "media.rights_ended");
        assert_eq!(body["data"]["media_id"], photo.as_str());
        assert_eq!(body["data"]["article_id"], id.as_str());
        let late = message.received_at - ends;
        assert!(late < chrono::Duration::seconds(1), "announced {late} after the instant");
        let notices = json_of(w.app.get_as(&d.reader.token, "/v1/notices").await).await;
        assert_eq!(notices["items"].as_array().unwrap().len(), 1, "{notices}");
        assert_eq!(notices["items"][0]["kind"], "media.rights_ended");
        assert_eq!(notices["items"][0]["media_id"], photo.as_str());
        let none = json_of(w.app.get_as(&idle.token, "/v1/notices").await).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");

        // The story is still delivered, without the photo: the compliance
        // report counts only the delivery that showed it.
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        w.app.settled().await;
        let report = json_of(w.app.get_as(&d.desk.token, "/v1/compliance").await).await;
        let recipient = &report["takedowns"][0]["recipients"][0];
        assert_eq!(report["takedowns"][0]["kind"], "media.rights_ended", "{report}");
        assert_eq!(recipient["licensee_id"], d.reader.id.as_str());
        assert_eq!(recipient["deliveries"], 1, "{report}");
        assert_eq!(recipient["fetches_after_kill"], 0);
    }

    async fn a_licence_ending_within_the_notice_period_is_announced_once_to_its_licensee(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let desk = w.publisher("Portmere Courier").await;
        let reader = w.licensee("Daybreak Digest", &["GB"]).await;
        endpoint(&w, &reader, &receiver.url(), &["licence.ending"]).await;
        let soon = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();

        let ending = w.licence(&desk, &reader, json!({"valid_until": soon})).await;
        w.licence(&desk, &reader, json!({"valid_until": later, "sections": ["sport"]})).await;

        eventually("the licence's end", || !receiver.accepted().is_empty()).await;
        actix_web::rt::time::sleep(Duration::from_millis(400)).await;
        let messages = receiver.all();
        assert_eq!(messages.len(), 1, "{messages:?}");
        let body = messages[0].json();
        assert_eq!(body["type"], "licence.ending");
        assert_eq!(body["data"]["licence_id"], ending.as_str());
    }

    async fn a_rotated_secret_signs_beside_the_old_one_during_the_overlap(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let (hook, old) = endpoint(&w, &d.reader, &receiver.url(), &["article.published"]).await;
        let rotated = json_of(w.app.post_as(&d.reader.token, &format!("/v1/webhooks/{hook}/rotate-secret?overlap_seconds=600"), &json!({})).await).await;
        let new = rotated["secret"].as_str().unwrap().to_owned();

        publish(&w, &d.desk, "pc-r").await;

        eventually("the publication", || !receiver.accepted().is_empty()).await;
        let message = receiver.accepted().remove(0);
        assert!(new.starts_with("whsec_") && new != old);
        assert!(verifies(&new, &message) && verifies(&old, &message));
        assert_eq!(message.header("webhook-signature").split(' ').count(), 2);
    }

    async fn the_feed_tells_the_ends_of_rights_and_licences_to_the_licensees_the_webhooks_tell_in_order(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let idle = w.licensee("Evening Lantern", &["GB"]).await;
        w.licence(&d.desk, &idle, json!({})).await;
        endpoint(&w, &d.reader, &receiver.url(), &["media.rights_ended", "licence.ending"]).await;
        let ends = chrono::Utc::now() + chrono::Duration::seconds(2);
        let photo = w.photo(&d.desk, &harbour_photo(json!({"syndication": "allowed", "expires_at": ends.to_rfc3339()}))).await;
        let mut body = story("pc-feed-photo");
        body["media"] = json!([{"media_id": photo, "role": "main"}]);
        let id = w.article(&d.desk, &body).await["id"].as_str().unwrap().to_owned();
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        // The delivery reaches the ledger, which names who received the story.
        w.app.settled().await;
        let before = json_of(w.app.get_as(&d.reader.token, "/v1/feed?limit=100").await).await;
        let before = before["next_cursor"].as_str().unwrap().to_owned();
        let soon = chrono::Utc::now() + chrono::Duration::days(2);
        let ending = w.licence(&d.desk, &d.reader, json!({"valid_until": soon.to_rfc3339(), "sections": ["sport"]})).await;
        eventually("the licence's end", || receiver.accepted().len() == 1).await;
        eventually("the end of the photo's rights", || receiver.accepted().len() == 2).await;

        let later = publish(&w, &d.desk, "pc-feed-later").await;

        // Read from the cursor in pages of one: each cursor resumes the next.
        let mut cursor = before;
        let mut told = Vec::new();
        loop {
            let page = json_of(w.app.get_as(&d.reader.token, &format!("/v1/feed?limit=1&cursor={cursor}")).await).await;
            cursor = page["next_cursor"].as_str().unwrap().to_owned();
            let Some(event) = page["events"].as_array().unwrap().first() else { break };
            told.push(event.clone());
        }
        let kinds: Vec<&str> = told.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["licence_ending", "rights_ended", "published"], "{told:?}");
        let webhook_id = |kind: &str| receiver.accepted().iter()
            .find(|m| m.json()["type"] == kind).unwrap().header("webhook-id").to_owned();
        let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        let licence_end = &told[0];
        assert_eq!(licence_end["licence_id"], ending.as_str());
        assert!((at(&licence_end["ends_at"]).to_utc() - soon).num_milliseconds().abs() < 1, "{licence_end}");
        assert_eq!(licence_end["event_id"], webhook_id("licence.ending").as_str());
        assert!(licence_end.get("article_id").is_none(), "{licence_end}");
        let rights_end = &told[1];
        assert_eq!(rights_end["article_id"], id.as_str());
        assert_eq!(rights_end["version"], 1);
        assert_eq!(rights_end["media_id"], photo.as_str());
        assert!((at(&rights_end["ends_at"]).to_utc() - ends).num_milliseconds().abs() < 1, "{rights_end}");
        assert_eq!(rights_end["event_id"], webhook_id("media.rights_ended").as_str());
        assert!(at(&rights_end["at"]) >= at(&licence_end["at"]));
        assert_eq!(told[2]["article_id"], later.as_str());
        // One page from the same cursor tells the same, in the same order.
        let whole = json_of(w.app.get_as(&d.reader.token, "/v1/feed?limit=100").await).await;
        let whole: Vec<Value> = whole["events"].as_array().unwrap().iter()
            .filter(|e| e["kind"] != "published" || e["article_id"] == later.as_str()).cloned().collect();
        assert_eq!(whole, told);
        // A licensee that never received the story, and has no licence
        // ending, hears of neither end.
        let theirs = json_of(w.app.get_as(&idle.token, "/v1/feed?limit=100").await).await;
        let kinds: Vec<&str> = theirs["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["published", "published"], "{theirs}");
    }

    async fn prohibiting_a_photo_in_a_live_story_ends_its_rights_once_as_an_expiry_does(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let idle = w.licensee("Evening Lantern", &["GB"]).await;
        w.licence(&d.desk, &idle, json!({})).await;
        endpoint(&w, &d.reader, &receiver.url(), &["media.rights_ended"]).await;
        endpoint(&w, &idle, &receiver.url(), &["media.rights_ended"]).await;
        let expires = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
        let photo = w.photo(&d.desk, &harbour_photo(json!({"syndication": "allowed", "expires_at": expires}))).await;
        let mut body = story("pc-prohibit");
        body["media"] = json!([{"media_id": photo, "role": "main"}]);
        let id = w.article(&d.desk, &body).await["id"].as_str().unwrap().to_owned();
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        // The delivery reaches the ledger, which names who received the story.
        w.app.settled().await;
        let rights = |rights: Value| set_rights(&w, &d.desk, &photo, rights);

        rights(json!({"syndication": "prohibited", "expires_at": expires})).await;

        eventually("the end of the photo's rights", || !receiver.accepted().is_empty()).await;
        let body = receiver.accepted()[0].json();
        assert_eq!(body["type"], "media.rights_ended");
        assert_eq!(body["data"]["media_id"], photo.as_str());
        assert_eq!(body["data"]["article_id"], id.as_str());
        let notices = json_of(w.app.get_as(&d.reader.token, "/v1/notices").await).await;
        assert_eq!(notices["items"].as_array().unwrap().len(), 1, "{notices}");
        assert_eq!(notices["items"][0]["kind"], "media.rights_ended");
        assert_eq!(notices["items"][0]["media_id"], photo.as_str());
        let none = json_of(w.app.get_as(&idle.token, "/v1/notices").await).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
        // Set again, then past its expiry, then allowed again with the
        // expiry passed: the rights never came back, so nothing more.
        rights(json!({"syndication": "prohibited", "expires_at": expires})).await;
        actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
        rights(json!({"syndication": "allowed", "expires_at": expires})).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.all().len(), 1, "{:?}", receiver.all());
        let feed = json_of(w.app.get_as(&d.reader.token, "/v1/feed?limit=100").await).await;
        let ends: Vec<&Value> = feed["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "rights_ended").collect();
        assert_eq!(ends.len(), 1, "{feed}");
        assert_eq!(ends[0]["media_id"], photo.as_str());
        // Rights that came back and are prohibited again end again.
        rights(json!({"syndication": "allowed"})).await;
        rights(json!({"syndication": "prohibited"})).await;
        eventually("the second end", || receiver.accepted().len() == 2).await;
        let notices = json_of(w.app.get_as(&d.reader.token, "/v1/notices").await).await;
        assert_eq!(notices["items"].as_array().unwrap().len(), 2, "{notices}");
    }

    async fn a_delivery_still_in_a_journal_when_a_photos_rights_end_gets_its_notice_once_when_shipped(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let Deal { desk, reader, licence } = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let after = w.licensee("Evening Lantern", &["GB"]).await;
        let after_licence = w.licence(&desk, &after, json!({})).await;
        endpoint(&w, &reader, &receiver.url(), &["media.rights_ended"]).await;
        endpoint(&w, &after, &receiver.url(), &["media.rights_ended"]).await;
        let ends = chrono::Utc::now() + chrono::Duration::seconds(2);
        let photo = w.photo(&desk, &harbour_photo(json!({"syndication": "allowed", "expires_at": ends.to_rfc3339()}))).await;
        let mut body = story("pc-journal-photo");
        body["media"] = json!([{"media_id": photo, "role": "main"}]);
        let id = w.article(&desk, &body).await["id"].as_str().unwrap().to_owned();
        // A node answered a delivery of the story, with the photo, and
        // stopped before shipping it: no one is in the ledger at the end.
        let journal_dir = tempfile::tempdir().unwrap();
        let before = journal_entry(&id, &desk.id, &reader.id, &licence, syndicate::storage::now());
        leave_in_journal(journal_dir.path(), std::slice::from_ref(&before));
        let taken = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM rights_endings WHERE media_id = '{photo}'");
        eventually("the end of the photo's rights", || count(&w, &taken) == 1).await;

        // The node comes back and ships its journal.
        let mut settings = test_settings(w.app.db.url.clone());
        settings.journal = Some(syndicate::metering::JournalSettings { dir: journal_dir.path().to_owned(), ..journal() });
        settings.webhooks.allow_hosts = vec![format!("127.0.0.1:{}", receiver.port)];
        settings.webhooks.poll = Duration::from_millis(50);
        let _node = start(settings, TestDatabase::unmanaged(w.app.db.url.clone())).await;
        let shipped = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM usage_events WHERE id = '{}'", before.id);
        eventually("the journal's delivery in the ledger", || count(&w, &shipped) == 1).await;
        // Another node ships the same entry again, another delivery decided
        // before the end, and one decided after it (the photo withheld).
        let mut again = journal_entry(&id, &desk.id, &reader.id, &licence, before.at + chrono::Duration::milliseconds(1));
        again.billable = false;
        let withheld = journal_entry(&id, &desk.id, &after.id, &after_licence, syndicate::storage::now());
        let second = shipping::ship(&mut w.app.db.connect(), "node-b", &[before.clone(), again, withheld]).unwrap();
        assert_eq!((second.written, second.skipped), (2, 1));

        let notices = json_of(w.app.get_as(&reader.token, "/v1/notices").await).await;
        let items = notices["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{notices}");
        let notice = &items[0];
        assert_eq!(notice["kind"], "media.rights_ended");
        assert_eq!(notice["article_id"], id.as_str());
        assert_eq!(notice["media_id"], photo.as_str());
        assert_eq!(notice["deliveries"], 1);
        let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().to_utc();
        assert_eq!(at(&notice["last_delivered_at"]).naive_utc(), before.at);
        assert!((at(&notice["killed_at"]) - ends).num_milliseconds().abs() < 1, "{notice}");
        assert_eq!(at(&notice["deadline_at"]) - at(&notice["killed_at"]), chrono::Duration::hours(24));
        let none = json_of(w.app.get_as(&after.token, "/v1/notices").await).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
        // Its endpoint hears of the end once, under the notice's event.
        eventually("the end of the photo's rights", || !receiver.accepted().is_empty()).await;
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let messages = receiver.all();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert_eq!(messages[0].json()["type"], "media.rights_ended");
        assert_eq!(messages[0].json()["data"]["media_id"], photo.as_str());
        assert_eq!(messages[0].header("webhook-id"), notice["event_id"].as_str().unwrap());
        // And its feed, once; the licensee whose delivery came after the
        // end hears nothing.
        let ends_told = |feed: &Value| feed["events"].as_array().unwrap().iter()
            .filter(|e| e["kind"] == "rights_ended").cloned().collect::<Vec<Value>>();
        let feed = json_of(w.app.get_as(&reader.token, "/v1/feed?limit=100").await).await;
        let told = ends_told(&feed);
        assert_eq!(told.len(), 1, "{feed}");
        assert_eq!(told[0]["event_id"], notice["event_id"]);
        let theirs = json_of(w.app.get_as(&after.token, "/v1/feed?limit=100").await).await;
        assert!(ends_told(&theirs).is_empty(), "{theirs}");
        // The compliance report shows the takedown with its one recipient,
        // its deliveries as the ledger has them now.
        let report = json_of(w.app.get_as(&desk.token, "/v1/compliance").await).await;
        let takedowns = report["takedowns"].as_array().unwrap();
        assert_eq!(takedowns.len(), 1, "{report}");
        assert_eq!(takedowns[0]["event_id"], notice["event_id"]);
        assert_eq!(takedowns[0]["media_id"], photo.as_str());
        let recipients = takedowns[0]["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 1, "{report}");
        assert_eq!(recipients[0]["licensee_id"], reader.id.as_str());
        assert_eq!(recipients[0]["deliveries"].as_i64().unwrap(), w.ledger(&licence).await.0);
        assert_eq!(recipients[0]["deliveries"], 2);
    }

    async fn an_expiry_set_in_the_past_asks_those_that_received_the_photo_before_the_change(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let Deal { desk, reader, .. } = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let later = w.licensee("Evening Lantern", &["GB"]).await;
        w.licence(&desk, &later, json!({})).await;
        let photo = w.photo(&desk, &harbour_photo(json!({"syndication": "allowed"}))).await;
        let mut body = story("pc-past-expiry");
        body["media"] = json!([{"media_id": photo, "role": "main"}]);
        let id = w.article(&desk, &body).await["id"].as_str().unwrap().to_owned();
        assert_eq!(w.fetch(&reader.token, &id).await.status(), 200);
        w.app.settled().await;

        // The rights turn out to have ended an hour ago: the reader had the
        // photo after that instant, until this change.
        let ended = chrono::Utc::now() - chrono::Duration::hours(1);
        set_rights(&w, &desk, &photo, json!({"syndication": "allowed", "expires_at": ended.to_rfc3339()})).await;
        assert_eq!(w.fetch(&later.token, &id).await.status(), 200);
        w.app.settled().await;
        let taken = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM rights_endings WHERE media_id = '{photo}'");
        eventually("the end of the photo's rights", || count(&w, &taken) == 1).await;
        w.app.settled().await;

        let notices = json_of(w.app.get_as(&reader.token, "/v1/notices").await).await;
        assert_eq!(notices["items"].as_array().unwrap().len(), 1, "{notices}");
        assert_eq!(notices["items"][0]["media_id"], photo.as_str());
        assert_eq!(notices["items"][0]["deliveries"], 1);
        let none = json_of(w.app.get_as(&later.token, "/v1/notices").await).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "{none}");
    }

    async fn a_delivery_names_the_status_and_every_correction_with_its_version_and_time(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let d = w.deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({})).await;
        let mut body = story("pc-corrected");
        body["standfirst"] = json!("The council says the new wall will last fifty years.");
        let id = w.article(&d.desk, &body).await["id"].as_str().unwrap().to_owned();
        let fresh = json_of(w.fetch(&d.reader.token, &id).await).await;
        assert_eq!(fresh["status"], "published");
        assert_eq!(fresh["corrections"], json!([]));

        correct(&w, &d.desk, &id, 1).await;
        let updated = w.app.client.put(w.app.url(&format!("/v1/articles/{id}")))
            .bearer_auth(&d.desk.token)
            .header("If-Match", "\"v2\"")
            .json(&json!({"content": {
                "headline": "Harbour wall repairs finish a week ahead of the winter storms",
                "standfirst": "The council says the new wall will last fifty years.",
                "body_html": "<p>Engineers replaced thirty metres of the old sea wall.</p>",
                "section": "local", "language": "en-GB", "bylines": [{"name": "Maren Holt"}]},
                "change": {"kind": "update", "note": "Adds when the work finished."}}))
            .send().await.unwrap();
        assert_eq!(updated.status(), 200, "{}", updated.text().await.unwrap());
        let versions = json_of(w.app.get_as(&d.desk.token, &format!("/v1/articles/{id}/versions")).await).await;
        let corrected_at = versions["items"].as_array().unwrap().iter()
            .find(|v| v["version"] == 2).unwrap()["created_at"].as_str().unwrap().to_owned();

        let delivered = json_of(w.fetch(&d.reader.token, &id).await).await;
        let ninjs = json_of(w.app.get_as(&d.reader.token, &format!("/v1/content/{id}?format=ninjs")).await).await;

        assert_eq!(delivered["version"], 3);
        assert_eq!(delivered["status"], "published");
        let corrections = delivered["corrections"].as_array().unwrap();
        assert_eq!(corrections.len(), 1, "{delivered}");
        assert_eq!(corrections[0]["version"], 2);
        assert_eq!(corrections[0]["note"], "The repaired length was thirty metres, not forty.");
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(at(corrections[0]["corrected_at"].as_str().unwrap()), at(&corrected_at));
        crate::delivery::assert_valid_ninjs(&ninjs);
        assert_eq!(ninjs["pubstatus"], "usable");
        let descriptions: Vec<(String, String)> = ninjs["descriptions"].as_array().unwrap().iter()
            .map(|d| (d["role"].as_str().unwrap().to_owned(), d["value"].as_str().unwrap().to_owned()))
            .collect();
        let time = at(&corrected_at).to_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert_eq!(descriptions, [
            ("summary".to_owned(), "The council says the new wall will last fifty years.".to_owned()),
            ("correction".to_owned(), format!("Corrected in version 2 ({time}): The repaired length was thirty metres, not forty.")),
        ]);
    }

    async fn a_licence_names_the_hours_to_confirm_a_takedown_and_the_notice_deadline_follows_them(backend: Backend) {
        let receiver = Receiver::start().await;
        let w = world_with(backend, &receiver).await;
        let desk = w.publisher("Portmere Courier").await;
        let reader = w.licensee("Daybreak Digest", &["GB"]).await;
        let other = w.licensee("Evening Lantern", &["GB"]).await;
        let plain = w.licence(&desk, &other, json!({})).await;
        let licence = w.licence(&desk, &reader, json!({"takedown_hours": 6})).await;
        let path = format!("/v1/licences/{licence}");
        let terms = json!({"licensee_id": reader.id, "publisher_id": desk.id, "tier": "full",
            "include_media": true, "valid_from": "2026-01-01T00:00:00Z"});

        let shown = json_of(w.app.get_as(&w.admin, &format!("/v1/licences/{plain}")).await).await;
        assert_eq!(shown["takedown_hours"], 24, "{shown}");
        let own = json_of(w.app.get_as(&reader.token, &path).await).await;
        assert_eq!(own["takedown_hours"], 6, "{own}");
        for bad in [json!(0), json!(-2), json!(721)] {
            let body = crate::harness::merged(terms.clone(), json!({"takedown_hours": bad}));
            let created = w.app.post_as(&w.admin, "/v1/licences", &body).await;
            let problem = expect_problem(created, 422).await;
            assert_eq!(problem["errors"][0]["field"], "takedown_hours", "{bad}: {problem}");
            let changed = w.app.send_json(reqwest::Method::PATCH, &w.admin, &path, &json!({"takedown_hours": bad})).await;
            let problem = expect_problem(changed, 422).await;
            assert_eq!(problem["errors"][0]["field"], "takedown_hours", "{bad}: {problem}");
        }
        let wrong_type = w.app.send_json(reqwest::Method::PATCH, &w.admin, &path, &json!({"takedown_hours": "two days"})).await;
        expect_problem(wrong_type, 400).await;
        let changed = w.app.send_json(reqwest::Method::PATCH, &w.admin, &path, &json!({"takedown_hours": 48})).await;
        assert_eq!(changed.status(), 200);
        assert_eq!(json_of(changed).await["takedown_hours"], 48);
        let by_reader = w.app.send_json(reqwest::Method::PATCH, &reader.token, &path, &json!({"takedown_hours": 720})).await;
        expect_problem(by_reader, 403).await;
        let id = publish(&w, &desk, "pc-hours").await;
        assert_eq!(w.fetch(&reader.token, &id).await.status(), 200);
        assert_eq!(w.fetch(&other.token, &id).await.status(), 200);

        kill(&w, &desk, &id).await;

        let hours_of = |notices: &Value| {
            let notice = &notices["items"][0];
            let at = |field: &str| chrono::DateTime::parse_from_rfc3339(notice[field].as_str().unwrap()).unwrap();
            (at("deadline_at") - at("killed_at")).num_hours()
        };
        let mine = json_of(w.app.get_as(&reader.token, "/v1/notices").await).await;
        let theirs = json_of(w.app.get_as(&other.token, "/v1/notices").await).await;
        assert_eq!(hours_of(&mine), 48, "{mine}");
        assert_eq!(hours_of(&theirs), 24, "{theirs}");
    }
}

/// Verifies with Python's `standardwebhooks` (from PyPI), an implementation
/// independent of the Rust crate that signs: a real message verifies; a
/// tampered body, and a message signed ten minutes ago, are rejected.
#[actix_web::test]
#[cfg_attr(
    not(webhook_python_tests),
    ignore = "Python's standardwebhooks missing: pip install standardwebhooks, or set WEBHOOK_VERIFY_PYTHON to an interpreter that has it"
)]
async fn a_kill_verifies_with_pythons_reference_implementation() {
    let receiver = Receiver::start().await;
    let w = world_with(Backend::Sqlite, &receiver).await;
    let d = w
        .deal("Portmere Courier", "Daybreak Digest", &["GB"], json!({}))
        .await;
    let (_, secret) = endpoint(&w, &d.reader, &receiver.url(), &["article.killed"]).await;
    let id = publish(&w, &d.desk, "pc-py").await;
    kill(&w, &d.desk, &id).await;
    eventually("the kill", || !receiver.accepted().is_empty()).await;
    let message = receiver.accepted().remove(0);
    let headers = |m: &Message| -> Value {
        m.headers
            .iter()
            .filter(|(n, _)| n.starts_with("webhook-"))
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect()
    };
    let mut tampered = message.clone();
    tampered.body = tampered.body.replace("Legal", "Editorial");
    let old = chrono::Utc::now().timestamp() - 600;
    let old_signature = standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .sign(message.header("webhook-id"), old, message.body.as_bytes())
        .unwrap();
    let mut stale = headers(&message);
    stale["webhook-timestamp"] = json!(old.to_string());
    stale["webhook-signature"] = json!(old_signature);
    let input = json!([
        {"secret": secret, "headers": headers(&message), "body": message.body},
        {"secret": secret, "headers": headers(&tampered), "body": tampered.body},
        {"secret": secret, "headers": stale, "body": message.body},
    ]);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhooks/verify.py");
    let mut child =
        std::process::Command::new(option_env!("WEBHOOK_VERIFY_PYTHON").unwrap_or("python3"))
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();

    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], "ok");
    assert!(lines[1].starts_with("rejected"), "{lines:?}");
    assert!(
        lines[2].starts_with("rejected") && lines[2].contains("too old"),
        "{lines:?}"
    );
}
