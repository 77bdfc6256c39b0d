//! The search index of leakwatch documents: a Tantivy index with CJK-aware
//! analysis built on [`textfold`], so `三菱UFJ`, `三菱ＵＦＪ` and `三菱日联`
//! style variants of one query find each other.
//!
//! [`DocumentIndex`] writes (upsert by document id, explicit commits) and
//! searches. It knows nothing of crawling or watchlists: the binary converts
//! its documents into [`IndexDocument`]s.

mod analyzer;
mod error;
mod index;
mod schema;
mod search;

pub use analyzer::{FoldingTokenizer, TokenizerMode, ANALYZER_NAME};
pub use error::IndexError;
pub use index::{DocumentIndex, IndexDocument};
pub use schema::SCHEMA_VERSION;
pub use search::{Highlighted, SearchHit, SearchRequest, SortOrder};
