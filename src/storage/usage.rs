//! The usage ledger: recording deliveries in batches with the billing rule
//! and the quota enforced in the same transaction, and reading it back.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::{self, Depends, Log};
use super::schema::{billed_deliveries, quota_usage, usage_daily, usage_events};
use super::{DbConnection, StorageError};
use crate::domain::purpose::Purpose;

/// One delivery to record.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub licensee_id: String,
    pub licence_id: String,
    pub publisher_id: String,
    pub article_id: String,
    pub article_version: i32,
    pub tier: String,
    pub format: String,
    pub at: NaiveDateTime,
    pub period_start: NaiveDateTime,
    pub request_id: String,
    /// Billable units allowed in the period, if the licence has a quota.
    pub quota: Option<i64>,
    pub unit_price: Option<i64>,
    pub currency: Option<String>,
    /// What the article was fetched for: a first delivery is billed once
    /// per purpose.
    pub purpose: Purpose,
    /// The attribution the licence required the delivery to carry, if any.
    pub attribution: Option<String>,
    /// What the delivery was decided on, if on cached facts: the change
    /// counter they were read at and the items they came from. Refused as
    /// stale if a change to one of those items committed since.
    pub decided_on: Option<Arc<Depends>>,
}

/// What recording a delivery came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; billable or a re-delivery, with the units used in the period.
    Delivered {
        /// Whether this delivery is billed.
        billable: bool,
        /// Billable units used in the period, this one included.
        used: i64,
    },
    /// Refused: the quota is used up and this would be a new billable unit.
    /// Nothing was written.
    OverQuota {
        /// Units used in the period.
        used: i64,
    },
    /// Refused: decided on facts that changed since they were read (or
    /// whose changes the log no longer holds). Nothing was written; decide
    /// again on facts read at `current` or later.
    Stale {
        /// The change counter now.
        current: i64,
    },
}

/// Records a batch in one transaction, in order. A delivery decided on
/// cached facts is refused as [`Recorded::Stale`] if one of its items
/// changed after its facts were read: the change counter is read locked
/// (no change commits until this transaction does), and the change log
/// after the oldest facts in the batch is read once, only when some
/// delivery's facts are older than the counter. Each delivery is billable
/// only if the (licence, article, period) key is new; a new key needs a
/// quota unit. Each quota counter the batch touches is read once, locked
/// (the SQLite transaction holds the write lock; PostgreSQL locks the row
/// for update, across nodes), counted in memory through the batch and
/// written back once, so quotas are exact under any concurrency. The
/// events go in one cached statement per row on SQLite, in multi-row
/// inserts on PostgreSQL.
pub fn record_batch(
    conn: &mut DbConnection,
    batch: &[Delivery],
) -> Result<Vec<Recorded>, StorageError> {
    super::in_transaction(conn, |conn| {
        let log = changes_since_decided(conn, batch)?;
        let stale = |d: &Delivery| match (d.decided_on.as_deref(), &log) {
            (Some(depends), Some(log)) => log.touches(depends),
            _ => false,
        };
        let current = log.as_ref().map(|log| log.current);
        let mut keys = claim_keys(conn, batch.iter().filter(|d| !stale(d)))?;
        // The batch's quota counters, locked in one order on every node (as
        // its keys were claimed, and its days are added), so two nodes'
        // batches never wait on each other's rows crosswise.
        let mut quotas: Vec<(&str, NaiveDateTime)> = batch
            .iter()
            .filter(|d| d.quota.is_some() && !stale(d))
            .map(|d| (d.licence_id.as_str(), d.period_start))
            .collect();
        quotas.sort_unstable();
        quotas.dedup();
        let mut counters: HashMap<(&str, NaiveDateTime), Counter> = HashMap::new();
        for (licence_id, period_start) in quotas {
            let used = locked_counter(conn, licence_id, period_start)?;
            counters.insert(
                (licence_id, period_start),
                Counter {
                    used,
                    changed: false,
                },
            );
        }
        let mut events = Vec::with_capacity(batch.len());
        let mut daily: HashMap<DayKey<'_>, DayTotals> = HashMap::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        for d in batch {
            if let (true, Some(current)) = (stale(d), current) {
                outcomes.push(Recorded::Stale { current });
                continue;
            }
            let key = keys.get_mut(&billing_key(d));
            // The first delivery of a key this batch inserted is the billable one.
            let new_key = key.as_deref() == Some(&KeyState::New);
            let mut used = 0;
            if let Some(quota) = d.quota {
                let counter = match counters.entry((d.licence_id.as_str(), d.period_start)) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => entry.insert(Counter {
                        used: locked_counter(conn, &d.licence_id, d.period_start)?,
                        changed: false,
                    }),
                };
                if new_key {
                    if counter.used >= quota {
                        // Refused, and writes nothing: the key stays
                        // unclaimed and is given back below.
                        outcomes.push(Recorded::OverQuota { used: counter.used });
                        continue;
                    }
                    counter.used += 1;
                    counter.changed = true;
                }
                used = counter.used;
            }
            if new_key && let Some(state) = key {
                *state = KeyState::Claimed;
            }
            events.push((d, new_key));
            let day = daily
                .entry(DayKey {
                    licensee_id: &d.licensee_id,
                    licence_id: &d.licence_id,
                    publisher_id: &d.publisher_id,
                    day: d.at.date(),
                    currency: d.currency.as_deref().unwrap_or(""),
                    purpose: d.purpose.as_str(),
                })
                .or_default();
            day.deliveries += 1;
            if new_key {
                day.billable_units += 1;
                day.amount_minor += d.unit_price.unwrap_or(0);
            }
            outcomes.push(Recorded::Delivered {
                billable: new_key,
                used,
            });
        }
        for ((licence_id, article_id, period_start, purpose), state) in keys {
            if state == KeyState::New {
                diesel::delete(billed_deliveries::table.find((
                    licence_id,
                    article_id,
                    period_start,
                    purpose,
                )))
                .execute(conn)?;
            }
        }
        // Diesel compiles an UPDATE or an upsert afresh each time: one
        // statement each for the batch's counters and its days.
        write_counters(conn, &counters)?;
        add_to_days(conn, &daily)?;
        insert_events(conn, &events)?;
        Ok(outcomes)
    })
}

/// Inserts the events of deliveries (each with whether it is billable),
/// one cached statement per row on SQLite, multi-row statements on
/// PostgreSQL, and adds them to their stories' receipts.
pub(super) fn insert_events(
    conn: &mut DbConnection,
    deliveries: &[(&Delivery, bool)],
) -> Result<(), StorageError> {
    let events = deliveries
        .iter()
        .map(|(d, billable)| event_row(d, *billable));
    match conn {
        // In-process: one cached prepared statement run per row costs
        // less than compiling a multi-row statement of each batch's size.
        DbConnection::Sqlite(c) => {
            for row in events {
                diesel::insert_into(usage_events::table)
                    .values(row)
                    .execute(c)?;
            }
        }
        // Over the network: few statements, few round trips.
        DbConnection::Postgresql(c) => {
            let events: Vec<EventRow<'_>> = events.collect();
            for chunk in events.chunks(EVENTS_PER_INSERT) {
                diesel::insert_into(usage_events::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    super::receipts::add(conn, deliveries.iter().map(|(d, _)| *d))
}

/// The changes after the oldest facts a delivery of the batch was decided
/// on, up to the counter (read locked); `None` if no delivery was decided
/// on cached facts.
fn changes_since_decided(
    conn: &mut DbConnection,
    batch: &[Delivery],
) -> Result<Option<Log>, StorageError> {
    let mut decided = batch.iter().filter_map(|d| d.decided_on.as_ref());
    let Some(first) = decided.next() else {
        return Ok(None);
    };
    let oldest = decided.fold(first.seen, |oldest, d| oldest.min(d.seen));
    let current = changes::read_shared(conn)?;
    Ok(Some(changes::between(conn, oldest, current)?))
}

/// A row of `usage_daily`.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct DayKey<'a> {
    pub licensee_id: &'a str,
    pub licence_id: &'a str,
    pub publisher_id: &'a str,
    pub day: chrono::NaiveDate,
    pub currency: &'a str,
    pub purpose: &'a str,
}

#[derive(Default)]
pub(super) struct DayTotals {
    pub deliveries: i64,
    pub billable_units: i64,
    pub amount_minor: i64,
}

/// Writes back the quota counters a batch changed, in one statement (the
/// rows exist and are locked: `ensure_counter`, `locked_counter`).
pub(super) fn write_counters(
    conn: &mut DbConnection,
    counters: &HashMap<(&str, NaiveDateTime), Counter>,
) -> Result<(), StorageError> {
    use diesel::upsert::excluded;
    use quota_usage::dsl as q;
    let mut changed: Vec<_> = counters
        .iter()
        .filter(|(_, counter)| counter.changed)
        .collect();
    changed.sort_unstable_by_key(|(key, _)| **key);
    let rows: Vec<_> = changed
        .into_iter()
        .map(|((licence_id, period_start), counter)| {
            (
                q::licence_id.eq(*licence_id),
                q::period_start.eq(*period_start),
                q::used.eq(counter.used),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let upsert = diesel::insert_into(q::quota_usage)
        .values(rows)
        .on_conflict((q::licence_id, q::period_start))
        .do_update()
        .set(q::used.eq(excluded(q::used)));
    match conn {
        DbConnection::Sqlite(c) => upsert.execute(c)?,
        DbConnection::Postgresql(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Adds a batch's totals to their days' rows, in one statement.
pub(super) fn add_to_days(
    conn: &mut DbConnection,
    daily: &HashMap<DayKey<'_>, DayTotals>,
) -> Result<(), StorageError> {
    use diesel::upsert::excluded;
    use usage_daily::dsl as u;
    if daily.is_empty() {
        return Ok(());
    }
    // In key order: on PostgreSQL each row is locked as it is upserted, and
    // two nodes adding to the same days must take them in the same order.
    let mut days: Vec<_> = daily.iter().collect();
    days.sort_unstable_by_key(|(key, _)| {
        (
            key.licensee_id,
            key.licence_id,
            key.publisher_id,
            key.day,
            key.currency,
            key.purpose,
        )
    });
    let rows: Vec<_> = days
        .into_iter()
        .map(|(key, totals)| {
            (
                u::licensee_id.eq(key.licensee_id),
                u::licence_id.eq(key.licence_id),
                u::publisher_id.eq(key.publisher_id),
                u::day.eq(key.day.to_string()),
                u::currency.eq(key.currency),
                u::purpose.eq(key.purpose),
                u::deliveries.eq(totals.deliveries),
                u::billable_units.eq(totals.billable_units),
                u::amount_minor.eq(totals.amount_minor),
            )
        })
        .collect();
    let keys = (
        u::licensee_id,
        u::licence_id,
        u::publisher_id,
        u::day,
        u::currency,
        u::purpose,
    );
    let sums = (
        u::deliveries.eq(u::deliveries + excluded(u::deliveries)),
        u::billable_units.eq(u::billable_units + excluded(u::billable_units)),
        u::amount_minor.eq(u::amount_minor + excluded(u::amount_minor)),
    );
    let upsert = diesel::insert_into(u::usage_daily)
        .values(rows)
        .on_conflict(keys)
        .do_update()
        .set(sums);
    match conn {
        DbConnection::Sqlite(c) => upsert.execute(c)?,
        DbConnection::Postgresql(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Rows per multi-row insert of events on PostgreSQL (17 parameters each).
const EVENTS_PER_INSERT: usize = 256;

/// A quota counter as the batch sees it.
pub(super) struct Counter {
    pub used: i64,
    pub changed: bool,
}

/// Units used in a period, the counter created at zero if new and locked
/// until the transaction ends (no `LIMIT`: SQLite plans a statement again whenever its `LIMIT` is bound anew).
pub(super) fn locked_counter(
    conn: &mut DbConnection,
    licence_id: &str,
    period_start: NaiveDateTime,
) -> Result<i64, StorageError> {
    ensure_counter(conn, licence_id, period_start)?;
    let query = quota_usage::table
        .find((licence_id, period_start))
        .select(quota_usage::used);
    Ok(match conn {
        DbConnection::Sqlite(c) => query.get_result(c)?,
        DbConnection::Postgresql(c) => query.for_update().get_result(c)?,
    })
}

pub(super) type EventRow<'a> = (
    diesel::dsl::Eq<usage_events::id, &'a str>,
    diesel::dsl::Eq<usage_events::licensee_id, &'a str>,
    diesel::dsl::Eq<usage_events::licence_id, &'a str>,
    diesel::dsl::Eq<usage_events::publisher_id, &'a str>,
    diesel::dsl::Eq<usage_events::article_id, &'a str>,
    diesel::dsl::Eq<usage_events::article_version, i32>,
    diesel::dsl::Eq<usage_events::tier, &'a str>,
    diesel::dsl::Eq<usage_events::format, &'a str>,
    diesel::dsl::Eq<usage_events::at, NaiveDateTime>,
    diesel::dsl::Eq<usage_events::day, String>,
    diesel::dsl::Eq<usage_events::period_start, NaiveDateTime>,
    diesel::dsl::Eq<usage_events::request_id, &'a str>,
    diesel::dsl::Eq<usage_events::billable, bool>,
    diesel::dsl::Eq<usage_events::unit_price, Option<i64>>,
    diesel::dsl::Eq<usage_events::currency, Option<&'a str>>,
    diesel::dsl::Eq<usage_events::purpose, &'static str>,
    diesel::dsl::Eq<usage_events::attribution, Option<&'a str>>,
);

pub(super) fn event_row(d: &Delivery, billable: bool) -> EventRow<'_> {
    (
        usage_events::id.eq(d.id.as_str()),
        usage_events::licensee_id.eq(d.licensee_id.as_str()),
        usage_events::licence_id.eq(d.licence_id.as_str()),
        usage_events::publisher_id.eq(d.publisher_id.as_str()),
        usage_events::article_id.eq(d.article_id.as_str()),
        usage_events::article_version.eq(d.article_version),
        usage_events::tier.eq(d.tier.as_str()),
        usage_events::format.eq(d.format.as_str()),
        usage_events::at.eq(d.at),
        // The UTC calendar day, YYYY-MM-DD.
        usage_events::day.eq(d.at.date().to_string()),
        usage_events::period_start.eq(d.period_start),
        usage_events::request_id.eq(d.request_id.as_str()),
        usage_events::billable.eq(billable),
        usage_events::unit_price.eq(d.unit_price),
        usage_events::currency.eq(d.currency.as_deref()),
        usage_events::purpose.eq(d.purpose.as_str()),
        usage_events::attribution.eq(d.attribution.as_deref()),
    )
}

/// A billing key: (licence, article, period start, purpose).
pub(super) type BillingKey<'a> = (&'a str, &'a str, NaiveDateTime, &'static str);

pub(super) fn billing_key(d: &Delivery) -> BillingKey<'_> {
    (
        &d.licence_id,
        &d.article_id,
        d.period_start,
        d.purpose.as_str(),
    )
}

/// Where a batch's billing key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyState {
    /// Billed before this batch.
    Existing,
    /// Inserted by this batch, not yet billed to a delivery.
    New,
    /// Inserted by this batch and billed to its first delivery.
    Claimed,
}

/// Keys per multi-row insert of billing keys on PostgreSQL (4 parameters
/// each).
const KEYS_PER_INSERT: usize = 1000;

/// Inserts the deliveries' billing keys and tells which of them are new
/// (`INSERT … ON CONFLICT DO NOTHING` inserts only those). On SQLite one
/// cached statement runs per key and its row count tells; on PostgreSQL a
/// statement takes a thousand keys and `RETURNING` names the new ones.
pub(super) fn claim_keys<'a>(
    conn: &mut DbConnection,
    deliveries: impl Iterator<Item = &'a Delivery>,
) -> Result<HashMap<BillingKey<'a>, KeyState>, StorageError> {
    let mut keys: HashMap<BillingKey<'a>, KeyState> = HashMap::new();
    for d in deliveries {
        keys.entry(billing_key(d)).or_insert(KeyState::Existing);
    }
    let row = |(licence_id, article_id, period_start, purpose): BillingKey<'a>| {
        (
            billed_deliveries::licence_id.eq(licence_id),
            billed_deliveries::article_id.eq(article_id),
            billed_deliveries::period_start.eq(period_start),
            billed_deliveries::purpose.eq(purpose),
        )
    };
    match conn {
        DbConnection::Sqlite(c) => {
            for (key, state) in &mut keys {
                let inserted = diesel::insert_into(billed_deliveries::table)
                    .values(row(*key))
                    .on_conflict_do_nothing()
                    .execute(c)?;
                if inserted == 1 {
                    *state = KeyState::New;
                }
            }
        }
        DbConnection::Postgresql(c) => {
            // In one order on every node, so two batches never wait on each
            // other's keys crosswise.
            let mut unique: Vec<BillingKey<'a>> = keys.keys().copied().collect();
            unique.sort_unstable();
            for chunk in unique.chunks(KEYS_PER_INSERT) {
                let inserted: Vec<(String, String, NaiveDateTime, String)> =
                    diesel::insert_into(billed_deliveries::table)
                        .values(chunk.iter().copied().map(row).collect::<Vec<_>>())
                        .on_conflict_do_nothing()
                        .returning((
                            billed_deliveries::licence_id,
                            billed_deliveries::article_id,
                            billed_deliveries::period_start,
                            billed_deliveries::purpose,
                        ))
                        .get_results(c)?;
                let inserted: std::collections::HashSet<(&str, &str, NaiveDateTime, &str)> =
                    inserted
                        .iter()
                        .map(|(licence_id, article_id, period_start, purpose)| {
                            (
                                licence_id.as_str(),
                                article_id.as_str(),
                                *period_start,
                                purpose.as_str(),
                            )
                        })
                        .collect();
                let mut matched = 0;
                for key in chunk {
                    if inserted.contains(key) {
                        keys.insert(*key, KeyState::New);
                        matched += 1;
                    }
                }
                if matched != inserted.len() {
                    // A key read back unlike it was written would go unbilled.
                    return Err(StorageError::Other(
                        "a billing key came back from the database unlike it was written".into(),
                    ));
                }
            }
        }
    }
    Ok(keys)
}

pub(super) fn ensure_counter(
    conn: &mut DbConnection,
    licence_id: &str,
    period_start: NaiveDateTime,
) -> Result<(), StorageError> {
    let values = (
        quota_usage::licence_id.eq(licence_id),
        quota_usage::period_start.eq(period_start),
        quota_usage::used.eq(0_i64),
    );
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(quota_usage::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Postgresql(c) => diesel::insert_into(quota_usage::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// Billable units used by a licence in the period starting at `period_start`.
pub fn counter(
    conn: &mut DbConnection,
    licence_id: &str,
    period_start: NaiveDateTime,
) -> Result<i64, StorageError> {
    Ok(quota_usage::table
        .find((licence_id, period_start))
        .select(quota_usage::used)
        .get_result(conn)
        .optional()?
        .unwrap_or(0))
}

/// Billable deliveries of a licence between `start` (inclusive) and `end`.
pub fn billable_between(
    conn: &mut DbConnection,
    licensee_id: &str,
    licence_id: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<i64, StorageError> {
    Ok(usage_events::table
        .filter(usage_events::licensee_id.eq(licensee_id))
        .filter(usage_events::at.ge(start))
        .filter(usage_events::at.lt(end))
        .filter(usage_events::licence_id.eq(licence_id))
        .filter(usage_events::billable.eq(true))
        .count()
        .get_result(conn)?)
}
