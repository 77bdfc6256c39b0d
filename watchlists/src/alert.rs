//! Alert records and severities: what the matcher reports for one (customer, asset,
//! document). Plain data, serialisable; no matching logic here.

use serde::{Deserialize, Serialize};

/// How urgent an alert is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
///
/// An asset's kind sets its base severity (a watchlist may override it); an
/// alert with only a request to buy as its context, or with no sale context
/// at all (an asset that does not require one), is one step lower.
pub enum Severity {
    /// The default of `keyword` assets.
    Low,
    /// The default of `account` and `brand` assets.
    Medium,
    /// The default of `bank` and `company` assets.
    High,
    /// The default of `ministry` and `government` assets; the service mails
    /// these at once instead of in a digest.
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

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
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
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
    /// The id of the document the asset was found in.
    pub doc_id: String,
    /// The customer whose watchlist names the asset (its `customer` key).
    pub customer: String,
    /// Asset id within the customer's watchlist.
    pub asset: String,
    /// The asset's display name.
    pub asset_name: String,
    /// The asset's base severity when the document offers it (a listing
    /// price, a sell or trade cue), one step lower otherwise.
    pub severity: Severity,
    /// The matched text, as written in the document (deduplicated, in order of appearance).
    pub terms: Vec<String>,
    /// The sale cues that put the hit in a sale context, as written (a listing's price
    /// appears as `price: …`). Empty for assets with `require_sale_context = false` and no cue.
    pub context: Vec<String>,
    /// Original text around the hit (one line, whitespace collapsed).
    pub snippet: String,
    /// The document's URL, when it has one.
    pub url: Option<String>,
    /// The site profile the document came from, when known.
    pub site: Option<String>,
    /// The wallets, contacts and keys of the document (offsets into its
    /// title, a newline and its body), so a receiver can pivot on them.
    /// The matcher leaves this empty; whoever holds the whole document
    /// fills it. Absent from alerts recorded before entities existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<entities::Entity>,
}

/// What deduplicates alerts: one alert per (customer, asset, document id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    /// The customer id.
    pub customer: String,
    /// The asset id within the customer's watchlist.
    pub asset: String,
    /// The document id.
    pub doc_id: String,
}

impl std::fmt::Display for AlertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}@{}", self.customer, self.asset, self.doc_id)
    }
}

impl Alert {
    /// The deduplication key of this alert.
    pub fn key(&self) -> AlertKey {
        AlertKey {
            customer: self.customer.clone(),
            asset: self.asset.clone(),
            doc_id: self.doc_id.clone(),
        }
    }

    /// The evidence of the hit, independent of order and of the snippet: the matched terms
    /// and sale cues, folded and sorted. A recrawled document whose alert has the same
    /// evidence as before carries no new hit and need not re-alert.
    pub fn evidence(&self) -> Vec<String> {
        let mut e: Vec<String> = self
            .terms
            .iter()
            .map(|t| format!("term:{}", textfold::fold_str(t)))
            .chain(
                self.context
                    .iter()
                    .map(|c| format!("cue:{}", textfold::fold_str(c))),
            )
            .collect();
        e.sort();
        e.dedup();
        e
    }
}
