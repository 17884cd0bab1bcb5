//! Billing and quotas decided in memory on a node that keeps a usage
//! journal. The node knows which billing keys (licence, article, period,
//! purpose)
//! are billed — those it billed, and those it found in the ledger — and
//! holds a lease of units on each quota counter it spends from. The SQL
//! ledger makes the decisions exact when the journal is shipped
//! (`storage::shipping`): a key the node billed that another node billed
//! first bills once, and its unit goes back to the counter.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::domain::purpose::Purpose;
use crate::storage::shipping::{CounterKey, Settled, Taken};

/// Most billing keys kept; beyond, they are forgotten and looked up again.
const MAX_KEYS: usize = 2_000_000;

/// A node's lease on one counter.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    /// Units leased to this node and not yet shipped as spent.
    pub units: i64,
    /// Of them, units spent by deliveries not yet shipped.
    pub spent: i64,
    /// Units neither billed nor leased to any node, when last seen.
    pub free: i64,
    /// When a delivery last asked for a unit of it.
    pub touched: Instant,
}

impl Lease {
    /// Units this node may still spend.
    pub fn left(&self) -> i64 {
        (self.units - self.spent).max(0)
    }

    /// Billable units used in the period as this node sees it: the quota
    /// less what it may still spend and what was free when it last looked.
    /// Exact on one node; on several, other nodes' unspent leases count as
    /// used until they are given back.
    pub fn used(&self, quota: i64) -> i64 {
        (quota - self.left() - self.free).clamp(0, quota)
    }
}

/// What the node knows and holds.
#[derive(Debug, Default)]
pub struct Meter {
    /// Per counter and purpose, the articles billed.
    billed: HashMap<CounterKey, [HashSet<String>; Purpose::ALL.len()]>,
    keys: usize,
    leases: HashMap<CounterKey, Lease>,
    /// Deliveries this node billed that are not shipped yet, per counter.
    unshipped: HashMap<CounterKey, i64>,
}

impl Meter {
    /// Whether the node knows `article` is billed to the counter's key for
    /// `purpose`.
    pub fn is_billed(&self, counter: &CounterKey, purpose: Purpose, article: &str) -> bool {
        self.billed
            .get(counter)
            .is_some_and(|billed| billed[purpose as usize].contains(article))
    }

    /// Notes `article` as billed under the counter for `purpose`.
    pub fn note_billed(&mut self, counter: &CounterKey, purpose: Purpose, article: &str) {
        if self.keys >= MAX_KEYS {
            self.billed.clear();
            self.keys = 0;
        }
        let billed = match self.billed.get_mut(counter) {
            Some(billed) => billed,
            None => self.billed.entry(counter.clone()).or_default(),
        };
        if billed[purpose as usize].insert(article.to_owned()) {
            self.keys += 1;
        }
    }

    /// Forgets that `article` is billed for `purpose` (its delivery was
    /// not recorded).
    pub fn forget_billed(&mut self, counter: &CounterKey, purpose: Purpose, article: &str) {
        if let Some(billed) = self.billed.get_mut(counter)
            && billed[purpose as usize].remove(article)
        {
            self.keys -= 1;
        }
    }

    /// The lease on a counter, if the node holds or held one.
    pub fn lease(&self, counter: &CounterKey) -> Option<&Lease> {
        self.leases.get(counter)
    }

    /// Deliveries this node billed on a counter that are not shipped yet.
    pub fn unshipped(&self, counter: &CounterKey) -> i64 {
        self.unshipped.get(counter).copied().unwrap_or(0)
    }

    /// Counts `n` more (or, negative, fewer) billed deliveries not shipped.
    pub fn add_unshipped(&mut self, counter: &CounterKey, n: i64) {
        let count = match self.unshipped.get_mut(counter) {
            Some(count) => count,
            None => self.unshipped.entry(counter.clone()).or_default(),
        };
        *count = (*count + n).max(0);
        if *count == 0 {
            self.unshipped.remove(counter);
        }
    }

    /// Units the node may spend on a counter now, marking it in use.
    pub fn left(&mut self, counter: &CounterKey, now: Instant) -> i64 {
        self.leases.get_mut(counter).map_or(0, |lease| {
            lease.touched = now;
            lease.left()
        })
    }

    /// Adds a lease just taken.
    pub fn add_lease(&mut self, counter: &CounterKey, taken: Taken, now: Instant) {
        let lease = self.leases.entry(counter.clone()).or_insert(Lease {
            units: 0,
            spent: 0,
            free: 0,
            touched: now,
        });
        lease.units += taken.granted;
        lease.free = taken.free;
        lease.touched = now;
    }

    /// Spends one unit of a counter's lease, if one is left.
    pub fn spend(&mut self, counter: &CounterKey) -> bool {
        match self.leases.get_mut(counter) {
            Some(lease) if lease.left() > 0 => {
                lease.spent += 1;
                true
            }
            _ => false,
        }
    }

    /// Gives back a unit spent by a delivery that was not recorded.
    pub fn unspend(&mut self, counter: &CounterKey) {
        if let Some(lease) = self.leases.get_mut(counter) {
            lease.spent = (lease.spent - 1).max(0);
        }
    }

    /// Takes shipped units out of the leases: what was spent is now in the
    /// ledger, billed or given back to the counter.
    pub fn settle(&mut self, counters: &HashMap<CounterKey, Settled>) {
        for (counter, settled) in counters {
            if let Some(lease) = self.leases.get_mut(counter) {
                lease.units = (lease.units - settled.spent).max(0);
                lease.spent = (lease.spent - settled.spent).max(0);
            }
        }
    }

    /// Takes the unspent units of every lease not asked for since `idle`
    /// (all of them when `idle` is `None`), to give back to their counters;
    /// leases left empty are dropped.
    pub fn reclaim(&mut self, idle: Option<(Instant, Duration)>) -> Vec<(CounterKey, i64)> {
        let mut back = Vec::new();
        for (counter, lease) in &mut self.leases {
            let quiet = idle.is_none_or(|(now, idle)| now.duration_since(lease.touched) >= idle);
            if quiet && lease.left() > 0 {
                back.push((counter.clone(), lease.left()));
                lease.units = lease.spent;
            }
        }
        self.leases
            .retain(|_, lease| lease.units > 0 || lease.spent > 0);
        back
    }

    /// Puts back units that could not be given back to the database.
    pub fn restore(&mut self, counter: &CounterKey, units: i64, now: Instant) {
        let lease = self.leases.entry(counter.clone()).or_insert(Lease {
            units: 0,
            spent: 0,
            free: 0,
            touched: now,
        });
        lease.units += units;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn counter() -> CounterKey {
        (
            "licence".to_owned(),
            NaiveDateTime::parse_from_str("2026-12-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap(),
        )
    }

    #[test]
    fn a_lease_is_spent_settled_and_its_rest_given_back_when_idle() {
        let mut meter = Meter::default();
        let c = counter();
        let start = Instant::now();
        meter.add_lease(
            &c,
            Taken {
                granted: 3,
                used: 10,
                free: 7,
            },
            start,
        );

        assert!(meter.spend(&c) && meter.spend(&c));
        assert_eq!(meter.lease(&c).unwrap().used(20), 20 - 1 - 7);
        meter.settle(&HashMap::from([(
            c.clone(),
            Settled {
                billed: 1,
                spent: 2,
            },
        )]));
        assert_eq!(meter.lease(&c).unwrap().left(), 1);
        assert!(
            meter
                .reclaim(Some((start, Duration::from_secs(5))))
                .is_empty(),
            "not idle yet"
        );
        let back = meter.reclaim(Some((
            start + Duration::from_secs(5),
            Duration::from_secs(5),
        )));

        assert_eq!(back, [(c.clone(), 1)]);
        assert!(meter.lease(&c).is_none());
        assert!(!meter.spend(&c));
    }

    #[test]
    fn reclaiming_keeps_units_spent_but_not_shipped() {
        let mut meter = Meter::default();
        let c = counter();
        let now = Instant::now();
        meter.add_lease(
            &c,
            Taken {
                granted: 5,
                used: 0,
                free: 0,
            },
            now,
        );
        meter.spend(&c);

        assert_eq!(meter.reclaim(None), [(c.clone(), 4)]);
        let lease = meter.lease(&c).unwrap();
        assert_eq!((lease.units, lease.spent, lease.left()), (1, 1, 0));
    }

    #[test]
    fn billing_keys_are_known_and_forgotten() {
        let mut meter = Meter::default();
        let c = counter();
        let (display, train) = (Purpose::Display, Purpose::AiTrain);
        meter.note_billed(&c, display, "a");
        meter.note_billed(&c, display, "a");
        assert!(meter.is_billed(&c, display, "a") && !meter.is_billed(&c, display, "b"));
        assert!(!meter.is_billed(&c, train, "a"), "a key is per purpose");
        assert_eq!(meter.keys, 1);
        meter.forget_billed(&c, display, "a");
        assert!(!meter.is_billed(&c, display, "a"));
        assert_eq!(meter.keys, 0);
    }
}
