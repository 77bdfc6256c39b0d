//! One module per subcommand; shared argument parsing and printing helpers.

pub mod alerts;
pub mod crawl;
pub mod demo;
pub mod export;
pub mod extract;
pub mod match_docs;
pub mod run;
pub mod search;
pub mod site;
pub mod sites;
pub mod watchlist;

use anyhow::bail;
use chrono::{DateTime, NaiveDate, Utc};
use watchlists::Alert;

/// Parses `2026-11-01`, an RFC 3339 time, or `7d` / `12h` (that long ago).
pub fn parse_date(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Some((n, unit)) = t.len().checked_sub(1).map(|i| t.split_at(i)) {
        if let Ok(n) = n.parse::<i64>() {
            let span = match unit {
                "d" => chrono::Duration::days(n),
                "h" => chrono::Duration::hours(n),
                "w" => chrono::Duration::weeks(n),
                _ => bail!("date {text:?}: unknown unit {unit:?}; use d, h or w (e.g. 7d)"),
            };
            return Ok(Utc::now() - span);
        }
    }
    bail!("date {text:?} not understood; write 2026-11-01, an RFC 3339 time, or 7d")
}

/// Whether to colour terminal output.
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A readable, multi-line rendering of an alert.
pub fn format_alert(alert: &Alert, id: Option<i64>, colour: bool) -> String {
    let severity = serde_json::to_value(alert.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let (on, off) = if colour {
        (
            match alert.severity {
                watchlists::Severity::Critical => "\x1b[1;31m",
                watchlists::Severity::High => "\x1b[31m",
                watchlists::Severity::Medium => "\x1b[33m",
                watchlists::Severity::Low => "\x1b[36m",
            },
            "\x1b[0m",
        )
    } else {
        ("", "")
    };
    let mut out = format!(
        "{on}[{severity}]{off} {}/{} ({}) in {}",
        alert.customer, alert.asset, alert.asset_name, alert.doc_id
    );
    if let Some(id) = id {
        out.push_str(&format!("  #{id}"));
    }
    out.push_str(&format!(
        "\n    terms: {}   sale cues: {}",
        alert.terms.join(", "),
        if alert.context.is_empty() {
            "-".to_owned()
        } else {
            alert.context.join(", ")
        }
    ));
    if let Some(url) = &alert.url {
        out.push_str(&format!("\n    {url}"));
    }
    let snippet: String = alert
        .snippet
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    out.push_str(&format!("\n    “{snippet}”"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2026-11-01").expect("date").to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert!(parse_date("7d").expect("relative") < Utc::now());
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("7y").is_err());
    }
}
