//! How an alert reads as text: on a terminal (the commands) and in an
//! e-mail (the sinks). Turns an alert into a string; never prints, writes
//! or decides where the text goes.

use watchlists::{Alert, Severity};

/// A readable, multi-line rendering of an alert.
pub(crate) fn format_alert(alert: &Alert, id: Option<i64>, colour: bool) -> String {
    let severity = alert.severity.as_str();
    let (on, off) = if colour {
        (
            match alert.severity {
                Severity::Critical => "\x1b[1;31m",
                Severity::High => "\x1b[31m",
                Severity::Medium => "\x1b[33m",
                Severity::Low => "\x1b[36m",
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
