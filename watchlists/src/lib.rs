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
mod matcher;
mod text;

pub use alert::{Alert, Severity};
pub use config::{Asset, AssetKind, LoadError, LoadErrors, Watchlist, WatchlistSet, WatchTerm};
pub use cues::{CueKind, CueLexicon, LexiconError, SHIPPED_LEXICON};
pub use matcher::{MatchDocument, Matcher, CUE_WINDOW_CHARS};

#[cfg(test)]
mod tests;
