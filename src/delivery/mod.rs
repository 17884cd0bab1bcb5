//! Delivery: what a licensee receives. The read model of what deliveries
//! are decided on, kept in memory and fresh ([`facts`]); the licensee's
//! entitlement; the metered delivery of one article ([`deliver`]), written
//! as JSON or IPTC ninjs ([`render`], [`ninjs`]); search ([`search`]) and
//! the change feed ([`feed`]). Every answer comes from the one access
//! decision in `domain::access`.

pub mod deliver;
pub mod document;
pub mod entitlement;
pub mod facts;
pub mod feed;
pub mod ninjs;
pub mod poller;
pub mod prepared;
pub mod render;
pub mod search;
pub mod stored;

use chrono::{DateTime, Utc};

pub use deliver::{Delivered, DeliveryRequest, Desk, deliver};
pub use document::{ContentResponse, Format};
pub use facts::FactCache;

use crate::domain::FieldError;
use crate::domain::purpose::Purpose;
use crate::identity::IdentityError;
use crate::metering::headers::Limits;
use crate::storage::StorageError;

/// Why a delivery, a search or a feed page was not given.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The client was revoked or its licensee suspended.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// No such article, or none this licensee may have now: the same answer
    /// for every reason, so a refusal never tells that an article exists.
    #[error("no such article")]
    NotFound,
    /// Killed after this licensee could have it.
    #[error("the article was killed")]
    Killed {
        /// When it was killed.
        killed_at: DateTime<Utc>,
        /// The kill notice.
        reason: Option<String>,
    },
    /// Licences in force cover the article, but none for the purpose.
    #[error("the purpose is not licensed")]
    PurposeNotLicensed {
        /// The purpose asked for.
        purpose: Purpose,
        /// The purposes the licences in force permit for the article.
        licensed: Vec<Purpose>,
    },
    /// The licence's request rate is used up.
    #[error("{detail}")]
    RateLimited {
        /// What the limit is.
        detail: String,
        /// Seconds until a request is allowed again.
        retry_after: u64,
        /// Where the licence stands.
        limits: Limits,
    },
    /// The licence's billable quota is used up (nothing was recorded).
    #[error("{detail}")]
    QuotaExceeded {
        /// What the quota is.
        detail: String,
        /// Seconds until the period ends.
        retry_after: u64,
        /// Where the licence stands.
        limits: Limits,
    },
    /// Invalid search or feed options.
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// A feed cursor this service did not give this licensee.
    #[error("unknown cursor")]
    UnknownCursor,
    /// The article or its licence changed under every attempt.
    #[error("the article or its licence kept changing while it was delivered; retry")]
    KeptChanging,
    /// The node is shutting down; nothing was recorded.
    #[error("the usage writer has stopped")]
    ShuttingDown,
    /// The usage ledger could not record the delivery; nothing was recorded.
    #[error("the usage ledger failed")]
    Ledger(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A fault of this service.
    #[error("delivery failed")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DeliveryError {
    /// A fault of this service, with its cause.
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        DeliveryError::Internal(cause.into())
    }

    /// Where the licence stands, for a refusal by its rate or quota.
    pub fn limits(&self) -> Option<Limits> {
        match self {
            DeliveryError::RateLimited { limits, .. }
            | DeliveryError::QuotaExceeded { limits, .. } => Some(*limits),
            _ => None,
        }
    }
}
