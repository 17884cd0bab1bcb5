//! Both migration trees hold the same migrations, and every `down.sql`
//! undoes its `up.sql` exactly.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use syndicate::storage::{DbConnection, migrate};

use crate::harness::TestDatabase;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every table, column, index and constraint, one line each, sorted.
fn schema_of(connection: &mut DbConnection) -> Vec<String> {
    let query = match connection {
        DbConnection::Sqlite(_) => {
            "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '__diesel%' ORDER BY line"
        }
        DbConnection::Postgresql(_) => {
            "SELECT line FROM ( \
               SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
                      || ' ' || COALESCE(column_default, '') AS line \
               FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '__diesel%' \
               UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '__diesel%' \
               UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '__diesel%' \
             ) lines ORDER BY line"
        }
    };
    diesel::sql_query(query)
        .load::<Line>(connection)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[test]
fn both_trees_hold_the_same_migrations() {
    let sqlite = migrate::names(&migrate::SQLITE).unwrap();
    let postgres = migrate::names(&migrate::POSTGRES).unwrap();

    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

crate::backend_tests! {
    async fn up_down_up_leaves_the_same_schema(backend: Backend) {
        let db = TestDatabase::create(backend);
        let mut connection = db.connect();

        migrate::run_pending_on(&mut connection).unwrap();
        let first = schema_of(&mut connection);
        migrate::revert_all(&mut connection).unwrap();
        let empty = schema_of(&mut connection);
        migrate::run_pending_on(&mut connection).unwrap();
        let again = schema_of(&mut connection);

        assert!(!first.is_empty());
        assert_eq!(empty, Vec::<String>::new(), "down.sql left something behind");
        assert_eq!(first, again);
    }

    async fn migrating_twice_applies_nothing_the_second_time(backend: Backend) {
        let db = TestDatabase::create(backend);
        let mut connection = db.connect();

        let first = migrate::run_pending_on(&mut connection).unwrap();
        let second = migrate::run_pending_on(&mut connection).unwrap();

        assert!(!first.is_empty());
        assert!(second.is_empty());
    }

    async fn the_stories_receipts_are_counted_from_the_ledger_already_there(backend: Backend) {
        let db = TestDatabase::create(backend);
        let mut connection = db.connect();
        migrate::run_pending_on(&mut connection).unwrap();
        migrate::revert_last(&mut connection).unwrap();
        // Story A to one licensee on two days, under two licences on the
        // second (the later delivery's is the last); story B to two.
        let events = [
            ("e1", "reader", "licence-1", "story-a", "2026-11-29 08:00:00"),
            ("e2", "reader", "licence-1", "story-a", "2026-11-30 09:00:00"),
            ("e3", "reader", "licence-2", "story-a", "2026-11-30 17:30:00"),
            ("e4", "reader", "licence-1", "story-a", "2026-11-30 12:00:00"),
            ("e5", "reader", "licence-1", "story-b", "2026-11-30 10:00:00"),
            ("e6", "digest", "licence-3", "story-b", "2026-11-30 11:00:00"),
        ];
        for (id, licensee, licence, article, at) in events {
            diesel::sql_query(format!(
                "INSERT INTO usage_events (id, licensee_id, licence_id, publisher_id, article_id, \
                     article_version, tier, format, at, day, period_start, request_id, billable) \
                 VALUES ('{id}', '{licensee}', '{licence}', 'publisher', '{article}', 1, 'full', 'json', \
                     '{at}', '{}', '2026-11-01 00:00:00', 'request-{id}', FALSE)",
                &at[..10],
            ))
            .execute(&mut connection)
            .unwrap();
        }

        migrate::run_pending_on(&mut connection).unwrap();

        let (receipts, ledger) = crate::harness::receipts_and_ledger(&mut connection);
        assert_eq!(receipts.len(), 4, "{receipts:?}");
        assert_eq!(receipts, ledger);
        assert!(
            receipts.iter().any(|r| r.starts_with("story-a reader 2026-11-30 3 ") && r.ends_with(" licence-2")),
            "{receipts:?}"
        );
    }
}
