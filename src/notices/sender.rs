//! The webhook sender: a background task on every node that claims due
//! deliveries from the outbox, signs them, POSTs them, records the attempt
//! and schedules the next one.
//!
//! - **Claiming.** A node picks due deliveries and takes each with a
//!   conditional update (a lease of a minute beyond the request timeout);
//!   only one node wins a delivery, and a node killed mid-send leaves a
//!   lease that runs out, after which any node sends it again. The outbox
//!   is the database: nothing is lost to a crash, and a delivery is sent at
//!   least once (a crash between the receiver's answer and the record of
//!   the attempt sends it again, with the same `webhook-id`).
//! - **Order.** A delivery waits while an earlier version of the same
//!   article is pending for the same endpoint, so notices about one article
//!   arrive in order; other articles are not held up.
//! - **Signing.** Standard Webhooks with the `standardwebhooks` crate:
//!   `webhook-id` (the event's id, the same on every retry), `webhook-timestamp`
//!   and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
//!   `id.timestamp.body`; two signatures, space-separated, during a secret
//!   rotation's overlap).
//! - **Sending.** No redirects are followed; names are resolved through the
//!   address guard, so a name that now resolves to a forbidden address is
//!   refused at connect time (recorded as `refused`).
//! - **Retries.** Any answer but 2xx, or none, is retried after `retry_base`
//!   doubling per attempt up to `retry_cap`, each with ±20 % jitter, until
//!   the delivery is `retry_for` old (three days); then it is given up
//!   (`failed`; `POST /v1/webhooks/{id}/redeliver` queues it again). An
//!   endpoint with `failing_after` failed attempts in a row is marked
//!   failing until one succeeds.
//! - **Shutdown.** On stop the sender takes no new deliveries, lets the
//!   attempts in flight finish and records them, then ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;
use url::Url;
use uuid::Uuid;

use super::WebhookSettings;
use super::endpoints::signing_secrets;
use super::ssrf::{AddressGuard, Refusal};
use crate::storage::error::Fault;
use crate::storage::webhooks::{self, AfterAttempt, AttemptRow, Job};
use crate::storage::{self, Pool, StorageError, now};
use crate::telemetry::{CauseChain, ErrorLog};

/// Deliveries one round claims at most.
const BATCH: i32 = 32;
/// Bytes of a response body kept with an attempt.
const EXCERPT_BYTES: usize = 512;

/// A running sender.
pub struct Sender {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sender {
    /// Starts the sender on the current runtime.
    pub fn start(
        pool: Pool,
        settings: WebhookSettings,
        errors: ErrorLog,
    ) -> Result<Self, reqwest::Error> {
        let guard = AddressGuard::new(&settings.allow_hosts);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .dns_resolver(guard.resolver())
            .user_agent(concat!("syndicate-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let worker = Worker {
            pool,
            client,
            guard,
            owner: Uuid::now_v7().to_string(),
            settings: Arc::new(settings),
            errors,
        };
        let task = tokio::spawn(worker.run(stopped));
        Ok(Self { stop, task })
    }

    /// Stops taking deliveries, lets the attempts in flight finish and be
    /// recorded, and returns when the sender has ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(error = %error, "the webhook sender ended abnormally");
        }
    }
}

/// What the sender's task owns.
#[derive(Clone)]
struct Worker {
    pool: Pool,
    client: reqwest::Client,
    guard: AddressGuard,
    owner: String,
    settings: Arc<WebhookSettings>,
    errors: ErrorLog,
}

/// What one poll did: the ends announced, and the deliveries claimed.
type FiredAndClaimed = (Result<(), StorageError>, Result<Vec<Job>, StorageError>);

impl Worker {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        loop {
            if *stopped.borrow() {
                return;
            }
            let claimed = match self.fire_and_claim().await {
                Ok((fired, claimed)) => {
                    if let Err(error) = fired {
                        self.storage_failed(
                            "could not announce ends of rights or licences",
                            &error,
                        );
                    }
                    claimed.unwrap_or_else(|error| {
                        self.storage_failed("webhook sender could not claim deliveries", &error);
                        Vec::new()
                    })
                }
                Err(error) => {
                    self.storage_failed("webhook sender could not claim deliveries", &error);
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = tokio::time::sleep(self.settings.poll) => {}
                    _ = stopped.changed() => {}
                }
                continue;
            }
            let mut sends = JoinSet::new();
            for job in claimed {
                let worker = self.clone();
                sends.spawn(async move { worker.attempt(job).await });
            }
            while let Some(done) = sends.join_next().await {
                if let Err(error) = done {
                    tracing::error!(error = %error, "a webhook attempt ended abnormally");
                }
            }
        }
    }

    /// On one connection: announces the ends of rights and licences that
    /// are due, then claims up to a batch of due deliveries.
    async fn fire_and_claim(&self) -> Result<FiredAndClaimed, StorageError> {
        let owner = self.owner.clone();
        let lease = self.settings.timeout * 2 + Duration::from_secs(60);
        let notice = chrono::Duration::from_std(self.settings.licence_ending_notice)
            .unwrap_or(chrono::Duration::days(7));
        storage::blocking(&self.pool, move |conn| {
            let at = now();
            let fired = super::outbox::fire_rights_endings(conn, at)
                .and_then(|_| super::outbox::fire_licence_endings(conn, at, notice));
            let until =
                at + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(2));
            let mut claim = || {
                let mut jobs = Vec::new();
                for id in webhooks::due(conn, at, BATCH)? {
                    if webhooks::claim(conn, &id, &owner, at, until)? {
                        jobs.push(webhooks::job(conn, &id)?);
                    }
                }
                Ok(jobs)
            };
            Ok((fired.map(|_| ()), claim()))
        })
        .await
    }

    /// Sends one delivery and records the attempt.
    async fn attempt(&self, job: Job) {
        let started = Instant::now();
        let attempted_at = now();
        let sent = self.send(&job, attempted_at).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (outcome, status, excerpt, error) = match sent {
            Ok((status, excerpt)) => {
                let outcome = if (200..300).contains(&status) {
                    "delivered"
                } else {
                    "failed"
                };
                (outcome, Some(i32::from(status)), Some(excerpt), None)
            }
            Err(SendError::Refused(refusal)) => ("refused", None, None, Some(refusal)),
            Err(SendError::Failed(error)) => ("failed", None, None, Some(error)),
        };
        let after = if outcome == "delivered" {
            AfterAttempt::Delivered(now())
        } else {
            self.next_attempt(&job, attempted_at)
        };
        let attempt = AttemptRow {
            id: Uuid::now_v7().to_string(),
            delivery_id: job.delivery.id.clone(),
            endpoint_id: job.endpoint.id.clone(),
            event_id: job.event.id.clone(),
            attempted_at,
            latency_ms,
            outcome: outcome.to_owned(),
            response_status: status,
            response_excerpt: excerpt,
            error,
        };
        tracing::info!(
            webhook.delivery = %job.delivery.id,
            webhook.event = %job.event.id,
            webhook.endpoint = %job.endpoint.id,
            webhook.outcome = outcome,
            webhook.status = ?status,
            webhook.latency_ms = latency_ms,
            "webhook attempt"
        );
        let owner = self.owner.clone();
        let failing_after = self.settings.failing_after;
        let recorded = storage::blocking(&self.pool, move |conn| {
            webhooks::record_attempt(conn, &attempt, &owner, &after, failing_after)
        })
        .await;
        if let Err(error) = recorded {
            // The lease runs out and the delivery is sent again.
            self.storage_failed("could not record a webhook attempt", &error);
        }
    }

    /// Logs a storage failure once per interval (a database that is down
    /// fails every poll) and counts it.
    fn storage_failed(&self, event: &'static str, error: &StorageError) {
        let class = error.fault().map_or("other", Fault::label);
        self.errors
            .record("webhooks", event, class, &CauseChain(error));
    }

    /// When to try again, or to give up.
    fn next_attempt(&self, job: &Job, at: NaiveDateTime) -> AfterAttempt {
        let settings = &self.settings;
        let exponent = u32::try_from(job.delivery.attempts.clamp(0, 30)).unwrap_or(30);
        let delay = settings
            .retry_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(settings.retry_cap)
            .mul_f64(rand::random_range(0.8..1.2));
        let next = at + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(6));
        let give_up_at = job.delivery.created_at
            + chrono::Duration::from_std(settings.retry_for).unwrap_or(chrono::Duration::days(3));
        if next > give_up_at {
            AfterAttempt::GiveUp
        } else {
            AfterAttempt::Retry(next)
        }
    }

    /// Signs and POSTs the event; the response's status and first bytes.
    async fn send(&self, job: &Job, at: NaiveDateTime) -> Result<(u16, String), SendError> {
        let url = Url::parse(&job.endpoint.url)
            .map_err(|_| SendError::Refused(Refusal::NotHttp.to_string()))?;
        self.guard
            .check_form(&url)
            .map_err(|refusal| SendError::Refused(refusal.to_string()))?;
        let timestamp = chrono::Utc::now().timestamp();
        let body = job.event.payload.as_bytes();
        let mut signatures = Vec::new();
        for secret in signing_secrets(&job.endpoint, at) {
            let signed = standardwebhooks::Webhook::new(&secret)
                .and_then(|hook| hook.sign(&job.event.id, timestamp, body))
                .map_err(|error| SendError::Failed(format!("could not sign: {error}")))?;
            signatures.push(signed);
        }
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, &job.event.id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(
                standardwebhooks::HEADER_WEBHOOK_SIGNATURE,
                signatures.join(" "),
            )
            .body(job.event.payload.clone())
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let mut response = response;
        let mut excerpt = Vec::new();
        while excerpt.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        excerpt.truncate(EXCERPT_BYTES);
        Ok((status, String::from_utf8_lossy(&excerpt).into_owned()))
    }
}

/// Why an attempt got no answer.
enum SendError {
    /// The address guard refused the host.
    Refused(String),
    /// Connecting, sending or waiting failed.
    Failed(String),
}

/// Names a send error by its causes; a refusal by the address guard is
/// told apart.
fn classify(error: reqwest::Error) -> SendError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut chain = Vec::new();
    while let Some(current) = cause {
        if let Some(refusal) = current.downcast_ref::<Refusal>() {
            return SendError::Refused(refusal.to_string());
        }
        chain.push(current.to_string());
        cause = current.source();
    }
    chain.dedup();
    SendError::Failed(chain.join(": "))
}
