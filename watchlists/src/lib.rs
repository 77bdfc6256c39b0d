//! Watchlists: each customer's watched assets (TOML files, validated once at load), one
//! Aho-Corasick matcher over all of them, sale-context gating with a multilingual cue
//! lexicon, and the alert records it produces. No I/O beyond reading watchlist files.
//!
//! ```
//! use watchlists::{Matcher, MatchDocument, WatchlistSet};
//! let set = WatchlistSet::from_toml_str(
//!     std::path::Path::new("mufg.toml"),
//!     "customer = \"mufg-group\"\n[[assets]]\nid = \"mufg\"\nkind = \"bank\"\nterms = [\"三菱UFJ銀行\", \"MUFG\"]\n",
//! ).expect("valid watchlist");
//! let matcher = Matcher::new(&set);
//! let doc = MatchDocument { id: "d1", title: Some("出售 三 菱 U F J 銀行 网银"), ..Default::default() };
//! let alerts = matcher.match_document(&doc);
//! assert_eq!(alerts[0].asset, "mufg");
//! assert_eq!(alerts[0].terms, ["三 菱 U F J 銀行"]);
//! ```

mod alert;
mod config;
mod cues;
mod domains;
mod gate;
mod matcher;
mod scanner;
mod text;

pub use alert::{Alert, AlertKey, Severity};
pub use config::{Asset, AssetKind, LoadError, LoadErrors, WatchTerm, Watchlist, WatchlistSet};
pub use cues::{CueKind, CueLexicon, LexiconError, SHIPPED_LEXICON};
pub use matcher::{MatchDocument, Matcher, CUE_WINDOW_CHARS};

/// Internals for `benches/match.rs`, only with the `bench` feature: not part of the API,
/// and outside semver.
#[cfg(feature = "bench")]
pub mod bench_support {
    /// A document folded and stripped, as the phrase scanner sees it.
    pub struct PreparedText(pub(crate) crate::text::MatchText);

    /// A document folded into the term gate's view (folded code points, separators dropped).
    pub struct GateView(pub(crate) Vec<u32>);

    /// Folds a document into the gate's view; `None` when the gate would hand it to the
    /// full path unread (a combining character).
    pub fn gate_view(title: Option<&str>, body: Option<&str>) -> Option<GateView> {
        crate::gate::view_of(title, body).map(GateView)
    }

    /// Folds and strips a document (the first half of `match_document`).
    pub fn prepare(title: Option<&str>, body: Option<&str>) -> PreparedText {
        PreparedText(crate::text::MatchText::new(title, body))
    }
}

#[cfg(test)]
mod tests;
