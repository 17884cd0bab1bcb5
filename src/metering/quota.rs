//! Where a licensee stands against the billable quota of each licence in
//! force, in the licence's current period.

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::{MeteringError, Period};
use crate::domain::LicenseeId;
use crate::storage::{DbConnection, facts, licences, usage};

/// One licence's standing in its current period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The licence.
    pub licence_id: Uuid,
    /// Its quota period.
    pub period: Period,
    /// Billable units allowed per period; `None` is unlimited.
    pub units: Option<i64>,
    /// Billable units used this period.
    pub used: i64,
    /// When the period ends.
    pub resets_at: NaiveDateTime,
}

impl Standing {
    /// Units left; `None` is unlimited.
    pub fn remaining(&self) -> Option<i64> {
        self.units.map(|units| (units - self.used).max(0))
    }
}

/// The standing of each of `licensee`'s licences in force at `at`.
/// Re-deliveries of articles already billed this period do not count.
/// `unshipped` tells the units of a quota (licence, period start) this node
/// billed that its journal has not shipped to the ledger yet.
pub fn standings(
    conn: &mut DbConnection,
    licensee: LicenseeId,
    at: NaiveDateTime,
    unshipped: impl Fn(&str, NaiveDateTime) -> i64,
) -> Result<Vec<Standing>, MeteringError> {
    let licensee = licensee.to_string();
    let mut out = Vec::new();
    for licence in licences::of_licensee(conn, &licensee)? {
        if !facts::licence(&licence)?.in_force(at) {
            continue;
        }
        let period = Period::of(licence.quota()?.as_ref());
        let start = period.start(at);
        let used = match licence.quota_units {
            Some(_) => usage::counter(conn, &licence.id, start)? + unshipped(&licence.id, start),
            None => {
                usage::billable_between(conn, &licensee, &licence.id, start, period.end(at))?
                    + unshipped(&licence.id, start)
            }
        };
        out.push(Standing {
            licence_id: licence.licence_id()?.0,
            period,
            units: licence.quota_units,
            used,
            resets_at: period.end(at),
        });
    }
    Ok(out)
}
