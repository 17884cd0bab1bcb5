//! The IETF `RateLimit-Policy` and `RateLimit` header fields
//! (draft-ietf-httpapi-ratelimit-headers, structured-field lists): one
//! policy for the request rate and one for the billable quota of the
//! licence a delivery was made under.

use super::ratelimit::RateState;

/// The quota standing of a licence in its current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    /// Billable units per period.
    pub limit: i64,
    /// Units left.
    pub remaining: i64,
    /// Seconds until the period ends.
    pub reset: u64,
    /// The period's length in seconds.
    pub window: i64,
}

/// Where a request stands against its licence's rate and quota: what the
/// `RateLimit` fields of its answer say, a 200 or a 429 alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// The request rate, with the licence's requests a minute.
    pub rate: Option<(RateState, u32)>,
    /// The billable quota.
    pub quota: Option<QuotaState>,
}

impl Limits {
    /// The two field values, if there is any policy to state.
    pub fn fields(&self) -> Option<(String, String)> {
        fields(self.rate, self.quota)
    }
}

/// The two field values, if there is any policy to state.
pub fn fields(
    rate: Option<(RateState, u32)>,
    quota: Option<QuotaState>,
) -> Option<(String, String)> {
    let mut policies = Vec::new();
    let mut states = Vec::new();
    if let Some((state, _)) = rate {
        policies.push(format!("\"requests\";q={};w=60", state.limit));
        states.push(format!(
            "\"requests\";r={};t={}",
            state.remaining, state.reset
        ));
    }
    if let Some(quota) = quota {
        policies.push(format!(
            "\"billable\";q={};w={};qu=\"billable-units\"",
            quota.limit, quota.window
        ));
        states.push(format!(
            "\"billable\";r={};t={}",
            quota.remaining.max(0),
            quota.reset
        ));
    }
    (!policies.is_empty()).then(|| (policies.join(", "), states.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_policies_are_listed_as_structured_field_items() {
        let rate = RateState {
            limit: 600,
            remaining: 598,
            reset: 1,
        };
        let quota = QuotaState {
            limit: 500,
            remaining: 42,
            reset: 3600,
            window: 86400,
        };

        let (policy, state) = fields(Some((rate, 600)), Some(quota)).unwrap();

        assert_eq!(
            policy,
            "\"requests\";q=600;w=60, \"billable\";q=500;w=86400;qu=\"billable-units\""
        );
        assert_eq!(state, "\"requests\";r=598;t=1, \"billable\";r=42;t=3600");
        assert_eq!(fields(None, None), None);
    }
}
