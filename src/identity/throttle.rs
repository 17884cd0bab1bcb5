//! Brute-force throttle for the token endpoint: attempts per source address
//! and per client id, each a keyed token bucket (governor).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Limits on token requests.
pub struct TokenThrottle {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_client: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl std::fmt::Debug for TokenThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenThrottle").finish_non_exhaustive()
    }
}

/// How often old buckets are swept.
const SWEEP_EVERY: u64 = 4096;

impl TokenThrottle {
    /// At most `per_address` attempts a minute from one address and
    /// `per_client` for one client id (each with that much burst).
    pub fn new(per_address: NonZeroU32, per_client: NonZeroU32) -> Self {
        Self {
            by_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            by_client: RateLimiter::keyed(Quota::per_minute(per_client)),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts an attempt from an address; `Err` holds seconds to wait.
    pub fn check_address(&self, address: IpAddr) -> Result<(), u64> {
        self.sweep();
        self.by_address.check_key(&address).map_err(wait_seconds)
    }

    /// Counts an attempt for a client id; `Err` holds seconds to wait.
    pub fn check_client(&self, client_id: &str) -> Result<(), u64> {
        // Ids longer than ours are refused before they reach the map.
        let key: String = client_id.chars().take(64).collect();
        self.by_client.check_key(&key).map_err(wait_seconds)
    }

    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.by_address.retain_recent();
            self.by_client.retain_recent();
        }
    }
}

fn wait_seconds(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    not_until
        .wait_time_from(DefaultClock::default().now())
        .as_secs()
        .max(1)
}
