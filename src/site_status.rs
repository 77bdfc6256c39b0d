//! What each crawled site is doing, for an operator: its state (ok, backing
//! off, broken, needs a human, logged out) and why, from the frontier's
//! pause state, its counts and its health by the hour. One reading for
//! `leakwatch sites` and the console's sites page, so both say the same.

use crawler::{Frontier, FrontierCounts, FrontierError, SiteHealth, SiteState};

/// What a site's crawl is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SiteCondition {
    /// Pages come.
    Ok,
    /// Resting after failures (the circuit breaker) until its pause ends.
    BackingOff,
    /// Failing, and nothing came in the last 24 hours.
    Broken,
    /// Stopped at a CAPTCHA, a queue or a login form until a person passes
    /// it and imports the session (`leakwatch session import`).
    NeedsHuman,
    /// Stopped because its session is gone, until its cookies change.
    LoggedOut,
}

impl SiteCondition {
    /// The state in a few words (English).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SiteCondition::Ok => "ok",
            SiteCondition::BackingOff => "backing off",
            SiteCondition::Broken => "broken",
            SiteCondition::NeedsHuman => "needs a human",
            SiteCondition::LoggedOut => "logged out",
        }
    }
}

/// One site as the frontier knows it.
#[derive(Debug, Clone)]
pub(crate) struct SiteStatus {
    pub site: String,
    pub condition: SiteCondition,
    /// Why the site is not ok, when it is not.
    pub reason: Option<String>,
    pub counts: FrontierCounts,
    pub health: SiteHealth,
    pub state: SiteState,
}

/// Every site the frontier has URLs of, by name, as of `now` (Unix ms).
pub(crate) fn site_statuses(
    frontier: &Frontier,
    now: i64,
) -> Result<Vec<SiteStatus>, FrontierError> {
    let mut out = Vec::new();
    for site in frontier.sites()? {
        let counts = frontier.counts(&site, now)?;
        let health = frontier.site_health(&site, now)?;
        let state = frontier.site_state(&site)?;
        let (condition, reason) = if let Some(reason) = state.needs_human() {
            (SiteCondition::NeedsHuman, Some(reason.to_owned()))
        } else if state.logged_out() {
            (
                SiteCondition::LoggedOut,
                Some("logged out: renew its cookies or `leakwatch session import`".to_owned()),
            )
        } else if state.paused_until.is_some_and(|t| t > now) {
            (SiteCondition::BackingOff, state.pause_reason.clone())
        } else if health.pages_24h == 0 && (health.failures_24h > 0 || counts.failed > 0) {
            let last = frontier.failures(&site)?.pop().map(|(_, e)| e);
            (SiteCondition::Broken, last)
        } else {
            (SiteCondition::Ok, None)
        };
        out.push(SiteStatus {
            site,
            condition,
            reason,
            counts,
            health,
            state,
        });
    }
    Ok(out)
}

/// A frontier time (Unix milliseconds) as RFC 3339, to the second.
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}
