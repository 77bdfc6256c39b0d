//! Politeness toward one site: its request budget (governor GCRA from the
//! profile's requests per minute and burst), pauses the site asked for
//! (`Retry-After`), exponential backoff with jitter, and the circuit
//! breaker that rests a dead site. Never lets a request out ahead of the
//! site's budget: every request, redirect hops included, waits its turn here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::profile::RateLimit;

/// A GCRA limiter on the OS monotonic clock — the clock the site's own
/// rate limiting (and our tests) measure with. The default TSC clock drifts
/// from it by up to 0.1 %, enough to overspend a budget over a long window.
type SiteLimiter =
    RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<std::time::Instant>>;

/// The gate every request to one site passes.
///
/// A site's first request goes alone: it pays for the connection (over Tor,
/// a circuit), so a second request sent on the budget's schedule would reach
/// the site right behind it. The next one waits a full interval after that
/// first answer; from then on the budget rules alone.
#[derive(Debug)]
pub struct SiteGate {
    limiter: SiteLimiter,
    paused_until: Mutex<Option<Instant>>,
    warmed: AtomicBool,
    first: tokio::sync::Mutex<()>,
    interval: Duration,
}

/// A request's turn at a site; hold it until the answer is in.
#[derive(Debug)]
pub struct Turn<'a> {
    gate: &'a SiteGate,
    _first: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self._first.is_some() {
            self.gate.pause_for(self.gate.interval);
            self.gate.warmed.store(true, Ordering::Release);
        }
    }
}

impl SiteGate {
    /// A gate pacing requests at `rate`.
    pub fn new(rate: RateLimit) -> SiteGate {
        let interval = rate.paced_interval();
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_minute(rate.per_minute))
            .allow_burst(rate.burst);
        SiteGate {
            limiter: RateLimiter::direct_with_clock(quota, MonotonicClock),
            paused_until: Mutex::new(None),
            warmed: AtomicBool::new(false),
            first: tokio::sync::Mutex::new(()),
            interval,
        }
    }

    /// Waits until the site may receive one more request, and takes that
    /// request's place in the budget. Keep the turn until the answer is in.
    pub async fn wait_turn(&self) -> Turn<'_> {
        let mut first = None;
        if !self.warmed.load(Ordering::Acquire) {
            let guard = self.first.lock().await;
            if !self.warmed.load(Ordering::Acquire) {
                first = Some(guard);
            }
        }
        loop {
            let pause = *self.lock();
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        self.limiter.until_ready().await;
        Turn {
            gate: self,
            _first: first,
        }
    }

    /// Sends nothing to the site for `delay` (extends, never shortens, a
    /// pause already in force).
    pub fn pause_for(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut pause = self.lock();
        if pause.is_none_or(|p| p < until) {
            *pause = Some(until);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `base · 2^attempt`, capped, times a random factor in [0.5, 1): spread
/// so that many URLs failing together do not come back together.
pub fn backoff_delay(base: Duration, attempt: u32, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(cap);
    exp.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date; capped at `cap`.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc);
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(delay.min(cap))
}

/// A site's circuit breaker: after `threshold` consecutive transient
/// failures the site rests for `base_pause`, doubling on each trip up to
/// `max_pause`; a success closes it. After a rest it is half-open: one
/// more failure trips it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitBreaker {
    /// Transient failures in a row that trip the breaker.
    pub threshold: u32,
    /// The first rest when it trips (doubles on each trip in a row).
    pub base_pause: Duration,
    /// The longest rest.
    pub max_pause: Duration,
    /// Consecutive transient failures so far.
    pub consecutive_failures: u32,
    /// Trips since the last success.
    pub trips: u32,
}

impl CircuitBreaker {
    /// A closed breaker with these limits.
    pub fn new(threshold: u32, base_pause: Duration, max_pause: Duration) -> CircuitBreaker {
        CircuitBreaker {
            threshold: threshold.max(1),
            base_pause,
            max_pause,
            consecutive_failures: 0,
            trips: 0,
        }
    }

    /// A request succeeded: the count of failures in a row starts again.
    pub fn success(&mut self) {
        self.consecutive_failures = 0;
        self.trips = 0;
    }

    /// Counts a failure; returns the rest to take when the breaker trips.
    pub fn failure(&mut self) -> Option<Duration> {
        self.consecutive_failures += 1;
        if self.consecutive_failures < self.threshold {
            return None;
        }
        let pause = self
            .base_pause
            .saturating_mul(1u32 << self.trips.min(20))
            .min(self.max_pause);
        self.trips += 1;
        Some(pause)
    }

    /// After a rest: the next failure trips the breaker again.
    pub fn half_open(&mut self) {
        if self.trips > 0 {
            self.consecutive_failures = self.threshold - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
            .expect("date")
            .with_timezone(&Utc);
        let cap = Duration::from_secs(3600);
        assert_eq!(
            parse_retry_after("120", now, cap),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Fri, 20 Nov 2026 10:00:30 GMT", now, cap),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Fri, 20 Nov 2026 09:00:00 GMT", now, cap),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("999999", now, cap), Some(cap));
        assert_eq!(parse_retry_after("soon", now, cap), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for attempt in 0..3 {
            let full = base * (1 << attempt);
            let d = backoff_delay(base, attempt, cap);
            assert!(d >= full / 2 && d < full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff_delay(base, 30, cap) < cap);
        let spread: std::collections::HashSet<_> =
            (0..20).map(|_| backoff_delay(base, 2, cap)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }

    #[test]
    fn breaker_trips_after_threshold_doubles_and_resets() {
        let mut b = CircuitBreaker::new(3, Duration::from_secs(60), Duration::from_secs(200));
        assert_eq!(b.failure(), None);
        assert_eq!(b.failure(), None);
        assert_eq!(b.failure(), Some(Duration::from_secs(60)));
        b.half_open();
        assert_eq!(
            b.failure(),
            Some(Duration::from_secs(120)),
            "half-open: one failure re-trips"
        );
        b.half_open();
        assert_eq!(b.failure(), Some(Duration::from_secs(200)), "capped");
        b.success();
        assert_eq!(b.failure(), None);
        assert_eq!(b.trips, 0);
    }

    #[tokio::test]
    async fn gate_spaces_requests_after_the_burst_and_honours_pauses() {
        let gate = SiteGate::new(RateLimit {
            per_minute: NonZeroU32::new(600).expect("nonzero"),
            burst: NonZeroU32::new(2).expect("nonzero"),
            headroom_percent: 0,
        });
        let start = std::time::Instant::now();
        for _ in 0..4 {
            gate.wait_turn().await;
        }
        // Burst of 2, then 100 ms apart: the 4th is at least 200 ms in.
        assert!(
            start.elapsed() >= Duration::from_millis(190),
            "{:?}",
            start.elapsed()
        );
        gate.pause_for(Duration::from_millis(300));
        let paused = std::time::Instant::now();
        gate.wait_turn().await;
        assert!(
            paused.elapsed() >= Duration::from_millis(290),
            "{:?}",
            paused.elapsed()
        );
    }
}
