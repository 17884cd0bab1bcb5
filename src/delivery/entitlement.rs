//! What a licensee may receive: its standing and its licences, as the access
//! decision sees them, with the stored licences beside them for what the
//! decision does not need (quota, rate, price).

use chrono::NaiveDateTime;

use crate::domain::LicenseeId;
use crate::domain::access::{self, LicenceFacts, LicenseeFacts};
use crate::storage::licences::{self, LicenceRow};
use crate::storage::{DbConnection, StorageError, facts, organisations};

/// The licensee and its licences, as the access decision sees them.
pub struct Entitlement {
    /// The licensee.
    pub licensee: LicenseeFacts,
    /// All its licences, in force or not.
    pub licences: Vec<LicenceFacts>,
    /// The same licences as stored (quota, rate, price), in the same order.
    pub rows: Vec<LicenceRow>,
}

impl Entitlement {
    /// Loads a licensee's facts and licences.
    pub fn load(conn: &mut DbConnection, licensee_id: LicenseeId) -> Result<Self, StorageError> {
        let id = licensee_id.to_string();
        let row = organisations::find_licensee(conn, &id)?;
        let rows = licences::of_licensee(conn, &id)?;
        let licences = rows.iter().map(facts::licence).collect::<Result<_, _>>()?;
        Ok(Self {
            licensee: facts::licensee(&row)?,
            licences,
            rows,
        })
    }

    /// The stored licence of a grant.
    pub fn licence(&self, id: &str) -> Option<&LicenceRow> {
        self.rows.iter().find(|l| l.id == id)
    }

    /// Publishers whose content its licences cover, as stored ids: those of
    /// licences in force at `at`, or of every licence for `None`.
    pub fn publishers(&self, at: Option<NaiveDateTime>) -> Vec<String> {
        access::publishers(&self.licences, at)
            .iter()
            .map(ToString::to_string)
            .collect()
    }
}
