//! The content workflows called directly, as the demo and the seed call
//! them: no server, no HTTP, only a migrated database and a caller.

use serde_json::{Value, json};
use syndicate::content::ContentError;
use syndicate::content::ingest::{CreateArticleRequest, Created, create_article};
use syndicate::content::lifecycle::{Reason, kill, publish, withhold};
use syndicate::content::versions::Precondition;
use syndicate::content::versions::list_versions;
use syndicate::domain::{ArticleId, ClientId, FieldError, PublisherId, Role};
use syndicate::identity::{Caller, Organisation};
use syndicate::storage::articles::{ArticleRow, events_of};
use syndicate::storage::organisations::{NewPublisherRow, insert_publisher};
use syndicate::storage::{DbConnection, migrate, now};

use crate::harness::{Backend, TestDatabase};

/// A migrated database with one publisher, and a desk client of it.
struct Desk {
    _db: TestDatabase,
    conn: DbConnection,
    caller: Caller,
}

fn desk(backend: Backend) -> Desk {
    let db = TestDatabase::create(backend);
    let mut conn = db.connect();
    migrate::run_pending_on(&mut conn).unwrap();
    let publisher = PublisherId::generate();
    let at = now();
    insert_publisher(
        &mut conn,
        &NewPublisherRow {
            id: &publisher.to_string(),
            name: "Harbour Gazette",
            slug: "harbour-gazette",
            created_at: at,
            updated_at: at,
        },
    )
    .unwrap();
    let caller = Caller {
        client_id: ClientId::generate(),
        role: Role::Publisher,
        organisation: Some(Organisation::Publisher(publisher)),
        purposes: Vec::new(),
    };
    Desk {
        _db: db,
        conn,
        caller,
    }
}

/// Another publisher's desk on the same database.
fn rival(desk: &mut Desk) -> Caller {
    let publisher = PublisherId::generate();
    let at = now();
    insert_publisher(
        &mut desk.conn,
        &NewPublisherRow {
            id: &publisher.to_string(),
            name: "Valley Courier",
            slug: "valley-courier",
            created_at: at,
            updated_at: at,
        },
    )
    .unwrap();
    Caller {
        client_id: ClientId::generate(),
        role: Role::Publisher,
        organisation: Some(Organisation::Publisher(publisher)),
        purposes: Vec::new(),
    }
}

fn story(external_ref: &str) -> Value {
    json!({
        "external_ref": external_ref,
        "headline": "Flood barrier holds as storm surge hits the estuary",
        "body_html": "<p>The tidal gates closed at 04:10.</p><script>steal()</script>",
        "section": "environment",
        "language": "en-GB",
        "bylines": [{"name": "Amara Okafor"}]
    })
}

fn request(body: Value) -> CreateArticleRequest {
    serde_json::from_value(body).unwrap()
}

fn create(desk: &mut Desk, body: Value) -> Result<Created, ContentError> {
    create_article(&mut desk.conn, &desk.caller, &request(body))
}

fn created_draft(desk: &mut Desk, external_ref: &str) -> (ArticleId, ArticleRow) {
    let Created::New(row) = create(desk, story(external_ref)).unwrap() else {
        panic!("a first create made no new article");
    };
    (row.id.parse().unwrap(), row)
}

fn event_kinds(desk: &mut Desk, id: ArticleId) -> Vec<String> {
    events_of(&mut desk.conn, &id.to_string())
        .unwrap()
        .into_iter()
        .map(|event| event.kind)
        .collect()
}

fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

crate::backend_tests! {
    async fn ingest_stores_a_sanitised_draft_as_version_one_with_its_event(backend: Backend) {
        let mut desk = desk(backend);

        let (id, row) = created_draft(&mut desk, "hg-1");

        assert_eq!((row.version, row.status.as_str()), (1, "draft"));
        assert_eq!(row.body_html, "<p>The tidal gates closed at 04:10.</p>");
        assert_eq!(row.first_published_at, None);
        assert_eq!(event_kinds(&mut desk, id), ["created"]);
        let versions = list_versions(&mut desk.conn, &desk.caller, id, 0, 10).unwrap();
        assert_eq!(versions.items.len(), 1);
        assert_eq!(versions.items[0].change_kind, "create");
        assert_eq!(versions.more_after, None);
    }

    async fn ingest_returns_the_stored_article_for_the_same_content_and_refuses_other_content(backend: Backend) {
        let mut desk = desk(backend);
        let (id, first) = created_draft(&mut desk, "hg-2");

        let again = create(&mut desk, story("hg-2")).unwrap();
        let mut changed = story("hg-2");
        changed["headline"] = json!("Flood barrier fails");
        let other = create(&mut desk, changed);

        assert!(matches!(again, Created::Existing(row) if row == first));
        assert!(matches!(other, Err(ContentError::ExternalRefTaken { existing_id }) if existing_id == id));
        assert_eq!(event_kinds(&mut desk, id), ["created"]);
    }

    async fn ingest_names_invalid_fields_before_unknown_references(backend: Backend) {
        let mut desk = desk(backend);
        let mut unknown_photo = story("hg-3");
        unknown_photo["media"] = json!([{"media_id": "019ac0a6-1111-7222-8333-444455556666", "role": "main"}]);
        let mut also_invalid = unknown_photo.clone();
        also_invalid["headline"] = json!("   ");

        let unknown = create(&mut desk, unknown_photo);
        let invalid = create(&mut desk, also_invalid);

        assert!(matches!(unknown, Err(ContentError::UnknownReference(fields))
            if fields == [FieldError::new("media.0.media_id", "no photo of this publisher has this id")]));
        assert!(matches!(invalid, Err(ContentError::Invalid(fields))
            if fields.len() == 1 && fields[0].field == "headline"));
    }

    async fn the_lifecycle_publishes_withholds_republishes_and_kills_for_good(backend: Backend) {
        let mut desk = desk(backend);
        let (id, _) = created_draft(&mut desk, "hg-4");
        let conn = &mut desk.conn;
        let caller = &desk.caller;

        let published = publish(conn, caller, id, None).unwrap();
        let republish = publish(conn, caller, id, None);
        let withheld = withhold(conn, caller, id, Some(Precondition::Version(2)), reason("Legal: a court order")).unwrap();
        let stale = publish(conn, caller, id, Some(Precondition::Version(2)));
        let again = publish(conn, caller, id, Some(Precondition::Version(3))).unwrap();
        let killed = kill(conn, caller, id, Some(Precondition::Any), reason("Legal: remove it")).unwrap();
        let after_kill = publish(conn, caller, id, None);

        assert_eq!((published.version, published.status.as_str()), (2, "published"));
        assert!(published.first_published_at.is_some());
        assert!(matches!(republish, Err(ContentError::Conflict(detail)) if detail == "the article is already published"));
        assert_eq!((withheld.version, withheld.status.as_str()), (3, "withheld"));
        assert_eq!(withheld.status_reason.as_deref(), Some("Legal: a court order"));
        assert!(matches!(stale, Err(ContentError::PreconditionFailed(detail))
            if detail == "If-Match names another version; the current version is 3"));
        assert_eq!((again.version, again.status.as_str(), again.status_reason), (4, "published", None));
        assert_eq!(again.first_published_at, published.first_published_at, "republishing keeps the first publication");
        assert_eq!((killed.version, killed.status.as_str()), (5, "killed"));
        assert!(killed.killed_at.is_some());
        assert!(matches!(after_kill, Err(ContentError::Conflict(detail)) if detail == "the article was killed; it cannot change"));
        assert_eq!(event_kinds(&mut desk, id), ["created", "published", "withheld", "published", "killed"]);
    }

    async fn only_a_published_article_can_be_withheld(backend: Backend) {
        let mut desk = desk(backend);
        let (id, _) = created_draft(&mut desk, "hg-5");

        let refused = withhold(&mut desk.conn, &desk.caller, id, None, reason("Not yet"));

        assert!(matches!(refused, Err(ContentError::Conflict(detail))
            if detail == "a draft article cannot be withheld; only a published one"));
        assert_eq!(event_kinds(&mut desk, id), ["created"]);
    }

    async fn another_publishers_article_does_not_exist_for_the_caller(backend: Backend) {
        let mut desk = desk(backend);
        let (id, _) = created_draft(&mut desk, "hg-6");
        let rival = rival(&mut desk);

        let published = publish(&mut desk.conn, &rival, id, None);
        let killed = kill(&mut desk.conn, &rival, id, None, reason("Spite"));

        for refused in [published, killed] {
            assert!(matches!(refused, Err(ContentError::NotFound(detail)) if detail == "no such article"));
        }
        assert_eq!(event_kinds(&mut desk, id), ["created"]);
    }
}
