//! The delivery capability called directly, without a server: the metered
//! delivery with its ledger, the access decisions it makes on facts kept in
//! memory, search and the feed, on a migrated database whose parties were
//! made through the licensing, identity and content capabilities.

use chrono::{Duration, Utc};
use serde_json::json;
use syndicate::content::ingest::{CreateArticleRequest, Created, create_article};
use syndicate::content::lifecycle::{Reason, kill, withhold};
use syndicate::delivery::feed::{self, FeedRequest};
use syndicate::delivery::search::{self, Search};
use syndicate::delivery::{self, DeliveryError, DeliveryRequest, Desk, FactCache, Format};
use syndicate::domain::access::Tier;
use syndicate::domain::{ArticleId, LicenseeId, Role};
use syndicate::identity::clients::{self, CreateClientRequest};
use syndicate::identity::{Caller, Organisation};
use syndicate::licensing::licences::{self, CreateLicenceRequest};
use syndicate::licensing::licensees::{self, CreateLicenseeRequest};
use syndicate::licensing::publishers::{self, CreatePublisherRequest};
use syndicate::metering::{RateLimits, UsageWriter};
use syndicate::storage::page::PageRequest;
use syndicate::storage::{self, DbConnection, Pool, PoolSettings, changes, migrate, now};

use crate::harness::{Backend, TestDatabase, count_events};

/// A node's delivery side on a fresh database: one publisher's desk, one
/// licensee with a client and a full licence to the publisher's content.
struct Node {
    db: TestDatabase,
    pool: Pool,
    facts: std::sync::Arc<FactCache>,
    usage: UsageWriter,
    writer: Option<syndicate::metering::writer::WriterThread>,
    rate_limits: RateLimits,
    desk: Caller,
    licensee: LicenseeId,
    client: String,
    licence: String,
}

impl Node {
    fn new(backend: Backend) -> Self {
        let db = TestDatabase::create(backend);
        let mut conn = db.connect();
        migrate::run_pending_on(&mut conn).unwrap();
        let publisher = publishers::create(
            &mut conn,
            &CreatePublisherRequest {
                name: "Estuary Herald".to_owned(),
                slug: None,
            },
        )
        .unwrap();
        let licensee = licensees::create(
            &mut conn,
            &CreateLicenseeRequest {
                name: "Morning Digest".to_owned(),
                territories: vec!["GB".to_owned()],
                status: None,
            },
        )
        .unwrap();
        let client = clients::create(
            &mut conn,
            &CreateClientRequest {
                name: "Digest ingest".to_owned(),
                role: Role::Licensee,
                organisation_id: Some(licensee.id.0),
                purposes: None,
            },
        )
        .unwrap();
        let licence = licences::create(
            &mut conn,
            &CreateLicenceRequest {
                licensee_id: licensee.id.0,
                publisher_id: publisher.id.0,
                sections: None,
                tier: Tier::Full,
                include_media: true,
                valid_from: Utc::now() - Duration::days(1),
                valid_until: None,
                quota: None,
                rate_limit_per_minute: None,
                price_per_unit: None,
                purposes: None,
                attribution_required: None,
                takedown_hours: None,
            },
        )
        .unwrap();
        let pool = storage::pool(
            &db.url,
            &PoolSettings {
                max_size: 4,
                connection_timeout: std::time::Duration::from_secs(5),
            },
        );
        let errors = syndicate::telemetry::ErrorLog::new(
            &prometheus::Registry::new(),
            std::time::Duration::from_secs(10),
        )
        .unwrap();
        let health = syndicate::storage::health::Health::new(&db.url);
        let facts = std::sync::Arc::new(FactCache::new(16 << 20));
        let (usage, writer) = UsageWriter::start(
            pool.clone(),
            &db.url,
            None,
            facts.clone(),
            &prometheus::Registry::new(),
            errors,
            health,
        )
        .unwrap();
        Node {
            db,
            pool,
            facts,
            usage,
            writer: Some(writer),
            rate_limits: RateLimits::default(),
            desk: Caller {
                client_id: syndicate::domain::ClientId::generate(),
                role: Role::Publisher,
                organisation: Some(Organisation::Publisher(publisher.id)),
                purposes: Vec::new(),
            },
            licensee: licensee.id,
            client: client.client.client_id.to_string(),
            licence: licence.id.to_string(),
        }
    }

    fn conn(&self) -> DbConnection {
        self.db.connect()
    }

    /// A published story in `section`.
    fn story(&self, headline: &str) -> ArticleId {
        let request: CreateArticleRequest = serde_json::from_value(json!({
            "external_ref": headline,
            "headline": headline,
            "body_html": "<p>The ferry left the quay at dawn with forty passengers.</p>",
            "section": "transport",
            "language": "en-GB",
            "bylines": [],
            "status": "published",
        }))
        .unwrap();
        match create_article(&mut self.conn(), &self.desk, &request).unwrap() {
            Created::New(row) | Created::Existing(row) => row.id.parse().unwrap(),
        }
    }

    async fn deliver(&self, article: ArticleId) -> Result<delivery::Delivered, DeliveryError> {
        let desk = Desk {
            pool: &self.pool,
            facts: &self.facts,
            usage: &self.usage,
            rate_limits: &self.rate_limits,
        };
        let request = DeliveryRequest {
            client: self.client.clone(),
            licensee: self.licensee,
            article,
            format: Format::Json,
            purpose: syndicate::domain::purpose::Purpose::Display,
            request_id: "request-1".to_owned(),
        };
        delivery::deliver(desk, &request).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.stop();
        }
    }
}

crate::backend_tests! {
    async fn a_delivery_is_decided_recorded_and_written(backend: Backend) {
        let node = Node::new(backend);
        let article = node.story("Ferry timetable returns to normal");

        let delivered = node.deliver(article).await.unwrap();

        let body: serde_json::Value = serde_json::from_slice(&delivered.body).unwrap();
        assert_eq!(body["headline"], "Ferry timetable returns to normal");
        assert_eq!(body["tier"], "full");
        assert_eq!(body["licence_id"], node.licence.as_str());
        assert!(delivered.etag.starts_with('"'));
        assert_eq!(count_events(&mut node.conn(), &node.licence), (1, 1));

        // A second delivery of the same article is recorded and not billed.
        node.deliver(article).await.unwrap();
        assert_eq!(count_events(&mut node.conn(), &node.licence), (2, 1));
    }

    async fn changes_made_after_facts_were_kept_take_effect_on_the_next_delivery(backend: Backend) {
        let node = Node::new(backend);
        let article = node.story("Harbour dredging begins");
        node.deliver(article).await.unwrap();

        // Withheld behind the cache's back: the refusal is decided on
        // fresh facts, and nothing is recorded.
        withhold(&mut node.conn(), &node.desk, article, None, Reason::parse("Legal review.").unwrap())
            .unwrap();
        let refused = node.deliver(article).await.unwrap_err();
        assert!(matches!(refused, DeliveryError::NotFound), "{refused:?}");

        // Killed: the licensee had it, so it is told (410 with the notice).
        kill(&mut node.conn(), &node.desk, article, None, Reason::parse("Wrong figures.").unwrap())
            .unwrap();
        match node.deliver(article).await.unwrap_err() {
            DeliveryError::Killed { reason, .. } => assert_eq!(reason.as_deref(), Some("Wrong figures.")),
            other => panic!("expected a kill notice, got {other:?}"),
        }
        assert_eq!(count_events(&mut node.conn(), &node.licence), (1, 1));
    }

    async fn writes_to_other_articles_leave_the_cached_facts_and_decide_nothing_again(backend: Backend) {
        let node = Node::new(backend);
        let article = node.story("Pier repairs finish early");
        let sibling = node.story("Pier cafe reopens");
        node.deliver(article).await.unwrap();
        node.deliver(sibling).await.unwrap();

        for n in 0..3 {
            node.story(&format!("Tide report {n}"));
        }
        withhold(&mut node.conn(), &node.desk, sibling, None, Reason::parse("Checking.").unwrap())
            .unwrap();
        node.facts.poll(&mut node.conn()).unwrap();

        assert_eq!(node.facts.articles_cached(), 1, "only the withheld article is dropped");
        node.deliver(article).await.unwrap();
        assert_eq!(node.facts.redecisions(), 0);
        assert!(node.facts.confirmed_at().is_some());
    }

    async fn a_node_whose_facts_are_older_than_the_kept_log_drops_them_all(backend: Backend) {
        let node = Node::new(backend);
        let article = node.story("Ferry strike called off");
        node.deliver(article).await.unwrap();
        let seen = node.facts.seen();
        node.story("Harbour fees rise");
        node.story("Lock gates repaired");

        // Pruned past what the node has seen: it cannot tell what changed.
        let far = now() + chrono::Duration::days(1);
        changes::prune(&mut node.conn(), far, 0).unwrap();
        assert!(changes::oldest(&mut node.conn()).unwrap().is_none_or(|oldest| oldest > seen + 1));
        node.facts.poll(&mut node.conn()).unwrap();

        assert_eq!(node.facts.articles_cached(), 0);
        assert_eq!(node.facts.seen(), changes::read(&mut node.conn()).unwrap());
        node.deliver(article).await.unwrap();
        assert_eq!(count_events(&mut node.conn(), &node.licence), (2, 1));
    }

    async fn an_unknown_article_and_a_revoked_client_are_refused(backend: Backend) {
        let node = Node::new(backend);

        let unknown = node.deliver(ArticleId(uuid::Uuid::now_v7())).await.unwrap_err();
        assert!(matches!(unknown, DeliveryError::NotFound), "{unknown:?}");

        let client = node.client.parse().unwrap();
        clients::revoke(&mut node.conn(), client).unwrap();
        let article = node.story("Lighthouse keeper retires");
        let revoked = node.deliver(article).await.unwrap_err();
        assert!(matches!(revoked, DeliveryError::Identity(_)), "{revoked:?}");
        assert_eq!(count_events(&mut node.conn(), &node.licence), (0, 0));
    }

    async fn search_and_the_feed_answer_from_the_same_decision(backend: Backend) {
        let node = Node::new(backend);
        let kept = node.story("New footbridge opens over the estuary");
        let withheld = node.story("Council vote on ferry fares delayed");
        withhold(&mut node.conn(), &node.desk, withheld, None, Reason::parse("Embargo breach.").unwrap())
            .unwrap();

        let page = PageRequest::parse(None, None, &search::scope(node.licensee)).unwrap();
        let found = search::search(&mut node.conn(), node.licensee, &Search::default(), &page, now())
            .unwrap();
        let ids: Vec<_> = found.items.iter().map(|item| item.id).collect();
        assert_eq!(ids, vec![kept.0]);

        let request = FeedRequest { cursor: None, limit: 100, wait: 0 };
        let events = feed::feed(&node.pool, node.licensee, &request).await.unwrap().events;
        let heard: Vec<_> = events.iter().map(|e| (e.article_id.unwrap(), e.kind.as_str())).collect();
        assert!(heard.contains(&(kept.0, "published")), "{heard:?}");
        assert!(heard.contains(&(withheld.0, "withheld")), "{heard:?}");

        let stale = FeedRequest { cursor: Some("not-a-cursor".to_owned()), limit: 100, wait: 0 };
        let refused = feed::feed(&node.pool, node.licensee, &stale).await.unwrap_err();
        assert!(matches!(refused, DeliveryError::UnknownCursor), "{refused:?}");
    }
}
