//! Billing and quota periods: UTC calendar days or months.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use crate::domain::licence::{Quota, QuotaPeriod};

/// A period length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A UTC calendar day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl Period {
    /// The period a licence counts and bills by: its quota's, or a month
    /// for a licence without a quota.
    pub fn of(quota: Option<&Quota>) -> Self {
        match quota.map(|quota| quota.period) {
            Some(QuotaPeriod::Day) => Period::Day,
            Some(QuotaPeriod::Month) | None => Period::Month,
        }
    }

    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
        }
    }

    /// The start of the period holding `at`.
    pub fn start(&self, at: NaiveDateTime) -> NaiveDateTime {
        let date = at.date();
        let first = match self {
            Period::Day => date,
            Period::Month => NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date),
        };
        first.and_time(chrono::NaiveTime::MIN)
    }

    /// The start of the next period (the end of this one, exclusive).
    pub fn end(&self, at: NaiveDateTime) -> NaiveDateTime {
        let start = self.start(at);
        match self {
            Period::Day => start + Duration::days(1),
            Period::Month => {
                let (year, month) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                NaiveDate::from_ymd_opt(year, month, 1).map_or(start + Duration::days(31), |d| {
                    d.and_time(chrono::NaiveTime::MIN)
                })
            }
        }
    }

    /// Whole seconds from `at` to the end of its period (at least 1).
    pub fn seconds_left(&self, at: NaiveDateTime) -> u64 {
        let left = (self.end(at) - at).num_milliseconds();
        u64::try_from((left + 999) / 1000).unwrap_or(1).max(1)
    }

    /// The period's length in seconds, for the `w` of a quota policy.
    pub fn window_seconds(&self, at: NaiveDateTime) -> i64 {
        (self.end(at) - self.start(at)).num_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn days_and_months_are_utc_calendar_periods() {
        assert_eq!(
            Period::Day.start(at("2026-11-28 17:30:00")),
            at("2026-11-28 00:00:00")
        );
        assert_eq!(
            Period::Day.end(at("2026-11-28 17:30:00")),
            at("2026-11-29 00:00:00")
        );
        assert_eq!(
            Period::Month.start(at("2026-11-28 17:30:00")),
            at("2026-11-01 00:00:00")
        );
        assert_eq!(
            Period::Month.end(at("2026-12-31 23:59:59")),
            at("2027-01-01 00:00:00")
        );
        assert_eq!(
            Period::Month.end(at("2028-02-10 00:00:00")),
            at("2028-03-01 00:00:00")
        );
    }

    #[test]
    fn seconds_left_round_up_and_never_reach_zero() {
        assert_eq!(Period::Day.seconds_left(at("2026-11-28 23:59:59")), 1);
        assert_eq!(Period::Day.seconds_left(at("2026-11-28 00:00:00")), 86_400);
    }
}
