//! Notices: what licensees are told when content changes, and what they
//! must confirm. Without HTTP.
//!
//! - [`endpoints`]: a licensee's webhook endpoints (URL, event types,
//!   active), the signing secret shown once and rotated with an overlap.
//! - [`ssrf`]: which addresses a webhook may reach (checked when an
//!   endpoint is saved and again when it is sent to, as DNS can change).
//! - [`outbox`]: the events and one delivery per target endpoint, written
//!   in the transaction of the content change that caused them, and the
//!   takedown notices a kill gives each licensee that received the article;
//!   the scheduled events (a photo's rights ending, a licence ending).
//! - [`sender`]: the background task that claims due deliveries, signs
//!   them (Standard Webhooks), sends them, records every attempt and
//!   retries with backoff.
//! - [`attempts`]: every delivery attempt, and sending again.
//! - [`takedowns`]: listing and acknowledging notices.
//! - [`compliance`]: the report of takedowns, reconciled with the ledger.
//!
//! Every workflow fails with [`NoticesError`]; the HTTP layer maps it.

pub mod attempts;
pub mod compliance;
pub mod endpoints;
pub mod outbox;
pub mod sender;
pub mod ssrf;
pub mod takedowns;

use std::time::Duration;

use crate::domain::FieldError;
use crate::domain::field::{Refused, describe};
use crate::storage::StorageError;

/// Why a notices workflow refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum NoticesError {
    /// Fields are invalid; each is named.
    #[error("{}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// Fields name something the caller may not use; each is named.
    #[error("{}", describe(.0))]
    UnknownReference(Vec<FieldError>),
    /// Nothing the caller may see.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A failure the caller cannot fix.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<Refused> for NoticesError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Invalid(errors) => NoticesError::Invalid(errors),
            Refused::Unknown(errors) => NoticesError::UnknownReference(errors),
        }
    }
}

/// How webhooks are sent; operators set the allowed hosts, tests the pace.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Hosts (`host` or `host:port`) a webhook may reach even when they are
    /// loopback, private, link-local or metadata addresses.
    pub allow_hosts: Vec<String>,
    /// How often an idle sender looks for due deliveries.
    pub poll: Duration,
    /// The first retry's delay; each next one doubles (with jitter).
    pub retry_base: Duration,
    /// The longest delay between two attempts.
    pub retry_cap: Duration,
    /// How long a delivery is retried before it is given up.
    pub retry_for: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Consecutive failed attempts after which an endpoint is `failing`.
    pub failing_after: i32,
    /// How long before a licence ends its licensee hears `licence.ending`.
    pub licence_ending_notice: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_hosts: Vec::new(),
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(6 * 3600),
            retry_for: Duration::from_secs(3 * 24 * 3600),
            timeout: Duration::from_secs(10),
            failing_after: 10,
            licence_ending_notice: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Serialises a value stored as JSON text; failing is a bug.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, NoticesError> {
    serde_json::to_string(value).map_err(|e| NoticesError::Internal(Box::new(e)))
}
