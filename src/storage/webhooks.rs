//! Webhook endpoints, the outbox (events and their deliveries), delivery
//! attempts, and how a sender node claims due deliveries. Rows are read as
//! their types here; a value that does not convert is
//! [`StorageError::Corrupt`] naming the row.
//!
//! Claiming works the same on both backends and across nodes on one
//! database: a node picks due deliveries, then takes each with a
//! conditional `UPDATE … WHERE lease_until IS NULL OR lease_until < now`,
//! which only one node can win; a lease that runs out (a node killed
//! mid-send) makes the delivery due again. A delivery is due only when no
//! earlier version of the same article is still pending for the same
//! endpoint, so an article's notices reach an endpoint in order.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use super::error::parse_json;
use super::page::{Page, PageRequest};
use super::schema::{
    licences, webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events,
};
use super::{DbConnection, StorageError};

/// The table, as a corrupt row names it.
const ENDPOINTS: &str = "webhook_endpoints";

/// The list scope of endpoint cursors.
pub const ENDPOINT_LIST: &str = "webhooks";
/// The list scope of attempt cursors.
pub const ATTEMPT_LIST: &str = "webhook-attempts";

/// A stored webhook endpoint.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub licensee_id: String,
    pub url: String,
    pub event_types: String,
    pub active: bool,
    pub consecutive_failures: i32,
    pub failing: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// The event types it subscribes to.
    pub fn event_types(&self) -> Result<Vec<String>, StorageError> {
        parse_json(ENDPOINTS, &self.id, "event_types", &self.event_types)
    }
}

/// Inserts an endpoint.
pub fn insert_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> Result<(), StorageError> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// One endpoint.
pub fn find_endpoint(conn: &mut DbConnection, id: &str) -> Result<EndpointRow, StorageError> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(EndpointRow::as_select())
        .get_result(conn)?)
}

/// A page of endpoints, of one licensee or of all.
pub fn list_endpoints(
    conn: &mut DbConnection,
    licensee: Option<&str>,
    page: &PageRequest,
) -> Result<Page<EndpointRow>, StorageError> {
    let mut query = webhook_endpoints::table
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(licensee) = licensee {
        query = query.filter(webhook_endpoints::licensee_id.eq(licensee.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(webhook_endpoints::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, ENDPOINT_LIST, |r| r.id.clone()))
}

/// Writes an endpoint's editable columns and secrets.
pub fn save_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> Result<(), StorageError> {
    let updated = diesel::update(webhook_endpoints::table.find(&row.id))
        .set((
            webhook_endpoints::url.eq(&row.url),
            webhook_endpoints::event_types.eq(&row.event_types),
            webhook_endpoints::active.eq(row.active),
            webhook_endpoints::secret.eq(&row.secret),
            webhook_endpoints::previous_secret.eq(&row.previous_secret),
            webhook_endpoints::previous_secret_until.eq(row.previous_secret_until),
            webhook_endpoints::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

/// Deletes an endpoint with its deliveries and attempts.
pub fn delete_endpoint(conn: &mut DbConnection, id: &str) -> Result<(), StorageError> {
    super::in_transaction(conn, |conn| {
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::endpoint_id.eq(id)))
            .execute(conn)?;
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
            .execute(conn)?;
        let deleted = diesel::delete(webhook_endpoints::table.find(id)).execute(conn)?;
        if deleted == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    })
}

/// Active endpoints of licensees holding any licence (in force or not) for
/// the publisher's content: the candidates to hear of a change to it.
pub fn candidate_endpoints(
    conn: &mut DbConnection,
    publisher_id: &str,
) -> Result<Vec<EndpointRow>, StorageError> {
    let licensees: Vec<String> = licences::table
        .filter(licences::publisher_id.eq(publisher_id))
        .select(licences::licensee_id)
        .distinct()
        .load(conn)?;
    if licensees.is_empty() {
        return Ok(Vec::new());
    }
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::active.eq(true))
        .filter(webhook_endpoints::licensee_id.eq_any(licensees))
        .order(webhook_endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load(conn)?)
}

/// A webhook event: what is sent, to every endpoint that hears of it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_events)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub article_id: String,
    pub publisher_id: String,
    pub version: i32,
    pub payload: String,
    pub visible_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Inserts an event (in the transaction of the change that caused it).
pub fn insert_event(conn: &mut DbConnection, row: &EventRow) -> Result<(), StorageError> {
    diesel::insert_into(webhook_events::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// One event.
pub fn find_event(conn: &mut DbConnection, id: &str) -> Result<EventRow, StorageError> {
    Ok(webhook_events::table
        .find(id)
        .select(EventRow::as_select())
        .get_result(conn)?)
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub licensee_id: String,
    pub article_id: String,
    pub version: i32,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub lease_owner: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

impl DeliveryRow {
    /// An event's first attempt to an endpoint, due at `due`, made at `at`.
    pub fn pending(
        event_id: &str,
        endpoint: &EndpointRow,
        article_id: &str,
        version: i32,
        due: NaiveDateTime,
        at: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event_id.to_owned(),
            endpoint_id: endpoint.id.clone(),
            licensee_id: endpoint.licensee_id.clone(),
            article_id: article_id.to_owned(),
            version,
            state: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: due,
            lease_until: None,
            lease_owner: None,
            delivered_at: None,
            last_error: None,
            created_at: at,
        }
    }
}

/// Waiting to be sent (or sent again).
pub const PENDING: &str = "pending";
/// The endpoint answered 2xx.
pub const DELIVERED: &str = "delivered";
/// Given up after the retry period.
pub const FAILED: &str = "failed";

/// Inserts a delivery.
pub fn insert_delivery(conn: &mut DbConnection, row: &DeliveryRow) -> Result<(), StorageError> {
    diesel::insert_into(webhook_deliveries::table)
        .values(row.clone())
        .execute(conn)?;
    Ok(())
}

/// Up to `limit` deliveries due at `now` that no sender holds and that wait
/// for no earlier version of their article to the same endpoint, to active
/// endpoints; the oldest first.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i32,
) -> Result<Vec<String>, StorageError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let rows: Vec<Due> = diesel::sql_query(
        "SELECT d.id AS id FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
           AND (d.lease_until IS NULL OR d.lease_until < $1) AND e.active \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                WHERE p.endpoint_id = d.endpoint_id AND p.article_id = d.article_id \
                  AND p.state = 'pending' AND p.version < d.version) \
         ORDER BY d.next_attempt_at, d.id LIMIT $2",
    )
    .bind::<Timestamp, _>(now)
    .bind::<Integer, _>(limit)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Takes a delivery for `owner` until `until`, unless another sender holds
/// it or it is no longer pending; whether it was taken.
pub fn claim(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StorageError> {
    use webhook_deliveries::dsl as d;
    let taken = diesel::update(
        d::webhook_deliveries
            .find(id)
            .filter(d::state.eq(PENDING))
            .filter(d::lease_until.is_null().or(d::lease_until.lt(now))),
    )
    .set((
        d::lease_until.eq(Some(until)),
        d::lease_owner.eq(Some(owner)),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// A claimed delivery with its event and endpoint.
#[derive(Debug, Clone)]
pub struct Job {
    pub delivery: DeliveryRow,
    pub event: EventRow,
    pub endpoint: EndpointRow,
}

/// Loads a delivery with its event and endpoint.
pub fn job(conn: &mut DbConnection, id: &str) -> Result<Job, StorageError> {
    let delivery: DeliveryRow = webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .get_result(conn)?;
    let event = find_event(conn, &delivery.event_id)?;
    let endpoint = find_endpoint(conn, &delivery.endpoint_id)?;
    Ok(Job {
        delivery,
        event,
        endpoint,
    })
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempted_at: NaiveDateTime,
    pub latency_ms: i64,
    pub outcome: String,
    pub response_status: Option<i32>,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// What an attempt leaves the delivery as.
#[derive(Debug, Clone)]
pub enum AfterAttempt {
    /// Delivered at this instant.
    Delivered(NaiveDateTime),
    /// Try again at this instant.
    Retry(NaiveDateTime),
    /// Given up.
    GiveUp,
}

/// Records an attempt, moves its delivery on, and counts the endpoint's
/// consecutive failures (failing from `failing_after` on), in one
/// transaction; only while `owner` still holds the delivery.
pub fn record_attempt(
    conn: &mut DbConnection,
    attempt: &AttemptRow,
    owner: &str,
    after: &AfterAttempt,
    failing_after: i32,
) -> Result<(), StorageError> {
    use webhook_deliveries::dsl as d;
    use webhook_endpoints::dsl as e;
    super::in_transaction(conn, |conn| {
        diesel::insert_into(webhook_attempts::table)
            .values(attempt.clone())
            .execute(conn)?;
        let held = d::webhook_deliveries
            .find(&attempt.delivery_id)
            .filter(d::lease_owner.eq(owner));
        let error = attempt.error.clone().or_else(|| {
            attempt
                .response_status
                .map(|status| format!("answered {status}"))
        });
        match after {
            AfterAttempt::Delivered(at) => {
                diesel::update(held)
                    .set((
                        d::state.eq(DELIVERED),
                        d::attempts.eq(d::attempts + 1),
                        d::delivered_at.eq(Some(*at)),
                        d::lease_until.eq(None::<NaiveDateTime>),
                        d::lease_owner.eq(None::<String>),
                        d::last_error.eq(None::<String>),
                    ))
                    .execute(conn)?;
                diesel::update(e::webhook_endpoints.find(&attempt.endpoint_id))
                    .set((e::consecutive_failures.eq(0), e::failing.eq(false)))
                    .execute(conn)?;
            }
            AfterAttempt::Retry(at) => {
                diesel::update(held)
                    .set((
                        d::attempts.eq(d::attempts + 1),
                        d::next_attempt_at.eq(*at),
                        d::lease_until.eq(None::<NaiveDateTime>),
                        d::lease_owner.eq(None::<String>),
                        d::last_error.eq(error),
                    ))
                    .execute(conn)?;
            }
            AfterAttempt::GiveUp => {
                diesel::update(held)
                    .set((
                        d::state.eq(FAILED),
                        d::attempts.eq(d::attempts + 1),
                        d::lease_until.eq(None::<NaiveDateTime>),
                        d::lease_owner.eq(None::<String>),
                        d::last_error.eq(error),
                    ))
                    .execute(conn)?;
            }
        }
        if !matches!(after, AfterAttempt::Delivered(_)) {
            diesel::update(e::webhook_endpoints.find(&attempt.endpoint_id))
                .set(e::consecutive_failures.eq(e::consecutive_failures + 1))
                .execute(conn)?;
            diesel::update(
                e::webhook_endpoints
                    .find(&attempt.endpoint_id)
                    .filter(e::consecutive_failures.ge(failing_after)),
            )
            .set(e::failing.eq(true))
            .execute(conn)?;
        }
        Ok(())
    })
}

/// A page of an endpoint's attempts, oldest first.
pub fn list_attempts(
    conn: &mut DbConnection,
    endpoint_id: &str,
    page: &PageRequest,
) -> Result<Page<AttemptRow>, StorageError> {
    let mut query = webhook_attempts::table
        .filter(webhook_attempts::endpoint_id.eq(endpoint_id.to_owned()))
        .select(AttemptRow::as_select())
        .order(webhook_attempts::id.asc())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(webhook_attempts::id.gt(after.clone()));
    }
    let rows = query.load(conn)?;
    Ok(Page::from_rows(rows, page, ATTEMPT_LIST, |r| r.id.clone()))
}

/// Makes every given-up delivery to the endpoint pending again, due `now`;
/// how many.
pub fn requeue_failed(
    conn: &mut DbConnection,
    endpoint_id: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    use webhook_deliveries::dsl as d;
    Ok(diesel::update(
        d::webhook_deliveries
            .filter(d::endpoint_id.eq(endpoint_id))
            .filter(d::state.eq(FAILED)),
    )
    .set((
        d::state.eq(PENDING),
        d::next_attempt_at.eq(now),
        d::created_at.eq(now),
    ))
    .execute(conn)?)
}

/// The deliveries of an event to an endpoint, oldest first.
pub fn deliveries_of(
    conn: &mut DbConnection,
    endpoint_id: &str,
    event_id: &str,
) -> Result<Vec<DeliveryRow>, StorageError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .filter(webhook_deliveries::event_id.eq(event_id))
        .order(webhook_deliveries::id.asc())
        .select(DeliveryRow::as_select())
        .load(conn)?)
}
