//! Who received each story, and how often, day by day (`article_receipts`):
//! written with the ledger's events in the same transaction, read when a
//! story is taken down (its receivers, their deliveries and the licence of
//! the last one) and when a notice is reconciled with the ledger.
//!
//! A row is one (story, licensee, UTC day). A takedown bounded by an instant
//! counts a day that straddles it from the ledger's events of that licensee
//! between the day's first delivery and the instant; every other day is
//! counted from its row.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::{article_receipts, licences, usage_events};
use super::usage::Delivery;
use super::{DbConnection, StorageError};

/// A licence's takedown hours when the licence is no longer on record.
const DEFAULT_TAKEDOWN_HOURS: i32 = 24;

/// Rows per upsert on SQLite (7 parameters each).
const ROWS_PER_UPSERT: usize = 1000;

/// One (story, licensee, day) of a batch, or of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Receipt<'a> {
    deliveries: i64,
    first_at: NaiveDateTime,
    last_at: NaiveDateTime,
    last_licence_id: Cow<'a, str>,
}

impl<'a> Receipt<'a> {
    fn of(d: &'a Delivery) -> Self {
        Self {
            deliveries: 1,
            first_at: d.at,
            last_at: d.at,
            last_licence_id: Cow::Borrowed(&d.licence_id),
        }
    }

    /// Both counted as one: the later delivery's licence is the last.
    fn add(&mut self, other: &Self) {
        self.deliveries += other.deliveries;
        self.first_at = self.first_at.min(other.first_at);
        if other.last_at >= self.last_at {
            self.last_at = other.last_at;
            self.last_licence_id = other.last_licence_id.clone();
        }
    }
}

/// Adds the deliveries of a batch the ledger has just taken to their
/// stories' receipts, one row per (story, licensee, day), in key order (two
/// nodes shipping at once lock the rows in one order).
pub(super) fn add<'a>(
    conn: &mut DbConnection,
    deliveries: impl Iterator<Item = &'a Delivery>,
) -> Result<(), StorageError> {
    let mut batch: Batch<'_> = BTreeMap::new();
    for d in deliveries {
        let receipt = Receipt::of(d);
        batch
            .entry((&d.article_id, &d.licensee_id, d.at.date().to_string()))
            .and_modify(|r| r.add(&receipt))
            .or_insert(receipt);
    }
    match conn {
        DbConnection::Sqlite(c) => add_on_sqlite(c, &batch),
        DbConnection::Postgresql(c) => add_on_postgres(c, &batch),
    }
}

/// A batch's receipts by (story, licensee, day), in key order.
type Batch<'a> = BTreeMap<(&'a str, &'a str, String), Receipt<'a>>;

/// The batch in multi-row upserts of a thousand rows.
fn add_on_sqlite(conn: &mut SqliteConnection, batch: &Batch<'_>) -> Result<(), StorageError> {
    use article_receipts::dsl as r;
    use diesel::dsl::case_when;
    use diesel::upsert::excluded;
    let rows: Vec<_> = batch
        .iter()
        .map(|((article_id, licensee_id, day), receipt)| {
            (
                r::article_id.eq(*article_id),
                r::licensee_id.eq(*licensee_id),
                r::day.eq(day.as_str()),
                r::deliveries.eq(receipt.deliveries),
                r::first_at.eq(receipt.first_at),
                r::last_at.eq(receipt.last_at),
                r::last_licence_id.eq(&*receipt.last_licence_id),
            )
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_UPSERT) {
        // Each right-hand side reads the row as it was before the update.
        diesel::insert_into(r::article_receipts)
            .values(chunk)
            .on_conflict((r::article_id, r::licensee_id, r::day))
            .do_update()
            .set((
                r::deliveries.eq(r::deliveries + excluded(r::deliveries)),
                r::first_at.eq(case_when(
                    excluded(r::first_at).lt(r::first_at),
                    excluded(r::first_at),
                )
                .otherwise(r::first_at)),
                r::last_at.eq(
                    case_when(excluded(r::last_at).ge(r::last_at), excluded(r::last_at))
                        .otherwise(r::last_at),
                ),
                r::last_licence_id.eq(case_when(
                    excluded(r::last_at).ge(r::last_at),
                    excluded(r::last_licence_id),
                )
                .otherwise(r::last_licence_id)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The batch in one upsert of seven arrays, one per column: a statement
/// of seven parameters, whatever the batch's size.
fn add_on_postgres(conn: &mut PgConnection, batch: &Batch<'_>) -> Result<(), StorageError> {
    use diesel::sql_types::{Array, BigInt, Text, Timestamp};
    if batch.is_empty() {
        return Ok(());
    }
    let articles: Vec<&str> = batch.keys().map(|(article, _, _)| *article).collect();
    let licensees: Vec<&str> = batch.keys().map(|(_, licensee, _)| *licensee).collect();
    let days: Vec<&str> = batch.keys().map(|(_, _, day)| day.as_str()).collect();
    let deliveries: Vec<i64> = batch.values().map(|r| r.deliveries).collect();
    let firsts: Vec<NaiveDateTime> = batch.values().map(|r| r.first_at).collect();
    let lasts: Vec<NaiveDateTime> = batch.values().map(|r| r.last_at).collect();
    let licences: Vec<&str> = batch.values().map(|r| &*r.last_licence_id).collect();
    diesel::sql_query(
        "INSERT INTO article_receipts \
             (article_id, licensee_id, day, deliveries, first_at, last_at, last_licence_id) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], \
                              $5::timestamp[], $6::timestamp[], $7::text[]) \
         ON CONFLICT (article_id, licensee_id, day) DO UPDATE SET \
             deliveries = article_receipts.deliveries + excluded.deliveries, \
             first_at = LEAST(article_receipts.first_at, excluded.first_at), \
             last_at = GREATEST(article_receipts.last_at, excluded.last_at), \
             last_licence_id = CASE WHEN excluded.last_at >= article_receipts.last_at \
                 THEN excluded.last_licence_id ELSE article_receipts.last_licence_id END",
    )
    .bind::<Array<Text>, _>(articles)
    .bind::<Array<Text>, _>(licensees)
    .bind::<Array<Text>, _>(days)
    .bind::<Array<BigInt>, _>(deliveries)
    .bind::<Array<Timestamp>, _>(firsts)
    .bind::<Array<Timestamp>, _>(lasts)
    .bind::<Array<Text>, _>(licences)
    .execute(conn)?;
    Ok(())
}

/// A licensee that received a story: how many deliveries, the last one's
/// time, and the takedown hours of the licence it was made under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receiver {
    pub licensee_id: String,
    pub deliveries: i64,
    pub last_delivered_at: NaiveDateTime,
    pub takedown_hours: i32,
}

/// The licensees that received `article_id` in the ledger (only by
/// deliveries before `before`, if given), in licensee order.
pub fn receivers(
    conn: &mut DbConnection,
    article_id: &str,
    before: Option<NaiveDateTime>,
) -> Result<Vec<Receiver>, StorageError> {
    use article_receipts::dsl as r;
    let days: Vec<(String, i64, NaiveDateTime, NaiveDateTime, String)> = r::article_receipts
        .filter(r::article_id.eq(article_id))
        .select((
            r::licensee_id,
            r::deliveries,
            r::first_at,
            r::last_at,
            r::last_licence_id,
        ))
        .load(conn)?;
    let mut received: BTreeMap<String, Receipt<'static>> = BTreeMap::new();
    for (licensee_id, deliveries, first_at, last_at, licence_id) in days {
        let day = Receipt {
            deliveries,
            first_at,
            last_at,
            last_licence_id: Cow::Owned(licence_id),
        };
        if let Some(counted) = counted(conn, article_id, &licensee_id, day, before)? {
            received
                .entry(licensee_id)
                .and_modify(|r| r.add(&counted))
                .or_insert(counted);
        }
    }
    let licence_ids: Vec<&str> = received.values().map(|r| &*r.last_licence_id).collect();
    let hours: HashMap<String, i32> = licences::table
        .filter(licences::id.eq_any(licence_ids))
        .select((licences::id, licences::takedown_hours))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .collect();
    Ok(received
        .into_iter()
        .map(|(licensee_id, receipt)| Receiver {
            takedown_hours: hours
                .get(&*receipt.last_licence_id)
                .copied()
                .unwrap_or(DEFAULT_TAKEDOWN_HOURS),
            licensee_id,
            deliveries: receipt.deliveries,
            last_delivered_at: receipt.last_at,
        })
        .collect())
}

/// The deliveries of `article_id` to `licensee_id` from `from` until before
/// `before`, counted from the ledger's events of that licensee in that time
/// (`None` if there were none).
fn straddling(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
    from: NaiveDateTime,
    before: NaiveDateTime,
) -> Result<Option<Receipt<'static>>, StorageError> {
    use usage_events::dsl as u;
    let events: Vec<(NaiveDateTime, String)> = u::usage_events
        .filter(u::licensee_id.eq(licensee_id))
        .filter(u::at.ge(from))
        .filter(u::at.lt(before))
        .filter(u::article_id.eq(article_id))
        .select((u::at, u::licence_id))
        .load(conn)?;
    Ok(events
        .into_iter()
        .map(|(at, licence_id)| Receipt {
            deliveries: 1,
            first_at: at,
            last_at: at,
            last_licence_id: Cow::Owned(licence_id),
        })
        .reduce(|mut all, one| {
            all.add(&one);
            all
        }))
}

/// Deliveries of a story to a licensee in the ledger now (only those
/// before `before`, if given), and the last one's time.
pub fn deliveries_to(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
    before: Option<NaiveDateTime>,
) -> Result<(i64, Option<NaiveDateTime>), StorageError> {
    use article_receipts::dsl as r;
    let days: Vec<(i64, NaiveDateTime, NaiveDateTime, String)> = r::article_receipts
        .filter(r::article_id.eq(article_id))
        .filter(r::licensee_id.eq(licensee_id))
        .select((r::deliveries, r::first_at, r::last_at, r::last_licence_id))
        .load(conn)?;
    let mut all: Option<Receipt<'static>> = None;
    for (deliveries, first_at, last_at, licence_id) in days {
        let day = Receipt {
            deliveries,
            first_at,
            last_at,
            last_licence_id: Cow::Owned(licence_id),
        };
        if let Some(counted) = counted(conn, article_id, licensee_id, day, before)? {
            match &mut all {
                Some(all) => all.add(&counted),
                None => all = Some(counted),
            }
        }
    }
    Ok(all.map_or((0, None), |all| (all.deliveries, Some(all.last_at))))
}

/// One day's receipt as a takedown bounded by `before` counts it: whole
/// if the day ended before it, none if it began after, and a day that
/// straddles it from the ledger's events.
fn counted(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
    day: Receipt<'static>,
    before: Option<NaiveDateTime>,
) -> Result<Option<Receipt<'static>>, StorageError> {
    match before {
        Some(before) if day.first_at >= before => Ok(None),
        Some(before) if day.last_at >= before => {
            straddling(conn, article_id, licensee_id, day.first_at, before)
        }
        _ => Ok(Some(day)),
    }
}
