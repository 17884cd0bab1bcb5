//! Metering: every successful delivery is a usage event, durable before the
//! response leaves; the first delivery of an article to a licence in a
//! period is billable; quotas are exact; rate limits pace clients; and the
//! IETF `RateLimit-Policy` / `RateLimit` fields tell clients where they are.
//! Quota standings and usage reports are read from the same ledger.

pub mod chart;
pub mod headers;
pub mod journal;
pub mod journaled;
pub mod meter;
pub mod period;
pub mod quota;
pub mod ratelimit;
pub mod reports;
pub mod writer;

pub use journaled::JournalSettings;
pub use period::Period;
pub use ratelimit::RateLimits;
pub use writer::UsageWriter;

use crate::storage::StorageError;

/// Why a quota or usage question was not answered.
#[derive(Debug, thiserror::Error)]
pub enum MeteringError {
    /// The caller may not see what it asked for.
    #[error("{0}")]
    Forbidden(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
