//! `leakwatch sites`: what the state store knows of each crawled site — its
//! state (ok, backing off, broken, needs a human, logged out) with the
//! reason, the last success, pages and failures in the last 24 hours, the
//! next fetch due, URLs known, fetched, failing (with the reason) and due,
//! and the documents set aside as dead letters with their errors. Only
//! reads.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use crawler::Frontier;

use crate::dead_letters::{DeadLetter, DeadLetters};
use crate::{paths, GlobalArgs};

#[derive(Debug, Args)]
pub(crate) struct SitesArgs {
    /// One JSON object a site, dead letters included.
    #[arg(long)]
    json: bool,
}

/// What a site's crawl is doing, for an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum SiteCondition {
    /// Pages come.
    Ok,
    /// Resting after failures (the circuit breaker) until `paused`'s time.
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
    fn as_str(self) -> &'static str {
        match self {
            SiteCondition::Ok => "ok",
            SiteCondition::BackingOff => "backing off",
            SiteCondition::Broken => "broken",
            SiteCondition::NeedsHuman => "needs a human",
            SiteCondition::LoggedOut => "logged out",
        }
    }
}

/// One site's report.
#[derive(Debug, serde::Serialize)]
struct SiteReport {
    site: String,
    state: SiteCondition,
    /// Why the site is not ok, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// RFC 3339; absent when no page ever came.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_success: Option<String>,
    pages_24h: u64,
    failures_24h: u64,
    /// When the next URL falls due (RFC 3339); absent when none is
    /// scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_due: Option<String>,
    urls: u64,
    fetched: u64,
    failing: u64,
    due: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    paused: Option<String>,
    /// URLs whose last attempt failed, with the reason (a page too slow to
    /// come, a status, a refusal).
    failing_urls: Vec<FailingUrl>,
    dead_letters: Vec<DeadLetter>,
}

#[derive(Debug, serde::Serialize)]
struct FailingUrl {
    url: String,
    error: String,
}

/// Failing URLs shown per site without `--json`.
const SHOWN_FAILURES: usize = 10;

pub(crate) fn run(global: &GlobalArgs, args: SitesArgs) -> anyhow::Result<ExitCode> {
    let data_dir = paths::data_dir(global.data_dir.as_deref())?;
    let db = paths::existing_state_db(&data_dir, "`leakwatch crawl` or `leakwatch run`")?;
    let frontier = Frontier::open_for_report(&db)?;
    // The frontier keeps times in Unix milliseconds.
    let now = chrono::Utc::now().timestamp_millis();
    let mut letters: BTreeMap<String, Vec<DeadLetter>> = BTreeMap::new();
    for letter in DeadLetters::open(&db)?.list()? {
        letters.entry(letter.site.clone()).or_default().push(letter);
    }
    let mut names = frontier.sites()?;
    names.extend(letters.keys().cloned());
    names.sort();
    names.dedup();
    let mut reports = Vec::new();
    for site in names {
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
        let paused = state.paused_until.filter(|t| *t > now).map(|until| {
            let until = if until == crawler::NEVER {
                "a person acts".to_owned()
            } else {
                rfc3339(until)
            };
            match state.pause_reason {
                Some(reason) => format!("until {until}: {reason}"),
                None => format!("until {until}"),
            }
        });
        let failing_urls = frontier
            .failures(&site)?
            .into_iter()
            .map(|(url, error)| FailingUrl { url, error })
            .collect();
        reports.push(SiteReport {
            state: condition,
            reason,
            last_success: health.last_success.map(rfc3339),
            pages_24h: health.pages_24h,
            failures_24h: health.failures_24h,
            next_due: health.next_due.map(rfc3339),
            failing_urls,
            dead_letters: letters.remove(&site).unwrap_or_default(),
            site,
            urls: counts.urls,
            fetched: counts.fetched,
            failing: counts.failed,
            due: counts.due,
            paused,
        });
    }
    if reports.is_empty() {
        eprintln!("{}: no site crawled yet", db.display());
        return Ok(ExitCode::from(1));
    }
    for r in &reports {
        if args.json {
            println!("{}", serde_json::to_string(r)?);
            continue;
        }
        println!(
            "{}: {}{} — last success {}, 24 h: {} pages, {} failures; next due {}",
            r.site,
            r.state.as_str(),
            r.reason
                .as_deref()
                .map_or(String::new(), |why| format!(" ({why})")),
            r.last_success.as_deref().unwrap_or("never"),
            r.pages_24h,
            r.failures_24h,
            r.next_due.as_deref().unwrap_or("nothing scheduled"),
        );
        println!(
            "  {} URLs, {} fetched, {} failing, {} due, {} dead letters{}",
            r.urls,
            r.fetched,
            r.failing,
            r.due,
            r.dead_letters.len(),
            r.paused
                .as_deref()
                .map_or(String::new(), |p| format!(", paused {p}"))
        );
        for f in r.failing_urls.iter().take(SHOWN_FAILURES) {
            println!("  failing: {}", f.error);
        }
        if r.failing_urls.len() > SHOWN_FAILURES {
            println!(
                "  … and {} more failing URLs (--json lists them all)",
                r.failing_urls.len() - SHOWN_FAILURES
            );
        }
        for d in &r.dead_letters {
            println!("  dead letter {} ({}): {}", d.doc_id, d.url, d.error);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A frontier time (Unix milliseconds) as RFC 3339.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}
