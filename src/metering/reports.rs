//! Usage reports: the ledger aggregated for a time range, grouped by day,
//! article, publisher, licensee or licence, as each party may see it (a
//! licensee its own usage, a publisher the usage of its content, an admin
//! all), with totals per currency, as JSON, CSV or an SVG chart. Every row
//! carries a label people can read beside its key (a headline, a name, the
//! day); the chart draws the range day by day (`chart`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::form_urlencoded;
use utoipa::ToSchema;
use uuid::Uuid;

use super::MeteringError;
use super::chart::Chart;
use crate::domain::Role;
use crate::identity::Caller;
use crate::storage::DbConnection;
use crate::storage::reports::{self, DayRow, GroupBy, ReportRow, ReportScope};
use crate::storage::shipping;

/// How a report groups deliveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// By UTC day (`YYYY-MM-DD`, its own label).
    #[default]
    Day,
    /// By article id, labelled with the article's current headline.
    Article,
    /// By publisher id, labelled with the publisher's name.
    Publisher,
    /// By licensee id, labelled with the licensee's name.
    Licensee,
    /// By licence id, labelled "licensee ← publisher (tier)".
    Licence,
    /// By the purpose deliveries were fetched for (`display`, `ai-input`,
    /// …), its own label.
    Purpose,
}

/// Report output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// JSON (default).
    Json,
    /// CSV with a header row (also chosen by `Accept: text/csv`).
    Csv,
    /// An SVG chart of the range day by day (also chosen by `Accept:
    /// image/svg+xml`).
    Svg,
}

/// One group of deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "key": "019ac0a7-1111-7222-8333-444455556666",
    "label": "Harbour Gazette",
    "deliveries": 14,
    "billable_units": 11,
    "amount_minor": 275,
    "currency": "GBP"
}))]
pub struct UsageRow {
    /// The group: a day, or an article, publisher, licensee or licence id.
    pub key: String,
    /// The group for people: an article's current headline, a publisher's
    /// or licensee's name, a licence as "licensee ← publisher (tier)", a
    /// day as itself. The key stands in where nothing is on record.
    #[schema(example = "新华社")]
    pub label: String,
    /// Deliveries, billable or not.
    pub deliveries: i64,
    /// Billable deliveries.
    pub billable_units: i64,
    /// Billable units × price, in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code of the price; absent when the licence has no price.
    pub currency: Option<String>,
}

/// An amount in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Amount {
    /// ISO 4217 code; absent for unpriced deliveries.
    pub currency: Option<String>,
    /// In minor units.
    pub amount_minor: i64,
}

/// Totals of a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageTotals {
    /// Deliveries, billable or not.
    pub deliveries: i64,
    /// Billable deliveries.
    pub billable_units: i64,
    /// Amounts, one per currency.
    pub amounts: Vec<Amount>,
}

/// A usage report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "from": "2026-11-01T00:00:00Z",
    "to": "2026-12-01T00:00:00Z",
    "group_by": "day",
    "as_of": "2026-12-01T09:14:03Z",
    "rows": [
        {"key": "2026-11-27", "label": "2026-11-27", "deliveries": 14, "billable_units": 11, "amount_minor": 275, "currency": "GBP"},
        {"key": "2026-11-28", "label": "2026-11-28", "deliveries": 9, "billable_units": 6, "amount_minor": 150, "currency": "GBP"}
    ],
    "totals": {"deliveries": 23, "billable_units": 17, "amounts": [{"currency": "GBP", "amount_minor": 425}]},
    "chart": "/v1/usage?from=2026-11-01T00%3A00%3A00%2B00%3A00&to=2026-12-01T00%3A00%3A00%2B00%3A00&group_by=day&format=svg"
}))]
pub struct UsageReport {
    /// Start of the range, if bounded.
    pub from: Option<DateTime<Utc>>,
    /// End of the range (exclusive).
    pub to: DateTime<Utc>,
    /// The grouping.
    pub group_by: Grouping,
    /// Every delivery answered before this instant is in the rows. Nodes
    /// that keep a usage journal ship it to the ledger within about a
    /// second; while one cannot, this stays where it stopped.
    pub as_of: DateTime<Utc>,
    /// One row per group and currency, sorted.
    pub rows: Vec<UsageRow>,
    /// Sums over all rows.
    pub totals: UsageTotals,
    /// The same report drawn as an SVG chart.
    pub chart: String,
}

/// What a report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// From this instant (inclusive); `None` is the beginning.
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive).
    pub to: DateTime<Utc>,
    /// The grouping.
    pub group_by: Grouping,
    /// Only this licensee's deliveries.
    pub licensee_id: Option<Uuid>,
    /// Only deliveries of this publisher's content.
    pub publisher_id: Option<Uuid>,
}

impl Grouping {
    /// Its name in the API (`day`, `article`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Article => "article",
            Grouping::Publisher => "publisher",
            Grouping::Licensee => "licensee",
            Grouping::Licence => "licence",
            Grouping::Purpose => "purpose",
        }
    }

    /// The ledger's dimension.
    fn group_by(self) -> GroupBy {
        match self {
            Grouping::Day => GroupBy::Day,
            Grouping::Article => GroupBy::Article,
            Grouping::Publisher => GroupBy::Publisher,
            Grouping::Licensee => GroupBy::Licensee,
            Grouping::Licence => GroupBy::Licence,
            Grouping::Purpose => GroupBy::Purpose,
        }
    }
}

/// The deliveries a caller may see of what `request` asks for: a licensee
/// its own (naming another licensee is refused), a publisher those of its
/// content (naming another publisher is refused), an admin any.
fn scope(caller: &Caller, request: &ReportRequest) -> Result<ReportScope, MeteringError> {
    let id = |id: Option<Uuid>| id.map(|id| id.hyphenated().to_string());
    let (licensee_id, publisher_id) = match caller.role {
        Role::Admin => (id(request.licensee_id), id(request.publisher_id)),
        Role::Licensee => {
            let own = caller.licensee_id().map(|id| id.to_string());
            if request.licensee_id.is_some() && id(request.licensee_id) != own {
                return Err(MeteringError::Forbidden(
                    "a licensee sees its own usage only; leave out licensee_id".to_owned(),
                ));
            }
            (own, id(request.publisher_id))
        }
        Role::Publisher => {
            let own = caller.publisher_id().map(|id| id.to_string());
            if request.publisher_id.is_some() && id(request.publisher_id) != own {
                return Err(MeteringError::Forbidden(
                    "a publisher sees usage of its own content only; leave out publisher_id"
                        .to_owned(),
                ));
            }
            (id(request.licensee_id), own)
        }
    };
    Ok(ReportScope {
        licensee_id,
        publisher_id,
        from: request.from.map(|t| t.naive_utc()),
        to: Some(request.to.naive_utc()),
    })
}

/// The report's rows, sorted by key and currency, and the instant before
/// which every delivery is in them.
pub fn rows(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &ReportRequest,
) -> Result<(Vec<ReportRow>, DateTime<Utc>), MeteringError> {
    let scope = scope(caller, request)?;
    // Read before the rows, so the rows hold at least what it promises.
    let now = crate::storage::now();
    let as_of = shipping::ledger_as_of(conn)?.map_or(now, |shipped| shipped.min(now));
    Ok((
        reports::report(conn, &scope, request.group_by.group_by())?,
        DateTime::from_naive_utc_and_offset(as_of, Utc),
    ))
}

/// The report's rows per UTC day and group, for the chart.
pub fn series(
    conn: &mut DbConnection,
    caller: &Caller,
    request: &ReportRequest,
) -> Result<Vec<DayRow>, MeteringError> {
    let scope = scope(caller, request)?;
    Ok(reports::series(conn, &scope, request.group_by.group_by())?)
}

/// The report as JSON, with a link to the same report as a chart.
pub fn report(request: &ReportRequest, rows: Vec<ReportRow>, as_of: DateTime<Utc>) -> UsageReport {
    UsageReport {
        as_of,
        chart: chart_link(request),
        from: request.from,
        to: request.to,
        group_by: request.group_by,
        totals: totals(&rows),
        rows: rows
            .into_iter()
            .map(|r| UsageRow {
                key: r.key,
                label: r.label,
                deliveries: r.deliveries,
                billable_units: r.billable_units,
                amount_minor: r.amount_minor,
                currency: r.currency,
            })
            .collect(),
    }
}

/// The path of the same report drawn as an SVG chart.
fn chart_link(request: &ReportRequest) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(from) = request.from {
        query.append_pair("from", &from.to_rfc3339());
    }
    query.append_pair("to", &request.to.to_rfc3339());
    query.append_pair("group_by", request.group_by.as_str());
    for (name, id) in [
        ("licensee_id", request.licensee_id),
        ("publisher_id", request.publisher_id),
    ] {
        if let Some(id) = id {
            query.append_pair(name, &id.to_string());
        }
    }
    query.append_pair("format", "svg");
    format!("/v1/usage?{}", query.finish())
}

/// The report as CSV (RFC 4180: CRLF line ends, fields quoted where they
/// hold a comma, a quote or a line break) with a header row.
pub fn csv(rows: &[ReportRow]) -> String {
    let mut csv = String::from("key,label,currency,deliveries,billable_units,amount_minor\r\n");
    for row in rows {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            csv_field(&row.key),
            csv_field(&row.label),
            csv_field(row.currency.as_deref().unwrap_or("")),
            row.deliveries,
            row.billable_units,
            row.amount_minor
        ));
    }
    csv
}

/// The report drawn as an SVG chart of its range, day by day: from the
/// range's first day (or, if it has none, the first day with deliveries)
/// to the day of its last instant.
pub fn svg(request: &ReportRequest, rows: &[DayRow]) -> String {
    let last = (request.to - chrono::Duration::microseconds(1)).date_naive();
    let first = match request.from {
        Some(from) => from.date_naive(),
        None => rows
            .iter()
            .filter_map(|r| chrono::NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok())
            .min()
            .unwrap_or(last),
    };
    let title = format!("Usage by {}", request.group_by.as_str());
    Chart::new(title, first, last, request.group_by == Grouping::Day, rows).to_svg()
}

fn totals(rows: &[ReportRow]) -> UsageTotals {
    let mut amounts: Vec<Amount> = Vec::new();
    for row in rows {
        match amounts.iter_mut().find(|a| a.currency == row.currency) {
            Some(amount) => amount.amount_minor += row.amount_minor,
            None => amounts.push(Amount {
                currency: row.currency.clone(),
                amount_minor: row.amount_minor,
            }),
        }
    }
    amounts.sort_by(|a, b| a.currency.cmp(&b.currency));
    UsageTotals {
        deliveries: rows.iter().map(|r| r.deliveries).sum(),
        billable_units: rows.iter().map(|r| r.billable_units).sum(),
        amounts,
    }
}

/// Escapes a CSV field (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}
