//! Metering: every successful delivery is a usage event, durable before the
//! response leaves; the first delivery of an article to a licence in a
//! period is billable; quotas are exact; rate limits pace clients; and the
//! IETF `RateLimit-Policy` / `RateLimit` fields tell clients where they are.

pub mod headers;
pub mod period;
pub mod ratelimit;
pub mod writer;

pub use period::Period;
pub use ratelimit::RateLimits;
pub use writer::UsageWriter;
