//! Journal mode: deliveries answered once their entries are in the node's
//! usage journal, shipped to the SQL ledger exactly once; quotas leased
//! across nodes; both modes writing the same ledger.

use diesel::prelude::*;
use serde_json::{Value, json};
use syndicate::storage::DbConnection;

use syndicate::domain::Role;

use crate::harness::{TestApp, TestDatabase, journal, spawn_app_with, start, test_settings};
use crate::world::{Party, World};

/// Publishes an article as the desk and returns its id.
async fn story(w: &World, desk: &Party, n: usize) -> String {
    let body = json!({
        "external_ref": format!("tide-{n}"), "headline": format!("The tide table, page {n}"),
        "body_html": "<p>High water came an hour late.</p>", "section": "news", "language": "en",
        "bylines": [], "status": "published",
    });
    w.article(desk, &body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An event as (licence, article, tier, format, billable, price, currency),
/// the licence and article by their place in the run.
type Event = (
    usize,
    usize,
    String,
    String,
    bool,
    Option<i64>,
    Option<String>,
);

/// What a run of deliveries left: the statuses answered, and the ledger
/// with every id replaced by its place in the run.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    statuses: Vec<u16>,
    events: Vec<Event>,
    counters: Vec<(usize, i64)>,
    days: Vec<(usize, i64, i64, i64)>,
    keys: usize,
    quota_used: Vec<Value>,
    /// Deliveries of each story (by its place) in its receipts.
    receipts: Vec<(usize, i64)>,
}

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    licence_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    article_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    tier: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    format: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    billable: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    unit_price: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    currency: Option<String>,
}

#[derive(QueryableByName)]
struct Sums {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    a: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    b: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    c: i64,
}

fn load<T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut DbConnection,
    sql: &str,
) -> Vec<T> {
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c).unwrap(),
    }
}

/// The same deliveries on `app`: a licence with a quota of 4 a day at 2.50,
/// and one without a quota at 1.00, over six and two articles.
async fn run(app: TestApp) -> Outcome {
    let w = World::on(app).await;
    let quota = w
        .deal(
            "Harbour Gazette",
            "Morning Brief",
            &["GB"],
            json!({
                "include_media": false, "quota": {"units": 4, "period": "day"},
                "price_per_unit": {"amount_minor": 250, "currency": "EUR"},
            }),
        )
        .await;
    let other = w.publisher("Valley Courier").await;
    let open = w
        .licence(
            &other,
            &quota.reader,
            json!({
                "include_media": false, "price_per_unit": {"amount_minor": 100, "currency": "EUR"},
            }),
        )
        .await;
    let mut articles = Vec::new();
    for n in 0..6 {
        articles.push(story(&w, &quota.desk, n).await);
    }
    for n in 6..8 {
        articles.push(story(&w, &other, n).await);
    }
    let script: [(usize, &str); 14] = [
        (0, "json"),
        (1, "json"),
        (0, "json"),
        (2, "ninjs"),
        (3, "json"),
        (4, "json"),
        (5, "ninjs"),
        (1, "json"),
        (6, "json"),
        (7, "json"),
        (6, "ninjs"),
        (0, "ninjs"),
        (3, "json"),
        (4, "json"),
    ];
    let mut statuses = Vec::new();
    for (n, format) in script {
        let path = format!("/v1/content/{}?format={format}", articles[n]);
        statuses.push(
            w.app
                .get_as(&quota.reader.token, &path)
                .await
                .status()
                .as_u16(),
        );
    }
    let quota_used = json_of_quota(&w, &quota.reader).await;
    w.app.settled().await;

    let licences = [quota.licence.clone(), open];
    let place = |id: &str, of: &[String]| of.iter().position(|x| x == id).unwrap();
    let mut conn = w.app.db.connect();
    let mut events: Vec<_> = load::<EventRow>(
        &mut conn,
        "SELECT licence_id, article_id, tier, format, billable, unit_price, currency FROM usage_events",
    )
    .into_iter()
    .map(|e| {
        (
            place(&e.licence_id, &licences),
            place(&e.article_id, &articles),
            e.tier,
            e.format,
            e.billable,
            e.unit_price,
            e.currency,
        )
    })
    .collect();
    events.sort();
    let mut counters: Vec<_> = load::<Sums>(
        &mut conn,
        "SELECT licence_id AS key, used AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM quota_usage",
    )
    .into_iter()
    .map(|s| (place(&s.key, &licences), s.a))
    .collect();
    counters.sort();
    let mut days: Vec<_> = load::<Sums>(
        &mut conn,
        "SELECT licence_id AS key, CAST(SUM(deliveries) AS BIGINT) AS a, \
                CAST(SUM(billable_units) AS BIGINT) AS b, CAST(SUM(amount_minor) AS BIGINT) AS c \
         FROM usage_daily GROUP BY licence_id",
    )
    .into_iter()
    .map(|s| (place(&s.key, &licences), s.a, s.b, s.c))
    .collect();
    days.sort();
    let keys = load::<Sums>(
        &mut conn,
        "SELECT 'keys' AS key, CAST(COUNT(*) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c \
         FROM billed_deliveries",
    )[0]
    .a;
    let (receipts, ledger) = crate::harness::receipts_and_ledger(&mut conn);
    assert_eq!(receipts, ledger);
    let mut receipts: Vec<_> = load::<Sums>(
        &mut conn,
        "SELECT article_id AS key, CAST(SUM(deliveries) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c \
         FROM article_receipts GROUP BY article_id",
    )
    .into_iter()
    .map(|s| (place(&s.key, &articles), s.a))
    .collect();
    receipts.sort();
    Outcome {
        statuses,
        events,
        counters,
        days,
        keys: usize::try_from(keys).unwrap(),
        quota_used,
        receipts,
    }
}

/// `used` of each licence in `/v1/quota`, in its order.
/// A delivery of `id` from the node at `node`, with a token it signed: its status.
async fn fetch_on(client: &reqwest::Client, node: &str, token: &str, id: &str) -> u16 {
    client
        .get(format!("{node}/v1/content/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn json_of_quota(w: &World, reader: &Party) -> Vec<Value> {
    let quota = crate::harness::json_of(w.app.get_as(&reader.token, "/v1/quota").await).await;
    let mut used: Vec<Value> = quota["licences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!([l["units"], l["used"]]))
        .collect();
    used.sort_by_key(ToString::to_string);
    used
}

fn leases(db: &TestDatabase) -> i64 {
    load::<Sums>(
        &mut db.connect(),
        "SELECT 'leases' AS key, CAST(COALESCE(SUM(units), 0) AS BIGINT) AS a, \
                CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM quota_leases",
    )[0]
    .a
}

crate::backend_tests! {
    async fn the_journal_and_the_synchronous_ledger_write_the_same_ledger(backend: Backend) {
        let synchronous = run(spawn_app_with(backend, |s| s.journal = None).await).await;
        let journaled = run(spawn_app_with(backend, |s| s.journal = Some(journal())).await).await;

        assert_eq!(
            synchronous.statuses,
            [200, 200, 200, 200, 200, 429, 429, 200, 200, 200, 200, 200, 200, 429]
        );
        assert_eq!(synchronous.keys, 6, "four under the quota, two without one");
        assert_eq!(synchronous.counters, [(0, 4)]);
        assert_eq!(synchronous.days, [(0, 8, 4, 1000), (1, 3, 2, 200)]);
        assert_eq!(synchronous.receipts.iter().map(|(_, n)| n).sum::<i64>(), 11);
        assert_eq!(journaled, synchronous);
    }

    async fn a_journal_node_leases_its_quota_and_gives_back_what_it_did_not_spend(backend: Backend) {
        let app = spawn_app_with(backend, |s| s.journal = Some(journal())).await;
        let w = World::on(app).await;
        let d = w
            .deal("Harbour Gazette", "Morning Brief", &["GB"], json!({
                "include_media": false, "quota": {"units": 100, "period": "day"},
            }))
            .await;
        let id = story(&w, &d.desk, 1).await;
        let before = chrono::Utc::now();

        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);
        let held = leases(&w.app.db);
        assert!(held > 1 && held < 100, "a lease of what is needed and some of the rest: {held}");

        // Idle for longer than a lease is kept: its unspent units go back.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while leases(&w.app.db) > 0 {
            assert!(std::time::Instant::now() < deadline, "the lease was not given back");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(w.ledger(&d.licence).await, (1, 1));
        let quota = crate::harness::json_of(w.app.get_as(&d.reader.token, "/v1/quota").await).await;
        assert_eq!(quota["licences"][0]["used"], 1);
        // The report says how fresh it is: never ahead of the read, and past
        // the delivery within a few seconds of its shipping.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let report = crate::harness::json_of(w.app.get_as(&d.reader.token, "/v1/usage").await).await;
            let as_of: chrono::DateTime<chrono::Utc> = report["as_of"].as_str().unwrap().parse().unwrap();
            assert!(as_of <= chrono::Utc::now(), "{report}");
            assert_eq!(report["totals"]["deliveries"], 1);
            if as_of > before {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the report stays before the delivery: {report}");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    async fn synchronous_nodes_on_one_database_deliver_under_many_licences_at_once(backend: Backend) {
        // Three nodes writing the SQL ledger before each answer, two
        // licensees each licensed by three publishers with a quota: every
        // batch locks several counters and day rows, and batches of
        // different nodes must take them in the same order, or the
        // database breaks their deadlocks by failing them (a 503 here).
        let first = spawn_app_with(backend, |s| s.journal = None).await;
        let url = first.db.url.clone();
        let w = World::on(first).await;
        let desks = [
            w.publisher("Harbour Gazette").await,
            w.publisher("Fell Courier").await,
            w.publisher("Estuary Times").await,
        ];
        let readers = [
            w.licensee("Morning Brief", &["GB"]).await,
            w.licensee("Night Desk", &["GB"]).await,
        ];
        let mut licences = Vec::new();
        for reader in &readers {
            for desk in &desks {
                let terms = json!({"include_media": false, "quota": {"units": 1000, "period": "day"}});
                licences.push(w.licence(desk, reader, terms).await);
            }
        }
        let mut articles = Vec::new();
        for n in 0..60 {
            articles.push(story(&w, &desks[n % 3], n).await);
        }
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let mut settings = test_settings(url.clone());
            settings.journal = None;
            nodes.push(start(settings, TestDatabase::unmanaged(url.clone())).await);
        }
        // Per node, a token of each licensee.
        let mut tokens = vec![vec![
            (w.app.address.clone(), readers[0].token.clone()),
            (w.app.address.clone(), readers[1].token.clone()),
        ]];
        for node in &nodes {
            let mut of_node = Vec::new();
            for reader in &readers {
                let client = node.create_client(Role::Licensee, Some(&reader.id));
                of_node.push((node.address.clone(), node.token_for(&client).await));
            }
            tokens.push(of_node);
        }

        // 24 clients, each over every article in its own order, moving from
        // node to node and licensee to licensee.
        let fetches = (0..24_usize).map(|c| {
            let client = &w.app.client;
            let articles = &articles;
            let tokens = &tokens;
            async move {
                let mut statuses = Vec::new();
                for i in 0..articles.len() {
                    let id = &articles[(i * 7 + c * 5) % articles.len()];
                    let licensee = (i / 3 + c) % 2;
                    let (node, token) = &tokens[(i + c) % 3][licensee];
                    statuses.push((licensee, id.clone(), fetch_on(client, node, token, id).await));
                }
                statuses
            }
        });
        let answered: Vec<(usize, String, u16)> =
            futures_util::future::join_all(fetches).await.into_iter().flatten().collect();
        let statuses: Vec<u16> = answered.iter().map(|(_, _, s)| *s).collect();
        let pairs: std::collections::HashSet<(usize, &String)> =
            answered.iter().map(|(l, id, _)| (*l, id)).collect();
        let refused: Vec<&u16> = statuses.iter().filter(|s| **s != 200).collect();
        assert!(refused.is_empty(), "{} of {} deliveries refused: {refused:?}", refused.len(), statuses.len());

        // Each licensee's first delivery of each article is billed once.
        let mut events = 0;
        let mut billed = 0;
        for licence in &licences {
            let (e, b) = w.ledger(licence).await;
            events += e;
            billed += b;
        }
        assert_eq!(events, i64::try_from(statuses.len()).unwrap());
        assert_eq!(billed, i64::try_from(pairs.len()).unwrap());
    }

    async fn three_journal_nodes_on_one_database_never_overshoot_a_quota(backend: Backend) {
        let first = spawn_app_with(backend, |s| s.journal = Some(journal())).await;
        let url = first.db.url.clone();
        let w = World::on(first).await;
        let d = w
            .deal("Harbour Gazette", "Morning Brief", &["GB"], json!({
                "include_media": false, "quota": {"units": 50, "period": "day"},
            }))
            .await;
        let mut articles = Vec::new();
        for n in 0..200 {
            articles.push(story(&w, &d.desk, n).await);
        }
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let mut settings = test_settings(url.clone());
            settings.journal = Some(journal());
            nodes.push(start(settings, TestDatabase::unmanaged(url.clone())).await);
        }
        // Each node signs its own tokens: a reader token from each.
        let mut readers = vec![(w.app.address.clone(), d.reader.token.clone())];
        for node in &nodes {
            let client = node.create_client(Role::Licensee, Some(&d.reader.id));
            readers.push((node.address.clone(), node.token_for(&client).await));
        }

        // 32 clients, each over its own slice of the articles, spread over
        // the three nodes.
        let fetches = (0..32).map(|c| {
            let client = &w.app.client;
            let articles = &articles;
            let readers = &readers;
            async move {
                let mut statuses = Vec::new();
                for (i, id) in articles.iter().enumerate().filter(|(i, _)| i % 32 == c) {
                    let (node, token) = &readers[(i + c) % 3];
                    statuses.push((id.clone(), fetch_on(client, node, token, id).await, (i + c) % 3));
                }
                statuses
            }
        });
        let answered: Vec<(String, u16, usize)> = futures_util::future::join_all(fetches).await.into_iter().flatten().collect();

        let delivered: Vec<(&String, usize)> = answered.iter().filter(|(_, s, _)| *s == 200).map(|(id, _, node)| (id, *node)).collect();
        let statuses: Vec<u16> = answered.iter().map(|(_, s, _)| *s).collect();
        assert_eq!(delivered.len(), 50, "{} answers: {} 200, {} 429", statuses.len(), delivered.len(), statuses.iter().filter(|s| **s == 429).count());
        assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
        // Re-fetches of billed articles succeed and are not billed: at once
        // on the node that billed them; on the others once it has shipped
        // them (until then another node does not know the key is billed,
        // and with the quota used up it answers 429).
        for (id, node) in delivered.iter().take(6) {
            let (address, token) = &readers[*node];
            assert_eq!(fetch_on(&w.app.client, address, token, id).await, 200);
        }
        w.app.settled().await;
        for node in &nodes {
            node.settled().await;
        }
        for (id, node) in delivered.iter().take(6) {
            let (address, token) = &readers[(*node + 1) % 3];
            assert_eq!(fetch_on(&w.app.client, address, token, id).await, 200);
        }
        for node in &nodes {
            node.settled().await;
        }
        assert_eq!(w.ledger(&d.licence).await, (62, 50));
        let used = load::<Sums>(&mut w.app.db.connect(), "SELECT licence_id AS key, used AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM quota_usage");
        assert_eq!(used[0].a, 50);
        let (receipts, ledger) = crate::harness::receipts_and_ledger(&mut w.app.db.connect());
        assert_eq!(receipts, ledger, "three nodes shipping at once");
    }
}

/// Journals left by an earlier run, shipped when the writer starts.
mod recovery {
    use std::path::Path;

    use chrono::NaiveDateTime;
    use syndicate::metering::journal::{Appender, Directory, frame};
    use syndicate::metering::{JournalSettings, UsageWriter};
    use syndicate::storage::shipping::{self, Entry};
    use syndicate::storage::{self, PoolSettings};

    use super::{Sums, load};
    use crate::harness::{Backend, TestDatabase};

    fn entry(n: usize, leased: bool) -> Entry {
        let at = NaiveDateTime::parse_from_str("2026-11-30 10:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        Entry {
            id: format!("event-{n}"),
            licensee_id: "licensee".to_owned(),
            licence_id: "licence".to_owned(),
            publisher_id: "publisher".to_owned(),
            article_id: format!("article-{}", n % 3),
            article_version: 1,
            tier: "full".to_owned(),
            format: "json".to_owned(),
            at: at + chrono::Duration::seconds(i64::try_from(n).unwrap()),
            period_start: NaiveDateTime::parse_from_str("2026-11-01 00:00:00", "%Y-%m-%d %H:%M:%S")
                .unwrap(),
            request_id: format!("request-{n}"),
            quota: Some(10),
            unit_price: Some(40),
            currency: Some("EUR".to_owned()),
            purpose: syndicate::domain::purpose::Purpose::Display,
            attribution: None,
            billable: n < 3,
            leased,
        }
    }

    fn record(entry: &Entry) -> Vec<u8> {
        let mut framed = Vec::new();
        frame(&serde_json::to_vec(entry).unwrap(), &mut framed);
        framed
    }

    /// Starts a writer in journal mode on `dir` (shipping what it holds),
    /// stops it, and returns its metrics.
    fn start_and_stop(db: &TestDatabase, dir: &Path) -> prometheus::Registry {
        let pool = storage::pool(
            &db.url,
            &PoolSettings {
                max_size: 4,
                connection_timeout: std::time::Duration::from_secs(5),
            },
        );
        let registry = prometheus::Registry::new();
        let errors = syndicate::telemetry::ErrorLog::new(
            &prometheus::Registry::new(),
            std::time::Duration::from_secs(10),
        )
        .unwrap();
        let settings = JournalSettings {
            dir: dir.to_owned(),
            max_bytes: 1 << 20,
            freshness: std::time::Duration::from_secs(1),
        };
        let health = syndicate::storage::health::Health::new(&db.url);
        let (_usage, writer) = UsageWriter::start(
            pool,
            &db.url,
            Some(&settings),
            std::sync::Arc::new(syndicate::delivery::FactCache::new(1 << 20)),
            &registry,
            errors,
            health,
        )
        .unwrap();
        writer.stop();
        registry
    }

    fn ledger(db: &TestDatabase) -> Vec<(String, i64)> {
        let mut rows: Vec<(String, i64)> = load::<Sums>(
            &mut db.connect(),
            "SELECT id AS key, CAST(CASE WHEN billable THEN 1 ELSE 0 END AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM usage_events",
        )
        .into_iter()
        .map(|s| (s.key, s.a))
        .collect();
        rows.sort();
        rows
    }

    fn used(db: &TestDatabase) -> i64 {
        load::<Sums>(&mut db.connect(), "SELECT licence_id AS key, used AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM quota_usage")
            .first()
            .map_or(0, |s| s.a)
    }

    fn migrated(backend: Backend) -> TestDatabase {
        let db = TestDatabase::create(backend);
        syndicate::storage::migrate::run_pending_on(&mut db.connect()).unwrap();
        db
    }

    /// A figure read from the database.
    #[derive(diesel::QueryableByName)]
    struct Figure {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    /// On PostgreSQL a node's own connection lives as long as the node, and
    /// the ledger grows under it. A generic plan made while `usage_events`
    /// was small (a scan of the whole table, for each lookup of the event
    /// ids a shipment already holds) would be kept for the connection's
    /// life, each shipment slower than the last until shipping stalls: its
    /// statements are planned for their values, every time.
    #[actix_web::test]
    #[cfg_attr(
        not(postgres_tests),
        ignore = "PostgreSQL not configured: set TEST_DATABASE_URL=postgres://…"
    )]
    async fn a_nodes_own_connection_plans_each_statement_for_its_values() {
        use diesel::RunQueryDsl;
        use syndicate::storage::{DbConnection, OwnConnection, StorageError};

        let db = migrated(Backend::Postgres);
        let pool = storage::pool(
            &db.url,
            &PoolSettings {
                max_size: 1,
                connection_timeout: std::time::Duration::from_secs(5),
            },
        );
        let mut own = OwnConnection::to(&db.url, &pool);
        // Shipments of a thousand entries while the table is small: after
        // five, PostgreSQL would otherwise settle on a generic plan.
        let entries: Vec<Entry> = (0..8000).map(|n| entry(n, false)).collect();
        for batch in entries.chunks(1000) {
            own.run(|conn| shipping::ship(conn, "node", batch)).unwrap();
        }

        let (generic, custom) = own
            .run(|conn| {
                let DbConnection::Postgresql(pg) = conn else {
                    unreachable!("a PostgreSQL test database")
                };
                let count = |column: &str, pg: &mut diesel::PgConnection| {
                    diesel::sql_query(format!(
                        "SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) AS n FROM pg_prepared_statements \
                         WHERE statement LIKE 'SELECT \"usage_events\".\"id\" FROM \"usage_events\" WHERE%'"
                    ))
                    .get_result::<Figure>(pg)
                    .map(|f| f.n)
                };
                Ok::<_, StorageError>((count("generic_plans", pg)?, count("custom_plans", pg)?))
            })
            .unwrap();
        assert_eq!(
            (generic, custom),
            (0, 8),
            "lookups of shipped events planned generically, and planned for their values"
        );
    }

    crate::backend_tests! {
        async fn a_torn_tail_is_dropped_and_a_corrupt_entry_skipped_the_rest_shipped(backend: Backend) {
            let db = migrated(backend);
            let dir = tempfile::tempdir().unwrap();
            {
                let _held = Directory::open(dir.path()).unwrap();
                let mut appender = Appender::start(dir.path()).unwrap();
                let mut bytes = Vec::new();
                for n in 0..2 {
                    bytes.extend(record(&entry(n, false)));
                }
                let mut corrupt = record(&entry(2, false));
                let middle = corrupt.len() / 2;
                corrupt[middle] ^= 0x55;
                bytes.extend(corrupt);
                bytes.extend(record(&entry(3, false)));
                let torn = record(&entry(4, false));
                bytes.extend(&torn[..torn.len() - 5]);
                appender.append(&bytes).unwrap();
            }

            let registry = start_and_stop(&db, dir.path());

            let shipped: Vec<String> = ledger(&db).into_iter().map(|(id, _)| id).collect();
            assert_eq!(shipped, ["event-0", "event-1", "event-3"]);
            let corrupt = registry
                .gather()
                .into_iter()
                .find(|f| f.name() == "syndicate_journal_corrupt_bytes_total")
                .unwrap();
            assert!(corrupt.get_metric()[0].get_counter().get_value() > 0.0);
            assert_eq!(syndicate::metering::journal::segments(dir.path()).unwrap().len(), 1, "the shipped segments are deleted; a new one is started");
        }

        async fn entries_shipped_before_a_crash_are_not_shipped_again(backend: Backend) {
            let db = migrated(backend);
            let dir = tempfile::tempdir().unwrap();
            let entries: Vec<Entry> = (0..6).map(|n| entry(n, n < 3)).collect();
            let node = {
                let held = Directory::open(dir.path()).unwrap();
                let mut appender = Appender::start(dir.path()).unwrap();
                appender.append(&entries.iter().flat_map(record).collect::<Vec<u8>>()).unwrap();
                held.node_id().unwrap()
            };
            // The node had leased three units and shipped the first four
            // entries, then died before it noted so in its journal.
            let mut conn = db.connect();
            shipping::take_lease(&mut conn, &node, "licence", entries[0].period_start, 10, 3).unwrap();
            shipping::ship(&mut conn, &node, &entries[..4]).unwrap();
            let before = ledger(&db);

            start_and_stop(&db, dir.path());

            let after = ledger(&db);
            assert_eq!(after.len(), 6, "{after:?}");
            assert_eq!(after.iter().map(|(_, b)| b).sum::<i64>(), 3, "three articles, each billed once");
            assert!(before.iter().all(|row| after.contains(row)), "what was shipped stands");
            assert_eq!(used(&db), 3);
            let (receipts, ledger) = crate::harness::receipts_and_ledger(&mut db.connect());
            assert_eq!(receipts.len(), 3, "three stories to one licensee on one day");
            assert_eq!(receipts, ledger, "nothing received twice");
            let leased = load::<Sums>(&mut db.connect(), "SELECT 'l' AS key, CAST(COALESCE(SUM(units), 0) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, CAST(0 AS BIGINT) AS c FROM quota_leases");
            assert_eq!(leased[0].a, 0, "the node's leases are given back once its journal is shipped");
        }

        async fn a_takedown_at_an_instant_counts_each_receivers_deliveries_before_it(backend: Backend) {
            use syndicate::storage::receipts;
            let db = migrated(backend);
            let at = |t: &str| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").unwrap();
            let delivery = |n: usize, licensee: &str, t: &str| Entry {
                id: format!("delivery-{n}"),
                request_id: format!("request-{n}"),
                licensee_id: licensee.to_owned(),
                article_id: "article-0".to_owned(),
                at: at(t),
                ..entry(0, false)
            };
            // The day before, twice that morning, and after the instant on
            // the same day; another licensee only after it.
            let deliveries = [
                delivery(0, "licensee", "2026-11-29 23:00:00"),
                delivery(1, "licensee", "2026-11-30 10:00:00"),
                delivery(2, "licensee", "2026-11-30 10:00:05"),
                delivery(3, "licensee", "2026-11-30 10:00:20"),
                delivery(4, "late-reader", "2026-11-30 10:00:30"),
            ];
            let mut conn = db.connect();
            shipping::ship(&mut conn, "node-a", &deliveries[..2]).unwrap();
            shipping::ship(&mut conn, "node-b", &deliveries[2..]).unwrap();

            let before = receipts::receivers(&mut conn, "article-0", Some(at("2026-11-30 10:00:10"))).unwrap();
            let counted: Vec<_> = before.iter().map(|r| (r.licensee_id.as_str(), r.deliveries, r.last_delivered_at)).collect();
            assert_eq!(counted, [("licensee", 3, at("2026-11-30 10:00:05"))]);
            assert_eq!(before[0].takedown_hours, 24, "a licence not on record: the default");
            let all = receipts::receivers(&mut conn, "article-0", None).unwrap();
            let counted: Vec<_> = all.iter().map(|r| (r.licensee_id.as_str(), r.deliveries, r.last_delivered_at)).collect();
            assert_eq!(counted, [("late-reader", 1, at("2026-11-30 10:00:30")), ("licensee", 4, at("2026-11-30 10:00:20"))]);
            assert_eq!(
                receipts::deliveries_to(&mut conn, "article-0", "licensee", None).unwrap(),
                (4, Some(at("2026-11-30 10:00:20")))
            );
            assert_eq!(
                receipts::deliveries_to(&mut conn, "article-0", "licensee", Some(at("2026-11-30 10:00:10"))).unwrap(),
                (3, Some(at("2026-11-30 10:00:05"))),
                "bounded as the takedown's receivers are"
            );
            let (receipts, ledger) = crate::harness::receipts_and_ledger(&mut conn);
            assert_eq!(receipts, ledger);
        }

        async fn a_key_billed_on_two_nodes_bills_once_and_the_second_unit_goes_back(backend: Backend) {
            let db = migrated(backend);
            let first = Entry { id: "on-a".to_owned(), leased: true, billable: true, ..entry(0, true) };
            let second = Entry { id: "on-b".to_owned(), request_id: "request-b".to_owned(), leased: true, billable: true, ..entry(0, true) };
            let mut conn = db.connect();
            shipping::take_lease(&mut conn, "node-a", "licence", first.period_start, 10, 1).unwrap();
            shipping::take_lease(&mut conn, "node-b", "licence", first.period_start, 10, 1).unwrap();

            let a = shipping::ship(&mut conn, "node-a", std::slice::from_ref(&first)).unwrap();
            let b = shipping::ship(&mut conn, "node-b", std::slice::from_ref(&second)).unwrap();

            let counter = (first.licence_id.clone(), first.period_start);
            assert_eq!((a.counters[&counter].billed, a.counters[&counter].spent), (1, 1));
            assert_eq!((b.counters[&counter].billed, b.counters[&counter].spent), (0, 1), "the ledger's key wins");
            assert_eq!(ledger(&db), [("on-a".to_owned(), 1), ("on-b".to_owned(), 0)]);
            assert_eq!(used(&db), 1);
            let free = shipping::take_lease(&mut conn, "node-c", "licence", first.period_start, 10, 10).unwrap();
            // Quota 10 less 1 billed less node-a's spare unit: node-b's unit
            // is free again.
            assert_eq!(free.granted, 8);
        }

        async fn the_leases_of_a_node_lost_with_its_disk_are_given_back_by_an_operator(backend: Backend) {
            let db = migrated(backend);
            let period = entry(0, false).period_start;
            let mut conn = db.connect();
            shipping::take_lease(&mut conn, "lost", "licence", period, 10, 4).unwrap();
            shipping::take_lease(&mut conn, "alive", "licence", period, 10, 1).unwrap();
            let alive = shipping::take_lease(&mut conn, "alive", "licence", period, 10, 10).unwrap();
            assert_eq!(alive.free, 0, "{alive:?}");

            let released = syndicate::metering::journaled::release_lost_node(&mut conn, "lost").unwrap();

            assert_eq!(released, 1);
            let again = shipping::take_lease(&mut conn, "alive", "licence", period, 10, 10).unwrap();
            assert_eq!(again.granted, 4, "the lost node's units are free again: {again:?}");
        }
    }
}

/// A TCP proxy to the test database that can be cut (every connection
/// dropped, new ones refused) and restored: a database that stops
/// answering, for one node only.
mod outage {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::json;
    use syndicate::storage::DatabaseUrl;

    use super::{journal, story};
    use crate::harness::{Backend, TestDatabase, start, test_settings};
    use crate::world::World;

    struct Proxy {
        port: u16,
        cut: Arc<AtomicBool>,
        open: Arc<Mutex<Vec<TcpStream>>>,
    }

    impl Proxy {
        fn to(target: String) -> Proxy {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let cut = Arc::new(AtomicBool::new(false));
            let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
            let (cut_, open_) = (cut.clone(), open.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if cut_.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(&target) else {
                        continue;
                    };
                    open_
                        .lock()
                        .unwrap()
                        .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                    pipe(server, client);
                }
            });
            Proxy { port, cut, open }
        }

        fn cut(&self) {
            self.cut.store(true, Ordering::SeqCst);
            for stream in self.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }

        fn restore(&self) {
            self.cut.store(false, Ordering::SeqCst);
        }
    }

    fn pipe(mut from: TcpStream, mut to: TcpStream) {
        std::thread::spawn(move || {
            let mut buffer = [0; 16 * 1024];
            while let Ok(n) = from.read(&mut buffer) {
                if n == 0 || to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }

    #[actix_web::test]
    #[cfg_attr(
        not(postgres_tests),
        ignore = "PostgreSQL not configured: set TEST_DATABASE_URL=postgres://…"
    )]
    async fn while_the_database_is_away_a_journal_node_answers_within_the_bound_and_recovers_by_itself()
     {
        let db = TestDatabase::create(Backend::Postgres);
        let DatabaseUrl::Postgres(direct) = &db.url else {
            panic!()
        };
        let mut through = url::Url::parse(direct).unwrap();
        let target = format!(
            "{}:{}",
            through.host_str().unwrap(),
            through.port().unwrap_or(5432)
        );
        let proxy = Proxy::to(target);
        through.set_port(Some(proxy.port)).unwrap();
        let url = DatabaseUrl::parse(through.as_str()).unwrap();
        let mut settings = test_settings(url.clone());
        settings.journal = Some(journal());
        settings.pool.connection_timeout = Duration::from_secs(1);
        let w = World::on(start(settings, TestDatabase::unmanaged(url)).await).await;
        let d = w
            .deal(
                "Harbour Gazette",
                "Morning Brief",
                &["GB"],
                json!({"include_media": false}),
            )
            .await;
        let id = story(&w, &d.desk, 1).await;
        assert_eq!(w.fetch(&d.reader.token, &id).await.status(), 200);

        proxy.cut();
        let cut_at = Instant::now();
        let mut answers = Vec::new();
        while cut_at.elapsed() < Duration::from_millis(2500) {
            let asked = Instant::now();
            let status = w.fetch(&d.reader.token, &id).await.status().as_u16();
            answers.push((asked - cut_at, status, asked.elapsed()));
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }

        let slow: Vec<_> = answers
            .iter()
            .filter(|(_, _, took)| *took > Duration::from_secs(1))
            .collect();
        assert!(slow.is_empty(), "answers slower than a second: {slow:?}");
        assert!(
            answers.iter().all(|(_, s, _)| *s == 200 || *s == 503),
            "{answers:?}"
        );
        assert!(
            answers.iter().any(|(_, s, _)| *s == 200),
            "cached deliveries go on for the bound: {answers:?}"
        );
        let late: Vec<_> = answers
            .iter()
            .filter(|(at, s, _)| *at > Duration::from_millis(1200) && *s == 200)
            .collect();
        assert!(late.is_empty(), "200s past the freshness bound: {late:?}");
        assert!(
            answers
                .iter()
                .any(|(at, s, _)| *at > Duration::from_millis(1200) && *s == 503)
        );

        proxy.restore();
        let back = Instant::now();
        loop {
            if w.fetch(&d.reader.token, &id).await.status() == 200 {
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(15),
                "the node did not recover by itself"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let delivered = 2 + answers.iter().filter(|(_, s, _)| *s == 200).count();
        let ledger = w.ledger(&d.licence).await;
        assert_eq!(
            ledger,
            (i64::try_from(delivered).unwrap(), 1),
            "every answered delivery shipped once the database is back"
        );
        drop(db);
    }
}
