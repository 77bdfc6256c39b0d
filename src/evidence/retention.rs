//! Which stored pages `evidence gc` removes: pages of no alert once older
//! than `evidence_days`, then, while the archive is over
//! `evidence_max_bytes`, the oldest pages of no alert. Evidence of an
//! alert is never chosen. Pure: the store runs the plan.

use std::time::Duration;

/// A stored page as retention sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    pub sha256: String,
    /// When it was fetched, Unix seconds.
    pub fetched_at: i64,
    /// Its size on disk (compressed).
    pub stored_bytes: u64,
    /// Evidence of an alert (or of a repost grouped under one).
    pub protected: bool,
}

/// How long and how much the archive keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retention {
    pub max_age: Duration,
    pub max_bytes: u64,
}

/// What a plan removes, and what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Too old.
    pub expired: Vec<String>,
    /// Oldest first, to bring the archive under its budget.
    pub over_budget: Vec<String>,
    /// The archive's size after the plan.
    pub bytes_after: u64,
}

/// The pages to remove from `kept` at `now` (Unix seconds).
pub(crate) fn plan(kept: &[Kept], now: i64, retention: Retention) -> Plan {
    let max_age = i64::try_from(retention.max_age.as_secs()).unwrap_or(i64::MAX);
    let cutoff = now.saturating_sub(max_age);
    let mut total: u64 = kept.iter().map(|k| k.stored_bytes).sum();
    let mut plan = Plan::default();
    let mut candidates: Vec<&Kept> = Vec::new();
    for k in kept.iter().filter(|k| !k.protected) {
        if k.fetched_at < cutoff {
            plan.expired.push(k.sha256.clone());
            total -= k.stored_bytes;
        } else {
            candidates.push(k);
        }
    }
    candidates.sort_by(|a, b| (a.fetched_at, &a.sha256).cmp(&(b.fetched_at, &b.sha256)));
    for k in candidates {
        if total <= retention.max_bytes {
            break;
        }
        plan.over_budget.push(k.sha256.clone());
        total -= k.stored_bytes;
    }
    plan.bytes_after = total;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(sha: &str, fetched_at: i64, bytes: u64, protected: bool) -> Kept {
        Kept {
            sha256: sha.into(),
            fetched_at,
            stored_bytes: bytes,
            protected,
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn old_pages_go_unless_an_alert_needs_them() {
        let now = 100 * DAY;
        let r = Retention {
            max_age: Duration::from_secs(30 * DAY as u64),
            max_bytes: u64::MAX,
        };
        let p = plan(
            &[
                kept("old", now - 31 * DAY, 10, false),
                kept("old-alert", now - 300 * DAY, 10, true),
                kept("new", now - DAY, 10, false),
            ],
            now,
            r,
        );
        assert_eq!(p.expired, ["old"]);
        assert!(p.over_budget.is_empty());
        assert_eq!(p.bytes_after, 20);
    }

    #[test]
    fn over_budget_removes_oldest_first_never_alert_evidence() {
        let now = 100 * DAY;
        let r = Retention {
            max_age: Duration::from_secs(365 * DAY as u64),
            max_bytes: 25,
        };
        let p = plan(
            &[
                kept("alert", now - 9 * DAY, 10, true),
                kept("b", now - 5 * DAY, 10, false),
                kept("a", now - 8 * DAY, 10, false),
                kept("c", now - DAY, 10, false),
            ],
            now,
            r,
        );
        assert_eq!(p.over_budget, ["a", "b"]);
        assert_eq!(p.bytes_after, 20);
        // A budget only alert evidence fills: everything else goes, the
        // alert's page stays.
        let tiny = Retention { max_bytes: 1, ..r };
        let p = plan(
            &[kept("alert", 0, 10, true), kept("x", now, 5, false)],
            now,
            tiny,
        );
        assert_eq!(p.over_budget, ["x"]);
        assert_eq!(p.bytes_after, 10);
    }
}
