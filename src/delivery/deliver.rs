//! The metered delivery of one article to one licensee: decide on the facts
//! in memory, pace by the licence's rate, record the usage event (durable,
//! billed and counted against the quota by the usage writer), then write
//! the body. A refused request writes nothing.

use std::cell::Cell;

use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

use super::DeliveryError;
use super::document::Format;
use super::facts::{self, Attempt, FactCache, Facts};
use super::render;
use crate::domain::access::{self, Denial, Grant, LicenceFacts};
use crate::domain::purpose::Purpose;
use crate::domain::{ArticleId, LicenseeId};
use crate::identity::caller::check_standing;
use crate::metering::headers::{Limits, QuotaState};
use crate::metering::ratelimit::RateState;
use crate::metering::writer::WriteError;
use crate::metering::{Period, RateLimits, UsageWriter};
use crate::storage::licences::LicenceRow;
use crate::storage::usage::{self, Recorded};
use crate::storage::{Pool, now};

/// Longest a delivered article may be cached, in seconds.
const MAX_CACHE_SECONDS: i64 = 300;

/// What a delivery needs of the node.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    /// The database.
    pub pool: &'a Pool,
    /// The facts kept in memory.
    pub facts: &'a FactCache,
    /// The usage ledger's writer.
    pub usage: &'a UsageWriter,
    /// Per-licence request rates.
    pub rate_limits: &'a RateLimits,
}

/// One delivery asked for.
#[derive(Debug, Clone)]
pub struct DeliveryRequest {
    /// The API client asking (its standing is checked).
    pub client: String,
    /// The licensee it acts for.
    pub licensee: LicenseeId,
    /// The article.
    pub article: ArticleId,
    /// The format asked for.
    pub format: Format,
    /// What the article is fetched for.
    pub purpose: Purpose,
    /// The request's id, recorded with the usage event.
    pub request_id: String,
}

/// A delivery made: its usage event is durable.
#[derive(Debug)]
pub struct Delivered {
    /// The document.
    pub body: Bytes,
    /// Its `ETag`.
    pub etag: String,
    /// Seconds it may be cached: never beyond the next rights change.
    pub max_age: i64,
    /// Where the licence's rate and quota stand after it.
    pub limits: Limits,
    /// The licence it was delivered under.
    pub licence_id: String,
    /// The article's publisher.
    pub publisher_id: String,
    /// The purposes the licensee's licences in force permit for the
    /// article (what the published licence headers say).
    pub licensed: Vec<Purpose>,
}

/// What one delivery decided, for the ledger and the response.
struct Decision {
    /// What is delivered: the licence, the tier and the photos.
    grant: Grant,
    /// When the decision could next change by itself.
    next_change: Option<NaiveDateTime>,
    /// The licence it is delivered under.
    licence: LicenceRow,
    /// The purposes the licences in force permit for the article.
    licensed: Vec<Purpose>,
}

/// Delivers one article, deciding again on fresh facts when they changed
/// under the decision (see `delivery::facts`).
pub async fn deliver(
    desk: Desk<'_>,
    request: &DeliveryRequest,
) -> Result<Delivered, DeliveryError> {
    let article = request.article.to_string();
    // The rate is checked once, on the first decision that grants.
    let rate: Cell<Option<(RateState, u32)>> = Cell::new(None);
    let rate = &rate;
    facts::on_fresh_facts(
        desk.pool,
        desk.facts,
        &request.client,
        request.licensee,
        &article,
        |facts, number| async move { attempt(desk, request, &facts, number, rate).await },
    )
    .await
}

/// One attempt on one set of facts.
async fn attempt(
    desk: Desk<'_>,
    request: &DeliveryRequest,
    facts: &Facts,
    number: usize,
    rate: &Cell<Option<(RateState, u32)>>,
) -> Result<Attempt<Delivered>, DeliveryError> {
    let at = now();
    let decision = match check_standing(&facts.standing)
        .map_err(DeliveryError::from)
        .and_then(|()| decide(facts, request.purpose, at))
    {
        Ok(decision) => decision,
        Err(refusal) => return Ok(Attempt::Refused(refusal)),
    };
    let licence = &decision.licence;
    if number == 0
        && let Some(per_minute) = licence
            .rate_limit_per_minute
            .and_then(|r| u32::try_from(r).ok())
    {
        match desk.rate_limits.check(&licence.id, per_minute) {
            Ok(state) => rate.set(Some((state, per_minute))),
            Err((state, retry_after)) => {
                return Err(DeliveryError::RateLimited {
                    detail: format!("this licence allows {per_minute} requests a minute"),
                    retry_after,
                    limits: Limits {
                        rate: Some((state, per_minute)),
                        quota: None,
                    },
                });
            }
        }
    }
    let period = Period::of(licence.quota()?.as_ref());
    let stored = facts
        .article
        .as_ref()
        .ok_or_else(|| DeliveryError::internal("a delivery without its article"))?;
    let price = licence.price_for(request.purpose)?;
    let attribution = decision
        .grant
        .attribution_required
        .then(|| stored.attribution.text.clone());
    let record = usage::Delivery {
        id: Uuid::now_v7().to_string(),
        licensee_id: request.licensee.to_string(),
        licence_id: licence.id.clone(),
        publisher_id: stored.row.publisher_id.clone(),
        article_id: stored.row.id.clone(),
        article_version: stored.row.version,
        tier: decision.grant.tier.as_str().to_owned(),
        format: request.format.as_str().to_owned(),
        at,
        period_start: period.start(at),
        request_id: request.request_id.clone(),
        quota: licence.quota_units,
        unit_price: price.as_ref().map(|p| p.amount_minor),
        currency: price.map(|p| p.currency),
        purpose: request.purpose,
        attribution,
        decided_on: Some(facts.depends.clone()),
    };
    let limits = |used: i64| Limits {
        rate: rate.get(),
        quota: licence.quota_units.map(|limit| QuotaState {
            limit,
            remaining: limit - used,
            reset: period.seconds_left(at),
            window: period.window_seconds(at),
        }),
    };
    match desk.usage.record(record).await {
        Ok(Recorded::Stale { .. }) => Ok(Attempt::Stale),
        Ok(Recorded::Delivered { used, .. }) => {
            let article = request.article.to_string();
            let (body, etag) = render::render(
                desk.facts,
                &article,
                stored,
                &decision.grant,
                request.format,
            )?;
            let max_age = decision.next_change.map_or(MAX_CACHE_SECONDS, |change| {
                (change - at).num_seconds().clamp(0, MAX_CACHE_SECONDS)
            });
            Ok(Attempt::Done(Delivered {
                body,
                etag,
                max_age,
                limits: limits(used),
                licence_id: licence.id.clone(),
                publisher_id: stored.row.publisher_id.clone(),
                licensed: decision.licensed.clone(),
            }))
        }
        Ok(Recorded::OverQuota { used }) => Err(DeliveryError::QuotaExceeded {
            detail: format!(
                "this licence's quota of {} billable deliveries a {} is used up; articles already delivered this {} can still be fetched",
                licence.quota_units.unwrap_or(0),
                period.as_str(),
                period.as_str()
            ),
            retry_after: period.seconds_left(at),
            limits: limits(used),
        }),
        Err(WriteError::Stopped) => Err(DeliveryError::ShuttingDown),
        Err(error @ WriteError::Failed(_)) => Err(DeliveryError::Ledger(Box::new(error))),
    }
}

/// Decides one delivery for `purpose` at `at` from its facts: the
/// licensee's licences and the article with its photos.
fn decide(facts: &Facts, purpose: Purpose, at: NaiveDateTime) -> Result<Decision, DeliveryError> {
    let entitlement = &facts.entitlement;
    let stored = facts.article.as_deref().ok_or(DeliveryError::NotFound)?;
    let article = &stored.facts;
    let photos = &stored.photo_facts;
    match access::decide(
        &entitlement.licensee,
        &entitlement.licences,
        article,
        photos,
        purpose,
        at,
    ) {
        Ok(grant) => {
            let covering: Vec<LicenceFacts> = entitlement
                .licences
                .iter()
                .filter(|l| l.covers(article.publisher_id, &article.section))
                .cloned()
                .collect();
            let licence = entitlement
                .licence(&grant.licence_id)
                .cloned()
                .ok_or_else(|| DeliveryError::internal("the granting licence vanished"))?;
            Ok(Decision {
                grant,
                next_change: access::next_change(&covering, article, photos, at),
                licence,
                licensed: access::licensed_purposes(&entitlement.licences, article, at),
            })
        }
        Err(Denial::Killed) => Err(DeliveryError::Killed {
            killed_at: stored
                .row
                .killed_at
                .map_or_else(Utc::now, |at| DateTime::from_naive_utc_and_offset(at, Utc)),
            reason: stored.row.status_reason.clone(),
        }),
        Err(Denial::PurposeNotLicensed) => Err(DeliveryError::PurposeNotLicensed {
            purpose,
            licensed: access::licensed_purposes(&entitlement.licences, article, at),
        }),
        Err(_) => Err(DeliveryError::NotFound),
    }
}
