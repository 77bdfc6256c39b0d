//! The crawl-wide bounds on fetching: how many requests are on the wire at
//! once across all sites (the ceiling), and how many bytes of page bodies
//! fetches hold (the memory bound). It never decides *when* a site may be
//! asked: that is the site's gate, which takes a place here only once the
//! site's turn has come.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

/// Body bytes are counted in KiB (a semaphore takes `u32` permits at a time).
const UNIT: u64 = 1024;

/// What a body of unknown length is given first; most forum pages fit.
pub(crate) const FIRST_SHARE: u64 = 64 * 1024;

/// Crawl-wide limits: requests in flight and page bytes held. Shared by a
/// [`Fetcher`](crate::Fetcher) and its clones.
#[derive(Debug)]
pub struct InFlight {
    places: Arc<Semaphore>,
    max: usize,
    now: AtomicUsize,
    peak: AtomicUsize,
    bodies: Arc<BodyBudget>,
}

/// One request's place under the ceiling; given back when dropped.
#[derive(Debug)]
pub struct Place {
    _permit: OwnedSemaphorePermit,
    ceiling: Arc<InFlight>,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.ceiling.now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl InFlight {
    /// The default ceiling: enough for 500 sites at 30 requests a minute
    /// answering in 2 s, or at 6 a minute answering in 10 s (Little's law:
    /// requests in flight = rate × latency), with each request a connection
    /// (three descriptors through the embedded Tor bridge).
    pub const DEFAULT_MAX_REQUESTS: usize = 512;
    /// The default body budget: room for a thousand 64 KiB pages at once.
    pub const DEFAULT_BODY_BYTES: u64 = 64 * 1024 * 1024;

    /// At most `max_requests` requests in flight, and page bodies held by
    /// them within `body_bytes` plus one `body_cap` (the size cap of one
    /// fetch: the one body allowed to grow past a spent budget, so the
    /// budget can never deadlock).
    pub fn new(max_requests: usize, body_bytes: u64, body_cap: u64) -> Arc<InFlight> {
        let cap_units = units(body_cap).clamp(1, u64::from(u32::MAX)) as u32;
        let shared_units = units(body_bytes).clamp(1, Semaphore::MAX_PERMITS as u64) as usize;
        Arc::new(InFlight {
            places: Arc::new(Semaphore::new(
                max_requests.clamp(1, Semaphore::MAX_PERMITS),
            )),
            max: max_requests.max(1),
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            bodies: Arc::new(BodyBudget {
                shared: Arc::new(Semaphore::new(shared_units)),
                shared_units,
                reserve: Arc::new(Semaphore::new(cap_units as usize)),
                grower: Arc::new(Mutex::new(())),
                cap_units,
            }),
        })
    }

    /// Waits for a place for one request. `true` with it when none was free
    /// at once: the request leaves later than its turn.
    pub async fn enter(self: &Arc<Self>) -> (Place, bool) {
        let (permit, late) = match self.places.clone().try_acquire_owned() {
            Ok(p) => (p, false),
            Err(_) => (
                self.places
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the ceiling's semaphore is never closed"),
                true,
            ),
        };
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        (
            Place {
                _permit: permit,
                ceiling: self.clone(),
            },
            late,
        )
    }

    /// The ceiling.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.now.load(Ordering::Relaxed)
    }

    /// Most requests ever in flight at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// An empty lease on the body budget, for one page.
    pub(crate) fn body_lease(&self) -> BodyLease {
        BodyLease {
            budget: self.bodies.clone(),
            shared: 0,
            reserve: 0,
            grower: None,
        }
    }
}

/// Page bytes held by fetches. A body takes its share before it grows (the
/// announced length, or [`FIRST_SHARE`], then doubling); when the budget is
/// spent, a body that holds nothing waits, and a body that holds some and
/// must grow waits to be the one grower, which takes from a reserve of one
/// size cap and so always finishes. No two fetches ever wait on each other.
#[derive(Debug)]
struct BodyBudget {
    shared: Arc<Semaphore>,
    shared_units: usize,
    reserve: Arc<Semaphore>,
    grower: Arc<Mutex<()>>,
    cap_units: u32,
}

/// One page's hold on the body budget (KiB units); given back when dropped.
#[derive(Debug)]
pub(crate) struct BodyLease {
    budget: Arc<BodyBudget>,
    shared: u32,
    reserve: u32,
    grower: Option<OwnedMutexGuard<()>>,
}

impl BodyLease {
    /// Makes room for `bytes` in all (at most one size cap), waiting while
    /// the budget is spent. Returns the bytes now held.
    pub(crate) async fn hold(&mut self, bytes: u64) -> u64 {
        let b = self.budget.clone();
        let want = units(bytes).min(u64::from(b.cap_units)) as u32;
        let held = self.shared + self.reserve;
        if want <= held {
            return u64::from(held) * UNIT;
        }
        let need = want - held;
        if held == 0 {
            // Holding nothing, this wait blocks no one.
            let first = need.min(b.shared_units.min(u32::MAX as usize) as u32);
            b.shared
                .acquire_many(first)
                .await
                .expect("the body budget is never closed")
                .forget();
            self.shared = first;
            if first == need {
                return u64::from(want) * UNIT;
            }
        }
        let need = want - (self.shared + self.reserve);
        if let Ok(p) = b.shared.try_acquire_many(need) {
            p.forget();
            self.shared += need;
            return u64::from(want) * UNIT;
        }
        // Spent, and this body holds part of it: grow as the one grower.
        if self.grower.is_none() {
            self.grower = Some(b.grower.clone().lock_owned().await);
        }
        if let Ok(p) = b.shared.try_acquire_many(need) {
            p.forget();
            self.shared += need;
        } else {
            // Only the grower takes from the reserve, never past one cap.
            b.reserve
                .try_acquire_many(need)
                .expect("the reserve holds a whole size cap for the one grower")
                .forget();
            self.reserve += need;
        }
        u64::from(want) * UNIT
    }
}

impl Drop for BodyLease {
    fn drop(&mut self) {
        self.budget.shared.add_permits(self.shared as usize);
        self.budget.reserve.add_permits(self.reserve as usize);
    }
}

fn units(bytes: u64) -> u64 {
    bytes.div_ceil(UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_ceiling_counts_places_and_says_when_a_request_was_late() {
        let ceiling = InFlight::new(2, 1 << 20, 1 << 20);
        let (a, late_a) = ceiling.enter().await;
        let (_b, late_b) = ceiling.enter().await;
        assert!(!late_a && !late_b);
        assert_eq!(ceiling.in_flight(), 2);
        let waiting = {
            let ceiling = ceiling.clone();
            tokio::spawn(async move { ceiling.enter().await.1 })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a third request waits for a place");
        drop(a);
        assert!(waiting.await.expect("joined"), "it left late");
        assert_eq!(ceiling.peak(), 2);
    }

    #[tokio::test]
    async fn bodies_that_all_grow_past_a_spent_budget_still_finish() {
        // 8 KiB shared, a 16 KiB cap: four bodies take 2 KiB each, then all
        // want the whole cap. One at a time grows from the reserve.
        let ceiling = InFlight::new(8, 8 * 1024, 16 * 1024);
        let mut leases = Vec::new();
        for _ in 0..4 {
            let mut lease = ceiling.body_lease();
            lease.hold(2 * 1024).await;
            leases.push(lease);
        }
        let done = tokio::time::timeout(Duration::from_secs(5), async {
            let tasks: Vec<_> = leases
                .into_iter()
                .map(|mut lease| {
                    tokio::spawn(async move {
                        let held = lease.hold(16 * 1024).await;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        held
                    })
                })
                .collect();
            for t in tasks {
                assert_eq!(t.await.expect("joined"), 16 * 1024);
            }
        })
        .await;
        assert!(done.is_ok(), "the body budget deadlocked");
        // Everything came back.
        let b = &ceiling.bodies;
        assert_eq!(b.shared.available_permits(), 8);
        assert_eq!(b.reserve.available_permits(), 16);
    }

    #[tokio::test]
    async fn a_body_waits_for_room_and_never_holds_more_than_its_cap() {
        let ceiling = InFlight::new(8, 4 * 1024, 4 * 1024);
        let mut first = ceiling.body_lease();
        assert_eq!(first.hold(10 * 1024).await, 4 * 1024, "capped");
        let mut second = ceiling.body_lease();
        let waited = tokio::time::timeout(Duration::from_millis(50), second.hold(1024)).await;
        assert!(waited.is_err(), "no room while the first holds it all");
        drop(first);
        assert_eq!(second.hold(1024).await, 1024);
    }
}
