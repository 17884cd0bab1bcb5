//! Usage reports read from the ledger: deliveries, billable units and
//! amounts grouped by a dimension (day, article, publisher, licensee,
//! licence), with a label people can read beside each key, either over the
//! whole range or per UTC day of it (the chart's series).
//!
//! Whole UTC days come from `usage_daily`, the partial days at either end of
//! the range (and dimensions `usage_daily` does not keep) from the events
//! themselves; the sums are the same either way. Labels are joined onto the
//! grouped rows in the same statement, so a report costs no query per row.
//!
//! A dimension is a ledger column and how its label is found
//! ([`GroupBy::dimension`]): a new grouping is a variant of [`GroupBy`] and
//! one entry there.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DbConnection, StorageError};

/// How a usage report groups rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Article,
    Publisher,
    Licensee,
    Licence,
    Purpose,
}

/// A grouping's column in the ledger and where its label comes from.
struct Dimension {
    /// The column of `usage_events` (and of `usage_daily`, if `daily`).
    column: &'static str,
    /// Whether `usage_daily` keeps the column; if not, reports by it read
    /// the events.
    daily: bool,
    /// Joins onto the grouped rows, aliased `g` (key column `g.key`), that
    /// the label reads from.
    joins: &'static str,
    /// The label as SQL over those joins; where it is NULL (nothing on
    /// record), the key stands in.
    label: &'static str,
}

impl GroupBy {
    fn dimension(self) -> Dimension {
        match self {
            GroupBy::Day => Dimension {
                column: "day",
                daily: true,
                joins: "",
                label: "g.key",
            },
            // Its current headline.
            GroupBy::Article => Dimension {
                column: "article_id",
                daily: false,
                joins: "LEFT JOIN articles a ON a.id = g.key",
                label: "a.headline",
            },
            GroupBy::Publisher => Dimension {
                column: "publisher_id",
                daily: true,
                joins: "LEFT JOIN publishers p ON p.id = g.key",
                label: "p.name",
            },
            GroupBy::Licensee => Dimension {
                column: "licensee_id",
                daily: true,
                joins: "LEFT JOIN licensees le ON le.id = g.key",
                label: "le.name",
            },
            // "Morning Brief ← Harbour Gazette (full)": who receives from
            // whom, and the tier that tells two licences of a pair apart.
            GroupBy::Licence => Dimension {
                column: "licence_id",
                daily: true,
                joins: "LEFT JOIN licences l ON l.id = g.key \
                        LEFT JOIN licensees le ON le.id = l.licensee_id \
                        LEFT JOIN publishers p ON p.id = l.publisher_id",
                label: "le.name || ' ← ' || p.name || ' (' || l.tier || ')'",
            },
            // The purpose's own name.
            GroupBy::Purpose => Dimension {
                column: "purpose",
                daily: true,
                joins: "",
                label: "g.key",
            },
        }
    }
}

/// Which events a report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportScope {
    pub licensee_id: Option<String>,
    pub publisher_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// One aggregated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// The group: a day (`YYYY-MM-DD`) or an id.
    pub key: String,
    /// The group for people: a headline, a name, the day.
    pub label: String,
    pub currency: Option<String>,
    pub deliveries: i64,
    pub billable_units: i64,
    pub amount_minor: i64,
}

/// One aggregated row of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub row: ReportRow,
}

/// A row as the statements return it: `day` is NULL unless grouped by day
/// as well.
#[derive(QueryableByName)]
struct Grouped {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    day: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    label: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    currency: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    deliveries: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    billable_units: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount_minor: i64,
}

impl Grouped {
    fn into_row(self) -> ReportRow {
        ReportRow {
            key: self.key,
            label: self.label,
            currency: self.currency,
            deliveries: self.deliveries,
            billable_units: self.billable_units,
            amount_minor: self.amount_minor,
        }
    }
}

/// Aggregates the ledger, grouped and sorted by key, then currency (no
/// currency first).
pub fn report(
    conn: &mut DbConnection,
    scope: &ReportScope,
    group_by: GroupBy,
) -> Result<Vec<ReportRow>, StorageError> {
    Ok(aggregate(conn, scope, group_by, false)?
        .into_iter()
        .map(Grouped::into_row)
        .collect())
}

/// The report straight from the events, each one read.
pub fn report_from_events(
    conn: &mut DbConnection,
    scope: &ReportScope,
    group_by: GroupBy,
) -> Result<Vec<ReportRow>, StorageError> {
    Ok(sorted(from_events(conn, scope, group_by, false)?)
        .into_iter()
        .map(Grouped::into_row)
        .collect())
}

/// Aggregates the ledger per UTC day and group, sorted by day, key and
/// currency. Only days with deliveries have rows.
pub fn series(
    conn: &mut DbConnection,
    scope: &ReportScope,
    group_by: GroupBy,
) -> Result<Vec<DayRow>, StorageError> {
    aggregate(conn, scope, group_by, true)?
        .into_iter()
        .map(|grouped| match grouped.day.clone() {
            Some(day) => Ok(DayRow {
                day,
                row: grouped.into_row(),
            }),
            None => Err(StorageError::Other(
                "a row of a report by day came back without its day".into(),
            )),
        })
        .collect()
}

/// The rows of a report (per day too if `by_day`): whole days from
/// `usage_daily` where the dimension is kept there, the rest from the
/// events, merged and sorted.
fn aggregate(
    conn: &mut DbConnection,
    scope: &ReportScope,
    group_by: GroupBy,
    by_day: bool,
) -> Result<Vec<Grouped>, StorageError> {
    let first_whole = scope.from.map(|from| {
        let midnight = from.date().and_time(chrono::NaiveTime::MIN);
        if midnight == from {
            from
        } else {
            midnight + chrono::Duration::days(1)
        }
    });
    let end_whole = scope
        .to
        .map(|to| to.date().and_time(chrono::NaiveTime::MIN));
    let no_whole_day = match (first_whole, end_whole) {
        (Some(first), Some(end)) => first >= end,
        _ => false,
    };
    if !group_by.dimension().daily || no_whole_day {
        return Ok(sorted(from_events(conn, scope, group_by, by_day)?));
    }
    let mut rows = from_days(
        conn,
        scope,
        first_whole.map(|d| d.date().to_string()),
        end_whole.map(|d| d.date().to_string()),
        group_by,
        by_day,
    )?;
    if let (Some(from), Some(first)) = (scope.from, first_whole)
        && from < first
    {
        let head = ReportScope {
            from: Some(from),
            to: Some(first),
            ..scope.clone()
        };
        rows.extend(from_events(conn, &head, group_by, by_day)?);
    }
    if let (Some(to), Some(end)) = (scope.to, end_whole)
        && end < to
    {
        let tail = ReportScope {
            from: Some(end),
            to: Some(to),
            ..scope.clone()
        };
        rows.extend(from_events(conn, &tail, group_by, by_day)?);
    }
    Ok(sorted(rows))
}

/// Sums rows of the same day, key and currency, sorted by them.
fn sorted(rows: Vec<Grouped>) -> Vec<Grouped> {
    let mut merged: BTreeMap<(Option<String>, String, Option<String>), Grouped> = BTreeMap::new();
    for row in rows {
        match merged.entry((row.day.clone(), row.key.clone(), row.currency.clone())) {
            Entry::Occupied(mut entry) => {
                let sum = entry.get_mut();
                sum.deliveries += row.deliveries;
                sum.billable_units += row.billable_units;
                sum.amount_minor += row.amount_minor;
            }
            Entry::Vacant(entry) => {
                entry.insert(row);
            }
        }
    }
    merged.into_values().collect()
}

/// The WHERE clause of a report. Every placeholder appears once, numbered
/// in order as both backends accept: a filter that is present compares its
/// column (so indexes serve it), an absent one is `$n IS NULL`, true for
/// the NULL bound to it.
fn filters(scope: &ReportScope, from: &str, to: &str, has_from: bool, has_to: bool) -> String {
    let clause = |present: bool, test: &str, placeholder: &str| {
        if present {
            test.to_owned()
        } else {
            format!("{placeholder} IS NULL")
        }
    };
    [
        clause(scope.licensee_id.is_some(), "licensee_id = $1", "$1"),
        clause(scope.publisher_id.is_some(), "publisher_id = $2", "$2"),
        clause(has_from, from, "$3"),
        clause(has_to, to, "$4"),
    ]
    .join(" AND ")
}

/// The statement: `sums` grouped by the dimension's column (and the day,
/// if `by_day`) over `source` where `filters` hold, and the label joined
/// onto each group.
fn statement(group_by: GroupBy, by_day: bool, sums: &str, source: &str, filters: &str) -> String {
    let Dimension {
        column,
        joins,
        label,
        ..
    } = group_by.dimension();
    let (day, group) = if by_day {
        ("day", format!("day, {column}, currency"))
    } else {
        ("CAST(NULL AS TEXT)", format!("{column}, currency"))
    };
    format!(
        "SELECT g.day, g.key, COALESCE({label}, g.key) AS label, g.currency, \
                g.deliveries, g.billable_units, g.amount_minor \
         FROM (SELECT {day} AS day, {column} AS key, {sums} \
               FROM {source} WHERE {filters} GROUP BY {group}) g {joins}"
    )
}

/// The rows straight from the events, each one read.
fn from_events(
    conn: &mut DbConnection,
    scope: &ReportScope,
    group_by: GroupBy,
    by_day: bool,
) -> Result<Vec<Grouped>, StorageError> {
    use diesel::sql_types::{Nullable, Text, Timestamp};
    let filters = filters(
        scope,
        "at >= $3",
        "at < $4",
        scope.from.is_some(),
        scope.to.is_some(),
    );
    let sums = "currency, \
                CAST(COUNT(*) AS BIGINT) AS deliveries, \
                CAST(SUM(CASE WHEN billable THEN 1 ELSE 0 END) AS BIGINT) AS billable_units, \
                CAST(SUM(CASE WHEN billable THEN COALESCE(unit_price, 0) ELSE 0 END) AS BIGINT) AS amount_minor";
    let sql = statement(group_by, by_day, sums, "usage_events", &filters);
    Ok(diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(scope.licensee_id.clone())
        .bind::<Nullable<Text>, _>(scope.publisher_id.clone())
        .bind::<Nullable<Timestamp>, _>(scope.from)
        .bind::<Nullable<Timestamp>, _>(scope.to)
        .load(conn)?)
}

/// Whole days `[first, end)` (`YYYY-MM-DD`; `None` is open) from `usage_daily`.
fn from_days(
    conn: &mut DbConnection,
    scope: &ReportScope,
    first: Option<String>,
    end: Option<String>,
    group_by: GroupBy,
    by_day: bool,
) -> Result<Vec<Grouped>, StorageError> {
    use diesel::sql_types::{Nullable, Text};
    let filters = filters(
        scope,
        "day >= $3",
        "day < $4",
        first.is_some(),
        end.is_some(),
    );
    let sums = "NULLIF(currency, '') AS currency, \
                CAST(SUM(deliveries) AS BIGINT) AS deliveries, \
                CAST(SUM(billable_units) AS BIGINT) AS billable_units, \
                CAST(SUM(amount_minor) AS BIGINT) AS amount_minor";
    let sql = statement(group_by, by_day, sums, "usage_daily", &filters);
    Ok(diesel::sql_query(sql)
        .bind::<Nullable<Text>, _>(scope.licensee_id.clone())
        .bind::<Nullable<Text>, _>(scope.publisher_id.clone())
        .bind::<Nullable<Text>, _>(first)
        .bind::<Nullable<Text>, _>(end)
        .load(conn)?)
}
