//! A licence's commercial terms: how many billable units it allows per
//! period, and what each costs. Stored in pairs of columns (units and
//! period, amount and currency) and shown as these values.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::content::{AgencyCredit, Byline};
use super::purpose::Purpose;

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

/// A purpose a licence permits, at its own price or the licence's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"purpose": "ai-input", "price_per_unit": {"amount_minor": 40, "currency": "GBP"}}))]
pub struct PurposeTerms {
    /// The purpose.
    pub purpose: Purpose,
    /// The price of a billable unit fetched for it; absent means the
    /// licence's `price_per_unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_unit: Option<Price>,
}

impl PurposeTerms {
    /// What every licence permitted before purposes: `display`, at the
    /// licence's price.
    pub fn display() -> Vec<PurposeTerms> {
        vec![PurposeTerms {
            purpose: Purpose::Display,
            price_per_unit: None,
        }]
    }
}

/// The credit a licensee must show with an article when its licence
/// requires attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "text": "Amara Okafor in Lagos / The Harbour Times; Northwire contributed to this report",
    "link": "https://harbourtimes.example/world/2026/nov/28/port-strike"
}))]
pub struct Attribution {
    /// The bylines with where they reported from, the publisher, and the
    /// agencies' credit lines.
    pub text: String,
    /// The article's page on the publisher's site, if it has one.
    pub link: Option<String>,
}

impl Attribution {
    /// Built from the article's bylines, its publisher and its agency
    /// credits: "A in Lagos and B / Publisher; Agency contributed to this
    /// report".
    pub fn of(
        publisher: &str,
        bylines: &[Byline],
        credits: &[AgencyCredit],
        link: Option<&str>,
    ) -> Attribution {
        let people: Vec<String> = bylines
            .iter()
            .map(|b| match &b.location {
                Some(location) => format!("{} {location}", b.name),
                None => b.name.clone(),
            })
            .collect();
        let mut text = match people.as_slice() {
            [] => String::new(),
            [one] => format!("{one} / "),
            [rest @ .., last] => format!("{} and {last} / ", rest.join(", ")),
        };
        text.push_str(publisher);
        for credit in credits {
            text.push_str("; ");
            text.push_str(&credit.credit_line);
        }
        Attribution {
            text,
            link: link.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::{CreditRole, Redistribution};

    fn byline(name: &str, location: Option<&str>) -> Byline {
        Byline {
            name: name.to_owned(),
            role: None,
            location: location.map(str::to_owned),
        }
    }

    #[test]
    fn an_attribution_names_the_reporters_the_publisher_and_the_agencies() {
        let credit = AgencyCredit {
            agency: "Northwire".to_owned(),
            role: CreditRole::Contributed,
            credit_line: "Northwire contributed to this report".to_owned(),
            redistribution: Redistribution::Allowed,
        };
        let one = Attribution::of(
            "The Harbour Times",
            &[byline("Amara Okafor", Some("in Lagos"))],
            std::slice::from_ref(&credit),
            Some("https://harbourtimes.example/a"),
        );
        assert_eq!(
            one.text,
            "Amara Okafor in Lagos / The Harbour Times; Northwire contributed to this report"
        );
        assert_eq!(one.link.as_deref(), Some("https://harbourtimes.example/a"));

        let three = Attribution::of(
            "新华社",
            &[
                byline("A", None),
                byline("B", None),
                byline("C", Some("in Quito")),
            ],
            &[],
            None,
        );
        assert_eq!(three.text, "A, B and C in Quito / 新华社");
        assert_eq!(Attribution::of("P", &[], &[], None).text, "P");
    }
}
