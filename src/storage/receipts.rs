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
use diesel::prelude::*;

use super::schema::{article_receipts, licences, usage_events};
use super::usage::Delivery;
use super::{DbConnection, StorageError};

/// A licence's takedown hours when the licence is no longer on record.
const DEFAULT_TAKEDOWN_HOURS: i32 = 24;

/// Rows per upsert (7 parameters each).
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
    use article_receipts::dsl as r;
    use diesel::dsl::case_when;
    use diesel::upsert::excluded;
    let mut batch: BTreeMap<(&str, &str, String), Receipt<'_>> = BTreeMap::new();
    for d in deliveries {
        let receipt = Receipt::of(d);
        batch
            .entry((&d.article_id, &d.licensee_id, d.at.date().to_string()))
            .and_modify(|r| r.add(&receipt))
            .or_insert(receipt);
    }
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
    // Each right-hand side reads the row as it was before the update.
    macro_rules! upsert {
        ($rows:expr) => {
            diesel::insert_into(r::article_receipts)
                .values($rows)
                .on_conflict((r::article_id, r::licensee_id, r::day))
                .do_update()
                .set((
                    r::deliveries.eq(r::deliveries + excluded(r::deliveries)),
                    r::first_at.eq(case_when(
                        excluded(r::first_at).lt(r::first_at),
                        excluded(r::first_at),
                    )
                    .otherwise(r::first_at)),
                    r::last_at.eq(case_when(
                        excluded(r::last_at).ge(r::last_at),
                        excluded(r::last_at),
                    )
                    .otherwise(r::last_at)),
                    r::last_licence_id.eq(case_when(
                        excluded(r::last_at).ge(r::last_at),
                        excluded(r::last_licence_id),
                    )
                    .otherwise(r::last_licence_id)),
                ))
        };
    }
    for chunk in rows.chunks(ROWS_PER_UPSERT) {
        match conn {
            DbConnection::Sqlite(c) => upsert!(chunk).execute(c)?,
            DbConnection::Postgresql(c) => upsert!(chunk).execute(c)?,
        };
    }
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
        let counted = match before {
            Some(before) if first_at >= before => None,
            Some(before) if last_at >= before => {
                straddling(conn, article_id, &licensee_id, first_at, before)?
            }
            _ => Some(Receipt {
                deliveries,
                first_at,
                last_at,
                last_licence_id: Cow::Owned(licence_id),
            }),
        };
        if let Some(counted) = counted {
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

/// Deliveries of a story to a licensee in the ledger now, and the last
/// one's time.
pub fn deliveries_to(
    conn: &mut DbConnection,
    article_id: &str,
    licensee_id: &str,
) -> Result<(i64, Option<NaiveDateTime>), StorageError> {
    use article_receipts::dsl as r;
    let days: Vec<(i64, NaiveDateTime)> = r::article_receipts
        .filter(r::article_id.eq(article_id))
        .filter(r::licensee_id.eq(licensee_id))
        .select((r::deliveries, r::last_at))
        .load(conn)?;
    Ok((
        days.iter().map(|(n, _)| n).sum(),
        days.iter().map(|(_, at)| *at).max(),
    ))
}
