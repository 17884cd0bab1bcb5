//! Licences: which licensee may have which publisher's content, in which
//! tier, with or without photos, for how long, how much and at what price.
//! Granting and changing one (admins), and reading the ones a caller may
//! see: all for an admin, its own for a licensee, those on its content for
//! a publisher. Delivery enforces the terms (`domain::access`, `metering`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::LicensingError;
use crate::domain::access::Tier;
use crate::domain::field;
/// A licence's quota and price terms; domain types, found here too.
pub use crate::domain::licence::{Price, PurposeTerms, Quota, QuotaPeriod};
use crate::domain::purpose::{self, Purpose};
use crate::domain::text::single_line;
use crate::domain::{FieldError, LicenceId, LicenseeId, PublisherId, Role};
use crate::identity::Caller;
use crate::storage::licences::{self, LicenceFilter, LicenceRow};
use crate::storage::page::{Page, PageRequest};
use crate::storage::{DbConnection, StorageError, now, organisations};

/// The list whose cursors [`list`] takes.
pub const LIST: &str = licences::LICENCES;

/// Most sections one licence may name.
const MAX_SECTIONS: usize = 100;
/// Hours to confirm a takedown when a new licence names none.
pub const DEFAULT_TAKEDOWN_HOURS: i32 = 24;
/// Most hours a licence may give to confirm a takedown (thirty days).
pub const MAX_TAKEDOWN_HOURS: i32 = 720;

/// A licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Licence {
    /// Its id.
    pub id: LicenceId,
    /// Who may receive content.
    pub licensee_id: LicenseeId,
    /// Whose content.
    pub publisher_id: PublisherId,
    /// The sections covered, sorted; `None` means all.
    pub sections: Option<Vec<String>>,
    /// What of an article is delivered.
    pub tier: Tier,
    /// Whether photos are delivered.
    pub include_media: bool,
    /// In force from this instant…
    pub valid_from: DateTime<Utc>,
    /// …until this one (exclusive), if it ends.
    pub valid_until: Option<DateTime<Utc>>,
    /// Billable units per period; `None` means unlimited.
    pub quota: Option<Quota>,
    /// Requests per minute; `None` means unlimited.
    pub rate_limit_per_minute: Option<i32>,
    /// Price per billable unit, for purposes without a price of their own.
    pub price_per_unit: Option<Price>,
    /// The purposes it permits, in order, each with its own price if it
    /// has one.
    pub purposes: Vec<PurposeTerms>,
    /// Whether a delivery under it carries the article's attribution, which
    /// the licensee must show.
    pub attribution_required: bool,
    /// Hours the licensee has to confirm a takedown notice.
    pub takedown_hours: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<LicenceRow> for Licence {
    type Error = StorageError;

    fn try_from(row: LicenceRow) -> Result<Self, StorageError> {
        Ok(Self {
            id: row.licence_id()?,
            licensee_id: row.licensee_id()?,
            publisher_id: row.publisher_id()?,
            sections: row.sections()?,
            tier: row.tier()?,
            quota: row.quota()?,
            price_per_unit: row.price()?,
            purposes: row.purposes()?,
            attribution_required: row.attribution_required,
            include_media: row.include_media,
            valid_from: row.valid_from.and_utc(),
            valid_until: row.valid_until.map(|t| t.and_utc()),
            rate_limit_per_minute: row.rate_limit_per_minute,
            takedown_hours: row.takedown_hours,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// A new licence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "licensee_id": "019ac0a4-9d2f-7e10-8b42-5a6b7c8d9e01",
    "publisher_id": "019ac0a4-7b1e-7c3d-9a51-2f0c1d2e3f40",
    "sections": ["environment", "world"],
    "tier": "full",
    "include_media": true,
    "valid_from": "2026-11-01T00:00:00Z",
    "quota": {"units": 500, "period": "day"},
    "rate_limit_per_minute": 600,
    "price_per_unit": {"amount_minor": 25, "currency": "GBP"},
    "purposes": [
        {"purpose": "display"},
        {"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}}
    ],
    "attribution_required": true,
    "takedown_hours": 24
}))]
pub struct CreateLicenceRequest {
    /// Who may receive content.
    pub licensee_id: Uuid,
    /// Whose content.
    pub publisher_id: Uuid,
    /// The sections covered (1 to 100 names); absent means all.
    #[schema(min_items = 1, max_items = 100)]
    pub sections: Option<Vec<String>>,
    /// `full` or `preview`.
    pub tier: Tier,
    /// Whether photos are delivered.
    pub include_media: bool,
    /// In force from this instant.
    pub valid_from: DateTime<Utc>,
    /// Ends at this instant, if it ends. At or before `valid_from`, the
    /// licence is never in force (how a licence not yet begun is cancelled).
    pub valid_until: Option<DateTime<Utc>>,
    /// Billable units per period; absent means unlimited.
    pub quota: Option<Quota>,
    /// Requests per minute (1 to 1000000); absent means unlimited.
    #[schema(minimum = 1, maximum = 1000000)]
    pub rate_limit_per_minute: Option<i32>,
    /// Price per billable unit, for purposes without a price of their own.
    pub price_per_unit: Option<Price>,
    /// The purposes it permits (1 to 5 entries), each at its own price or
    /// `price_per_unit`; a purpose listed more than once counts once, on
    /// its last entry's terms. Absent means `display` only, what every
    /// licence permitted before purposes. A fetch declares its purpose (see
    /// `GET /v1/content/{id}`), and one the licence does not permit is
    /// refused.
    #[schema(min_items = 1, max_items = 5)]
    pub purposes: Option<Vec<PurposeTerms>>,
    /// Whether deliveries carry the article's attribution (its byline,
    /// publisher and agency credits, and link), which the licensee must
    /// show; recorded in the ledger with each delivery. Absent means no.
    pub attribution_required: Option<bool>,
    /// Hours the licensee has to confirm a takedown notice (a kill, or a
    /// photo whose rights ended) before it is overdue: 1 to 720, default 24.
    #[schema(minimum = 1, maximum = 720, default = 24, example = 24)]
    pub takedown_hours: Option<i32>,
}

/// Reads a field that may be absent (leave alone), `null` (clear) or a value.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Changes to a licence; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"valid_until": "2026-12-31T00:00:00Z"}))]
pub struct UpdateLicenceRequest {
    /// The sections covered; `null` means all.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, min_items = 1, max_items = 100)]
    pub sections: Option<Option<Vec<String>>>,
    /// `full` or `preview`.
    pub tier: Option<Tier>,
    /// Whether photos are delivered.
    pub include_media: Option<bool>,
    /// In force from this instant.
    pub valid_from: Option<DateTime<Utc>>,
    /// Ends at this instant; `null` means never. Ending a licence early takes
    /// effect on the next request.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    /// Billable units per period; `null` means unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Quota>)]
    pub quota: Option<Option<Quota>>,
    /// Requests per minute; `null` means unlimited.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 1000000)]
    pub rate_limit_per_minute: Option<Option<i32>>,
    /// Price per billable unit; `null` means none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Price>)]
    pub price_per_unit: Option<Option<Price>>,
    /// The purposes it permits (1 to 5 entries), replacing the list; a
    /// purpose listed more than once counts once, on its last entry's terms.
    #[schema(min_items = 1, max_items = 5)]
    pub purposes: Option<Vec<PurposeTerms>>,
    /// Whether deliveries carry the article's attribution.
    pub attribution_required: Option<bool>,
    /// Hours the licensee has to confirm a takedown notice, 1 to 720.
    /// Notices already made keep their deadline.
    #[schema(minimum = 1, maximum = 720, example = 48)]
    pub takedown_hours: Option<i32>,
}

/// The sections as stored (a sorted JSON list without repeats), noting
/// what is wrong with them.
fn sections_json(sections: &[String], errors: &mut Vec<FieldError>) -> Option<String> {
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        errors.push(FieldError::new(
            "sections",
            "list 1 to 100 sections, or leave it out for all",
        ));
        return None;
    }
    let mut clean: Vec<String> = sections
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            single_line(s, 100)
                .map_err(|e| errors.push(FieldError::new(format!("sections.{i}"), e.to_string())))
                .ok()
        })
        .collect();
    clean.sort();
    clean.dedup();
    serde_json::to_string(&clean).ok()
}

/// The purposes as stored (a JSON list in the purposes' order), noting
/// what is wrong with them.
fn purposes_json(terms: &[PurposeTerms], errors: &mut Vec<FieldError>) -> String {
    if terms.is_empty() || terms.len() > Purpose::ALL.len() {
        errors.push(FieldError::new(
            "purposes",
            format!("list 1 to 5 purposes of {}", purpose::names(&Purpose::ALL)),
        ));
    }
    // A purpose listed more than once counts once, on its last terms.
    let mut sorted: Vec<PurposeTerms> = Vec::with_capacity(terms.len());
    for terms in terms.iter().rev() {
        if !sorted.iter().any(|t| t.purpose == terms.purpose) {
            sorted.push(terms.clone());
        }
    }
    sorted.sort_by_key(|t| t.purpose);
    for (i, terms) in terms.iter().enumerate() {
        if let Some(price) = &terms.price_per_unit {
            check_price(&format!("purposes.{i}.price_per_unit"), price, errors);
        }
    }
    serde_json::to_string(&sorted).unwrap_or_default()
}

/// Checks a price's amount and currency.
fn check_price(field: &str, price: &Price, errors: &mut Vec<FieldError>) {
    if !(0..=1_000_000_000_000).contains(&price.amount_minor) {
        errors.push(FieldError::new(
            format!("{field}.amount_minor"),
            "must be 0 to 10^12",
        ));
    }
    let currency = &price.currency;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(FieldError::new(
            format!("{field}.currency"),
            "must be an ISO 4217 code such as GBP",
        ));
    }
}

/// Checks the rules of the fields the row holds, as a new licence and a
/// changed one both need.
fn check(row: &LicenceRow, errors: &mut Vec<FieldError>) {
    if row
        .quota_units
        .is_some_and(|u| !(1..=1_000_000_000_000).contains(&u))
    {
        errors.push(FieldError::new("quota.units", "must be 1 to 10^12"));
    }
    if row
        .rate_limit_per_minute
        .is_some_and(|r| !(1..=1_000_000).contains(&r))
    {
        errors.push(FieldError::new(
            "rate_limit_per_minute",
            "must be 1 to 1000000",
        ));
    }
    if let (Some(amount_minor), Some(currency)) = (row.price_amount_minor, &row.price_currency) {
        let price = Price {
            amount_minor,
            currency: currency.clone(),
        };
        check_price("price_per_unit", &price, errors);
    }
    if !(1..=MAX_TAKEDOWN_HOURS).contains(&row.takedown_hours) {
        errors.push(FieldError::new(
            "takedown_hours",
            format!("must be 1 to {MAX_TAKEDOWN_HOURS}"),
        ));
    }
}

/// Notes `field` as naming nothing when `lookup` finds no row.
fn exists<T>(
    lookup: Result<T, StorageError>,
    field: &str,
    message: &str,
    unknown: &mut Vec<FieldError>,
) -> Result<(), StorageError> {
    match lookup {
        Ok(_) => Ok(()),
        Err(StorageError::NotFound) => {
            unknown.push(FieldError::new(field, message));
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Grants a licensee a licence to a publisher's content. Quota, rate limit
/// and price are enforced on metered delivery.
pub fn create(
    conn: &mut DbConnection,
    request: &CreateLicenceRequest,
) -> Result<Licence, LicensingError> {
    let mut errors = Vec::new();
    let mut unknown = Vec::new();
    let licensee = LicenseeId(request.licensee_id).to_string();
    let publisher = PublisherId(request.publisher_id).to_string();
    let found = organisations::find_licensee(conn, &licensee);
    exists(
        found,
        "licensee_id",
        "no licensee has this id",
        &mut unknown,
    )?;
    let found = organisations::find_publisher(conn, &publisher);
    exists(
        found,
        "publisher_id",
        "no publisher has this id",
        &mut unknown,
    )?;
    let sections = request
        .sections
        .as_deref()
        .and_then(|sections| sections_json(sections, &mut errors));
    let at = now();
    let row = LicenceRow {
        id: LicenceId::generate().to_string(),
        licensee_id: licensee,
        publisher_id: publisher,
        sections,
        tier: request.tier.as_str().to_owned(),
        include_media: request.include_media,
        valid_from: crate::storage::instant(request.valid_from),
        valid_until: request.valid_until.map(crate::storage::instant),
        quota_units: request.quota.as_ref().map(|q| q.units),
        quota_period: request.quota.as_ref().map(|q| q.period.as_str().to_owned()),
        rate_limit_per_minute: request.rate_limit_per_minute,
        price_amount_minor: request.price_per_unit.as_ref().map(|p| p.amount_minor),
        price_currency: request.price_per_unit.as_ref().map(|p| p.currency.clone()),
        created_at: at,
        updated_at: at,
        purposes: purposes_json(
            request
                .purposes
                .as_deref()
                .unwrap_or(&PurposeTerms::display()),
            &mut errors,
        ),
        attribution_required: request.attribution_required.unwrap_or(false),
        takedown_hours: request.takedown_hours.unwrap_or(DEFAULT_TAKEDOWN_HOURS),
    };
    check(&row, &mut errors);
    field::check(errors, unknown)?;
    licences::insert(conn, &row)?;
    Ok(row.try_into()?)
}

/// The licences a caller may see: all for admins (narrowed by the
/// licensee and publisher asked for), its own for a licensee, those on its
/// content for a publisher.
fn visible_to(
    caller: &Caller,
    licensee: Option<LicenseeId>,
    publisher: Option<PublisherId>,
) -> LicenceFilter {
    let (licensee, publisher) = match caller.role {
        Role::Admin => (licensee, publisher),
        Role::Licensee => (caller.licensee_id(), publisher),
        Role::Publisher => (licensee, caller.publisher_id()),
    };
    LicenceFilter {
        licensee_id: licensee.map(|id| id.to_string()),
        publisher_id: publisher.map(|id| id.to_string()),
    }
}

/// A page of the licences the caller may see, oldest first, narrowed to
/// one licensee or publisher when asked (a licensee or publisher caller
/// cannot widen it beyond its own).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    licensee: Option<LicenseeId>,
    publisher: Option<PublisherId>,
    page: &PageRequest,
) -> Result<Page<Licence>, LicensingError> {
    let filter = visible_to(caller, licensee, publisher);
    Ok(licences::list(conn, &filter, page)?.try_map(Licence::try_from)?)
}

/// The stored licence, if the caller may see it: one it cannot see does
/// not exist for it.
pub(super) fn find_visible(
    conn: &mut DbConnection,
    caller: &Caller,
    id: LicenceId,
) -> Result<LicenceRow, LicensingError> {
    let no_such_licence = || LicensingError::NotFound("no such licence".to_owned());
    let row = match licences::find(conn, &id.to_string()) {
        Err(StorageError::NotFound) => return Err(no_such_licence()),
        other => other?,
    };
    let mine = match caller.role {
        Role::Admin => true,
        Role::Licensee => caller
            .licensee_id()
            .is_some_and(|l| l.to_string() == row.licensee_id),
        Role::Publisher => caller
            .publisher_id()
            .is_some_and(|p| p.to_string() == row.publisher_id),
    };
    if mine {
        Ok(row)
    } else {
        Err(no_such_licence())
    }
}

/// One licence: for admins, or the licensee or publisher it names.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    id: LicenceId,
) -> Result<Licence, LicensingError> {
    Ok(find_visible(conn, caller, id)?.try_into()?)
}

/// Changes a licence, e.g. ends it early, changes its tier, quota, rate
/// limit or price; delivery sees the change on the next request. The
/// licence is looked for before the fields are checked, because the rules
/// span the fields it already has.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: LicenceId,
    request: &UpdateLicenceRequest,
) -> Result<Licence, LicensingError> {
    let mut row = find_visible(conn, caller, id)?;
    let mut errors = Vec::new();
    if let Some(sections) = &request.sections {
        row.sections = sections
            .as_deref()
            .and_then(|list| sections_json(list, &mut errors));
    }
    if let Some(tier) = request.tier {
        row.tier = tier.as_str().to_owned();
    }
    if let Some(include_media) = request.include_media {
        row.include_media = include_media;
    }
    if let Some(valid_from) = request.valid_from {
        row.valid_from = crate::storage::instant(valid_from);
    }
    if let Some(valid_until) = request.valid_until {
        row.valid_until = valid_until.map(crate::storage::instant);
    }
    if let Some(quota) = &request.quota {
        row.quota_units = quota.as_ref().map(|q| q.units);
        row.quota_period = quota.as_ref().map(|q| q.period.as_str().to_owned());
    }
    if let Some(rate) = request.rate_limit_per_minute {
        row.rate_limit_per_minute = rate;
    }
    if let Some(hours) = request.takedown_hours {
        row.takedown_hours = hours;
    }
    if let Some(price) = &request.price_per_unit {
        row.price_amount_minor = price.as_ref().map(|p| p.amount_minor);
        row.price_currency = price.as_ref().map(|p| p.currency.clone());
    }
    if let Some(purposes) = &request.purposes {
        row.purposes = purposes_json(purposes, &mut errors);
    }
    if let Some(required) = request.attribution_required {
        row.attribution_required = required;
    }
    check(&row, &mut errors);
    if !errors.is_empty() {
        return Err(LicensingError::Invalid(errors));
    }
    row.updated_at = now();
    licences::update(conn, &row)?;
    Ok(row.try_into()?)
}
