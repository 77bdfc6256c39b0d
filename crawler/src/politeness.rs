//! Politeness toward one site: its request budget (governor GCRA from the
//! profile's requests per minute and burst), pauses the site asked for
//! (`Retry-After`), exponential backoff with jitter, and the circuit
//! breaker that rests a dead site. Never lets a request out ahead of the
//! site's budget: every request, redirect hops included, waits its turn here.
//! A request takes its place under the crawl-wide ceiling only once its
//! turn has come, so a site waiting for its budget holds no place.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use crate::in_flight::{InFlight, Place};
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
///
/// One request of the site waits for its turn at a time (the others queue
/// behind it), and takes its place under the crawl-wide ceiling after the
/// turn: waiting for a budget never holds a place another site could use.
/// When no place was free at once the request leaves late, and the site's
/// next turn keeps a whole interval after it, so the site never sees two
/// requests closer than its budget allows. The same holds for a request that
/// must open a connection first (over Tor, a new stream takes a round trip
/// more than a kept connection): no turn is given while one of the site's
/// connections is opening, and the next keeps an interval after it opens.
#[derive(Debug)]
pub struct SiteGate {
    limiter: SiteLimiter,
    paused_until: Mutex<Option<Instant>>,
    warmed: AtomicBool,
    first: tokio::sync::Mutex<()>,
    queue: tokio::sync::Mutex<()>,
    interval: Duration,
    burst: u32,
    /// The site's connections being opened now, and a wake-up when one is.
    opening: AtomicUsize,
    opened: tokio::sync::Notify,
    /// Answer latency seen (an exponential moving average, in µs; 0 before
    /// the first answer).
    latency_us: AtomicU64,
}

/// A request's turn at a site (and its place under the ceiling); hold it
/// until the answer is in.
#[derive(Debug)]
pub struct Turn<'a> {
    gate: &'a SiteGate,
    _first: Option<tokio::sync::MutexGuard<'a, ()>>,
    _place: Option<Place>,
    sent: Instant,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.gate.record_latency(self.sent.elapsed());
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
            queue: tokio::sync::Mutex::new(()),
            interval,
            burst: rate.burst.get(),
            opening: AtomicUsize::new(0),
            opened: tokio::sync::Notify::new(),
            latency_us: AtomicU64::new(0),
        }
    }

    /// Waits until the site may receive one more request, and takes that
    /// request's place in the budget. Keep the turn until the answer is in.
    pub async fn wait_turn(&self) -> Turn<'_> {
        self.turn(None).await
    }

    /// [`wait_turn`](Self::wait_turn), then a place under `ceiling`.
    pub async fn wait_turn_within(&self, ceiling: &Arc<InFlight>) -> Turn<'_> {
        self.turn(Some(ceiling)).await
    }

    async fn turn(&self, ceiling: Option<&Arc<InFlight>>) -> Turn<'_> {
        let mut first = None;
        if !self.warmed.load(Ordering::Acquire) {
            let guard = self.first.lock().await;
            if !self.warmed.load(Ordering::Acquire) {
                first = Some(guard);
            }
        }
        let queue = self.queue.lock().await;
        loop {
            let pause = *self.lock();
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        self.limiter.until_ready().await;
        // A request still opening its connection leaves when it opens: the
        // turn waits for that, and for the pause it sets.
        loop {
            let opened = self.opened.notified();
            tokio::pin!(opened);
            opened.as_mut().enable();
            if self.opening.load(Ordering::Acquire) > 0 {
                opened.await;
                continue;
            }
            let pause = *self.lock();
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let place = match ceiling {
            None => None,
            Some(ceiling) => {
                let (place, late) = ceiling.enter().await;
                if late {
                    // Leaving after its turn: the next keeps a whole
                    // interval after this one, as the site will see them.
                    self.pause_for(self.interval);
                }
                Some(place)
            }
        };
        drop(queue);
        Turn {
            gate: self,
            _first: first,
            _place: place,
            sent: Instant::now(),
        }
    }

    /// Marks one of the site's connections as opening until the returned
    /// guard is dropped; [`Opening::opened`] says a request leaves on it now.
    pub fn connection_opening(self: &Arc<Self>) -> Opening {
        self.opening.fetch_add(1, Ordering::AcqRel);
        Opening {
            gate: self.clone(),
            opened: false,
        }
    }

    /// How many fetches the site needs going at once to spend its budget at
    /// the latency seen: those awaiting answers (latency ÷ interval, rounded
    /// up), the burst waiting for their turns, and one whose answer is being
    /// extracted and recorded. Two before the first answer.
    pub fn fetches_to_keep(&self) -> usize {
        let latency = Duration::from_micros(self.latency_us.load(Ordering::Relaxed));
        let awaiting = latency.as_secs_f64() / self.interval.as_secs_f64().max(1e-6);
        (awaiting.ceil() as usize)
            .saturating_add(self.burst as usize)
            .saturating_add(1)
    }

    /// The answer latency seen so far (zero before the first answer).
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_us.load(Ordering::Relaxed))
    }

    fn record_latency(&self, took: Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        // A quarter of the way toward each new answer; lost updates between
        // racing answers only drop a sample.
        let old = self.latency_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample.max(1)
        } else {
            old - old / 4 + sample / 4
        };
        self.latency_us.store(new, Ordering::Relaxed);
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

/// A connection of a site being opened (see [`SiteGate::connection_opening`]).
#[derive(Debug)]
pub struct Opening {
    gate: Arc<SiteGate>,
    opened: bool,
}

impl Opening {
    /// The connection is open and its request leaves now, later than its
    /// turn: the site's next turn keeps a whole interval after it.
    pub fn opened(mut self) {
        self.opened = true;
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        if self.opened {
            self.gate.pause_for(self.gate.interval);
        }
        self.gate.opening.fetch_sub(1, Ordering::AcqRel);
        self.gate.opened.notify_waiters();
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

    fn gate(per_minute: u32) -> Arc<SiteGate> {
        Arc::new(SiteGate::new(RateLimit {
            per_minute: NonZeroU32::new(per_minute).expect("nonzero"),
            burst: NonZeroU32::MIN,
            headroom_percent: 0,
        }))
    }

    #[test]
    fn the_fetches_a_site_keeps_follow_the_latency_seen() {
        let gate = gate(60);
        assert_eq!(gate.fetches_to_keep(), 2, "before any answer");
        gate.record_latency(Duration::from_millis(3500));
        // 3.5 s answers at one a second: 4 awaiting answers, 1 at the gate,
        // 1 being recorded.
        assert_eq!(gate.fetches_to_keep(), 6);
        for _ in 0..40 {
            gate.record_latency(Duration::from_millis(500));
        }
        assert_eq!(gate.fetches_to_keep(), 3, "{:?}", gate.latency());
    }

    #[tokio::test]
    async fn a_turn_waits_for_a_connection_opening_and_keeps_an_interval_after_it() {
        let gate = gate(600);
        let start = Instant::now();
        drop(gate.wait_turn().await);
        // A request of the site is still opening its connection (over Tor,
        // a new stream): the next turn waits for it, then an interval.
        let opening = gate.connection_opening();
        let next = {
            let gate = gate.clone();
            tokio::spawn(async move {
                drop(gate.wait_turn().await);
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(!next.is_finished(), "no turn while a connection opens");
        let opened = Instant::now();
        opening.opened();
        let at = next.await.expect("joined");
        assert!(
            at - opened >= Duration::from_millis(95),
            "{:?} after the connection opened ({:?} in all)",
            at - opened,
            at - start
        );
        // A connection that fails to open sends nothing: no pause after it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let failed = gate.connection_opening();
        drop(failed);
        let before = Instant::now();
        drop(gate.wait_turn().await);
        assert!(
            before.elapsed() < Duration::from_millis(80),
            "{:?}",
            before.elapsed()
        );
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
