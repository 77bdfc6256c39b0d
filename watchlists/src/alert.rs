//! Alert records and severities: what the matcher reports for one (customer, asset,
//! document). Plain data, serialisable; no matching logic here.

use serde::{Deserialize, Serialize};

/// How urgent an alert is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The name used in watchlist files and JSON (`"high"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a name as written in a watchlist file (case-insensitive).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// One step lower (saturating at `Low`).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert: an asset of a customer found, in a sale context, in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub doc_id: String,
    pub customer: String,
    /// Asset id within the customer's watchlist.
    pub asset: String,
    /// The asset's display name.
    pub asset_name: String,
    pub severity: Severity,
    /// The matched text, as written in the document (deduplicated, in order of appearance).
    pub terms: Vec<String>,
    /// The sale cues that put the hit in a sale context, as written (a listing's price
    /// appears as `price: …`). Empty for assets with `require_sale_context = false` and no cue.
    pub context: Vec<String>,
    /// Original text around the hit (one line, whitespace collapsed).
    pub snippet: String,
    pub url: Option<String>,
    pub site: Option<String>,
}
