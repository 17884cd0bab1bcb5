//! Licences: which licensee may have which publisher's content, how, and
//! at what price. Rows are read as their types here: a value that does not
//! convert, or a pair of columns only half set, is [`StorageError::Corrupt`]
//! naming the licence and the column.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{parse_field, parse_json};
use super::page::{Page, PageRequest};
use super::schema::licences;
use super::{DbConnection, StorageError};
use crate::domain::access::Tier;
use crate::domain::licence::{Price, PurposeTerms, Quota};
use crate::domain::purpose::Purpose;
use crate::domain::{LicenceId, LicenseeId, PublisherId};

/// The table, as a corrupt row names it.
const TABLE: &str = "licences";

/// A stored licence.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = licences)]
pub struct LicenceRow {
    pub id: String,
    pub licensee_id: String,
    pub publisher_id: String,
    pub sections: Option<String>,
    pub tier: String,
    pub include_media: bool,
    pub valid_from: NaiveDateTime,
    pub valid_until: Option<NaiveDateTime>,
    pub quota_units: Option<i64>,
    pub quota_period: Option<String>,
    pub rate_limit_per_minute: Option<i32>,
    pub price_amount_minor: Option<i64>,
    pub price_currency: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The purposes it permits, as a JSON list of [`PurposeTerms`].
    pub purposes: String,
    pub attribution_required: bool,
    /// Hours a licensee has to confirm a takedown under this licence.
    pub takedown_hours: i32,
}

/// The columns that are not plain values, read as their types.
impl LicenceRow {
    /// Its id.
    pub fn licence_id(&self) -> Result<LicenceId, StorageError> {
        parse_field(TABLE, &self.id, "id", &self.id)
    }

    /// Who may receive content.
    pub fn licensee_id(&self) -> Result<LicenseeId, StorageError> {
        parse_field(TABLE, &self.id, "licensee_id", &self.licensee_id)
    }

    /// Whose content.
    pub fn publisher_id(&self) -> Result<PublisherId, StorageError> {
        parse_field(TABLE, &self.id, "publisher_id", &self.publisher_id)
    }

    /// The sections covered; `None` is all.
    pub fn sections(&self) -> Result<Option<Vec<String>>, StorageError> {
        self.sections
            .as_deref()
            .map(|sections| parse_json(TABLE, &self.id, "sections", sections))
            .transpose()
    }

    /// What of an article is delivered.
    pub fn tier(&self) -> Result<Tier, StorageError> {
        parse_field(TABLE, &self.id, "tier", &self.tier)
    }

    /// Billable units per period; `None` is unlimited. Units and period are
    /// written together, so one without the other is corrupt.
    pub fn quota(&self) -> Result<Option<Quota>, StorageError> {
        match (self.quota_units, self.quota_period.as_deref()) {
            (Some(units), Some(period)) => Ok(Some(Quota {
                units,
                period: parse_field(TABLE, &self.id, "quota_period", period)?,
            })),
            (None, None) => Ok(None),
            (units, period) => Err(self.half_pair(format!(
                "quota_units {units:?} with quota_period {period:?}"
            ))),
        }
    }

    /// The price per billable unit, if any. Amount and currency are written
    /// together, so one without the other is corrupt.
    pub fn price(&self) -> Result<Option<Price>, StorageError> {
        match (self.price_amount_minor, &self.price_currency) {
            (Some(amount_minor), Some(currency)) => Ok(Some(Price {
                amount_minor,
                currency: currency.clone(),
            })),
            (None, None) => Ok(None),
            (amount, currency) => Err(self.half_pair(format!(
                "price_amount_minor {amount:?} with price_currency {currency:?}"
            ))),
        }
    }

    /// The purposes it permits, each with its own price if it has one.
    pub fn purposes(&self) -> Result<Vec<PurposeTerms>, StorageError> {
        let terms: Vec<PurposeTerms> = parse_json(TABLE, &self.id, "purposes", &self.purposes)?;
        if terms.is_empty() {
            return Err(self.half_pair("purposes: none".to_owned()));
        }
        Ok(terms)
    }

    /// The price of a unit fetched for `purpose`: its own, else the
    /// licence's.
    pub fn price_for(&self, purpose: Purpose) -> Result<Option<Price>, StorageError> {
        match self.purposes()?.into_iter().find(|t| t.purpose == purpose) {
            Some(PurposeTerms {
                price_per_unit: Some(price),
                ..
            }) => Ok(Some(price)),
            _ => self.price(),
        }
    }

    fn half_pair(&self, detail: String) -> StorageError {
        StorageError::Corrupt {
            table: TABLE,
            id: self.id.clone(),
            detail,
        }
    }
}

/// Which licences a list shows.
#[derive(Debug, Clone, Default)]
pub struct LicenceFilter {
    /// Only this licensee's.
    pub licensee_id: Option<String>,
    /// Only those on this publisher's content.
    pub publisher_id: Option<String>,
}

/// Scope of licence list cursors.
pub const LICENCES: &str = "licences";

/// Inserts a licence.
pub fn insert(conn: &mut DbConnection, row: &LicenceRow) -> Result<(), StorageError> {
    diesel::insert_into(licences::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// One licence.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<LicenceRow, StorageError> {
    Ok(licences::table
        .find(id)
        .select(LicenceRow::as_select())
        .get_result(conn)?)
}

/// Every licence of a licensee (a licensee has few).
pub fn of_licensee(
    conn: &mut DbConnection,
    licensee_id: &str,
) -> Result<Vec<LicenceRow>, StorageError> {
    Ok(licences::table
        .filter(licences::licensee_id.eq(licensee_id))
        .order(licences::id.asc())
        .select(LicenceRow::as_select())
        .load(conn)?)
}

/// Every licence on a publisher's content (the published licence
/// documents read them all).
pub fn of_publisher(
    conn: &mut DbConnection,
    publisher_id: &str,
) -> Result<Vec<LicenceRow>, StorageError> {
    Ok(licences::table
        .filter(licences::publisher_id.eq(publisher_id))
        .order(licences::id.asc())
        .select(LicenceRow::as_select())
        .load(conn)?)
}

/// A page of licences.
pub fn list(
    conn: &mut DbConnection,
    filter: &LicenceFilter,
    page: &PageRequest,
) -> Result<Page<LicenceRow>, StorageError> {
    let mut query = licences::table
        .select(LicenceRow::as_select())
        .order(licences::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(licensee) = &filter.licensee_id {
        query = query.filter(licences::licensee_id.eq(licensee.clone()));
    }
    if let Some(publisher) = &filter.publisher_id {
        query = query.filter(licences::publisher_id.eq(publisher.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(licences::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, LICENCES, |r| r.id.clone()))
}

/// Replaces the changeable fields of a licence.
pub fn update(conn: &mut DbConnection, row: &LicenceRow) -> Result<(), StorageError> {
    let updated = diesel::update(licences::table.find(&row.id))
        .set((
            licences::sections.eq(&row.sections),
            licences::tier.eq(&row.tier),
            licences::include_media.eq(row.include_media),
            licences::valid_from.eq(row.valid_from),
            licences::valid_until.eq(row.valid_until),
            licences::quota_units.eq(row.quota_units),
            licences::quota_period.eq(&row.quota_period),
            licences::rate_limit_per_minute.eq(row.rate_limit_per_minute),
            licences::price_amount_minor.eq(row.price_amount_minor),
            licences::price_currency.eq(&row.price_currency),
            licences::purposes.eq(&row.purposes),
            licences::attribution_required.eq(row.attribution_required),
            licences::updated_at.eq(row.updated_at),
            licences::takedown_hours.eq(row.takedown_hours),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::licence::QuotaPeriod;

    const ID: &str = "019ac0a7-5555-7666-8777-888899990000";

    fn licence() -> LicenceRow {
        let at = NaiveDateTime::default();
        LicenceRow {
            id: ID.to_owned(),
            licensee_id: uuid::Uuid::nil().to_string(),
            publisher_id: uuid::Uuid::nil().to_string(),
            sections: Some(r#"["news"]"#.to_owned()),
            tier: "full".to_owned(),
            include_media: true,
            valid_from: at,
            valid_until: None,
            quota_units: Some(500),
            quota_period: Some("day".to_owned()),
            rate_limit_per_minute: None,
            price_amount_minor: None,
            price_currency: None,
            created_at: at,
            updated_at: at,
            purposes: r#"[{"purpose":"display"},{"purpose":"ai-input","price_per_unit":{"amount_minor":40,"currency":"GBP"}}]"#.to_owned(),
            attribution_required: false,
            takedown_hours: 24,
        }
    }

    #[test]
    fn a_stored_licence_reads_as_its_types() {
        let row = licence();

        assert_eq!(row.tier().unwrap(), Tier::Full);
        assert_eq!(row.sections().unwrap(), Some(vec!["news".to_owned()]));
        assert_eq!(
            row.quota().unwrap(),
            Some(Quota {
                units: 500,
                period: QuotaPeriod::Day
            })
        );
        assert_eq!(row.price().unwrap(), None);
        assert_eq!(row.price_for(Purpose::Display).unwrap(), None);
        assert_eq!(
            row.price_for(Purpose::AiInput).unwrap(),
            Some(Price {
                amount_minor: 40,
                currency: "GBP".to_owned()
            })
        );
    }

    #[test]
    fn a_licence_whose_values_do_not_convert_is_corrupt_naming_the_row_and_field() {
        let bad_tier = LicenceRow {
            tier: "gold".to_owned(),
            ..licence()
        };
        let bad_sections = LicenceRow {
            sections: Some("news".to_owned()),
            ..licence()
        };
        let half_quota = LicenceRow {
            quota_period: None,
            ..licence()
        };
        let half_price = LicenceRow {
            price_currency: Some("GBP".to_owned()),
            ..licence()
        };
        let bad_purposes = LicenceRow {
            purposes: r#"[{"purpose":"ai-all"}]"#.to_owned(),
            ..licence()
        };
        let no_purposes = LicenceRow {
            purposes: "[]".to_owned(),
            ..licence()
        };

        for (error, field) in [
            (bad_tier.tier().map(drop), "tier \"gold\""),
            (bad_sections.sections().map(drop), "sections: "),
            (
                half_quota.quota().map(drop),
                "quota_units Some(500) with quota_period None",
            ),
            (
                half_price.price().map(drop),
                "price_amount_minor None with price_currency",
            ),
            (bad_purposes.purposes().map(drop), "purposes: "),
            (no_purposes.purposes().map(drop), "purposes: none"),
        ] {
            let Err(StorageError::Corrupt { table, id, detail }) = error else {
                panic!("{field}: not Corrupt: {error:?}");
            };
            assert_eq!((table, id.as_str()), ("licences", ID));
            assert!(detail.starts_with(field), "{detail}");
        }
    }
}
