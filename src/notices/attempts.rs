//! What happened to an endpoint's deliveries: every attempt, and sending
//! again (the deliveries given up, or one event once more with the same
//! `webhook-id`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::NoticesError;
use super::endpoints::find_visible;
use crate::domain::FieldError;
use crate::identity::Caller;
use crate::storage::page::{Page, PageRequest};
use crate::storage::webhooks::{self, AttemptRow, DeliveryRow, PENDING};
use crate::storage::{DbConnection, StorageError, now};

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "019ad0b1-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "delivery_id": "019ad0b0-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "event_id": "019ad0af-0c4e-7a8b-b1c2-d3e4f5a6b7c8",
    "attempted_at": "2026-12-01T09:00:01Z",
    "latency_ms": 84,
    "outcome": "failed",
    "response_status": 503,
    "response_excerpt": "upstream unavailable",
    "error": null
}))]
pub struct Attempt {
    /// Attempt id.
    pub id: Uuid,
    /// The delivery (one event to this endpoint).
    pub delivery_id: Uuid,
    /// The event, as `webhook-id` named it.
    pub event_id: Uuid,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// Milliseconds until the answer (or the failure).
    pub latency_ms: i64,
    /// `delivered` (2xx), `failed` (another status, or no answer) or
    /// `refused` (the host is or resolves to an address webhooks may not reach).
    pub outcome: String,
    /// The endpoint's status code, if it answered.
    pub response_status: Option<i32>,
    /// The first bytes of the endpoint's answer.
    pub response_excerpt: Option<String>,
    /// Why there was no answer.
    pub error: Option<String>,
}

impl TryFrom<&AttemptRow> for Attempt {
    type Error = StorageError;

    fn try_from(row: &AttemptRow) -> Result<Self, StorageError> {
        let id = |field: &str, value: &str| {
            crate::storage::error::parse_field::<Uuid>("webhook_attempts", &row.id, field, value)
        };
        Ok(Self {
            id: id("id", &row.id)?,
            delivery_id: id("delivery_id", &row.delivery_id)?,
            event_id: id("event_id", &row.event_id)?,
            attempted_at: row.attempted_at.and_utc(),
            latency_ms: row.latency_ms,
            outcome: row.outcome.clone(),
            response_status: row.response_status,
            response_excerpt: row.response_excerpt.clone(),
            error: row.error.clone(),
        })
    }
}

/// A page of an endpoint's attempts, oldest first.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    endpoint: Uuid,
    page: &PageRequest,
) -> Result<Page<Attempt>, NoticesError> {
    let row = find_visible(conn, caller, endpoint)?;
    let page = webhooks::list_attempts(conn, &row.id, page)?;
    Ok(page.try_map(|row| Attempt::try_from(&row))?)
}

/// Queues deliveries to the endpoint again, due now: with `event`, that
/// event once more (it must have been sent to this endpoint before);
/// without, every delivery that was given up. How many were queued.
pub fn redeliver(
    conn: &mut DbConnection,
    caller: &Caller,
    endpoint: Uuid,
    event: Option<Uuid>,
) -> Result<usize, NoticesError> {
    let row = find_visible(conn, caller, endpoint)?;
    let at = now();
    let Some(event) = event else {
        return Ok(webhooks::requeue_failed(conn, &row.id, at)?);
    };
    let earlier = webhooks::deliveries_of(conn, &row.id, &event.to_string())?;
    let Some(first) = earlier.first() else {
        return Err(NoticesError::UnknownReference(vec![FieldError::new(
            "event_id",
            "no event with this id was sent to this endpoint",
        )]));
    };
    if earlier.iter().any(|d| d.state == PENDING) {
        return Ok(0);
    }
    webhooks::insert_delivery(
        conn,
        &DeliveryRow {
            id: Uuid::now_v7().to_string(),
            state: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            lease_owner: None,
            delivered_at: None,
            last_error: None,
            created_at: at,
            ..first.clone()
        },
    )?;
    Ok(1)
}
