//! One module per subcommand; shared argument parsing and printing helpers.

pub(crate) mod actor;
pub(crate) mod alerts;
pub(crate) mod crawl;
pub(crate) mod demo;
pub(crate) mod evidence;
pub(crate) mod export;
pub(crate) mod extract;
pub(crate) mod match_docs;
pub(crate) mod pivot;
pub(crate) mod run;
pub(crate) mod search;
pub(crate) mod serve;
pub(crate) mod session;
pub(crate) mod site;
pub(crate) mod sites;
pub(crate) mod token;
pub(crate) mod watchlist;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};

/// Parses `2026-11-01`, an RFC 3339 time, or a span ago (`7d`, `12h`; the
/// units of [`crawler::parse_duration`]).
pub(crate) fn parse_date(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Ok(span) = crawler::parse_duration(t) {
        let ago = chrono::Duration::from_std(span)
            .ok()
            .and_then(|span| Utc::now().checked_sub_signed(span));
        return ago.with_context(|| format!("date {text:?}: too long ago"));
    }
    bail!(
        "date {text:?} not understood; write 2026-11-01, an RFC 3339 time, or a span ago \
         such as 7d (units s, m, h, d, w)"
    )
}

/// Whether to colour terminal output.
pub(crate) fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
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
        let ago = Utc::now() - parse_date("90m").expect("minutes");
        assert!((5399..=5401).contains(&ago.num_seconds()), "{ago}");
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("7y").is_err());
        assert!(parse_date("2026").is_err(), "a bare number is no date");
    }
}
