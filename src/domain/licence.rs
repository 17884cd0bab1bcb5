//! A licence's commercial terms: how many billable units it allows per
//! period, and what each costs. Stored in pairs of columns (units and
//! period, amount and currency) and shown as these values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A quota period: UTC calendar days or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaPeriod {
    /// A UTC calendar day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl QuotaPeriod {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        }
    }
}

impl std::str::FromStr for QuotaPeriod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "day" => Ok(QuotaPeriod::Day),
            "month" => Ok(QuotaPeriod::Month),
            other => Err(format!("unknown quota period {other:?}")),
        }
    }
}

/// Billable units allowed per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"units": 500, "period": "day"}))]
pub struct Quota {
    /// Billable deliveries allowed per period, at least 1.
    #[schema(minimum = 1, maximum = 1000000000000i64)]
    pub units: i64,
    /// The period.
    pub period: QuotaPeriod,
}

/// A price per billable unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 25, "currency": "GBP"}))]
pub struct Price {
    /// In minor units (pence, cents), zero or more.
    #[schema(minimum = 0, maximum = 1000000000000i64)]
    pub amount_minor: i64,
    /// ISO 4217 code.
    #[schema(pattern = "^[A-Z]{3}$", example = "GBP")]
    pub currency: String,
}
