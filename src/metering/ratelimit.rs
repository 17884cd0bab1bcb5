//! Per-licence request rate limits (governor token buckets), created on
//! first use and replaced when a licence's rate changes.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

type Limiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Where a request stands against its licence's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    /// Requests allowed per minute.
    pub limit: u32,
    /// Requests left in the burst right now.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset: u64,
}

/// The rate limiters of this node, one per licence with a rate.
#[derive(Default)]
pub struct RateLimits {
    limiters: Mutex<HashMap<String, (u32, Arc<Limiter>)>>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    /// Counts a request against a licence allowing `per_minute`; `Err` holds
    /// the state and the seconds to wait.
    pub fn check(&self, licence_id: &str, per_minute: u32) -> Result<RateState, (RateState, u64)> {
        let limit = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = {
            let mut limiters = self
                .limiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = limiters.entry(licence_id.to_owned()).or_insert_with(|| {
                (
                    limit.get(),
                    Arc::new(RateLimiter::direct(Quota::per_minute(limit)).with_middleware()),
                )
            });
            if entry.0 != limit.get() {
                *entry = (
                    limit.get(),
                    Arc::new(RateLimiter::direct(Quota::per_minute(limit)).with_middleware()),
                );
            }
            entry.1.clone()
        };
        let per_cell = 60.0 / f64::from(limit.get());
        match limiter.check() {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let reset = (f64::from(limit.get() - remaining) * per_cell).ceil() as u64;
                Ok(RateState {
                    limit: limit.get(),
                    remaining,
                    reset,
                })
            }
            Err(not_until) => {
                let wait = not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1);
                Err((
                    RateState {
                        limit: limit.get(),
                        remaining: 0,
                        reset: wait,
                    },
                    wait,
                ))
            }
        }
    }
}
