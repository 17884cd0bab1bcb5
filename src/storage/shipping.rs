//! The SQL ledger's side of a node's usage journal: quota leases taken from
//! and given back to a licence's counter, the billing keys a node looks up,
//! and shipping, which moves journal entries into the ledger exactly once.
//!
//! Shipping is idempotent by event id: entries already in `usage_events`
//! (shipped before a crash that kept the journal from learning it) are
//! skipped whole, so nothing is counted twice. The ledger decides billing:
//! an entry is billable if its key (licence, article, period, purpose) is new to
//! `billed_deliveries`, whatever the node guessed, so a key billed on two
//! nodes bills once, and the unit the second node spent from its lease goes
//! back to the counter.
//!
//! A delivery can reach the ledger after its story's takedown (a kill, the
//! end of a photo's rights): the shipping transaction makes the notices
//! the takedown would have made (`late_notices`). Those of an end of a
//! photo's rights append feed events, which on PostgreSQL takes the content
//! events' lock before the takedown lock; a shipment that finds such
//! notices due after taking the takedown lock alone is rolled back and made
//! again with both (rarely: only deliveries decided before an end and
//! shipped after it).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use chrono::naive::serde::ts_microseconds;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::late_notices::{self, Late, ShippedDelivery};
use super::notices::TakedownLock;
use super::schema::{billed_deliveries, ledger_nodes, quota_leases, usage_events};
use super::usage::{self, Counter, DayKey, DayTotals, Delivery, KeyState};
use super::{DbConnection, StorageError};
use crate::domain::purpose::Purpose;

/// One delivery as the journal keeps it and the ledger receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub licensee_id: String,
    pub licence_id: String,
    pub publisher_id: String,
    pub article_id: String,
    pub article_version: i32,
    pub tier: String,
    pub format: String,
    #[serde(with = "ts_microseconds")]
    pub at: NaiveDateTime,
    #[serde(with = "ts_microseconds")]
    pub period_start: NaiveDateTime,
    pub request_id: String,
    /// Billable units allowed in the period, if the licence has a quota.
    pub quota: Option<i64>,
    pub unit_price: Option<i64>,
    pub currency: Option<String>,
    /// What it was fetched for (entries journalled before purposes were
    /// `display`).
    #[serde(default)]
    pub purpose: Purpose,
    /// The attribution it carried, if its licence required one.
    #[serde(default)]
    pub attribution: Option<String>,
    /// Whether the node billed it (the ledger decides when it is shipped).
    pub billable: bool,
    /// Whether it spent a unit of the node's quota lease.
    pub leased: bool,
}

impl Entry {
    /// The delivery as the ledger's rows are written from it.
    fn delivery(&self) -> Delivery {
        Delivery {
            id: self.id.clone(),
            licensee_id: self.licensee_id.clone(),
            licence_id: self.licence_id.clone(),
            publisher_id: self.publisher_id.clone(),
            article_id: self.article_id.clone(),
            article_version: self.article_version,
            tier: self.tier.clone(),
            format: self.format.clone(),
            at: self.at,
            period_start: self.period_start,
            request_id: self.request_id.clone(),
            quota: self.quota,
            unit_price: self.unit_price,
            currency: self.currency.clone(),
            purpose: self.purpose,
            attribution: self.attribution.clone(),
            decided_on: None,
        }
    }
}

/// A licence's counter for one period.
pub type CounterKey = (String, NaiveDateTime);

/// What shipping one counter's entries did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    /// Entries the ledger billed.
    pub billed: i64,
    /// Lease units the entries had spent, now out of the node's lease.
    pub spent: i64,
}

/// What shipping a batch did.
#[derive(Debug, Default)]
pub struct Shipped {
    /// Entries written to the ledger.
    pub written: usize,
    /// Entries already there (shipped before), skipped.
    pub skipped: usize,
    /// Per counter: billed units and spent lease units.
    pub counters: HashMap<CounterKey, Settled>,
}

/// Event ids per lookup of entries already shipped.
const IDS_PER_LOOKUP: usize = 1000;

/// Why a shipping transaction was rolled back.
enum Rollback {
    /// The database failed.
    Storage(StorageError),
    /// Late notices are due that append feed events: ship again with the
    /// content events' lock taken first.
    AppendsFeedEvents,
}

impl From<StorageError> for Rollback {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

impl From<diesel::result::Error> for Rollback {
    fn from(error: diesel::result::Error) -> Self {
        Self::Storage(error.into())
    }
}

/// Ships entries to the ledger in one transaction (see the module
/// documentation), taking `node`'s spent lease units off its leases.
pub fn ship(
    conn: &mut DbConnection,
    node: &str,
    entries: &[Entry],
) -> Result<Shipped, StorageError> {
    match ship_with(conn, node, entries, TakedownLock::Ship) {
        Err(Rollback::AppendsFeedEvents) => {
            match ship_with(conn, node, entries, TakedownLock::ShipAndAppend) {
                Ok(shipped) => Ok(shipped),
                Err(Rollback::Storage(error)) => Err(error),
                // Never asked for under this lock.
                Err(Rollback::AppendsFeedEvents) => Err(StorageError::Other(
                    "late notices asked for the content events' lock they held".into(),
                )),
            }
        }
        Err(Rollback::Storage(error)) => Err(error),
        Ok(shipped) => Ok(shipped),
    }
}

/// One try at [`ship`], its late notices under `lock`.
fn ship_with(
    conn: &mut DbConnection,
    node: &str,
    entries: &[Entry],
    lock: TakedownLock,
) -> Result<Shipped, Rollback> {
    super::in_transaction(conn, |conn| {
        let mut present: HashSet<String> = HashSet::new();
        for chunk in entries.chunks(IDS_PER_LOOKUP) {
            let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
            present.extend(
                usage_events::table
                    .filter(usage_events::id.eq_any(ids))
                    .select(usage_events::id)
                    .load::<String>(conn)?,
            );
        }
        let fresh: Vec<(&Entry, Delivery)> = entries
            .iter()
            .filter(|e| !present.contains(&e.id))
            .map(|e| (e, e.delivery()))
            .collect();
        // Only the keys the node billed: an entry it did not bill follows a
        // key already in the ledger, or one billed by an entry before it.
        let mut keys = usage::claim_keys(
            conn,
            fresh.iter().filter(|(e, _)| e.billable).map(|(_, d)| d),
        )?;
        let mut settled: BTreeMap<(&str, NaiveDateTime), Settled> = BTreeMap::new();
        let mut events = Vec::with_capacity(fresh.len());
        let mut daily: HashMap<DayKey<'_>, DayTotals> = HashMap::new();
        for (entry, d) in &fresh {
            let billable = match keys.get_mut(&usage::billing_key(d)) {
                Some(state @ KeyState::New) => {
                    *state = KeyState::Claimed;
                    true
                }
                _ => false,
            };
            if d.quota.is_some() || entry.leased {
                let counter = settled
                    .entry((d.licence_id.as_str(), d.period_start))
                    .or_default();
                if d.quota.is_some() && billable {
                    counter.billed += 1;
                }
                if entry.leased {
                    counter.spent += 1;
                }
            }
            events.push((d, billable));
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
            if billable {
                day.billable_units += 1;
                day.amount_minor += d.unit_price.unwrap_or(0);
            }
        }
        // Counters in one order on every node (a BTreeMap), each locked
        // before the node's lease on it, as a lease is taken.
        let mut counters: HashMap<(&str, NaiveDateTime), Counter> = HashMap::new();
        for (&(licence_id, period_start), s) in &settled {
            if s.billed > 0 {
                let used = usage::locked_counter(conn, licence_id, period_start)?;
                counters.insert(
                    (licence_id, period_start),
                    Counter {
                        used: used + s.billed,
                        changed: true,
                    },
                );
            }
            if s.spent > 0 {
                spend_lease(conn, node, licence_id, period_start, s.spent)?;
            }
        }
        usage::write_counters(conn, &counters)?;
        usage::add_to_days(conn, &daily)?;
        usage::insert_events(conn, &events)?;
        // A delivery that reaches the ledger after its story's takedown
        // gets the takedown's notice now.
        let shipped: Vec<ShippedDelivery> = fresh
            .iter()
            .map(|(e, _)| ShippedDelivery {
                article_id: e.article_id.clone(),
                licensee_id: e.licensee_id.clone(),
                at: e.at,
            })
            .collect();
        match late_notices::notify_late_receivers(conn, &shipped, lock, super::now())? {
            Late::Made(_) => {}
            Late::AppendsFeedEvents => return Err(Rollback::AppendsFeedEvents),
        }
        Ok(Shipped {
            written: fresh.len(),
            skipped: present.len(),
            counters: settled
                .into_iter()
                .map(|((licence_id, period_start), s)| ((licence_id.to_owned(), period_start), s))
                .collect(),
        })
    })
}

/// Takes `units` off `node`'s lease on a counter (never below zero).
fn spend_lease(
    conn: &mut DbConnection,
    node: &str,
    licence_id: &str,
    period_start: NaiveDateTime,
    units: i64,
) -> Result<(), StorageError> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    diesel::sql_query(
        "UPDATE quota_leases SET units = CASE WHEN units > $1 THEN units - $1 ELSE 0 END \
         WHERE node_id = $2 AND licence_id = $3 AND period_start = $4",
    )
    .bind::<BigInt, _>(units)
    .bind::<Text, _>(node)
    .bind::<Text, _>(licence_id)
    .bind::<Timestamp, _>(period_start)
    .execute(conn)?;
    Ok(())
}

/// A lease taken on a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Units granted to the node now.
    pub granted: i64,
    /// Units the ledger had billed in the period.
    pub used: i64,
    /// Units neither billed nor leased to any node, after this grant.
    pub free: i64,
}

/// Most units leased beyond what is needed now.
pub const MAX_SPARE: i64 = 256;

/// Units to grant when `need` are asked for and `free` are free: all that
/// is needed (as far as it goes) and an eighth of what would be left, up to
/// [`MAX_SPARE`]; so leases shrink as the quota runs out, and the last units
/// are leased one at a time.
pub fn lease_size(need: i64, free: i64) -> i64 {
    if free <= need {
        free.max(0)
    } else {
        need + ((free - need) / 8).min(MAX_SPARE)
    }
}

/// Leases units of a licence's quota for a period to `node`: the counter is
/// locked (created at zero if new), its free units counted (quota less
/// billed less every node's leases), and [`lease_size`] of them added to
/// the node's lease, in one transaction.
pub fn take_lease(
    conn: &mut DbConnection,
    node: &str,
    licence_id: &str,
    period_start: NaiveDateTime,
    quota: i64,
    need: i64,
) -> Result<Taken, StorageError> {
    super::in_transaction(conn, |conn| {
        let used = usage::locked_counter(conn, licence_id, period_start)?;
        let leased: i64 = quota_leases::table
            .filter(quota_leases::licence_id.eq(licence_id))
            .filter(quota_leases::period_start.eq(period_start))
            .select(quota_leases::units)
            .load::<i64>(conn)?
            .into_iter()
            .sum();
        let free = (quota - used - leased).max(0);
        let granted = lease_size(need, free);
        if granted > 0 {
            add_to_lease(conn, node, licence_id, period_start, granted)?;
        }
        Ok(Taken {
            granted,
            used,
            free: free - granted,
        })
    })
}

fn add_to_lease(
    conn: &mut DbConnection,
    node: &str,
    licence_id: &str,
    period_start: NaiveDateTime,
    units: i64,
) -> Result<(), StorageError> {
    use diesel::upsert::excluded;
    use quota_leases::dsl as l;
    let upsert = diesel::insert_into(l::quota_leases)
        .values((
            l::node_id.eq(node),
            l::licence_id.eq(licence_id),
            l::period_start.eq(period_start),
            l::units.eq(units),
        ))
        .on_conflict((l::node_id, l::licence_id, l::period_start))
        .do_update()
        .set(l::units.eq(l::units + excluded(l::units)));
    match conn {
        DbConnection::Sqlite(c) => upsert.execute(c)?,
        DbConnection::Postgresql(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Gives `units` of `node`'s lease on a counter back (never below zero).
pub fn give_back(
    conn: &mut DbConnection,
    node: &str,
    licence_id: &str,
    period_start: NaiveDateTime,
    units: i64,
) -> Result<(), StorageError> {
    spend_lease(conn, node, licence_id, period_start, units)?;
    diesel::delete(
        quota_leases::table
            .filter(quota_leases::node_id.eq(node))
            .filter(quota_leases::units.eq(0_i64)),
    )
    .execute(conn)?;
    Ok(())
}

/// Gives back every lease of `node`: at its start, once its journal is
/// shipped (what it had spent is billed, the rest is unspent), or by an
/// operator for a node lost with its disk.
pub fn release(conn: &mut DbConnection, node: &str) -> Result<usize, StorageError> {
    Ok(diesel::delete(quota_leases::table.filter(quota_leases::node_id.eq(node))).execute(conn)?)
}

/// Of `articles`, those billed to a licence for `purpose` in the period
/// starting at `period_start`.
pub fn billed_among(
    conn: &mut DbConnection,
    licence_id: &str,
    period_start: NaiveDateTime,
    purpose: Purpose,
    articles: &[&str],
) -> Result<Vec<String>, StorageError> {
    let mut billed = Vec::new();
    for chunk in articles.chunks(IDS_PER_LOOKUP) {
        billed.extend(
            billed_deliveries::table
                .filter(billed_deliveries::licence_id.eq(licence_id))
                .filter(billed_deliveries::period_start.eq(period_start))
                .filter(billed_deliveries::purpose.eq(purpose.as_str()))
                .filter(billed_deliveries::article_id.eq_any(chunk))
                .select(billed_deliveries::article_id)
                .load::<String>(conn)?,
        );
    }
    Ok(billed)
}

/// Notes that every event `node` recorded before `through` is shipped.
pub fn shipped_through(
    conn: &mut DbConnection,
    node: &str,
    through: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    use diesel::upsert::excluded;
    use ledger_nodes::dsl as n;
    let upsert = diesel::insert_into(n::ledger_nodes)
        .values((
            n::node_id.eq(node),
            n::shipped_through.eq(through),
            n::seen_at.eq(now),
        ))
        .on_conflict(n::node_id)
        .do_update()
        .set((
            n::shipped_through.eq(excluded(n::shipped_through)),
            n::seen_at.eq(excluded(n::seen_at)),
        ));
    match conn {
        DbConnection::Sqlite(c) => upsert.execute(c)?,
        DbConnection::Postgresql(c) => upsert.execute(c)?,
    };
    Ok(())
}

/// Forgets `node`'s progress: it stopped with its journal shipped, so it
/// holds no report back.
pub fn forget_node(conn: &mut DbConnection, node: &str) -> Result<(), StorageError> {
    diesel::delete(ledger_nodes::table.find(node)).execute(conn)?;
    Ok(())
}

/// The instant before which every journaled event of every node is in the
/// ledger (`None` when no node keeps a journal).
pub fn ledger_as_of(conn: &mut DbConnection) -> Result<Option<NaiveDateTime>, StorageError> {
    Ok(ledger_nodes::table
        .select(diesel::dsl::min(ledger_nodes::shipped_through))
        .get_result(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_grant_what_is_needed_and_an_eighth_of_the_rest() {
        assert_eq!(lease_size(1, 100), 1 + 12);
        assert_eq!(lease_size(5, 5), 5);
        assert_eq!(lease_size(5, 3), 3);
        assert_eq!(lease_size(1, 0), 0);
        assert_eq!(lease_size(1, 8), 1);
        assert_eq!(lease_size(1, 1_000_000), 1 + MAX_SPARE);
        assert_eq!(lease_size(0, 80), 10);
    }
}
