//! The writer's decisions on a batch: billing and quota from the node's
//! meter, with leases taken when its own run short, and the journal entry
//! each delivery becomes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::domain::purpose::Purpose;
use crate::metering::meter::Meter;
use crate::metering::writer::{Failure, Pending};
use crate::storage::OwnConnection;
use crate::storage::StorageError;
use crate::storage::shipping::{self, CounterKey, Entry};
use crate::storage::usage::{Delivery, Recorded};

/// What the writer decided for one delivery.
pub(super) enum Decision {
    Delivered {
        billable: bool,
        leased: bool,
        used: i64,
    },
    OverQuota {
        used: i64,
    },
    Failed(Failure),
}

impl Decision {
    pub(super) fn answer(self) -> Result<Recorded, Failure> {
        match self {
            Self::Delivered { billable, used, .. } => Ok(Recorded::Delivered { billable, used }),
            Self::OverQuota { used } => Ok(Recorded::OverQuota { used }),
            Self::Failed(failure) => Err(failure),
        }
    }
}

fn counter_of(d: &Delivery) -> CounterKey {
    (d.licence_id.clone(), d.period_start)
}

/// Decides billing and quota for a batch, in order: a delivery is billable
/// if its key is not known billed (looked up in the ledger if the node has
/// not seen it; taken as new if the ledger cannot be asked); a billable
/// delivery under a quota spends a unit of the node's lease, leased for
/// the whole batch at once when the lease runs short.
pub(super) fn decide(
    meter: &mut Meter,
    own: &mut OwnConnection,
    node: &str,
    leasing: bool,
    batch: &[Pending],
    now: Instant,
) -> Vec<Decision> {
    // Keys the node has not seen, looked up in one query per counter.
    let mut unseen: HashMap<(CounterKey, Purpose), Vec<&str>> = HashMap::new();
    for (d, _) in batch {
        let counter = counter_of(d);
        if !meter.is_billed(&counter, d.purpose, &d.article_id) {
            unseen
                .entry((counter, d.purpose))
                .or_default()
                .push(&d.article_id);
        }
    }
    for ((counter, purpose), articles) in &unseen {
        match own
            .run(|conn| shipping::billed_among(conn, &counter.0, counter.1, *purpose, articles))
        {
            Ok(billed) => {
                for article in billed {
                    meter.note_billed(counter, *purpose, &article);
                }
            }
            Err(error) => {
                tracing::debug!(%error, "billing keys not looked up; the ledger decides when shipped");
            }
        }
    }
    // Units each quota needs for the batch's new keys.
    let mut need: HashMap<CounterKey, (i64, i64)> = HashMap::new();
    let mut new_keys: std::collections::HashSet<(&str, &str, Purpose)> =
        std::collections::HashSet::new();
    for (d, _) in batch {
        let counter = counter_of(d);
        if let Some(quota) = d.quota
            && !meter.is_billed(&counter, d.purpose, &d.article_id)
            && new_keys.insert((&d.licence_id, &d.article_id, d.purpose))
        {
            need.entry(counter).or_insert((0, quota)).0 += 1;
        }
    }
    let mut unleased: HashMap<CounterKey, Failure> = HashMap::new();
    for (counter, (units, quota)) in need {
        let short = units - meter.left(&counter, now);
        if short <= 0 {
            continue;
        }
        let taken = if leasing {
            own.run(|conn| shipping::take_lease(conn, node, &counter.0, counter.1, quota, short))
        } else {
            Err(StorageError::Unavailable(
                "quota leases wait until the journal of this node's last run is shipped".into(),
            ))
        };
        match taken {
            Ok(taken) => meter.add_lease(&counter, taken, now),
            Err(error) => {
                if meter.lease(&counter).is_none() {
                    unleased.insert(counter, Arc::new(error));
                }
            }
        }
    }
    batch
        .iter()
        .map(|(d, _)| {
            let counter = counter_of(d);
            if meter.is_billed(&counter, d.purpose, &d.article_id) {
                let used = d.quota.map_or(0, |quota| {
                    meter.lease(&counter).map_or(0, |lease| lease.used(quota))
                });
                return Decision::Delivered {
                    billable: false,
                    leased: false,
                    used,
                };
            }
            let Some(quota) = d.quota else {
                meter.note_billed(&counter, d.purpose, &d.article_id);
                meter.add_unshipped(&counter, 1);
                return Decision::Delivered {
                    billable: true,
                    leased: false,
                    used: 0,
                };
            };
            if meter.spend(&counter) {
                meter.note_billed(&counter, d.purpose, &d.article_id);
                meter.add_unshipped(&counter, 1);
                let used = meter.lease(&counter).map_or(0, |lease| lease.used(quota));
                return Decision::Delivered {
                    billable: true,
                    leased: true,
                    used,
                };
            }
            match unleased.get(&counter) {
                // No lease could be taken and none is held: whether a unit
                // is left is not known.
                Some(failure) => Decision::Failed(failure.clone()),
                None => Decision::OverQuota {
                    used: meter
                        .lease(&counter)
                        .map_or(quota, |lease| lease.used(quota)),
                },
            }
        })
        .collect()
}

/// Takes back what a batch's decisions did to the meter, when the batch
/// could not be written.
pub(super) fn undo(meter: &mut Meter, batch: &[Pending], decisions: &[Decision]) {
    for ((d, _), decision) in batch.iter().zip(decisions) {
        if let Decision::Delivered {
            billable: true,
            leased,
            ..
        } = decision
        {
            let counter = counter_of(d);
            meter.forget_billed(&counter, d.purpose, &d.article_id);
            meter.add_unshipped(&counter, -1);
            if *leased {
                meter.unspend(&counter);
            }
        }
    }
}

pub(super) fn entry(d: &Delivery, billable: bool, leased: bool) -> Entry {
    Entry {
        id: d.id.clone(),
        licensee_id: d.licensee_id.clone(),
        licence_id: d.licence_id.clone(),
        publisher_id: d.publisher_id.clone(),
        article_id: d.article_id.clone(),
        article_version: d.article_version,
        tier: d.tier.clone(),
        format: d.format.clone(),
        at: d.at,
        period_start: d.period_start,
        request_id: d.request_id.clone(),
        quota: d.quota,
        unit_price: d.unit_price,
        currency: d.currency.clone(),
        purpose: d.purpose,
        attribution: d.attribution.clone(),
        billable,
        leased,
    }
}
